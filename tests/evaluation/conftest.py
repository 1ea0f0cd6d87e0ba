"""Evaluation tests: the question sets, and a helper that answers an evaluation by question key.

Sessions end at SESSION_END after seven hours; bookings are made with an outcome recorded as the
register records it (`make_booking(session, outcome=ATTENDED, history=True)`)."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from app.evaluation.answering import field_name, questions_for, submit_response
from app.evaluation.models import STAGE_ONE, Invitation
from app.evaluation.question_sets import ensure_default_question_sets
from app.extensions import db

# A Tuesday in March 2027: sessions end at 16:30 UTC.
SESSION_END = datetime(2027, 3, 2, 16, 30)

STAGE_ONE_DEFAULTS = {
    "knowledge_before": "2", "knowledge_after": "4", "confidence_before": "2",
    "confidence_after": "4", "outcomes_met": "4", "content": "4", "trainer": "5",
    "materials": "4", "venue": "3", "relevance": "5", "multi_agency": "4",
    "apply_plan": "Check the chronology before strategy meetings.",
}
STAGE_TWO_DEFAULTS = {"applied": "yes", "confidence_now": "4"}


@pytest.fixture
def question_sets(app):
    ensure_default_question_sets()
    db.session.commit()


def answer_by_key(invitation: Invitation, now: datetime | None = None, fill: bool = True, **answers):
    """Submit an invitation's answers given by question key (lists for choose-many)."""
    defaults = STAGE_ONE_DEFAULTS if invitation.stage == STAGE_ONE else STAGE_TWO_DEFAULTS
    merged = {**(defaults if fill else {}), **answers}
    raw = {}
    for question in questions_for(invitation):
        value = merged.get(question.key)
        if value is None:
            continue
        raw[field_name(question)] = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    response = submit_response(invitation, raw, now=now)
    db.session.commit()
    return response


def link_in(message) -> str:
    """The evaluation link in an e-mail's plain-text body, as a path."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/evaluation/(?:answer|manager)/\S+)", body)
    assert match, body
    return match.group(1)
