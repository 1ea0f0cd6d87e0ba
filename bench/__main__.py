"""`python -m bench`: the booking rushes of issue 13 against gunicorn, on PostgreSQL and on SQLite.

Named scenarios (all by default, each on a fresh database):
    places    "500 people for 500 places": 500 signed-in people book 10 sessions of 50 free places
    last      "100 people for the last 10 places": 100 people rush one session with 10 places
              left; 90 go to the waiting list
    servers   the "last" rush shared between two gunicorn servers on different ports, with two job
              runners (`flask jobs work`) on one PostgreSQL (PostgreSQL only); then 10 people
              cancel, each promoting the next person waiting, and the runners deliver every mail
              to a local SMTP sink. Prints places held, people promoted, mails delivered, and
              checks 0 overbooked, 0 promoted twice, 0 mails sent twice (by Message-ID); then a
              few lines of the servers' /metrics (bench/metrics.py). Any rush with --servers 2 or
              more does the same.

For each, it starts a throwaway database (PostgreSQL through scripts/with_postgres.sh, SQLite in a
temporary folder), fills it, starts gunicorn on 127.0.0.1, lets the people book at the same moment,
then asks a trivial page the same number of times from the same threads as the yardstick. It prints
one line each, with stable wording so runs can be compared: the booking figure (answers/s, median,
p95), the yardstick, the ratio against the issue's goal, and the outcome read from the database.

    python -m bench                         # every scenario on both databases (2 to 6 minutes on 2 CPUs)
    python -m bench --quick                 # "places" with 100 people for 100 places (about 2 minutes)
    make bench BENCH_ARGS=--quick           # the whole bench with the quick rush (under 12 minutes)
    python -m bench --scenario last --backend sqlite
    python -m bench --people 120 --sessions 4 --capacity 30 --left 6   # a rush of your own shape
    python -m bench --profile               # cProfile the booking request under a rush (below)

--profile rushes 200 people at 4 sessions on PostgreSQL: two with room for everyone, two already
full, and prints, for a booking that gets a place and for one that joins the waiting list, the
functions where the time went (cProfile in the gunicorn workers, see bench/gunicorn_profile.py).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("postgresql", "sqlite")
# name: (title, people, sessions, capacity, places left, servers, job runners, cancellations)
SCENARIOS = {
    "places": ("500 people for 500 places", 500, 10, 50, 50, 1, 0, 0),
    "last": ("100 people for the last 10 places", 100, 1, 30, 10, 1, 0, 0),
    "servers": ("100 people for the last 10 places, two servers", 100, 1, 30, 10, 2, 2, 10),
}
GOALS = {"places": ("0.3", "1.5"), "last": ("0.5", ""), "servers": ("0.5", "")}


def _arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append",
                        help="only this scenario (repeatable; default all)")
    parser.add_argument("--quick", action="store_true", help='only "places", with 100 people for 100 places')
    parser.add_argument("--people", type=int, help="a rush of your own: people booking at once")
    parser.add_argument("--sessions", type=int, help="a rush of your own: sessions (default 4)")
    parser.add_argument("--capacity", type=int, help="a rush of your own: places per session (default 30)")
    parser.add_argument("--left", type=int, help="a rush of your own: places still free on each (default 6)")
    parser.add_argument("--servers", type=int, help="a rush of your own: gunicorn servers (default 1)")
    parser.add_argument("--runners", type=int, help="a rush of your own: job runners and an SMTP sink (default 0)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--backend", choices=BACKENDS, action="append",
                        help="only this database (repeatable; default both)")
    parser.add_argument("--profile", type=int, nargs="?", const=25, default=0, metavar="TOP",
                        help="profile the booking request under a rush and print the TOP functions (25)")
    parser.add_argument("--timeout", type=int, default=300, help="give up on one run after this many seconds")
    for hidden in ("--inner", "--title", "--goal-rate", "--goal-p95"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--reserved", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cancel", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _runs(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """(backend, the inner run's arguments) for each run the options ask for."""
    backends = args.backend or BACKENDS
    shape = ("people", "sessions", "capacity", "left", "servers", "runners")
    if args.profile:
        return [(args.backend[0] if args.backend else "postgresql",
                 ["--title=200 people at 4 sessions, profiled", "--people=200", "--sessions=4",
                  "--capacity=60", "--left=60", "--servers=1", "--runners=0", f"--profile={args.profile}",
                  "--goal-rate=0.3", "--goal-p95=1.5"])]
    if any(getattr(args, name) is not None for name in shape):
        own = {"people": 120, "sessions": 4, "capacity": 30, "left": 6, "servers": 1, "runners": 0}
        own.update({k: getattr(args, k) for k in shape if getattr(args, k) is not None})
        flags = [f"--{k}={v}" for k, v in own.items()]
        return [(b, ["--title=your own rush", "--reserved", "--goal-rate=0.3", "--goal-p95=1.5", *flags])
                for b in backends]
    names = ["places"] if args.quick else (args.scenario or list(SCENARIOS))
    runs = []
    for name in names:
        title, people, sessions, capacity, left, servers, runners, cancel = SCENARIOS[name]
        if args.quick:
            title, people, sessions, capacity, left = "100 people for 100 places", 100, 2, 50, 50
        flags = [f"--title={title}", f"--people={people}", f"--sessions={sessions}", f"--capacity={capacity}",
                 f"--left={left}", f"--servers={servers}", f"--runners={runners}", f"--cancel={cancel}",
                 f"--goal-rate={GOALS[name][0]}", f"--goal-p95={GOALS[name][1]}"]
        for backend in backends:
            if servers > 1 and backend != "postgresql":
                continue  # several servers share one PostgreSQL; SQLite is one machine's file
            runs.append((backend, flags))
    return runs


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.inner:
        from bench.rush import run

        for name in ("people", "sessions", "capacity", "left", "servers", "runners"):
            setattr(args, name, int(getattr(args, name)))
        return run(args)
    failures = 0
    for backend, flags in _runs(args):
        command = [sys.executable, "-m", "bench", f"--inner={backend}", f"--workers={args.workers}",
                   f"--threads={args.threads}", f"--timeout={args.timeout}", *flags]
        if backend == "postgresql":
            command = ["bash", str(ROOT / "scripts" / "with_postgres.sh"), *command]
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
        sys.stdout.flush()
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
