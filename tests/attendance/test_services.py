"""The rules of registers and attendance, through the services."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.accounts.models import PENDING_APPROVAL, User
from app.attendance import certificates
from app.attendance.certificates import Refusal, add_certificate_gate, certificate_refusals, verify_certificate
from app.attendance.charges import raise_late_cancellation_charges, reinstate_charge, waive_charge
from app.attendance.errors import AttendanceError
from app.attendance.models import (
    CHARGE_DUE,
    CHARGE_LATE_CANCELLATION,
    CHARGE_TURNED_AWAY,
    CHARGE_VOID,
    CHARGE_WAIVED,
    Certificate,
    Charge,
    Suspension,
)
from app.attendance.outcomes import correct_outcome, mark_all_attended, mark_register
from app.attendance.pdfs import sign_in_sheet
from app.attendance.queries import training_record
from app.attendance.register import marking_window, register_bookings
from app.attendance.suspensions import active_suspension, lift_suspension
from app.attendance.walk_ins import add_walk_in, register_walk_in
from app.bookings.booking import book_place
from app.bookings.errors import BookingError
from app.bookings.models import (
    ATTENDED,
    CANCELLED,
    CONFIRMED,
    DID_NOT_ATTEND,
    PARTLY_ATTENDED,
    TURNED_AWAY,
    BookingEvent,
    Completion,
)
from app.clock import add_months
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.exports import csv_bytes
from app.extensions import db
from tests.attendance.conftest import COURSE, DAY, ROOM, at_london, pdf_text


@pytest.fixture
def people(make_user, make_agency):
    police = make_agency(name="Metropolitan Police - North", sector="Police")
    school = make_agency(name="Hillcrest Primary School", sector="Education - schools",
                         domains=("hillcrest.sch.example",))
    return {
        "trainer": make_user(name="Tara Pendleford", roles=("trainer",)),
        "other_trainer": make_user(name="Owen Trainer", roles=("trainer",)),
        "admin": make_user(name="Adaeze Fairweather", roles=("admin",)),
        "police": police,
        "school": school,
        "zoe": make_user(name="Zoë Ábrahams", agency=school, job_title="Teacher",
                         line_manager_email="head@hillcrest.sch.example"),
        "amir": make_user(name="Amir Young", agency=school, job_title="Teaching assistant"),
        "pc": make_user(name="Paul Constable", agency=police, job_title="Police constable",
                        line_manager_name="Sergeant Sam", line_manager_email="sam.sergeant@police.example"),
    }


@pytest.fixture
def course_session(people, make_session, make_course):
    return make_session(trainers=[people["trainer"]], course=make_course(**COURSE), starts_at=DAY, **ROOM)


def _on_the_day(set_now, hour=10):
    set_now(at_london(DAY.replace(hour=hour)))


# ---------------------------------------------------------------- when and who


def test_register_can_be_marked_from_the_first_day_until_the_setting_allows(
        app, people, course_session, make_booking, set_now):
    booking = make_booking(course_session, people["pc"])
    opens, closes = marking_window(course_session)
    assert opens == date(2027, 3, 3) and closes == date(2027, 3, 17)

    set_now(at_london(datetime(2027, 3, 2, 18, 0)))  # the evening before: download, not mark
    with pytest.raises(AttendanceError, match="from 3 March 2027"):
        mark_register(course_session, {booking.id: ATTENDED}, people["trainer"])
    with pytest.raises(AttendanceError, match="from 3 March 2027"):
        mark_register(course_session, {booking.id: ATTENDED}, people["admin"])

    set_now(at_london(datetime(2027, 3, 17, 23, 0)))  # last day of the window
    assert mark_register(course_session, {booking.id: ATTENDED}, people["trainer"]) == 1

    set_now(at_london(datetime(2027, 3, 18, 8, 0)))
    with pytest.raises(AttendanceError, match="closed on 17 March 2027"):
        mark_register(course_session, {booking.id: DID_NOT_ATTEND}, people["trainer"])
    with pytest.raises(AttendanceError, match="Correct a booking"):
        mark_register(course_session, {booking.id: DID_NOT_ATTEND}, people["admin"])
    # ...but an administrator can correct one booking, with a reason.
    correct_outcome(booking, DID_NOT_ATTEND, people["admin"], "Signed in for a colleague")
    assert booking.outcome == DID_NOT_ATTEND

    app.config["ATTENDANCE_MARKING_DAYS"] = 30
    assert marking_window(course_session)[1] == date(2027, 4, 2)


def test_months_are_added_as_people_count_them():
    assert add_months(date(2027, 3, 3), 36) == date(2030, 3, 3)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2027, 1, 15), -12) == date(2026, 1, 15)


def test_the_window_runs_from_the_last_part_of_a_multi_day_session(app, people, make_session, make_course):
    session = make_session(days=2, every_days=7, trainers=[people["trainer"]], course=make_course(**COURSE),
                           starts_at=DAY, **ROOM)
    assert marking_window(session) == (date(2027, 3, 3), date(2027, 3, 24))


def test_only_the_sessions_trainers_and_administrators_mark(app, people, course_session, make_booking, set_now):
    booking = make_booking(course_session, people["pc"])
    _on_the_day(set_now)
    for outsider in (people["other_trainer"], people["pc"]):
        with pytest.raises(AttendanceError, match="Only this session’s trainers"):
            mark_register(course_session, {booking.id: ATTENDED}, outsider)
    assert mark_register(course_session, {booking.id: ATTENDED}, people["admin"]) == 1


def test_a_cancelled_session_cannot_be_marked(app, people, course_session, make_booking, set_now):
    booking = make_booking(course_session, people["pc"])
    course_session.status = SESSION_CANCELLED
    _on_the_day(set_now)
    with pytest.raises(AttendanceError, match="cancelled"):
        mark_register(course_session, {booking.id: ATTENDED}, people["trainer"])


# ---------------------------------------------------------------- marking


def test_marking_writes_history_and_nothing_is_saved_in_part(
        app, people, course_session, make_booking, set_now):
    zoe = make_booking(course_session, people["zoe"])
    pc = make_booking(course_session, people["pc"])
    _on_the_day(set_now)
    with pytest.raises(AttendanceError):
        mark_register(course_session, {zoe.id: ATTENDED, pc.id: "asleep"}, people["trainer"])
    db.session.rollback()
    assert zoe.outcome is None and pc.outcome is None

    mark_register(course_session, {zoe.id: ATTENDED, pc.id: DID_NOT_ATTEND}, people["trainer"])
    db.session.commit()
    event = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == pc.id)).one()
    assert (event.from_outcome, event.to_outcome, event.actor_id) == (None, DID_NOT_ATTEND, people["trainer"].id)
    assert pc.outcome_marked_by_id == people["trainer"].id


def test_a_booking_not_on_the_register_cannot_be_marked(app, people, course_session, make_booking, set_now):
    waiting = make_booking(course_session, people["pc"], status="waiting")
    _on_the_day(set_now)
    with pytest.raises(AttendanceError, match="no longer on this register"):
        mark_register(course_session, {waiting.id: ATTENDED}, people["trainer"])


def test_all_attended_marks_only_those_not_yet_marked(app, people, course_session, make_booking, set_now):
    zoe = make_booking(course_session, people["zoe"])
    pc = make_booking(course_session, people["pc"])
    _on_the_day(set_now)
    mark_register(course_session, {pc.id: TURNED_AWAY}, people["trainer"])
    assert mark_all_attended(course_session, people["trainer"]) == 1
    assert (zoe.outcome, pc.outcome) == (ATTENDED, TURNED_AWAY)


def test_register_is_sorted_by_surname_then_first_name(app, people, course_session, make_booking,
                                                       make_user):
    for key in ("zoe", "pc", "amir"):
        make_booking(course_session, people[key])
    # The last word is the surname, whatever its case; first names settle a shared surname.
    make_booking(course_session, make_user(name="Ben van der young", agency=people["police"]))
    make_booking(course_session, make_user(name="Abel Young", agency=people["police"]))
    names = [b.user.name for b in register_bookings(course_session)]
    assert names == ["Zoë Ábrahams", "Paul Constable", "Abel Young", "Amir Young", "Ben van der young"]


# ---------------------------------------------------------------- completions and refreshers


def test_attendance_completes_the_course_and_starts_the_refresher_clock(
        app, people, make_session, make_course, make_booking, set_now):
    course = make_course(refresher_months=36, charge_pence=7500, level="Level 3")
    session = make_session(course=course, days=2, trainers=[people["trainer"]], starts_at=DAY, every_days=7, **ROOM)
    booking = make_booking(session, people["zoe"])
    _on_the_day(set_now)
    mark_register(session, {booking.id: ATTENDED}, people["trainer"])
    completion = db.session.scalars(select(Completion).where(Completion.booking_id == booking.id)).one()
    assert completion.source == "attendance"
    assert completion.completed_on == date(2027, 3, 10)  # the last part's day
    row = training_record(people["zoe"])[0]
    assert row.refresher_due == date(2030, 3, 10)
    assert row.refresher_state == ""
    set_now(at_london(datetime(2030, 1, 5, 9, 0)))
    assert training_record(people["zoe"])[0].refresher_state == "due soon"
    set_now(at_london(datetime(2030, 3, 11, 9, 0)))
    assert training_record(people["zoe"])[0].refresher_state == "overdue"


def test_a_later_completion_renews_an_earlier_one(app, people, make_course, make_session, make_booking, set_now):
    course = make_course(refresher_months=36, charge_pence=7500, level="Level 3")
    db.session.add(Completion(user_id=people["zoe"].id, course_id=course.id, completed_on=date(2020, 1, 1),
                              source="self_recorded"))
    session = make_session(course=course, trainers=[people["trainer"]], starts_at=DAY, **ROOM)
    booking = make_booking(session, people["zoe"])
    _on_the_day(set_now)
    mark_register(session, {booking.id: ATTENDED}, people["trainer"])
    newest, oldest = training_record(people["zoe"])
    assert (newest.refresher_state, oldest.refresher_state) == ("", "renewed")
    assert oldest.source_label == "Completed online"


def test_partly_attended_counts_only_when_an_administrator_says_so(
        app, people, course_session, make_booking, set_now):
    booking = make_booking(course_session, people["zoe"])
    _on_the_day(set_now)
    mark_register(course_session, {booking.id: PARTLY_ATTENDED}, people["trainer"])
    assert db.session.scalar(select(Completion).where(Completion.booking_id == booking.id)) is None
    assert "part of this course" in certificate_refusals(booking)[0].text

    correct_outcome(booking, PARTLY_ATTENDED, people["admin"], "Missed only the last hour",
                    counts_as_complete=True)
    assert db.session.scalar(select(Completion).where(Completion.booking_id == booking.id)) is not None
    note = db.session.scalars(select(BookingEvent).where(BookingEvent.booking_id == booking.id)
                              .order_by(BookingEvent.id.desc())).first()
    assert note.reason.startswith("Counted as complete.") and note.actor_id == people["admin"].id

    # The trainer saving the register again keeps the administrator's decision.
    mark_register(course_session, {booking.id: PARTLY_ATTENDED}, people["trainer"])
    assert db.session.scalar(select(Completion).where(Completion.booking_id == booking.id)) is not None


def test_corrections_need_an_administrator_and_a_reason(app, people, course_session, make_booking, set_now):
    booking = make_booking(course_session, people["zoe"])
    set_now(at_london(DAY - timedelta(days=1)))
    with pytest.raises(AttendanceError, match="not started"):
        correct_outcome(booking, ATTENDED, people["admin"], "Early")
    _on_the_day(set_now)
    with pytest.raises(AttendanceError, match="Only the L&D team"):
        correct_outcome(booking, ATTENDED, people["trainer"], "Because")
    with pytest.raises(AttendanceError, match="Say why") as exc:
        correct_outcome(booking, ATTENDED, people["admin"], "  ")
    assert exc.value.field == "reason"


# ---------------------------------------------------------------- charges


def test_no_shows_are_charged_to_the_booking_agency_and_corrections_void_them(
        app, people, make_course, make_session, make_booking, set_now):
    course = make_course(charge_pence=7500, refresher_months=36, level="Level 3")
    session = make_session(course=course, trainers=[people["trainer"]], starts_at=DAY, **ROOM)
    booking = make_booking(session, people["pc"])
    _on_the_day(set_now)
    mark_register(session, {booking.id: DID_NOT_ATTEND}, people["trainer"])
    charge = db.session.scalars(select(Charge)).one()
    assert (charge.agency_id, charge.amount_pence, charge.status, charge.incurred_on) == (
        people["police"].id, 7500, CHARGE_DUE, date(2027, 3, 3))

    mark_register(session, {booking.id: TURNED_AWAY}, people["trainer"])
    assert (charge.reason, charge.status) == (CHARGE_TURNED_AWAY, CHARGE_DUE)

    correct_outcome(booking, ATTENDED, people["admin"], "Arrived after the register was taken")
    assert charge.status == CHARGE_VOID
    correct_outcome(booking, DID_NOT_ATTEND, people["admin"], "It was a colleague who came")
    assert charge.status == CHARGE_DUE
    assert db.session.scalar(select(db.func.count()).select_from(Charge)) == 1


def test_the_charge_follows_the_agency_at_booking_time(app, people, course_session, make_booking, set_now):
    booking = make_booking(course_session, people["pc"], agency=people["school"])
    _on_the_day(set_now)
    mark_register(course_session, {booking.id: DID_NOT_ATTEND}, people["trainer"])
    assert db.session.scalars(select(Charge)).one().agency_id == people["school"].id


def test_a_free_course_raises_no_charge(app, people, make_course, make_session, make_booking, set_now):
    session = make_session(course=make_course(charge_pence=0, refresher_months=36, level="Level 3"),
                           trainers=[people["trainer"]], starts_at=DAY, **ROOM)
    booking = make_booking(session, people["pc"])
    _on_the_day(set_now)
    mark_register(session, {booking.id: DID_NOT_ATTEND}, people["trainer"])
    assert db.session.scalars(select(Charge)).all() == []


def test_administrators_waive_charges_with_a_reason(app, people, course_session, make_booking, set_now):
    booking = make_booking(course_session, people["pc"])
    _on_the_day(set_now)
    mark_register(course_session, {booking.id: DID_NOT_ATTEND}, people["trainer"])
    charge = db.session.scalars(select(Charge)).one()
    with pytest.raises(AttendanceError, match="Only the L&D team"):
        waive_charge(charge, people["trainer"], "Illness")
    with pytest.raises(AttendanceError, match="Say why"):
        waive_charge(charge, people["admin"], "")
    waive_charge(charge, people["admin"], "Illness")
    assert (charge.status, charge.waiver_reason, charge.waived_by_id) == (CHARGE_WAIVED, "Illness", people["admin"].id)
    with pytest.raises(AttendanceError):
        waive_charge(charge, people["admin"], "Again")
    reinstate_charge(charge, people["admin"])
    assert charge.status == CHARGE_DUE and charge.waiver_reason == ""


def test_late_cancellations_are_charged_once_by_the_job(app, people, make_session, make_course, make_booking, runner):
    session = make_session(trainers=[people["trainer"]], course=make_course(**COURSE), starts_at=DAY, **ROOM)
    late = make_booking(session, people["pc"], status=CANCELLED, late_cancellation=True)
    make_booking(session, people["zoe"], status=CANCELLED, late_cancellation=False)
    called_off = make_session(trainers=[people["trainer"]], starts_at=at_london(DAY + timedelta(days=30)),
                              course=make_course(**COURSE), **ROOM)
    make_booking(called_off, people["pc"], status=CANCELLED, late_cancellation=True)
    called_off.status = SESSION_CANCELLED
    db.session.commit()

    result = runner.invoke(args=["jobs", "run", "--only", "attendance_late_cancellation_charges"])
    assert "1 charges raised" in result.output
    charge = db.session.scalars(select(Charge)).one()
    assert (charge.booking_id, charge.reason, charge.amount_pence) == (late.id, CHARGE_LATE_CANCELLATION, 7500)
    assert raise_late_cancellation_charges() == 0


# ---------------------------------------------------------------- suspensions


def _no_show(session, booking, trainer, when):
    from app import clock

    clock.set_now(at_london(when))
    mark_register(session, {booking.id: DID_NOT_ATTEND}, trainer)
    db.session.commit()


def test_repeated_no_shows_suspend_booking_and_tell_the_person_and_manager(
        app, people, make_session, make_course, make_booking, set_now, mailbox, deliver):
    trainer, pc = people["trainer"], people["pc"]
    first = make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 1, 6, 9, 30)),
                         course=make_course(**COURSE), **ROOM)
    second = make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 3, 3, 9, 30)),
                          course=make_course(**COURSE), **ROOM)
    _no_show(first, make_booking(first, pc), trainer, datetime(2027, 1, 6, 12, 0))
    assert active_suspension(pc) is None
    _no_show(second, make_booking(second, pc), trainer, datetime(2027, 3, 3, 12, 0))

    suspension = active_suspension(pc)
    assert (suspension.starts_on, suspension.until) == (date(2027, 3, 3), date(2027, 9, 3))
    assert suspension.last_no_show_on == date(2027, 3, 3)
    deliver()
    to_person = mailbox.to(pc.email)
    to_manager = mailbox.to("sam.sergeant@police.example")
    assert len(to_person) == 1 and len(to_manager) == 1
    assert "3 September 2027" in to_person[0].get_body(("plain",)).get_content()
    assert "Paul Constable" in to_manager[0]["Subject"]

    set_now(at_london(datetime(2027, 9, 3, 9, 0)))
    assert active_suspension(pc) is None  # over on its last day


def test_a_suspended_person_cannot_book_until_the_suspension_is_lifted(
        app, people, make_session, make_course, set_now):
    # The rule is attendance's, added to who may book when the app starts (bookings never import it).
    pc, admin = people["pc"], people["admin"]
    set_now(at_london(datetime(2027, 3, 4, 9, 0)))
    db.session.add(Suspension(user=pc, starts_on=date(2027, 3, 3), until=date(2027, 9, 3),
                              reason="Two sessions missed without notice"))
    db.session.commit()
    session = make_session(starts_at=at_london(datetime(2027, 4, 7, 9, 30)), course=make_course(**COURSE), **ROOM)

    with pytest.raises(BookingError, match="Your booking is suspended until 3 September 2027 after sessions"):
        book_place(session, pc, pc)
    db.session.rollback()
    with pytest.raises(BookingError, match="Paul Constable’s booking is suspended until 3 September 2027"):
        book_place(session, pc, admin, on_behalf=True)
    db.session.rollback()
    assert book_place(session, people["amir"], people["amir"]).status == CONFIRMED, "others still book"

    lift_suspension(active_suspension(pc), admin, "Ill on both days")
    db.session.commit()
    assert book_place(session, pc, pc).status == CONFIRMED


def test_no_shows_outside_the_window_do_not_count(app, people, make_session, make_course, make_booking, set_now):
    trainer, pc = people["trainer"], people["pc"]
    old = make_session(trainers=[trainer], starts_at=at_london(datetime(2026, 1, 7, 9, 30)),
                       course=make_course(**COURSE), **ROOM)
    new = make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 3, 3, 9, 30)),
                       course=make_course(**COURSE), **ROOM)
    _no_show(old, make_booking(old, pc), trainer, datetime(2026, 1, 7, 12, 0))
    _no_show(new, make_booking(new, pc), trainer, datetime(2027, 3, 3, 12, 0))
    assert active_suspension(pc) is None

    app.config["NO_SHOW_WINDOW_MONTHS"] = 18
    third = make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 3, 10, 9, 30)),
                         course=make_course(**COURSE), **ROOM)
    booking = make_booking(third, people["zoe"])
    _no_show(third, booking, trainer, datetime(2027, 3, 10, 12, 0))
    assert active_suspension(people["zoe"]) is None  # one no-show of her own


def test_lifting_a_suspension_and_no_shows_are_not_counted_twice(
        app, people, make_session, make_course, make_booking, set_now, mailbox, deliver):
    trainer, pc, admin = people["trainer"], people["pc"], people["admin"]
    sessions = [make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 1, 6 + 7 * i, 9, 30)),
                             course=make_course(**COURSE), **ROOM) for i in range(4)]
    for index in (0, 1):
        _no_show(sessions[index], make_booking(sessions[index], pc), trainer, datetime(2027, 1, 6 + 7 * index, 12))
    suspension = active_suspension(pc)
    with pytest.raises(AttendanceError, match="Only the L&D team"):
        lift_suspension(suspension, trainer, "Ill")
    lift_suspension(suspension, admin, "Was in hospital both times")
    db.session.commit()
    assert active_suspension(pc) is None
    deliver()
    assert any(m["Subject"] == "You can book training again" for m in mailbox.to(pc.email))

    _no_show(sessions[2], make_booking(sessions[2], pc), trainer, datetime(2027, 1, 20, 12))
    assert active_suspension(pc) is None  # the two already counted are not counted again
    _no_show(sessions[3], make_booking(sessions[3], pc), trainer, datetime(2027, 1, 27, 12))
    assert active_suspension(pc) is not None
    assert db.session.scalar(select(db.func.count()).select_from(Suspension)) == 2


def test_correcting_a_counted_no_show_lifts_the_automatic_suspension(
        app, people, make_session, make_course, make_booking, set_now):
    trainer, pc, admin = people["trainer"], people["pc"], people["admin"]
    first = make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 1, 6, 9, 30)),
                         course=make_course(**COURSE), **ROOM)
    second = make_session(trainers=[trainer], starts_at=at_london(datetime(2027, 1, 13, 9, 30)),
                          course=make_course(**COURSE), **ROOM)
    _no_show(first, make_booking(first, pc), trainer, datetime(2027, 1, 6, 12))
    booking = make_booking(second, pc)
    _no_show(second, booking, trainer, datetime(2027, 1, 13, 12))
    suspension = active_suspension(pc)
    correct_outcome(booking, ATTENDED, admin, "He was there; signed on the wrong line")
    assert suspension.lifted_at is not None and active_suspension(pc) is None


# ---------------------------------------------------------------- walk-ins


def test_an_existing_person_walks_in(app, people, course_session, make_booking, set_now):
    _on_the_day(set_now)
    booking = add_walk_in(course_session, people["amir"], people["trainer"])
    assert (booking.status, booking.outcome, booking.walk_in, booking.agency_id) == (
        CONFIRMED, ATTENDED, True, people["school"].id)
    assert [(e.from_status, e.to_status) for e in booking.events][0] == (None, CONFIRMED)
    assert db.session.scalar(select(Completion).where(Completion.booking_id == booking.id)) is not None
    with pytest.raises(AttendanceError, match="already on the register"):
        add_walk_in(course_session, people["amir"], people["trainer"])


def test_someone_on_the_waiting_list_walks_in(app, people, course_session, make_booking, set_now):
    waiting = make_booking(course_session, people["zoe"], status="waiting")
    _on_the_day(set_now)
    booking = add_walk_in(course_session, people["zoe"], people["trainer"])
    assert booking.id == waiting.id and booking.status == CONFIRMED and booking.walk_in


def test_a_new_walk_in_is_checked_like_a_registration(app, people, course_session, set_now):
    _on_the_day(set_now)
    trainer, school = people["trainer"], people["school"]
    cases = [
        (dict(name="", email="new@hillcrest.sch.example", job_title="Teacher", agency=school), "name"),
        (dict(name="New Person", email="not-an-address", job_title="Teacher", agency=school), "email"),
        (dict(name="New Person", email="office@hillcrest.sch.example", job_title="Teacher", agency=school), "email"),
        (dict(name="New Person", email=people["zoe"].email, job_title="Teacher", agency=school), "email"),
        (dict(name="New Person", email="new@hillcrest.sch.example", job_title="", agency=school), "job_title"),
        (dict(name="New Person", email="new@hillcrest.sch.example", job_title="Teacher", agency=None), "agency_id"),
    ]
    for fields, field in cases:
        with pytest.raises(AttendanceError) as exc:
            register_walk_in(course_session, trainer, **fields)
        assert exc.value.field == field, fields
        db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "new@hillcrest.sch.example")) is None

    booking = register_walk_in(course_session, trainer, name=" Nia Okafor ", email="Nia.Okafor@Hillcrest.sch.example",
                               job_title="Teacher", agency=school)
    assert (booking.user.name, booking.user.email, booking.user.status) == ("Nia Okafor", "nia.okafor@hillcrest.sch.example", "active")
    outsider = register_walk_in(course_session, trainer, name="Gmail Person", email="gmail.person@gmail.example",
                                job_title="Volunteer", agency=school)
    assert outsider.user.status == PENDING_APPROVAL  # like registration: an address off the agency's domains waits


def test_walk_ins_are_refused_before_the_day(app, people, course_session, set_now):
    set_now(at_london(DAY - timedelta(days=1)))
    with pytest.raises(AttendanceError, match="can be marked from"):
        add_walk_in(course_session, people["amir"], people["trainer"])


# ---------------------------------------------------------------- certificates


def test_certificates_wait_for_the_gates_and_verify(app, people, course_session, make_booking, set_now,
                                                    only_test_gates):
    booking = make_booking(course_session, people["zoe"])
    assert "not been marked" in certificate_refusals(booking)[0].text
    _on_the_day(set_now)
    mark_register(course_session, {booking.id: ATTENDED}, people["trainer"])

    def first_evaluation(b):
        return "Complete the first evaluation to get your certificate." if b.user_id == people["zoe"].id else None

    add_certificate_gate(first_evaluation)
    add_certificate_gate(first_evaluation)  # twice is harmless
    assert certificates.certificate_gates == [first_evaluation]
    assert certificate_refusals(booking) == [Refusal("Complete the first evaluation to get your certificate.")]
    assert certificate_refusals(make_booking(course_session, people["pc"])) == [
        Refusal("Your attendance has not been marked yet. The trainer marks the register on the day.")]
    app.config["CERTIFICATE_REQUIRES_EVALUATION"] = False
    assert certificate_refusals(booking) == []

    code = db.session.scalars(select(Certificate)).one().code
    assert verify_certificate(code.lower().replace("-", " ")).booking_id == booking.id
    assert verify_certificate("AAAA-AAAA-AAAA") is None
    correct_outcome(booking, DID_NOT_ATTEND, people["admin"], "Someone else signed for her")
    assert verify_certificate(code) is None
    assert "did not attend" in certificate_refusals(booking)[0].text


# ---------------------------------------------------------------- downloads


def test_csv_opens_cleanly_in_a_spreadsheet():
    data = csv_bytes(["Name", "Date", "Amount"], [
        ["=HYPERLINK(\"http://evil\")", date(2027, 3, 3), 75],
        ["+44 20", datetime(2027, 7, 1, 8, 30), -5],
        ["@SUM(A1)", None, 1.5],
        ["-1+1", True, 0],
        ["\tTabbed", "Zoë", 2],
    ])
    assert data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Date", "Amount"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://evil\")", "'+44 20", "'@SUM(A1)", "'-1+1", "'\tTabbed"]
    assert rows[1][1] == "2027-03-03" and rows[2][1] == "2027-07-01 09:30"  # UK time
    assert rows[2][2] == "-5"  # numbers are left as numbers
    assert rows[3][1] == "" and rows[4][1] == "Yes" and rows[5][1] == "Zoë"


def test_sign_in_sheet_has_a_column_for_walk_ins_work_email(app, people, make_session, make_course, make_booking):
    session = make_session(trainers=[people["trainer"]], course=make_course(**COURSE), starts_at=DAY, **ROOM)
    make_booking(session, people["zoe"])
    reader = PdfReader(io.BytesIO(sign_in_sheet(session, register_bookings(session))))
    lines = reader.pages[0].extract_text().splitlines()
    header = next(line for line in lines if "Name" in line and "Signature" in line)
    assert re.search(r"Name\s+Agency\s+Sector\s+Job title\s+Access or dietary needs\s+"
                     r"Work e-mail \(walk-ins\)\s+Signature", header), header
    # The sheet goes round the room: booked people's addresses are not printed on it.
    assert people["zoe"].email not in "\n".join(lines)
    assert "work e-mail address in a blank row" in "\n".join(lines)


def test_sign_in_sheet_lists_people_by_surname(app, people, make_session, make_course, make_booking):
    session = make_session(trainers=[people["trainer"]], days=2, course=make_course(**COURSE), starts_at=DAY,
                           every_days=7, **ROOM)
    make_booking(session, people["pc"])
    make_booking(session, people["amir"])
    make_booking(session, people["zoe"], access_needs="Vegetarian; hearing loop")
    text = pdf_text(sign_in_sheet(session, register_bookings(session)))
    assert "Sign-in sheet: Safeguarding Level 3" in text
    assert "Northbridge Civic Centre, Room 2" in text
    assert "Wednesday 3 March 2027, 09:30 to 15:30" in text
    assert "Wednesday 10 March 2027" in text
    assert "Signature" in text and "Access or dietary needs" in text
    for expected in ("Zoë Ábrahams", "Hillcrest Primary School", "Education - schools", "Teacher",
                     "Vegetarian; hearing loop", "Police constable", "Tara Pendleford"):
        assert expected in text, expected
    assert text.index("Zoë Ábrahams") < text.index("Paul Constable") < text.index("Amir Young")
    assert "Walk-ins: please write" in text


def test_attending_a_refresher_course_renews_the_main_course_for_the_record_and_the_coordinator(
        app, people, make_course, make_session, make_booking, set_now):
    from app.reports.queries import agency_refreshers
    from app.bookings.models import ACCEPTED, PRIOR_LEARNING

    level3 = make_course("Safeguarding Level 3", refresher_months=36, charge_pence=7500, level="Level 3")
    refresher = make_course("Safeguarding Level 3 Refresher", refresher_months=None, renews=level3,
                            charge_pence=7500, level="Level 3")
    unlinked = make_course("Prevent", refresher_months=12, charge_pence=7500, level="Level 3")
    zoe, school = people["zoe"], people["school"]
    db.session.add_all([
        Completion(user_id=zoe.id, course_id=level3.id, completed_on=date(2023, 1, 10), source="attendance"),
        Completion(user_id=zoe.id, course_id=unlinked.id, completed_on=date(2026, 1, 10), source="attendance"),
    ])
    _on_the_day(set_now)
    assert [(r.course.title, r.refresher_state) for r in training_record(zoe)] == [
        ("Prevent", "overdue"), ("Safeguarding Level 3", "overdue")]
    assert [(r.course.title, r.state) for r in agency_refreshers(school)] == [
        ("Safeguarding Level 3", "overdue"), ("Prevent", "overdue")]

    session = make_session(course=refresher, trainers=[people["trainer"]], starts_at=DAY, **ROOM)
    mark_register(session, {make_booking(session, zoe).id: ATTENDED}, people["trainer"])
    record = {r.course.title: r for r in training_record(zoe)}
    assert record["Safeguarding Level 3"].refresher_state == "renewed"
    assert (record["Safeguarding Level 3 Refresher"].refresher_due,
            record["Safeguarding Level 3 Refresher"].refresher_state) == (date(2030, 3, 3), "")
    assert record["Prevent"].refresher_state == "overdue", "a course without a renewal link is unchanged"
    assert [(r.course.title, r.state) for r in agency_refreshers(school)] == [("Prevent", "overdue")]
    assert agency_refreshers(school, level3.id) == []

    # Level 3 done with another agency counts only once the L&D team accepts it.
    amir = people["amir"]
    db.session.add_all([
        Completion(user_id=amir.id, course_id=level3.id, completed_on=date(2023, 2, 1), source="attendance"),
        elsewhere := Completion(user_id=amir.id, course_id=level3.id, completed_on=date(2026, 12, 1),
                                source=PRIOR_LEARNING, provider="Northbridge Academy Trust", evidence="L3 day"),
    ])
    assert [r.completed_on for r in training_record(amir)] == [date(2023, 2, 1)]
    assert [r.person.name for r in agency_refreshers(school)] == ["Amir Young", "Zoë Ábrahams"]
    elsewhere.check_result = ACCEPTED
    assert [(r.completed_on, r.refresher_state, r.source_label) for r in training_record(amir)] == [
        (date(2026, 12, 1), "", "Done elsewhere: Northbridge Academy Trust"), (date(2023, 2, 1), "renewed", "Attended")]
    assert [r.person.name for r in agency_refreshers(school)] == ["Zoë Ábrahams"]
