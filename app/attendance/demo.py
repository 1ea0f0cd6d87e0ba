"""Demo attendance: registers of past sessions marked, with a few no-shows, a walk-in and a waived
charge; and an e-learning provider's export of online completions, applied as the L&D team would.

Runs after the bookings demo step and simply finds past sessions with confirmed bookings, so it
does nothing (and says so) when there are none. The named demo logins always attended, so none of
them is suspended; the suspensions the no-shows cause are history, so their e-mails are not queued.
"""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.accounts.models import ADMIN, ACTIVE, Agency, RoleGrant, User
from app.attendance.charges import waive_charge
from app.attendance.completion_import import NEW, apply_completions
from app.attendance.models import (
    CHARGE_DUE,
    UPLOAD_APPLIED,
    Charge,
    CompletionUpload,
    SingleAgencyAttendee,
    SingleAgencyTraining,
)
from app.attendance.outcomes import record_outcome
from app.attendance.register import register_bookings
from app.attendance.walk_ins import put_on_register_as_walk_in
from app.bookings.models import ATTENDED, DID_NOT_ATTEND, PARTLY_ATTENDED, TURNED_AWAY, Booking
from app.clock import today_london, utcnow
from app.courses.models import PUBLISHED, Course, Level, Session
import app.bookings.demo  # noqa: F401  (registers the bookings' demo step before this one)
from app.demo import DEMO_LOGINS, FIRST_NAMES, SURNAMES, demo_step
from app.email import OutboxMessage
from app.extensions import db

OUTCOME_WEIGHTS = ((ATTENDED, 86), (PARTLY_ATTENDED, 3), (DID_NOT_ATTEND, 8), (TURNED_AWAY, 3))


@demo_step
def mark_past_registers(rng: random.Random) -> str:
    """Mark the registers of sessions that have ended."""
    admin = db.session.scalar(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(RoleGrant.role == ADMIN).limit(1)
    )
    sessions = db.session.scalars(
        select(Session).where(Session.status == PUBLISHED, Session.ends_at < utcnow())
        .order_by(Session.starts_at)
    ).all()
    if admin is None:
        return "attendance: no administrator to mark registers"
    outcomes, weights = zip(*OUTCOME_WEIGHTS)
    named = {f"{local}@" for local, *_ in DEMO_LOGINS}
    queued_before = set(db.session.scalars(select(OutboxMessage.id)))
    marked = walk_ins = 0
    last_marked: Session | None = None
    for session in sessions:
        bookings = [b for b in register_bookings(session) if b.outcome is None]
        if not bookings:
            continue
        actor = session.trainers[0] if session.trainers else admin
        for booking in bookings:
            outcome = rng.choices(outcomes, weights)[0]
            if any(booking.user.email.startswith(prefix) for prefix in named):
                outcome = ATTENDED
            record_outcome(booking, outcome, actor, "Marked on the register")
            marked += 1
        last_marked = session
    if last_marked is not None:
        booked = set(db.session.scalars(select(Booking.user_id).where(Booking.session_id == last_marked.id)))
        candidates = db.session.scalars(
            select(User).where(User.status == ACTIVE, User.id.not_in(booked or {-1})).order_by(User.id)
        ).all()
        if candidates:
            person = rng.choice(candidates)
            actor = last_marked.trainers[0] if last_marked.trainers else admin
            put_on_register_as_walk_in(last_marked, person, None, actor)
            walk_ins += 1
    if not marked:
        return "attendance: no past sessions with confirmed bookings to mark"
    waived = 0
    charge = db.session.scalar(select(Charge).where(Charge.status == CHARGE_DUE).order_by(Charge.id).limit(1))
    if charge is not None:
        waive_charge(charge, admin, "Illness: the person's manager confirmed they were off sick")
        waived = 1
    db.session.flush()
    for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.not_in(queued_before or {-1}))):
        db.session.delete(message)
    db.session.flush()
    charges = db.session.scalar(select(func.count()).select_from(Charge))
    return f"attendance: {marked} marked, {walk_ins} walk-in, {charges} charges ({waived} waived)"


@demo_step
def import_e_learning_export(rng: random.Random) -> str:
    """Apply an e-learning provider's export: staff here, a few new to the service, one stranger."""
    admin = db.session.scalar(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(RoleGrant.role == ADMIN).limit(1)
    )
    courses = db.session.scalars(select(Course).where(Course.is_online.is_(True)).order_by(Course.id)).all()
    agencies = [a for a in db.session.scalars(select(Agency).order_by(Agency.id)) if a.domains]
    if admin is None or not courses or not agencies:
        return "e-learning import: no administrator, online course or agency with a domain"
    people = db.session.scalars(select(User).where(User.status == ACTIVE).order_by(User.id)).all()
    today = today_london()
    rows = []
    for person in rng.sample(people, k=min(len(people), 40)):
        rows.append({"name": person.name, "email": person.email, "course": rng.choice(courses).code,
                     "completed_on": today - timedelta(days=rng.randint(1, 300)), "score": rng.randint(70, 100)})
    used = {p.email for p in people}
    while sum(1 for r in rows if r["email"] not in used) < 8:
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        domain = rng.choice(agencies).domains[0].domain
        email = f"{first}.{last}@{domain}".lower()
        if email not in used and all(r["email"] != email for r in rows):
            rows.append({"name": f"{first} {last}", "email": email, "course": courses[0].code,
                         "completed_on": today - timedelta(days=rng.randint(1, 200)), "score": ""})
    rows.append({"name": "Pat Visitor", "email": "pat.visitor@elsewhere.example", "course": courses[0].code,
                 "completed_on": today - timedelta(days=3), "score": 90})  # shows as unmatched
    result = apply_completions(rows, admin)
    db.session.add(CompletionUpload(
        filename="e-learning-export.csv", status=UPLOAD_APPLIED, uploaded_by_id=admin.id,
        uploaded_at=utcnow(), applied_at=utcnow(), recorded=result.to_record,
        accounts_opened=len(result.of_kind(NEW)), skipped=result.unmatched + result.duplicates))
    db.session.flush()
    return (f"e-learning import: {result.to_record} completions recorded, {result.new} new accounts, "
            f"{result.unmatched} unmatched, {result.duplicates} duplicates")
# (agency name contains, title, level contains, equivalent course code, days ago, hours, delivered by, staff, others)
SINGLE_AGENCY_DEMO = [
    ("St Brigid", "Safeguarding children: ward staff update", "Level 1/2", "", 60, "2", "Trust safeguarding team", 6, 14),
    ("St Brigid", "Level 3 safeguarding for named professionals", "Level 3", "L3", 25, "6.5", "Trust named nurse", 4, 3),
    ("Housing Needs", "Recognising neglect during home visits", "Level 1/2", "", 40, "3", "Housing L&D team", 5, 8),
]


@demo_step
def record_single_agency_training(rng: random.Random) -> str:
    """Training agencies ran for their own staff, recorded by their coordinators (or the L&D team)."""
    admin = db.session.scalar(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                              .where(RoleGrant.role == ADMIN).order_by(User.id).limit(1))
    made = 0
    for agency_part, title, level_part, code, days_ago, hours, by, staff, others in SINGLE_AGENCY_DEMO:
        agency = db.session.scalar(select(Agency).where(Agency.name.ilike(f"%{agency_part}%")))
        level = db.session.scalar(select(Level).where(Level.name.ilike(f"%{level_part}%")).order_by(Level.position).limit(1))
        if agency is None or level is None:
            continue
        people = db.session.scalars(select(User).where(User.agency_id == agency.id, User.status == ACTIVE)
                                    .order_by(User.id)).all()
        chosen = rng.sample(list(people), min(staff, len(people)))
        db.session.add(SingleAgencyTraining(
            agency=agency, title=title, level=level, held_on=today_london() - timedelta(days=days_ago),
            course=db.session.scalar(select(Course).where(Course.code == code)) if code else None,
            hours=Decimal(hours), delivered_by=by, others_count=others,
            recorded_by_id=admin.id if admin else None, recorded_at=utcnow(), updated_at=utcnow(),
            attendees=[SingleAgencyAttendee(user=p) for p in chosen]))
        made += 1
    db.session.flush()
    return f"single-agency training: {made} records"
