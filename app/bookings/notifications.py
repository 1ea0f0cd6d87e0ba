"""Booking messages, queued in the outbox with the change that caused them.

Each key names the event that caused the message (usually the history row's id), so a message is
queued once however many times a job runs, and a later event of the same kind gets its own.
"""
from __future__ import annotations

from flask import current_app

from app.bookings.models import AWAITING_APPROVAL, CONFIRMED, Booking
from app.calendar import CANCEL, REQUEST, invitation, session_url
from app.email import Attachment, queue_email
from app.templating import format_date
from app.urls import external_url

REQUEST_TYPE = "text/calendar; method=REQUEST; charset=UTF-8"
CANCEL_TYPE = "text/calendar; method=CANCEL; charset=UTF-8"


def _invite(booking: Booking, filename: str = "invite.ics") -> Attachment:
    return Attachment(filename, REQUEST_TYPE, invitation(booking.session, booking.user, method=REQUEST))


def _cancel_invite(booking: Booking, filename: str = "cancel.ics") -> Attachment:
    return Attachment(filename, CANCEL_TYPE, invitation(booking.session, booking.user, method=CANCEL))


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
        "l_and_d_email": current_app.config["L_AND_D_EMAIL"],
    }
    context.update(extra)
    return context


def _send(booking: Booking, key: str, subject: str, template: str, *, to: str | None = None,
          attachments: list[Attachment] | None = None, **extra):
    return queue_email(
        key=key,
        to=to or booking.user.email,
        subject=subject,
        template=f"bookings/emails/{template}",
        attachments=attachments,
        **_context(booking, **extra),
    )


def _subject(text: str, booking: Booking) -> str:
    return f"{text}: {booking.session.course.title} on {_when(booking)}"


def notify_confirmed(booking: Booking, mark: int) -> None:
    """Tell the person their place is booked, with a calendar invitation."""
    _send(booking, f"booking:{booking.id}:confirmed:{mark}", _subject("Booking confirmed", booking),
          "confirmed", attachments=[_invite(booking)])


def notify_awaiting_manager(booking: Booking, mark: int) -> None:
    """Tell the person their place is held until their line manager agrees."""
    _send(booking, f"booking:{booking.id}:awaiting:{mark}",
          _subject("Place held until your manager agrees", booking), "awaiting_manager")


def notify_manager_asked(booking: Booking, mark: int, substitute_for=None) -> None:
    """Ask the line manager to agree or decline, by links that need no account."""
    from app.bookings.services import AGREE, DECLINE, approval_token

    _send(
        booking, f"booking:{booking.id}:manager-asked:{mark}",
        f"Please agree {booking.user.name}’s place: {booking.session.course.title} on {_when(booking)}",
        "manager_asked", to=booking.manager_email,
        agree_url=external_url("bookings.approval", token=approval_token(booking, AGREE)),
        decline_url=external_url("bookings.approval", token=approval_token(booking, DECLINE)),
        substitute_for=substitute_for,
    )


def notify_waiting(booking: Booking, mark: int) -> None:
    """Tell the person they are on the waiting list."""
    _send(booking, f"booking:{booking.id}:waiting:{mark}", _subject("You are on the waiting list", booking),
          "waiting")


def notify_promoted(booking: Booking, mark: int) -> None:
    """Tell a waiting person a place has come up (and ask their manager if the course needs it)."""
    confirmed = booking.status == CONFIRMED
    _send(booking, f"booking:{booking.id}:promoted:{mark}", _subject("A place has come up", booking),
          "promoted", attachments=[_invite(booking)] if confirmed else None)
    if booking.status == AWAITING_APPROVAL:
        notify_manager_asked(booking, mark)


def notify_manager_agreed(booking: Booking, mark: int) -> None:
    """Tell the person their manager agreed: the place is confirmed, with the invitation."""
    _send(booking, f"booking:{booking.id}:agreed:{mark}", _subject("Your manager agreed", booking),
          "manager_agreed", attachments=[_invite(booking)])


def notify_manager_declined(booking: Booking, reason: str, mark: int) -> None:
    """Tell the person their manager declined the booking."""
    _send(booking, f"booking:{booking.id}:declined:{mark}", _subject("Your manager declined", booking),
          "manager_declined", reason=reason)


def notify_approval_lapsed(booking: Booking, mark: int) -> None:
    """Tell the person and their manager the unanswered request has lapsed and the place is freed."""
    _send(booking, f"booking:{booking.id}:lapsed:{mark}", _subject("Booking request lapsed", booking),
          "lapsed", audience="person")
    if booking.manager_email:
        _send(booking, f"booking:{booking.id}:lapsed-manager:{mark}",
              f"Request lapsed: {booking.user.name}, {booking.session.course.title} on {_when(booking)}",
              "lapsed", to=booking.manager_email, audience="manager")


def notify_cancelled(booking: Booking, held_place: bool, mark: int) -> None:
    """Confirm a cancellation (removing the session from their calendar if they held a place)."""
    subject = "Booking cancelled" if held_place else "You have left the waiting list"
    _send(booking, f"booking:{booking.id}:cancelled:{mark}", _subject(subject, booking), "cancelled",
          attachments=[_cancel_invite(booking)] if held_place else None, held_place=held_place)


def notify_session_cancelled(booking: Booking, held_place: bool) -> None:
    """Tell a person the session itself is cancelled, with a cancelling invitation."""
    _send(booking, f"booking:{booking.id}:session-cancelled:{booking.session.sequence}",
          _subject("Session cancelled", booking), "session_cancelled",
          attachments=[_cancel_invite(booking)] if held_place else None, held_place=held_place)


def notify_session_changed(booking: Booking, changes: list) -> None:
    """Tell a person what changed, with an updated invitation (higher SEQUENCE) for a confirmed place."""
    last = max(c.id for c in changes)
    _send(booking, f"booking:{booking.id}:session-change:{last}", _subject("Session changed", booking),
          "session_changed", attachments=[_invite(booking)] if booking.status == CONFIRMED else None,
          changes=changes)


def notify_substituted(original: Booking, new: Booking, mark: int) -> None:
    """Tell both people the place has passed from one to the other; the colleague gets the invitation."""
    _send(original, f"booking:{original.id}:substituted-out:{mark}",
          _subject(f"Your place has passed to {new.user.name}", original), "substituted_out",
          attachments=[_cancel_invite(original)], colleague=new.user)
    _send(new, f"booking:{new.id}:substituted-in:{mark}",
          _subject(f"{original.user.name} has passed you their place", new), "substituted_in",
          attachments=[_invite(new)] if new.status == CONFIRMED else None, colleague=original.user)


def notify_moved(old: Booking, new: Booking, held_place: bool, mark: int) -> None:
    """Tell the person their booking moved: cancel the old date, invite to the new one."""
    attachments = []
    if held_place:
        attachments.append(_cancel_invite(old, "cancel-old-date.ics"))
    if new.status == CONFIRMED:
        attachments.append(_invite(new))
    _send(new, f"booking:{new.id}:moved:{mark}", _subject("Your booking has moved", new), "moved",
          attachments=attachments or None, old=old)


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
