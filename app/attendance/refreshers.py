"""Refreshers: when a completed course is due again."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from app.bookings.models import Completion
from app.clock import add_months, today_london
from app.courses.models import Course


def refresher_clock(course: Course) -> Course:
    """The course whose refresher clock completing `course` restarts: the course it renews, or itself."""
    return course.renews or course


def refresher_due_on(completion: Completion) -> date | None:
    """When the next refresher is due after this completion (None: no refresher is needed).

    A course that renews another (Level 3 Refresher renews Level 3) follows that course's interval.
    """
    months = refresher_clock(completion.course).refresher_months
    return add_months(completion.completed_on, months) if months else None


def refresher_state(due: date | None, today: date | None = None) -> str:
    """'overdue', 'due soon' or '' for a refresher due date."""
    if due is None:
        return ""
    today = today or today_london()
    if due < today:
        return "overdue"
    if due <= today + timedelta(days=current_app.config["REFRESHER_DUE_SOON_DAYS"]):
        return "due soon"
    return ""
