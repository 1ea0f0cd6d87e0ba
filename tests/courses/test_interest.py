"""Interest in a course: asked for when there is no free date, told once per session published."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.bookings.booking import book_place
from app.courses.catalogue import CourseDetails, create_course, update_course
from app.courses.interest import register_interest, withdraw_interest
from app.courses.models import DRAFT, CourseInterest
from app.courses.problems import CourseError
from app.courses.scheduling import publish_sessions
from app.email import OutboxMessage
from app.extensions import db
from tests.courses.conftest import NOW


def _interest_messages() -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.like("interest:%")).order_by(OutboxMessage.id)))


def test_interest_is_refused_while_a_date_has_a_place_and_allowed_when_all_are_full(
        app, now, make_user, make_course, make_session):
    course = make_course("Private Fostering")
    person = make_user(name="Ines Dacosta")
    open_session = make_session(course, capacity=1)
    with pytest.raises(CourseError) as refused:
        register_interest(course, person)
    db.session.rollback()
    assert "book it instead" in refused.value.message

    book_place(open_session, make_user(), make_user())  # someone else takes the only place
    db.session.commit()
    interest = register_interest(course, person)
    db.session.commit()
    assert interest.course_id == course.id
    assert register_interest(course, person).id == interest.id  # asking twice keeps one


def test_publishing_a_session_tells_interested_people_once_but_not_those_with_a_place(
        app, now, admin, make_user, make_course, make_session, mailbox, deliver):
    course = make_course("Engaging Men")
    keen, booked = make_user(name="Keen Person", email="keen@example.org"), make_user(email="booked@example.org")
    for person in (keen, booked):
        register_interest(course, person)
    db.session.commit()
    first = make_session(course, capacity=10)
    book_place(first, booked, booked)
    db.session.commit()

    draft = make_session(course, capacity=10, status=DRAFT, starts_at=first.starts_at.replace(day=29))
    publish_sessions([draft], admin)
    db.session.commit()
    publish_sessions([draft], admin)  # already published: nothing new
    db.session.commit()

    messages = _interest_messages()
    assert [m.recipient for m in messages] == ["keen@example.org"]
    assert draft.published_at == NOW
    deliver()
    [message] = mailbox.to("keen@example.org")
    assert "New date: Engaging Men" in str(message["Subject"])


def test_withdrawn_interest_is_not_told_and_withdrawing_twice_is_refused(app, now, admin, make_user, make_course,
                                                                        make_session):
    course = make_course("Prevent")
    person = make_user()
    register_interest(course, person)
    db.session.commit()
    withdraw_interest(course, person)
    db.session.commit()
    with pytest.raises(CourseError):
        withdraw_interest(course, person)
    db.session.rollback()
    publish_sessions([make_session(course, status=DRAFT)], admin)
    db.session.commit()
    assert _interest_messages() == []


def test_the_pages_register_and_withdraw_interest_and_the_l_and_d_team_sees_the_count(
        app, now, client, login_as, admin, make_user, make_course):
    course = make_course("Child Trafficking", code="CT1")
    person = make_user()
    login_as(person)
    page = client.get("/courses/CT1").get_data(as_text=True)
    assert "Tell me about new dates" in page
    assert client.post("/courses/CT1/interest").status_code == 302
    assert db.session.scalar(select(CourseInterest.user_id)) == person.id
    assert "Child Trafficking" in client.get("/my-bookings").get_data(as_text=True)
    client.post("/sign-out")
    login_as(admin)
    assert "1 person has asked" in client.get(f"/admin/courses/{course.id}").get_data(as_text=True)
    client.post("/sign-out")
    login_as(person)
    assert client.post("/courses/CT1/interest/withdraw").status_code == 302
    assert db.session.scalar(select(CourseInterest.id)) is None
    assert client.post("/courses/NOPE/interest").status_code == 404


def test_the_offer_setting_is_kept_and_its_hours_checked(app, now, admin):
    course = create_course(CourseDetails(code="SM1", title="Substance Misuse", duration_hours=Decimal("6"),
                                         uses_offers=True, offer_hours=48), admin)
    db.session.commit()
    assert (course.uses_offers, course.offer_hours) == (True, 48)
    for hours in (0, 169):
        with pytest.raises(CourseError) as refused:
            update_course(course, CourseDetails(code="SM1", title="Substance Misuse", duration_hours=Decimal("6"),
                                                uses_offers=True, offer_hours=hours), admin)
        db.session.rollback()
        assert "The offer must last between 1 and 168 hours" in str(refused.value.on_form())
    update_course(course, CourseDetails(code="SM1", title="Substance Misuse", duration_hours=Decimal("6")), admin)
    db.session.commit()
    assert course.uses_offers is False
