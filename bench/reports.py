"""Bench: the reports over five years of synthetic data, beside hand-written SQL computing what each shows.

    python -m bench.reports              # SQLite, then a throwaway PostgreSQL if it is installed
    python -m bench.reports --sqlite-only
    python -m bench.reports --scale 0.1  # a tenth of the data, for a quick look

It builds about 40,000 people in 150 agencies, 4,000 sessions over five financial years and 200,000
bookings (plus completions, charges, online courses completed, single-agency training and a
training needs analysis with lines of all four kinds) with bulk inserts (executemany on SQLite, COPY
on PostgreSQL), then times each report and, beside it, the hand-written SQL a person would write for
the same tables (one statement per table the report shows, timed together), prints both, their
ratio, and whether every total the report shows agrees with the SQL's. The yardsticks:

- Attendance against need: one statement giving, for each line of the analysis (sector or agency,
  by course or by level), the people booked and attended (bookings of sessions in the period by the
  agency booked for, and online courses completed in it by the person's agency now), the refreshers
  due (each person's latest completion per refresher clock, due 36 months on: the bench's one
  interval, its window of completion dates passed in) and the people trained by their own agency
  (named staff not attended on that course or level in the period, plus people without an
  account). Compared line by line on all four figures.
- Multi-agency mix: the Sessions table (each session in the period with its title, places and the
  people taking part per sector, largest first) and the Sector totals table; compared on sessions,
  sessions with one sector over half, people taking part, sectors present and each sector's total.
- Activity per agency: one statement per agency with its name and sector: bookings, attendances,
  cancellations, late cancellations, no-shows, walk-ins and charges still due; compared on the
  number of rows and every column's total.
- Evaluation response rates: invitations sent and answered per stage.
- Annual report tables: attendees per event, attendance by sector, online courses completed, the
  summary (different people, single-agency trainings and attendances) and the evaluation figures
  (response rates per stage and the confidence shift), one statement each; compared on every
  table's rows and totals.

It prints figures; it asserts nothing about time.
"""
from __future__ import annotations

import argparse
import random
import re
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
    extras = build_extras(db, people, sessions, bookings, course_by_id, agencies, now, rng)
    # Course lines too, so every grouping of the need report has lines: each sector for one
    # face-to-face course and one online course, and a few agencies for the face-to-face one.
    for sector in sectors:
        for course_id in (1, extras["online_course_ids"][0]):
            lines.append({"tna_id": 1, "sector_id": sector["id"], "agency_id": None, "course_id": course_id,
                          "level_id": None, "staff_in_scope": 500, "needed": rng.randint(20, 200),
                          "line_key": line_key(sector["id"], None, course_id, None), "updated_at": now})
    for agency in agencies[40:50]:
        lines.append({"tna_id": 1, "sector_id": agency["sector_id"], "agency_id": agency["id"],
                      "course_id": 1, "level_id": None, "staff_in_scope": 200, "needed": rng.randint(5, 60),
                      "line_key": line_key(agency["sector_id"], agency["id"], 1, None), "updated_at": now})
    bulk_insert(db, TnaLine.__table__, [dict(line, id=i + 1) for i, line in enumerate(lines)])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # COPY with explicit ids leaves the sequences behind; and fresh statistics for the planner.
        for table in ("sectors", "agencies", "levels", "courses", "users", "sessions", "bookings",
                      "completions", "training_needs_analyses", "tna_lines", "evaluation_invitations",
                      "evaluation_responses", "evaluation_answers", "charges", "single_agency_trainings",
                      "single_agency_attendees"):
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
            "answers": n_answers, **{k: v for k, v in extras.items() if k != "online_course_ids"},
            "completions": len(completions), "agencies": len(agencies), "lines": len(lines),
            "agency_sector": agency_sector}


def build_extras(db, people: list[dict], sessions: list[dict], bookings: list[dict],
                 course_by_id: dict[int, dict], agencies: list[dict], now: datetime,
                 rng: random.Random) -> dict:
    """Charges for no-shows and late cancellations, two online courses with their completions, and
    single-agency training, so every column the reports show has figures to agree on."""
    from app.attendance.models import (
        CHARGE_DID_NOT_ATTEND, CHARGE_DUE, CHARGE_LATE_CANCELLATION, CHARGE_TURNED_AWAY, CHARGE_WAIVED,
        Charge, SingleAgencyAttendee, SingleAgencyTraining,
    )
    from app.bookings.models import E_LEARNING_IMPORT, SELF_RECORDED, Completion
    from app.courses.models import Course

    session_by_id = {s["id"]: s for s in sessions}
    reasons = {"did_not_attend": CHARGE_DID_NOT_ATTEND, "turned_away": CHARGE_TURNED_AWAY}
    charges = []
    for booking in bookings:
        session = session_by_id[booking["session_id"]]
        course = course_by_id[session["course_id"]]
        reason = CHARGE_LATE_CANCELLATION if booking["late_cancellation"] else reasons.get(booking["outcome"])
        if reason is None or not course["non_attendance_charge_pence"] or session["status"] == "cancelled":
            continue
        charges.append({"id": len(charges) + 1, "booking_id": booking["id"], "agency_id": booking["agency_id"],
                        "user_id": booking["user_id"], "session_id": session["id"], "course_id": course["id"],
                        "reason": reason, "amount_pence": course["non_attendance_charge_pence"],
                        "incurred_on": session["starts_at"].date(),
                        "status": CHARGE_WAIVED if rng.random() < 0.1 else CHARGE_DUE,
                        "created_at": now, "updated_at": now})
    bulk_insert(db, Charge.__table__, charges)

    first = len(course_by_id) + 1
    online = [{"id": first + i, "code": f"E{i + 1:03d}", "title": f"Online course {i + 1}", "level_id": 1,
               "is_online": True, "refresher_months": None, "non_attendance_charge_pence": 0,
               "duration_hours": 2, "created_at": now} for i in range(2)]
    bulk_insert(db, Course.__table__, online)
    span = (date(START.year + YEARS, 3, 31) - START).days
    completions = []
    first_completion = db.session.scalar(text("SELECT COALESCE(MAX(id), 0) FROM completions")) + 1
    for person in rng.sample(people, len(people) // 10):
        course = rng.choice(online)
        completions.append({"id": first_completion + len(completions), "user_id": person["id"],
                            "course_id": course["id"], "booking_id": None,
                            "completed_on": START + timedelta(days=rng.randrange(span)),
                            "source": rng.choice([SELF_RECORDED, E_LEARNING_IMPORT]), "created_at": now})
    bulk_insert(db, Completion.__table__, completions)

    trainings, attendees = [], []
    for i in range(1, max(len(people) // 100, 2) + 1):
        course = rng.choice([1, None, None])
        trainings.append({"id": i, "agency_id": rng.choice(agencies)["id"], "title": f"In-house {i}",
                          "course_id": course, "level_id": None if course else rng.randint(1, 5),
                          "held_on": START + timedelta(days=rng.randrange(span)), "hours": 3,
                          "others_count": rng.choice([0, 0, 2, 5]), "recorded_at": now, "updated_at": now})
        for person in rng.sample(people, 8):
            attendees.append({"id": len(attendees) + 1, "training_id": i, "user_id": person["id"]})
    bulk_insert(db, SingleAgencyTraining.__table__, trainings)
    bulk_insert(db, SingleAgencyAttendee.__table__, attendees)
    return {"charges": len(charges), "online": len(completions), "single_agency": len(trainings),
            "online_course_ids": [c["id"] for c in online]}


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

IN_PERIOD = "s.starts_at >= :start AND s.starts_at < :end AND s.status NOT IN ('cancelled', 'draft')"
PRESENT = "b.outcome IN ('attended', 'partly_attended')"
HOLDS_PLACE = "b.status IN ('awaiting_approval', 'confirmed')"
BOOKED = f"({HOLDS_PLACE} OR {PRESENT})"
TAKING_PART = f"({PRESENT} OR (b.outcome IS NULL AND {HOLDS_PLACE}))"
COUNTS = "(cp.source <> 'prior_learning' OR cp.check_result = 'accepted')"
ONLINE = (f"cp.booking_id IS NULL AND {COUNTS} AND c.is_online "
          "AND cp.completed_on BETWEEN :first_day AND :last_day")
HELD = "t.held_on BETWEEN :first_day AND :last_day"
ATTENDED_ON = (f"SELECT 1 FROM bookings b JOIN sessions s ON s.id = b.session_id "
               f"JOIN courses c ON c.id = s.course_id WHERE b.user_id = sa.user_id AND {PRESENT} AND {IN_PERIOD}")


def _per_grouping(source: str, measures: dict[str, str]) -> str:
    """`measures` over `source` (with sector_id, agency_id, course_id, level_id) grouped by each
    kind of line (sector or agency, by course or by level), only for the pairs the analysis has
    lines for: (kind, who, what, measures...). `measures` is per "course" or "level"."""
    parts = []
    for who in ("sector", "agency"):
        for what in ("course", "level"):
            parts.append(
                f"SELECT '{who[0]}{what[0]}' AS kind, x.{who}_id AS who, x.{what}_id AS what, {measures[what]} "
                f"FROM {source} x WHERE (x.{who}_id, x.{what}_id) IN (SELECT {who}_id, {what}_id FROM lines) "
                f"GROUP BY x.{who}_id, x.{what}_id")
    return "\n  UNION ALL\n  ".join(parts)


def _line_is(figures: str) -> str:
    """The join of a line to its figures from _per_grouping."""
    return (f"{figures}.kind = CASE WHEN l.agency_id IS NULL THEN 's' ELSE 'a' END "
            f"|| CASE WHEN l.course_id IS NULL THEN 'l' ELSE 'c' END "
            f"AND {figures}.who = COALESCE(l.agency_id, l.sector_id) "
            f"AND {figures}.what = COALESCE(l.course_id, l.level_id)")


PEOPLE = "COUNT(DISTINCT x.user_id) AS n"
TRAINED = "COUNT(DISTINCT CASE WHEN x.{} = 0 THEN x.user_id END) + COALESCE(SUM(x.others), 0) AS n"
NEED_SQL = f"""
WITH lines AS (SELECT id, sector_id, agency_id, course_id, level_id FROM tna_lines WHERE tna_id = :tna),
taking AS (
  SELECT a.sector_id, b.agency_id, c.id AS course_id, c.level_id,
         CASE WHEN {BOOKED} THEN b.user_id END AS booked_by,
         CASE WHEN {PRESENT} THEN b.user_id END AS attended_by
  FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN courses c ON c.id = s.course_id
  JOIN agencies a ON a.id = b.agency_id
  WHERE {IN_PERIOD}
  UNION ALL
  SELECT a.sector_id, u.agency_id, c.id, c.level_id, cp.user_id, cp.user_id
  FROM completions cp JOIN courses c ON c.id = cp.course_id JOIN users u ON u.id = cp.user_id
  JOIN agencies a ON a.id = u.agency_id
  WHERE {ONLINE}),
latest AS (
  SELECT cp.user_id, COALESCE(c.renews_course_id, c.id) AS clock, MAX(cp.completed_on) AS completed_on
  FROM completions cp JOIN courses c ON c.id = cp.course_id WHERE {COUNTS} AND cp.completed_on >= :due_from
  GROUP BY cp.user_id, COALESCE(c.renews_course_id, c.id)),
due AS (
  SELECT a.sector_id, u.agency_id, k.id AS course_id, k.level_id, d.user_id
  FROM latest d JOIN courses k ON k.id = d.clock JOIN users u ON u.id = d.user_id
  JOIN agencies a ON a.id = u.agency_id
  WHERE k.refresher_months = 36 AND d.completed_on BETWEEN :due_from AND :due_to),
trained AS (
  SELECT a.sector_id, t.agency_id, t.course_id, t.level_id, sa.user_id, 0 AS others,
         CASE WHEN EXISTS ({ATTENDED_ON} AND c.id = t.course_id) THEN 1 ELSE 0 END AS on_course,
         CASE WHEN EXISTS ({ATTENDED_ON} AND c.level_id = t.level_id) THEN 1 ELSE 0 END AS on_level
  FROM single_agency_attendees sa JOIN single_agency_trainings t ON t.id = sa.training_id
  JOIN agencies a ON a.id = t.agency_id
  WHERE {HELD}
  UNION ALL
  SELECT a.sector_id, t.agency_id, t.course_id, t.level_id, NULL, t.others_count, 0, 0
  FROM single_agency_trainings t JOIN agencies a ON a.id = t.agency_id
  WHERE {HELD} AND t.others_count > 0),
booked AS (
  {_per_grouping("taking", dict.fromkeys(("course", "level"),
                 "COUNT(DISTINCT x.booked_by) AS booked, COUNT(DISTINCT x.attended_by) AS attended"))}),
refreshers AS (
  {_per_grouping("due", dict.fromkeys(("course", "level"), PEOPLE))}),
single_agency AS (
  {_per_grouping("trained", {"course": TRAINED.format("on_course"), "level": TRAINED.format("on_level")})})
SELECT l.sector_id, l.agency_id, l.course_id, l.level_id, COALESCE(b.booked, 0), COALESCE(b.attended, 0),
       COALESCE(r.n, 0), COALESCE(g.n, 0)
FROM lines l LEFT JOIN booked b ON {_line_is("b")} LEFT JOIN refreshers r ON {_line_is("r")}
LEFT JOIN single_agency g ON {_line_is("g")}
"""
# The bookings grouped per session and sector first, then joined to their sessions, then the
# sessions no one takes part in: a LEFT JOIN of sessions to the grouping makes SQLite scan the
# grouping once per session.
MIX_SESSIONS_SQL = f"""
WITH per_sector AS (
  SELECT b.session_id, a.sector_id, COUNT(*) AS n
  FROM bookings b JOIN sessions s ON s.id = b.session_id LEFT JOIN agencies a ON a.id = b.agency_id
  WHERE {IN_PERIOD} AND {TAKING_PART}
  GROUP BY b.session_id, a.sector_id)
SELECT s.id, c.title, s.starts_at, s.capacity, m.sector_id, sec.name, m.n
FROM per_sector m JOIN sessions s ON s.id = m.session_id JOIN courses c ON c.id = s.course_id
LEFT JOIN sectors sec ON sec.id = m.sector_id
UNION ALL
SELECT s.id, c.title, s.starts_at, s.capacity, NULL, NULL, 0
FROM sessions s JOIN courses c ON c.id = s.course_id
WHERE {IN_PERIOD} AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.session_id = s.id AND {TAKING_PART})
ORDER BY 3, 1, 7 DESC, 6
"""
MIX_SECTORS_SQL = f"""
SELECT a.sector_id, sec.name, COUNT(*) FROM bookings b JOIN sessions s ON s.id = b.session_id
LEFT JOIN agencies a ON a.id = b.agency_id LEFT JOIN sectors sec ON sec.id = a.sector_id
WHERE {IN_PERIOD} AND {TAKING_PART}
GROUP BY a.sector_id, sec.name
"""
ACTIVITY_SQL = f"""
WITH per_agency AS (
  SELECT b.agency_id, SUM(CASE WHEN NOT b.walk_in THEN 1 ELSE 0 END) AS bookings,
         SUM(CASE WHEN {PRESENT} THEN 1 ELSE 0 END) AS attendances,
         SUM(CASE WHEN b.status = 'cancelled' THEN 1 ELSE 0 END) AS cancellations,
         SUM(CASE WHEN b.late_cancellation THEN 1 ELSE 0 END) AS late_cancellations,
         SUM(CASE WHEN b.outcome IN ('did_not_attend', 'turned_away') THEN 1 ELSE 0 END) AS no_shows,
         SUM(CASE WHEN b.walk_in THEN 1 ELSE 0 END) AS walk_ins
  FROM bookings b JOIN sessions s ON s.id = b.session_id
  WHERE {IN_PERIOD}
  GROUP BY b.agency_id),
charged AS (
  SELECT ch.agency_id, SUM(ch.amount_pence) AS pence
  FROM charges ch JOIN bookings b ON b.id = ch.booking_id JOIN sessions s ON s.id = b.session_id
  WHERE {IN_PERIOD} AND ch.status = 'due'
  GROUP BY ch.agency_id)
SELECT p.agency_id, a.name, sec.name, p.bookings, p.attendances, p.cancellations, p.late_cancellations,
       p.no_shows, p.walk_ins, COALESCE(ch.pence, 0)
FROM per_agency p LEFT JOIN agencies a ON a.id = p.agency_id LEFT JOIN sectors sec ON sec.id = a.sector_id
LEFT JOIN charged ch ON ch.agency_id = p.agency_id
ORDER BY sec.name, a.name
"""
EVALUATION_SQL = """
SELECT i.stage, COUNT(*), COUNT(i.submitted_at) FROM evaluation_invitations i
JOIN sessions s ON s.id = i.session_id WHERE s.starts_at >= :start AND s.starts_at < :end
GROUP BY i.stage ORDER BY i.stage
"""
ANNUAL_EVENTS_SQL = f"""
SELECT c.id, c.title, COUNT(*) FROM bookings b JOIN sessions s ON s.id = b.session_id
JOIN courses c ON c.id = s.course_id WHERE {IN_PERIOD} AND {PRESENT} GROUP BY c.id, c.title
"""
ANNUAL_SECTORS_SQL = f"""
SELECT a.sector_id, sec.name, COUNT(*) FROM bookings b JOIN sessions s ON s.id = b.session_id
LEFT JOIN agencies a ON a.id = b.agency_id LEFT JOIN sectors sec ON sec.id = a.sector_id
WHERE {IN_PERIOD} AND {PRESENT} GROUP BY a.sector_id, sec.name
"""
ANNUAL_ONLINE_SQL = f"""
SELECT c.id, c.title, COUNT(*) FROM completions cp JOIN courses c ON c.id = cp.course_id
JOIN users u ON u.id = cp.user_id WHERE {ONLINE} GROUP BY c.id, c.title
"""
ANNUAL_SUMMARY_SQL = f"""
SELECT (SELECT COUNT(DISTINCT b.user_id) FROM bookings b JOIN sessions s ON s.id = b.session_id
        WHERE {IN_PERIOD} AND {PRESENT}),
       (SELECT COUNT(*) FROM single_agency_trainings t WHERE {HELD}),
       (SELECT COUNT(*) FROM single_agency_attendees sa JOIN single_agency_trainings t ON t.id = sa.training_id
        WHERE {HELD})
       + (SELECT COALESCE(SUM(t.others_count), 0) FROM single_agency_trainings t WHERE {HELD})
"""
ANNUAL_EVALUATION_SQL = """
SELECT sent.*, shift.* FROM (
  SELECT COUNT(CASE WHEN i.stage = 1 THEN 1 END), COUNT(CASE WHEN i.stage = 1 THEN i.submitted_at END),
         COUNT(CASE WHEN i.stage = 2 THEN 1 END), COUNT(CASE WHEN i.stage = 2 THEN i.submitted_at END)
  FROM evaluation_invitations i JOIN sessions s ON s.id = i.session_id
  WHERE s.starts_at >= :start AND s.starts_at < :end) AS sent
CROSS JOIN (
  SELECT COUNT(a1.id), SUM(CASE WHEN a2.value_int > a1.value_int THEN 1 ELSE 0 END),
         AVG(a1.value_int), AVG(a2.value_int)
  FROM evaluation_invitations i1 JOIN sessions s ON s.id = i1.session_id
  JOIN evaluation_responses r1 ON r1.invitation_id = i1.id JOIN evaluation_answers a1 ON a1.response_id = r1.id
  JOIN evaluation_questions q1 ON q1.id = a1.question_id AND q1.key = 'confidence_before'
       AND q1.course_id IS NULL
  JOIN evaluation_invitations i2 ON i2.booking_id = i1.booking_id AND i2.stage = 2
  JOIN evaluation_responses r2 ON r2.invitation_id = i2.id JOIN evaluation_answers a2 ON a2.response_id = r2.id
  JOIN evaluation_questions q2 ON q2.id = a2.question_id AND q2.key = 'confidence_now' AND q2.course_id IS NULL
  WHERE i1.stage = 1 AND s.starts_at >= :start AND s.starts_at < :end) AS shift
"""


def _best(func, runs: int = 3, budget: float = 0.2):
    """The fastest of at least `runs` runs (the first warms caches), and of as many more as fit in
    `budget` seconds, so a figure of a millisecond is not one scheduler's hiccup; and its result."""
    best, result, spent, done = None, None, 0.0, 0
    while done < runs or spent < budget:
        started = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
        spent, done = spent + elapsed, done + 1
    return best, result


# --- The totals each side shows, to compare ------------------------------------------------------

def need_totals(rows) -> dict:
    """Booked, attended, refreshers due and trained by their agency, line by line, from
    (sector, agency, course, level, booked, attended, refreshers, single-agency) rows."""
    return {tuple(row[:4]): tuple(int(v) for v in row[4:]) for row in rows}


def mix_totals(sessions: list[tuple], sectors) -> dict:
    """The Sessions table's and the Sector totals table's figures, from (session, sector, taking
    part) rows (a session with no one taking part has one row of 0) and (sector, taking part) rows."""
    per_session: dict[int, list[int]] = {}
    for session_id, _, n in sessions:
        per_session.setdefault(session_id, [])
        if n:
            per_session[session_id].append(n)
    return {"sessions": len(per_session),
            "one sector over half": sum(1 for ns in per_session.values() if ns and 2 * max(ns) > sum(ns)),
            "taking part": sum(sum(ns) for ns in per_session.values()),
            "sectors present": sum(len(ns) for ns in per_session.values()),
            "sector totals": tuple(sorted((sector_id or 0, int(n)) for sector_id, n in sectors))}


def activity_totals(rows) -> dict:
    """The table's rows and its Total row, from (agency, bookings, ..., walk-ins, charges) rows."""
    columns = ("bookings", "attendances", "cancellations", "late_cancellations", "no_shows", "walk_ins",
               "charges_pence")
    return {"agencies": len(rows),
            **{name: sum(int(row[i + 1] or 0) for row in rows) for i, name in enumerate(columns)}}


def annual_totals(events, by_sector, online, people, single_trainings, single_attendances,
                  evaluation) -> dict:
    return {"events": len(events), "attendees": sum(int(n) for *_, n in events),
            "sectors": len(by_sector), "by sector": sum(int(n) for *_, n in by_sector),
            "online courses": len(online), "online completed": sum(int(n) for *_, n in online),
            "people": int(people), "single-agency trainings": int(single_trainings),
            "single-agency attendances": int(single_attendances), "evaluation": evaluation}


def evaluation_figures(lines: list[tuple[str, str]] | None) -> tuple:
    """The numbers in the annual report's evaluation table: "a of b" pairs and the two means."""
    text = " ".join(value for _, value in lines or [])
    pairs = tuple((int(a), int(b)) for a, b in re.findall(r"(\d+) of (\d+)", text))
    return pairs + tuple(re.findall(r"(\d+\.\d), then (\d+\.\d)", text))


def measure(db) -> list[tuple]:
    """Time each report and its hand-written queries over one year and over five."""
    from app.evaluation.figures import stage_counts
    from app.filters import Filters, Period, Viewer
    from app.reports import figures
    from app.reports.models import TrainingNeedsAnalysis

    tna = db.session.get(TrainingNeedsAnalysis, 1)
    everyone = Viewer(None)
    results = []
    for label, period in (("1 year", Period(date(2025, 4, 1), date(2026, 3, 31))),
                          ("5 years", Period(START, date(START.year + YEARS, 3, 31)))):
        due_from, due_to = figures.completed_between_for_due(period, 36)
        bounds = {"start": period.start_utc, "end": period.end_utc, "first_day": period.starts_on,
                  "last_day": period.ends_on, "due_from": due_from, "due_to": due_to, "tna": tna.id}

        def sql(*statements):
            return lambda: [db.session.execute(text(s), bounds).all() for s in statements]

        t_report, report = _best(lambda: figures.need_report(tna, period, everyone))
        t_sql, (rows,) = _best(sql(NEED_SQL))
        mine = need_totals((r.sector_id, r.agency_id, r.course_id, r.level_id, r.booked, r.attended,
                            r.refreshers, r.single_agency) for r in report.rows)
        results.append(("Attendance against need", label, t_report, t_sql, mine, need_totals(rows)))

        t_report, report = _best(lambda: figures.mix_report(period, everyone))
        t_sql, (sessions, sectors) = _best(sql(MIX_SESSIONS_SQL, MIX_SECTORS_SQL))
        mine = mix_totals([(s.session_id, sid, n) for s in report.sessions for sid, _, n in s.sectors]
                          + [(s.session_id, None, 0) for s in report.sessions if not s.sectors],
                          [(sid, n) for sid, _, n in report.sector_totals])
        theirs = mix_totals([(r[0], r[4], r[6]) for r in sessions], [(r[0], r[2]) for r in sectors])
        results.append(("Multi-agency mix", label, t_report, t_sql, mine, theirs))

        t_report, report = _best(lambda: figures.activity_report(period, everyone))
        t_sql, (rows,) = _best(sql(ACTIVITY_SQL))
        mine = activity_totals([(r.agency_id, r.bookings, r.attendances, r.cancellations, r.late_cancellations,
                                 r.no_shows, r.walk_ins, r.charges_pence) for r in report.rows])
        theirs = activity_totals([(r[0], *r[3:]) for r in rows])
        results.append(("Activity per agency", label, t_report, t_sql, mine, theirs))

        t_report, counts = _best(lambda: stage_counts(Filters(date_from=period.starts_on,
                                                               date_to=period.ends_on)))
        t_sql, (rows,) = _best(sql(EVALUATION_SQL))
        mine = tuple(x for c in counts.values() for x in (c.sent, c.responded))
        results.append(("Evaluation response rates", label, t_report, t_sql, mine,
                        tuple(int(v) for r in rows for v in r[1:])))

        t_report, report = _best(lambda: figures.annual_report(period, everyone))
        t_sql, (events, by_sector, online, summary, evaluation) = _best(sql(
            ANNUAL_EVENTS_SQL, ANNUAL_SECTORS_SQL, ANNUAL_ONLINE_SQL, ANNUAL_SUMMARY_SQL, ANNUAL_EVALUATION_SQL))
        mine = annual_totals(report.events, report.by_sector, report.online, report.people,
                             report.single_agency_trainings, report.single_agency_attendances,
                             evaluation_figures(report.evaluation))
        sent1, answered1, sent2, answered2, people, rose, before, now = evaluation[0]
        theirs = annual_totals(events, by_sector, online, *summary[0], (
            (answered1, sent1), (answered2, sent2), (int(rose or 0), people),
            (f"{float(before):.1f}", f"{float(now):.1f}")) if people else
            ((answered1, sent1), (answered2, sent2)))
        results.append(("Annual report tables", label, t_report, t_sql, mine, theirs))
    return results


def differences(mine, theirs) -> str:
    """What differs between the report's totals and the SQL's, briefly."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        keys = [k for k in sorted(set(mine) | set(theirs), key=str) if mine.get(k) != theirs.get(k)]
        shown = "; ".join(f"{k}: report {mine.get(k)} vs SQL {theirs.get(k)}" for k in keys[:4])
        return f"{shown}{f' (and {len(keys) - 4} more)' if len(keys) > 4 else ''}"
    return f"report {mine} vs SQL {theirs}"


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
        print(f"   {sizes['answers']:,} evaluation answers, {sizes['charges']:,} charges, "
              f"{sizes['online']:,} online courses completed, {sizes['single_agency']} single-agency trainings")
        print(f"   {'report':<26}{'period':<9}{'report ms':>11}{'SQL ms':>9}{'ratio':>8}  totals")
        for name, label, t_report, t_sql, mine, theirs in measure(db):
            agree = "agree" if mine == theirs else f"DIFFER: {differences(mine, theirs)}"
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
