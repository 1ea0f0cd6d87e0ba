"""The demo programme loads: the annual review's courses, prerequisites, venues and a year of sessions."""
from datetime import timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.courses.models import CANCELLED, PUBLISHED, Course, Session, TrainerProfile
from app.demo import load_demo
from app.extensions import db


def test_demo_programme_is_realistic(app):
    load_demo()
    db.session.commit()
    courses = {c.code: c for c in db.session.scalars(select(Course))}
    assert {"L12-ONLINE", "L3", "L3-REFRESH", "SCR-MGR", "SCR-PRAC", "CSE-2015", "EVYP", "INDUCTION", "CONF"} <= set(courses)
    assert [c.code for c in courses["L3"].prerequisites] == ["L12-ONLINE"]
    assert courses["L3"].refresher_months == 36 and courses["L3"].level.intercollegiate_level.startswith("Level 3")
    assert courses["L3-REFRESH"].renews is courses["L3"], "the refresher keeps Level 3 current"
    assert all(5000 <= c.non_attendance_charge_pence <= 9000 for c in courses.values() if c.non_attendance_charge_pence)
    assert all(2 <= c.cancellation_notice_days <= 7 for c in courses.values() if not c.is_online)
    sessions = db.session.scalars(select(Session)).all()
    now = utcnow()
    past = [s for s in sessions if s.starts_at < now]
    future = [s for s in sessions if s.starts_at >= now]
    assert past and len(future) > len(past)
    assert all(s.starts_at < now + timedelta(days=366) for s in sessions)
    assert all(len(s.parts) == 2 for s in sessions if s.course.code == "L3")
    assert all(150 <= s.capacity <= 200 for s in sessions if s.course.code == "CONF")
    assert all(20 <= s.capacity <= 30 for s in sessions if s.course.code != "CONF")
    assert sum(1 for s in sessions if s.status == CANCELLED) == 1
    assert any(s.is_online for s in sessions if s.status == PUBLISHED)
    level3 = next(s for s in sessions if s.course.code == "L3")
    assert sorted(r.places for r in level3.reservations) == [2, 2, 2, 4, 4]
    assert sum(r.places for r in level3.reservations) <= level3.capacity
    # Level 3 is commissioned from an outside provider, whose trainer delivers it.
    assert [t.email for t in level3.trainers] == ["wynne.carraway@harbourside-safeguarding.example"]
    profile = db.session.scalar(select(TrainerProfile).where(TrainerProfile.user_id == level3.trainers[0].id))
    assert profile.provider.contract_reference == "NSCP/2026/017" and "L3" in [c.code for c in profile.courses]
    other = next(s for s in sessions if s.course.code == "DASV")
    assert other.trainers and other.trainers[0].email == "trainer@northbridge-council.example"
    assert all(s.starts_at == s.parts[0].starts_at and s.ends_at == s.parts[-1].ends_at for s in sessions)
    closed = [s for s in sessions if s.closed_to_agency is not None]
    assert [(s.course.code, s.closed_to_agency.sector.name, s.status) for s in closed] == [("L3", "Housing", PUBLISHED)]


def test_demo_joining_instructions_promise_lunch_only_on_full_days(app):
    load_demo()
    db.session.commit()
    sessions = db.session.scalars(select(Session)).all()
    short = [s for s in sessions if not s.is_online and max(p.ends_at - p.starts_at for p in s.parts) < timedelta(hours=6)]
    full = [s for s in sessions if not s.is_online and min(p.ends_at - p.starts_at for p in s.parts) >= timedelta(hours=6)]
    assert short and full
    assert not any("lunch is provided" in s.joining_instructions.lower() or "lunch and" in s.joining_instructions.lower()
                   for s in short)
    assert all("Lunch and refreshments are provided" in s.joining_instructions for s in full)


def test_every_programme_view_states_who_may_use_it(app):
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("courses."):
            assert hasattr(view, "allowed_roles"), endpoint
