"""Running a service from a view: commit on success, roll back and show the refusal otherwise."""
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from wtforms import FieldList, FormField

from app.errors import DomainError
from app.extensions import db


def first_input(entry):
    """The first box of a sub-form, or the field itself."""
    return next(iter(entry.form)) if isinstance(entry, FormField) else entry


def field_at(form, path: str | None):
    """The input a refusal names ("capacity", "parts-1-ends_at"...), or None if the form has none."""
    if form is None or not path:
        return None
    name, _, rest = path.partition("-")
    field = form._fields.get(name)
    while field is not None and rest:
        index, _, rest = rest.partition("-")
        if not index.isdigit() or not isinstance(field, FieldList) or int(index) >= len(field.entries):
            return None
        field = field.entries[int(index)]
        if rest and isinstance(field, FormField):
            sub, _, rest = rest.partition("-")
            field = field.form._fields.get(sub)
    if isinstance(field, FieldList):
        field = field.entries[0] if field.entries else None
    return first_input(field) if field is not None else None


def show_refusal(form, exc: DomainError, field: str | None = None,
                 rename: Callable[[str | None], str | None] | None = None) -> None:
    """Show each problem of a refusal beside the field it names (after `rename`, which maps a
    service's names to the form's); failing that beside `field`, the form's default place for
    refusals; failing that as an error banner."""
    for path, message in exc.on_form():
        target = field_at(form, rename(path) if rename else path)
        if target is None:
            target = field_at(form, field)
        if target is None:
            flash(message, "error")
        elif message not in target.errors:
            target.errors = list(target.errors) + [message]


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
def refusals(form=None, field: str | None = None, show: bool = True,
             rename: Callable[[str | None], str | None] | None = None):
    """Run the block's service calls as one change: commit if they succeed; if one refuses, roll
    back and show the refusal (see show_refusal). With show=False the view shows
    `attempt.message` itself.

        with refusals(form) as attempt:
            booking = services.book_place(...)
        if not attempt.refused:
            return redirect(...)
    """
    attempt = Attempt()
    try:
        yield attempt
    except DomainError as exc:
        db.session.rollback()
        attempt.error = exc
        if show:
            show_refusal(form, exc, field, rename)
    else:
        db.session.commit()
