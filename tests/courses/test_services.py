"""The programme's rules: what is saved, what is refused (with nothing saved), what is recorded."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.bookings.models import CANCELLED as BOOKING_CANCELLED
from app.bookings.models import CONFIRMED, Booking
from app.courses.models import CANCELLED, DRAFT, PUBLISHED, Course, Level, Reservation, Session, SessionChange, SessionPart
from app.courses.catalogue import (
    CourseDetails,
    create_course,
    delete_course,
    reinstate_course,
    retire_course,
    update_course,
)
from app.courses.changes import cancel_session, change_session_time, change_session_venue, update_session
from app.courses.copying import duplicate_session
from app.courses.problems import CourseError
from app.courses.reference_data import VenueDetails, create_level, create_theme, create_venue, update_level
from app.courses.scheduling import (
    PartTimes,
    ReservationPlan,
    SessionPlan,
    create_session,
    delete_session,
    plan_from_session,
    publish_sessions,
)
from app.extensions import db
from tests.courses.conftest import london, parts


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def book(session, person, reservation=None, status=CONFIRMED):
    db.session.add(Booking(session=session, user=person, agency_id=person.agency_id, status=status,
                           reservation_id=reservation.id if reservation else None))
    db.session.flush()


# --- Courses ---------------------------------------------------------------------------------


def test_create_course_keeps_every_detail(app, admin, make_level, make_sector):
    level = make_level("Level 3")
    health = make_sector("Health - acute")
    theme = create_theme("Neglect", admin)
    online = create_course(CourseDetails(code="L12", title="Level 1 and 2 online", duration_hours=Decimal("2.5"),
                                         is_online=True), admin)
    course = create_course(CourseDetails(
        code="L3", title="  Safeguarding Level 3 ", description="Two days.", learning_outcomes="Refer well",
        grew_from="SCR Child B", level=level, themes=[theme], audience_sectors=[health], prerequisites=[online],
        duration_hours=Decimal("12"), refresher_months=36, cancellation_notice_days=5,
        non_attendance_charge_pence=9000, evaluation_delay_months=3,
    ), admin)
    db.session.commit()
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert (course.title, course.level.name, course.refresher_months) == ("Safeguarding Level 3", "Level 3", 36)
    assert [t.name for t in course.themes] == ["Neglect"]
    assert [s.name for s in course.audience_sectors] == ["Health - acute"]
    assert [c.code for c in course.prerequisites] == ["L12"]
    assert course.non_attendance_charge_pence == 9000 and course.duration_hours == Decimal("12")


def test_course_code_must_be_unique_and_url_safe(app, admin, make_course):
    make_course(code="L3", level="Level 3")
    with pytest.raises(CourseError) as error:
        create_course(CourseDetails(code="l3", title="Another"), admin)
    assert error.value.field == "code" and "already uses the code" in error.value.message
    with pytest.raises(CourseError) as error:
        create_course(CourseDetails(code="L3 refresher!", title="Another", duration_hours=Decimal(6)), admin)
    assert error.value.field == "code"
    fields = {field for field, _ in error.value.problems}
    assert fields == {"code"}


def test_every_problem_is_reported_at_once(app, admin):
    with pytest.raises(CourseError) as error:
        create_course(CourseDetails(code="", title="", duration_hours=Decimal(0), refresher_months=0,
                                    evaluation_delay_months=0), admin)
    fields = {field for field, _ in error.value.problems}
    assert fields == {"code", "title", "duration_hours", "refresher_months", "evaluation_delay_months"}
    assert count(Course) == 0


def _details(course: Course, **changes) -> CourseDetails:
    values = dict(code=course.code, title=course.title, duration_hours=course.duration_hours,
                  prerequisites=list(course.prerequisites), level=course.level)
    values.update(changes)
    return CourseDetails(**values)


def test_a_course_cannot_require_itself(app, admin, make_course):
    course = make_course(title="Level 3", level="Level 3")
    with pytest.raises(CourseError) as error:
        update_course(course, _details(course, prerequisites=[course]), admin)
    assert error.value.field == "prerequisites"
    assert error.value.message == "A course cannot be its own prerequisite"


def test_a_prerequisite_loop_is_refused_and_nothing_changes(app, admin, make_course):
    online = make_course(title="Level 1/2 online", level="Level 3")
    level3 = make_course(title="Level 3", level="Level 3")
    refresher = make_course(title="Level 3 refresher", level="Level 3")
    update_course(level3, _details(level3, prerequisites=[online]), admin)
    update_course(refresher, _details(refresher, prerequisites=[level3]), admin)
    db.session.commit()

    with pytest.raises(CourseError) as error:
        update_course(online, _details(online, title="Renamed", prerequisites=[refresher]), admin)
    assert error.value.field == "prerequisites"
    assert "Level 1/2 online needs Level 3 refresher needs Level 3 needs Level 1/2 online" in error.value.message
    db.session.rollback()
    assert db.session.get(Course, online.id).title == "Level 1/2 online"
    assert db.session.get(Course, online.id).prerequisites == []


def test_a_refresher_course_renews_one_main_course_that_has_a_refresher(app, admin, make_course):
    level3 = make_course(title="Level 3", refresher_months=36, level="Level 3")
    refresher = make_course(title="Level 3 Refresher", level="Level 3")
    prevent = make_course(title="Prevent", level="Level 3")
    level2 = make_course(title="Level 2", refresher_months=36, level="Level 3")
    db.session.commit()

    def refused(course, renews):
        with pytest.raises(CourseError) as error:
            update_course(course, _details(course, renews=renews), admin)
        db.session.rollback()
        assert error.value.field == "renews"
        return error.value.message

    assert refused(level3, level3) == "A course cannot renew its own refresher: leave it as ‘No other course’"
    assert refused(refresher, prevent) == "Prevent has no refresher interval, so there is no refresher to renew"
    update_course(refresher, _details(refresher, renews=level3), admin)
    db.session.commit()
    assert db.session.get(Course, refresher.id).renews_course_id == level3.id
    assert refused(prevent, refresher) == "Level 3 Refresher renews Level 3 itself: choose that course instead"
    assert refused(level3, level2) == (
        "Level 3 Refresher already renews this course’s refresher, so this course cannot renew another")


def test_retiring_keeps_sessions_and_refuses_while_published_sessions_are_ahead(
        app, admin, now, plan_session, make_course):
    course = make_course(level="Level 3")
    session = plan_session(course=course)
    with pytest.raises(CourseError, match="1 upcoming published session"):
        retire_course(course, admin)
    cancel_session(session, "Trainer ill", admin)
    retire_course(course, admin)
    db.session.commit()
    assert course.is_retired and db.session.get(Session, session.id) is not None
    with pytest.raises(CourseError, match="retired"):
        create_session(course, plan_from_session(session), admin)
    reinstate_course(course, admin)
    assert not course.is_retired


def test_a_course_with_sessions_is_never_deleted(app, admin, now, plan_session, make_course):
    course = make_course(level="Level 3")
    plan_session(course=course, status=DRAFT)
    with pytest.raises(CourseError, match="retire it instead"):
        delete_course(course, admin)
    spare = make_course(level="Level 3")
    delete_course(spare, admin)
    db.session.commit()
    assert db.session.get(Course, spare.id) is None and db.session.get(Course, course.id) is not None


def test_deleting_a_mistaken_course_leaves_the_refresher_that_renewed_it_renewing_nothing(app, admin, make_course):
    mistake = make_course(title="Level 3 (typo)", refresher_months=36, level="Level 3")
    refresher = make_course(title="Level 3 Refresher", renews=mistake, level="Level 3")
    db.session.commit()
    delete_course(mistake, admin)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Course, mistake.id) is None
    assert db.session.get(Course, refresher.id).renews_course_id is None


def test_levels_are_data_mapped_to_intercollegiate_levels(app, admin):
    level = create_level("Level 3 refresher", "Level 3 core", admin)
    update_level(level, "Level 3 update", "Level 3 core (refresher)", admin)
    db.session.commit()
    assert db.session.get(Level, level.id).intercollegiate_level == "Level 3 core (refresher)"
    with pytest.raises(CourseError, match="already a level"):
        create_level("level 3 UPDATE", "", admin)


def test_a_venue_needs_a_name_and_address(app, admin):
    with pytest.raises(CourseError) as error:
        create_venue(VenueDetails(name=" ", address=""), admin)
    assert {f for f, _ in error.value.problems} == {"name", "address"}
    venue = create_venue(VenueDetails(name="Civic Centre", address="1 Square", access_information="Lift"), admin)
    assert venue.id and venue.active


# --- Sessions ----------------------------------------------------------------------------


def test_session_parts_are_london_times_stored_in_utc(app, admin, now, plan_session):
    session = plan_session(days=[("2027-03-26", "09:30", "16:30"), ("2027-03-30", "09:30", "16:30")], status=DRAFT)
    got = [(p.starts_at, p.ends_at) for p in session.parts]
    assert got == [(datetime(2027, 3, 26, 9, 30), datetime(2027, 3, 26, 16, 30)),  # GMT
                   (datetime(2027, 3, 30, 8, 30), datetime(2027, 3, 30, 15, 30))]  # BST
    assert (session.starts_at, session.ends_at) == (got[0][0], got[1][1])
    assert session.status == DRAFT and session.sequence == 0


@pytest.mark.parametrize("spans, field, message", [
    ([("2027-03-26", "16:30", "09:30")], "parts-0-ends_at", "Part 1: the end time must be after the start time"),
    ([("2027-03-26", "09:30", "16:30"), ("2027-03-26", "13:00", "17:00")], "parts-1-starts_at", "Part 2 overlaps part 1"),
    ([("2027-01-05", "09:30", "16:30")], "parts-0-date", "Part 1: the date must be in the future"),
    ([], "parts", "Enter the date and times of at least one part"),
])
def test_bad_dates_are_refused(app, admin, now, make_course, make_venue, spans, field, message):
    plan = plan_for(make_venue(), spans)
    with pytest.raises(CourseError) as error:
        create_session(make_course(level="Level 3"), plan, admin)
    assert (field, message) in error.value.problems
    db.session.rollback()
    assert count(Session) == 0 and count(SessionPart) == 0


def plan_for(venue, spans=(("2027-03-26", "09:30", "16:30"),), capacity=20, **fields):
    return SessionPlan(parts=parts(*spans), capacity=capacity, venue=venue, **fields)


def test_reservations_must_fit_and_name_one_sector_or_agency(app, admin, now, make_course, make_venue, make_agency):
    police = make_agency(sector="Police")
    health = make_agency(sector="Health - acute")
    plan = plan_for(make_venue(), capacity=10, reservations=[
        ReservationPlan(places=6, sector=police.sector),
        ReservationPlan(places=6, sector=health.sector),
        ReservationPlan(places=2, sector=police.sector, agency=health),
        ReservationPlan(places=2),
    ])
    with pytest.raises(CourseError) as error:
        create_session(make_course(level="Level 3"), plan, admin)
    problems = dict(error.value.problems)
    assert problems["reservations"] == "The reserved places add up to 12, more than the 10 places on the session"
    assert problems["reservations-2-sector_id"] == "Reserved places 3: choose a sector or an agency, not both"
    assert problems["reservations-3-sector_id"] == "Reserved places 4: choose the sector or agency the places are for"
    db.session.rollback()
    assert count(Session) == 0 and count(Reservation) == 0


def test_booking_window_must_make_sense(app, admin, now, make_course, make_venue):
    plan = plan_for(make_venue(), booking_opens_at=london("2027-03-01 09:00"),
                    booking_closes_at=london("2027-03-26 10:00"))
    with pytest.raises(CourseError) as error:
        create_session(make_course(level="Level 3"), plan, admin)
    assert ("booking_closes_at", "Booking must close before the session starts") in error.value.problems
    plan = plan_for(make_venue(), booking_opens_at=london("2027-03-20 09:00"),
                    booking_closes_at=london("2027-03-10 17:00"))
    with pytest.raises(CourseError) as error:
        create_session(make_course(level="Level 3"), plan, admin)
    assert ("booking_opens_at", "Booking must open before it closes") in error.value.problems


def test_a_session_needs_a_venue_or_a_secure_link(app, admin, now, make_course):
    with pytest.raises(CourseError) as error:
        create_session(make_course(level="Level 3"), plan_for(None), admin)
    assert error.value.field == "venue"
    with pytest.raises(CourseError) as error:
        create_session(make_course(level="Level 3"), plan_for(None, online_url="http://meet.example/x"), admin)
    assert error.value.field == "online_url"
    session = create_session(make_course(level="Level 3"), plan_for(None, online_url="https://meet.example/x"), admin)
    assert session.is_online


def test_capacity_cannot_go_below_the_places_held(app, admin, now, plan_session, make_user):
    session = plan_session(capacity=5)
    for _ in range(3):
        book(session, make_user())
    book(session, make_user(), status=BOOKING_CANCELLED)  # holds no place
    plan = plan_from_session(session)
    plan.capacity = 2
    with pytest.raises(CourseError) as error:
        update_session(session, plan, admin)
    assert error.value.problems == [("capacity", "3 places are already booked, so the capacity cannot be less than 3")]
    db.session.rollback()
    assert db.session.get(Session, session.id).capacity == 5
    plan.capacity = 3
    update_session(session, plan, admin)
    assert session.capacity == 3


def test_a_refused_edit_changes_nothing(app, admin, now, plan_session, make_venue):
    session = plan_session(days=[("2027-03-26", "09:30", "16:30")])
    plan = plan_from_session(session)
    plan.parts = parts(("2027-04-01", "09:30", "16:30"))
    plan.venue = make_venue("Elsewhere")
    plan.capacity = 0
    with pytest.raises(CourseError):
        update_session(session, plan, admin)
    db.session.rollback()
    fresh = db.session.get(Session, session.id)
    assert fresh.starts_at == datetime(2027, 3, 26, 9, 30) and fresh.venue.name == "Civic Centre"
    assert fresh.sequence == 0 and count(SessionChange) == 0


def test_changing_a_published_session_keeps_part_ids_and_records_the_change(app, admin, now, plan_session, make_venue):
    session = plan_session(days=[("2027-03-26", "09:30", "16:30"), ("2027-04-02", "09:30", "16:30")])
    ids = [p.id for p in session.parts]
    change_session_time(session, parts(("2027-03-26", "10:00", "16:30"), ("2027-04-09", "09:30", "16:30")), admin)
    db.session.commit()
    assert [p.id for p in session.parts] == ids
    assert session.parts[1].starts_at == datetime(2027, 4, 9, 8, 30)
    assert session.sequence == 1
    change_session_venue(session, make_venue("Riverside Hall"), admin)
    db.session.commit()
    assert session.sequence == 2
    changes = db.session.scalars(select(SessionChange).order_by(SessionChange.id)).all()
    assert [(c.kind, c.sequence, c.notified_at) for c in changes] == [("time", 1, None), ("venue", 2, None)]
    assert "26 March 2027, 9:30am" in changes[0].detail and "10:00am" in changes[0].detail
    assert changes[1].detail == "Was Civic Centre; now Riverside Hall"
    assert changes[0].actor_id == admin.id


def test_changes_that_people_need_not_hear_about_do_not_raise_the_sequence(app, admin, now, plan_session):
    session = plan_session()
    plan = plan_from_session(session)
    plan.capacity = 30
    plan.joining_instructions = "Bring a pen"
    update_session(session, plan, admin)
    assert session.sequence == 0 and count(SessionChange) == 0
    draft = plan_session(status=DRAFT)
    change_session_time(draft, parts(("2027-05-05", "09:30", "12:30")), admin)
    assert draft.sequence == 0 and count(SessionChange) == 0


def test_adding_and_removing_parts_keeps_the_first_parts(app, admin, now, plan_session):
    session = plan_session(days=[("2027-03-26", "09:30", "16:30")])
    first = session.parts[0].id
    change_session_time(session, parts(("2027-03-26", "09:30", "16:30"), ("2027-03-27", "09:30", "16:30")), admin)
    db.session.commit()
    assert [p.id for p in session.parts][0] == first and len(session.parts) == 2
    assert session.ends_at == datetime(2027, 3, 27, 16, 30)
    change_session_time(session, parts(("2027-03-26", "09:30", "13:00")), admin)
    db.session.commit()
    assert [p.id for p in session.parts] == [first] and count(SessionPart) == 1
    assert session.ends_at == datetime(2027, 3, 26, 13, 0)


def test_reserved_places_people_hold_cannot_be_taken_away(app, admin, now, plan_session, make_agency, make_user):
    police = make_agency(sector="Police")
    session = plan_session(capacity=10, reservations=[(police.sector, 2)])
    pool = session.reservations[0]
    book(session, make_user(agency=police), reservation=pool)
    plan = plan_from_session(session)
    plan.reservations = []
    with pytest.raises(CourseError, match="1 people hold the places reserved for Police"):
        update_session(session, plan, admin)
    db.session.rollback()
    plan = plan_from_session(session)
    plan.reservations[0].places = 4
    update_session(session, plan, admin)
    db.session.commit()
    assert db.session.get(Reservation, pool.id).places == 4  # the same row: bookings still point at it


def test_a_reservation_with_only_past_bookings_is_kept_without_places(
        app, admin, now, plan_session, make_agency, make_user):
    police = make_agency(sector="Police")
    session = plan_session(capacity=10, reservations=[(police.sector, 2)])
    pool = session.reservations[0]
    book(session, make_user(agency=police), reservation=pool, status=BOOKING_CANCELLED)
    plan = plan_from_session(session)
    plan.reservations = []
    update_session(session, plan, admin)
    db.session.commit()
    assert db.session.get(Reservation, pool.id).places == 0
    assert plan_from_session(session).reservations == []


def test_duplicating_copies_the_set_up_to_new_dates_across_a_clock_change(app, admin, now, plan_session, make_agency,
                                                                           make_user):
    police = make_agency(sector="Police")
    trainer = make_user(name="Tara Trainer", roles=("trainer",))
    session = plan_session(
        capacity=24, days=[("2027-03-19", "09:30", "16:30"), ("2027-03-22", "09:30", "16:30")],
        reservations=[(police.sector, 2)], trainers=[trainer], joining_instructions="Bring lunch",
        external_trainers="Dr Visiting", booking_closes_at=london("2027-03-17 17:00"),
    )
    copies = duplicate_session(session, [date(2027, 3, 26), date(2027, 6, 4)], admin)
    db.session.commit()
    first = copies[0]
    assert first.status == DRAFT and first.id != session.id
    assert [(p.starts_at, p.ends_at) for p in first.parts] == [
        (datetime(2027, 3, 26, 9, 30), datetime(2027, 3, 26, 16, 30)),  # GMT
        (datetime(2027, 3, 29, 8, 30), datetime(2027, 3, 29, 15, 30)),  # BST: still 9:30 in London
    ]
    assert {p.id for p in first.parts}.isdisjoint({p.id for p in session.parts})
    assert first.booking_closes_at == datetime(2027, 3, 24, 17, 0)
    assert (first.capacity, first.venue_id, first.joining_instructions, first.external_trainers) == (
        24, session.venue_id, "Bring lunch", "Dr Visiting")
    assert [t.name for t in first.trainers] == ["Tara Trainer"]
    assert [(r.sector_id, r.places) for r in first.reservations] == [(police.sector_id, 2)]
    assert copies[1].starts_at == datetime(2027, 6, 4, 8, 30)


def test_duplicating_to_a_past_date_copies_nothing(app, admin, now, plan_session):
    session = plan_session()
    with pytest.raises(CourseError) as error:
        duplicate_session(session, [date(2027, 4, 1), date(2026, 12, 1)], admin)
    assert error.value.field == "dates-1"
    assert "Copy on 1 December 2026: Part 1: the date must be in the future" == error.value.message
    db.session.rollback()
    assert count(Session) == 1


def test_publishing_many_is_all_or_nothing(app, admin, now, plan_session, make_course):
    course = make_course(title="Level 3", level="Level 3")
    good = [plan_session(course=course, status=DRAFT, days=[(f"2027-03-{d}", "09:30", "16:30")]) for d in (22, 23)]
    cancelled = plan_session(course=course, status=DRAFT, days=[("2027-03-24", "09:30", "16:30")])
    cancel_session(cancelled, "Not needed", admin)
    with pytest.raises(CourseError) as error:
        publish_sessions(good + [cancelled], admin)
    assert error.value.message == "Level 3 on 24 March 2027 is cancelled and cannot be published"
    db.session.rollback()
    assert all(db.session.get(Session, s.id).status == DRAFT for s in good)
    assert publish_sessions(good, admin) == good
    assert all(s.status == PUBLISHED for s in good)


def test_cancelling_records_the_reason_and_raises_the_sequence(app, admin, now, plan_session):
    session = plan_session()
    with pytest.raises(CourseError) as error:
        cancel_session(session, "  ", admin)
    assert error.value.field == "reason"
    cancel_session(session, "The trainer is ill", admin)
    db.session.commit()
    assert (session.status, session.cancellation_reason, session.sequence) == (CANCELLED, "The trainer is ill", 1)
    change = db.session.scalars(select(SessionChange)).one()
    assert (change.kind, change.detail, change.sequence, change.notified_at) == ("cancelled", "The trainer is ill", 1, None)
    with pytest.raises(CourseError, match="already cancelled"):
        cancel_session(session, "Again", admin)
    with pytest.raises(CourseError, match="cancelled and cannot be changed"):
        update_session(session, plan_from_session(session), admin)


def test_a_session_that_has_happened_cannot_be_cancelled(app, admin, now, plan_session, set_now):
    session = plan_session()
    set_now(datetime(2027, 3, 27))
    with pytest.raises(CourseError, match="already taken place"):
        cancel_session(session, "Too late", admin)


def test_only_unbooked_drafts_can_be_deleted(app, admin, now, plan_session, make_user):
    published = plan_session()
    with pytest.raises(CourseError, match="Only a draft"):
        delete_session(published, admin)
    draft = plan_session(status=DRAFT)
    delete_session(draft, admin)
    db.session.commit()
    assert db.session.get(Session, draft.id) is None


def test_plan_round_trip_shows_london_times(app, admin, now, plan_session):
    session = plan_session(days=[("2027-04-02", "09:30", "16:30")])
    plan = plan_from_session(session)
    assert plan.parts == [PartTimes(london("2027-04-02 09:30"), london("2027-04-02 16:30"))]
    assert session.starts_at == datetime(2027, 4, 2, 8, 30)
    assert timedelta(hours=7) == session.ends_at - session.starts_at
