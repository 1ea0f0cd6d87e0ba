"""Answering: opening an invitation's link, the person's answers, and the line manager's comment.

Each is accepted once, while the invitation is open; the invitation's row is locked while an
answer is saved, so two sends of the same form never save two responses.
"""
from __future__ import annotations

from datetime import datetime

from app.clock import utcnow
from app.evaluation.errors import AnswersInvalid, EvaluationError, InvitationLinkError
from app.evaluation.links import INVALID_LINK, LINK_PURPOSE, MANAGER_LINK_PURPOSE, read_link
from app.evaluation.models import (
    CHOOSE_MANY,
    CHOOSE_ONE,
    SCALE,
    SCALE_VALUES,
    TEXT,
    YES_NO_NOT_YET,
    Answer,
    Invitation,
    ManagerComment,
    Question,
    Response,
)
from app.evaluation.question_sets import course_questions
from app.extensions import db
from app.locking import lock_rows

MAX_TEXT_ANSWER = 5000


def _refuse_if_answered_or_closed(invitation: Invitation, now: datetime) -> None:
    if invitation.submitted_at is not None:
        raise InvitationLinkError("You have already sent this evaluation. Thank you.", "submitted",
                                  invitation)
    if invitation.is_expired(now):
        raise InvitationLinkError("This evaluation has closed.", "expired", invitation)


def _refuse_if_commented_or_closed(invitation: Invitation, now: datetime) -> None:
    # The manager may comment after the person has answered: only the closing date counts.
    if invitation.manager_comment is not None:
        raise InvitationLinkError("You have already sent your comment. Thank you.", "submitted",
                                  invitation)
    if now >= invitation.expires_at:
        raise InvitationLinkError("This evaluation has closed.", "expired", invitation)


def open_invitation(token: str, now: datetime | None = None) -> Invitation:
    """Return the invitation a link opens, or say why it cannot be answered."""
    now = now or utcnow()
    invitation, payload = read_link(LINK_PURPOSE, token)
    if (payload.get("u"), payload.get("s"), payload.get("t")) != (
            invitation.user_id, invitation.session_id, invitation.stage):
        raise InvitationLinkError(INVALID_LINK, "invalid")
    _refuse_if_answered_or_closed(invitation, now)
    return invitation


def questions_for(invitation: Invitation) -> list[Question]:
    """Return the questions an invitation asks: its version's, then the course's own."""
    course_id = invitation.session.course_id
    return list(invitation.question_set.questions) + course_questions(course_id, invitation.stage)


def field_name(question: Question) -> str:
    """Name the form field that carries a question's answer."""
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
    _refuse_if_answered_or_closed(invitation, now)
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
    invitation, _payload = read_link(MANAGER_LINK_PURPOSE, token)
    if invitation.manager_copy_sent_at is None:
        raise InvitationLinkError(INVALID_LINK, "invalid")
    _refuse_if_commented_or_closed(invitation, now)
    return invitation


def submit_manager_comment(invitation: Invitation, comment: str,
                           now: datetime | None = None) -> ManagerComment:
    """Save the line manager's comment on how the learning has been applied, once."""
    now = now or utcnow()
    [invitation] = lock_rows(Invitation, [invitation.id])
    _refuse_if_commented_or_closed(invitation, now)
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
