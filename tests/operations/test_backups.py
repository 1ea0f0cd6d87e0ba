"""Backups: what README "Backups" tells the IT team to run restores every row (PostgreSQL only)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import DATABASE_URL
from tests.operations.databases import (
    flask_db,
    fresh_database,
    load_snapshot,
    read_snapshot,
    releases,
    snapshot_path,
    table_rows,
)

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgresql"),
    reason="pg_dump and pg_restore back up PostgreSQL; an SQLite database is backed up by copying its file",
)
PG_BIN = Path(os.environ.get("TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _libpq(url: str) -> str:
    """The same database as a URL pg_dump and pg_restore read."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _every_table(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as connection:
        metadata = sa.MetaData()
        metadata.reflect(connection)
    engine.dispose()
    return {name: table_rows(url, name, [c.name for c in table.c]) for name, table in metadata.tables.items()}


def test_a_pg_dump_restores_into_a_new_database_with_the_same_rows(tmp_path):
    release = releases()[-1][0]
    snapshot = read_snapshot(snapshot_path(release))
    backup = tmp_path / "training.dump"
    with fresh_database(DATABASE_URL, tmp_path) as live:
        flask_db(live, "upgrade", release)
        load_snapshot(live, snapshot)
        flask_db(live, "upgrade")
        subprocess.run([str(PG_BIN / "pg_dump"), "-Fc", "--no-owner", "--file", str(backup), "--dbname", _libpq(live)],
                       check=True, capture_output=True)
        before = _every_table(live)

        with fresh_database(DATABASE_URL, tmp_path) as restored:
            subprocess.run([str(PG_BIN / "pg_restore"), "--no-owner", "--exit-on-error", "--dbname", _libpq(restored),
                            str(backup)], check=True, capture_output=True)
            after = _every_table(restored)

    assert after.keys() == before.keys()
    for table in ("bookings", "booking_events", "evaluation_responses", "evaluation_answers", "alembic_version"):
        assert before[table], f"nothing in {table} to back up"
        assert after[table] == before[table], f"{table} differs after the restore"
    assert after == before
