"""The programme's messages, queued in the outbox with the change that caused them."""
from __future__ import annotations

from app.calendar import session_url
from app.courses.models import CourseInterest, Session
from app.email import queue_email
from app.templating import format_date
from app.urls import external_url


def notify_interested(interest: CourseInterest, session: Session) -> int:
    """Tell a person who registered interest in a course that a session of it is published (once per
    session); 1 if queued now, 0 if they were told before."""
    course = session.course
    queued = queue_email(
        key=f"interest:{interest.id}:session:{session.id}",
        to=interest.user.email,
        subject=f"New date: {course.title} on {format_date(session.starts_at)}",
        template="courses/emails/interest_session_published",
        person=interest.user, course=course, session=session, session_url=session_url(session), show_joining=False,
        my_bookings_url=external_url("bookings.my_bookings") + "#interest",
    )
    return 1 if queued is not None else 0
