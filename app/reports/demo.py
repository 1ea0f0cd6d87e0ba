"""Demo data: a training needs analysis for the current financial year (invented figures)."""
from __future__ import annotations

import random

from sqlalchemy import select

from app.accounts.models import ADMIN, COORDINATOR, Agency, RoleGrant, Sector, User
from app.clock import utcnow
from app.courses.models import Course, Level
from app.demo import demo_step
from app.extensions import db
from app.filters import financial_year
from app.reports.models import TnaLine, TrainingNeedsAnalysis, line_key
from app.reports.proposals import propose_needs, trainings_for

# Rough staff numbers who work with children, per sector, for a London borough.
STAFF_IN_SCOPE = {
    "Children's Social Care": 420, "Early Help": 160, "Adult Social Care": 140, "Health - acute": 900,
    "Health - community": 380, "Health - mental health": 260, "Health - GP and primary care": 310,
    "Police": 350, "Probation and Youth Justice": 120, "Education - schools": 2400,
    "Education - colleges and FE": 260, "Early Years and childminders": 540, "Housing": 150,
    "Voluntary and Community": 300, "Faith": 90, "Sport and Leisure": 110,
    "Private and independent providers": 80,
}
# The share of staff in scope who need Level 3 in a year (a three-year refresher: about a third
# of those who need it at all), and who should come to a Serious Case Review workshop.
LEVEL3_SHARE = {
    "Children's Social Care": 0.3, "Early Help": 0.3, "Health - acute": 0.12, "Health - community": 0.25,
    "Health - mental health": 0.2, "Health - GP and primary care": 0.2, "Police": 0.15,
    "Probation and Youth Justice": 0.3, "Education - schools": 0.05, "Early Years and childminders": 0.1,
    "Housing": 0.1, "Voluntary and Community": 0.1,
}
SCR_SHARE = 0.04


@demo_step
def load_training_needs(rng: random.Random) -> str:
    """A training needs analysis for this financial year: Level 3 and the SCR workshops."""
    year = financial_year()
    admin = db.session.scalar(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(RoleGrant.role == ADMIN).limit(1))
    level3 = db.session.scalar(select(Level).where(Level.name.ilike("%level 3%")).order_by(Level.position).limit(1))
    if level3 is None:
        level3 = db.session.scalar(
            select(Level).join(Course, Course.level_id == Level.id)
            .where(Course.title.ilike("%level 3%")).limit(1))
    scr_courses = db.session.scalars(
        select(Course).where(Course.title.ilike("%serious case review%"),
                             Course.retired_at.is_(None)).order_by(Course.title)).all()
    tna = TrainingNeedsAnalysis(
        name=f"Training needs {year.starts_on.year} to {year.ends_on.year}", starts_on=year.starts_on,
        ends_on=year.ends_on, created_by_id=admin.id if admin else None, created_at=utcnow(),
        updated_at=utcnow())
    db.session.add(tna)
    sectors = {s.name: s for s in db.session.scalars(select(Sector))}
    lines = 0
    for name, staff in STAFF_IN_SCOPE.items():
        sector = sectors.get(name)
        if sector is None:
            continue
        staff = round(staff * rng.uniform(0.9, 1.1))
        if level3 is not None and name in LEVEL3_SHARE:
            needed = round(staff * LEVEL3_SHARE[name])
            db.session.add(TnaLine(tna=tna, sector_id=sector.id, level_id=level3.id, staff_in_scope=staff,
                                   needed=needed, line_key=line_key(sector.id, None, None, level3.id)))
            lines += 1
        for course in scr_courses:
            needed = max(2, round(staff * SCR_SHARE * rng.uniform(0.6, 1.2)))
            db.session.add(TnaLine(tna=tna, sector_id=sector.id, course_id=course.id, staff_in_scope=staff,
                                   needed=needed, line_key=line_key(sector.id, None, course.id, None)))
            lines += 1
    # One agency-level line, so the agency breakdown shows: the acute trust's own Level 3 target.
    trust = db.session.scalar(select(Agency).where(Agency.name.ilike("St Brigid%")))
    if trust is not None and level3 is not None:
        db.session.add(TnaLine(tna=tna, sector_id=trust.sector_id, agency_id=trust.id, level_id=level3.id,
                               staff_in_scope=600, needed=70,
                               line_key=line_key(trust.sector_id, trust.id, None, level3.id)))
        lines += 1
    db.session.flush()
    if not lines:
        return f"{tna.name}: no Level 3 or Serious Case Review courses in the programme, so no lines"
    return f"{tna.name}: {lines} lines (Level 3 and Serious Case Review workshops)"


@demo_step
def propose_agency_needs(rng: random.Random) -> str:
    """The demo coordinator's proposal of their agency's needs, waiting for the L&D team."""
    coordinator = db.session.scalar(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                                    .where(RoleGrant.role == COORDINATOR).order_by(User.id).limit(1))
    tna = db.session.scalar(select(TrainingNeedsAnalysis).order_by(TrainingNeedsAnalysis.id.desc()).limit(1))
    if coordinator is None or tna is None:
        return "needs proposals: no coordinator or analysis"
    agency = db.session.get(Agency, sorted(coordinator.coordinated_agency_ids)[0])
    trainings = trainings_for(tna, agency)
    if not trainings:
        return "needs proposals: the analysis sets no training for the coordinator's sector"
    staff = 640
    propose_needs(tna, agency, staff, {t.key: rng.randint(20, 80) for t in trainings},
                  "Includes the new paediatric emergency team.", coordinator)
    return f"needs proposals: {agency.name} proposed figures for {len(trainings)} trainings"
