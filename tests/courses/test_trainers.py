"""The trainer pool: providers, profiles and unavailability; clashes refused, availability warned."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.clock import london_to_utc
from app.courses.changes import cancel_session, change_session_time, update_session
from app.courses.clashes import OVERRIDE, availability_warnings
from app.courses.models import CANCELLED, Provider, Session, TrainerProfile, TrainerUnavailability
from app.courses.problems import CourseError
from app.courses.scheduling import SessionPlan, create_session, plan_from_session
from app.courses.trainers import (
    ProviderDetails,
    TrainerDetails,
    add_unavailability,
    create_provider,
    save_trainer_profile,
)
from app.extensions import db
from tests.courses.conftest import parts
from tests.courses.test_views import _session_form, text_of


@pytest.fixture
def trainer(make_user):
    return make_user(name="Alex Trainer", email="alex@example.org", roles=("trainer",))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _plan(venue, trainers=(), days=(("2027-03-03", "10:00", "16:00"),), **fields) -> SessionPlan:
    return SessionPlan(parts=parts(*days), capacity=10, venue=venue, trainers=list(trainers), **fields)


# --- Clashes -----------------------------------------------------------------------------------


def test_a_trainer_booked_twice_at_the_same_time_is_refused_with_the_other_session(
        app, now, admin, trainer, plan_session, make_course, make_venue):
    plan_session(course=make_course(title="Level 3", code="L3"), trainers=[trainer],
                 days=[("2027-03-03", "10:00", "16:00")])
    other_room = make_venue("Library")
    with pytest.raises(CourseError) as refused:
        create_session(make_course(title="Level 1", code="L1"),
                       _plan(other_room, [trainer], days=[("2027-03-03", "13:00", "17:00")]), admin)
    assert refused.value.problems == [
        ("trainers", "Alex Trainer is already training ‘Level 3’ at 10:00am-4:00pm on 3 March 2027")]
    db.session.rollback()
    assert _count(Session) == 1


def test_a_room_booked_twice_is_refused_but_an_online_session_and_touching_times_are_not(
        app, now, admin, plan_session, make_course, make_venue):
    hall = make_venue("Civic Hall")
    plan_session(course=make_course(title="Level 3", code="L3"), venue=hall, days=[("2027-03-03", "10:00", "16:00")])
    course = make_course(title="Level 2", code="L2")
    with pytest.raises(CourseError) as refused:
        create_session(course, _plan(hall, days=[("2027-03-03", "15:00", "17:00")]), admin)
    assert refused.value.problems == [("venue", "Civic Hall is already booked for ‘Level 3’ at 10:00am-4:00pm on 3 March 2027")]
    db.session.rollback()
    # Online: no room. Starting as the other ends: no overlap.
    create_session(course, _plan(None, online_url="https://meet.example.org/x", days=[("2027-03-03", "10:00", "12:00")]), admin)
    create_session(course, _plan(hall, days=[("2027-03-03", "16:00", "17:00")]), admin)
    db.session.commit()
    assert _count(Session) == 3


def test_a_cancelled_session_holds_nobody_and_a_later_part_of_a_two_day_session_clashes(
        app, now, admin, trainer, plan_session, make_course, make_venue):
    gone = plan_session(trainers=[trainer], days=[("2027-03-03", "10:00", "16:00")])
    cancel_session(gone, "Room flooded", admin)
    two_day = plan_session(course=make_course(title="Level 3 two days", code="L3X"), trainers=[trainer],
                           days=[("2027-03-03", "10:00", "16:00"), ("2027-03-10", "10:00", "16:00")])
    assert gone.status == CANCELLED and len(two_day.parts) == 2
    with pytest.raises(CourseError) as refused:
        create_session(make_course(title="Level 2", code="L2"),
                       _plan(make_venue("Library"), [trainer], days=[("2027-03-10", "09:00", "11:00")]), admin)
    assert "already training ‘Level 3 two days’ at 10:00am-4:00pm on 10 March 2027" in refused.value.problems[0][1]


def test_an_administrator_books_anyway_and_the_history_keeps_it_without_names(
        app, now, admin, trainer, plan_session, make_course, make_venue, make_user):
    plan_session(course=make_course(title="Level 3", code="L3"), trainers=[trainer])
    clashing = _plan(make_venue("Library"), [trainer], days=[("2027-03-26", "09:30", "12:00")])
    clashing.book_anyway_by = make_user(name="Tom Trainer", roles=("trainer",))
    level_1 = make_course(title="Level 1", code="L1")
    with pytest.raises(CourseError) as refused:
        create_session(level_1, clashing, admin)
    assert ("book_anyway", "Only an administrator can book a trainer or room twice") in refused.value.problems
    db.session.rollback()

    clashing.book_anyway_by = admin
    session = create_session(level_1, clashing, admin)
    db.session.commit()
    [change] = session.changes
    assert change.kind == OVERRIDE and change.actor_id == admin.id and change.notified_at is not None
    assert change.detail == ("Booked anyway by an administrator: a trainer was already training ‘Level 3’ "
                             "at 9:30am-4:30pm on 26 March 2027")
    assert "Alex" not in change.detail
    # Changing something else later does not ask again about the clash already booked anyway.
    plan = plan_from_session(session)
    plan.capacity = 12
    update_session(session, plan, admin)
    # But moving it, or adding a trainer already busy then, does.
    with pytest.raises(CourseError):
        change_session_time(session, parts(("2027-03-26", "10:00", "12:00")), admin)
    db.session.rollback()


def test_adding_a_busy_trainer_when_editing_is_refused(app, now, admin, trainer, plan_session, make_course):
    plan_session(course=make_course(title="Level 3", code="L3"), trainers=[trainer])
    other = plan_session(course=make_course(title="Level 2", code="L2"), venue=None,
                         online_url="https://meet.example.org/l2")
    plan = plan_from_session(other)
    plan.trainers = [trainer]
    with pytest.raises(CourseError) as refused:
        update_session(other, plan, admin)
    assert refused.value.problems[0][0] == "trainers"
    db.session.rollback()
    assert db.session.get(Session, other.id).trainers == []


# --- Availability warnings ---------------------------------------------------------------------


def test_warnings_for_days_off_leave_courses_not_listed_and_the_contract(app, now, admin, trainer, make_course):
    level_3, level_1 = make_course(title="Level 3", code="L3"), make_course(title="Level 1", code="L1")
    provider = create_provider(ProviderDetails(name="Harbour Training Ltd", contract_starts_on=date(2027, 1, 1),
                                               contract_ends_on=date(2027, 3, 31)), admin)
    save_trainer_profile(trainer, TrainerDetails(provider=provider, courses=[level_3], working_days="012"), admin)
    add_unavailability(trainer, date(2027, 3, 3), date(2027, 3, 5), "annual leave", admin)
    db.session.commit()
    # Wednesday 3 March (on leave, a usual day); Thursday 8 April (not a usual day, after the contract).
    utc = [(london_to_utc(p.starts_at), london_to_utc(p.ends_at))
           for p in parts(("2027-03-03", "10:00", "12:00"), ("2027-04-08", "10:00", "12:00"))]
    assert availability_warnings(level_1, utc, [trainer]) == [
        "Alex Trainer does not usually train on Thursdays (8 April)",
        "Alex Trainer is unavailable from 3 March 2027 to 5 March 2027 (annual leave)",
        "Alex Trainer is not listed as delivering Level 1",
        "Harbour Training Ltd’s contract ends on 31 March 2027, before Alex Trainer would train",
    ]
    assert availability_warnings(level_3, utc[:1], [trainer]) == [
        "Alex Trainer is unavailable from 3 March 2027 to 5 March 2027 (annual leave)"]


def test_profile_and_provider_rules(app, now, admin, trainer, make_user):
    with pytest.raises(CourseError) as refused:
        create_provider(ProviderDetails(name="Harbour", email="not an address", contract_starts_on=date(2027, 5, 1),
                                        contract_ends_on=date(2027, 4, 1)), admin)
    assert [f for f, _ in refused.value.problems] == ["email", "contract_ends_on"]
    learner = make_user(name="Lee Learner")
    with pytest.raises(CourseError, match="does not have the trainer role"):
        save_trainer_profile(learner, TrainerDetails(), admin)
    with pytest.raises(CourseError, match="at least one day"):
        save_trainer_profile(trainer, TrainerDetails(working_days=""), admin)
    with pytest.raises(CourseError, match="Save the trainer’s profile"):
        add_unavailability(trainer, date(2027, 3, 1), date(2027, 3, 2), "", admin)
    db.session.rollback()
    assert _count(Provider) == 0 and _count(TrainerProfile) == 0


# --- Pages -------------------------------------------------------------------------------------


def test_the_session_form_refuses_a_clash_and_books_anyway_when_ticked(
        client, login_as, admin, trainer, plan_session, make_course, make_venue, now):
    hall = make_venue("Civic Hall")
    plan_session(course=make_course(title="Level 3", code="L3"), venue=hall, days=[("2027-03-26", "10:00", "16:00")])
    course = make_course(title="Level 1", code="L1")
    login_as(admin)
    data = _session_form(hall.id, **{"parts-1-date": ["", "", ""], "parts-1-starts_at": "", "parts-1-ends_at": ""})
    response = client.post(f"/admin/courses/{course.id}/sessions/new", data=data)
    assert response.status_code == 200
    assert text_of(response).count("Civic Hall is already booked for ‘Level 3’ at 10:00am-4:00pm on 26 March 2027") == 2
    assert _count(Session) == 1
    response = client.post(f"/admin/courses/{course.id}/sessions/new", data=data | {"book_anyway": "y"},
                           follow_redirects=True)
    page = text_of(response)
    assert "Session added as a draft" in page and "Clash booked anyway: Booked anyway by an administrator" in page
    assert _count(Session) == 2


def test_the_session_form_warns_after_saving_when_a_trainer_is_away(
        client, login_as, admin, trainer, make_course, make_venue, now):
    save_trainer_profile(trainer, TrainerDetails(), admin)
    add_unavailability(trainer, date(2027, 3, 20), date(2027, 3, 30), "", admin)
    db.session.commit()
    course = make_course(title="Level 1", code="L1")
    login_as(admin)
    response = client.post(f"/admin/courses/{course.id}/sessions/new", follow_redirects=True, data=_session_form(
        make_venue().id, **{"trainer_ids": [str(trainer.id)], "parts-1-date": ["", "", ""],
                            "parts-1-starts_at": "", "parts-1-ends_at": ""}))
    page = text_of(response)
    assert "Session added as a draft" in page
    assert "Check the trainers: Alex Trainer is unavailable from 20 March 2027 to 30 March 2027." in page
    assert _count(Session) == 1


def test_admin_pages_for_providers_trainers_and_dates(client, login_as, admin, trainer, make_course, make_user, now):
    course = make_course(title="Level 3", code="L3")
    login_as(admin)
    assert "Alex Trainer" in text_of(client.get("/admin/trainers"))
    response = client.post("/admin/providers/new", data={
        "name": "Harbour Training Ltd", "contact_name": "Pat Contact", "email": "pat@harbour.example",
        "phone": "01234 567890", "contract_reference": "NSCP-2027-04", "contract_starts_on": ["1", "1", "2027"],
        "contract_ends_on": ["31", "12", "2027"], "active": "y"}, follow_redirects=True)
    assert "Harbour Training Ltd saved." in text_of(response) and "NSCP-2027-04" in text_of(response)
    provider = db.session.scalar(select(Provider))
    response = client.post("/admin/providers/new", data={"name": "harbour training ltd", "contract_starts_on": ["", "", ""],
                                                          "contract_ends_on": ["", "", ""]})
    assert "There is already a provider called harbour training ltd" in text_of(response)
    assert _count(Provider) == 1

    response = client.post(f"/admin/trainers/{trainer.id}", data={
        "provider_id": str(provider.id), "course_ids": [str(course.id)], "working_days": ["0", "1", "5"], "notes": ""},
        follow_redirects=True)
    assert "Alex Trainer’s trainer profile saved." in text_of(response)
    profile = db.session.scalar(select(TrainerProfile))
    assert (profile.provider_id, profile.working_days, [c.title for c in profile.courses]) == (provider.id, "015", ["Level 3"])
    assert "Harbour Training Ltd" in text_of(client.get("/admin/trainers"))
    # Choosing trainers for a session shows who comes from a provider.
    assert "Alex Trainer (Harbour Training Ltd)" in text_of(client.get(f"/admin/courses/{course.id}/sessions/new"))

    response = client.post(f"/admin/trainers/{trainer.id}/unavailable", data={
        "away-starts_on": ["10", "3", "2027"], "away-ends_on": ["1", "3", "2027"], "away-reason": ""})
    assert response.status_code == 400 and "The last day must be on or after the first day" in text_of(response)
    assert _count(TrainerUnavailability) == 0
    response = client.post(f"/admin/trainers/{trainer.id}/unavailable", follow_redirects=True, data={
        "away-starts_on": ["1", "3", "2027"], "away-ends_on": ["10", "3", "2027"], "away-reason": "Annual leave"})
    assert "Dates added" in text_of(response) and "Annual leave" in text_of(response)
    away = db.session.scalar(select(TrainerUnavailability))
    client.post(f"/admin/trainers/{trainer.id}/unavailable/{away.id}/remove")
    assert _count(TrainerUnavailability) == 0
    # Someone who is not a trainer has no trainer page.
    assert client.get(f"/admin/trainers/{make_user(name='Lee Learner').id}").status_code == 404


def test_only_administrators_reach_the_trainer_pool(client, login_as, trainer, now):
    login_as(trainer)
    for url in ("/admin/trainers", "/admin/providers/new", f"/admin/trainers/{trainer.id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/trainers/{trainer.id}", data={"working_days": ["0"]}).status_code == 403
