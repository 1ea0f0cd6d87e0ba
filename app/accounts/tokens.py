"""Signed, expiring links (e-mail verification, password reset, and others' links)."""
from __future__ import annotations

from datetime import timezone
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app.clock import utcnow
from app.errors import DomainError


class LinkError(DomainError):
    """A link that is tampered with or has expired; `expired` tells which."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


class _ClockSigner(TimestampSigner):
    """Signer whose timestamps come from app.clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(utcnow().replace(tzinfo=timezone.utc).timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"link:{purpose}", signer=_ClockSigner
    )


def make_token(purpose: str, payload: Any) -> str:
    """Sign `payload` for links of one purpose."""
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age_seconds: int) -> Any:
    """Return the payload of a link, or raise LinkError if it was altered or is too old."""
    serializer = _serializer(purpose)
    try:
        return serializer.loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise LinkError("This link has expired.", expired=True) from exc
    except BadSignature as exc:
        raise LinkError("This link is not valid. Check you copied the whole link.") from exc
