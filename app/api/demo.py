"""Demo data: a read token and a writing one (completions, bookings) for St Brigid's (the demo
coordinator's agency), so the API can be tried with curl at once. Their secrets are fixed and
written in the README: a demo database only."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import Agency, User
from app.api.models import ApiToken
from app.api.tokens import MARKER, PREFIX_LENGTH, hash_of
from app.clock import utcnow
from app.demo import demo_step
from app.extensions import db

DEMO_SECRET = MARKER + "demo-st-brigids-read-token-not-for-live-use"
DEMO_WRITE_SECRET = MARKER + "demo-st-brigids-write-token-not-for-live-use"
COORDINATOR_EMAIL = "coordinator@stbrigids-nhs.example"


@demo_step
def load_api_token(_rng: random.Random) -> str:
    """A read token and a writing token for the demo coordinator's agency."""
    coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
    if coordinator is None or coordinator.agency is None:
        return "API: no demo coordinator, so no demo token"
    agency: Agency = coordinator.agency
    now = utcnow()
    for secret, name, scopes in ((DEMO_SECRET, "Demo HR system", "read"),
                                 (DEMO_WRITE_SECRET, "Demo learning system", "completions bookings")):
        db.session.add(ApiToken(
            agency_id=agency.id, name=name, scopes=scopes,
            prefix=secret[len(MARKER):len(MARKER) + PREFIX_LENGTH], token_hash=hash_of(secret),
            created_by_id=coordinator.id, created_at=now, expires_at=now + timedelta(days=365),
        ))
    db.session.flush()
    return f"API: a read token ({DEMO_SECRET}) and a writing one ({DEMO_WRITE_SECRET}) for {agency.name}"
