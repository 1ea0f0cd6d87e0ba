"""`python -m bench`: a booking rush against gunicorn, on PostgreSQL and on SQLite.

For each database this starts a throwaway database (PostgreSQL through scripts/with_postgres.sh,
SQLite in a temporary folder), fills it, starts gunicorn on 127.0.0.1, lets N signed-in people
book the last places of popular sessions at the same moment, then asks a trivial page the same
number of times as the yardstick. It prints bookings per second, median and 95th-percentile
latency, the same for the trivial page, and the ratio; then stops everything it started.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("postgresql", "sqlite")


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=120, help="people booking at once (default 120)")
    parser.add_argument("--sessions", type=int, default=4, help="popular sessions (default 4)")
    parser.add_argument("--capacity", type=int, default=30, help="places per session (default 30)")
    parser.add_argument("--left", type=int, default=6, help="places still free on each session (default 6)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--backend", choices=BACKENDS, action="append",
                        help="only this database (repeatable; default both)")
    parser.add_argument("--timeout", type=int, default=240, help="give up on one database after this many seconds")
    parser.add_argument("--inner", choices=BACKENDS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _forward(args: argparse.Namespace) -> list[str]:
    return [f"--people={args.people}", f"--sessions={args.sessions}", f"--capacity={args.capacity}",
            f"--left={args.left}", f"--workers={args.workers}", f"--threads={args.threads}",
            f"--timeout={args.timeout}"]


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.inner:
        from bench.rush import run

        return run(args)
    failures = 0
    for backend in args.backend or BACKENDS:
        command = [sys.executable, "-m", "bench", f"--inner={backend}", *_forward(args)]
        if backend == "postgresql":
            command = ["bash", str(ROOT / "scripts" / "with_postgres.sh"), *command]
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
        try:
            result = subprocess.run(command, cwd=ROOT, env=env, timeout=args.timeout + 120)
        except subprocess.TimeoutExpired:
            print(f"== {backend}: gave up after {args.timeout + 120} seconds")
            failures += 1
            continue
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
