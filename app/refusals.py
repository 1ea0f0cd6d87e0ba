"""Running a service from a view: commit on success, roll back and show the refusal otherwise."""
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash

from app.errors import DomainError
from app.extensions import db


def show_refusal(form, exc: DomainError, field: str | None = None) -> None:
    """Show a domain error beside the field it names, or as an error banner when it names none."""
    name = field or exc.field
    target = getattr(form, name, None) if form is not None and name else None
    if target is not None:
        target.errors = list(target.errors) + [exc.message]
    else:
        flash(exc.message, "error")


@dataclass
class Outcome:
    """What became of a service call: `error` is the refusal, if there was one."""

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
    back and show the refusal beside its field (or `field`) on `form`, else as an error banner.
    With show=False the view shows `outcome.message` itself."""
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as exc:
        db.session.rollback()
        outcome.error = exc
        if show:
            show_refusal(form, exc, field)
    else:
        db.session.commit()
