"""Needs proposals: an agency's coordinator proposes how many of its staff need each course or level
in a training needs analysis; the L&D team accepts the figures as proposed or edited, which sets the
agency's lines of the analysis. Every proposal is kept with what was proposed, what was accepted,
who did each and when."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.accounts.models import ADMIN, Agency, User
from app.clock import utcnow
from app.courses.models import Course, Level
from app.extensions import db
from app.reports.errors import ReportsError
from app.reports.models import (
    ACCEPTED,
    PENDING,
    WITHDRAWN,
    NeedsProposal,
    NeedsProposalLine,
    TnaLine,
    TrainingNeedsAnalysis,
)
from app.reports.needs import save_line

MAX_NOTE = 2000


@dataclass(frozen=True)
class Training:
    """A course, or any course at a level, that an analysis sets needs for."""

    key: str  # "c<id>" or "l<id>"
    label: str
    course_id: int | None
    level_id: int | None


def trainings_for(tna: TrainingNeedsAnalysis, agency: Agency) -> list[Training]:
    """The trainings an agency proposes figures for: those the analysis has lines for in the agency's
    sector (for the sector or for the agency), else every training in the analysis."""
    lines = list(db.session.scalars(select(TnaLine).where(TnaLine.tna_id == tna.id).order_by(TnaLine.id)))
    mine = [l for l in lines if l.sector_id == agency.sector_id and l.agency_id in (None, agency.id)]
    found: dict[str, Training] = {}
    for line in mine or lines:
        key = f"c{line.course_id}" if line.course_id else f"l{line.level_id}"
        found.setdefault(key, Training(key, line.training_label, line.course_id, line.level_id))
    return list(found.values())


def current_figures(tna: TrainingNeedsAnalysis, agency: Agency) -> tuple[int | None, dict[str, int]]:
    """The agency's own lines in the analysis now: staff in scope and needed by training key."""
    lines = list(db.session.scalars(
        select(TnaLine).where(TnaLine.tna_id == tna.id, TnaLine.agency_id == agency.id)))
    staff = lines[0].staff_in_scope if lines else None
    return staff, {(f"c{l.course_id}" if l.course_id else f"l{l.level_id}"): l.needed for l in lines}


def _check(trainings: list[Training], staff_in_scope: int | None, needed: dict[str, int | None],
           prefix: str = "needed-") -> list[tuple[str, str]]:
    problems = []
    if staff_in_scope is None or staff_in_scope < 0:
        problems.append(("staff_in_scope", "Enter the number of staff in scope, 0 or more"))
    for training in trainings:
        value = needed.get(training.key)
        if value is None or value < 0:
            problems.append((prefix + training.key, f"Enter how many need {training.label}, 0 or more"))
        elif staff_in_scope is not None and staff_in_scope >= 0 and value > staff_in_scope:
            problems.append((prefix + training.key, f"The number who need {training.label} ({value}) is more "
                                                    f"than the staff in scope ({staff_in_scope})"))
    return problems


def propose_needs(tna: TrainingNeedsAnalysis, agency: Agency, staff_in_scope: int | None,
                  needed: dict[str, int | None], note: str, actor: User) -> NeedsProposal:
    """Propose an agency's needs figures for an analysis (its coordinators); replaces a proposal of
    theirs still waiting for a decision."""
    if agency.id not in actor.coordinated_agency_ids:
        raise ReportsError(f"You do not coordinate {agency.name}")
    trainings = trainings_for(tna, agency)
    if not trainings:
        raise ReportsError("The L&D team has not set out the training in this analysis yet, so there is "
                           "nothing to propose figures for.")
    note = (note or "").strip()
    problems = _check(trainings, staff_in_scope, needed)
    if len(note) > MAX_NOTE:
        problems.append(("note", f"The note must be {MAX_NOTE} characters or fewer"))
    if problems:
        raise ReportsError(problems[0][1], problems[0][0], problems)
    for earlier in db.session.scalars(select(NeedsProposal).where(
            NeedsProposal.tna_id == tna.id, NeedsProposal.agency_id == agency.id, NeedsProposal.status == PENDING)):
        earlier.status = WITHDRAWN
    proposal = NeedsProposal(
        tna=tna, agency=agency, staff_in_scope=staff_in_scope, note=note, status=PENDING,
        proposed_by_id=actor.id, proposed_at=utcnow(),
        lines=[NeedsProposalLine(course_id=t.course_id, level_id=t.level_id, needed=needed[t.key])
               for t in trainings],
    )
    db.session.add(proposal)
    db.session.flush()
    return proposal


def accept_proposal(proposal: NeedsProposal, staff_in_scope: int | None, needed: dict[str, int | None],
                    actor: User) -> NeedsProposal:
    """Accept a proposal as proposed or edited (the L&D team): the figures become the agency's lines."""
    if not actor.has_role(ADMIN):
        raise ReportsError("Only the L&D team can accept a proposal")
    if proposal.status != PENDING:
        raise ReportsError("This proposal has already been decided or replaced by a later one")
    trainings = [Training(line.training_key, line.training_label, line.course_id, line.level_id)
                 for line in proposal.lines]
    problems = _check(trainings, staff_in_scope, needed)
    if problems:
        raise ReportsError(problems[0][1], problems[0][0], problems)
    agency, tna = proposal.agency, proposal.tna
    existing = {(f"c{l.course_id}" if l.course_id else f"l{l.level_id}"): l for l in db.session.scalars(
        select(TnaLine).where(TnaLine.tna_id == tna.id, TnaLine.agency_id == agency.id))}
    for line in proposal.lines:
        line.accepted_needed = needed[line.training_key]
        save_line(tna, sector=agency.sector, agency=agency,
                  course=db.session.get(Course, line.course_id) if line.course_id else None,
                  level=db.session.get(Level, line.level_id) if line.level_id else None,
                  staff_in_scope=staff_in_scope, needed=line.accepted_needed, actor=actor,
                  line=existing.get(line.training_key))
    proposal.accepted_staff_in_scope = staff_in_scope
    proposal.status = ACCEPTED
    proposal.decided_by_id = actor.id
    proposal.decided_at = utcnow()
    db.session.flush()
    return proposal
