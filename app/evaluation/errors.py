"""The evaluation's refusals: one base for the domain, and the two that carry more than a message."""
from __future__ import annotations

from app.errors import DomainError
from app.evaluation.models import Invitation


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
