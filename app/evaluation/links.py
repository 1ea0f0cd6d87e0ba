"""The signed links e-mailed to a person (to answer) and to their line manager (to comment)."""
from __future__ import annotations

from app.accounts.tokens import LinkError, make_token, read_token
from app.evaluation.errors import InvitationLinkError
from app.evaluation.models import Invitation
from app.extensions import db
from app.urls import external_url

LINK_PURPOSE = "evaluation"
MANAGER_LINK_PURPOSE = "evaluation-manager"
# The signature only proves a link was not altered; when it stops working is the invitation's
# expires_at (which an administrator's resend extends), so the signature's own age limit is long.
LINK_SIGNATURE_MAX_AGE = 400 * 24 * 3600
INVALID_LINK = "This link is not valid. Check you copied the whole link."


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


def read_link(purpose: str, token: str) -> tuple[Invitation, dict]:
    """Return the invitation a signed link names and what it carries; refuse an altered one."""
    try:
        payload = read_token(purpose, token, LINK_SIGNATURE_MAX_AGE)
    except LinkError as exc:
        raise InvitationLinkError(exc.message, "invalid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("i"), int):
        raise InvitationLinkError(INVALID_LINK, "invalid")
    invitation = db.session.get(Invitation, payload["i"])
    if invitation is None or payload.get("n") != invitation.nonce:
        raise InvitationLinkError(INVALID_LINK, "invalid")
    return invitation, payload

