"""Booking messages, queued in the outbox with the change that caused them.

Each key names the event that caused the message (usually the history row's id), so a message is
queued once however many times a job runs, and a later event of the same kind gets its own.

Calendars travel as meeting requests and cancellations (iMIP, RFC 6047): a text/calendar part in
the message body, one session part per message. The message about the booking carries the first
calendar; each further part (or the old date of a moved booking) follows in a short message of
its own, so that Outlook, which reads one event per request, puts every part in the calendar and
every later update or cancellation finds the event it changes.
"""
from __future__ import annotations

from typing import NamedTuple

from flask import current_app

from app.accounts.models import User
from app.bookings.approvals import AGREE, DECLINE, approval_token
from app.bookings.models import AWAITING_APPROVAL, CONFIRMED, Booking, BookingEvent
from app.bookings.check_in_codes import short_code
from app.bookings.offer_links import ACCEPT as OFFER_ACCEPT
from app.bookings.offer_links import DECLINE as OFFER_DECLINE
from app.bookings.offer_links import offer_token
from app.bookings.queries import booking_for
from app.bookings.workshops import programme_lines
from app.calendar import CANCEL, REQUEST, invitations, removed_part_cancellation, session_url
from app.courses.models import RemovedPart, Session, SessionPart
from app.email import Attachment, BuiltAttachment, attachment_builder, calendar_part, queue_email
from app.extensions import db
from app.templating import format_date
from app.urls import external_url


class _PartCalendar(NamedTuple):
    """The meeting request or cancellation for one part of a booking's session."""

    booking: Booking
    part: SessionPart | RemovedPart
    number: int
    total: int
    method: str
    attachment: Attachment | BuiltAttachment
    part_key: str  # names the part in the message's key


@attachment_builder("bookings.part_calendar")
def part_calendar(session: Session, person: User, method: str, number: int, filename: str) -> Attachment:
    """The meeting request or cancellation for part `number` (from 1) of a session, for one person
    (at a conference, the request carries their own programme as it stands when it is built)."""
    booking = booking_for(session.id, person.id)
    programme = programme_lines(booking) if booking is not None and session.programme else None
    return calendar_part(method, invitations(session, person, method=method, programme=programme)[number - 1],
                         filename)


def _calendars(booking: Booking, method: str) -> list[_PartCalendar]:
    # Built when the message is rendered (by the runner for a message rendered later).
    parts = booking.session.parts
    filename = "invite.ics" if method == REQUEST else "cancel.ics"
    return [
        _PartCalendar(booking, part, number, len(parts), method,
                      BuiltAttachment("bookings.part_calendar", {
                          "session": booking.session, "person": booking.user, "method": method,
                          "number": number, "filename": filename}),
                      str(part.id))
        for number, part in enumerate(parts, start=1)
    ]


def _invite(booking: Booking) -> list[_PartCalendar]:
    return _calendars(booking, REQUEST)


def _cancel_invite(booking: Booking) -> list[_PartCalendar]:
    return _calendars(booking, CANCEL)


def _when(booking: Booking) -> str:
    return format_date(booking.session.starts_at)


def _context(booking: Booking, **extra) -> dict:
    session = booking.session
    context = {
        "booking": booking,
        "person": booking.user,
        "session": session,
        "course": session.course,
        "session_url": session_url(session),
        "my_bookings_url": external_url("bookings.my_bookings"),
        # Joining instructions and the online link go to confirmed people only.
        "show_joining": booking.status == CONFIRMED,
        # The code to check in with at the event: confirmed places only (no personal data in it).
        "check_in_code": short_code(booking) if booking.status == CONFIRMED and booking.id else "",
        "is_conference": bool(session.programme),
        "l_and_d_email": current_app.config["L_AND_D_EMAIL"],
    }
    context.update(extra)
    return context


# Messages the job runner renders (with their calendars) after the commit, not the request: the
# ones a booking rush sends. The others are rendered when queued.
_RENDERED_LATER = frozenset({"confirmed", "waiting", "awaiting_manager", "manager_asked", "promoted", "cancelled",
                             "manager_withdrawn"})


def _send(booking: Booking, key: str, subject: str, template: str, *, to: str | None = None,
          calendars: list[_PartCalendar] | None = None, **extra):
    calendars = calendars or []
    render_later = template in _RENDERED_LATER
    queued = queue_email(
        key=key,
        to=to or booking.user.email,
        subject=subject,
        template=f"bookings/emails/{template}",
        attachments=[calendars[0].attachment] if calendars else None,
        render_later=render_later,
        **_context(booking, **extra),
    )
    for calendar in calendars[1:]:
        _send_part(calendar, key, render_later)
    return queued


def _send_part(calendar: _PartCalendar, key: str, render_later: bool) -> None:
    """Queue the message that carries one further part's calendar."""
    booking, part = calendar.booking, calendar.part
    course = booking.session.course
    which = f" (part {calendar.number} of {calendar.total})" if calendar.total > 1 else ""
    text = "Calendar invitation" if calendar.method == REQUEST else "Cancelled"
    queue_email(
        key=f"{key}:calendar:{calendar.method.lower()}:{booking.id}:{calendar.part_key}",
        to=booking.user.email,
        subject=f"{text}: {course.title}{which} on {format_date(part.starts_at)}",
        template="bookings/emails/calendar_part",
        attachments=[calendar.attachment],
        render_later=render_later,
        **_context(booking, part=part, number=calendar.number, total=calendar.total,
                   cancelling=calendar.method == CANCEL),
    )


def _key(booking: Booking, kind: str, event: BookingEvent) -> str:
    """The message's key: the booking, the kind of message and the history row that caused it."""
    if event.id is None:
        db.session.flush()  # the row gets its id here, the first place it is needed
    return f"booking:{booking.id}:{kind}:{event.id}"


def _subject(text: str, booking: Booking) -> str:
    return f"{text}: {booking.session.course.title} on {_when(booking)}"


def notify_confirmed(booking: Booking, event: BookingEvent) -> None:
    """Tell the person their place is booked, with a calendar invitation."""
    _send(booking, _key(booking, "confirmed", event), _subject("Booking confirmed", booking),
          "confirmed", calendars=_invite(booking))


def notify_programme_changed(booking: Booking, event: BookingEvent) -> None:
    """Send a person their changed conference programme, with the invitation updated to match."""
    _send(booking, _key(booking, "programme", event), _subject("Your programme", booking),
          "programme_changed", calendars=_invite(booking) if booking.status == CONFIRMED else None,
          programme=programme_lines(booking))


def notify_awaiting_manager(booking: Booking, event: BookingEvent) -> None:
    """Tell the person their place is held until their line manager agrees."""
    _send(booking, _key(booking, "awaiting", event),
          _subject("Place held until your manager agrees", booking), "awaiting_manager")


def notify_manager_asked(booking: Booking, event: BookingEvent, substitute_for=None) -> None:
    """Ask the line manager to agree or decline, by links that need no account."""
    _send(
        booking, _key(booking, "manager-asked", event),
        f"Please agree {booking.user.name}’s place: {booking.session.course.title} on {_when(booking)}",
        "manager_asked", to=booking.manager_email,
        agree_url=external_url("bookings.approval", token=approval_token(booking, AGREE)),
        decline_url=external_url("bookings.approval", token=approval_token(booking, DECLINE)),
        substitute_for=substitute_for,
    )


def notify_waiting(booking: Booking, event: BookingEvent) -> None:
    """Tell the person they are on the waiting list."""
    _send(booking, _key(booking, "waiting", event), _subject("You are on the waiting list", booking),
          "waiting")


def notify_promoted(booking: Booking, event: BookingEvent) -> None:
    """Tell a waiting person a place has come up (and ask their manager if the course needs it)."""
    confirmed = booking.status == CONFIRMED
    _send(booking, _key(booking, "promoted", event), _subject("A place has come up", booking),
          "promoted", calendars=_invite(booking) if confirmed else None)
    if booking.status == AWAITING_APPROVAL:
        notify_manager_asked(booking, event)


def notify_offered(booking: Booking, event: BookingEvent) -> None:
    """Offer a waiting person a freed place, with accept and decline links that need no sign-in."""
    _send(booking, _key(booking, "offered", event), _subject("A place is offered to you", booking),
          "offered", accept_url=external_url("bookings.offer", token=offer_token(booking, OFFER_ACCEPT)),
          decline_url=external_url("bookings.offer", token=offer_token(booking, OFFER_DECLINE)))


def notify_offer_declined(booking: Booking, event: BookingEvent) -> None:
    """Confirm that the person let an offered place pass and left the waiting list."""
    _send(booking, _key(booking, "offer-declined", event), _subject("You turned down the place", booking),
          "offer_declined")


def notify_offer_expired(booking: Booking, event: BookingEvent) -> None:
    """Tell the person their offer ended unanswered and they are back on the waiting list."""
    _send(booking, _key(booking, "offer-expired", event), _subject("The offer of a place has ended", booking),
          "offer_expired")


def notify_manager_agreed(booking: Booking, event: BookingEvent) -> None:
    """Tell the person their manager agreed: the place is confirmed, with the invitation."""
    _send(booking, _key(booking, "agreed", event), _subject("Your manager agreed", booking),
          "manager_agreed", calendars=_invite(booking))


def notify_manager_declined(booking: Booking, reason: str, event: BookingEvent) -> None:
    """Tell the person their manager declined the booking."""
    _send(booking, _key(booking, "declined", event), _subject("Your manager declined", booking),
          "manager_declined", reason=reason)


def notify_approval_lapsed(booking: Booking, event: BookingEvent) -> None:
    """Tell the person and their manager the unanswered request has lapsed and the place is freed."""
    _send(booking, _key(booking, "lapsed", event), _subject("Booking request lapsed", booking),
          "lapsed", audience="person")
    if booking.manager_email:
        _send(booking, _key(booking, "lapsed-manager", event),
              f"Request lapsed: {booking.user.name}, {booking.session.course.title} on {_when(booking)}",
              "lapsed", to=booking.manager_email, audience="manager")


def notify_manager_request_withdrawn(booking: Booking, event: BookingEvent, *, by_person: bool) -> None:
    """Tell the line manager a place awaiting their answer was cancelled: their links no longer apply."""
    _send(booking, _key(booking, "manager-withdrawn", event),
          f"No answer needed: {booking.user.name}’s place is cancelled ({booking.session.course.title} "
          f"on {_when(booking)})",
          "manager_withdrawn", to=booking.manager_email, by_person=by_person)


def notify_cancelled(booking: Booking, held_place: bool, event: BookingEvent, *, invited: bool) -> None:
    """Confirm a cancellation (removing the session from their calendar if it was ever sent to them:
    `invited`, the place was confirmed, not only held for the manager's answer)."""
    subject = "Booking cancelled" if held_place else "You have left the waiting list"
    _send(booking, _key(booking, "cancelled", event), _subject(subject, booking), "cancelled",
          calendars=_cancel_invite(booking) if invited else None, held_place=held_place, invited=invited)


def notify_session_cancelled(booking: Booking, held_place: bool, *, invited: bool) -> None:
    """Tell a person the session itself is cancelled, with a cancelling invitation if they had one."""
    _send(booking, f"booking:{booking.id}:session-cancelled:{booking.session.sequence}",
          _subject("Session cancelled", booking), "session_cancelled",
          calendars=_cancel_invite(booking) if invited else None, held_place=held_place, invited=invited)


def notify_session_changed(booking: Booking, changes: list) -> None:
    """Tell a person what changed, with an updated invitation (higher SEQUENCE) for a confirmed place."""
    last = max(c.id for c in changes)
    calendars = []
    if booking.status == CONFIRMED:
        # The parts it still has are updated; a part it lost is cancelled by its own UID.
        calendars = _invite(booking) + [
            _PartCalendar(booking, part, 1, 1, CANCEL,
                          calendar_part(CANCEL, removed_part_cancellation(booking.session, booking.user, part),
                                        "cancel.ics"), part.uid)
            for change in changes for part in change.parts_removed
        ]
    _send(booking, f"booking:{booking.id}:session-change:{last}", _subject("Session changed", booking),
          "session_changed", calendars=calendars, changes=changes)


def notify_substituted(original: Booking, new: Booking, event: BookingEvent) -> None:
    """Tell both people the place has passed from one to the other; the colleague gets the invitation."""
    # The colleague's booking has the state the original had: only a confirmed place was invited.
    invited = new.status == CONFIRMED
    _send(original, _key(original, "substituted-out", event),
          _subject(f"Your place has passed to {new.user.name}", original), "substituted_out",
          calendars=_cancel_invite(original) if invited else None, colleague=new.user, invited=invited)
    _send(new, _key(new, "substituted-in", event),
          _subject(f"{original.user.name} has passed you their place", new), "substituted_in",
          calendars=_invite(new) if new.status == CONFIRMED else None, colleague=original.user)


def notify_moved(old: Booking, new: Booking, invited: bool, event: BookingEvent) -> None:
    """Tell the person their booking moved: invite to the new date, and cancel the old one if they
    were invited to it."""
    calendars = (_invite(new) if new.status == CONFIRMED else []) + (_cancel_invite(old) if invited else [])
    _send(new, _key(new, "moved", event), _subject("Your booking has moved", new), "moved",
          calendars=calendars, old=old)


def notify_reminder(booking: Booking, days: int) -> bool:
    """Remind a confirmed person of their session (7 days and 1 day before), with joining details."""
    when = "tomorrow" if days == 1 else f"in {days} days"
    key = f"booking:{booking.id}:reminder:{days}:{booking.session.starts_at:%Y%m%d%H%M}"
    return _send(booking, key, f"Reminder: {booking.session.course.title} {when}", "reminder",
                 days=days, when=when) is not None


def notify_place_free_late(session, free: int, waiting: int, mark: int) -> None:
    """Tell the L&D team a place is free within 24 hours of the start, for them to fill by hand."""
    queue_email(
        key=f"session:{session.id}:late-place:{mark}",
        to=current_app.config["L_AND_D_EMAIL"],
        subject=f"Place free within 24 hours: {session.course.title} on {format_date(session.starts_at)}",
        template="bookings/emails/place_free_late",
        session=session, course=session.course, free=free, waiting=waiting,
        admin_url=external_url("bookings.admin_session_bookings", session_id=session.id),
    )


def notify_prior_learning_checked(completion) -> None:
    """Tell the person whether the L&D team accepted the learning they did elsewhere."""
    accepted = completion.check_result == "accepted"
    queue_email(
        key=f"completion:{completion.id}:checked",
        to=completion.user.email,
        subject=("Accepted: " if accepted else "Not accepted: ") + f"your {completion.course.title} from "
                + completion.provider,
        template="bookings/emails/prior_learning_checked",
        completion=completion,
        person=completion.user,
        course=completion.course,
        accepted=accepted,
        my_bookings_url=external_url("bookings.my_bookings") + "#training",
        l_and_d_email=current_app.config["L_AND_D_EMAIL"],
    )
