"""Count the SQL statements one page sends, as a new request would (for the "does not grow" tests)."""
from __future__ import annotations

from app.extensions import db
from bench.statements import StatementCounter


def statements_of_get(client, path: str) -> list[str]:
    """The statements one GET sends, from a new transaction and an empty identity map (as a new
    request has)."""
    db.session.commit()
    db.session.expunge_all()
    with StatementCounter(db.engine) as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter.statements
