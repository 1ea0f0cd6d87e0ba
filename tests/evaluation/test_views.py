"""The evaluation pages as people use them: answering by link, the learner's list, the figures,
the exports, and the L&D team's screens."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.bookings.models import ATTENDED, Completion
from app.evaluation.answering import field_name, questions_for
from app.evaluation.course_settings import update_course_setting
from app.evaluation.defaults import NO_NAMES_HINT
from app.evaluation.links import invitation_token
from app.evaluation.models import STAGE_ONE, STAGE_TWO, Invitation, ManagerComment, QuestionSet, Response
from app.evaluation.question_sets import current_question_set
from app.extensions import db
from app.jobs import run_jobs
from tests.evaluation.conftest import SESSION_END, STAGE_ONE_DEFAULTS, answer_by_key, link_in
from tests.security import assert_security_headers


def _invite(set_now, moment):
    set_now(moment)
    run_jobs()
    db.session.expire_all()
    return list(db.session.scalars(select(Invitation).order_by(Invitation.id)))


@pytest.fixture
def invited(app, question_sets, make_session, make_booking, make_user, set_now, mailbox):
    person = make_user(name="Lena Marchbank", email="lena@example.org")
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    make_booking(session, person, outcome=ATTENDED, history=True)
    [invitation] = _invite(set_now, SESSION_END + timedelta(hours=1))
    return {"person": person, "session": session, "invitation": invitation,
            "path": link_in(mailbox.to("lena@example.org")[0])}


def _form_for(invitation, **overrides):
    values = {**STAGE_ONE_DEFAULTS, **overrides}
    data = {}
    for question in questions_for(invitation):
        if question.key in values and values[question.key] is not None:
            data[field_name(question)] = values[question.key]
    return data


def test_the_emailed_link_opens_the_form_without_signing_in(client, invited):
    page = client.get(invited["path"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert invited["session"].course.title in html
    assert "How confident were you in this area of your work before the course?" in html
    assert "1 – Not at all confident" in html and "5 – Very confident" in html
    assert "Any other comments (optional)" in html
    # A question without a hint shows none (it showed "None" under every rating question).
    assert "None" not in html
    assert html.count('class="govuk-hint"') == html.count(NO_NAMES_HINT) > 0


def test_missing_required_answers_show_in_the_error_summary_and_nothing_is_saved(client, invited):
    invitation = invited["invitation"]
    page = client.post(invited["path"], data=_form_for(invitation, trainer=None, apply_plan=""))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "There is a problem" in html
    assert "Select an answer for “The trainer or trainers”" in html
    assert "Answer “How will you apply this learning? What will you do differently?”" in html
    knowledge = field_name(next(q for q in questions_for(invitation) if q.key == "knowledge_before"))
    assert f'name="{knowledge}" type="radio" value="2" checked' in html, "answers given are kept"
    assert 'href="#' + field_name(next(q for q in questions_for(invitation) if q.key == "trainer")) + '"' in html
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_an_answer_beyond_the_scale_is_refused(client, invited):
    page = client.post(invited["path"], data=_form_for(invited["invitation"], trainer="9"))
    assert "Choose a number from 1 to 5" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_answering_once_then_the_link_says_it_was_sent(client, invited):
    page = client.post(invited["path"], data=_form_for(invited["invitation"]))
    assert "Evaluation sent" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invitation, invited["invitation"].id).submitted_at is not None

    again = client.get(invited["path"])
    assert again.status_code == 200
    assert "You have already sent this evaluation" in again.get_data(as_text=True)
    resent = client.post(invited["path"], data=_form_for(invited["invitation"], trainer="1"))
    assert "You have already sent this evaluation" in resent.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Response.id))) == 1


def test_tampered_and_expired_links_explain_and_change_nothing(client, invited, set_now):
    tampered = client.get(invited["path"][:-4] + "abcd")
    assert tampered.status_code == 400
    assert "This link does not work" in tampered.get_data(as_text=True)
    assert client.get("/evaluation/answer/not-a-token").status_code == 400

    set_now(SESSION_END + timedelta(days=30))
    closed = client.post(invited["path"], data=_form_for(invited["invitation"]))
    assert closed.status_code == 410
    html = closed.get_data(as_text=True)
    assert "This evaluation has closed" in html and "send it to you again" in html
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_the_training_record_links_the_certificate_to_the_evaluation_it_waits_for(
        client, invited, login_as, set_now):
    booking = invited["invitation"].booking
    # What the register records when it marks the person attended.
    db.session.add(Completion(user_id=booking.user_id, course_id=booking.session.course_id,
                              completed_on=SESSION_END.date(), source="attendance", booking_id=booking.id))
    db.session.commit()
    login_as(invited["person"])
    page = client.get("/my-training").get_data(as_text=True)
    assert "not available yet" not in page
    link = f'{invited["path"]}">Answer the evaluation</a>'
    assert f"{link} to get your certificate (open until 30 March 2027)." in page
    assert link in client.get(f"/my-training/certificates/{booking.id}").get_data(as_text=True)

    set_now(SESSION_END + timedelta(days=30))
    page = client.get("/my-training").get_data(as_text=True)
    assert ("Answer the evaluation to get your certificate. Your link to it has closed: "
            "contact the L&amp;D team") in page
    assert invited["path"] not in page

    set_now(SESSION_END + timedelta(days=1))
    answer_by_key(invited["invitation"])
    page = client.get("/my-training").get_data(as_text=True)
    assert "ready to download" in page and "Answer the evaluation" not in page


def test_the_learner_sees_evaluations_waiting_for_them(client, invited, login_as, make_user):
    client = login_as(invited["person"])
    home = client.get("/").get_data(as_text=True)
    assert "My evaluations" in home
    page = client.get("/evaluation/mine").get_data(as_text=True)
    assert invited["session"].course.title in page
    assert "/evaluation/answer/" in page and "Nothing is waiting for you" not in page

    answer_by_key(invited["invitation"])
    page = client.get("/evaluation/mine").get_data(as_text=True)
    assert "Nothing is waiting for you" in page and "Sent on" in page


def test_someone_else_sees_none_of_them(client, invited, login_as, make_user):
    client = login_as(make_user())
    page = client.get("/evaluation/mine").get_data(as_text=True)
    assert "Nothing is waiting for you" in page
    assert invited["session"].course.title not in page


def test_the_line_manager_comments_once_by_their_own_link(client, app, question_sets, make_session,
                                                          make_booking, make_user, set_now, mailbox):
    admin = make_user(roles=("admin",))
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    update_course_setting(session.course, admin, manager_copy=True, certificate_needs_evaluation=True)
    make_booking(session, make_user(name="Jonah Ilsley", line_manager_email="manager@example.org"),
                 outcome=ATTENDED, history=True)
    _invite(set_now, SESSION_END + timedelta(days=92))
    path = link_in(mailbox.to("manager@example.org")[0])
    page = client.get(path).get_data(as_text=True)
    assert "Jonah Ilsley attended" in page
    empty = client.post(path, data={"comment": "  "})
    assert "Enter your comment" in empty.get_data(as_text=True)
    sent = client.post(path, data={"comment": "He now brings the chronology to supervision."})
    assert "Comment sent" in sent.get_data(as_text=True)
    assert db.session.scalar(select(ManagerComment.comment)) == "He now brings the chronology to supervision."
    assert "already sent your comment" in client.get(path).get_data(as_text=True)
    # The learner's link cannot be used as the manager's, nor the other way round.
    [stage_two] = [i for i in db.session.scalars(select(Invitation)) if i.stage == STAGE_TWO]
    assert client.get(f"/evaluation/manager/{invitation_token(stage_two)}").status_code == 400


# --- What the L&D sub-group sees --------------------------------------------------------------------

@pytest.fixture
def answered(app, every_figure, invited, make_session, make_booking, make_user, set_now):
    """Lena answered both stages: confidence 2 before, 4 after, 5 months later."""
    answer_by_key(invited["invitation"], confidence_before=2, confidence_after=4,
                  comments="Loved the case studies")
    invitations = _invite(set_now, SESSION_END + timedelta(days=92))
    second = next(i for i in invitations if i.stage == STAGE_TWO)
    answer_by_key(second, applied="yes", confidence_now=5, areas_changed=["joint_working"])
    return invited


def test_reviewers_see_the_figures_and_charts_without_names(client, answered, login_as, make_user):
    client = login_as(make_user(roles=("reviewer",)))
    page = client.get("/evaluation/review")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Confidence rose for <strong>1 of 1</strong> people (100%)" in html
    assert html.count('role="img"') == 4 and "<title id=\"chart-shift-title\">" in html
    assert "Lena Marchbank" not in html
    answers = client.get("/evaluation/review/answers").get_data(as_text=True)
    assert "Loved the case studies" in answers and "Lena Marchbank" not in answers


def test_administrators_can_see_who_answered(client, answered, login_as, make_user):
    client = login_as(make_user(roles=("admin",)))
    answers = client.get("/evaluation/review/answers").get_data(as_text=True)
    assert "Lena Marchbank" in answers and "Loved the case studies" in answers
    session_page = client.get(f"/evaluation/invitations?session_id={answered['session'].id}")
    assert "Lena Marchbank" in session_page.get_data(as_text=True)


def test_review_pages_are_for_reviewers_and_administrators(client, answered, login_as, make_user):
    assert client.get("/evaluation/review").status_code == 302  # to sign in
    client = login_as(make_user(roles=("trainer", "coordinator")))
    for path in ("/evaluation/review", "/evaluation/review/answers", "/evaluation/review/summary",
                 "/evaluation/review/figures.csv", "/evaluation/review/figures.xlsx",
                 "/evaluation/review/answers.csv", "/evaluation/questions", "/evaluation/courses", "/evaluation/invitations"):
        assert client.get(path).status_code == 403, path


def test_filters_narrow_the_figures_and_bad_dates_are_explained(client, answered, login_as, make_user):
    client = login_as(make_user(roles=("reviewer",)))
    later = client.get("/evaluation/review?date_from=1&date_from=4&date_from=2027").get_data(as_text=True)
    assert "No one in this selection has answered both evaluations yet." in later
    bad = client.get("/evaluation/review?date_from=31&date_from=2&date_from=2027").get_data(as_text=True)
    assert "Enter a real date" in bad and "There is a problem" in bad
    backwards = client.get("/evaluation/review?date_from=1&date_from=4&date_from=2027"
                           "&date_to=1&date_to=3&date_to=2027").get_data(as_text=True)
    assert "The end date must be the same as or after the start date" in backwards
    assert client.get("/evaluation/review?session_id=99999").status_code == 404


def test_csv_exports_have_the_figures_and_anonymised_answers(client, answered, login_as, make_user):
    client = login_as(make_user(roles=("reviewer",)))
    figures_csv = client.get("/evaluation/review/figures.csv")
    assert figures_csv.mimetype == "text/csv"
    assert figures_csv.data.startswith("\ufeff".encode()), "a BOM, so Excel reads UTF-8"
    rows = list(csv.reader(io.StringIO(figures_csv.data.decode("utf-8-sig"))))
    assert rows[0] == ["section", "measure", "stage", "value", "count"]
    assert ["Confidence shift", "Share whose confidence rose (%)", "2", "100.0", ""] in rows

    answers_csv = client.get("/evaluation/review/answers.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(answers_csv)))
    assert rows[0][:3] == ["response", "stage", "question set version"]
    assert any(r[8] == "confidence_now" and r[10] == "5" for r in rows)
    assert "Lena" not in answers_csv and "lena@example.org" not in answers_csv


def test_xlsx_export_of_the_figures_reads_back_with_percentage_cells(client, answered, login_as, make_user):
    client = login_as(make_user(roles=("reviewer",)))
    assert "Download these figures (XLSX, for Excel)" in client.get("/evaluation/review").get_data(as_text=True)
    response = client.get("/evaluation/review/figures.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="evaluation-figures.xlsx"' in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[2] == ("Section", "Measure", "Stage", "Value", "Count")
    assert ("Confidence shift", "Rose", 2, 1, None) in rows
    # Shares are fractions in percentage cells (Excel shows 100%), not the number 100.
    share = next(row for row in sheet.iter_rows(min_row=4)
                 if row[1].value == "Share whose confidence rose (%)")
    assert share[3].value == 1.0 and share[3].number_format == "0%"
    rates = [row[3] for row in sheet.iter_rows(min_row=4) if row[1].value == "Response rate (%)"]
    assert rates and all(cell.number_format == "0%" and 0 <= cell.value <= 1 for cell in rates)
    assert "Lena" not in " ".join(str(v) for row in rows for v in row if v is not None)


def test_answer_exports_carry_the_security_headers_and_are_never_stored(client, answered, login_as, make_user):
    client = login_as(make_user(roles=("admin",)))
    for path in ("/evaluation/review/answers.csv", "/evaluation/review/figures.csv"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/csv"
        assert_security_headers(response)
        assert response.get_data(as_text=True).count("\n") > 1  # streamed: read it to the end


def test_a_formula_typed_as_an_answer_is_exported_as_text(client, every_figure, invited, login_as, make_user):
    answer_by_key(invited["invitation"], comments="=HYPERLINK(\"http://evil\")")
    client = login_as(make_user(roles=("reviewer",)))
    exported = client.get("/evaluation/review/answers.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in exported


def test_the_printable_summary_defaults_to_the_financial_year(client, answered, login_as, make_user,
                                                              set_now):
    client = login_as(make_user(roles=("reviewer",)))
    page = client.get("/evaluation/review/summary").get_data(as_text=True)
    assert "Training evaluation, 1 April 2027 to 31 March 2028" in page
    assert "evaluation.css" in page
    summary = client.get("/evaluation/review/summary?date_from=1&date_from=3&date_from=2027"
                         "&date_to=31&date_to=3&date_to=2027").get_data(as_text=True)
    assert "Confidence rose for 1 of 1 people (100%)" in summary
    assert "50%" not in summary


# --- The L&D team's screens -------------------------------------------------------------------------

def test_an_administrator_edits_the_questions_as_a_new_version(client, question_sets, login_as, make_user):
    client = login_as(make_user(roles=("admin",)))
    assert "Start a new version of stage 1" in client.get("/evaluation/questions").get_data(as_text=True)
    created = client.post("/evaluation/questions/stage/1/new-version", follow_redirects=True)
    assert "Version 2 (draft)" in created.get_data(as_text=True)
    draft = db.session.scalar(select(QuestionSet).where(QuestionSet.version == 2))
    bad = client.post(f"/evaluation/questions/{draft.id}/add",
                      data={"text": "Rate the lunch", "kind": "scale"})
    assert "Enter what 1 and 5 mean on the scale" in bad.get_data(as_text=True)
    client.post(f"/evaluation/questions/{draft.id}/add",
                data={"text": "Rate the lunch", "kind": "scale", "low_label": "Awful",
                      "high_label": "Superb", "key": "lunch"})
    client.post(f"/evaluation/questions/{draft.id}/publish", data={"note": "Added lunch"})
    db.session.expire_all()
    assert current_question_set(STAGE_ONE).version == 2
    assert [q.key for q in current_question_set(STAGE_ONE).questions][-1] == "lunch"
    locked = client.post(f"/evaluation/questions/{draft.id}/add",
                         data={"text": "Too late", "kind": "text"}, follow_redirects=True)
    assert "A published version cannot be changed" in locked.get_data(as_text=True)


def test_an_administrator_sets_a_course_up_and_adds_its_own_question(
        client, invited, login_as, make_user, make_booking, make_session, set_now):
    client = login_as(make_user(roles=("admin",)))
    course = invited["session"].course
    client.post(f"/evaluation/courses/{course.id}", data={"manager_copy": "y"})
    client.post(f"/evaluation/courses/{course.id}/stage/1/add",
                data={"text": "Which tool will you use first?", "kind": "choose_one",
                      "options": "Neglect toolkit\nThreshold guide", "required": "y"})
    page = client.get(f"/evaluation/courses/{course.id}").get_data(as_text=True)
    assert "Which tool will you use first?" in page
    form = client.get(invited["path"]).get_data(as_text=True)
    assert "Questions about this course" in form and "Threshold guide" in form
    assert client.get("/evaluation/courses/9999").status_code == 404


def test_an_administrator_resends_an_invitation(client, invited, login_as, make_user, mailbox, deliver):
    client = login_as(make_user(roles=("admin",)))
    invitation = invited["invitation"]
    page = client.post(f"/evaluation/invitations/{invitation.id}/resend", follow_redirects=True)
    assert "The evaluation was sent again to Lena Marchbank" in page.get_data(as_text=True)
    deliver()
    assert len(mailbox.to("lena@example.org")) == 2
    assert client.post("/evaluation/invitations/9999/resend").status_code == 404


def test_review_date_filters_are_labelled(client, login_as, make_user):
    page = login_as(make_user(roles=("reviewer",))).get("/evaluation/review").get_data(as_text=True)
    assert "Sessions from" in page and "Sessions to" in page
