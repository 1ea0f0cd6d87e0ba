"""Snapshot the demo data at this checkout's migration head, for the upgrade tests.

    .venv/bin/python scripts/snapshot_demo.py      # writes tests/operations/data/demo-<head>.json.gz

Run it on the commit of a release (the line it adds to migrations/releases.txt), once: it builds a
throwaway SQLite database, applies the migrations, runs `flask demo load`, and writes every
table's rows as gzipped JSON. tests/operations/test_upgrades.py then loads that snapshot into a
database at that revision and upgrades it, so every later migration meets a populated database.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.operations.databases import (  # noqa: E402  (after the path is set)
    current_revision, dump_tables, flask_db, snapshot_path, write_snapshot,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="where to write (default: tests/operations/data/demo-<head>.json.gz)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="training-snapshot-") as directory:
        url = f"sqlite:///{Path(directory) / 'demo.db'}"
        flask_db(url, "upgrade")
        env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": url, "APP_ENV": "development"}
        subprocess.run([sys.executable, "-m", "flask", "demo", "load"], cwd=ROOT, env=env, check=True)
        revision = current_revision(url)
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            tables = dump_tables(connection)
        engine.dispose()
    output = args.output or snapshot_path(revision)
    write_snapshot(output, revision, date.today().isoformat(), tables)
    rows = sum(len(t["rows"]) for t in tables.values())
    print(f"{output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}: revision {revision}, "
          f"{len(tables)} tables, {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
