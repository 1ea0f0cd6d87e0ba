"""The evaluation rules: question sets and versions, sending at the right moments, reminders,
answering once, the certificate gate, and the figures the L&D sub-group sees."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.bookings.history import set_outcome
from app.bookings.models import ATTENDED, DID_NOT_ATTEND, PARTLY_ATTENDED, TURNED_AWAY
from app.clock import financial_year
from app.email import SENT, OutboxMessage
from app.evaluation import figures
from app.evaluation.answering import field_name, open_invitation, questions_for, submit_response
from app.evaluation.certificate_gate import certificate_gate, first_evaluation_submitted
from app.evaluation.course_settings import update_course_setting
from app.evaluation.errors import AnswersInvalid, EvaluationError, InvitationLinkError
from app.evaluation.links import invitation_link, invitation_token
from app.evaluation.models import (
    STAGE_ONE,
    STAGE_TWO,
    Answer,
    Invitation,
    Question,
    QuestionSet,
    Response,
)
from app.evaluation.question_sets import (
    QuestionData,
    current_question_set,
    ensure_default_question_sets,
    publish_draft,
    save_course_question,
    save_question,
    start_draft,
)
from app.evaluation.sending import resend_invitation, send_due_evaluations
from app.extensions import db
from app.filters import Filters
from app.jobs import run_jobs
from app.locking import write_intent
from tests.evaluation.conftest import SESSION_END, answer_by_key, link_in


def _invitations(stage=None):
    query = select(Invitation).order_by(Invitation.id)
    if stage:
        query = query.where(Invitation.stage == stage)
    return list(db.session.scalars(query))


def _run(set_now, moment):
    set_now(moment)
    results = run_jobs()
    db.session.expire_all()
    return results


# --- Question sets --------------------------------------------------------------------------------

def test_default_question_sets_follow_the_agreed_minimum_set_and_load_once(app):
    assert ensure_default_question_sets() == 2
    db.session.commit()
    assert ensure_default_question_sets() == 0

    one, two = current_question_set(STAGE_ONE), current_question_set(STAGE_TWO)
    assert (one.version, two.version) == (1, 1)
    keys_one = [q.key for q in one.questions]
    assert keys_one[:4] == ["knowledge_before", "knowledge_after", "confidence_before", "confidence_after"]
    assert {"trainer", "venue", "relevance", "multi_agency", "apply_plan"} <= set(keys_one)
    apply_plan = next(q for q in one.questions if q.key == "apply_plan")
    assert apply_plan.kind == "text" and apply_plan.required
    keys_two = {q.key: q for q in two.questions}
    assert keys_two["applied"].choices() == [("yes", "Yes"), ("no", "No"), ("not_yet", "Not yet")]
    assert keys_two["confidence_now"].low_label == next(
        q for q in one.questions if q.key == "confidence_before").low_label
    assert [o.value for o in keys_two["barriers"].options] == [
        "time", "caseload", "management_support", "systems", "other_agencies", "other"]
    assert "specific_action" in [o.value for o in keys_two["areas_changed"].options]


def test_a_new_version_is_a_draft_until_published_and_answers_keep_their_version(
        app, every_figure, question_sets, make_session, make_booking, make_user, set_now):
    admin = make_user(roles=("admin",))
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    first = make_booking(session, outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(hours=1))
    [old_invitation] = _invitations()
    answer_by_key(old_invitation)

    draft = start_draft(STAGE_ONE, admin)
    assert draft.version == 2 and draft.is_draft
    assert start_draft(STAGE_ONE, admin) is draft, "one draft per stage"
    trainer = next(q for q in draft.questions if q.key == "trainer")
    save_question(draft, QuestionData(text="How good was the trainer?", kind="scale", required=True,
                                      key="trainer", low_label="Poor", high_label="Excellent"),
                  admin, trainer)
    assert current_question_set(STAGE_ONE).version == 1, "a draft is not sent"
    publish_draft(draft, admin, "Reworded the trainer question")
    db.session.commit()

    with pytest.raises(EvaluationError):
        save_question(draft, QuestionData(text="Late change", kind="text"), admin)

    make_booking(make_session(ends_at=SESSION_END + timedelta(days=1), hours=7, venue=None), outcome=ATTENDED,
                 history=True)
    _run(set_now, SESSION_END + timedelta(days=1, hours=1))
    new_invitation = _invitations()[-1]
    assert new_invitation.question_set.version == 2
    assert "How good was the trainer?" in [q.text for q in questions_for(new_invitation)]
    old_response = db.session.scalar(select(Response).where(Response.invitation_id == old_invitation.id))
    assert old_response.question_set.version == 1
    assert {a.question.question_set.version for a in old_response.answers} == {1}
    assert first_evaluation_submitted(first)

    # Reports follow the key across versions: both ratings of the trainer add up to one measure.
    answer_by_key(new_invitation, trainer="3")
    [trainer_ratings] = [d for d in figures.rating_distributions(Filters())
                         if d.info.key == "trainer"]
    assert trainer_ratings.counts == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert trainer_ratings.info.text == "How good was the trainer?"


def test_question_edits_are_checked(app, question_sets, make_user):
    admin = make_user(roles=("admin",))
    draft = start_draft(STAGE_TWO, admin)
    with pytest.raises(EvaluationError, match="already uses the report key"):
        save_question(draft, QuestionData(text="Again", kind="text", key="applied"), admin)
    with pytest.raises(EvaluationError, match="at least two options"):
        save_question(draft, QuestionData(text="Pick", kind="choose_one", options=["Only"]), admin)
    with pytest.raises(EvaluationError, match="what 1 and 5 mean"):
        save_question(draft, QuestionData(text="Rate", kind="scale"), admin)
    with pytest.raises(EvaluationError, match="report key must start"):
        save_question(draft, QuestionData(text="Rate", kind="text", key="9 bad key"), admin)
    question = save_question(draft, QuestionData(text="Which team are you in?", kind="choose_one",
                                                 options=["Duty", "Long-term", ""]), admin)
    assert question.key == "which_team_are_you_in"
    assert question.choices() == [("duty", "Duty"), ("long_term", "Long-term")]


# --- Sending --------------------------------------------------------------------------------------

def test_stage_one_goes_to_everyone_present_once_the_last_part_has_ended(
        app, question_sets, make_session, make_booking, make_user, make_attendee, mailbox, set_now):
    # A two-day course: the first day's end is not the end.
    session = make_session(days=2, ends_at=SESSION_END, hours=7, venue=None)
    attended = make_booking(session, make_attendee(name="Amara Attended", email="amara@example.org"),
                            outcome=ATTENDED, history=True)
    partly = make_booking(session, make_attendee(email="pat@example.org"), outcome=PARTLY_ATTENDED, history=True)
    walk_in = make_booking(session, make_attendee(email="walkin@example.org"), walk_in=True, outcome=ATTENDED,
                           history=True)
    make_booking(session, make_attendee(email="absent@example.org"), outcome=DID_NOT_ATTEND, history=True)
    make_booking(session, make_attendee(email="late@example.org"), outcome=TURNED_AWAY, history=True)

    _run(set_now, SESSION_END - timedelta(days=1) + timedelta(hours=1))  # after day one
    assert _invitations() == [] and mailbox.messages == []

    _run(set_now, SESSION_END + timedelta(minutes=5))
    assert {i.booking_id for i in _invitations(STAGE_ONE)} == {attended.id, partly.id, walk_in.id}
    assert sorted(m["To"] for m in mailbox.messages) == [
        "amara@example.org", "pat@example.org", "walkin@example.org"]
    message = mailbox.to("amara@example.org")[0]
    assert session.course.title in message["Subject"]
    assert "Dear Amara Attended" in message.get_body(preferencelist=("plain",)).get_content()
    invitation = next(i for i in _invitations() if i.booking_id == attended.id)
    assert invitation.expires_at == SESSION_END + timedelta(minutes=5, days=28)
    assert open_invitation(link_in(message).rsplit("/", 1)[1]).id == invitation.id

    _run(set_now, SESSION_END + timedelta(hours=2))
    assert len(mailbox.messages) == 3, "nothing is sent twice"


def test_a_register_marked_late_still_gets_its_evaluations(
        app, question_sets, make_session, make_booking, make_user, make_attendee, mailbox, set_now):
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    booking = make_booking(session, make_attendee(email="late-register@example.org"), outcome=None, history=True)
    _run(set_now, SESSION_END + timedelta(days=1))
    assert _invitations() == []

    set_now(SESSION_END + timedelta(days=12))
    set_outcome(booking, "attended", None, "register typed up late")
    db.session.commit()
    _run(set_now, SESSION_END + timedelta(days=12, minutes=5))
    assert [i.booking_id for i in _invitations()] == [booking.id]
    assert len(mailbox.to("late-register@example.org")) == 1


def test_nothing_is_sent_for_sessions_long_past(app, question_sets, make_session, make_booking,
                                                mailbox, set_now):
    make_booking(make_session(ends_at=SESSION_END, hours=7, venue=None), outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(days=200))
    assert _invitations() == [] and mailbox.messages == []


def test_stage_two_goes_after_the_course_delay_with_a_copy_to_the_line_manager(
        app, question_sets, make_course, make_session, make_booking, make_user, make_attendee, mailbox, set_now):
    admin = make_user(roles=("admin",))
    course = make_course(title="Serious Case Review workshop", evaluation_delay_months=2)
    update_course_setting(course, admin, manager_copy=True, certificate_needs_evaluation=True)
    session = make_session(course, ends_at=SESSION_END, hours=7, venue=None)
    person = make_attendee(email="kasia@example.org", line_manager_email="boss@example.org")
    make_booking(session, person, outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(hours=1))
    mailbox.clear()

    _run(set_now, SESSION_END + timedelta(days=60))  # 2 March + 2 months = 2 May: not yet
    assert _invitations(STAGE_TWO) == []
    assert mailbox.messages == [], "stage 1 has closed, so no reminders either"

    mailbox.clear()
    _run(set_now, SESSION_END + timedelta(days=61))  # 2 May 16:30
    [second] = _invitations(STAGE_TWO)
    assert second.expires_at == SESSION_END + timedelta(days=61 + 42)
    assert second.manager_copy_sent_at is not None
    [to_person] = mailbox.to("kasia@example.org")
    assert "how have you used the learning" in to_person["Subject"]
    [to_manager] = mailbox.to("boss@example.org")
    assert "/evaluation/manager/" in link_in(to_manager)

    _run(set_now, SESSION_END + timedelta(days=62))
    assert len(_invitations(STAGE_TWO)) == 1 and len(mailbox.to("boss@example.org")) == 1


def test_no_manager_copy_unless_the_course_says_so(app, question_sets, make_session, make_booking,
                                                   make_user, make_attendee, mailbox, set_now):
    make_booking(make_session(ends_at=SESSION_END, hours=7, venue=None),
                 make_attendee(line_manager_email="boss@example.org"), outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(days=92))
    assert len(_invitations(STAGE_TWO)) == 1
    assert mailbox.to("boss@example.org") == []


def test_reminders_after_seven_and_fourteen_days_then_no_more(
        app, question_sets, make_session, make_booking, make_user, make_attendee, mailbox, set_now):
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    make_booking(session, make_attendee(email="slow@example.org"), outcome=ATTENDED, history=True)
    answered = make_booking(session, make_attendee(email="quick@example.org"), outcome=ATTENDED, history=True)
    sent = SESSION_END + timedelta(minutes=10)
    _run(set_now, sent)
    answer_by_key(next(i for i in _invitations() if i.booking_id == answered.id))

    def reminders():
        return [m for m in mailbox.messages if m["Subject"].startswith("Reminder")]

    _run(set_now, sent + timedelta(days=6, hours=23))
    assert reminders() == []
    _run(set_now, sent + timedelta(days=7))
    assert [m["To"] for m in reminders()] == ["slow@example.org"]
    _run(set_now, sent + timedelta(days=8))
    _run(set_now, sent + timedelta(days=13))
    assert len(reminders()) == 1
    _run(set_now, sent + timedelta(days=14))
    assert len(reminders()) == 2
    for day in (15, 21, 27):
        _run(set_now, sent + timedelta(days=day))
    assert len(reminders()) == 2, "no more than two reminders"
    assert mailbox.to("quick@example.org") and not any(
        m["Subject"].startswith("Reminder") for m in mailbox.to("quick@example.org"))


def test_two_runs_at_once_send_each_evaluation_once(app, question_sets, make_session, make_booking,
                                                   make_user, make_attendee, mailbox, set_now):
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    people = [make_attendee(email=f"p{n}@example.org") for n in range(12)]
    for person in people:
        make_booking(session, person, outcome=ATTENDED, history=True)
    set_now(SESSION_END + timedelta(hours=1))
    errors = []

    def run(use_lease: bool):
        with app.app_context():
            try:
                if use_lease:
                    run_jobs()
                else:  # straight at the service, with no job lease to keep the runs apart
                    with write_intent():
                        send_due_evaluations()
                        db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(use_lease,)) for use_lease in (False, False, True, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    run_jobs()
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Invitation.id))) == 12
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 12
    assert sorted(m["To"] for m in mailbox.messages) == sorted(p.email for p in people)


def test_an_smtp_outage_loses_nothing_and_sends_nothing_twice(
        app, question_sets, make_session, make_booking, make_user, make_attendee, mailbox, set_now):
    make_booking(make_session(ends_at=SESSION_END, hours=7, venue=None),
                 make_attendee(email="patient@example.org"), outcome=ATTENDED, history=True)
    mailbox.refuse = True
    _run(set_now, SESSION_END + timedelta(hours=1))
    assert len(_invitations()) == 1
    assert mailbox.messages == []

    mailbox.refuse = False
    _run(set_now, SESSION_END + timedelta(hours=1, minutes=1))
    assert mailbox.messages == [], "the message waits for its back-off"
    _run(set_now, SESSION_END + timedelta(hours=2))
    assert len(mailbox.to("patient@example.org")) == 1
    _run(set_now, SESSION_END + timedelta(hours=3))
    assert len(mailbox.messages) == 1
    assert db.session.scalar(select(OutboxMessage.status)) == SENT


def test_an_administrator_can_resend_an_invitation_even_after_it_closed(
        app, question_sets, make_session, make_booking, make_user, make_attendee, mailbox, set_now):
    admin = make_user(roles=("admin",))
    make_booking(make_session(ends_at=SESSION_END, hours=7, venue=None), make_attendee(email="away@example.org"),
                 outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(hours=1))
    [invitation] = _invitations()
    token = invitation_token(invitation)
    set_now(SESSION_END + timedelta(days=40))
    with pytest.raises(InvitationLinkError) as closed:
        open_invitation(token)
    assert closed.value.reason == "expired"

    resend_invitation(invitation, admin)
    db.session.commit()
    run_jobs()
    assert invitation.expires_at == SESSION_END + timedelta(days=40 + 28)
    assert open_invitation(token).id == invitation.id
    assert len(mailbox.to("away@example.org")) == 2, "the invitation and the resend, no reminder yet"
    set_now(SESSION_END + timedelta(days=47))
    run_jobs()
    assert mailbox.to("away@example.org")[-1]["Subject"].startswith("Reminder")

    answer_by_key(invitation)
    with pytest.raises(EvaluationError, match="already answered"):
        resend_invitation(invitation, admin)


# --- Answering ------------------------------------------------------------------------------------

@pytest.fixture
def invitation(app, question_sets, make_session, make_booking, set_now):
    make_booking(make_session(ends_at=SESSION_END, hours=7, venue=None), outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(hours=1))
    return _invitations()[0]


def test_missing_required_answers_are_named_and_nothing_is_saved(app, invitation):
    with pytest.raises(AnswersInvalid) as problem:
        answer_by_key(invitation, fill=False, knowledge_before="3", comments="Good")
    by_key = {q.key: field_name(q) for q in questions_for(invitation)}
    assert by_key["knowledge_before"] not in problem.value.errors
    assert by_key["comments"] not in problem.value.errors
    assert problem.value.errors[by_key["apply_plan"]].startswith("Answer “How will you apply")
    assert problem.value.errors[by_key["trainer"]] == "Select an answer for “The trainer or trainers”"
    db.session.rollback()
    assert db.session.scalar(select(func.count(Response.id))) == 0
    assert db.session.get(Invitation, invitation.id).submitted_at is None


@pytest.mark.parametrize("key, value, message", [
    ("trainer", "7", "Choose a number from 1 to 5"),
    ("trainer", "0", "Choose a number from 1 to 5"),
    ("trainer", "four", "Choose a number from 1 to 5"),
    ("trainer", ["4", "5"], "Choose a number from 1 to 5"),
    ("apply_plan", "x" * 5001, "5000 characters or fewer"),
])
def test_answers_beyond_the_allowed_values_are_refused(app, invitation, key, value, message):
    with pytest.raises(AnswersInvalid) as problem:
        answer_by_key(invitation, **{key: value})
    assert message in " ".join(problem.value.errors.values())
    db.session.rollback()
    assert db.session.scalar(select(func.count(Answer.id))) == 0


def test_stage_two_choices_must_be_offered_ones_and_choose_many_is_a_row_per_option(
        app, question_sets, make_session, make_booking, set_now):
    make_booking(make_session(ends_at=SESSION_END, hours=7, venue=None), outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(days=92))
    [second] = _invitations(STAGE_TWO)
    with pytest.raises(AnswersInvalid):
        answer_by_key(second, applied="maybe")
    db.session.rollback()
    with pytest.raises(AnswersInvalid):
        answer_by_key(second, barriers=["time", "weather"])
    db.session.rollback()
    response = answer_by_key(second, applied="not_yet", barriers=["time", "caseload", "time"])
    rows = [(a.question.key, a.value_text, a.value_int) for a in response.answers]
    assert ("barriers", "time", None) in rows and ("barriers", "caseload", None) in rows
    assert len([r for r in rows if r[0] == "barriers"]) == 2
    assert ("applied", "not_yet", None) in rows and ("confidence_now", None, 4) in rows


def test_a_link_answers_once_and_a_tampered_or_expired_one_changes_nothing(app, invitation, set_now):
    token = invitation_token(invitation)
    with pytest.raises(InvitationLinkError) as bad:
        open_invitation(token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    assert bad.value.reason == "invalid"
    other = invitation_token(invitation).replace(".", "x", 1)
    with pytest.raises(InvitationLinkError):
        open_invitation(other)

    answer_by_key(invitation)
    with pytest.raises(InvitationLinkError) as reused:
        open_invitation(token)
    assert reused.value.reason == "submitted"
    with pytest.raises(InvitationLinkError):
        answer_by_key(invitation)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Response.id))) == 1


def test_an_expired_invitation_refuses_answers(app, invitation, set_now):
    set_now(invitation.expires_at)
    with pytest.raises(InvitationLinkError) as closed:
        answer_by_key(invitation)
    assert closed.value.reason == "expired"
    db.session.rollback()
    assert db.session.scalar(select(func.count(Response.id))) == 0


def test_a_course_can_add_its_own_questions(app, question_sets, make_course, make_session,
                                            make_booking, make_user, set_now):
    admin = make_user(roles=("admin",))
    course = make_course()
    own = save_course_question(course, STAGE_ONE, QuestionData(
        text="Will you use the neglect toolkit?", kind="yes_no_not_yet", required=True,
        key="neglect_toolkit"), admin)
    with pytest.raises(EvaluationError, match="already uses"):
        save_course_question(course, STAGE_ONE, QuestionData(text="Trainer?", kind="text", key="trainer"), admin)
    make_booking(make_session(course, ends_at=SESSION_END, hours=7, venue=None), outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(hours=1))
    [invitation] = _invitations()
    assert questions_for(invitation)[-1].id == own.id
    with pytest.raises(AnswersInvalid) as missing:
        answer_by_key(invitation)
    assert field_name(own) in missing.value.errors
    db.session.rollback()
    response = answer_by_key(invitation, neglect_toolkit="yes")
    assert any(a.question_id == own.id and a.value_text == "yes" for a in response.answers)


# --- The certificate gate -------------------------------------------------------------------------

def test_the_certificate_waits_for_the_first_evaluation(app, question_sets, make_session,
                                                        make_booking, make_user, set_now):
    admin = make_user(roles=("admin",))
    session = make_session(ends_at=SESSION_END, hours=7, venue=None)
    booking = make_booking(session, outcome=ATTENDED, history=True)
    set_now(SESSION_END - timedelta(hours=1))
    assert "We will e-mail you the link" in certificate_gate(booking).text
    _run(set_now, SESSION_END + timedelta(hours=1))
    [invitation] = _invitations()
    gate = certificate_gate(booking)
    assert gate.link_text == "Answer the evaluation"
    assert gate.text == "to get your certificate (open until 30 March 2027)."
    assert gate.href == invitation_link(invitation)
    assert not first_evaluation_submitted(booking)

    answer_by_key(invitation)
    assert first_evaluation_submitted(booking)
    assert certificate_gate(booking) is None

    other = make_booking(make_session(ends_at=SESSION_END + timedelta(days=1), hours=7, venue=None),
                         outcome=ATTENDED, history=True)
    update_course_setting(other.session.course, admin, manager_copy=False,
                          certificate_needs_evaluation=False)
    assert certificate_gate(other) is None


# --- The figures ----------------------------------------------------------------------------------

@pytest.fixture
def small_programme(app, every_figure, question_sets, make_course, make_session, make_booking, make_user, make_attendee,
                    make_agency, set_now):
    """Four attendees of one session and one of another, with answers worked out by hand below."""
    police = make_agency(sector="Police")
    health = make_agency(sector="Health - acute")
    level3 = make_course(title="Safeguarding Level 3")
    other = make_course(title="Prevent")
    session = make_session(level3, ends_at=SESSION_END, hours=7, venue=None)
    people = [make_attendee(name=f"Named Person {n}", agency=police if n < 2 else health) for n in range(4)]
    bookings = [make_booking(session, p, outcome=ATTENDED, history=True) for p in people]
    make_booking(make_session(other, ends_at=SESSION_END, hours=7, venue=None),
                 make_attendee(name="Other Course Person", agency=health), outcome=ATTENDED, history=True)
    _run(set_now, SESSION_END + timedelta(hours=1))
    first = {i.booking_id: i for i in _invitations(STAGE_ONE)}
    # Stage 1: person 0, 1 and 2 answer; person 3 does not; the Prevent attendee does not.
    stage_one = [
        dict(knowledge_before=2, knowledge_after=4, confidence_before=2, confidence_after=4, trainer=5),
        dict(knowledge_before=3, knowledge_after=4, confidence_before=3, confidence_after=4, trainer=4),
        dict(knowledge_before=1, knowledge_after=3, confidence_before=4, confidence_after=5, trainer=4,
             comments="Too short for the content"),
    ]
    for booking, answers in zip(bookings, stage_one):
        answer_by_key(first[booking.id], **answers)
    _run(set_now, SESSION_END + timedelta(days=92))
    second = {i.booking_id: i for i in _invitations(STAGE_TWO)}
    # Stage 2: person 0 (2 -> 4 rose), 1 (3 -> 3 same), 2 (4 -> 3 fell); person 3 answers
    # stage 2 only (no stage-1 confidence to compare).
    stage_two = [
        dict(applied="yes", confidence_now=4, areas_changed=["joint_working", "information_sharing"],
             barriers=["time"]),
        dict(applied="yes", confidence_now=3, areas_changed=["joint_working"], barriers=[]),
        dict(applied="not_yet", confidence_now=3, barriers=["time", "caseload"]),
        dict(applied="no", confidence_now=5),
    ]
    for booking, answers in zip(bookings, stage_two):
        answer_by_key(second[booking.id], **answers)
    return {"course": level3, "session": session, "police": police, "people": people}


def test_review_figures_match_the_hand_worked_values(app, small_programme):
    everything = Filters()
    counts = figures.stage_counts(everything)
    assert (counts[1].sent, counts[1].responded) == (5, 3)
    assert (counts[2].sent, counts[2].responded) == (5, 4)
    assert counts[1].rate == pytest.approx(0.6)

    distributions = figures.rating_distributions(everything)
    trainer = next(d for d in distributions if d.info.key == "trainer")
    assert trainer.counts == {1: 0, 2: 0, 3: 0, 4: 2, 5: 1}
    assert trainer.mean == pytest.approx(13 / 3)

    knowledge, confidence = figures.measure_means(distributions)
    assert knowledge.before == pytest.approx(2.0) and knowledge.after == pytest.approx(11 / 3)
    assert knowledge.later is None and not knowledge.later_asked
    assert confidence.before == pytest.approx(3.0) and confidence.after == pytest.approx(13 / 3)
    assert confidence.later == pytest.approx(15 / 4)
    assert confidence.counts == (3, 3, 4)

    shift = figures.confidence_shift(everything)
    assert (shift.people, shift.rose, shift.same, shift.fell) == (3, 1, 1, 1)
    assert shift.rose_share == pytest.approx(1 / 3)
    assert shift.mean_before == pytest.approx(3.0) and shift.mean_now == pytest.approx(10 / 3)

    choices = figures.choice_figures(everything)
    assert choices["applied"].respondents == 4
    assert choices["applied"].share("yes") == pytest.approx(0.5)
    assert choices["applied"].counts == {"yes": 2, "not_yet": 1, "no": 1}
    assert choices["areas_changed"].counts == {"joint_working": 2, "information_sharing": 1}
    assert choices["areas_changed"].share("joint_working") == pytest.approx(0.5)
    assert choices["barriers"].counts == {"time": 2, "caseload": 1}

    [row] = [r for r in figures.per_course(everything) if r.title == "Safeguarding Level 3"]
    assert (row.counts[1].sent, row.counts[1].responded, row.counts[2].responded) == (4, 3, 4)
    assert row.means["confidence_now"] == pytest.approx(15 / 4)


def test_review_figures_filter_by_sector_course_and_period(app, small_programme, make_sector):
    police = Filters(sector_id=small_programme["police"].sector_id)
    assert figures.stage_counts(police)[1].sent == 2
    assert figures.confidence_shift(police).people == 2  # persons 0 and 1
    assert figures.confidence_shift(police).rose == 1

    course = Filters(course_id=small_programme["course"].id)
    assert figures.stage_counts(course)[1].sent == 4
    session = Filters(session_id=small_programme["session"].id)
    assert figures.stage_counts(session)[2].responded == 4

    day = SESSION_END.date()
    assert figures.stage_counts(Filters(date_from=day, date_to=day))[1].sent == 5
    after = Filters(date_from=day + timedelta(days=1))
    assert figures.stage_counts(after)[1].sent == 0
    assert figures.rating_distributions(after) == []


def test_review_counts_filter_by_level(app, small_programme, make_level):
    course = small_programme["course"]
    course.level = make_level("Level 3")
    db.session.commit()
    level = Filters(level_id=course.level_id)
    assert (figures.stage_counts(level)[1].sent, figures.stage_counts(level)[2].responded) == (4, 4)
    assert figures.confidence_shift(level).people == 3
    assert figures.stage_counts(Filters(level_id=make_level("Level 1").id))[1].sent == 0


def test_written_answers_hide_names_unless_asked_and_the_export_is_anonymous(app, small_programme):
    page = figures.written_answers(Filters(), with_names=False)
    texts = [a.text for a in page.items]
    assert "Too short for the content" in texts
    assert page.total == 4  # three plans to apply the learning and one comment
    assert all(a.person is None for a in page.items)
    named = figures.written_answers(Filters(), with_names=True)
    assert {a.person for a in named.items} == {"Named Person 0", "Named Person 1", "Named Person 2"}

    rows = list(figures.anonymised_answer_rows(Filters()))
    flat = " ".join(str(cell) for row in rows for cell in row)
    assert "Named Person" not in flat and "@example.org" not in flat
    assert any(row[8] == "applied" and row[10] == "Not yet" for row in rows)
    assert any(row[8] == "trainer" and row[10] == 5 for row in rows)
    assert {row[6] for row in rows} == {"Police", "Health - acute"}

    csv_rows = figures.figure_rows(Filters())
    assert ["Confidence shift", "Rose", 2, 1, ""] in csv_rows
    assert ["Response rate", "Responses", 1, 3, ""] in csv_rows


def test_headline_figures_for_the_annual_report(app, small_programme):
    year = financial_year(SESSION_END.date())
    assert figures.headline_figures(*year) == [
        ("First evaluations answered (after the course)", "3 of 5 (60%)"),
        ("Second evaluations answered (months later)", "4 of 5 (80%)"),
        ("People whose confidence rose by the second evaluation", "1 of 3 (33%)"),
        ("Mean confidence (1 to 5): before the course, then months later", "3.0, then 3.3"),
    ]
    assert figures.headline_figures(year[0].replace(year=year[0].year - 3),
                                    year[0].replace(year=year[0].year - 2)) == []
