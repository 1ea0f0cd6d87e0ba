"""Two-stage evaluation: versioned question sets, invitations, responses and their answers.

Questions are data. A question set belongs to one stage and has numbered versions; a version is
edited as a draft and frozen once published, so every answer keeps the exact question it was
given. A question's `key` stays the same across versions ("confidence_before", "applied"...), so
reports can follow one measure from version to version.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.bookings.models import Booking
from app.clock import utcnow
from app.courses.models import Course, Session
from app.extensions import db

STAGE_ONE = 1
STAGE_TWO = 2
STAGES = (STAGE_ONE, STAGE_TWO)
STAGE_LABELS = {STAGE_ONE: "First evaluation (after the course)",
                STAGE_TWO: "Second evaluation (applying the learning)"}

# Question kinds.
SCALE = "scale"  # 1 to 5, with labelled ends
YES_NO_NOT_YET = "yes_no_not_yet"
CHOOSE_ONE = "choose_one"
CHOOSE_MANY = "choose_many"
TEXT = "text"
KIND_LABELS = {
    SCALE: "Scale of 1 to 5",
    YES_NO_NOT_YET: "Yes, no or not yet",
    CHOOSE_ONE: "Choose one option",
    CHOOSE_MANY: "Choose any options",
    TEXT: "Free text",
}
YES_NO_NOT_YET_OPTIONS = [("yes", "Yes"), ("no", "No"), ("not_yet", "Not yet")]
SCALE_VALUES = (1, 2, 3, 4, 5)


class QuestionSet(db.Model):
    """One version of a stage's questions; a draft until published, then never changed."""

    __tablename__ = "evaluation_question_sets"
    __table_args__ = (UniqueConstraint("stage", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[int]
    version: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")  # what changed in this version
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]

    questions: Mapped[list[Question]] = relationship(
        back_populates="question_set", order_by="Question.position", cascade="all, delete-orphan"
    )
    created_by: Mapped[User | None] = relationship()

    @property
    def is_draft(self) -> bool:
        return self.published_at is None

    @property
    def label(self) -> str:
        return f"Stage {self.stage}, version {self.version}"


class Question(db.Model):
    """A question in a set version, or one of a course's own questions for a stage."""

    __tablename__ = "evaluation_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("evaluation_question_sets.id"), index=True
    )
    # A course's own question: course and stage are set, question_set_id is None.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    stage: Mapped[int]
    key: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    hint: Mapped[str] = mapped_column(Text, default="")
    required: Mapped[bool] = mapped_column(default=False)
    low_label: Mapped[str] = mapped_column(String(100), default="")  # scale: what 1 means
    high_label: Mapped[str] = mapped_column(String(100), default="")  # scale: what 5 means
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]  # a course's question no longer asked

    question_set: Mapped[QuestionSet | None] = relationship(back_populates="questions")
    course: Mapped[Course | None] = relationship()
    options: Mapped[list[QuestionOption]] = relationship(
        back_populates="question", order_by="QuestionOption.position", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def choices(self) -> list[tuple[str, str]]:
        """Return the (value, label) pairs a person may choose from."""
        if self.kind == SCALE:
            return [(str(v), self.scale_label(v)) for v in SCALE_VALUES]
        if self.kind == YES_NO_NOT_YET:
            return list(YES_NO_NOT_YET_OPTIONS)
        return [(o.value, o.label) for o in self.options]

    def scale_label(self, value: int) -> str:
        if value == SCALE_VALUES[0] and self.low_label:
            return f"{value} – {self.low_label}"
        if value == SCALE_VALUES[-1] and self.high_label:
            return f"{value} – {self.high_label}"
        return str(value)


class QuestionOption(db.Model):
    """One option of a choose-one or choose-many question; `value` is stable across versions."""

    __tablename__ = "evaluation_question_options"
    __table_args__ = (UniqueConstraint("question_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("evaluation_questions.id"), index=True)
    value: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    question: Mapped[Question] = relationship(back_populates="options")


class CourseEvaluationSetting(db.Model):
    """How a course's evaluation goes: a copy to the line manager, the certificate gate."""

    __tablename__ = "evaluation_course_settings"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), primary_key=True)
    manager_copy: Mapped[bool] = mapped_column(default=False)
    certificate_needs_evaluation: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    course: Mapped[Course] = relationship()


class Invitation(db.Model):
    """One person asked to evaluate one session at one stage (one per booking and stage)."""

    __tablename__ = "evaluation_invitations"
    # The database guarantees one invitation per booking and stage, however many job runs race.
    __table_args__ = (UniqueConstraint("booking_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    stage: Mapped[int]
    question_set_id: Mapped[int] = mapped_column(ForeignKey("evaluation_question_sets.id"))
    # Part of every link; a new nonce makes links sent before it stop working.
    nonce: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    reminder_1_at: Mapped[datetime | None]
    reminder_2_at: Mapped[datetime | None]
    resent_at: Mapped[datetime | None]
    resend_count: Mapped[int] = mapped_column(default=0)
    manager_copy_sent_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]

    booking: Mapped[Booking] = relationship()
    user: Mapped[User] = relationship()
    session: Mapped[Session] = relationship()
    question_set: Mapped[QuestionSet] = relationship()
    response: Mapped[Response | None] = relationship(back_populates="invitation", uselist=False)
    manager_comment: Mapped[ManagerComment | None] = relationship(
        back_populates="invitation", uselist=False
    )

    def is_expired(self, now: datetime) -> bool:
        return self.submitted_at is None and now >= self.expires_at


class Response(db.Model):
    """A submitted evaluation (one per invitation)."""

    __tablename__ = "evaluation_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("evaluation_invitations.id"), unique=True)
    question_set_id: Mapped[int] = mapped_column(ForeignKey("evaluation_question_sets.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    invitation: Mapped[Invitation] = relationship(back_populates="response")
    question_set: Mapped[QuestionSet] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.id"
    )


class Answer(db.Model):
    """One answer: a scale as an integer, anything else as text; choose-many is a row per option."""

    __tablename__ = "evaluation_answers"
    __table_args__ = (Index("ix_evaluation_answers_question_value", "question_id", "value_int"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("evaluation_responses.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("evaluation_questions.id"))
    value_int: Mapped[int | None]
    value_text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="answers")
    question: Mapped[Question] = relationship()


class ManagerComment(db.Model):
    """The line manager's comment on how a person has applied the learning (stage 2)."""

    __tablename__ = "evaluation_manager_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("evaluation_invitations.id"), unique=True)
    manager_email: Mapped[str] = mapped_column(String(255))
    comment: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    invitation: Mapped[Invitation] = relationship(back_populates="manager_comment")
