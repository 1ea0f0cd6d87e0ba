"""The booking rules, each with the words a person sees when refused, and the messages that arrive."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import DEACTIVATED
from app.accounts.tokens import LinkError
from app.bookings import approvals
from app.bookings.approvals import AGREE, DECLINE
from app.bookings.booking import book_place
from app.bookings.calendar_feed import reset_calendar_token
from app.bookings.cancellation import cancel_booking
from app.bookings.completions import check_completion, decide_prior_learning, record_completion, record_prior_learning
from app.bookings.errors import BookingError
from app.bookings.line_manager import answer_approval
from app.bookings.moves import move_booking, substitute_colleague
from app.bookings.queries import calendar_entries
from app.bookings.reminders import send_reminders
from app.bookings.waiting_list import promote_booking
from app.bookings.models import (
    AWAITING_APPROVAL,
    CANCELLED,
    CONFIRMED,
    DECLINED,
    LAPSED,
    TRANSFERRED,
    WAITING,
    Booking,
    Completion,
)
from app.bookings.places import availability_for
from app.clock import utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import DRAFT, SessionChange
from app.email import OutboxMessage
from app.extensions import db
from app.jobs import run_jobs
from tests.bookings.conftest import NOW, START, invites, subject, text_of


def _refused(message: str, func, *args, **kwargs):
    with pytest.raises(BookingError) as caught:
        func(*args, **kwargs)
    db.session.rollback()
    assert message in caught.value.message, caught.value.message
    return caught.value


def _book(session, person, **kwargs):
    booking = book_place(session, person, person, **kwargs)
    db.session.commit()
    return booking


def _states(session) -> dict[str, str]:
    return {b.user.name: b.status for b in db.session.scalars(
        select(Booking).where(Booking.session_id == session.id).execution_options(populate_existing=True))}


# ---------------------------------------------------------------- booking and refusals


def test_booking_confirms_a_place_records_history_and_emails_a_calendar_invitation(
        app, now, make_user, make_session, mailbox, deliver):
    session = make_session(capacity=10)
    person = make_user(name="Amara Okonkwo-Bray", email="amara@example.org")

    booking = _book(session, person, access_needs="Step-free access")
    assert booking.status == CONFIRMED and booking.reservation_id is None
    assert booking.agency_id == person.agency_id and booking.confirmed_at == NOW
    [event] = booking.events
    assert (event.from_status, event.to_status, event.actor_id) == (None, CONFIRMED, person.id)

    deliver()
    [message] = mailbox.to("amara@example.org")
    assert subject(message) == "Booking confirmed: Safeguarding Level 3 on 22 March 2027"
    assert "Your place is booked" in text_of(message) and "Step-free access" in text_of(message)
    [(content_type, calendar)] = invites(message)
    assert content_type == "REQUEST"
    assert calendar["METHOD"] == "REQUEST"
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["UID"]) == f"session-{session.id}-part-{session.parts[0].id}@localhost"
    assert int(vevent["SEQUENCE"]) == 0
    assert "amara@example.org" in str(vevent["ATTENDEE"])


def test_refusals_say_why_in_plain_words(app, now, make_user, make_session, make_course):
    person = make_user()
    unverified = make_user(verified=False)
    _refused("Confirm your e-mail address", book_place, make_session(capacity=10), unverified, unverified)
    gone = make_user(name="Former Employee", status=DEACTIVATED)
    _refused("Former Employee’s account is not active.", book_place, make_session(capacity=10), gone,
             make_user(roles=("admin",)))
    _refused("has not been published", book_place, make_session(status=DRAFT, capacity=10), person, person)
    _refused("This session has been cancelled", book_place,
             make_session(status=SESSION_CANCELLED, capacity=10), person, person)
    _refused("already started", book_place, make_session(starts_at=NOW - timedelta(minutes=5), capacity=10),
             person, person)
    _refused("Booking for this session opens on 8 March 2027, 9:00am", book_place,
             make_session(booking_opens_at=datetime(2027, 3, 8, 9, 0), capacity=10), person, person)
    _refused("Booking for this session closed on 28 February 2027", book_place,
             make_session(booking_closes_at=datetime(2027, 2, 28, 17, 0), capacity=10), person, person)
    _refused("online course: there is nothing to book", book_place,
             make_session(course=make_course("Level 1 and 2 online", is_online=True), capacity=10), person, person)
    no_manager = make_user(line_manager_email="")
    _refused("needs your line manager to agree. Add their e-mail address", book_place,
             make_session(course=make_course(requires_manager_approval=True), capacity=10), no_manager, no_manager)
    assert db.session.scalar(select(Booking.id)) is None


def test_refuses_a_second_booking_on_the_same_session_or_another_date_of_the_course(
        app, now, make_user, make_session, make_course):
    course = make_course()
    first = make_session(course=course, capacity=1)
    later = make_session(course=course, starts_at=START + timedelta(days=14), capacity=10)
    person, other = make_user(), make_user()
    _book(first, person)
    _refused("You already have a place on this session.", book_place, first, person, person)
    _refused("You already have a place on this course on 22 March 2027. Cancel that booking first",
             book_place, later, person, person)

    _book(first, other)  # full: waiting
    _refused("You are already on the waiting list for this session.", book_place, first, other, other)
    _refused("You are already on the waiting list for this course on 22 March 2027", book_place,
             later, other, other)


def test_a_past_or_cancelled_date_of_the_course_does_not_block_booking(
        app, now, make_user, make_session, make_course, set_now):
    course = make_course()
    person = make_user()
    _book(make_session(course=course, starts_at=NOW + timedelta(days=2), capacity=10), person)
    set_now(NOW + timedelta(days=3))
    assert _book(make_session(course=course, capacity=10), person).status == CONFIRMED


def test_prerequisites_must_be_completed_first(app, now, make_user, make_session, make_course):
    online = make_course("Safeguarding Level 1 and 2 (online)", is_online=True)
    session = make_session(course=make_course("Safeguarding Level 3", prerequisites=(online,)), capacity=10)
    person = make_user()
    _refused("You need to complete Safeguarding Level 1 and 2 (online) before booking this course.",
             book_place, session, person, person)

    record_completion(person, online, date(2026, 11, 3), "ELN-123", person)
    db.session.commit()
    assert _book(session, person).status == CONFIRMED


# ---------------------------------------------------------------- quotas and the waiting list


def test_reserved_pools_then_general_places_then_the_waiting_list(
        app, now, make_user, make_agency, make_session, mailbox, deliver):
    health, police = make_agency(sector="Health - acute"), make_agency(sector="Police")
    session = make_session(capacity=4, reservations=[(health.sector, 2)], reservation_release_days=7)
    pool = session.reservations[0]
    officers = [make_user(agency=police) for _ in range(3)]
    nurses = [make_user(agency=health) for _ in range(3)]

    assert [_book(session, o).status for o in officers] == [CONFIRMED, CONFIRMED, WAITING]
    assert [_book(session, n).reservation_id for n in nurses[:2]] == [pool.id, pool.id]
    third_nurse = _book(session, nurses[2])
    assert third_nurse.status == WAITING

    availability = availability_for([session])[session.id]
    assert (availability.taken, availability.left) == (4, 0)
    deliver()
    [message] = mailbox.to(officers[2].email)
    assert subject(message).startswith("You are on the waiting list")
    assert invites(message) == []


def test_a_freed_place_goes_to_the_first_waiting_person_who_may_fill_it(
        app, now, make_user, make_agency, make_session, mailbox, deliver):
    health, police = make_agency(sector="Health - acute"), make_agency(sector="Police")
    session = make_session(capacity=3, reservations=[(health.sector, 1)], reservation_release_days=7)
    nurse, officer1, officer2 = make_user(agency=health), make_user(agency=police), make_user(agency=police)
    _book(session, nurse)
    _book(session, officer1)
    _book(session, officer2)
    waiting_officer = make_user(name="Waiting Officer", agency=police)
    waiting_nurse = make_user(name="Waiting Nurse", agency=health)
    assert _book(session, waiting_officer).status == WAITING  # joined first
    assert _book(session, waiting_nurse).status == WAITING

    nurse_booking = db.session.scalar(select(Booking).where(Booking.user_id == nurse.id))
    cancel_booking(nurse_booking, nurse)
    db.session.commit()
    # The reserved health place freed: the officer, though first, may not fill it.
    assert _states(session)["Waiting Nurse"] == CONFIRMED
    assert _states(session)["Waiting Officer"] == WAITING

    officer_booking = db.session.scalar(select(Booking).where(Booking.user_id == officer1.id))
    cancel_booking(officer_booking, officer1)
    db.session.commit()
    assert _states(session)["Waiting Officer"] == CONFIRMED

    deliver()
    [promoted] = mailbox.to(waiting_nurse.email)[-1:]
    assert subject(promoted) == "A place has come up: Safeguarding Level 3 on 22 March 2027"
    [(_, calendar)] = invites(promoted)
    assert calendar["METHOD"] == "REQUEST"
    history = db.session.scalar(select(Booking).where(Booking.user_id == waiting_nurse.id)).events
    assert [(e.from_status, e.to_status) for e in history] == [(None, WAITING), (WAITING, CONFIRMED)]
    assert "waiting list" in history[-1].reason


def test_each_message_is_named_by_the_history_row_of_the_change_that_sent_it(
        app, now, make_user, make_session):
    session = make_session(capacity=1)
    first, second = make_user(), make_user()
    booking = _book(session, first)
    waiting = _book(session, second)
    cancel_booking(booking, first)
    db.session.commit()
    booking = _book(session, first)  # the same row again, on the waiting list this time

    def event_ids(b):
        return [e.id for e in db.session.scalars(select(Booking).where(Booking.id == b.id)).one().events]

    keys = set(db.session.scalars(select(OutboxMessage.idempotency_key)))
    booked, cancelled, waiting_again = event_ids(booking)
    joined, promoted = event_ids(waiting)
    assert {f"booking:{booking.id}:confirmed:{booked}", f"booking:{booking.id}:cancelled:{cancelled}",
            f"booking:{booking.id}:waiting:{waiting_again}", f"booking:{waiting.id}:waiting:{joined}",
            f"booking:{waiting.id}:promoted:{promoted}"} <= keys


def test_released_reservations_go_to_waiting_people_by_the_job(
        app, now, make_user, make_agency, make_session, set_now, mailbox, deliver):
    health, police = make_agency(sector="Health - acute"), make_agency(sector="Police")
    session = make_session(capacity=2, reservations=[(health.sector, 1)], reservation_release_days=7)
    _book(session, make_user(agency=police))
    waiting = make_user(agency=police)
    assert _book(session, waiting).status == WAITING

    run_jobs("release_reservations")
    assert _states(session)[waiting.name] == WAITING  # the health place is still reserved

    set_now(START - timedelta(days=7))
    assert run_jobs("release_reservations") == {"release_reservations": "1 promoted"}
    assert run_jobs("release_reservations") == {"release_reservations": "0 promoted"}
    assert _states(session)[waiting.name] == CONFIRMED
    deliver()
    assert [subject(m) for m in mailbox.to(waiting.email)][-1].startswith("A place has come up")


def test_nobody_is_promoted_within_24_hours_and_the_l_and_d_team_is_told_once(
        app, now, make_user, make_session, set_now, mailbox, deliver):
    session = make_session(capacity=1)
    booked, waiting = make_user(), make_user()
    booking = _book(session, booked)
    _book(session, waiting)

    set_now(START - timedelta(hours=20))
    cancel_booking(booking, booked)
    db.session.commit()
    run_jobs("promote_from_waiting_lists")
    run_jobs("promote_from_waiting_lists")
    assert _states(session)[waiting.name] == WAITING
    deliver()
    [notice] = mailbox.to(app.config["L_AND_D_EMAIL"])
    assert subject(notice) == "Place free within 24 hours: Safeguarding Level 3 on 22 March 2027"
    assert "1 place is free" in text_of(notice) and "1 person is on its waiting list" in text_of(notice)

    admin = make_user(roles=("admin",))
    promote_booking(db.session.scalar(select(Booking).where(Booking.user_id == waiting.id)), admin)
    db.session.commit()
    assert _states(session)[waiting.name] == CONFIRMED


# ---------------------------------------------------------------- the line manager


def _approval_session(make_session, make_course, capacity=10, **kwargs):
    return make_session(course=make_course(requires_manager_approval=True), capacity=capacity, **kwargs)


def test_manager_is_asked_by_signed_links_and_agreeing_confirms_the_place(
        app, now, make_user, make_session, make_course, mailbox, deliver):
    session = _approval_session(make_session, make_course, capacity=1)
    person = make_user(email="lena@example.org", line_manager_email="morag@example.org")
    booking = _book(session, person)
    assert booking.status == AWAITING_APPROVAL
    assert booking.manager_email == "morag@example.org"
    assert booking.approval_due_at == datetime(2027, 3, 8, 9, 0)  # five working days
    assert availability_for([session])[session.id].left == 0, "the held place counts"

    deliver()
    [asked] = mailbox.to("morag@example.org")
    assert subject(asked) == f"Please agree {person.name}’s place: Safeguarding Level 3 on 22 March 2027"
    body = text_of(asked)
    agree_url = next(line for line in body.splitlines() if "/approvals/" in line and line.strip().startswith("http"))
    assert "8 March 2027" in body
    [held] = mailbox.to("lena@example.org")
    assert subject(held).startswith("Place held until your manager agrees")
    assert invites(held) == []

    token = agree_url.strip().rsplit("/", 1)[1]
    found, decision = approvals.booking_for_approval(token)
    assert (found.id, decision) == (booking.id, AGREE)
    answer_approval(found, decision)
    db.session.commit()
    assert booking.status == CONFIRMED and booking.approved_at == NOW
    assert "Line manager (morag@example.org) agreed" in booking.events[-1].reason
    assert booking.events[-1].actor_id is None
    deliver()
    agreed = mailbox.to("lena@example.org")[-1]
    assert subject(agreed).startswith("Your manager agreed")
    assert invites(agreed)[0][1]["METHOD"] == "REQUEST"
    _refused("You have already agreed", answer_approval, booking, AGREE)


def test_declining_frees_the_place_for_the_waiting_list(
        app, now, make_user, make_session, make_course, mailbox, deliver):
    session = _approval_session(make_session, make_course, capacity=1)
    person, waiting = make_user(), make_user()
    booking = _book(session, person)
    _book(session, waiting)

    token = approvals.approval_token(booking, DECLINE)
    found, decision = approvals.booking_for_approval(token)
    answer_approval(found, decision, "Short-staffed that week")
    db.session.commit()
    assert _states(session) == {person.name: DECLINED, waiting.name: AWAITING_APPROVAL}
    deliver()
    declined = mailbox.to(person.email)[-1]
    assert subject(declined).startswith("Your manager declined")
    assert "Short-staffed that week" in text_of(declined)
    # The promoted person's manager is asked in turn.
    assert subject(mailbox.to(waiting.line_manager_email)[-1]).startswith("Please agree")


def test_links_that_are_tampered_with_expired_or_for_an_earlier_request_are_refused(
        app, now, make_user, make_session, make_course, set_now):
    session = _approval_session(make_session, make_course)
    person = make_user()
    booking = _book(session, person)
    token = approvals.approval_token(booking, AGREE)
    with pytest.raises(LinkError):
        approvals.booking_for_approval(token[:-3] + "abc")

    cancel_booking(booking, person)
    db.session.commit()
    set_now(NOW + timedelta(hours=1))
    _book(session, person)  # a new request: the old link no longer applies
    with pytest.raises(LinkError, match="earlier request"):
        approvals.booking_for_approval(token)

    set_now(NOW + timedelta(days=30))
    with pytest.raises(LinkError, match="expired"):
        approvals.booking_for_approval(approvals.approval_token(booking, AGREE)[:0] + token)


def test_unanswered_requests_lapse_after_five_working_days_not_counting_bank_holidays(
        app, make_user, make_session, make_course, set_now, mailbox, deliver):
    # Booked on Wednesday 24 March 2027: Good Friday (26th) and Easter Monday (29th) do not count.
    set_now(datetime(2027, 3, 24, 10, 0))
    session = _approval_session(make_session, make_course, capacity=1, starts_at=datetime(2027, 4, 20, 9, 0))
    person, waiting = make_user(), make_user()
    booking = _book(session, person)
    _book(session, waiting)
    assert booking.approval_due_at == datetime(2027, 4, 2, 9, 0)  # 10am BST is 9am UTC

    set_now(datetime(2027, 4, 2, 8, 59))
    assert run_jobs("lapse_unanswered_approvals") == {"lapse_unanswered_approvals": "0 lapsed"}
    set_now(datetime(2027, 4, 2, 9, 0))
    assert run_jobs("lapse_unanswered_approvals") == {"lapse_unanswered_approvals": "1 lapsed"}
    assert run_jobs("lapse_unanswered_approvals") == {"lapse_unanswered_approvals": "0 lapsed"}
    assert _states(session) == {person.name: LAPSED, waiting.name: AWAITING_APPROVAL}

    deliver()
    assert subject(mailbox.to(person.email)[-1]).startswith("Booking request lapsed")
    lapsed_for_manager = [m for m in mailbox.to(person.line_manager_email) if "lapsed" in subject(m)]
    assert len(lapsed_for_manager) == 1
    assert "no answer within 5 working days" in text_of(lapsed_for_manager[0])
    _refused("This request lapsed on 2 April 2027", answer_approval, booking, AGREE)


# ---------------------------------------------------------------- cancelling


def test_cancelling_in_good_time_is_free_and_sends_a_cancelling_invitation(
        app, make_user, make_session, set_now, mailbox, deliver):
    # 22 March start, 5 working days' notice: the last free day is Monday 15 March.
    set_now(datetime(2027, 3, 15, 17, 0))
    session = make_session(capacity=10)
    person = make_user()
    booking = _book(session, person)
    cancel_booking(booking, person, "Court hearing")
    db.session.commit()
    assert booking.status == CANCELLED and not booking.late_cancellation
    assert booking.cancellation_reason == "Court hearing"
    deliver()
    cancelled = mailbox.to(person.email)[-1]
    assert subject(cancelled) == "Booking cancelled: Safeguarding Level 3 on 22 March 2027"
    [(content_type, calendar)] = invites(cancelled)
    assert content_type == "CANCEL" and calendar["METHOD"] == "CANCEL"
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_cancelling_inside_the_notice_period_is_late(app, make_user, make_session, set_now, mailbox, deliver):
    set_now(datetime(2027, 3, 16, 9, 0))
    session = make_session(capacity=10)
    person = make_user()
    booking = _book(session, person)
    cancel_booking(booking, person)
    db.session.commit()
    assert booking.late_cancellation is True
    assert "late cancellation" in booking.events[-1].reason
    deliver()
    assert "counts as a late cancellation" in text_of(mailbox.to(person.email)[-1])


def test_leaving_the_waiting_list_is_never_late_and_sends_no_invitation(
        app, make_user, make_session, set_now, mailbox, deliver):
    set_now(datetime(2027, 3, 19, 9, 0))
    session = make_session(capacity=0)
    person = make_user()
    booking = _book(session, person)
    cancel_booking(booking, person)
    db.session.commit()
    assert booking.status == CANCELLED and not booking.late_cancellation
    deliver()
    message = mailbox.to(person.email)[-1]
    assert subject(message).startswith("You have left the waiting list") and invites(message) == []


def test_only_the_person_or_an_administrator_cancels_and_never_after_the_start(
        app, now, make_user, make_session, set_now):
    session = make_session(capacity=10)
    person, stranger, admin = make_user(), make_user(), make_user(roles=("admin",))
    booking = _book(session, person)
    _refused("You can only cancel your own booking.", cancel_booking, booking, stranger)
    set_now(START + timedelta(minutes=1))
    _refused("This session has already started", cancel_booking, booking, person)
    set_now(NOW)
    cancel_booking(booking, admin, "Phoned in")
    db.session.commit()
    assert booking.events[-1].reason == "Cancelled by the L&D team: Phoned in"
    _refused("This booking cannot be cancelled: it is cancelled.", cancel_booking, booking, person)


# ---------------------------------------------------------------- sending a colleague


def test_cancelling_a_place_held_for_the_manager_sends_no_calendar_and_tells_the_manager(
        app, now, make_user, make_session, make_course, mailbox, deliver):
    session = _approval_session(make_session, make_course)
    person = make_user(name="Lena Marchbank", email="lena@example.org", line_manager_email="morag@example.org")
    booking = _book(session, person)
    cancel_booking(booking, person, "Diary clash")
    db.session.commit()
    deliver()
    cancelled = mailbox.to("lena@example.org")[-1]
    assert subject(cancelled).startswith("Booking cancelled")
    assert invites(cancelled) == [], "no invitation was ever sent, so there is none to cancel"
    assert "attachment" not in text_of(cancelled)
    told = mailbox.to("morag@example.org")[-1]
    assert subject(told) == ("No answer needed: Lena Marchbank’s place is cancelled "
                             "(Safeguarding Level 3 on 22 March 2027)")
    assert "Lena Marchbank has cancelled their place" in text_of(told)
    assert "The links in our earlier e-mail no longer work" in text_of(told)
    # Delivering again sends nothing twice.
    count = len(mailbox.to("morag@example.org"))
    deliver()
    assert len(mailbox.to("morag@example.org")) == count


def test_the_manager_is_told_when_the_l_and_d_team_cancels_a_place_awaiting_them(
        app, now, make_user, make_session, make_course, mailbox, deliver):
    session = _approval_session(make_session, make_course)
    person = make_user(name="Lena Marchbank", line_manager_email="morag@example.org")
    booking = _book(session, person)
    cancel_booking(booking, make_user(roles=("admin",)), "Left the service")
    db.session.commit()
    deliver()
    assert "The L&D team has cancelled Lena Marchbank's place" in text_of(mailbox.to("morag@example.org")[-1])


def test_a_confirmed_place_cancelled_does_not_write_to_the_manager(
        app, now, make_user, make_session, make_course, mailbox, deliver):
    session = _approval_session(make_session, make_course)
    person = make_user(line_manager_email="morag@example.org")
    booking = _book(session, person)
    answer_approval(booking, AGREE)
    db.session.commit()
    cancel_booking(booking, person)
    db.session.commit()
    deliver()
    assert not any(subject(m).startswith("No answer needed") for m in mailbox.to("morag@example.org"))
    assert invites(mailbox.to(person.email)[-1])[0][1]["METHOD"] == "CANCEL"


def test_passing_on_or_losing_a_held_place_cancels_no_invitation_never_sent(
        app, now, make_user, make_agency, make_session, make_course, mailbox, deliver):
    agency = make_agency()
    session = _approval_session(make_session, make_course)
    person, colleague, other = (make_user(agency=agency) for _ in range(3))
    booking = _book(session, person)
    substitute_colleague(booking, colleague, person)
    db.session.commit()
    _book(session, other)
    session.status, session.sequence = SESSION_CANCELLED, 1
    db.session.add(SessionChange(session_id=session.id, kind="cancelled", sequence=1))
    db.session.commit()
    run_jobs("notify_session_changes")
    deliver()
    passed_on = mailbox.to(person.email)[-1]
    assert subject(passed_on).startswith("Your place has passed to")
    assert invites(passed_on) == [] and "attachment" not in text_of(passed_on)
    for someone in (colleague, other):
        told = mailbox.to(someone.email)[-1]
        assert subject(told).startswith("Session cancelled")
        assert invites(told) == [] and "attachment" not in text_of(told)


def test_a_colleague_from_the_same_agency_takes_the_place_in_the_same_pool(
        app, now, make_user, make_agency, make_session, mailbox, deliver):
    police = make_agency(sector="Police")
    session = make_session(capacity=2, reservations=[(police.sector, 1)], reservation_release_days=7)
    person = make_user(name="Olu Dunmore", agency=police)
    colleague = make_user(name="Kasia Rowbotham", agency=police)
    booking = _book(session, person)

    new = substitute_colleague(booking, colleague, person)
    db.session.commit()
    assert booking.status == TRANSFERRED and not booking.late_cancellation
    assert (new.user_id, new.status, new.reservation_id) == (colleague.id, CONFIRMED, booking.reservation_id)
    assert booking.events[-1].reason == "Place passed to Kasia Rowbotham"
    assert new.events[-1].reason == "Place passed on by Olu Dunmore"
    assert availability_for([session])[session.id].taken == 1

    deliver()
    out = mailbox.to(person.email)[-1]
    assert subject(out).startswith("Your place has passed to Kasia Rowbotham")
    assert invites(out)[0][1]["METHOD"] == "CANCEL"
    incoming = mailbox.to(colleague.email)[-1]
    assert subject(incoming).startswith("Olu Dunmore has passed you their place")
    assert invites(incoming)[0][1]["METHOD"] == "REQUEST"


def test_passing_a_place_is_refused_for_other_agencies_and_ineligible_colleagues(
        app, now, make_user, make_agency, make_session, make_course, set_now):
    agency = make_agency()
    course = make_course()
    session = make_session(course=course, booking_closes_at=NOW + timedelta(days=1), capacity=10)
    person = make_user(agency=agency)
    booking = _book(session, person)
    outsider = make_user(name="Outside Person")
    elsewhere = _refused("We cannot find an account", substitute_colleague, booking, outsider,
                         person)
    unknown = _refused("We cannot find an account", substitute_colleague, booking, None, person)
    assert elsewhere.message == unknown.message and "Outside Person" not in elsewhere.message
    _refused("Enter your colleague’s e-mail address, not your own", substitute_colleague,
             booking, person, person)
    unverified = make_user(name="New Starter", agency=agency, verified=False)
    _refused("New Starter has not confirmed their e-mail address", substitute_colleague,
             booking, unverified, person)
    already = make_user(name="Booked Elsewhere", agency=agency)
    _book(make_session(course=course, starts_at=START + timedelta(days=7), capacity=10), already)
    _refused("Booked Elsewhere already has a place on this course", substitute_colleague,
             booking, already, person)

    # The booking window does not apply to a colleague taking a place.
    set_now(NOW + timedelta(days=2))
    colleague = make_user(agency=agency)
    assert substitute_colleague(booking, colleague, person).status == CONFIRMED


# ---------------------------------------------------------------- the L&D team


def test_an_administrator_books_on_behalf_ignoring_the_window_but_not_capacity_unless_overbooking(
        app, now, make_user, make_session):
    admin = make_user(roles=("admin",))
    session = make_session(capacity=1, booking_closes_at=NOW - timedelta(days=1))
    first, second, third = make_user(), make_user(), make_user()
    _refused("Booking for this session closed", book_place, session, first, first)

    booking = book_place(session, first, admin, on_behalf=True)
    assert booking.status == CONFIRMED and booking.booked_by_id == admin.id
    assert book_place(session, second, admin, on_behalf=True).status == WAITING
    over = book_place(session, third, admin, on_behalf=True, overbook=True)
    db.session.commit()
    assert over.status == CONFIRMED and over.overbooked is True
    assert "overbooked" in over.events[-1].reason
    assert availability_for([session])[session.id].taken == 2


def test_an_administrator_can_record_the_managers_agreement(app, now, make_user, make_session, make_course):
    admin = make_user(roles=("admin",))
    session = _approval_session(make_session, make_course)
    booking = book_place(session, make_user(), admin, on_behalf=True, manager_agreed=True)
    assert booking.status == CONFIRMED and booking.approved_at == NOW
    assert "agreement recorded by the L&D team" in booking.events[-1].reason


def test_an_administrator_moves_a_booking_to_another_date(
        app, now, make_user, make_session, make_course, mailbox, deliver):
    admin = make_user(roles=("admin",))
    course = make_course()
    old = make_session(course=course, capacity=1)
    new_date = make_session(course=course, capacity=1, starts_at=START + timedelta(days=14))
    person, waiting, other = make_user(), make_user(), make_user()
    booking = _book(old, person)
    _book(old, waiting)
    _book(new_date, other)  # the new date is now full
    _refused("The new session has no place for them. Tick ‘overbook’", move_booking,
             booking, new_date, admin)
    _refused("only move to another session of the same course", move_booking,
             db.session.get(Booking, booking.id), make_session(capacity=10), admin)

    moved = move_booking(db.session.get(Booking, booking.id), new_date, admin, overbook=True)
    db.session.commit()
    assert moved.session_id == new_date.id and moved.status == CONFIRMED and moved.overbooked
    assert _states(old) == {person.name: CANCELLED, waiting.name: CONFIRMED}
    assert "Moved to the session on 5 April 2027" in db.session.get(Booking, booking.id).events[-1].reason
    deliver()
    message = next(m for m in mailbox.to(person.email) if subject(m).startswith("Your booking has moved"))
    [(_, invite)] = invites(message)
    assert invite["METHOD"] == "REQUEST" and new_date.parts[0].id == _part_id(invite)
    # One iTIP method per message: the old date is cancelled in a message of its own.
    [removal] = [m for m in mailbox.to(person.email) if subject(m).startswith("Cancelled: ")]
    [(_, cancel)] = invites(removal)
    assert cancel["METHOD"] == "CANCEL" and old.parts[0].id == _part_id(cancel)


def _part_id(calendar) -> int:
    [event] = calendar.walk("VEVENT")
    return int(str(event["UID"]).split("@")[0].rsplit("-", 1)[1])


def test_cancelled_session_bookings_are_cancelled_without_charge_and_everyone_is_told(
        app, make_user, make_session, set_now, mailbox, deliver):
    set_now(datetime(2027, 3, 19, 9, 0))  # inside the notice period: still no charge
    session = make_session(capacity=1)
    booked, waiting = make_user(), make_user()
    _book(session, booked)
    _book(session, waiting)
    session.status, session.cancellation_reason, session.sequence = SESSION_CANCELLED, "The trainer is ill.", 1
    db.session.add(SessionChange(session_id=session.id, kind="cancelled", sequence=1))
    db.session.commit()

    assert run_jobs("notify_session_changes") == {"notify_session_changes": "2 bookings told"}
    assert run_jobs("notify_session_changes") == {"notify_session_changes": "0 bookings told"}
    assert _states(session) == {booked.name: CANCELLED, waiting.name: CANCELLED}
    assert not any(b.late_cancellation for b in db.session.scalars(select(Booking)))
    assert db.session.scalar(select(SessionChange)).notified_at is not None
    deliver()
    [message] = mailbox.to(booked.email)[-1:]
    assert subject(message) == "Session cancelled: Safeguarding Level 3 on 22 March 2027"
    assert "The trainer is ill." in text_of(message)
    [(content_type, calendar)] = invites(message)
    assert content_type == "CANCEL" and int(calendar.walk("VEVENT")[0]["SEQUENCE"]) == 1
    waiting_message = mailbox.to(waiting.email)[-1]
    assert subject(waiting_message).startswith("Session cancelled") and invites(waiting_message) == []


def test_changed_sessions_send_an_updated_invitation_with_a_higher_sequence_once(
        app, now, make_user, make_session, mailbox, deliver):
    session = make_session(capacity=1)
    booked, waiting = make_user(), make_user()
    _book(session, booked)
    _book(session, waiting)
    session.starts_at = START + timedelta(hours=1)
    session.parts[0].starts_at = START + timedelta(hours=1)
    session.sequence = 2
    db.session.add(SessionChange(session_id=session.id, kind="time", sequence=2,
                                 detail="The start time is now 10:30am."))
    db.session.commit()
    run_jobs("notify_session_changes")
    run_jobs("notify_session_changes")
    deliver()
    changed = [m for m in mailbox.to(booked.email) if subject(m).startswith("Session changed")]
    assert len(changed) == 1
    assert "The start time is now 10:30am." in text_of(changed[0])
    [(_, calendar)] = invites(changed[0])
    assert calendar["METHOD"] == "REQUEST" and int(calendar.walk("VEVENT")[0]["SEQUENCE"]) == 2
    waiting_changed = [m for m in mailbox.to(waiting.email) if subject(m).startswith("Session changed")]
    assert len(waiting_changed) == 1 and invites(waiting_changed[0]) == []


# ---------------------------------------------------------------- reminders


def test_reminders_go_seven_days_and_one_day_before_to_confirmed_people_only_once(
        app, make_user, make_session, make_course, set_now, mailbox, deliver):
    set_now(NOW)
    session = make_session(venue=None, online_url="https://meet.example/abc",
                           joining_instructions="Join ten minutes early.", capacity=10)
    confirmed = make_user()
    _book(session, confirmed)
    awaiting_session = _approval_session(make_session, make_course)
    awaiting = make_user()
    _book(awaiting_session, awaiting)
    deliver()
    mailbox.clear()

    set_now(START - timedelta(days=7))
    assert run_jobs("send_booking_reminders") == {"send_booking_reminders": "1 reminders"}
    assert run_jobs("send_booking_reminders") == {"send_booking_reminders": "0 reminders"}
    set_now(START - timedelta(hours=20))
    assert run_jobs("send_booking_reminders") == {"send_booking_reminders": "1 reminders"}
    deliver()
    subjects = [subject(m) for m in mailbox.to(confirmed.email)]
    assert subjects == ["Reminder: Safeguarding Level 3 in 7 days", "Reminder: Safeguarding Level 3 tomorrow"]
    body = text_of(mailbox.to(confirmed.email)[0])
    assert "Join online: https://meet.example/abc" in body and "Join ten minutes early." in body
    assert mailbox.to(awaiting.email) == []


def test_no_seven_day_reminder_for_a_place_confirmed_inside_the_week(app, make_user, make_session, set_now):
    session = make_session(capacity=10)
    set_now(START - timedelta(days=3))
    _book(session, make_user())
    assert send_reminders() == 0


def test_the_online_link_goes_only_to_confirmed_people(
        app, now, make_user, make_session, mailbox, deliver):
    session = make_session(capacity=1, venue=None, online_url="https://meet.example/secret")
    confirmed, waiting = make_user(), make_user()
    _book(session, confirmed)
    _book(session, waiting)
    deliver()
    assert "https://meet.example/secret" in text_of(mailbox.to(confirmed.email)[0])
    assert "https://meet.example/secret" not in text_of(mailbox.to(waiting.email)[0])


# ---------------------------------------------------------------- completions and the calendar


def test_people_record_online_courses_and_the_l_and_d_team_checks_them(app, now, make_user, make_course):
    person, admin = make_user(), make_user(roles=("admin",))
    online, classroom = make_course("Level 1 and 2", is_online=True), make_course("Level 3")
    _refused("Choose the online course", record_completion, person, classroom, date(2027, 2, 1), "", person)
    _refused("must be today or in the past", record_completion, person, online, date(2027, 3, 2), "",
             person)
    completion = record_completion(person, online, date(2027, 2, 1), "ELN-1", person)
    db.session.commit()
    _refused("already recorded this course on that date", record_completion, person, online,
             date(2027, 2, 1), "", person)
    assert completion.source == "self_recorded" and completion.checked_at is None
    completion = db.session.get(Completion, completion.id)
    check_completion(completion, admin)
    assert (completion.checked_by_id, completion.checked_at) == (admin.id, NOW)
    _refused("already been checked", check_completion, completion, admin)


def test_the_calendar_feed_shows_places_held_with_the_link_for_confirmed_only(
        app, now, make_user, make_session, make_course):
    person = make_user()
    confirmed = make_session(venue=None, online_url="https://meet.example/x", capacity=10)
    awaiting = _approval_session(make_session, make_course)
    waiting = make_session(capacity=0)
    for session in (confirmed, awaiting, waiting):
        _book(session, person)
    entries = calendar_entries(person)
    assert [(e.session.id, e.joining_link, e.tentative) for e in entries] == [
        (confirmed.id, True, False), (awaiting.id, False, True)]
    old = person.calendar_token
    reset_calendar_token(person)
    assert person.calendar_token != old and len(person.calendar_token) >= 32


def test_place_for_prefers_the_agency_pool_then_the_sector_pool_then_general(
        app, now, make_user, make_agency, make_session):
    police = make_agency(sector="Police")
    session = make_session(capacity=4, reservations=[(police, 1), (police.sector, 1)], reservation_release_days=7)
    agency_pool, sector_pool = session.reservations
    officers = [make_user(agency=police) for _ in range(4)]
    reservation_ids = [_book(session, o).reservation_id for o in officers]
    assert reservation_ids == [agency_pool.id, sector_pool.id, None, None]


def test_unused_places_are_not_held_after_the_start_moves_into_the_release_window(
        app, now, make_user, make_agency, make_session, set_now):
    health, police = make_agency(sector="Health - acute"), make_agency(sector="Police")
    session = make_session(capacity=2, reservations=[(health.sector, 1)], reservation_release_days=7)
    _book(session, make_user(agency=police))
    set_now(START - timedelta(days=6))
    assert _book(session, make_user(agency=police)).status == CONFIRMED
    assert availability_for([session])[session.id].left == 0
    assert utcnow() < START


# ---------------------------------------------------------------- learning done elsewhere and overrides


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_learning_done_elsewhere_counts_for_a_prerequisite_only_once_accepted_and_the_person_is_told(
        app, now, make_user, make_session, make_course, mailbox, deliver):
    level2 = make_course("Safeguarding Level 1 and 2 (online)", is_online=True)
    session = make_session(course=make_course("Safeguarding Level 3", prerequisites=(level2,)), capacity=10)
    person, admin = make_user(email="nurse@example.org"), make_user(roles=("admin",))
    needs = "You need to complete Safeguarding Level 1 and 2 (online) before booking this course."

    pending = record_prior_learning(person, level2, "Northbridge NHS Trust", date(2026, 6, 1),
                                    "Trust e-learning, certificate T-42", person,
                                    certificate=("My cert.pdf", PDF))
    db.session.commit()
    assert (pending.certificate_name, pending.certificate_type) == ("My cert.pdf", "application/pdf")
    _refused(needs + " The training you recorded from elsewhere is waiting for the L&D team to check it.",
             book_place, session, person, person)

    decide_prior_learning(pending, False, "The certificate is for Level 1 only", admin)
    db.session.commit()
    assert "waiting for the L&D team" not in _refused(needs, book_place, session, person, person).message
    deliver()
    [refusal] = mailbox.to(person.email)
    assert subject(refusal).startswith("Not accepted: your Safeguarding Level 1 and 2 (online)")
    assert "Why: The certificate is for Level 1 only" in text_of(refusal)

    again = record_prior_learning(person, level2, "Northbridge NHS Trust", date(2026, 7, 1),
                                  "Level 2 certificate T-43", person)
    db.session.commit()
    decide_prior_learning(again, True, "", admin)
    db.session.commit()
    deliver()
    accepted = mailbox.to(person.email)[-1]
    assert _book(session, person).status == CONFIRMED
    assert subject(accepted).startswith("Accepted: your Safeguarding Level 1 and 2 (online)")
    assert "It now counts for courses that need Safeguarding Level 1 and 2 (online) first" in text_of(accepted)


def test_learning_done_elsewhere_is_refused_without_its_evidence_or_with_a_wrong_file(
        app, now, make_user, make_course):
    person, admin = make_user(), make_user(roles=("admin",))
    course = make_course("Safeguarding Level 3")
    record = record_prior_learning
    _refused("Enter who provided the training", record, person, course, " ", date(2027, 2, 1), "x", person)
    _refused("Describe the training", record, person, course, "Trust", date(2027, 2, 1), " ", person)
    _refused("must be today or in the past", record, person, course, "Trust", date(2027, 3, 2), "x", person)
    _refused("must be a PDF, PNG or JPEG", record, person, course, "Trust", date(2027, 2, 1), "x", person,
             certificate=("cert.pdf", b"<html>not a pdf</html>"))
    _refused("5 MB or smaller", record, person, course, "Trust", date(2027, 2, 1), "x", person,
             certificate=("cert.pdf", PDF + b"0" * (5 * 1024 * 1024)))
    completion = record(person, course, "Trust", date(2027, 2, 1), "Level 3 day", person,
                        certificate=("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20))
    db.session.commit()
    assert (completion.certificate_name, completion.certificate_type) == ("scan.png", "image/png")
    _refused("Accept or reject learning done elsewhere", check_completion, completion, admin)
    _refused("Say why it is not accepted", decide_prior_learning, completion, False, " ", admin)
    decide_prior_learning(completion, True, "", admin)
    db.session.commit()
    _refused("already been checked", decide_prior_learning, completion, False, "no", admin)


def test_the_l_and_d_team_can_book_someone_without_a_prerequisite_giving_a_reason(
        app, now, make_user, make_session, make_course):
    level2 = make_course("Safeguarding Level 1 and 2 (online)", is_online=True)
    session = make_session(course=make_course("Safeguarding Level 3", prerequisites=(level2,)), capacity=10)
    person, admin = make_user(), make_user(roles=("admin",))
    _refused("needs to complete Safeguarding Level 1 and 2 (online)", book_place, session, person, admin,
             on_behalf=True)

    booking = book_place(session, person, admin, on_behalf=True,
                         prerequisite_override="Level 2 done with the trust; certificate seen")
    db.session.commit()
    assert booking.status == CONFIRMED
    assert booking.events[-1].reason == (
        "Booked by the L&D team; prerequisite Safeguarding Level 1 and 2 (online) overridden by the L&D team: "
        "Level 2 done with the trust; certificate seen")


def test_a_learner_cannot_override_a_prerequisite(app, now, make_user, make_session, make_course):
    level2 = make_course("Safeguarding Level 1 and 2 (online)", is_online=True)
    session = make_session(course=make_course("Safeguarding Level 3", prerequisites=(level2,)), capacity=10)
    person = make_user()
    _refused("Only the L&D team can book someone without a prerequisite", book_place, session, person,
             person, prerequisite_override="I did it at my trust")
    _refused("Only the L&D team can book someone without a prerequisite", book_place, session, person,
             person, on_behalf=True, prerequisite_override="I did it at my trust")
    assert _states(session) == {}
