"""Learning from reviews: each recommendation's training, who attended it by sector, and what the
second evaluation says about practice, worked out by hand on a small built example (issue 17)."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.access_log import AccessLogEntry
from app.accounts.models import ADMIN, REVIEWER
from app.bookings.models import ATTENDED, DID_NOT_ATTEND, PARTLY_ATTENDED
from app.courses.models import AUDIT, CANCELLED, SERIOUS_CASE_REVIEW, LearningSource
from app.courses.recommendations import SourceDetails, add_recommendation, create_source, link_training
from app.evaluation.models import STAGE_TWO
from app.evaluation.question_sets import ensure_default_question_sets
from app.evaluation.sending import create_invitation
from app.extensions import db
from app.demo import load_demo
from app.filters import Period, Viewer, financial_year
from app.reports.published import for_publication
from app.reports.recommendations import recommendation_report, written_practice
from app.small_numbers import is_hidden
from tests.evaluation.conftest import answer_by_key

NOW = datetime(2026, 10, 1, 9, 0)
YEAR = Period(date(2026, 4, 1), date(2027, 3, 31))
ARGS = {"start": "2026-04-01", "end": "2027-03-31"}
EXAMPLE = "Shared the chronology with the school at the first strategy meeting."


@pytest.fixture
def example(app, set_now, make_agency, make_attendee, make_user, make_course, make_session, make_booking):
    """Child R (published) with two recommendations and an audit with one:

    - SCR workshop sessions A (May) and B (June), a cancelled one (July) and one before the period;
      Level 3 sessions C (linked to recommendation 2 on its own, and to the audit's) and D (linked to nothing).
    - A: six police attended (one of them partly), two from health attended, one from health did not come.
      B: one from education, and one of A's police officers again. C: three from health. D: four from education.
    - Recommendation 1 of Child R: the SCR workshop course. Recommendation 2: the course, session A
      again on its own, and session C. The audit's recommendation 1: session C only.
    - Six of A's police answered the second evaluation (four used the learning, two not yet; three
      changed information sharing); C's three from health answered it too.
    """
    set_now(NOW)
    pol, health, school = (make_agency("Northbridge Police", sector="Police"),
                           make_agency("St Brigid's Hospital", sector="Health - acute"),
                           make_agency("Hillside Primary", sector="Education"))
    admin = make_user(name="Adaeze Admin", roles=(ADMIN,), agency=health)
    scr = make_course("Learning from Child R", "SCR-R")
    level3 = make_course("Safeguarding Level 3", "L3")
    a = make_session(scr, datetime(2026, 5, 12, 9, 0))
    b = make_session(scr, datetime(2026, 6, 9, 9, 0))
    cancelled = make_session(scr, datetime(2026, 7, 14, 9, 0), status=CANCELLED)
    before = make_session(scr, datetime(2026, 3, 3, 9, 0))
    c = make_session(level3, datetime(2026, 7, 1, 9, 0))
    d = make_session(level3, datetime(2026, 8, 1, 9, 0))
    officers = [make_attendee(f"Officer {i}", agency=pol) for i in range(6)]
    a_bookings = [make_booking(a, p, outcome=PARTLY_ATTENDED if i == 0 else ATTENDED) for i, p in enumerate(officers)]
    nurses = [make_attendee(f"Nurse {i}", agency=health) for i in range(6)]
    a_bookings += [make_booking(a, nurses[0], outcome=ATTENDED), make_booking(a, nurses[1], outcome=ATTENDED)]
    make_booking(a, nurses[2], outcome=DID_NOT_ATTEND)
    teachers = [make_attendee(f"Teacher {i}", agency=school) for i in range(5)]
    make_booking(b, teachers[0], outcome=ATTENDED)
    make_booking(b, officers[0], outcome=ATTENDED)
    make_booking(cancelled, teachers[1], outcome=ATTENDED)
    make_booking(before, teachers[2], outcome=ATTENDED)
    c_bookings = [make_booking(c, nurse, outcome=ATTENDED) for nurse in nurses[3:6]]
    for teacher in teachers[1:5]:
        make_booking(d, teacher, outcome=ATTENDED)

    child_r = create_source(SourceDetails(SERIOUS_CASE_REVIEW, "Child R", date(2026, 2, 1)), admin)
    first = add_recommendation(child_r, 1, "Practitioners share chronologies with schools.", admin)
    second = add_recommendation(child_r, 2, "Health visitors escalate missed appointments.", admin)
    audit = create_source(SourceDetails(AUDIT, "Audit of neglect cases 2026"), admin)
    audited = add_recommendation(audit, 1, "Record the child's lived experience.", admin)
    link_training(first, [scr], [], admin)
    link_training(second, [scr], [a, c], admin)
    link_training(audited, [], [c], admin)
    db.session.commit()

    ensure_default_question_sets()
    later = datetime(2026, 9, 1, 9, 0)
    for i, booking in enumerate(a_bookings[:6]):
        invitation = create_invitation(booking, STAGE_TWO, later)
        answer_by_key(invitation, now=later, applied="yes" if i < 4 else "not_yet",
                      areas_changed=["information_sharing"] if i < 3 else [],
                      example=EXAMPLE if i == 0 else "")
    for booking in a_bookings[6:]:  # the two nurses were asked and have not answered
        create_invitation(booking, STAGE_TWO, later)
    for booking in c_bookings:
        answer_by_key(create_invitation(booking, STAGE_TWO, later), now=later, applied="no",
                      example="Asked the family about the child's day.")
    db.session.commit()
    return SimpleNamespace(admin=admin, first=first, second=second, audited=audited, scr=scr, a=a, c=c,
                           pol=pol, health=health, school=school)


def _rows(report):
    return {(row.source, row.number): row for row in report.rows}


def _sectors(row):
    return {name: n for _, name, n in row.by_sector}


def test_each_recommendation_counts_the_people_at_its_training_in_the_period_by_sector(example):
    rows = _rows(recommendation_report(YEAR, Viewer(None)))
    first, second, audited = rows[("Child R", 1)], rows[("Child R", 2)], rows[("Audit of neglect cases 2026", 1)]
    # The course's sessions A and B; not the cancelled one, nor the one before the period.
    assert first.sessions == 2
    assert first.people == 9  # six officers (one twice), two nurses, one teacher; the no-show is not counted
    assert _sectors(first) == {"Police": 6, "Health - acute": 2, "Education": 1}
    # A is linked twice (through the course and on its own) and counts once; C adds three nurses.
    assert second.sessions == 3
    assert second.people == 12
    assert _sectors(second) == {"Police": 6, "Health - acute": 5, "Education": 1}
    assert audited.sessions == 1 and audited.people == 3 and _sectors(audited) == {"Health - acute": 3}
    assert first.training == ["Learning from Child R (every session)"]
    assert second.training[1:] == ["Learning from Child R, 12 May 2026", "Safeguarding Level 3, 1 July 2026"]
    # A period that holds only session B.
    june = _rows(recommendation_report(Period(date(2026, 6, 1), date(2026, 6, 30)), Viewer(None)))
    assert june[("Child R", 1)].people == 2 and june[("Audit of neglect cases 2026", 1)].sessions == 0


def test_the_second_evaluation_says_how_practice_changed_and_nothing_for_fewer_than_five(example):
    rows = _rows(recommendation_report(YEAR, Viewer(None)))
    first = rows[("Child R", 1)]
    assert first.responses == 6
    applied = next(q for q in first.practice if q.key == "applied")
    assert applied.respondents == 6
    assert [(c.label, c.people, round(c.share, 2)) for c in applied.rows] == [
        ("Yes", 4, 0.67), ("No", 0, 0.0), ("Not yet", 2, 0.33)]
    areas = {c.label: c.people for c in next(q for q in first.practice if q.key == "areas_changed").rows}
    assert areas["Information sharing"] == 3 and areas["Joint working with other agencies"] == 0
    # Recommendation 2 adds C's three nurses, who had not used it.
    second = rows[("Child R", 2)]
    assert second.responses == 9
    assert [(c.label, c.people) for c in next(q for q in second.practice if q.key == "applied").rows] == [
        ("Yes", 4), ("No", 3), ("Not yet", 2)]
    # Three answers to the audit's training: withheld, even from the L&D team.
    audited = rows[("Audit of neglect cases 2026", 1)]
    assert is_hidden(audited.responses) and audited.practice == []

    responses, questions = written_practice(example.first, YEAR)
    assert responses == 6 and [(q.question, q.answers) for q in questions] == [
        ("Give a specific example of how you used it", [EXAMPLE])]
    responses, questions = written_practice(example.audited, YEAR)
    assert is_hidden(responses) and questions == []


def test_beyond_the_l_and_d_team_small_sector_counts_are_withheld_with_those_that_would_give_them_away(
        example):
    published = _rows(for_publication(recommendation_report(YEAR, Viewer(None))))
    first = published[("Child R", 1)]
    assert first.people == 9
    # Health 2 and Education 1 hold 3: Police 6 goes too, or the total would give their sum.
    assert all(is_hidden(n) for n in _sectors(first).values())
    second = published[("Child R", 2)]
    sectors = _sectors(second)
    assert is_hidden(sectors["Education"]) and is_hidden(sectors["Health - acute"]) and sectors["Police"] == 6
    audited = published[("Audit of neglect cases 2026", 1)]
    assert is_hidden(audited.people) and is_hidden(_sectors(audited)["Health - acute"])


def test_reviewers_read_it_coordinators_do_not_and_the_written_answers_page_is_logged(
        example, make_user, login_as, client):
    coordinator = make_user(name="Cora Coordinator", roles=("coordinator",), agency=example.pol)
    login_as(coordinator)
    assert client.get("/reports/recommendations", query_string=ARGS).status_code == 403
    assert client.get("/reports/recommendations.csv", query_string=ARGS).status_code == 403
    assert client.get(f"/reports/recommendations/{example.first.id}/written", query_string=ARGS).status_code == 403
    assert "Learning from reviews" not in client.get("/reports").get_data(as_text=True)
    client.post("/sign-out")

    reviewer = make_user(name="Rhiannon Reviewer", roles=(REVIEWER,), agency=example.health)
    login_as(reviewer)
    page = client.get("/reports/recommendations", query_string=ARGS)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Practitioners share chronologies with schools." in text
    assert "fewer than 5" in text and "Information sharing" in text
    assert EXAMPLE not in text  # written answers are on their own page
    rows = list(csv.reader(io.StringIO(client.get("/reports/recommendations.csv", query_string=ARGS)
                                       .data.decode("utf-8-sig"))))
    assert ["Child R", "1", "Police", "fewer than 5"] in rows
    assert ["Audit of neglect cases 2026", "1", "Health - acute", "fewer than 5"] in rows
    assert db.session.scalar(select(db.func.count()).select_from(AccessLogEntry)) == 0  # counts only

    written = client.get(f"/reports/recommendations/{example.first.id}/written", query_string=ARGS)
    assert written.status_code == 200 and EXAMPLE in written.get_data(as_text=True)
    assert "Officer" not in written.get_data(as_text=True)
    entries = db.session.scalars(select(AccessLogEntry)).all()
    assert [(e.viewer_id, e.kind, e.scope) for e in entries] == [
        (reviewer.id, "evaluation_answers", f"recommendation {example.first.id}, 2026-04-01 to 2027-03-31")]
    withheld = client.get(f"/reports/recommendations/{example.audited.id}/written", query_string=ARGS)
    assert withheld.status_code == 200 and "Asked the family" not in withheld.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(AccessLogEntry)) == 1  # nothing shown, nothing logged
    assert client.get("/reports/recommendations/999999/written", query_string=ARGS).status_code == 404


def test_the_l_and_d_team_see_exact_counts(example, login_as, client):
    login_as(example.admin)
    text = client.get("/reports/recommendations", query_string=ARGS).get_data(as_text=True)
    assert "do not publish them" in text
    rows = list(csv.reader(io.StringIO(client.get("/reports/recommendations.csv", query_string=ARGS)
                                       .data.decode("utf-8-sig"))))
    assert ["Child R", "1", "Police", "6"] in rows and ["Child R", "1", "Education", "1"] in rows
    # The evaluation's small groups stay withheld for them too.
    assert ["Audit of neglect cases 2026", "Audit", "1"] in [r[:3] for r in rows if len(r) == 9]
    assert [r[-1] for r in rows if len(r) == 9 and r[0] == "Audit of neglect cases 2026"] == ["fewer than 5"]


def test_the_demo_shows_a_serious_case_review_with_its_recommendations_and_the_people_trained(app):
    load_demo()
    db.session.commit()
    child_r = db.session.scalar(select(LearningSource).where(LearningSource.title == "Child R"))
    assert child_r.kind == SERIOUS_CASE_REVIEW and len(child_r.recommendations) == 3
    assert [c.code for c in child_r.recommendations[0].courses] == ["SCR-PRAC"]
    report = recommendation_report(financial_year(), Viewer(None))
    first = _rows(report)[("Child R", 1)]
    assert first.sessions >= 1 and first.people > 0 and first.by_sector
    assert report.rows[0].source == "Child R"  # serious case reviews first, the newest first
