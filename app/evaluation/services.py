"""The evaluation rules: question sets and their versions, sending, answering, the certificate gate.

Services add and flush; the view or job that calls them commits once. Every e-mail goes through
the outbox with an idempotency key, and the database allows one invitation per booking and stage,
so two job runs at once, or a run after a mail-server outage, never send anything twice.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload

from app.accounts.models import ACTIVE, User
from app.accounts.tokens import LinkError, make_token, read_token
from app.attendance.certificates import Refusal, add_certificate_gate
from app.bookings.models import PRESENT_OUTCOMES, Booking
from app.clock import utcnow
from app.courses.models import CANCELLED, Course, Session
from app.errors import DomainError
from app.evaluation import notifications
from app.evaluation.defaults import DEFAULT_QUESTIONS
from app.evaluation.models import (
    CHOOSE_MANY,
    CHOOSE_ONE,
    KIND_LABELS,
    SCALE,
    SCALE_VALUES,
    STAGE_ONE,
    STAGE_TWO,
    STAGES,
    TEXT,
    YES_NO_NOT_YET,
    Answer,
    CourseEvaluationSetting,
    Invitation,
    ManagerComment,
    Question,
    QuestionOption,
    QuestionSet,
    Response,
)
from app.extensions import db
from app.locking import lock_rows
from app.templating import format_date
from app.urls import external_url

LINK_PURPOSE = "evaluation"
MANAGER_LINK_PURPOSE = "evaluation-manager"
# The signature only proves a link was not altered; when it stops working is the invitation's
# expires_at (which an administrator's resend extends), so the signature's own age limit is long.
LINK_SIGNATURE_MAX_AGE = 400 * 24 * 3600
MAX_TEXT_ANSWER = 5000
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


class EvaluationError(DomainError):
    """Something a person asked for that the evaluation rules do not allow."""


class AnswersInvalid(EvaluationError):
    """Answers that cannot be saved; `errors` maps each form field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Check your answers.", problems=list(errors.items()))
        self.errors = errors


class InvitationLinkError(EvaluationError):
    """A link that does not open an evaluation: `reason` is invalid, expired or submitted."""

    def __init__(self, message: str, reason: str, invitation: Invitation | None = None):
        super().__init__(message)
        self.reason = reason
        self.invitation = invitation


# --- Question sets -----------------------------------------------------------------------------

@dataclass
class QuestionData:
    """What an administrator typed for one question."""

    text: str
    kind: str
    required: bool = False
    key: str = ""
    hint: str = ""
    low_label: str = ""
    high_label: str = ""
    options: list[str] = field(default_factory=list)  # labels, one per option


def current_question_set(stage: int) -> QuestionSet | None:
    """Return the newest published version of a stage's questions."""
    return db.session.scalar(
        select(QuestionSet)
        .where(QuestionSet.stage == stage, QuestionSet.published_at.is_not(None))
        .order_by(QuestionSet.version.desc())
        .limit(1)
    )


def draft_question_set(stage: int) -> QuestionSet | None:
    """Return the stage's unpublished draft, if one has been started."""
    return db.session.scalar(
        select(QuestionSet).where(QuestionSet.stage == stage, QuestionSet.published_at.is_(None))
    )


def ensure_default_question_sets() -> int:
    """Create version 1 of each stage from the defaults where a stage has no questions yet."""
    created = 0
    for stage in STAGES:
        if db.session.scalar(select(QuestionSet.id).where(QuestionSet.stage == stage).limit(1)):
            continue
        now = utcnow()
        question_set = QuestionSet(stage=stage, version=1, note="The default question set.",
                                   created_at=now, published_at=now)
        for position, spec in enumerate(DEFAULT_QUESTIONS[stage]):
            spec = dict(spec)
            options = spec.pop("options", [])
            question = Question(stage=stage, position=position, **spec)
            question.options = [QuestionOption(value=v, label=label, position=i)
                                for i, (v, label) in enumerate(options)]
            question_set.questions.append(question)
        # Two first runs at once: the unique (stage, version) lets one of them win.
        try:
            with db.session.begin_nested():
                db.session.add(question_set)
        except IntegrityError:
            continue
        created += 1
    return created


def _copy_question(question: Question, **overrides) -> Question:
    copy = Question(
        stage=question.stage, key=question.key, position=question.position, kind=question.kind,
        text=question.text, hint=question.hint, required=question.required,
        low_label=question.low_label, high_label=question.high_label,
    )
    copy.options = [QuestionOption(value=o.value, label=o.label, position=o.position)
                    for o in question.options]
    for name, value in overrides.items():
        setattr(copy, name, value)
    return copy


def start_draft(stage: int, actor: User) -> QuestionSet:
    """Start a new version of a stage's questions as a copy of the current one."""
    if stage not in STAGES:
        raise EvaluationError("There is no such stage.")
    existing = draft_question_set(stage)
    if existing is not None:
        return existing
    current = current_question_set(stage)
    latest = db.session.scalar(select(func.max(QuestionSet.version)).where(QuestionSet.stage == stage))
    draft = QuestionSet(stage=stage, version=(latest or 0) + 1, created_by_id=actor.id,
                        created_at=utcnow())
    if current is not None:
        draft.questions = [_copy_question(q) for q in current.questions]
    db.session.add(draft)
    db.session.flush()
    return draft


def _require_draft(question_set: QuestionSet | None) -> None:
    if question_set is None or not question_set.is_draft:
        raise EvaluationError("A published version cannot be changed. Start a new version instead.")


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "q_" + slug
    return slug[:60].rstrip("_")


def _checked_data(data: QuestionData, taken_keys: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """Validate a question's fields; return its key and its (value, label) options."""
    if not data.text.strip():
        raise EvaluationError("Enter the question", field="text")
    if data.kind not in KIND_LABELS:
        raise EvaluationError("Choose what kind of answer the question takes", field="kind")
    key = data.key.strip().lower() or _slug(data.text)
    if not KEY_PATTERN.match(key):
        raise EvaluationError(
            "The report key must start with a letter and use only lower-case letters, numbers "
            "and underscores", field="key")
    if key in taken_keys:
        raise EvaluationError(f"Another question already uses the report key “{key}”", field="key")
    if data.kind == SCALE and not (data.low_label.strip() and data.high_label.strip()):
        raise EvaluationError("Enter what 1 and 5 mean on the scale", field="low_label")
    options: list[tuple[str, str]] = []
    if data.kind in (CHOOSE_ONE, CHOOSE_MANY):
        labels = [line.strip() for line in data.options if line.strip()]
        values = [_slug(label) for label in labels]
        if len(labels) < 2:
            raise EvaluationError("Enter at least two options, one on each line", field="options")
        if len(set(values)) != len(values):
            raise EvaluationError("Each option must be different", field="options")
        if any(len(label) > 200 for label in labels):
            raise EvaluationError("Each option must be 200 characters or fewer", field="options")
        options = list(zip(values, labels))
    return key, options


def _apply(question: Question, data: QuestionData, key: str, options: list[tuple[str, str]]) -> None:
    question.key = key
    question.text = data.text.strip()
    question.hint = data.hint.strip()
    question.kind = data.kind
    question.required = bool(data.required)
    question.low_label = data.low_label.strip() if data.kind == SCALE else ""
    question.high_label = data.high_label.strip() if data.kind == SCALE else ""
    question.options = [QuestionOption(value=v, label=label, position=i)
                        for i, (v, label) in enumerate(options)]


def save_question(question_set: QuestionSet, data: QuestionData, actor: User,
                  question: Question | None = None) -> Question:
    """Add a question to a draft version, or change one of its questions."""
    _require_draft(question_set)
    if question is not None and question.question_set_id != question_set.id:
        raise EvaluationError("That question is not in this version.")
    taken = {q.key for q in question_set.questions if q is not question}
    key, options = _checked_data(data, taken)
    if question is None:
        position = max((q.position for q in question_set.questions), default=-1) + 1
        question = Question(stage=question_set.stage, position=position)
        question_set.questions.append(question)
    else:
        question.options.clear()
        db.session.flush()
    _apply(question, data, key, options)
    db.session.flush()
    return question


def remove_question(question: Question, actor: User) -> None:
    """Take a question out of a draft version."""
    _require_draft(question.question_set)
    question.question_set.questions.remove(question)
    db.session.flush()


def move_question(question: Question, direction: int, actor: User) -> None:
    """Move a draft's question one place up (-1) or down (+1)."""
    _require_draft(question.question_set)
    questions = list(question.question_set.questions)
    index = questions.index(question)
    other = index + direction
    if 0 <= other < len(questions):
        questions[index], questions[other] = questions[other], questions[index]
        for position, q in enumerate(questions):
            q.position = position
    db.session.flush()


def publish_draft(question_set: QuestionSet, actor: User, note: str = "") -> QuestionSet:
    """Make a draft the version sent from now on; answers already given keep their version."""
    _require_draft(question_set)
    if not question_set.questions:
        raise EvaluationError("A version needs at least one question.")
    question_set.note = note.strip()
    question_set.published_at = utcnow()
    db.session.flush()
    return question_set


def discard_draft(question_set: QuestionSet, actor: User) -> None:
    """Throw away a draft version that was never published."""
    _require_draft(question_set)
    db.session.delete(question_set)
    db.session.flush()


# --- Course settings and a course's own questions ---------------------------------------------

def course_setting(course: Course) -> CourseEvaluationSetting:
    """Return a course's evaluation settings (the defaults when none are saved)."""
    setting = db.session.get(CourseEvaluationSetting, course.id)
    if setting is None:
        setting = CourseEvaluationSetting(
            course_id=course.id, manager_copy=False,
            certificate_needs_evaluation=current_app.config["EVALUATION_CERTIFICATE_GATE"],
        )
    return setting


def update_course_setting(course: Course, actor: User, *, manager_copy: bool,
                          certificate_needs_evaluation: bool) -> CourseEvaluationSetting:
    """Save whether line managers get a copy of stage 2 and whether certificates wait for stage 1."""
    setting = course_setting(course)
    setting.manager_copy = bool(manager_copy)
    setting.certificate_needs_evaluation = bool(certificate_needs_evaluation)
    setting.updated_at = utcnow()
    setting.updated_by_id = actor.id
    db.session.add(setting)
    db.session.flush()
    return setting


def course_questions(course_id: int, stage: int) -> list[Question]:
    """Return the questions a course currently adds to a stage."""
    return list(db.session.scalars(
        select(Question)
        .where(Question.course_id == course_id, Question.stage == stage,
               Question.retired_at.is_(None))
        .order_by(Question.position, Question.id)
    ))


def save_course_question(course: Course, stage: int, data: QuestionData, actor: User,
                         replacing: Question | None = None) -> Question:
    """Add a question of a course's own to a stage, or replace one (answers keep the old one)."""
    if stage not in STAGES:
        raise EvaluationError("There is no such stage.")
    if replacing is not None and (replacing.course_id != course.id or replacing.retired_at):
        raise EvaluationError("That question is not one this course asks.")
    current = current_question_set(stage)
    taken = {q.key for q in current.questions} if current else set()
    taken |= {q.key for q in course_questions(course.id, stage) if q is not replacing}
    key, options = _checked_data(data, taken)
    existing = course_questions(course.id, stage)
    position = replacing.position if replacing else max((q.position for q in existing), default=-1) + 1
    if replacing is not None:
        replacing.retired_at = utcnow()
    question = Question(course_id=course.id, stage=stage, position=position)
    _apply(question, data, key, options)
    db.session.add(question)
    db.session.flush()
    return question


def retire_course_question(question: Question, actor: User) -> None:
    """Stop asking one of a course's own questions (its answers are kept)."""
    if question.course_id is None or question.retired_at is not None:
        raise EvaluationError("That question is not one a course asks.")
    question.retired_at = utcnow()
    db.session.flush()


# --- Links --------------------------------------------------------------------------------------

def invitation_token(invitation: Invitation) -> str:
    """Sign a link for one person, one session and one stage."""
    return make_token(LINK_PURPOSE, {"i": invitation.id, "u": invitation.user_id,
                                     "s": invitation.session_id, "t": invitation.stage,
                                     "n": invitation.nonce})


def invitation_link(invitation: Invitation) -> str:
    """Return the absolute address of an invitation's form."""
    return external_url("evaluation.answer", token=invitation_token(invitation))


def manager_link(invitation: Invitation) -> str:
    """Return the absolute address of the line manager's comment form."""
    token = make_token(MANAGER_LINK_PURPOSE, {"i": invitation.id, "n": invitation.nonce})
    return external_url("evaluation.manager_comment", token=token)


def _invitation_from(purpose: str, token: str) -> tuple[Invitation, dict]:
    try:
        payload = read_token(purpose, token, LINK_SIGNATURE_MAX_AGE)
    except LinkError as exc:
        raise InvitationLinkError(exc.message, "invalid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int):
        raise InvitationLinkError("This link is not valid. Check you copied the whole link.", "invalid")
    invitation = db.session.get(Invitation, payload["i"])
    if invitation is None or payload.get("n") != invitation.nonce:
        raise InvitationLinkError("This link is not valid. Check you copied the whole link.", "invalid")
    return invitation, payload


def open_invitation(token: str, now: datetime | None = None) -> Invitation:
    """Return the invitation a link opens, or say why it cannot be answered."""
    now = now or utcnow()
    invitation, payload = _invitation_from(LINK_PURPOSE, token)
    if (payload.get("u"), payload.get("s"), payload.get("t")) != (
            invitation.user_id, invitation.session_id, invitation.stage):
        raise InvitationLinkError("This link is not valid. Check you copied the whole link.", "invalid")
    if invitation.submitted_at is not None:
        raise InvitationLinkError("You have already sent this evaluation. Thank you.", "submitted",
                                  invitation)
    if invitation.is_expired(now):
        raise InvitationLinkError("This evaluation has closed.", "expired", invitation)
    return invitation


# --- Sending ------------------------------------------------------------------------------------

def _expiry_days(stage: int) -> int:
    config = current_app.config
    return config["EVALUATION_STAGE1_EXPIRY_DAYS" if stage == STAGE_ONE else "EVALUATION_STAGE2_EXPIRY_DAYS"]


def stage_two_due_at(session: Session) -> datetime | None:
    """Return when a session's second evaluation is due (its end plus the course's delay)."""
    if session.ends_at is None:
        return None
    return session.ends_at + relativedelta(months=session.course.evaluation_delay_months)


def _candidates(stage: int, now: datetime, ended_after: datetime):
    """Bookings present at a session that ended (after `ended_after`) with no invitation for this stage."""
    existing = aliased(Invitation)
    return db.session.scalars(
        select(Booking)
        .join(Session, Session.id == Booking.session_id)
        .join(User, User.id == Booking.user_id)
        .outerjoin(existing, and_(existing.booking_id == Booking.id, existing.stage == stage))
        .where(
            Booking.outcome.in_(PRESENT_OUTCOMES),
            Session.status != CANCELLED,
            Session.ends_at.is_not(None),
            Session.ends_at <= now,
            Session.ends_at >= ended_after,
            User.status == ACTIVE,
            existing.id.is_(None),
        )
        .order_by(Booking.id)
    ).all()


def create_invitation(booking: Booking, stage: int, now: datetime) -> Invitation | None:
    """Invite a person to evaluate a session at a stage and queue the e-mail (once only)."""
    question_set = current_question_set(stage)
    if question_set is None:
        raise EvaluationError(f"There are no published questions for stage {stage}.")
    invitation = Invitation(
        booking_id=booking.id, user_id=booking.user_id, session_id=booking.session_id,
        stage=stage, question_set_id=question_set.id, nonce=secrets.token_hex(8), sent_at=now,
        expires_at=now + timedelta(days=_expiry_days(stage)),
    )
    # Two runs racing for the same booking: the unique (booking, stage) lets only one insert.
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except IntegrityError:
        return None
    notifications.notify_invitation(invitation, invitation_link(invitation))
    if stage == STAGE_TWO and course_setting(booking.session.course).manager_copy:
        manager_email = booking.user.line_manager_email.strip()
        if manager_email:
            notifications.notify_manager_copy(invitation, manager_email, manager_link(invitation))
            invitation.manager_copy_sent_at = now
    db.session.flush()
    return invitation


def send_first_evaluations(now: datetime | None = None) -> int:
    """Invite everyone who attended a session that has ended to the first evaluation."""
    now = now or utcnow()
    latest = timedelta(days=current_app.config["EVALUATION_LATEST_SEND_DAYS"])
    sent = 0
    # A register marked late is still picked up; a session long past is not surprised with mail.
    for booking in _candidates(STAGE_ONE, now, now - latest):
        if create_invitation(booking, STAGE_ONE, now):
            sent += 1
    return sent


def send_second_evaluations(now: datetime | None = None) -> int:
    """Invite everyone who attended to the second evaluation once the course's delay has passed."""
    now = now or utcnow()
    latest = timedelta(days=current_app.config["EVALUATION_LATEST_SEND_DAYS"])
    longest_delay = db.session.scalar(select(func.max(Course.evaluation_delay_months))) or 0
    sent = 0
    for booking in _candidates(STAGE_TWO, now, now - latest - relativedelta(months=longest_delay)):
        due = stage_two_due_at(booking.session)
        if due is None or due > now or due < now - latest:
            continue
        if create_invitation(booking, STAGE_TWO, now):
            sent += 1
    return sent


def _claim_reminder(invitation_id: int, column, condition, now: datetime) -> bool:
    """Mark a reminder as sent unless another run already did (the row decides, not Python)."""
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, column.is_(None), condition)
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def send_reminders(now: datetime | None = None) -> int:
    """Remind people who have not answered: once after 7 days, once after 14, then no more."""
    now = now or utcnow()
    first = timedelta(days=current_app.config["EVALUATION_FIRST_REMINDER_DAYS"])
    second = timedelta(days=current_app.config["EVALUATION_SECOND_REMINDER_DAYS"])
    open_ = and_(Invitation.submitted_at.is_(None), Invitation.expires_at > now)
    # Counted from the latest sending, so a resent invitation is not followed at once by a reminder.
    last_sent = func.coalesce(Invitation.resent_at, Invitation.sent_at)
    sent = 0
    due_first = db.session.scalars(
        select(Invitation.id).where(open_, Invitation.reminder_1_at.is_(None),
                                    last_sent <= now - first).order_by(Invitation.id)
    ).all()
    for invitation_id in due_first:
        if _claim_reminder(invitation_id, Invitation.reminder_1_at, open_, now):
            invitation = db.session.get(Invitation, invitation_id, populate_existing=True)
            notifications.notify_reminder(invitation, 1, invitation_link(invitation))
            sent += 1
    due_second = db.session.scalars(
        select(Invitation.id).where(
            open_, Invitation.reminder_1_at.is_not(None), Invitation.reminder_2_at.is_(None),
            last_sent <= now - second,
            # Keep the two reminders apart even when the job has not run for a while.
            Invitation.reminder_1_at <= now - (second - first),
        ).order_by(Invitation.id)
    ).all()
    for invitation_id in due_second:
        if _claim_reminder(invitation_id, Invitation.reminder_2_at, open_, now):
            invitation = db.session.get(Invitation, invitation_id, populate_existing=True)
            notifications.notify_reminder(invitation, 2, invitation_link(invitation))
            sent += 1
    db.session.flush()
    return sent


def send_due_evaluations(now: datetime | None = None) -> dict[str, int]:
    """Send every first and second evaluation and reminder that is due."""
    now = now or utcnow()
    ensure_default_question_sets()
    return {
        "stage 1": send_first_evaluations(now),
        "stage 2": send_second_evaluations(now),
        "reminders": send_reminders(now),
    }


def resend_invitation(invitation: Invitation, actor: User, now: datetime | None = None) -> Invitation:
    """Send an invitation again, opening it for another full period if it has closed."""
    now = now or utcnow()
    [invitation] = lock_rows(Invitation, [invitation.id])
    if invitation.submitted_at is not None:
        raise EvaluationError("This person has already answered; there is nothing to resend.")
    invitation.expires_at = max(invitation.expires_at, now + timedelta(days=_expiry_days(invitation.stage)))
    invitation.resent_at = now
    invitation.resend_count += 1
    notifications.notify_resent(invitation, invitation.resend_count, invitation_link(invitation))
    db.session.flush()
    return invitation


# --- Answering ----------------------------------------------------------------------------------

def questions_for(invitation: Invitation) -> list[Question]:
    """Return the questions an invitation asks: its version's, then the course's own."""
    course_id = invitation.session.course_id
    return list(invitation.question_set.questions) + course_questions(course_id, invitation.stage)


def field_name(question: Question) -> str:
    return f"q{question.id}"


def _missing_message(question: Question) -> str:
    if question.kind == TEXT:
        return f"Answer “{question.text}”"
    if question.kind == CHOOSE_MANY:
        return f"Select at least one answer for “{question.text}”"
    return f"Select an answer for “{question.text}”"


def _answers_for(question: Question, raw: list[str]) -> list[Answer]:
    """Turn what was sent for one question into answer rows, refusing values not offered."""
    values = [v.strip() for v in raw if v is not None and v.strip()]
    if question.kind == TEXT:
        text = "\n".join(values)
        if len(text) > MAX_TEXT_ANSWER:
            raise ValueError(f"Keep your answer to {MAX_TEXT_ANSWER} characters or fewer")
        return [Answer(question_id=question.id, value_text=text)] if text else []
    if question.kind == SCALE:
        if len(values) > 1 or (values and values[0] not in {str(v) for v in SCALE_VALUES}):
            raise ValueError(f"Choose a number from 1 to 5 for “{question.text}”")
        return [Answer(question_id=question.id, value_int=int(values[0]))] if values else []
    allowed = {value for value, _ in question.choices()}
    if any(v not in allowed for v in values):
        raise ValueError(f"Choose from the options given for “{question.text}”")
    if question.kind in (YES_NO_NOT_YET, CHOOSE_ONE):
        if len(values) > 1:
            raise ValueError(f"Choose one answer for “{question.text}”")
        return [Answer(question_id=question.id, value_text=values[0])] if values else []
    return [Answer(question_id=question.id, value_text=v) for v in dict.fromkeys(values)]


def submit_response(invitation: Invitation, raw: dict[str, list[str]],
                    now: datetime | None = None) -> Response:
    """Save a person's answers to an invitation, once; refuse missing or unknown answers."""
    now = now or utcnow()
    [invitation] = lock_rows(Invitation, [invitation.id])
    if invitation.submitted_at is not None:
        raise InvitationLinkError("You have already sent this evaluation. Thank you.", "submitted",
                                  invitation)
    if invitation.is_expired(now):
        raise InvitationLinkError("This evaluation has closed.", "expired", invitation)
    errors: dict[str, str] = {}
    answers: list[Answer] = []
    for question in questions_for(invitation):
        name = field_name(question)
        try:
            rows = _answers_for(question, raw.get(name, []))
        except ValueError as exc:
            errors[name] = str(exc)
            continue
        if question.required and not rows:
            errors[name] = _missing_message(question)
        answers.extend(rows)
    if errors:
        raise AnswersInvalid(errors)
    response = Response(invitation_id=invitation.id, question_set_id=invitation.question_set_id,
                        submitted_at=now, answers=answers)
    invitation.submitted_at = now
    db.session.add(response)
    db.session.flush()
    return response


def open_manager_link(token: str, now: datetime | None = None) -> Invitation:
    """Return the invitation a line manager's link is about, or say why it cannot be used."""
    now = now or utcnow()
    invitation, _payload = _invitation_from(MANAGER_LINK_PURPOSE, token)
    if invitation.manager_copy_sent_at is None:
        raise InvitationLinkError("This link is not valid. Check you copied the whole link.", "invalid")
    if invitation.manager_comment is not None:
        raise InvitationLinkError("You have already sent your comment. Thank you.", "submitted",
                                  invitation)
    if now >= invitation.expires_at:
        raise InvitationLinkError("This evaluation has closed.", "expired", invitation)
    return invitation


def submit_manager_comment(invitation: Invitation, comment: str,
                           now: datetime | None = None) -> ManagerComment:
    """Save the line manager's comment on how the learning has been applied, once."""
    now = now or utcnow()
    [invitation] = lock_rows(Invitation, [invitation.id])
    if invitation.manager_comment is not None:
        raise InvitationLinkError("You have already sent your comment. Thank you.", "submitted",
                                  invitation)
    if now >= invitation.expires_at:
        raise InvitationLinkError("This evaluation has closed.", "expired", invitation)
    comment = (comment or "").strip()
    if not comment:
        raise EvaluationError("Enter your comment", field="comment")
    if len(comment) > MAX_TEXT_ANSWER:
        raise EvaluationError(f"Keep your comment to {MAX_TEXT_ANSWER} characters or fewer",
                              field="comment")
    manager_comment = ManagerComment(invitation_id=invitation.id, comment=comment, submitted_at=now,
                                     manager_email=invitation.user.line_manager_email)
    db.session.add(manager_comment)
    db.session.flush()
    return manager_comment


# --- The learner's evaluations and the certificate gate --------------------------------------

def invitations_for(person: User) -> list[Invitation]:
    """Return a person's invitations, newest first."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.user_id == person.id)
        .order_by(Invitation.sent_at.desc(), Invitation.id.desc())
    ))


def first_evaluation_submitted(booking: Booking) -> bool:
    """Say whether the person has sent the first evaluation of this booking's session."""
    return db.session.scalar(
        select(func.count(Invitation.id)).where(
            Invitation.booking_id == booking.id, Invitation.stage == STAGE_ONE,
            Invitation.submitted_at.is_not(None))
    ) > 0


def certificate_gate(booking: Booking) -> Refusal | None:
    """Return why a certificate waits for the first evaluation, with its link; None when it does not."""
    if not course_setting(booking.session.course).certificate_needs_evaluation:
        return None
    if first_evaluation_submitted(booking):
        return None
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.booking_id == booking.id, Invitation.stage == STAGE_ONE)
    )
    if invitation is None:
        return Refusal("Answer the evaluation to get your certificate. We will e-mail you the link when "
                       "the session has ended and the register is complete.")
    if invitation.is_expired(utcnow()):
        return Refusal("Answer the evaluation to get your certificate. Your link to it has closed: contact "
                       f"the L&D team at {current_app.config['L_AND_D_EMAIL']} to have it sent again.")
    return Refusal(f"to get your certificate (open until {format_date(invitation.expires_at)}).",
                   link_text="Answer the evaluation", href=invitation_link(invitation))


def outstanding_evaluations(agency_id: int) -> list[Invitation]:
    """List the open, unanswered evaluations of people booked from one agency, oldest first."""
    return list(db.session.scalars(
        select(Invitation)
        .join(Booking, Booking.id == Invitation.booking_id)
        .where(Booking.agency_id == agency_id, Invitation.submitted_at.is_(None),
               Invitation.expires_at > utcnow())
        .options(selectinload(Invitation.user),
                 selectinload(Invitation.session).selectinload(Session.course))
        .order_by(Invitation.sent_at, Invitation.id)
    ))


# Certificates wait for the first evaluation (CERTIFICATE_REQUIRES_EVALUATION, and per course).
add_certificate_gate(certificate_gate)
