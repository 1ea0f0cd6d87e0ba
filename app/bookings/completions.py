"""Training done without a booking here: online courses a person completed, and learning done
elsewhere that the L&D team accepts as equivalent to a course here."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.accounts.models import User
from app.bookings import notifications as notify
from app.bookings.errors import BookingError
from app.bookings.models import ACCEPTED, PRIOR_LEARNING, REJECTED, SELF_RECORDED, Completion
from app.clock import today_london, utcnow
from app.courses.models import Course
from app.extensions import db

CERTIFICATE_MAX_BYTES = 5 * 1024 * 1024
# What an uploaded certificate may be, told by its first bytes (not by its name or the browser's word).
CERTIFICATE_TYPES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def _check_completed_on(completed_on: date | None) -> None:
    """A completion date is given, in the past, and after 2000."""
    if completed_on is None:
        raise BookingError("Enter the date you completed it, for example 27 3 2027.", "completed_on")
    if completed_on > today_london():
        raise BookingError("The date you completed it must be today or in the past.", "completed_on")
    if completed_on < date(2000, 1, 1):
        raise BookingError("Enter a date after 1 January 2000.", "completed_on")


def _refuse_duplicate_completion(person: User, course: Course, completed_on: date) -> None:
    duplicate = db.session.scalar(
        select(Completion.id).where(
            Completion.user_id == person.id, Completion.course_id == course.id,
            Completion.completed_on == completed_on,
        )
    )
    if duplicate:
        raise BookingError("You have already recorded this course on that date.", "completed_on")


def record_completion(person: User, course: Course | None, completed_on: date | None,
                      evidence: str, actor: User) -> Completion:
    """Record that a person completed an online course on a date (the L&D team may check it)."""
    if course is None or not course.is_online:
        raise BookingError("Choose the online course you completed.", "course_id")
    _check_completed_on(completed_on)
    _refuse_duplicate_completion(person, course, completed_on)
    completion = Completion(user_id=person.id, course_id=course.id, completed_on=completed_on,
                            source=SELF_RECORDED, evidence=evidence.strip()[:2000], created_at=utcnow())
    db.session.add(completion)
    db.session.flush()
    return completion


def check_completion(completion: Completion, actor: User) -> None:
    """Mark a self-recorded completion as checked by the L&D team."""
    if completion.source == PRIOR_LEARNING:
        raise BookingError("Accept or reject learning done elsewhere: it counts only once accepted.")
    if completion.checked_at is not None:
        raise BookingError("This completion has already been checked.")
    completion.checked_by_id = actor.id
    completion.checked_at = utcnow()


def certificate_type(data: bytes) -> tuple[str, str] | None:
    """Return the (content type, file extension) of a PDF, PNG or JPEG file; None for anything else."""
    for magic, content_type, extension in CERTIFICATE_TYPES:
        if data.startswith(magic):
            return content_type, extension
    return None


def record_prior_learning(person: User, course: Course | None, provider: str, completed_on: date | None,
                          evidence: str, actor: User, *, certificate: tuple[str, bytes] | None = None
                          ) -> Completion:
    """Record learning done elsewhere as equivalent to a course here, for the L&D team to check.

    `certificate` is (file name, contents): a PDF, PNG or JPEG of at most 5 MB.
    """
    if course is None:
        raise BookingError("Choose the course here that your learning is equivalent to.", "course_id")
    if not provider.strip():
        raise BookingError("Enter who provided the training, for example your own agency.", "provider")
    _check_completed_on(completed_on)
    if not evidence.strip():
        raise BookingError("Describe the training and your evidence, for example the course title and "
                           "certificate number.", "evidence")
    name, content_type, data = "", "", None
    if certificate is not None and certificate[1]:
        name, data = certificate
        if len(data) > CERTIFICATE_MAX_BYTES:
            raise BookingError("The certificate must be 5 MB or smaller.", "certificate")
        found = certificate_type(data)
        if found is None:
            raise BookingError("The certificate must be a PDF, PNG or JPEG file.", "certificate")
        content_type, extension = found
        # A stored name is shown back and used in a download header: keep it plain.
        stem = "".join(ch for ch in name.rsplit(".", 1)[0] if ch.isalnum() or ch in " -_")[:100].strip()
        name = (stem or "certificate") + extension
    _refuse_duplicate_completion(person, course, completed_on)
    completion = Completion(
        user_id=person.id, course_id=course.id, completed_on=completed_on, source=PRIOR_LEARNING,
        provider=provider.strip()[:200], evidence=evidence.strip()[:2000], certificate_name=name,
        certificate_type=content_type, certificate_data=data, created_at=utcnow(),
    )
    db.session.add(completion)
    db.session.flush()
    return completion


def decide_prior_learning(completion: Completion, accept: bool, note: str, actor: User) -> None:
    """Accept or reject learning done elsewhere (L&D team) and tell the person."""
    if completion.source != PRIOR_LEARNING:
        raise BookingError("Only learning done elsewhere is accepted or rejected.")
    if completion.check_result is not None:
        raise BookingError("This has already been checked.")
    if not accept and not note.strip():
        raise BookingError("Say why it is not accepted: we tell the person.", "note")
    completion.check_result = ACCEPTED if accept else REJECTED
    completion.check_note = note.strip()[:2000]
    completion.checked_by_id = actor.id
    completion.checked_at = utcnow()
    db.session.flush()
    notify.notify_prior_learning_checked(completion)
