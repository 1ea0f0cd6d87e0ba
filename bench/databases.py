"""Run one bench on a throwaway SQLite database, then again on a throwaway PostgreSQL.

A bench module's main() parses its own options, adds `--sqlite-only` and `--postgres-only` with
`add_database_options`, and hands `run_on(url)` to `on_both_databases`; the PostgreSQL run is the
same module started again under scripts/with_postgres.sh with `--postgres-only`.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true",
                        help="use TEST_DATABASE_URL (as scripts/with_postgres.sh sets it)")


def on_both_databases(module: str, args: argparse.Namespace, run_on: Callable[[str], None],
                      again: list[str]) -> int:
    """Run `run_on` on SQLite and then, in `module` started again with `again`, on PostgreSQL."""
    if args.postgres_only:
        url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
        if not url or not url.startswith("postgresql"):
            print("--postgres-only needs TEST_DATABASE_URL pointing at PostgreSQL", file=sys.stderr)
            return 2
        run_on(url)
        return 0
    folder = Path(tempfile.mkdtemp(prefix=f"{module.replace('.', '-')}-"))
    try:
        run_on(f"sqlite:///{folder / 'bench.db'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.sqlite_only:
        return 0
    if not (PG_BIN / "initdb").exists():
        print("\n(PostgreSQL 15 is not installed here: `make bench` installs it; SQLite figures only.)")
        return 0
    sys.stdout.flush()
    return subprocess.call(
        ["bash", str(ROOT / "scripts" / "with_postgres.sh"), sys.executable, "-m", module,
         "--postgres-only", *again], cwd=ROOT)
