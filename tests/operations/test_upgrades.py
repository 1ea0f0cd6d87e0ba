"""Migrations, checked as an upgrade runs them: on an empty database they build exactly the models'
schema, and they carry a database holding the last release's demo data to today's head and back.

Each test makes its own database beside the suite's (an SQLite file, or CREATE DATABASE on the
suite's PostgreSQL server) and runs `flask db` in a process of its own, as the IT team would.
"""
from __future__ import annotations

from datetime import datetime, time
from html import escape

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.config import Config as AlembicConfig

import app.models  # noqa: F401  (every table, for the comparison)
from app import clock, create_app
from app.extensions import db
from tests.conftest import DATABASE_URL, make_test_config
from tests.operations.databases import (
    MIGRATIONS,
    current_revision,
    flask_db,
    fresh_database,
    load_snapshot,
    read_snapshot,
    releases,
    snapshot_path,
    snapshot_rows,
    table_rows,
)

DEMO_PASSWORD = "safeguarding-demo"
DEMO_ADMIN = "admin@northbridge-council.example"
# What people would miss after an upgrade: their places, the registers' marks, their answers.
KEPT = ("bookings", "booking_events", "evaluation_responses", "evaluation_answers")


def _head() -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def _differences(database_url: str, metadata: sa.MetaData) -> list:
    """What `flask db check` would find: the models against the database, as autogenerate sees them."""
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_models_schema(tmp_path):
    with fresh_database(DATABASE_URL, tmp_path) as url:
        flask_db(url, "upgrade")
        assert current_revision(url) == _head()
        differences = _differences(url, db.metadata)
        assert not differences, (
            "the models differ from what the migrations build; make a migration "
            "(flask db migrate -m ...):\n" + "\n".join(map(str, differences)))

        # The comparison sees a change the migrations lack: a column that no migration adds.
        changed = sa.MetaData()
        for table in db.metadata.sorted_tables:
            table.to_metadata(changed)
        changed.tables["venues"].append_column(sa.Column("parking_notes", sa.Text()))
        found = _differences(url, changed)
        assert [(d[0], d[3].name) for d in found if d[0] == "add_column"] == [("add_column", "parking_notes")]


def test_releases_are_recorded_with_a_demo_snapshot_at_their_head():
    recorded = releases()
    assert recorded, "migrations/releases.txt lists no release"
    revision, _released, commit = recorded[-1]
    assert len(commit) == 40
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_revision(revision) is not None, f"release head {revision} is not a migration"
    snapshot = read_snapshot(snapshot_path(revision))
    assert snapshot["revision"] == revision
    assert all(len(snapshot["tables"][name]["rows"]) > 100 for name in KEPT)


def _expected(snapshot: dict, table: str) -> tuple[list[str], list[tuple]]:
    rows = snapshot_rows(snapshot, table)
    columns = snapshot["tables"][table]["columns"]
    return columns, [tuple(row[c] for c in columns) for row in rows]


def _assert_kept(url: str, snapshot: dict) -> None:
    for table in KEPT:
        columns, rows = _expected(snapshot, table)
        assert table_rows(url, table, columns) == rows, f"{table} changed in the upgrade"


def _pages_render(url: str, snapshot: dict, smtp_port: int) -> None:
    """The programme as it stood that day, and a marked register, from the upgraded database."""
    sessions = {row["id"]: row for row in snapshot_rows(snapshot, "sessions")}
    courses = {row["id"]: row for row in snapshot_rows(snapshot, "courses")}
    users = {row["id"]: row for row in snapshot_rows(snapshot, "users")}
    made = datetime.combine(datetime.fromisoformat(snapshot["made"]).date(), time(12))
    upcoming = [s for s in sessions.values() if s["status"] == "published" and s["starts_at"] and s["starts_at"] > made]
    marked = next(b for b in snapshot_rows(snapshot, "bookings") if b["outcome"])
    application = create_app(make_test_config(smtp_port, SQLALCHEMY_DATABASE_URI=url))
    clock.set_now(made)
    try:
        with application.app_context():
            client = application.test_client()
            programme = client.get("/programme")
            assert programme.status_code == 200
            page = programme.get_data(as_text=True)
            assert escape(courses[upcoming[0]["course_id"]]["title"]) in page
            signed_in = client.post("/sign-in", data={"email": DEMO_ADMIN, "password": DEMO_PASSWORD})
            assert signed_in.status_code == 302
            register = client.get(f"/registers/{marked['session_id']}")
            assert register.status_code == 200
            assert escape(users[marked["user_id"]]["name"]) in register.get_data(as_text=True)
            db.session.remove()
    finally:
        clock.set_now(None)
        with application.app_context():
            db.engine.dispose()


def _next_id_is_new(url: str, snapshot: dict, table: str, values: dict) -> None:
    """A row added after the load gets an id of its own (PostgreSQL's sequences were moved on)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
            new_id = connection.execute(reflected.insert().values(**values)).inserted_primary_key[0]
            connection.execute(reflected.delete().where(reflected.c.id == new_id))
    finally:
        engine.dispose()
    assert new_id > max(row["id"] for row in snapshot_rows(snapshot, table))


def test_the_last_release_with_its_demo_data_upgrades_to_head_and_back(tmp_path, smtp_server):
    release = releases()[-1][0]
    snapshot = read_snapshot(snapshot_path(release))
    with fresh_database(DATABASE_URL, tmp_path) as url:
        flask_db(url, "upgrade", release)
        assert current_revision(url) == release
        assert load_snapshot(url, snapshot) == sum(len(t["rows"]) for t in snapshot["tables"].values())

        flask_db(url, "upgrade")
        assert current_revision(url) == _head()
        _assert_kept(url, snapshot)
        _pages_render(url, snapshot, smtp_server.port)
        _next_id_is_new(url, snapshot, "venues", {"name": "Upgrade Hall", "address": "", "access_information": "", "active": True})

        # Rolling back a release: down to its head with the data in, then up again.
        flask_db(url, "downgrade", release)
        assert current_revision(url) == release
        _assert_kept(url, snapshot)
        flask_db(url, "upgrade")
        assert current_revision(url) == _head()
        _assert_kept(url, snapshot)
        _pages_render(url, snapshot, smtp_server.port)
