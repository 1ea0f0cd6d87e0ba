"""A new line manager takes over the places waiting for the old one's agreement."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from app.accounts import details
from app.accounts.tokens import LinkError
from app.bookings import approvals
from app.bookings.booking import book_place
from app.bookings.errors import BookingError
from app.bookings.line_manager import answer_approval
from app.bookings.models import AWAITING_APPROVAL, CONFIRMED, Booking
from app.extensions import db
from tests.bookings.conftest import NOW, subject, text_of


def _approval_link(message) -> str:
    """The token of the agree link in a manager's e-mail."""
    line = next(line for line in text_of(message).splitlines()
                if "/approvals/" in line and line.strip().startswith("http"))
    return line.strip().rsplit("/", 1)[1]


def _held_place(make_user, make_session, make_course):
    session = make_session(course=make_course(requires_manager_approval=True), capacity=10)
    person = make_user(name="Lena Marchbank", email="lena@example.org",
                       line_manager_name="Morag Left", line_manager_email="morag@example.org")
    booking = book_place(session, person, person)
    db.session.commit()
    assert booking.status == AWAITING_APPROVAL
    return session, person, booking


def _new_manager(person, email="nadia@example.org"):
    change = details.change_own_details(
        person, name=person.name, job_title=person.job_title,
        line_manager_name="Nadia New", line_manager_email=email)
    db.session.commit()
    return change


def test_the_new_manager_is_asked_and_the_old_managers_link_stops_working(
        app, set_now, make_user, make_session, make_course, mailbox, deliver):
    set_now(NOW)
    session, person, booking = _held_place(make_user, make_session, make_course)
    deliver()
    old_token = _approval_link(mailbox.to("morag@example.org")[0])
    assert booking.approval_due_at == datetime(2027, 3, 8, 9, 0)

    set_now(datetime(2027, 3, 4, 14, 0))  # Thursday: the old request had two working days left
    change = _new_manager(person)
    assert [b.id for b in change.reasked] == [booking.id]
    db.session.refresh(booking)
    assert booking.status == AWAITING_APPROVAL and booking.manager_email == "nadia@example.org"
    assert booking.approval_due_at == datetime(2027, 3, 11, 14, 0), "five working days from now"
    assert booking.events[-1].reason == "Line manager changed: the new line manager was asked to agree"
    assert booking.events[-1].actor_id == person.id

    deliver()
    [asked] = mailbox.to("nadia@example.org")
    assert subject(asked).startswith("Please agree Lena Marchbank’s place")
    assert "11 March 2027" in text_of(asked)
    assert len(mailbox.to("morag@example.org")) == 1, "nothing more goes to the old manager"

    with pytest.raises(LinkError, match="earlier request that no longer applies"):
        approvals.booking_for_approval(old_token)
    found, decision = approvals.booking_for_approval(_approval_link(asked))
    answer_approval(found, decision)
    db.session.commit()
    assert booking.status == CONFIRMED
    assert "Line manager (nadia@example.org) agreed" in booking.events[-1].reason


def test_the_old_link_stops_even_when_the_change_comes_in_the_same_instant(
        app, set_now, make_user, make_session, make_course, mailbox, deliver):
    set_now(NOW)
    _, person, booking = _held_place(make_user, make_session, make_course)
    old_token = approvals.approval_token(booking, approvals.AGREE)
    _new_manager(person)
    with pytest.raises(LinkError):
        approvals.booking_for_approval(old_token)


def test_other_changes_and_other_bookings_are_left_alone(
        app, set_now, make_user, make_session, make_course, mailbox, deliver):
    set_now(NOW)
    _, person, held = _held_place(make_user, make_session, make_course)
    confirmed_session = make_session(capacity=10)
    confirmed = book_place(confirmed_session, person, person)
    db.session.commit()
    requested = held.approval_requested_at

    change = details.change_own_details(
        person, name="Lena Marchbank-Ode", job_title="Team leader",
        line_manager_name="Morag Renamed", line_manager_email="MORAG@example.org")
    db.session.commit()
    assert change.reasked == [] and "line_manager_email" not in change.fields
    db.session.refresh(held)
    assert held.approval_requested_at == requested
    assert confirmed.status == CONFIRMED

    _new_manager(person)
    bookings = {b.id: b for b in db.session.scalars(select(Booking))}
    assert bookings[confirmed.id].manager_email == "morag@example.org", "a confirmed place keeps its history"


def test_an_administrators_change_of_manager_moves_the_request_too(
        app, set_now, make_user, make_session, make_course, mailbox, deliver):
    set_now(NOW)
    admin = make_user(roles=("admin",))
    _, person, booking = _held_place(make_user, make_session, make_course)
    details.change_person_details(
        person, admin, name=person.name, email=person.email, job_title=person.job_title,
        agency=person.agency, line_manager_name="Nadia New", line_manager_email="nadia@example.org")
    db.session.commit()
    assert booking.manager_email == "nadia@example.org"
    assert booking.events[-1].actor_id == admin.id
    deliver()
    assert len(mailbox.to("nadia@example.org")) == 1


# ---------------------------------------------------------------- as people use it


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_changing_manager_on_the_account_page_sends_the_request_to_the_new_manager(
        app, set_now, client, login_as, make_user, make_session, make_course, mailbox, deliver):
    set_now(NOW)
    session, person, booking = _held_place(make_user, make_session, make_course)
    deliver()
    old_link = f"/approvals/{_approval_link(mailbox.to('morag@example.org')[0])}"
    assert "Agree to this place" in _page(client.get(old_link))

    login_as(person)
    done = client.post("/account/details", data={
        "name": person.name, "job_title": person.job_title, "line_manager_name": "Nadia New",
        "line_manager_email": "nadia@example.org"}, follow_redirects=True)
    assert ("We have asked your new line manager to agree to 1 place waiting for an answer; "
            "the links sent to the old manager no longer work.") in _page(done)

    deliver()
    [asked] = mailbox.to("nadia@example.org")
    assert subject(asked).startswith("Please agree Lena Marchbank’s place")
    refused = client.get(old_link)
    assert refused.status_code == 400
    assert "This link is for an earlier request that no longer applies." in _page(refused)
    manager = app.test_client()
    new_link = f"/approvals/{_approval_link(asked)}"
    assert "You have agreed" in _page(manager.post(new_link, data={}))
    db.session.refresh(booking)
    assert booking.status == CONFIRMED


def test_someone_without_a_manager_is_pointed_to_where_they_add_one_and_can_then_book(
        app, set_now, client, login_as, make_user, make_session, make_course, mailbox, deliver):
    set_now(NOW)
    session = make_session(course=make_course(requires_manager_approval=True), capacity=10)
    walk_in = make_user(name="Sam Walk", line_manager_name="", line_manager_email="")
    login_as(walk_in)
    page = _page(client.get(f"/sessions/{session.id}/book"))
    assert "Add their e-mail address on your account page" in page
    link = f"/account/details?next=/sessions/{session.id}/book#line_manager_name"
    assert f'href="{link}"' in page.replace("%2F", "/")

    done = client.post(f"/account/details?next=/sessions/{session.id}/book", data={
        "name": "Sam Walk", "job_title": "Youth worker", "line_manager_name": "Lee Lead",
        "line_manager_email": "lee@example.org"}, follow_redirects=True)
    page = _page(done)
    assert "Your details have been saved." in page and "Confirm booking" in page
    assert "Your line manager (lee@example.org) will be asked to agree" in page
    client.post(f"/sessions/{session.id}/book", data={"access_needs": ""})
    deliver()
    assert len(mailbox.to("lee@example.org")) == 1


def test_an_old_managers_answer_that_races_the_change_is_refused_under_the_lock(
        app, set_now, make_user, make_session, make_course):
    set_now(NOW)
    _, person, booking = _held_place(make_user, make_session, make_course)
    # The old manager's link was read (and found current); before the answer takes the session lock,
    # another request asks a new manager (written beneath the loaded booking, as a concurrent
    # transaction's commit would be seen once the lock is taken).
    found, decision = approvals.booking_for_approval(approvals.approval_token(booking, approvals.AGREE))
    db.session.execute(
        Booking.__table__.update().where(Booking.id == booking.id)
        .values(approval_requested_at=datetime(2027, 3, 4, 14, 0), manager_email="nadia@example.org"))
    with pytest.raises(BookingError, match="earlier request that no longer applies"):
        answer_approval(found, decision)
    db.session.rollback()
    db.session.refresh(booking)
    assert booking.status == AWAITING_APPROVAL
