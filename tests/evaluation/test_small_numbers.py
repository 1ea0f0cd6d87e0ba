"""No evaluation figure, page or export picks out a group smaller than SMALL_GROUP_MINIMUM (5).

One session of Safeguarding Level 3 has a lone police officer among five nurses (6 people); a
session of Prevent has four teachers (a group of 4); a session of Neglect has the five nurses
again (a group of exactly 5). Everyone answers the first evaluation.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.bookings.models import ATTENDED
from app.evaluation import figures
from app.evaluation.answering import submit_manager_comment
from app.evaluation.models import STAGE_ONE, STAGE_TWO, Invitation
from app.extensions import db
from app.filters import Filters
from app.jobs import run_jobs
from app.small_numbers import Hidden, hidden_cells, is_hidden, suppress
from tests.evaluation.conftest import SESSION_END, answer_by_key

HIDDEN = "fewer than 5"


@pytest.fixture
def groups(app, question_sets, make_course, make_session, make_booking, make_attendee, make_agency,
           set_now):
    police = make_agency(sector="Police")
    health = make_agency(sector="Health - acute")
    schools = make_agency(sector="Education")
    level3, prevent, neglect = (make_course(title=t) for t in ("Safeguarding Level 3", "Prevent", "Neglect"))
    mixed = make_session(level3, ends_at=SESSION_END, hours=7, venue=None)
    four = make_session(prevent, ends_at=SESSION_END + timedelta(days=1), hours=7, venue=None)
    five = make_session(neglect, ends_at=SESSION_END + timedelta(days=2), hours=7, venue=None)
    officer = make_attendee(name="Lone Officer", agency=police)
    nurses = [make_attendee(name=f"Nurse {n}", agency=health) for n in range(5)]
    teachers = [make_attendee(name=f"Teacher {n}", agency=schools) for n in range(4)]
    for person in [officer] + nurses:
        make_booking(mixed, person, outcome=ATTENDED, history=True)
    for person in teachers:
        make_booking(four, person, outcome=ATTENDED, history=True)
    for person in nurses:
        make_booking(five, person, outcome=ATTENDED, history=True)
    set_now(SESSION_END + timedelta(days=2, hours=1))
    run_jobs()
    db.session.expire_all()
    for invitation in db.session.scalars(select(Invitation).where(Invitation.stage == STAGE_ONE)):
        plan = "LONE-PLAN" if invitation.user_id == officer.id else f"Plan of booking {invitation.booking_id}"
        answer_by_key(invitation, apply_plan=plan, trainer=4)
    return {"police": police, "health": health, "schools": schools, "mixed": mixed, "four": four,
            "five": five}


def _table(html: str, name: str) -> str:
    start = html.index(f'data-figures="{name}"')
    return html[start:html.index("</table>", start)]


def _numbers(fragment: str) -> list[str]:
    """The figures in a table's cells (digits standing alone in a cell)."""
    found = re.findall(r"govuk-table__cell[^>]*>\s*(\d+(?:\.\d+)?%?)\s*<", fragment)
    return [n for n in found if n != "0"]  # nobody is in a group of none


# --- The rule -------------------------------------------------------------------------------------

def test_the_rule_hides_small_cells_and_those_that_would_give_one_away(app):
    assert hidden_cells([12, 3, 9, 0], least=5) == {1, 2}, "3 alone could be found from the total"
    assert hidden_cells([12, 2, 3, 7], least=5) == {1, 2}, "together they hold the minimum"
    assert hidden_cells([12, 1, 1, 7], least=5) == {1, 2, 3}
    assert hidden_cells([5, 6, 0], least=5) == set()
    assert suppress([3, 20, 8]) == [Hidden(), 20, Hidden()]
    assert str(Hidden()) == HIDDEN and is_hidden(suppress([1])[0]) and not is_hidden("fewer than 5")


# --- The figures ----------------------------------------------------------------------------------

def test_response_and_rating_figures_for_a_group_of_1_to_4_are_withheld_and_for_5_shown(app, groups):
    for small in (Filters(sector_id=groups["police"].sector_id),
                  Filters(sector_id=groups["schools"].sector_id), Filters(session_id=groups["four"].id)):
        counts = figures.stage_counts(small)[STAGE_ONE]
        assert (counts.sent, counts.responded, counts.rate) == (HIDDEN, HIDDEN, HIDDEN)
        ratings = figures.rating_distributions(small)
        assert ratings and all(d.total == HIDDEN and d.mean == HIDDEN and d.count(4) == HIDDEN
                               for d in ratings)
        confidence = figures.measure_means(ratings)[1]
        assert confidence.before == HIDDEN and confidence.counts[0] == HIDDEN
    five = Filters(session_id=groups["five"].id)
    counts = figures.stage_counts(five)[STAGE_ONE]
    assert (counts.sent, counts.responded) == (5, 5)
    trainer = next(d for d in figures.rating_distributions(five) if d.info.key == "trainer")
    assert trainer.counts[4] == 5 and trainer.mean == 4


def test_the_per_course_table_hides_a_small_course_and_the_one_that_would_give_it_away(app, groups):
    rows = {r.title: r for r in figures.per_course(Filters())}
    assert rows["Safeguarding Level 3"].counts[STAGE_ONE].sent == 6
    assert rows["Safeguarding Level 3"].means["confidence_before"] == pytest.approx(2)
    assert rows["Prevent"].counts[STAGE_ONE].sent == HIDDEN  # a group of 4
    # Neglect has 5, but with Prevent alone hidden, Prevent = total (15) - 6 - 5.
    assert rows["Neglect"].counts[STAGE_ONE].sent == HIDDEN
    assert rows["Prevent"].means["confidence_before"] == HIDDEN
    assert rows["Neglect"].means["confidence_before"] == HIDDEN
    assert figures.stage_counts(Filters())[STAGE_ONE].sent == 15


def test_the_anonymised_export_drops_what_would_place_an_answer_in_a_small_group(app, groups):
    rows = list(figures.anonymised_answer_rows(Filters()))
    columns = figures.ANSWER_COLUMNS
    course, date, sector = columns.index("course"), columns.index("session date"), columns.index("sector")
    answer = columns.index("answer")
    lone = next(r for r in rows if r[answer] == "LONE-PLAN")
    assert lone[sector] == "", "the only police officer at the session"
    assert lone[course] == "Safeguarding Level 3" and lone[date] == "2027-03-02", "six answered there"
    assert {r[sector] for r in rows if r[course] == "Safeguarding Level 3"} == {""}, \
        "five nurses and the officer: naming the nurses' sector would name the officer's by elimination"
    unplaced = [r for r in rows if r[course] == ""]
    assert len({r[0] for r in unplaced}) == 9, \
        "the four at Prevent, and the five at Neglect whose course would give Prevent's away"
    assert all(r[date] == "" and r[sector] == "" and r[columns.index("level")] == "" for r in unplaced)
    assert "Education" not in {r[sector] for r in rows} and "Prevent" not in {r[course] for r in rows}
    five = list(figures.anonymised_answer_rows(Filters(session_id=groups["five"].id)))
    assert {(r[course], r[date], r[sector]) for r in five} == {("Neglect", "2027-03-04", "Health - acute")}
    assert list(figures.anonymised_answer_rows(Filters(sector_id=groups["police"].sector_id))) == []


# --- The pages and exports --------------------------------------------------------------------------

def test_the_review_page_shows_no_figure_for_a_lone_officer_and_every_figure_for_five(
        client, groups, login_as, make_user):
    client = login_as(make_user(roles=("reviewer",)))
    police = client.get(f"/evaluation/review?sector_id={groups['police'].sector_id}").get_data(as_text=True)
    responses = _table(police, "responses")
    assert HIDDEN in responses and _numbers(responses) == []
    ratings = _table(police, "ratings").split("<tbody", 1)[1]
    rows = re.findall(r"<tr.*?</tr>", ratings, re.S)
    assert rows
    for row in rows:  # the question, the stage, then the five ratings, the answers and the mean: all withheld
        cells = re.findall(r"govuk-table__cell[^>]*>\s*(.*?)\s*</td>", row, re.S)
        assert cells[2:] == [HIDDEN] * 7, cells
    assert _numbers(_table(police, "means")) == []
    assert 'id="small-groups"' in police
    five = client.get(f"/evaluation/review?session_id={groups['five'].id}").get_data(as_text=True)
    assert _numbers(_table(five, "responses"))[:2] == ["5", "5"] and HIDDEN not in _table(five, "responses")
    summary = client.get(f"/evaluation/review/summary?sector_id={groups['schools'].sector_id}")
    assert summary.status_code == 200 and HIDDEN in summary.get_data(as_text=True)


def test_the_figure_exports_withhold_small_groups(client, groups, login_as, make_user):
    client = login_as(make_user(roles=("reviewer",)))
    query = f"?sector_id={groups['police'].sector_id}"
    rows = list(csv.reader(io.StringIO(
        client.get(f"/evaluation/review/figures.csv{query}").data.decode("utf-8-sig"))))
    assert ["Response rate", "Invitations sent", "1", HIDDEN, ""] in rows
    assert ["Response rate", "Responses", "1", HIDDEN, ""] in rows
    assert not any(r[0] == "Rating distribution" and r[3] not in (HIDDEN, "0") for r in rows)
    book = load_workbook(io.BytesIO(client.get(f"/evaluation/review/figures.xlsx{query}").data))
    values = [row for row in book.active.iter_rows(values_only=True)]
    assert ("Response rate", "Invitations sent", 1, HIDDEN, None) in values
    health = list(csv.reader(io.StringIO(client.get(
        f"/evaluation/review/figures.csv?session_id={groups['five'].id}").data.decode("utf-8-sig"))))
    assert ["Response rate", "Invitations sent", "1", "5", ""] in health


def test_written_answers_of_a_lone_officer_are_not_shown_by_sector_and_the_export_refuses(
        client, groups, login_as, make_user):
    client = login_as(make_user(roles=("reviewer",)))
    police = f"?sector_id={groups['police'].sector_id}"
    page = client.get(f"/evaluation/review/answers{police}").get_data(as_text=True)
    assert "LONE-PLAN" not in page and 'id="withheld-answers"' in page
    refused = client.get(f"/evaluation/review/answers.csv{police}")
    assert refused.status_code == 302 and "/evaluation/review?" in refused.location
    followed = client.get(refused.location).get_data(as_text=True)
    assert "cannot be downloaded without someone being picked out" in followed
    teachers = client.get("/evaluation/review/answers?course_id=").get_data(as_text=True)
    assert "Course not shown, session not shown" in teachers, "the four at Prevent"
    assert "Prevent" not in teachers.split("</form>", 1)[1]
    assert "Lone Officer" not in teachers


def test_administrators_who_see_names_see_every_written_answer(client, groups, login_as, make_user):
    admin = login_as(make_user(roles=("admin",)))
    named = admin.get(f"/evaluation/review/answers?sector_id={groups['police'].sector_id}").get_data(as_text=True)
    assert "LONE-PLAN" in named and "Lone Officer" in named, "administrators see who wrote what"


def test_a_managers_comment_on_a_session_nobody_answered_is_not_placed_there(app, groups, set_now):
    set_now(SESSION_END + timedelta(days=120))
    run_jobs()
    db.session.expire_all()
    second = list(db.session.scalars(select(Invitation).where(Invitation.stage == STAGE_TWO)))
    at_mixed = [i for i in second if i.session_id == groups["mixed"].id and i.user.name.startswith("Nurse")]
    for invitation in at_mixed:
        answer_by_key(invitation)
    prevent = next(i for i in second if i.session_id == groups["four"].id)
    submit_manager_comment(prevent, "PREVENT-MANAGER")
    db.session.commit()
    placed = figures.response_groups(Filters())
    [comment] = figures.manager_comments(Filters(), with_names=False, groups=placed)
    assert comment.text == "PREVENT-MANAGER"
    assert (comment.course, comment.session_starts_at, comment.submitted_at) == ("", None, None)
    assert figures.manager_comments(Filters(session_id=groups["four"].id), with_names=False,
                                    groups=figures.response_groups(Filters(session_id=groups["four"].id))) == []
