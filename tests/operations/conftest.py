"""Operations' tests: the log lines the app writes, and a database stamped with migration revisions."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from app.extensions import db
from app.operations.readiness import migrations_directory, release_heads


class LogLines:
    """What the app wrote to standard error during the test, line by line (its handler writes
    to whatever sys.stderr is at the time, here pytest's capture)."""

    def __init__(self, capsys):
        self._capsys = capsys
        self._text = ""

    @property
    def text(self) -> str:
        self._text += self._capsys.readouterr().err
        return self._text

    def records(self) -> list[str]:
        """Each record's text (a traceback's lines belong to the record above them)."""
        records: list[str] = []
        for line in self.text.splitlines():
            if line.startswith("time=") or line.startswith("{") or not records:
                records.append(line)
            else:
                records[-1] += "\n" + line
        return records

    def pairs(self, message: str) -> list[dict[str, str]]:
        """The key=value records with this message, as dicts of their first line's pairs."""
        found = []
        for record in self.records():
            fields = dict(_pairs(record.split("\n", 1)[0]))
            if fields.get("message") == message:
                found.append(fields)
        return found

    def json(self, message: str) -> list[dict]:
        return [entry for entry in map(json.loads, self.text.splitlines()) if entry["message"] == message]


def _pairs(line: str):
    """Split `a=1 b="two words"` into (key, value) pairs, unquoting JSON-quoted values."""
    decoder = json.JSONDecoder()
    position = 0
    while position < len(line):
        key, _, _ = line[position:].partition("=")
        position += len(key) + 1
        if line[position:position + 1] == '"':
            value, end = decoder.raw_decode(line, position)
        else:
            end = line.find(" ", position)
            end = len(line) if end == -1 else end
            value = line[position:end]
        yield key, value
        position = end + 1


@pytest.fixture
def log_lines(app, capsys):
    capsys.readouterr()  # from here on
    return LogLines(capsys)


@pytest.fixture
def stamp(app):
    """stamp("rev"...): give the database an alembic_version table holding these revisions, as
    `flask db upgrade` leaves it (the tests' schema is made without migrations). Dropped afterwards."""

    def _stamp(*revisions: str) -> None:
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        for revision in revisions:
            db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": revision})
        db.session.commit()

    yield _stamp
    db.session.rollback()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()


@pytest.fixture
def heads(app) -> frozenset[str]:
    return release_heads(migrations_directory())
