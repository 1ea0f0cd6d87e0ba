"""The access log: who viewed or downloaded other people's personal data, when, and from which page.

A page or download that shows other people's personal data calls `record_access(kind, ...)` once,
after it has checked who may see it and before it answers. The row is kept in `g` and written by
the privacy blueprint (`app/privacy/access_log_views.py`) once the page is drawn and before it is
sent, in a short write transaction of its own (see there), so a GET page never has to turn its read
transaction into a write (on SQLite that fails at once if anyone else wrote meanwhile, see
app.locking). A download streamed from a query records with `streamed=True`: its row is written at
once, before the stream opens its cursor. If the row cannot be written, the data is not sent: the
person sees "try again" instead.

A row holds who looked (viewer_id), what kind of data (kind), which page (endpoint), whose page it
was when it was about one person (subject_user_id) and the narrowing as ids ("session 12",
"agency 3"), never the data itself: no names, e-mail addresses or answers.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import abort, current_app, g, request
from flask_login import current_user
from sqlalchemy import ForeignKey, String, delete, insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.accounts.models import User

# What was seen, one short word each, with what the access log page calls it.
KINDS = {
    "register": "Register of a session",
    "walk_in_search": "People found by a walk-in search",
    "bookings": "Bookings of a session",
    "booking": "One person's booking",
    "completions": "Training done elsewhere",
    "completion_import": "An e-learning completions file",
    "person": "One person's account",
    "people_list": "List of people",
    "agency_staff": "An agency's staff",
    "charges": "Charges",
    "suspensions": "Suspensions",
    "people_report": "People behind a report figure",
    "evaluation_answers": "Evaluation answers",
    "evaluation_invitations": "Evaluation invitations",
    "outbox": "Messages to people",
    "subject_access": "Subject access file",
    "access_log": "This access log",
    "api": "An agency's staff, read by its system through the API",
    "trainer_profile": "A trainer's profile and dates they cannot train",
    "single_agency_training": "Single-agency training and who attended",
}

# The key in app.extensions of the function that writes the rows after the page (privacy fills it).
WRITER = "access_log_writer"


class AccessLogEntry(db.Model):
    __tablename__ = "access_log_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    viewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Ids only ("session 12", "agency 3, 2026-04-01 to 2027-03-31"): never names or answers.
    scope: Mapped[str] = mapped_column(String(200), default="")

    viewer: Mapped[User] = relationship("User", foreign_keys=[viewer_id])
    subject: Mapped[User | None] = relationship("User", foreign_keys=[subject_user_id])


def record_access(kind: str, *, subject_user_id: int | None = None, scope: str = "",
                  streamed: bool = False, viewer_id: int | None = None) -> None:
    """Log that the signed-in person is being shown other people's data by this request's page
    (`streamed`: a download streamed from a query, whose row is written now, before it starts;
    `viewer_id`: who answers for a reader that is not signed in, as the person who created an API
    token answers for the system calling with it)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown access log kind {kind!r}")
    if viewer_id is None and not current_user.is_authenticated:
        raise RuntimeError("Only a signed-in person's access can be logged")
    if WRITER not in current_app.extensions:
        raise RuntimeError("The access log has no writer: register the privacy blueprint")
    g.setdefault("access_log_rows", []).append({
        "at": utcnow(), "viewer_id": viewer_id if viewer_id is not None else current_user.id, "endpoint": request.endpoint or "",
        "kind": kind, "subject_user_id": subject_user_id, "scope": scope[:200],
    })
    if streamed:
        failed = current_app.extensions[WRITER](take_recorded())
        if failed is not None:
            abort(failed)


def take_recorded() -> list[dict]:
    """The rows this request recorded and has not written yet (taking them)."""
    return g.pop("access_log_rows", [])


def write_entries(rows: list[dict]) -> None:
    """Insert recorded rows (the caller commits)."""
    db.session.execute(insert(AccessLogEntry), rows)


def remove_entries_before(cutoff: datetime) -> int:
    """Delete entries older than `cutoff` (naive UTC); return how many (the caller commits)."""
    result = db.session.execute(
        delete(AccessLogEntry).where(AccessLogEntry.at < cutoff)
        .execution_options(synchronize_session=False))
    return result.rowcount
