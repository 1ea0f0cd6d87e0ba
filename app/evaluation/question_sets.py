"""Which questions are asked: the versions of each stage's question set, and a course's own questions.

A published version never changes: an administrator starts a draft (a copy of the current
version), changes it and publishes it, and answers keep the version they were given. A course's
own question is replaced by retiring it and adding another, so its answers keep their question.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.clock import utcnow
from app.courses.models import Course
from app.evaluation.defaults import DEFAULT_QUESTIONS
from app.evaluation.errors import EvaluationError
from app.evaluation.models import (
    CHOOSE_MANY,
    CHOOSE_ONE,
    KIND_LABELS,
    SCALE,
    STAGES,
    Question,
    QuestionOption,
    QuestionSet,
)
from app.extensions import db

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


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


# --- A course's own questions ------------------------------------------------------------------

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
