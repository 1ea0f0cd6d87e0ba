"""Waiting-list offers: a freed place held for the first waiting person, who takes it or lets it pass."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.bookings.errors import BookingError
from app.bookings.models import AWAITING_APPROVAL, CANCELLED, CONFIRMED, OFFERED, WAITING, Booking
from app.bookings.moves import substitute_colleague
from app.bookings.offer_links import ACCEPT, booking_for_offer, offer_token
from app.bookings.offers import accept_offer, decline_offer, expire_offer
from app.bookings.places import availability_for
from app.bookings.waiting_list import promote_booking
from app.accounts.tokens import LinkError
from app.attendance.register import register_bookings
from app.email import OutboxMessage
from app.extensions import db
from app.jobs import run_jobs
from app.locking import write_intent
from tests.bookings.conftest import NOW, subject, text_of


def _book(session, person):
    booking = book_place(session, person, person)
    db.session.commit()
    return booking


def _states(session) -> dict[str, str]:
    return {b.user.name: b.status for b in db.session.scalars(
        select(Booking).where(Booking.session_id == session.id).execution_options(populate_existing=True))}


@pytest.fixture
def full(now, make_course, make_session, make_user):
    """A one-place session of a course that uses offers: Ada holds the place, Ben then Cleo wait."""

    made = {"n": 0}

    def _make(*, manager: bool = False, hours: int = 24, starts_at=None):
        made["n"] += 1
        suffix = "" if made["n"] == 1 else str(made["n"])
        course = make_course(uses_offers=True, offer_hours=hours, requires_manager_approval=manager)
        session = make_session(course, capacity=1, **({"starts_at": starts_at} if starts_at else {}))
        people = [make_user(name=n, email=f"{n.lower()}{suffix}@example.org") for n in ("Ada", "Ben", "Cleo")]
        bookings = [_book(session, p) for p in people]
        return session, bookings

    return _make


def test_a_freed_place_is_offered_to_the_first_waiting_person_held_for_them_and_emailed(
        app, full, mailbox, deliver, make_user):
    session, (ada, ben, cleo) = full()
    cancel_booking(ada, ada.user)
    db.session.commit()

    assert _states(session) == {"Ada": CANCELLED, "Ben": OFFERED, "Cleo": WAITING}
    ben = db.session.get(Booking, ben.id)
    assert ben.offer_expires_at == NOW + timedelta(hours=24)
    assert "offered from the waiting list" in ben.events[-1].reason
    # The offered place is held: nobody else can take it.
    assert availability_for([session])[session.id].left == 0
    newcomer = make_user(name="Dev")
    assert _book(session, newcomer).status == WAITING

    deliver()
    [message] = [m for m in mailbox.to("ben@example.org") if "offered" in subject(m)]
    assert subject(message) == "A place is offered to you: Safeguarding Level 3 on 22 March 2027"
    links = re.findall(r"https?://\S+/offers/\S+", text_of(message))
    assert len(links) == 2 and "not be charged" in text_of(message)


def test_accepting_confirms_the_place_with_an_invitation(app, full, mailbox, deliver):
    session, (ada, ben, _cleo) = full()
    cancel_booking(ada, ada.user)
    db.session.commit()

    booking = accept_offer(db.session.get(Booking, ben.id))
    db.session.commit()
    assert booking.status == CONFIRMED and booking.offer_expires_at is None and booking.confirmed_at == NOW
    assert booking.events[-1].reason == "Accepted the offered place"
    deliver()
    assert any(subject(m).startswith("Booking confirmed") for m in mailbox.to("ben@example.org"))


def test_accepting_where_the_course_needs_the_manager_holds_the_place_and_asks_them(app, full, mailbox, deliver):
    session, (ada, ben, _cleo) = full(manager=True)
    # Ada's place awaits her manager; she cancels it, so Ben is offered it.
    cancel_booking(ada, ada.user)
    db.session.commit()
    assert _states(session)["Ben"] == OFFERED

    booking = accept_offer(db.session.get(Booking, ben.id))
    db.session.commit()
    assert booking.status == AWAITING_APPROVAL and booking.approval_due_at is not None
    deliver()
    manager = booking.user.line_manager_email
    assert any("Please agree" in subject(m) for m in mailbox.to(manager))


def test_declining_leaves_the_waiting_list_and_offers_the_place_to_the_next(app, full, mailbox, deliver):
    session, (ada, ben, cleo) = full()
    cancel_booking(ada, ada.user)
    db.session.commit()

    decline_offer(db.session.get(Booking, ben.id))
    db.session.commit()
    assert _states(session) == {"Ada": CANCELLED, "Ben": CANCELLED, "Cleo": OFFERED}
    deliver()
    assert any(subject(m).startswith("You turned down the place") for m in mailbox.to("ben@example.org"))
    assert any(subject(m).startswith("A place is offered to you") for m in mailbox.to("cleo@example.org"))


def test_an_unanswered_offer_expires_by_the_job_back_to_the_end_of_the_list(app, full, set_now, mailbox, deliver):
    session, (ada, ben, cleo) = full(hours=12)
    cancel_booking(ada, ada.user)
    db.session.commit()

    set_now(NOW + timedelta(hours=11, minutes=59))
    assert expire_offer(db.session.get(Booking, ben.id)) is False  # not yet
    db.session.rollback()
    set_now(NOW + timedelta(hours=12))
    assert run_jobs("expire_offers")["expire_offers"] == "1 offers expired"

    assert _states(session) == {"Ada": CANCELLED, "Ben": WAITING, "Cleo": OFFERED}
    ben = db.session.get(Booking, ben.id)
    cleo = db.session.get(Booking, cleo.id)
    assert ben.waiting_since > cleo.waiting_since  # Ben is now behind Cleo
    deliver()
    assert any(subject(m).startswith("The offer of a place has ended") for m in mailbox.to("ben@example.org"))
    # Answering the expired offer is refused with the reason.
    with pytest.raises(BookingError) as refused:
        accept_offer(ben)
    db.session.rollback()
    assert "no longer applies" in refused.value.message


def test_an_offer_never_outlasts_the_start_and_none_is_made_within_24_hours(app, full, set_now):
    session, (ada, ben, _cleo) = full(hours=168, starts_at=NOW + timedelta(days=3))
    cancel_booking(ada, ada.user)
    db.session.commit()
    assert db.session.get(Booking, ben.id).offer_expires_at == session.starts_at  # a week, capped at 3 days

    session2, (ada2, ben2, _c) = full(hours=24)
    set_now(session2.starts_at - timedelta(hours=23))
    cancel_booking(ada2, ada2.user)
    db.session.commit()
    assert db.session.get(Booking, ben2.id).status == WAITING  # the L&D team is told instead


def test_an_offered_place_cannot_be_passed_to_a_colleague_and_links_name_one_offer(app, full, make_user):
    session, (ada, ben, _cleo) = full()
    cancel_booking(ada, ada.user)
    db.session.commit()
    ben = db.session.get(Booking, ben.id)
    colleague = make_user(name="Eve", agency=ben.user.agency)
    with pytest.raises(BookingError) as refused:
        substitute_colleague(ben, colleague, ben.user)
    db.session.rollback()
    assert "accept it first" in refused.value.message

    token = offer_token(ben, ACCEPT)
    assert booking_for_offer(token) == (ben, ACCEPT)
    with pytest.raises(LinkError):
        booking_for_offer(token[:-2] + "xx")
    # Someone else signed in cannot answer it.
    with pytest.raises(BookingError):
        accept_offer(ben, colleague)
    db.session.rollback()


def test_no_show_charges_never_reach_a_place_only_offered(app, full):
    """The register lists confirmed places only, so an offer never becomes a no-show."""
    session, (ada, ben, _cleo) = full()
    cancel_booking(ada, ada.user)
    db.session.commit()
    assert db.session.get(Booking, ben.id).status == OFFERED
    assert [b.user.name for b in register_bookings(session)] == []


def test_accepting_and_expiring_at_once_only_one_wins(app, full, set_now):
    """Two transactions at the same moment, one accepting (just in time, by the clock it read) and the
    job expiring it: the session lock puts them one after the other, and the second sees the first."""
    session, (ada, ben, cleo) = full(hours=1)
    cancel_booking(ada, ada.user)
    db.session.commit()
    ben_id = ben.id
    set_now(NOW + timedelta(hours=1))  # the moment it expires
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def accept():
        with app.app_context():
            booking = db.session.get(Booking, ben_id)
            db.session.commit()  # read outside the race; the rule reads it again under the lock
            barrier.wait(timeout=30)
            try:
                with write_intent():
                    accept_offer(booking)
                    db.session.commit()
                outcomes["accept"] = True
            except BookingError as exc:
                db.session.rollback()
                outcomes["accept"] = exc.message

    def expire():
        with app.app_context():
            booking = db.session.get(Booking, ben_id)
            db.session.commit()  # read outside the race; the rule reads it again under the lock
            barrier.wait(timeout=30)
            with write_intent():
                outcomes["expire"] = expire_offer(booking)
                db.session.commit()

    threads = [threading.Thread(target=f) for f in (accept, expire)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.commit()  # end our read transaction: see what the threads committed
    states = _states(session)
    # At the expiry moment the offer has ended: the job wins and the accept is refused, whatever the order.
    assert outcomes["expire"] is True and outcomes["accept"] != True  # noqa: E712
    assert states == {"Ada": CANCELLED, "Ben": WAITING, "Cleo": OFFERED}
    assert sum(1 for s in states.values() if s in (CONFIRMED, OFFERED)) == 1  # never two holding one place


def test_accepting_just_before_expiry_while_the_job_runs_keeps_one_place(app, full, set_now):
    session, (ada, ben, cleo) = full(hours=1)
    cancel_booking(ada, ada.user)
    db.session.commit()
    ben_id = ben.id
    set_now(NOW + timedelta(minutes=59))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def accept():
        with app.app_context():
            booking = db.session.get(Booking, ben_id)
            db.session.commit()  # read outside the race; the rule reads it again under the lock
            barrier.wait(timeout=30)
            with write_intent():
                accept_offer(booking)
                db.session.commit()
            outcomes["accept"] = True

    def expire():
        with app.app_context():
            booking = db.session.get(Booking, ben_id)
            db.session.commit()  # read outside the race; the rule reads it again under the lock
            barrier.wait(timeout=30)
            with write_intent():
                outcomes["expire"] = expire_offer(booking)
                db.session.commit()

    threads = [threading.Thread(target=f) for f in (accept, expire)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.commit()  # end our read transaction: see what the threads committed
    assert outcomes == {"accept": True, "expire": False}
    assert _states(session) == {"Ada": CANCELLED, "Ben": CONFIRMED, "Cleo": WAITING}
    keys = db.session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len(keys) == len(set(keys))


def test_the_offer_page_answers_only_by_its_button_and_refuses_a_bad_or_used_link(app, full, client):
    session, (ada, ben, _cleo) = full()
    cancel_booking(ada, ada.user)
    db.session.commit()
    ben = db.session.get(Booking, ben.id)
    token = offer_token(ben, ACCEPT)

    response = client.get("/offers/not-a-token")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    page = client.get(f"/offers/{token}").get_data(as_text=True)
    assert "Take the place" in page and "Opening this page has not answered anything" in page
    assert db.session.get(Booking, ben.id).status == OFFERED
    page = client.post(f"/offers/{token}", data={}).get_data(as_text=True)
    assert "You have taken the place" in page
    db.session.commit()
    assert db.session.get(Booking, ben.id).status == CONFIRMED
    # The link names an offer that has ended: it says so instead of answering again.
    response = client.post(f"/offers/{token}", data={})
    assert response.status_code == 400 and "earlier offer" in response.get_data(as_text=True)


def test_the_l_and_d_team_can_give_an_offered_place_outright_without_using_another(app, full, make_user):
    session, (ada, ben, _cleo) = full()
    cancel_booking(ada, ada.user)
    db.session.commit()
    admin = make_user(roles=("admin",))
    booking = promote_booking(db.session.get(Booking, ben.id), admin)
    db.session.commit()
    assert booking.status == CONFIRMED and booking.offer_expires_at is None and not booking.overbooked
    assert _states(session) == {"Ada": CANCELLED, "Ben": CONFIRMED, "Cleo": WAITING}
    assert availability_for([session])[session.id].left == 0
