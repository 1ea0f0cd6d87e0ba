"""Booking pages as people use them: book, my bookings, cancel, pass on, the calendar feed, the
manager's links, and the L&D team's screens."""
from __future__ import annotations

import re
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from app.attendance.walk_ins import add_walk_in
from app.bookings import approvals
from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.bookings.completions import record_completion
from app.bookings.line_manager import answer_approval
from app.bookings.models import AWAITING_APPROVAL, CANCELLED, CONFIRMED, TRANSFERRED, WAITING, Booking, Completion
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.extensions import db
from tests.bookings.conftest import NOW, START
from tests.security import page_without_nonce


def _page(response) -> str:
    return page_without_nonce(response)


def _book(session, person):
    booking = book_place(session, person, person)
    db.session.commit()
    return booking


def _booking(session, person) -> Booking:
    return db.session.scalar(select(Booking).where(Booking.session_id == session.id, Booking.user_id == person.id)
                             .execution_options(populate_existing=True))


def test_every_booking_page_declares_who_may_use_it(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("bookings."):
            assert hasattr(app.view_functions[rule.endpoint], "allowed_roles"), rule.endpoint


def test_booking_takes_a_confirmation_page_and_one_button(app, now, client, login_as, make_user, make_agency,
                                                          make_session):
    police = make_agency(sector="Children's Social Care & <Police>")
    session = make_session(capacity=3, reservations=[(police.sector, 1)], reservation_release_days=7)
    person = make_user(agency=police, access_needs="Hearing loop")
    login_as(person)

    page = _page(client.get(f"/sessions/{session.id}/book"))
    assert "Check and confirm your booking" in page
    # The place is in bold, and the name in it is still escaped.
    assert "You will have <strong>a place reserved for Children&#39;s Social Care &amp; &lt;Police&gt;</strong>." in page
    assert "Hearing loop" in page, "their usual access needs are filled in"
    assert "cancel by 15 March 2027" in page

    response = client.post(f"/sessions/{session.id}/book", data={"access_needs": "Hearing loop, please"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/my-bookings")
    booking = _booking(session, person)
    assert booking.status == CONFIRMED and booking.access_needs == "Hearing loop, please"
    page = _page(client.get("/my-bookings"))
    assert "Your place is booked" in page and "Booked" in page


def test_the_booking_page_says_why_someone_cannot_book(app, now, client, login_as, make_user, make_session):
    session = make_session(booking_opens_at=NOW + timedelta(days=3), capacity=10)
    login_as(make_user())
    page = _page(client.get(f"/sessions/{session.id}/book"))
    assert "You cannot book this session" in page
    assert "Booking for this session opens on 4 March 2027, 9:00am." in page
    assert "Confirm booking" not in page
    response = client.post(f"/sessions/{session.id}/book", data={})
    assert response.status_code == 302
    assert db.session.scalar(select(Booking.id)) is None
    assert client.get("/sessions/999999/book").status_code == 404


def test_the_session_page_says_why_instead_of_offering_a_booking_that_would_be_refused(
        app, now, client, login_as, make_user, make_session, make_course):
    course = make_course()
    first = make_session(course=course, capacity=10)
    later = make_session(course=course, starts_at=START + timedelta(days=14), capacity=10)
    advanced = make_session(course=make_course("Advanced practice", prerequisites=(course,)), capacity=10)
    person = make_user()
    login_as(person)
    page = _page(client.get(f"/sessions/{later.id}"))
    assert "Book a place" in page and f"/sessions/{later.id}/book" in page

    _book(first, person)
    page = _page(client.get(f"/sessions/{later.id}"))
    assert "You already have a place on this course on 22 March 2027." in page
    assert "Book a place" not in page and f"/sessions/{later.id}/book" not in page
    page = _page(client.get(f"/sessions/{advanced.id}"))
    assert "You need to complete Safeguarding Level 3 before booking this course." in page
    assert "Book a place" not in page
    page = _page(client.get(f"/sessions/{first.id}"))
    assert "You already have a place on this session." in page and "Book a place" not in page


def test_a_full_session_offers_the_waiting_list(app, now, client, login_as, make_user, make_session):
    session = make_session(capacity=1)
    _book(session, make_user())
    person = make_user()
    login_as(person)
    page = _page(client.get(f"/sessions/{session.id}/book"))
    assert "Join the waiting list" in page and "This session is full for you" in page
    client.post(f"/sessions/{session.id}/book", data={})
    assert _booking(session, person).status == WAITING
    assert "you are on the waiting list" in _page(client.get("/my-bookings"))


def test_my_bookings_lists_upcoming_and_past_with_actions_and_the_calendar_address(
        app, now, client, login_as, make_user, make_session, make_course, set_now):
    person = make_user()
    past = make_session(course=make_course("Prevent"), starts_at=NOW - timedelta(days=10), capacity=10)
    set_now(NOW - timedelta(days=20))
    _book(past, person)
    set_now(NOW)
    upcoming = make_session(capacity=10)
    booking = _book(upcoming, person)
    login_as(person)
    page = _page(client.get("/my-bookings"))
    upcoming_part, past_part = page.split(">Past<")
    assert "Safeguarding Level 3" in upcoming_part and "Prevent" in past_part
    assert f"/bookings/{booking.id}/cancel" in upcoming_part and f"/bookings/{booking.id}/substitute" in upcoming_part
    assert "/cancel" not in past_part
    assert f"/calendar/{person.calendar_token}.ics" in page


def test_a_walk_in_is_listed_with_past_sessions_not_as_online_training(
        app, now, client, login_as, make_user, make_session, make_course, set_now):
    session = make_session(course=make_course("Neglect: the graded care profile"), capacity=10)
    person = make_user()
    set_now(START + timedelta(hours=1))
    add_walk_in(session, person, make_user(roles=("admin",)))
    db.session.commit()
    login_as(person)
    page = _page(client.get("/my-bookings"))
    past_part, recorded_part = page.split(">Past<")[1].split("Training you have recorded")
    assert "Neglect: the graded care profile" in past_part and "Attended" in past_part
    assert "Neglect: the graded care profile" not in recorded_part
    assert "You have not recorded any training." in recorded_part


def test_cancelling_shows_the_notice_deadline_and_warns_when_late(
        app, client, login_as, make_user, make_session, set_now):
    set_now(START - timedelta(days=3))
    session = make_session(capacity=10)
    person = make_user()
    booking = _book(session, person)
    login_as(person)
    page = _page(client.get(f"/bookings/{booking.id}/cancel"))
    assert "The last day to cancel without charge was 15 March 2027" in page
    response = client.post(f"/bookings/{booking.id}/cancel", data={"reason": "Ill"})
    assert response.status_code == 302
    booking = _booking(session, person)
    assert booking.status == CANCELLED and booking.late_cancellation
    assert "counts as a late cancellation" in _page(client.get("/my-bookings"))


def test_nobody_can_open_or_cancel_someone_elses_booking(app, now, client, login_as, make_user, make_session):
    session = make_session(capacity=10)
    booking = _book(session, make_user())
    login_as(make_user())
    assert client.get(f"/bookings/{booking.id}/cancel").status_code == 404
    assert client.post(f"/bookings/{booking.id}/cancel").status_code == 404
    assert client.post(f"/bookings/{booking.id}/substitute", data={"email": "x@example.org"}).status_code == 404
    assert _booking(session, booking.user).status == CONFIRMED


def test_sending_a_colleague_does_not_name_people_outside_your_agency(
        app, now, client, login_as, make_user, make_agency, make_session):
    person = make_user(agency=make_agency("Hillcrest Primary School"))
    make_user(name="Quentin Elsewhere", email="quentin@other.example", agency=make_agency("Other Trust"))
    booking = _book(make_session(capacity=10), person)
    login_as(person)
    url = f"/bookings/{booking.id}/substitute"
    outsider = client.post(url, data={"email": "quentin@other.example"})
    unknown = client.post(url, data={"email": "nobody@other.example"})
    assert outsider.status_code == unknown.status_code == 200
    page = _page(outsider)
    assert "Quentin" not in page and "Other Trust" not in page
    assert page.replace("quentin@", "X@") == _page(unknown).replace("nobody@", "X@")
    assert "We cannot find an account with that e-mail address at Hillcrest Primary School" in page


def test_looking_up_colleagues_is_limited_per_person(app, now, client, login_as, make_user,
                                                    make_agency, make_session, rate_limits):
    rate_limits["RATELIMIT_COLLEAGUE_LOOKUP"] = "3 per hour"
    person = make_user()
    booking = _book(make_session(capacity=10), person)
    login_as(person)
    url = f"/bookings/{booking.id}/substitute"
    for n in range(3):
        assert client.post(url, data={"email": f"guess{n}@example.org"}).status_code == 200
    refused = client.post(url, data={"email": "guess@example.org"})
    assert refused.status_code == 429 and "Too many attempts" in _page(refused)


def test_sending_a_colleague_names_problems_next_to_the_field(
        app, now, client, login_as, make_user, make_agency, make_session):
    agency = make_agency()
    session = make_session(capacity=10)
    person = make_user(agency=agency)
    colleague = make_user(agency=agency, email="kasia@example.org")
    booking = _book(session, person)
    login_as(person)
    page = _page(client.post(f"/bookings/{booking.id}/substitute", data={"email": "nobody@example.org"}))
    assert "We cannot find an account with that e-mail address" in page
    assert 'class="govuk-error-message"' in page and "govuk-error-summary" in page
    response = client.post(f"/bookings/{booking.id}/substitute", data={"email": "KASIA@example.org "})
    assert response.status_code == 302
    assert _booking(session, person).status == TRANSFERRED
    assert _booking(session, colleague).status == CONFIRMED


def test_the_calendar_feed_is_public_by_secret_address_and_can_be_reset(
        app, now, client, login_as, make_user, make_session):
    person = make_user()
    session = make_session(venue=None, online_url="https://meet.example/room", capacity=10)
    _book(session, person)
    token = person.calendar_token
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Safeguarding Level 3"
    assert "https://meet.example/room" in str(event["DESCRIPTION"])
    assert client.get("/calendar/not-a-token.ics").status_code == 404

    login_as(person)
    assert client.post("/my-bookings/calendar/reset").status_code == 302
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    db.session.refresh(person)
    assert client.get(f"/calendar/{person.calendar_token}.ics").status_code == 200


def test_a_place_awaiting_the_manager_is_tentative_in_the_calendar_feed(
        app, now, client, make_user, make_session, make_course):
    person = make_user()
    confirmed = make_session(course=make_course("Prevent"), capacity=10)
    held = make_session(course=make_course("Level 3", requires_manager_approval=True), capacity=10)
    _book(confirmed, person)
    _book(held, person)
    events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(
        client.get(f"/calendar/{person.calendar_token}.ics").data).walk("VEVENT")}
    assert str(events["Prevent"]["STATUS"]) == "CONFIRMED"
    assert str(events["Level 3"]["STATUS"]) == "TENTATIVE"
    assert "until your line manager agrees" in str(events["Level 3"]["DESCRIPTION"])

    answer_approval(_booking(held, person), approvals.AGREE, "")
    db.session.commit()
    events = {str(e["SUMMARY"]): e for e in Calendar.from_ical(
        client.get(f"/calendar/{person.calendar_token}.ics").data).walk("VEVENT")}
    assert str(events["Level 3"]["STATUS"]) == "CONFIRMED"


def test_opening_a_managers_link_changes_nothing_until_they_press_the_button(
        app, now, client, make_user, make_session, make_course):
    session = make_session(course=make_course(requires_manager_approval=True), capacity=10)
    person = make_user(name="Lena Marchbank")
    booking = _book(session, person)
    token = approvals.approval_token(booking, approvals.AGREE)

    page = _page(client.get(f"/approvals/{token}"))
    assert "Agree to this place" in page and "Lena Marchbank" in page
    assert _booking(session, person).status == AWAITING_APPROVAL

    page = _page(client.post(f"/approvals/{token}", data={}))
    assert "You have agreed" in page
    assert _booking(session, person).status == CONFIRMED
    page = _page(client.post(f"/approvals/{token}", data={}))
    assert "You have already agreed" in page

    response = client.get(f"/approvals/{token[:-4]}xxxx")
    assert response.status_code == 400 and "This link is not valid" in _page(response)


def test_a_place_awaiting_the_manager_is_yours_to_the_person_and_theirs_to_everyone_else(
        app, now, client, login_as, make_user, make_agency, make_session, make_course):
    agency = make_agency()
    session = make_session(course=make_course(requires_manager_approval=True), capacity=10)
    person = make_user(agency=agency)
    _book(session, person)

    login_as(person)
    assert "Awaiting your manager" in _page(client.get("/my-bookings"))
    for reader, path in ((make_user(roles=("coordinator",), coordinates=agency), "/agency"),
                         (make_user(roles=("admin",)), f"/admin/sessions/{session.id}/bookings")):
        client.post("/sign-out")
        login_as(reader)
        page = _page(client.get(path))
        assert "Awaiting manager’s agreement" in page, path
        assert "your manager" not in page, path


def test_a_managers_link_to_a_cancelled_place_says_so_once(
        app, now, client, make_user, make_session, make_course):
    session = make_session(course=make_course(requires_manager_approval=True), capacity=10)
    person = make_user(name="Lena Marchbank")
    booking = _book(session, person)
    token = approvals.approval_token(booking, approvals.AGREE)
    cancel_booking(booking, person)
    db.session.commit()
    for response in (client.get(f"/approvals/{token}"), client.post(f"/approvals/{token}", data={})):
        page = _page(response)
        assert "This request no longer needs an answer" in page
        assert "Lena Marchbank cancelled this place on 1 March 2027, so you do not need to answer." in page
        assert "has a place held" not in page and "Agree to this place" not in page
    assert _booking(session, person).status == CANCELLED


def test_a_manager_can_decline_with_a_reason(app, now, client, make_user, make_session, make_course):
    session = make_session(course=make_course(requires_manager_approval=True), capacity=10)
    person = make_user()
    booking = _book(session, person)
    token = approvals.approval_token(booking, approvals.DECLINE)
    assert "Decline this place" in _page(client.get(f"/approvals/{token}"))
    page = _page(client.post(f"/approvals/{token}", data={"reason": "Not this quarter"}))
    assert "You have declined" in page
    booking = _booking(session, person)
    assert booking.status == "declined" and "Not this quarter" in booking.events[-1].reason


def test_recording_online_training_checks_the_date(app, now, client, login_as, make_user, make_course):
    course = make_course("Safeguarding Level 1 and 2", is_online=True)
    person = make_user()
    login_as(person)
    page = _page(client.post("/my-training/online", data={
        "course_id": course.id, "completed_on": ["31", "2", "2027"], "evidence": ""}))
    assert "Enter a real date, for example 27 3 2027" in page
    page = _page(client.post("/my-training/online", data={
        "course_id": course.id, "completed_on": ["", "", ""], "evidence": ""}))
    assert "Enter the date you completed it" in page
    response = client.post("/my-training/online", data={
        "course_id": course.id, "completed_on": ["3", "2", "2027"], "evidence": "ELN-42"})
    assert response.status_code == 302
    completion = db.session.scalar(select(Completion))
    assert (completion.course_id, str(completion.completed_on), completion.evidence) == (course.id, "2027-02-03", "ELN-42")
    assert "Safeguarding Level 1 and 2" in _page(client.get("/my-bookings"))


def test_learners_cannot_open_the_l_and_d_screens(app, now, client, login_as, make_user, make_session):
    session = make_session(capacity=10)
    booking = _book(session, make_user())
    login_as(make_user())
    for path in ["/admin/bookings", f"/admin/sessions/{session.id}/bookings", f"/admin/bookings/{booking.id}",
                 f"/admin/bookings/{booking.id}/move", f"/admin/bookings/{booking.id}/cancel", "/admin/completions"]:
        assert client.get(path).status_code == 403, path


def test_the_l_and_d_team_sees_places_the_waiting_list_and_books_on_behalf(
        app, now, client, login_as, make_user, make_agency, make_session):
    police = make_agency(sector="Police")
    session = make_session(capacity=1, reservations=[(police.sector, 1)], reservation_release_days=7)
    officer = make_user(name="Olu Dunmore", agency=police)
    waiting = make_user(name="Wendy Wetherall", agency=police)
    _book(session, officer)
    _book(session, waiting)
    admin = make_user(roles=("admin",))
    login_as(admin)
    assert "Bookings and waiting lists by session" in _page(client.get("/admin/"))
    assert "Safeguarding Level 3" in _page(client.get("/admin/bookings"))

    page = _page(client.get(f"/admin/sessions/{session.id}/bookings"))
    assert "Reserved for Police" in page and "Olu Dunmore" in page and "Wendy Wetherall" in page
    assert "Waiting list (1)" in page

    page = _page(client.post(f"/admin/sessions/{session.id}/bookings", data={"email": "nobody@example.org"}))
    assert "There is no account with that e-mail address" in page

    late = make_user(name="Late Booker")
    client.post(f"/admin/sessions/{session.id}/bookings", data={"email": late.email})
    assert _booking(session, late).status == WAITING
    extra = make_user(name="Extra Person")
    client.post(f"/admin/sessions/{session.id}/bookings", data={"email": extra.email, "overbook": "y"})
    booking = _booking(session, extra)
    assert booking.status == CONFIRMED and booking.overbooked
    page = _page(client.get(f"/admin/bookings/{booking.id}"))
    assert "Booking history: Extra Person" in page and "overbooked" in page


def test_the_l_and_d_team_gives_a_waiting_person_a_place_moves_and_cancels(
        app, now, client, login_as, make_user, make_session, make_course):
    course = make_course()
    session = make_session(capacity=1, course=course)
    other_date = make_session(capacity=5, course=course, starts_at=START + timedelta(days=7))
    booked, waiting = make_user(name="Booked Person"), make_user(name="Waiting Person")
    _book(session, booked)
    waiting_booking = _book(session, waiting)
    login_as(make_user(roles=("admin",)))

    page = _page(client.post(f"/admin/bookings/{waiting_booking.id}/promote", data={}))
    assert "There is no free place Waiting Person may fill" in page
    client.post(f"/admin/bookings/{waiting_booking.id}/promote", data={"overbook": "y"})
    assert _booking(session, waiting).status == CONFIRMED

    booked_booking = _booking(session, booked)
    assert "Move to" in _page(client.get(f"/admin/bookings/{booked_booking.id}/move"))
    page = _page(client.post(f"/admin/bookings/{booked_booking.id}/move", data={"session_id": 0}))
    assert "Choose the session to move them to" in page
    client.post(f"/admin/bookings/{booked_booking.id}/move", data={"session_id": other_date.id})
    assert _booking(other_date, booked).status == CONFIRMED
    assert _booking(session, booked).status == CANCELLED
    page = _page(client.get(f"/admin/sessions/{session.id}/bookings"))
    assert (f'<a class="govuk-link" href="/admin/bookings/{booked_booking.id}">History'
            '<span class="govuk-visually-hidden"> for Booked Person</span></a>') in page

    client.post(f"/admin/bookings/{_booking(other_date, booked).id}/cancel", data={"reason": "Left the service"})
    cancelled = _booking(other_date, booked)
    assert cancelled.status == CANCELLED and "Left the service" in cancelled.events[-1].reason

    for action, refusal in (("cancel", "there is nothing to cancel"), ("move", "it cannot be moved")):
        response = client.get(f"/admin/bookings/{cancelled.id}/{action}")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/admin/sessions/{other_date.id}/bookings")
        assert f"This booking is not active, so {refusal}." in _page(client.get(response.headers["Location"]))


def test_the_l_and_d_team_cancels_the_bookings_of_a_cancelled_session(
        app, now, client, login_as, make_user, make_session, mailbox, deliver):
    session = make_session(capacity=10)
    person = make_user()
    _book(session, person)
    session.status = SESSION_CANCELLED
    db.session.commit()
    login_as(make_user(roles=("admin",)))
    page = _page(client.get(f"/admin/sessions/{session.id}/bookings"))
    assert "This session is cancelled but 1 people still hold" in page
    client.post(f"/admin/sessions/{session.id}/bookings/cancel-all")
    assert _booking(session, person).status == CANCELLED
    deliver()
    assert any(str(m["Subject"]).strip().startswith("Session cancelled") for m in mailbox.to(person.email))


def test_the_l_and_d_team_checks_recorded_completions(app, now, client, login_as, make_user, make_course):
    person = make_user(name="Priya Sowerby")
    course = make_course("Level 1 and 2", is_online=True)
    completion = record_completion(person, course, NOW.date(), "ELN-7", person)
    db.session.commit()
    login_as(make_user(roles=("admin",)))
    page = _page(client.get("/admin/completions"))
    assert "Priya Sowerby" in page and "ELN-7" in page
    client.post(f"/admin/completions/{completion.id}/check")
    assert db.session.get(Completion, completion.id).checked_at is not None
    page = _page(client.get("/admin/completions"))
    assert "Priya Sowerby’s Level 1 and 2 is marked as checked" in page
    assert "ELN-7" not in page and "There is nothing to check" in page
    assert re.search(r"Checked \d+ March 2027", _page(client.get("/admin/completions?show=all")))


def test_a_person_sends_learning_done_elsewhere_with_a_certificate_and_the_l_and_d_team_accepts_it(
        app, now, client, login_as, make_user, make_course, mailbox, deliver):
    import io

    person = make_user(name="Priya Sowerby", email="priya@example.org")
    course = make_course("Safeguarding Level 3")
    login_as(person)
    assert "Record training you did elsewhere" in _page(client.get("/my-bookings"))
    pdf = b"%PDF-1.4\n%%EOF\n"
    response = client.post("/my-training/elsewhere", data={
        "course_id": str(course.id), "provider": "Northbridge Police", "completed_on": ["3", "2", "2027"],
        "evidence": "Level 3 day with the force, certificate P-9",
        "certificate": (io.BytesIO(pdf), "level3.pdf", "application/pdf"),
    }, content_type="multipart/form-data", follow_redirects=True)
    page = _page(response)
    assert "Sent for checking: your training equivalent to Safeguarding Level 3" in page
    assert "Northbridge Police: waiting for the L&amp;D team to check" in page
    completion = db.session.scalar(select(Completion).where(Completion.user_id == person.id))
    own = client.get(f"/completions/{completion.id}/certificate")
    assert (own.status_code, own.data, own.mimetype) == (200, pdf, "application/pdf")
    assert "attachment" in own.headers["Content-Disposition"]

    client.post("/sign-out")
    login_as(make_user(email="colleague@example.org"))
    assert client.get(f"/completions/{completion.id}/certificate").status_code == 404

    client.post("/sign-out")
    login_as(make_user(roles=("admin",)))
    page = _page(client.get("/admin/completions"))
    assert "Priya Sowerby" in page and "Elsewhere: Northbridge Police" in page and "Accept or reject" in page
    assert client.get(f"/completions/{completion.id}/certificate").data == pdf
    page = _page(client.post(f"/admin/completions/{completion.id}/decide", data={"decision": "reject"}))
    assert "Say why it is not accepted" in page
    page = _page(client.post(f"/admin/completions/{completion.id}/decide", data={"decision": "accept"},
                             follow_redirects=True))
    assert "Priya Sowerby’s training is accepted as Safeguarding Level 3. We have e-mailed them." in page
    assert "There is nothing to check" in page
    deliver()
    [message] = mailbox.to("priya@example.org")
    assert str(message["Subject"]).startswith("Accepted: your Safeguarding Level 3 from Northbridge Police")


def test_a_certificate_that_is_not_a_pdf_or_image_is_refused_beside_its_field(
        app, now, client, login_as, make_user, make_course):
    import io

    course = make_course("Safeguarding Level 3")
    login_as(make_user())
    page = _page(client.post("/my-training/elsewhere", data={
        "course_id": str(course.id), "provider": "Trust", "completed_on": ["3", "2", "2027"], "evidence": "Day",
        "certificate": (io.BytesIO(b"MZ\x90\x00 not a certificate"), "cert.pdf"),
    }, content_type="multipart/form-data"))
    assert "The certificate must be a PDF, PNG or JPEG file." in page
    assert db.session.scalar(select(Completion.id)) is None


def test_the_l_and_d_team_books_someone_without_a_prerequisite_and_the_history_shows_why(
        app, now, client, login_as, make_user, make_course, make_session):
    level2 = make_course("Safeguarding Level 1 and 2 (online)", is_online=True)
    session = make_session(course=make_course("Safeguarding Level 3", prerequisites=(level2,)), capacity=10)
    person = make_user(name="Tom Ashdown", email="tom@example.org")
    login_as(make_user(roles=("admin",)))
    page = _page(client.post(f"/admin/sessions/{session.id}/bookings", data={"email": "tom@example.org"}))
    assert "Tom Ashdown needs to complete Safeguarding Level 1 and 2 (online) before booking this course." in page
    assert _booking(session, person) is None
    client.post(f"/admin/sessions/{session.id}/bookings", data={
        "email": "tom@example.org", "prerequisite_override": "Level 2 with his school; certificate seen"})
    booking = _booking(session, person)
    assert booking.status == CONFIRMED
    page = _page(client.get(f"/admin/bookings/{booking.id}"))
    assert ("prerequisite Safeguarding Level 1 and 2 (online) overridden by the L&amp;D team: "
            "Level 2 with his school; certificate seen") in page
