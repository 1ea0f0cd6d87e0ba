"""Demo data: the default question sets, and invented answers for past sessions people attended."""
from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import ACTIVE, ADMIN, RoleGrant, User
from app.bookings.history import change_status, set_outcome
from app.bookings.models import ATTENDED, CONFIRMED, PARTLY_ATTENDED, PRESENT_OUTCOMES, Booking
from app.clock import utcnow
from app.courses.models import CANCELLED, Session
from app.demo import demo_step
from app.evaluation.answering import field_name, questions_for, submit_response
from app.evaluation.models import STAGE_ONE, STAGE_TWO, Invitation
from app.evaluation.question_sets import current_question_set, ensure_default_question_sets
from app.evaluation.sending import stage_two_due_at
from app.extensions import db

PLANS = [
    "I will check the chronology before every strategy meeting and share it with partners.",
    "Use the threshold document with my team when we discuss a new concern.",
    "Ask the police and health colleagues earlier when I am unsure, rather than waiting.",
    "Record my professional curiosity: write down what I saw and what I asked.",
    "Speak to the designated safeguarding lead the same day, not at the end of the week.",
    "Look out for the signs of exploitation we discussed and use the screening tool.",
    "Think about the men in the household and make sure fathers are part of the assessment.",
    "Share the learning from the case review at our next team meeting.",
]
NEEDS = ["More on working with interpreters.", "Domestic abuse risk assessment (DASH).",
         "Court skills for practitioners.", "Online safety and young people.", ""]
COMMENTS = ["Really useful to hear how the other agencies work.", "The case studies brought it to life.",
            "The room was cold and the afternoon felt rushed.", "Excellent trainer.", "", ""]
EXAMPLES = [
    "Made a referral to children's social care after a disclosure at a home visit, with a clear "
    "account of what was said.",
    "Invited the school nurse to a core group meeting for the first time.",
    "Used the neglect screening tool in supervision and agreed an early help assessment.",
    "Shared information with the police about a missing episode on the same day.",
]
DIFFERENCES = ["The family got support weeks earlier than they would have.",
               "A young person was safeguarded quickly because we shared information.", ""]


def _scale(rng: random.Random, centre: float) -> int:
    return max(1, min(5, round(rng.gauss(centre, 0.8))))


def _stage_one_answers(rng: random.Random) -> dict[str, list[str]]:
    knowledge = _scale(rng, 2.6)
    confidence = _scale(rng, 2.8)
    answers = {
        "knowledge_before": knowledge, "knowledge_after": min(5, knowledge + rng.choice([0, 1, 1, 2])),
        "confidence_before": confidence,
        "confidence_after": min(5, confidence + rng.choice([0, 1, 1, 1, 2])),
    }
    for key in ("outcomes_met", "content", "trainer", "materials", "venue", "relevance", "multi_agency"):
        answers[key] = _scale(rng, 4.1)
    answers = {k: [str(v)] for k, v in answers.items()}
    answers["apply_plan"] = [rng.choice(PLANS)]
    answers["further_needs"] = [rng.choice(NEEDS)]
    answers["comments"] = [rng.choice(COMMENTS)]
    return answers


def _stage_two_answers(rng: random.Random, confidence_after: int) -> dict[str, list[str]]:
    applied = rng.choices(["yes", "not_yet", "no"], weights=[65, 25, 10])[0]
    answers = {
        "applied": [applied],
        "confidence_now": [str(max(1, min(5, confidence_after + rng.choice([-1, 0, 0, 1]))))],
        "barriers": rng.sample(["time", "caseload", "management_support", "systems", "other_agencies"],
                               rng.choice([0, 1, 1, 2])),
    }
    if applied == "yes":
        answers["example"] = [rng.choice(EXAMPLES)]
        answers["areas_changed"] = rng.sample(
            ["joint_working", "information_sharing", "specific_action", "awareness",
             "recording_assessment"], rng.randint(1, 3))
        answers["difference"] = [rng.choice(DIFFERENCES)]
    return answers


def _by_field(invitation: Invitation, answers: dict[str, list[str]]) -> dict[str, list[str]]:
    return {field_name(q): answers.get(q.key, []) for q in questions_for(invitation)}


def _invite(booking: Booking, stage: int, sent_at: datetime, now: datetime) -> Invitation:
    days = 28 if stage == STAGE_ONE else 42
    invitation = Invitation(
        booking_id=booking.id, user_id=booking.user_id, session_id=booking.session_id, stage=stage,
        question_set_id=current_question_set(stage).id, nonce=secrets.token_hex(8), sent_at=sent_at,
        expires_at=sent_at + timedelta(days=days),
        # Reminders that would already have gone, so the first job run does not send them again.
        reminder_1_at=sent_at + timedelta(days=7) if sent_at + timedelta(days=7) <= now else None,
        reminder_2_at=sent_at + timedelta(days=14) if sent_at + timedelta(days=14) <= now else None,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def _attended_bookings(now: datetime) -> list[Booking]:
    return list(db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Booking.outcome.in_(PRESENT_OUTCOMES), Session.ends_at <= now,
               Session.status != CANCELLED)
        .order_by(Booking.id)
    ))


def _make_attendance(rng: random.Random, sessions: list[Session], now: datetime) -> None:
    """Mark a handful of invented people as attending past sessions (when registers have none)."""
    people = list(db.session.scalars(
        select(User).where(User.status == ACTIVE, User.agency_id.is_not(None)).order_by(User.id)))
    marker = db.session.scalar(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(RoleGrant.role == ADMIN).limit(1))
    learner = db.session.scalar(select(User).where(User.email.like("learner@%")))
    for index, session in enumerate(sessions[:8]):
        chosen = rng.sample(people, min(len(people), rng.randint(8, 14)))
        if learner is not None and index == 0 and learner not in chosen:
            chosen.append(learner)  # the demo learner has an evaluation waiting
        for person in chosen:
            if db.session.scalar(select(Booking.id).where(Booking.session_id == session.id,
                                                          Booking.user_id == person.id)):
                continue
            # No status yet: change_status records the booking as confirmed in its history.
            booking = Booking(session_id=session.id, user_id=person.id, agency_id=person.agency_id,
                              created_at=session.starts_at - timedelta(days=30))
            db.session.add(booking)
            change_status(booking, CONFIRMED, None, "Demo booking")
            set_outcome(booking, rng.choices([ATTENDED, PARTLY_ATTENDED], weights=[9, 1])[0],
                        marker, "Demo register")
    db.session.flush()


@demo_step
def load_evaluations(rng: random.Random) -> str:
    """Default question sets, and invented evaluations of past sessions people attended."""
    created = ensure_default_question_sets()
    db.session.flush()
    now = utcnow()
    bookings = _attended_bookings(now)
    if not bookings:
        sessions = list(db.session.scalars(
            select(Session).where(Session.ends_at <= now, Session.status != CANCELLED)
            .order_by(Session.ends_at.desc())))
        if not sessions:
            return f"evaluation: {created} default question sets (no past sessions to evaluate)"
        _make_attendance(rng, sessions, now)
        bookings = _attended_bookings(now)
    latest_ended = max(b.session.ends_at for b in bookings)
    answered = {STAGE_ONE: 0, STAGE_TWO: 0}
    for booking in bookings:
        session = booking.session
        is_demo_learner = booking.user.email.startswith("learner@") and session.ends_at == latest_ended
        first = _invite(booking, STAGE_ONE, min(session.ends_at + timedelta(hours=1), now), now)
        stage_one = _stage_one_answers(rng)
        if not is_demo_learner and rng.random() < 0.8:
            submitted = min(first.sent_at + timedelta(days=rng.choice([0, 0, 1, 2, 6, 9])), now)
            submit_response(first, _by_field(first, stage_one), now=submitted)
            answered[STAGE_ONE] += 1
        due = stage_two_due_at(session)
        if due is None or due > now:
            continue
        second = _invite(booking, STAGE_TWO, due, now)
        if rng.random() < 0.6:
            submitted = min(second.sent_at + timedelta(days=rng.choice([1, 3, 8, 15])), now)
            stage_two = _stage_two_answers(rng, int(stage_one["confidence_after"][0]))
            submit_response(second, _by_field(second, stage_two), now=submitted)
            answered[STAGE_TWO] += 1
    db.session.flush()
    return (f"evaluation: {created} default question sets, {len(bookings)} attendees invited, "
            f"{answered[STAGE_ONE]} first and {answered[STAGE_TWO]} second evaluations answered")
