"""Running a service from a view: commit on success, roll back and show the refusal otherwise."""
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash

from app.errors import DomainError
from app.extensions import db


def show_refusal(form, exc: DomainError, field: str | None = None) -> None:
    """Show a refusal beside the field it names; failing that beside `field`, the form's default
    place for refusals; failing that as an error banner."""
    target = None
    for name in (exc.field, field):
        if target is None and form is not None and name:
            target = getattr(form, name, None)
    if target is not None:
        target.errors = list(target.errors) + [exc.message]
    else:
        flash(exc.message, "error")


@dataclass
class Attempt:
    """A service call a view made: `error` is the refusal, if there was one."""

    error: DomainError | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str | None:
        return self.error.message if self.error else None


@contextmanager
def refusals(form=None, field: str | None = None, show: bool = True):
    """Run the block's service calls as one change: commit if they succeed; if one refuses, roll
    back and show the refusal beside its field on `form` (or beside `field` when it names none),
    else as an error banner.
    With show=False the view shows `attempt.message` itself."""
    attempt = Attempt()
    try:
        yield attempt
    except DomainError as exc:
        db.session.rollback()
        attempt.error = exc
        if show:
            show_refusal(form, exc, field)
    else:
        db.session.commit()
