"""Bench: the reports over five years of synthetic data, beside one hand-written SQL query each.

    python -m bench.reports              # SQLite, then a throwaway PostgreSQL if it is installed
    python -m bench.reports --sqlite-only
    python -m bench.reports --scale 0.1  # a tenth of the data, for a quick look

It builds about 40,000 people in 150 agencies, 4,000 sessions over five financial years and 200,000
bookings (plus completions and a training needs analysis) with bulk inserts (executemany on SQLite,
COPY on PostgreSQL), then times each report and, beside it, a single hand-written SQL query that
computes the same totals on the same database, prints both, their ratio, and whether the totals
agree. It prints figures; it asserts nothing about time.
"""
from __future__ import annotations

import argparse
import random
import secrets
import sys
import time
from datetime import date, datetime, timedelta

from sqlalchemy import select, text

from bench.databases import add_database_options, on_both_databases

START = date(2021, 4, 1)
YEARS = 5
HOLDS, CONFIRMED, CANCELLED, WAITING, LAPSED = "awaiting_approval", "confirmed", "cancelled", "waiting", "lapsed"


# --- Building the data ---------------------------------------------------------------------------

def _complete(table, rows: list[dict]) -> list[dict]:
    """Fill columns the rows leave out from the model's Python-side defaults (as the ORM would)."""
    missing = [c for c in table.columns if c.name not in rows[0] and c.default is not None
               and not c.primary_key]
    for row in rows:
        for column in missing:
            arg = column.default.arg
            row[column.name] = arg(None) if callable(arg) else arg
    return rows


def bulk_insert(db, table, rows: list[dict]) -> None:
    """Insert many rows fast: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    rows = _complete(table, rows)
    columns = list(rows[0])
    raw = db.session.connection().connection.driver_connection
    if db.engine.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
    else:
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({marks})',
                        [tuple(row[c] for c in columns) for row in rows])


def build(db, scale: float, rng: random.Random) -> dict:
    """Five years of sectors, agencies, people, courses, sessions, bookings and completions."""
    from app.accounts.models import Agency, Sector, User
    from app.bookings.models import Booking, Completion
    from app.courses.models import Course, Level, Session
    from app.demo import DEFAULT_SECTORS
    from app.reports.models import TnaLine, TrainingNeedsAnalysis, line_key

    now = datetime(2026, 4, 1, 12, 0)
    n_people, n_sessions = int(40_000 * scale), int(4_000 * scale)
    n_bookings = int(200_000 * scale)
    sectors = [{"id": i + 1, "name": name, "position": i, "active": True}
               for i, name in enumerate(DEFAULT_SECTORS)]
    bulk_insert(db, Sector.__table__, sectors)
    weights = [rng.uniform(0.5, 3) for _ in sectors]
    agencies = [{"id": i + 1, "name": f"Agency {i + 1}", "active": True,
                 "sector_id": rng.choices(sectors, weights)[0]["id"]} for i in range(150)]
    bulk_insert(db, Agency.__table__, agencies)
    agency_sector = {a["id"]: a["sector_id"] for a in agencies}
    levels = [{"id": i, "name": f"Level {i}", "intercollegiate_level": f"Level {i}", "position": i}
              for i in range(1, 6)]
    bulk_insert(db, Level.__table__, levels)
    courses = []
    for i in range(1, 41):
        level = rng.choice([None, 1, 2, 3, 3, 3, 4, 5])
        courses.append({"id": i, "code": f"C{i:03d}", "title": f"Course {i}", "level_id": level,
                        "refresher_months": 36 if level == 3 else None,
                        "non_attendance_charge_pence": rng.choice([0, 5000, 7500, 9000]),
                        "duration_hours": 6, "created_at": now})
    bulk_insert(db, Course.__table__, courses)
    people = [{"id": i, "email": f"person{i}@bench.example", "name": f"Person {i}",
               "agency_id": rng.randint(1, len(agencies)), "status": "active", "created_at": now,
               "calendar_token": secrets.token_hex(16)} for i in range(1, n_people + 1)]
    bulk_insert(db, User.__table__, people)

    span = (date(START.year + YEARS, 3, 31) - START).days
    sessions = []
    for i in range(1, n_sessions + 1):
        day = START + timedelta(days=rng.randrange(span))
        starts = datetime(day.year, day.month, day.day, 9, 0)
        sessions.append({"id": i, "course_id": rng.randint(1, len(courses)),
                         "capacity": rng.choice([20, 24, 30, 30, 40, 60, 150]),
                         "status": "cancelled" if rng.random() < 0.03 else "published",
                         "starts_at": starts, "ends_at": starts + timedelta(hours=6),
                         "created_at": now, "updated_at": now})
    bulk_insert(db, Session.__table__, sessions)

    bookings, completions = [], []
    per_session = max(n_bookings // max(n_sessions, 1), 1)
    course_by_id = {c["id"]: c for c in courses}
    booking_id = 0
    for session in sessions:
        chosen = rng.sample(range(1, n_people + 1), min(per_session, n_people))
        past = session["starts_at"] < now
        for user_id in chosen:
            booking_id += 1
            roll = rng.random()
            status, outcome, walk_in, late = CONFIRMED, None, False, False
            if roll < 0.12:
                status, late = CANCELLED, rng.random() < 0.25
            elif roll < 0.18:
                status = LAPSED if past else WAITING
            elif roll < 0.20:
                status = HOLDS if not past else CONFIRMED
            elif roll < 0.24:
                walk_in = True
            if past and status == CONFIRMED:
                outcome = rng.choices(["attended", "partly_attended", "did_not_attend", "turned_away"],
                                      [85, 3, 9, 3])[0]
            if walk_in:
                outcome = "attended" if past else None
            # One booking in twenty was made from an agency the person has since left.
            agency_id = people[user_id - 1]["agency_id"] if rng.random() > 0.05 else rng.randint(1, len(agencies))
            bookings.append({"id": booking_id, "session_id": session["id"], "user_id": user_id,
                             "agency_id": agency_id, "status": status, "outcome": outcome,
                             "walk_in": walk_in, "late_cancellation": late,
                             "created_at": now, "updated_at": now})
            course = course_by_id[session["course_id"]]
            if outcome in ("attended", "partly_attended") and course["refresher_months"] \
                    and session["status"] != "cancelled":
                completions.append({"id": len(completions) + 1, "user_id": user_id,
                                    "course_id": course["id"], "completed_on": session["starts_at"].date(),
                                    "source": "attendance", "booking_id": booking_id, "created_at": now})
    bulk_insert(db, Booking.__table__, bookings)
    bulk_insert(db, Completion.__table__, completions)
    n_answers = build_evaluations(db, bookings, {s["id"]: s for s in sessions}, int(100_000 * scale), rng)

    tna = {"id": 1, "name": "Needs 2025 to 2026", "starts_on": date(2025, 4, 1),
           "ends_on": date(2026, 3, 31), "created_at": now, "updated_at": now}
    bulk_insert(db, TrainingNeedsAnalysis.__table__, [tna])
    lines = []
    for sector in sectors:
        staff = rng.randint(100, 3000)
        for level in levels:
            lines.append({"tna_id": 1, "sector_id": sector["id"], "agency_id": None, "course_id": None,
                          "level_id": level["id"], "staff_in_scope": staff,
                          "needed": int(staff * rng.uniform(0.02, 0.3)),
                          "line_key": line_key(sector["id"], None, None, level["id"]), "updated_at": now})
    for agency in agencies[:40]:
        lines.append({"tna_id": 1, "sector_id": agency["sector_id"], "agency_id": agency["id"],
                      "course_id": None, "level_id": 3, "staff_in_scope": 200, "needed": rng.randint(5, 60),
                      "line_key": line_key(agency["sector_id"], agency["id"], None, 3), "updated_at": now})
    bulk_insert(db, TnaLine.__table__, [dict(line, id=i + 1) for i, line in enumerate(lines)])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # COPY with explicit ids leaves the sequences behind; and fresh statistics for the planner.
        for table in ("sectors", "agencies", "levels", "courses", "users", "sessions", "bookings",
                      "completions", "training_needs_analyses", "tna_lines", "evaluation_invitations",
                      "evaluation_responses", "evaluation_answers"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
        db.session.commit()
        db.session.connection().connection.driver_connection.autocommit = True
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return {"people": len(people), "sessions": len(sessions), "bookings": len(bookings),
            "answers": n_answers,
            "completions": len(completions), "agencies": len(agencies), "lines": len(lines),
            "agency_sector": agency_sector}


def build_evaluations(db, bookings: list[dict], sessions: dict[int, dict], n_answers: int,
                      rng: random.Random) -> int:
    """Invitations, responses and about `n_answers` rating answers for attended bookings."""
    from app.evaluation.models import STAGE_ONE, STAGE_TWO, Answer, Invitation, Question, Response
    from app.evaluation.question_sets import ensure_default_question_sets

    ensure_default_question_sets()
    db.session.commit()
    scales = {}
    for stage in (STAGE_ONE, STAGE_TWO):
        rows = db.session.execute(
            select(Question.id, Question.question_set_id)
            .where(Question.stage == stage, Question.kind == "scale", Question.course_id.is_(None))
        ).all()
        scales[stage] = ([r[0] for r in rows], rows[0][1])
    invitations, responses, answers = [], [], []
    for booking in bookings:
        if len(answers) >= n_answers:
            break
        if booking["outcome"] not in ("attended", "partly_attended"):
            continue
        ended = sessions[booking["session_id"]]["ends_at"]
        for stage, delay in ((STAGE_ONE, timedelta(hours=1)), (STAGE_TWO, timedelta(days=92))):
            if stage == STAGE_TWO and rng.random() < 0.4:
                break
            question_ids, set_id = scales[stage]
            invitation_id = len(invitations) + 1
            answered = rng.random() < (0.7 if stage == STAGE_ONE else 0.45)
            sent = ended + delay
            invitations.append({
                "id": invitation_id, "booking_id": booking["id"], "user_id": booking["user_id"],
                "session_id": booking["session_id"], "stage": stage, "question_set_id": set_id,
                "nonce": secrets.token_hex(8), "sent_at": sent, "expires_at": sent + timedelta(days=28),
                "resend_count": 0, "submitted_at": sent + timedelta(days=2) if answered else None})
            if not answered:
                continue
            response_id = len(responses) + 1
            responses.append({"id": response_id, "invitation_id": invitation_id,
                              "question_set_id": set_id, "submitted_at": sent + timedelta(days=2)})
            for question_id in question_ids:
                answers.append({"id": len(answers) + 1, "response_id": response_id,
                                "question_id": question_id, "value_int": rng.randint(1, 5)})
    bulk_insert(db, Invitation.__table__, invitations)
    bulk_insert(db, Response.__table__, responses)
    bulk_insert(db, Answer.__table__, answers)
    return len(answers)


# --- The hand-written queries --------------------------------------------------------------------

IN_PERIOD = "s.starts_at >= :start AND s.starts_at < :end AND s.status <> 'cancelled'"
PRESENT = "b.outcome IN ('attended', 'partly_attended')"
HOLDS_PLACE = "b.status IN ('awaiting_approval', 'confirmed')"

NEED_SQL = f"""
SELECT COALESCE(SUM(attended), 0) FROM (
  SELECT a.sector_id, c.level_id, COUNT(DISTINCT CASE WHEN {PRESENT} THEN b.user_id END) AS attended
  FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN courses c ON c.id = s.course_id
  JOIN agencies a ON a.id = b.agency_id
  WHERE {IN_PERIOD} AND c.level_id IS NOT NULL
  GROUP BY a.sector_id, c.level_id) AS per_sector_level
"""
MIX_SQL = f"""
SELECT COUNT(*), COALESCE(SUM(CASE WHEN 2 * largest > taking_part THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(taking_part), 0)
FROM (
  SELECT session_id, SUM(n) AS taking_part, MAX(n) AS largest FROM (
    SELECT b.session_id, a.sector_id, COUNT(*) AS n
    FROM bookings b JOIN sessions s ON s.id = b.session_id LEFT JOIN agencies a ON a.id = b.agency_id
    WHERE {IN_PERIOD} AND ({PRESENT} OR (b.outcome IS NULL AND {HOLDS_PLACE}))
    GROUP BY b.session_id, a.sector_id) AS per_sector
  GROUP BY session_id) AS per_session
"""
ACTIVITY_SQL = f"""
SELECT SUM(CASE WHEN NOT b.walk_in THEN 1 ELSE 0 END), SUM(CASE WHEN {PRESENT} THEN 1 ELSE 0 END),
       SUM(CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END),
       SUM(CASE WHEN b.late_cancellation THEN 1 ELSE 0 END),
       SUM(CASE WHEN b.outcome IN ('did_not_attend', 'turned_away') THEN 1 ELSE 0 END),
       SUM(CASE WHEN b.walk_in THEN 1 ELSE 0 END)
FROM bookings b JOIN sessions s ON s.id = b.session_id
WHERE {IN_PERIOD}
"""
EVALUATION_SQL = """
SELECT i.stage, COUNT(*), COUNT(i.submitted_at) FROM evaluation_invitations i
JOIN sessions s ON s.id = i.session_id WHERE s.starts_at >= :start AND s.starts_at < :end
GROUP BY i.stage ORDER BY i.stage
"""
ANNUAL_SQL = f"""
SELECT c.id, COUNT(*) FROM bookings b JOIN sessions s ON s.id = b.session_id
JOIN courses c ON c.id = s.course_id WHERE {IN_PERIOD} AND {PRESENT} GROUP BY c.id
"""


def _best(func, runs: int = 3):
    """The fastest of a few runs (the first warms caches), and its result."""
    best, result = None, None
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def measure(db) -> list[tuple]:
    """Time each report and its hand-written query over one year and over five."""
    from app.filters import Period, Viewer
    from app.reports import figures
    from app.reports.models import TrainingNeedsAnalysis

    tna = db.session.get(TrainingNeedsAnalysis, 1)
    everyone = Viewer(None)
    results = []
    for label, period in (("1 year", Period(date(2025, 4, 1), date(2026, 3, 31))),
                          ("5 years", Period(START, date(START.year + YEARS, 3, 31)))):
        bounds = {"start": period.start_utc, "end": period.end_utc}

        def sql(statement):
            return lambda: db.session.execute(text(statement), bounds).all()

        def need_total(report):
            return sum(r.attended for r in report.rows if r.agency_id is None and r.level_id)

        t_report, report = _best(lambda: figures.need_report(tna, period, everyone))
        t_sql, rows = _best(sql(NEED_SQL))
        results.append(("Attendance against need", label, t_report, t_sql, need_total(report), rows[0][0]))

        t_report, report = _best(lambda: figures.mix_report(period, everyone))
        t_sql, rows = _best(sql(MIX_SQL))
        mine = (len(report.sessions), len(report.dominated), sum(s.taking_part for s in report.sessions))
        results.append(("Multi-agency mix", label, t_report, t_sql, mine, tuple(int(v) for v in rows[0])))

        t_report, report = _best(lambda: figures.activity_report(period, everyone))
        t_sql, rows = _best(sql(ACTIVITY_SQL))
        mine = tuple(report.total(k) for k in ("bookings", "attendances", "cancellations",
                                               "late_cancellations", "no_shows", "walk_ins"))
        results.append(("Activity per agency", label, t_report, t_sql, mine,
                         tuple(int(v or 0) for v in rows[0])))

        from app.evaluation.figures import stage_counts
        from app.filters import Filters

        t_report, counts = _best(lambda: stage_counts(Filters(date_from=period.starts_on,
                                                               date_to=period.ends_on)))
        t_sql, rows = _best(sql(EVALUATION_SQL))
        mine = tuple(x for c in counts.values() for x in (c.sent, c.responded))
        results.append(("Evaluation response rates", label, t_report, t_sql, mine,
                        tuple(int(v) for r in rows for v in r[1:])))

        t_report, report = _best(lambda: figures.annual_report(period, everyone))
        t_sql, rows = _best(sql(ANNUAL_SQL))
        results.append(("Annual report tables", label, t_report, t_sql, report.total, sum(n for _, n in rows)))
    return results


def run_on(url: str, scale: float, seed: int) -> None:
    """Build the data on one database and print the figures."""
    from app import create_app
    from app.extensions import db
    from config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    with app.app_context():
        engine = db.engine.dialect.name
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        sizes = build(db, scale, random.Random(seed))
        built = time.perf_counter() - started
        print(f"\n== Reports on {engine}: {sizes['people']:,} people, {sizes['agencies']} agencies, "
              f"{sizes['sessions']:,} sessions, {sizes['bookings']:,} bookings, "
              f"{sizes['completions']:,} completions, {sizes['lines']} needs lines "
              f"(built in {built:.1f} s)")
        print(f"   {sizes['answers']:,} evaluation answers")
        print(f"   {'report':<26}{'period':<9}{'report ms':>11}{'SQL ms':>9}{'ratio':>8}  totals")
        for name, label, t_report, t_sql, mine, theirs in measure(db):
            agree = "agree" if mine == theirs else f"DIFFER: report {mine} vs SQL {theirs}"
            print(f"   {name:<26}{label:<9}{t_report * 1000:>11.1f}{t_sql * 1000:>9.1f}"
                  f"{t_report / t_sql if t_sql else float('inf'):>7.1f}x  {agree}")
        db.session.remove()
        if engine == "postgresql":
            db.drop_all()


def main(argv: list[str] | None = None) -> int:
    """Run the reports bench on SQLite, then on a throwaway PostgreSQL when one can be started."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data set")
    parser.add_argument("--seed", type=int, default=2015)
    add_database_options(parser)
    args = parser.parse_args(argv)
    return on_both_databases("bench.reports", args, lambda url: run_on(url, args.scale, args.seed),
                             ["--scale", str(args.scale), "--seed", str(args.seed)])


if __name__ == "__main__":
    sys.exit(main())
