"""The privacy pages' reads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from app.access_log import AccessLogEntry
from app.accounts.models import User
from app.extensions import db


def access_log_entries(*, viewer_id: int | None, kind: str | None, subject_id: int | None,
                       starts: datetime, ends: datetime) -> Select:
    """Entries from `starts` to before `ends` (naive UTC), newest first, with who looked and whose
    page it was loaded."""
    query = (
        select(AccessLogEntry)
        .options(joinedload(AccessLogEntry.viewer), joinedload(AccessLogEntry.subject))
        .where(AccessLogEntry.at >= starts, AccessLogEntry.at < ends)
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
    )
    if viewer_id is not None:
        query = query.where(AccessLogEntry.viewer_id == viewer_id)
    if kind is not None:
        query = query.where(AccessLogEntry.kind == kind)
    if subject_id is not None:
        query = query.where(AccessLogEntry.subject_user_id == subject_id)
    return query


def access_log_viewers() -> list[User]:
    """Everyone who appears in the access log as having looked, by name."""
    viewer_ids = select(AccessLogEntry.viewer_id).distinct().scalar_subquery()
    return list(db.session.scalars(
        select(User).where(User.id.in_(viewer_ids)).order_by(User.name, User.id)))
