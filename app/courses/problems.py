"""How the programme's rules refuse: every problem collected first, then one CourseError.

Every programme service validates everything it is given before it changes anything, so a refused
request leaves nothing saved in part. Services add and flush; the view or command commits.
"""
from __future__ import annotations

from app.errors import DomainError
from app.extensions import db


class CourseError(DomainError):
    """A programme change refused, with a message a person can read.

    `field` names the form field the first problem belongs to; `problems` lists every
    (field, message) found, so a form can show each one beside its field.
    """


class Problems:
    """Collects every problem before anything changes."""

    def __init__(self):
        self.items: list[tuple[str | None, str]] = []

    def add(self, field: str | None, message: str) -> None:
        self.items.append((field, message))

    def raise_any(self) -> None:
        if self.items:
            field, message = self.items[0]
            raise CourseError(message, field, list(self.items))


def clean(text: str | None) -> str:
    """Text as entered, without the spaces around it."""
    return (text or "").strip()


def saved(thing, new: bool = False):
    """Flush a checked change (adding `thing` first when it is new) and return it."""
    if new:
        db.session.add(thing)
    db.session.flush()
    return thing
