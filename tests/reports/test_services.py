"""Report figures against hand-worked values, the needs import, and gap e-mails."""
from datetime import date, datetime

import pytest

from app.accounts.models import ADMIN
from app.email import OutboxMessage
from app.extensions import db
from app.filters import Filters, Period, Viewer, financial_year
from app.reports import figures
from app.reports.models import APPLIED, GapReminder, TnaLine, TrainingNeedsAnalysis
from app.clock import add_months
from app.reports.errors import ImportRefused, ReportsError
from app.reports.gaps import email_gap
from app.reports.needs import create_tna, save_line
from app.reports.needs_import import apply_import, preview_import, upload_tna_import
from tests.reports.conftest import YEAR_END, YEAR_START

YEAR = Period(YEAR_START, YEAR_END)
ALL = Viewer(None)


def _row(report, sector, training, agency=None):
    for row in report.rows:
        if row.sector == sector and row.training == training and row.agency == (agency or ""):
            return row
    raise AssertionError(f"no row {sector} / {training} / {agency}")


def test_attendance_against_need_matches_the_hand_count(dataset):
    report = figures.need_report(dataset.tna, YEAR, ALL)
    police_l3 = _row(report, "Police", "Any Level 3 course")
    # Ann attended, Bob did not turn up (booked), Dan walked in; Cat counts for the trust.
    assert (police_l3.needed, police_l3.booked, police_l3.attended, police_l3.gap,
            police_l3.percent_met, police_l3.refreshers) == (10, 3, 2, 8, 20, 1)
    north_l3 = _row(report, "Police", "Any Level 3 course", "Northbridge Police North")
    assert (north_l3.needed, north_l3.booked, north_l3.attended, north_l3.gap,
            north_l3.percent_met, north_l3.refreshers) == (6, 2, 1, 5, 17, 1)
    # Cat (booked from the trust, since moved) attended; Fay's place on the cancelled session is
    # left out but her booking for November counts; Eve cancelled late.
    health_l3 = _row(report, "Health - acute", "Any Level 3 course")
    assert (health_l3.needed, health_l3.booked, health_l3.attended, health_l3.gap,
            health_l3.percent_met, health_l3.refreshers) == (4, 2, 1, 3, 25, 1)
    police_scr = _row(report, "Police", "Serious Case Review workshop")
    assert (police_scr.booked, police_scr.attended, police_scr.gap, police_scr.percent_met) == (1, 1, 4, 20)
    health_scr = _row(report, "Health - acute", "Serious Case Review workshop")
    assert (health_scr.booked, health_scr.attended, health_scr.gap, health_scr.percent_met) == (1, 1, 1, 50)
    # Police met 3 of 15 (20%), health 2 of 6 (33%): police first.
    assert [(b.name, b.percent_met) for b in report.sectors] == [("Police", 20), ("Health - acute", 33)]


def test_a_coordinator_sees_only_their_agency_rows(dataset):
    report = figures.need_report(dataset.tna, YEAR, Viewer(frozenset({dataset.pol_a.id})))
    assert {(r.agency, r.training, r.needed, r.booked, r.attended) for r in report.rows} == {
        ("Northbridge Police North", "Any Level 3 course", 6, 2, 1),
        ("Northbridge Police North", "Serious Case Review workshop", None, 1, 1),
    }


def test_refreshers_due_are_the_latest_completions_falling_due_in_the_period(dataset):
    rows = db.session.execute(figures.refresher_rows(YEAR, ALL, Filters())).all()
    assert sorted((r.name, figures.due_on(r)) for r in rows) == [
        ("Ivy Ilsley", date(2026, 6, 1)), ("Kim Kettlewell", date(2026, 4, 15))]


def test_a_course_that_renews_level_3_takes_its_refresher_out_of_the_report(dataset, make_completion):
    def due_rows():
        rows = db.session.execute(figures.refresher_rows(YEAR, ALL, Filters())).all()
        return sorted((r.name, r.title, figures.due_on(r)) for r in rows)

    def refreshers():
        report = figures.need_report(dataset.tna, YEAR, ALL)
        return {(r.sector, r.agency, r.training): r.refreshers for r in report.rows}

    before, before_rows = refreshers(), due_rows()
    dataset.l3r.renews = dataset.l3
    db.session.flush()
    assert (refreshers(), due_rows()) == (before, before_rows), "a link alone changes nothing"

    make_completion(dataset.p.ivy, dataset.l3r, date(2026, 3, 1))  # Ivy's Level 3 was due 1 June 2026
    db.session.flush()
    assert due_rows() == [("Kim Kettlewell", "Safeguarding Level 3", date(2026, 4, 15))]
    after = refreshers()
    assert after[("Police", "", "Any Level 3 course")] == before[("Police", "", "Any Level 3 course")] - 1 == 0
    assert after[("Health - acute", "", "Any Level 3 course")] == before[("Health - acute", "", "Any Level 3 course")]

    # Renewed on a date that falls due inside the period, the refresher is due again, under Level 3.
    make_completion(dataset.p.leo, dataset.l3r, date(2023, 9, 1))  # Leo's Level 3 was due in 2025
    db.session.flush()
    assert ("Leo Lindqvist", "Safeguarding Level 3", date(2026, 9, 1)) in due_rows()


def test_learning_done_elsewhere_counts_for_the_refreshers_report_once_accepted(dataset):
    from app.bookings.models import ACCEPTED, PRIOR_LEARNING, Completion

    elsewhere = Completion(user=dataset.p.kim, course=dataset.l3, completed_on=date(2025, 11, 1),
                           source=PRIOR_LEARNING, provider="St Brigid's own training", evidence="L3 day")
    db.session.add(elsewhere)
    db.session.flush()
    names = lambda: sorted(r.name for r in db.session.execute(figures.refresher_rows(YEAR, ALL, Filters())))
    assert names() == ["Ivy Ilsley", "Kim Kettlewell"]
    elsewhere.check_result = ACCEPTED
    db.session.flush()
    assert names() == ["Ivy Ilsley"]


def test_people_behind_a_figure_follow_the_agency_at_booking(dataset):
    def names(measure, **filters):
        query = figures.booking_rows(YEAR, ALL, measure, Filters(**filters))
        return sorted(r.name for r in db.session.execute(query))

    assert names("attended", sector_id=dataset.health.id, level_id=dataset.level3.id) == ["Cat Castellane"]
    assert names("attended", sector_id=dataset.police.id, level_id=dataset.level3.id) == [
        "Ann Achterberg", "Dan Dunmore"]
    assert names("not_attended", sector_id=dataset.police.id) == ["Bob Bramwell"]
    assert names("walk_ins") == ["Dan Dunmore"]
    assert names("late_cancellations") == ["Eve Eskdale"]


def test_multi_agency_mix_flags_sessions_where_one_sector_filled_more_than_half(dataset):
    report = figures.mix_report(YEAR, ALL)
    by_id = {s.session_id: s for s in report.sessions}
    assert set(by_id) == {dataset.s1.id, dataset.s2.id, dataset.s4.id}  # not cancelled, in period
    first = by_id[dataset.s1.id]  # Ann and Dan (police), Cat (trust); Bob did not come
    assert [(name, n) for _, name, n in first.sectors] == [("Police", 2), ("Health - acute", 1)]
    assert (first.taking_part, first.largest_share, first.dominated) == (3, 67, True)
    assert (by_id[dataset.s2.id].largest_share, by_id[dataset.s2.id].dominated) == (50, False)
    assert {s.session_id for s in report.dominated} == {dataset.s1.id, dataset.s4.id}
    assert sorted((name, n) for _, name, n in report.sector_totals) == [("Health - acute", 3), ("Police", 3)]


def test_activity_per_agency(dataset):
    report = figures.activity_report(YEAR, ALL)
    rows = {r.agency: r for r in report.rows}
    north, south, trust = (rows["Northbridge Police North"], rows["Northbridge Police South"],
                           rows["St Brigid's Hospital"])
    assert (north.bookings, north.attendances, north.cancellations, north.late_cancellations,
            north.no_shows, north.walk_ins, north.charges_pence) == (3, 2, 0, 0, 1, 0, 5000)
    assert (south.bookings, south.attendances, south.walk_ins, south.charges_pence) == (0, 1, 1, 0)
    assert (trust.bookings, trust.attendances, trust.cancellations, trust.late_cancellations,
            trust.no_shows, trust.charges_pence) == (4, 2, 1, 1, 0, 5000)


def test_activity_leaves_out_waived_and_voided_charges(dataset, make_user):
    from app.attendance.models import Charge
    from app.attendance.charges import waive_charge
    from app.attendance.outcomes import correct_outcome
    from app.bookings.models import ATTENDED
    from app.extensions import db

    admin = make_user(roles=("admin",))
    [north_charge, trust_charge] = sorted(db.session.query(Charge).all(), key=lambda c: c.id)
    waive_charge(trust_charge, admin, "Illness")
    correct_outcome(north_charge.booking, ATTENDED, admin, "Signed in late; was there")
    db.session.commit()
    rows = {r.agency: r for r in figures.activity_report(YEAR, ALL).rows}
    assert rows["Northbridge Police North"].charges_pence == 0
    assert rows["St Brigid's Hospital"].charges_pence == 0


def test_annual_report_tables(dataset):
    report = figures.annual_report(YEAR, ALL)
    assert [(title, n) for _, title, n in report.events] == [
        ("Safeguarding Level 3", 3), ("Serious Case Review workshop", 2)]
    assert report.total == 5 and report.people == 5
    assert [(name, n) for _, name, n in report.by_sector] == [("Police", 3), ("Health - acute", 2)]
    assert report.evaluation is None  # no evaluation figures to show yet


def test_a_shorter_period_counts_only_its_sessions(dataset):
    may = Period(date(2026, 5, 1), date(2026, 5, 31))
    report = figures.annual_report(may, ALL)
    assert [(title, n) for _, title, n in report.events] == [("Safeguarding Level 3", 3)]


def test_periods_and_refresher_windows():
    assert financial_year(date(2027, 2, 1)) == Period(date(2026, 4, 1), date(2027, 3, 31))
    assert financial_year(date(2026, 4, 1)) == Period(date(2026, 4, 1), date(2027, 3, 31))
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    # Completions from 29 to 31 August fall due on 28 February, so a period ending then takes them.
    assert figures.completed_between_for_due(Period(date(2027, 2, 1), date(2027, 2, 28)), 6) == (
        date(2026, 8, 1), date(2026, 8, 31))
    assert figures.completed_between_for_due(Period(date(2027, 3, 1), date(2027, 3, 31)), 6) == (
        date(2026, 9, 1), date(2026, 9, 30))


# --- The needs import ------------------------------------------------------------------------------

HEADER = "sector,agency,course_code,course_title,level,staff_in_scope,needed\n"


def test_import_preview_shows_added_changed_and_unchanged_then_applies_everything(dataset, make_user):
    admin = make_user(roles=(ADMIN,))
    csv = (HEADER
           + "Police,,,,Level 3,100,10\n"                       # unchanged
           + "Health - acute,,,,Level 3,55,5\n"                 # changed (and scope moves to 55)
           + "Police,Northbridge Police South,,,Level 3,40,4\n"  # added
           + "Health - acute,,L3R,,,,\n")                       # blank template row: ignored
    pending = upload_tna_import(csv.encode(), "needs.csv", admin, tna=dataset.tna)
    preview = preview_import(pending)
    kinds = sorted((r.kind, r.line or 0) for r in preview.rows)
    # The trust's SCR line is not in the file (line 0), but its staff in scope follows the sector's.
    assert kinds == [("added", 4), ("changed", 0), ("changed", 3), ("unchanged", 2)]
    assert db.session.scalar(db.select(db.func.count()).select_from(TnaLine)) == 5  # nothing yet

    apply_import(pending, admin)
    db.session.commit()
    lines = {(l.sector.name, l.agency.name if l.agency else None, l.training_label): (l.staff_in_scope, l.needed)
             for l in dataset.tna.lines}
    assert lines[("Health - acute", None, "Any Level 3 course")] == (55, 5)
    assert lines[("Health - acute", None, "Serious Case Review workshop")] == (55, 2)
    assert lines[("Police", "Northbridge Police South", "Any Level 3 course")] == (40, 4)
    assert pending.status == APPLIED and (pending.added, pending.changed, pending.unchanged) == (1, 2, 1)
    with pytest.raises(ReportsError, match="already been applied"):
        apply_import(pending, admin)


def test_import_refuses_bad_rows_with_their_line_numbers_and_saves_nothing(dataset, make_user):
    admin = make_user(roles=(ADMIN,))
    csv = (HEADER
           + "Police,,,,Level 3,100,12\n"                         # 2: fine
           + "Martians,,,,Level 3,10,1\n"                         # 3
           + "Police,St Brigid's Hospital,,,Level 3,10,1\n"       # 4
           + "Police,,NOPE,,,10,1\n"                              # 5
           + "Police,,,,Level 9,10,1\n"                           # 6
           + "Police,,SCR,,,-3,1\n"                               # 7
           + "Police,,SCR,,,ten,1\n"                              # 8
           + "Police,,,,Level 3,100,5\n"                          # 9: duplicate of 2
           + "Police,Nowhere Agency,SCR,,,5,1\n"                  # 10
           + "Police,,SCR,,Level 3,100,1\n"                       # 11
           + "Health - acute,,SCR,,,10,20\n")                     # 12
    with pytest.raises(ImportRefused) as refused:
        upload_tna_import(csv.encode(), "bad.csv", admin, tna=dataset.tna)
    problems = dict(refused.value.problems)
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "unknown sector “Martians”" in problems[3]
    assert "St Brigid's Hospital is in the Health - acute sector, not Police" in problems[4]
    assert "unknown course code “NOPE”" in problems[5]
    assert "unknown level “Level 9”" in problems[6]
    assert "cannot be negative" in problems[7]
    assert "“ten” is not a whole number" in problems[8]
    assert "duplicates line 2" in problems[9]
    assert "unknown agency “Nowhere Agency”" in problems[10]
    assert "not both" in problems[11]
    assert "more than the staff in scope" in problems[12]
    db.session.rollback()
    police_l3 = db.session.scalar(db.select(TnaLine).where(TnaLine.needed == 10))
    assert police_l3 is not None  # the good row 2 was not applied either


def test_a_new_analysis_from_a_file_refuses_a_period_that_ends_before_it_starts(dataset, make_user):
    admin = make_user(roles=(ADMIN,))
    with pytest.raises(ReportsError, match="end on or after"):
        upload_tna_import((HEADER + "Police,,,,Level 3,1,1\n").encode(), "x.csv", admin, name="Next year",
                          starts_on=date(2027, 4, 1), ends_on=date(2027, 3, 1))
    pending = upload_tna_import((HEADER + "Police,,,,Level 3,1,1\n").encode(), "x.csv", admin,
                                name="Next year", starts_on=date(2027, 4, 1), ends_on=date(2028, 3, 31))
    tna = apply_import(pending, admin)
    assert (tna.name, len(tna.lines), tna.lines[0].needed) == ("Next year", 1, 1)


def test_a_refusal_carries_its_message_and_field_as_other_domains_errors_do(dataset, make_user):
    admin = make_user(roles=(ADMIN,))
    with pytest.raises(ReportsError) as refused:
        upload_tna_import((HEADER + "Police,,,,Level 3,1,1\n").encode(), "x.csv", admin, name="Next year",
                          starts_on=date(2027, 4, 1), ends_on=date(2027, 3, 1))
    assert refused.value.message == "The period must end on or after the day it starts."
    assert refused.value.field == "ends_on"
    with pytest.raises(ReportsError) as refused:  # an import's refusal is the same kind, with its problems
        upload_tna_import(b"", "x.csv", admin, name="N", starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))
    assert refused.value.message == "The file has 1 problem." and refused.value.problems == [(1, "The file is empty.")]


def test_missing_columns_and_empty_files_are_refused(app, make_user):
    admin = make_user(roles=(ADMIN,))
    with pytest.raises(ImportRefused) as refused:
        upload_tna_import(b"sector,needed\nPolice,3\n", "x.csv", admin, name="N",
                          starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))
    assert refused.value.problems[0][0] == 1 and "missing" in refused.value.problems[0][1]
    with pytest.raises(ImportRefused, match="1 problem"):
        upload_tna_import(b"", "x.csv", admin, name="N", starts_on=date(2026, 4, 1), ends_on=date(2027, 3, 31))


def test_saving_a_line_keeps_staff_in_scope_the_same_across_the_sector(dataset, make_user):
    admin = make_user(roles=(ADMIN,))
    save_line(dataset.tna, sector=dataset.police, agency=None, course=None, level=dataset.level3,
              staff_in_scope=120, needed=11, actor=admin,
              line=next(l for l in dataset.tna.lines if l.agency_id is None and l.sector_id == dataset.police.id
                        and l.level_id))
    police_sector_lines = [l for l in dataset.tna.lines if l.sector_id == dataset.police.id and not l.agency_id]
    assert {l.staff_in_scope for l in police_sector_lines} == {120}
    with pytest.raises(ReportsError, match="already has a line"):
        save_line(dataset.tna, sector=dataset.police, agency=None, course=dataset.scr, level=None,
                  staff_in_scope=120, needed=1, actor=admin)
    with pytest.raises(ReportsError, match="not both"):
        save_line(dataset.tna, sector=dataset.police, agency=None, course=dataset.scr, level=dataset.level3,
                  staff_in_scope=120, needed=1, actor=admin)
    with pytest.raises(ReportsError, match="end on or after"):
        create_tna("Backwards", date(2027, 1, 1), date(2026, 1, 1), admin)


# --- Acting on a gap --------------------------------------------------------------------------------

def test_gap_email_goes_to_coordinators_once_a_week(dataset, make_user, make_session, mailbox, deliver,
                                                    set_now):
    admin = make_user(roles=(ADMIN,))
    coordinator = make_user(name="Colin North", email="colin@example.org", agency=dataset.pol_a,
                            roles=("coordinator",))
    upcoming = make_session(dataset.l3, datetime(2026, 12, 3, 9, 30))
    db.session.commit()
    behind = figures.agencies_behind(dataset.tna, YEAR, dataset.police.id, None, dataset.level3.id)
    # North has its own need (1 of 6 met); South has none set, so it comes after.
    assert [b.agency.name for b in behind] == ["Northbridge Police North", "Northbridge Police South"]
    sessions = figures.upcoming_sessions(None, dataset.level3.id, datetime(2026, 10, 1))
    assert [s.id for s in sessions] == [dataset.s4.id, upcoming.id]

    def send():
        outcome = email_gap(dataset.tna, course=None, level=dataset.level3, agencies=[dataset.pol_a],
                            figures={dataset.pol_a.id: {"needed": 6, "attended": 1, "gap": 5}},
                            sessions=sessions, actor=admin)
        db.session.commit()
        return outcome

    assert [a.name for a in send().sent] == ["Northbridge Police North"]
    assert [a.name for a in send().already] == ["Northbridge Police North"]  # same week: not again
    deliver()
    [message] = mailbox.to("colin@example.org")
    body = message.get_body(("plain",)).get_content()
    assert "Still to train: 5" in body and "3 December 2026" in body
    set_now(datetime(2026, 10, 9, 9, 0))  # the next week
    assert [a.name for a in send().sent] == ["Northbridge Police North"]
    assert db.session.scalar(db.select(db.func.count()).select_from(GapReminder)) == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 2


def test_demo_needs_cover_level_3_and_the_serious_case_review_workshops(app, make_sector, make_level,
                                                                          make_course, set_now):
    import random

    from app.reports.demo import load_training_needs

    set_now(datetime(2026, 11, 1, 9, 0))
    for name in ("Police", "Health - acute", "Faith"):
        make_sector(name)
    level3 = make_level("Level 3")
    make_course("Serious Case Review workshop for practitioners", "SCR-P")
    make_course("Serious Case Review workshop for managers", "SCR-M")
    message = load_training_needs(random.Random(1))
    tna = db.session.scalar(db.select(TrainingNeedsAnalysis))
    assert (tna.starts_on, tna.ends_on) == (date(2026, 4, 1), date(2027, 3, 31))
    by_sector = {}
    for line in tna.lines:
        by_sector.setdefault(line.sector.name, []).append(line.training_label)
    assert sorted(by_sector["Police"]) == ["Any Level 3 course", "Serious Case Review workshop for managers",
                                           "Serious Case Review workshop for practitioners"]
    assert "Any Level 3 course" not in by_sector["Faith"]  # no Level 3 need set for faith groups
    assert all(0 < l.needed <= l.staff_in_scope for l in tna.lines)
    assert "8 lines" in message and level3.id  # police 3, acute health 3, faith 2


def test_files_left_unapplied_for_a_week_are_discarded_by_the_jobs_run(dataset, make_user, set_now):
    from app.jobs import run_jobs
    from app.reports.models import DISCARDED, PENDING, TnaImport

    admin = make_user(roles=(ADMIN,))
    old = upload_tna_import((HEADER + "Police,,,,Level 3,100,11\n").encode(), "old.csv", admin, tna=dataset.tna)
    db.session.commit()
    set_now(datetime(2026, 10, 5, 9, 0))
    recent = upload_tna_import((HEADER + "Police,,,,Level 3,100,12\n").encode(), "new.csv", admin,
                               tna=dataset.tna)
    db.session.commit()
    set_now(datetime(2026, 10, 9, 9, 0))
    assert run_jobs("reports_discard_stale_imports") == {"reports_discard_stale_imports": "1 discarded"}
    db.session.expire_all()
    assert (db.session.get(TnaImport, old.id).status, db.session.get(TnaImport, recent.id).status) == (
        DISCARDED, PENDING)
    with pytest.raises(ReportsError, match="already been applied or discarded"):
        apply_import(db.session.get(TnaImport, old.id), admin)
