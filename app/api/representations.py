"""How each row reads in the API, as plain values the schemas (app.api.schemas) dump."""
from __future__ import annotations

from app.accounts.models import User
from app.attendance.models import Certificate, Charge
from app.bookings.models import Booking, Completion
from app.courses.availability import Places
from app.courses.models import Course, Session
from app.reports.queries import RefresherRow
from app.urls import external_url


def person(user: User) -> dict:
    return {"id": user.id, "name": user.name, "email": user.email, "job_title": user.job_title or ""}


def course_ref(course: Course) -> dict:
    return {"id": course.id, "code": course.code, "title": course.title}


def session_ref(session: Session) -> dict:
    return {"id": session.id, "starts_at": session.starts_at, "course": course_ref(session.course)}


def session(item: Session, places: Places | None) -> dict:
    course = item.course
    return {
        "id": item.id,
        "course": {**course_ref(course), "level": course.level.name if course.level else None,
                   "duration_hours": f"{course.duration_hours:.2f}", "online": course.is_online},
        "starts_at": item.starts_at, "ends_at": item.ends_at,
        "parts": [{"starts_at": p.starts_at, "ends_at": p.ends_at} for p in item.parts],
        "venue": {"name": item.venue.name, "address": item.venue.address} if item.venue else None,
        "capacity": item.capacity,
        "places_left": places.left if places else 0,
        "state": places.state if places else "closed",
        "updated_at": item.updated_at,
        "url": external_url("courses.session_detail", session_id=item.id),
    }


def booking(item: Booking) -> dict:
    return {
        "id": item.id, "person": person(item.user), "session": session_ref(item.session),
        "status": item.status, "state_label": item.state_label,
        "late_cancellation": bool(item.late_cancellation), "walk_in": bool(item.walk_in),
        "attendance": item.outcome, "attendance_label": item.outcome_label,
        "created_at": item.created_at, "updated_at": item.updated_at,
    }


def completion(item: Completion) -> dict:
    return {
        "id": item.id, "person": person(item.user), "course": course_ref(item.course),
        "completed_on": item.completed_on, "source": item.source, "provider": item.provider or "",
        "created_at": item.created_at,
        "changed_at": max(item.created_at, item.checked_at) if item.checked_at else item.created_at,
    }


def certificate(item: Certificate) -> dict:
    return {
        "id": item.id, "code": item.code, "issued_at": item.issued_at,
        "verify_url": external_url("attendance.verify", code=item.code),
        "booking_id": item.booking_id, "person": person(item.booking.user),
        "session": session_ref(item.booking.session),
    }


def charge(item: Charge) -> dict:
    return {
        "id": item.id, "booking_id": item.booking_id, "person": person(item.user),
        "session": session_ref(item.session), "reason": item.reason, "amount_pence": item.amount_pence,
        "incurred_on": item.incurred_on, "status": item.status, "updated_at": item.updated_at,
    }


def refresher(row: RefresherRow) -> dict:
    return {"person": person(row.person), "course": course_ref(row.course), "completed_on": row.completed_on,
            "due_on": row.due, "state": row.state.replace(" ", "_")}


