"""Databases for the upgrade and backup tests: a fresh one beside the suite's, migrations run as
the IT team runs them (`flask db ...` in a process of its own), and demo snapshots.

A snapshot is every table's rows at one release's head, as gzipped JSON, made by
`scripts/snapshot_demo.py` and loaded back with SQLAlchemy Core on tables reflected from the
database, so it needs none of today's models and works on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "migrations"
RELEASES = MIGRATIONS / "releases.txt"
SNAPSHOTS = Path(__file__).resolve().parent / "data"
# Alembic's own bookkeeping: the snapshot records its revision instead.
SKIPPED_TABLES = {"alembic_version"}


def releases() -> list[tuple[str, str, str]]:
    """(revision, date, commit) of each release, oldest first, from migrations/releases.txt."""
    rows = []
    for line in RELEASES.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            revision, released, commit = line.split()
            rows.append((revision, released, commit))
    return rows


def snapshot_path(revision: str) -> Path:
    return SNAPSHOTS / f"demo-{revision}.json.gz"


@contextmanager
def fresh_database(base_url: str, directory: Path):
    """An empty database on the same server as base_url (or an SQLite file in directory); dropped after."""
    url = make_url(base_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{directory / f'fresh-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def flask_db(database_url: str, *args: str) -> str:
    """Run `flask db <args>` on database_url in a process of its own; return its output."""
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": database_url, "APP_ENV": "development"}
    done = subprocess.run([sys.executable, "-m", "flask", "db", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, f"flask db {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def current_revision(database_url: str) -> str | None:
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


# JSON has no dates, decimals or bytes: such values are written as {"$": type, "v": text}.
def _encode(value):
    if isinstance(value, datetime):
        return {"$": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {"$": "time", "v": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    if isinstance(value, (bytes, memoryview)):
        return {"$": "bytes", "v": base64.b64encode(bytes(value)).decode()}
    return value


_DECODERS = {
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "decimal": Decimal,
    "bytes": base64.b64decode,
}


def _decode(value):
    if isinstance(value, dict) and set(value) == {"$", "v"} and value["$"] in _DECODERS:
        return _DECODERS[value["$"]](value["v"])
    return value


def _reflect(connection) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(connection)
    return metadata


def _order_key(table: sa.Table):
    """Rows in primary-key order, so a row that refers to an earlier one in its table comes after it."""
    return [table.c[c.name] for c in table.primary_key.columns] or list(table.c)


def dump_tables(connection) -> dict[str, dict]:
    """Every table's columns and rows, in the order rows can be inserted (parents first)."""
    tables = {}
    for table in _reflect(connection).sorted_tables:
        if table.name in SKIPPED_TABLES:
            continue
        columns = [c.name for c in table.c]
        rows = connection.execute(sa.select(*table.c).order_by(*_order_key(table))).all()
        tables[table.name] = {"columns": columns, "rows": [[_encode(v) for v in row] for row in rows]}
    return tables


def write_snapshot(path: Path, revision: str, made: str, tables: dict[str, dict]) -> None:
    """Write a snapshot; the same data gives the same bytes (no timestamp in the gzip header)."""
    body = json.dumps({"revision": revision, "made": made, "tables": tables}, sort_keys=True,
                      separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        out.write(body)


def read_snapshot(path: Path) -> dict:
    with gzip.open(path, "rt") as source:
        return json.load(source)


def snapshot_rows(snapshot: dict, table: str) -> list[dict]:
    """One table's rows from a snapshot, decoded, as dicts."""
    data = snapshot["tables"][table]
    return [dict(zip(data["columns"], map(_decode, row))) for row in data["rows"]]


def load_snapshot(database_url: str, snapshot: dict) -> int:
    """Insert a snapshot's rows into a database at the snapshot's revision; return the rows inserted.

    Tables are reflected from the database and filled parents first; on PostgreSQL every id
    sequence is then moved past the ids inserted, so the next row the app adds gets a new one.
    """
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    inserted = 0
    try:
        with engine.begin() as connection:
            for table in _reflect(connection).sorted_tables:
                if table.name not in snapshot["tables"]:
                    continue
                rows = snapshot_rows(snapshot, table.name)
                if rows:
                    connection.execute(table.insert(), rows)
                    inserted += len(rows)
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection)
    finally:
        engine.dispose()
    return inserted


def _reset_sequences(connection) -> None:
    serials = connection.execute(sa.text(
        "SELECT c.table_name, c.column_name, pg_get_serial_sequence(quote_ident(c.table_name), c.column_name)"
        " FROM information_schema.columns c WHERE c.table_schema = current_schema()"
        " AND pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) IS NOT NULL")).all()
    for table, column, sequence in serials:
        connection.execute(sa.text(
            f'SELECT setval(:sequence, COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'),
            {"sequence": sequence})


def table_rows(database_url: str, table: str, columns: list[str]) -> list[tuple]:
    """The given columns of every row of a table, in primary-key order."""
    engine = sa.create_engine(database_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
            query = sa.select(*(reflected.c[c] for c in columns)).order_by(*_order_key(reflected))
            return [tuple(_normalise(v) for v in row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def _normalise(value):
    """The same value read from SQLite or PostgreSQL compares equal."""
    if isinstance(value, memoryview):
        return bytes(value)
    return value
