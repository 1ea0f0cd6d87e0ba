"""The reports' figures, each from grouped SQL (GROUP BY with COUNT, SUM and CASE), never by
walking booking rows in Python.

Counting rules, shared by every report:
- A session belongs to the period when it starts inside it (UK days); cancelled sessions are left
  out of every figure (their bookings were not the people's choice).
- A booking counts for the agency, and so the sector, the person was in when they booked
  (Booking.agency_id), so someone who moved agency counts where they were.
- Booked: holding a place (awaiting approval or confirmed) or marked present. Attended: marked
  attended or partly attended (walk-ins included). People are counted once per row however many
  sessions they went to.
- A refresher falls due when the latest completion of a course plus its refresher months lands
  in the period (a later completion of the same course replaces it).
- Online courses have no sessions: a completion of one (recorded by the person, or imported from
  the e-learning provider) belongs to the period it was completed in, and counts for the agency the
  person is in now. It counts as attended (and booked) wherever attendance counts against need, and
  in the annual report's "introductory online" line beside the face-to-face attendees.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import (
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased

from app.accounts.models import Agency, Sector, User
from app.attendance.models import CHARGE_DUE, Charge, SingleAgencyAttendee, SingleAgencyTraining
from app.bookings.models import (
    CANCELLED as BOOKING_CANCELLED,
    DID_NOT_ATTEND,
    HOLDS_PLACE,
    PRESENT_OUTCOMES,
    TURNED_AWAY,
    Booking,
    Completion,
)
from app.clock import add_months
from app.courses.models import CANCELLED, DRAFT, PUBLISHED, Course, Level, Session
from app.evaluation.figures import headline_figures
from app.extensions import db
from app.filters import Filters, Period, Viewer
from app.reports.models import TnaLine, TrainingNeedsAnalysis
from app.small_numbers import Hidden, is_hidden

NO_SHOW_OUTCOMES = (DID_NOT_ATTEND, TURNED_AWAY)
BOOKED = or_(Booking.status.in_(HOLDS_PLACE), Booking.outcome.in_(PRESENT_OUTCOMES))
ATTENDED = Booking.outcome.in_(PRESENT_OUTCOMES)
NO_SHOW = Booking.outcome.in_(NO_SHOW_OUTCOMES)
# Who was (or is to be) in the room: present, or holding a place with nothing marked yet.
TAKING_PART = or_(ATTENDED, and_(Booking.outcome.is_(None), Booking.status.in_(HOLDS_PLACE)))
NOT_RECORDED = "Agency not recorded"


def in_period(period: Period):
    # Drafts are not yet part of the programme: only administrators see them, on the programme pages.
    return and_(Session.starts_at >= period.start_utc, Session.starts_at < period.end_utc,
                Session.status.not_in((CANCELLED, DRAFT)))


ONLINE_COMPLETION = and_(Completion.booking_id.is_(None), Completion.counts)


def online_completed(period: Period):
    """Completions of online courses (no session, so by the day completed) inside the period."""
    return and_(ONLINE_COMPLETION, Course.is_online.is_(True),
                Completion.completed_on.between(period.starts_on, period.ends_on))


def completed_between_for_due(period: Period, months: int) -> tuple[date, date]:
    """The completion dates whose refresher (`months` later) falls due inside `period`."""
    low = add_months(period.starts_on, -months)
    while add_months(low, months) < period.starts_on:
        low += timedelta(days=1)
    while add_months(low - timedelta(days=1), months) >= period.starts_on:
        low -= timedelta(days=1)
    high = add_months(period.ends_on, -months)
    while add_months(high + timedelta(days=1), months) <= period.ends_on:
        high += timedelta(days=1)
    while add_months(high, months) > period.ends_on:
        high -= timedelta(days=1)
    return low, high


def _people(condition):
    return func.count(distinct(case((condition, Booking.user_id))))


def _sum(condition, value=1):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


# --- Attendance against need ---------------------------------------------------------------------

@dataclass
class NeedRow:
    sector_id: int
    sector: str
    agency_id: int | None
    agency: str
    course_id: int | None
    level_id: int | None
    training: str
    staff_in_scope: int | None
    needed: int | None
    booked: int | Hidden = 0  # Hidden: withheld for a small group (reports/published.py)
    attended: int | Hidden = 0
    refreshers: int | Hidden = 0
    # People trained by their own agency at this level (or course), not already counted as attended.
    single_agency: int | Hidden = 0

    @property
    def trained(self) -> int | Hidden:
        """Attended, plus trained by their own agency: what counts against the need."""
        for part in (self.attended, self.single_agency):
            if is_hidden(part):
                return part
        return self.attended + self.single_agency

    @property
    def gap(self) -> int | Hidden | None:
        if self.needed is None:
            return None
        return self.trained if is_hidden(self.trained) else max(self.needed - self.trained, 0)

    @property
    def percent_met(self) -> int | Hidden | None:
        if not self.needed:
            return None
        return self.trained if is_hidden(self.trained) else round(100 * self.trained / self.needed)

    @property
    def filters(self) -> dict:
        """The query-string values that find the people behind this row."""
        values = {"sector": self.sector_id}
        if self.agency_id:
            values["agency"] = self.agency_id
        if self.course_id:
            values["course"] = self.course_id
        else:
            values["level"] = self.level_id
        return values


@dataclass
class SectorBlock:
    sector_id: int
    name: str
    rows: list[NeedRow] = field(default_factory=list)
    withheld_met: Hidden | None = None  # a row it adds up is withheld

    @property
    def headline(self) -> list[NeedRow]:
        return [r for r in self.rows if r.agency_id is None] or self.rows

    @property
    def needed(self) -> int:
        return sum(r.needed or 0 for r in self.headline)

    @property
    def met(self) -> int | Hidden:
        return self.withheld_met or sum(min(r.trained, r.needed or 0) for r in self.headline)

    @property
    def percent_met(self) -> int | Hidden | None:
        if self.withheld_met:
            return self.withheld_met
        return round(100 * self.met / self.needed) if self.needed else None


@dataclass
class NeedReport:
    tna: TrainingNeedsAnalysis
    period: Period
    sectors: list[SectorBlock]
    trainings: list[tuple[str, str]]  # (key, label) in display order

    @property
    def rows(self) -> list[NeedRow]:
        return [row for block in self.sectors for row in block.rows]

    def chart_rows(self, training_key: str) -> list[NeedRow]:
        """One bar per sector (or per agency, for a coordinator) for one course or level."""
        rows = [r for r in self.rows if _training_key(r) == training_key]
        headline = [r for r in rows if r.agency_id is None]
        return headline or rows


def _training_key(row) -> str:
    return f"c{row.course_id}" if row.course_id else f"l{row.level_id}"


def _groupings(course_ids, level_ids, agency_ids, viewer: Viewer) -> list[str]:
    """The groupings a need report has lines for: "ac" (agency, course), "al" (agency, level),
    "sc" (sector, course), "sl" (sector, level). Only the agencies that have lines (or that a
    coordinator sees) are grouped by agency, which keeps the work near that of one grouping."""
    kinds = []
    if course_ids and agency_ids:
        kinds.append("ac")
    if level_ids and agency_ids:
        kinds.append("al")
    if viewer.sees_all and course_ids:
        kinds.append("sc")
    if viewer.sees_all and level_ids:
        kinds.append("sl")
    return kinds


def _grouped_union(kinds, columns: dict, ids: dict, measures, source, where):
    """One statement: a UNION ALL of one GROUP BY per grouping, over `source`.

    `columns` maps "agency", "sector", "course" and "level" to the source's columns; `ids` holds
    the agency, course and level ids the lines need."""
    parts = []
    for kind in kinds:
        who = columns["agency"] if kind[0] == "a" else columns["sector"]
        what = columns["course"] if kind[1] == "c" else columns["level"]
        condition = what.in_(ids["course"] if kind[1] == "c" else ids["level"])
        if kind[0] == "a":
            condition = and_(condition, who.in_(ids["agency"]))
        parts.append(
            select(literal_column(f"'{kind}'").label("kind"), who.label("who"), what.label("what"), *measures)
            .select_from(source).where(where, condition).group_by(who, what)
        )
    return union_all(*parts)


def taking_training(period: Period, viewer: Viewer):
    """Who booked or attended which course in the period, as one set (user_id, agency_id, sector_id,
    course_id, level_id, booked, attended): bookings of sessions in the period (by the agency
    booked for), and completions of online courses in it (by the person's agency now), which
    count as booked and attended."""
    bookings = (
        select(Booking.user_id.label("user_id"), Booking.agency_id.label("agency_id"),
               Agency.sector_id.label("sector_id"), Course.id.label("course_id"),
               Course.level_id.label("level_id"), case((BOOKED, 1), else_=0).label("booked"),
               case((ATTENDED, 1), else_=0).label("attended"))
        .select_from(Booking).join(Session, Session.id == Booking.session_id)
        .join(Course, Course.id == Session.course_id).join(Agency, Agency.id == Booking.agency_id)
        .where(in_period(period), viewer.narrow(Booking.agency_id))
    )
    online = (
        select(Completion.user_id, User.agency_id, Agency.sector_id, Course.id, Course.level_id,
               literal_column("1"), literal_column("1"))
        .select_from(Completion).join(Course, Course.id == Completion.course_id)
        .join(User, User.id == Completion.user_id).join(Agency, Agency.id == User.agency_id)
        .where(online_completed(period), viewer.narrow(User.agency_id))
    )
    return union_all(bookings, online).cte("taking_training")


def _bookings_grouped(period: Period, viewer: Viewer, kinds, ids):
    taken = taking_training(period, viewer)
    columns = {"agency": taken.c.agency_id, "sector": taken.c.sector_id, "course": taken.c.course_id,
               "level": taken.c.level_id}
    measures = [func.count(distinct(case((taken.c.booked == 1, taken.c.user_id)))).label("booked"),
                func.count(distinct(case((taken.c.attended == 1, taken.c.user_id)))).label("attended")]
    return _grouped_union(kinds, columns, ids, measures, taken, true())


def due_refreshers(period: Period):
    """Each person's latest completion on each refresher clock whose refresher falls due in the
    period: one GROUP BY over completions with the due windows in HAVING, as a CTE (user_id,
    course_id, completed_on) the report's groupings share. A clock is a course with its refresher
    interval and the courses that renew it (Level 3 and Level 3 Refresher); course_id is that
    course, and learning done elsewhere counts once accepted."""
    by_months: dict[int, list[int]] = defaultdict(list)
    for course_id, months in db.session.execute(
        select(Course.id, Course.refresher_months).where(Course.refresher_months > 0)
    ):
        by_months[months].append(course_id)
    clock = func.coalesce(Course.renews_course_id, Course.id)
    latest = func.max(Completion.completed_on)
    windows, recent = [], []
    for months, course_ids in by_months.items():
        low, high = completed_between_for_due(period, months)
        windows.append(and_(clock.in_(course_ids), latest.between(low, high)))
        # Completions before the window cannot decide whether the latest lands in it, so the
        # database need not group them.
        recent.append(and_(clock.in_(course_ids), Completion.completed_on >= low))
    return (
        select(Completion.user_id.label("user_id"), clock.label("course_id"), latest.label("completed_on"))
        .join(Course, Course.id == Completion.course_id)
        .where(or_(*recent) if recent else false(), Completion.counts)
        .group_by(Completion.user_id, clock)
        .having(or_(*windows) if windows else false())
        .cte("due")
    )


def _refreshers_grouped(period: Period, viewer: Viewer, kinds, ids):
    """Refreshers due per grouping. The people's agency, sector and the course's level are joined
    once inside a CTE, so each grouping reads one small set (and no planner can choose to loop
    over agencies and courses first)."""
    due = due_refreshers(period)
    people = (
        select(due.c.user_id, due.c.course_id, User.agency_id.label("agency_id"),
               Agency.sector_id.label("sector_id"), Course.level_id.label("level_id"))
        .select_from(due)
        .join(User, User.id == due.c.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .join(Course, Course.id == due.c.course_id)
        .where(viewer.narrow(User.agency_id))
        .cte("due_people")
    )
    columns = {"agency": people.c.agency_id, "sector": people.c.sector_id, "course": people.c.course_id,
               "level": people.c.level_id}
    return _grouped_union(kinds, columns, ids, [func.count(distinct(people.c.user_id)).label("refreshers")],
                          people, true())


def _single_agency_grouped(period: Period, viewer: Viewer, kinds, ids):
    """People trained by their own agency per grouping (kind, who, what, people): staff named, not
    already attended on the same course (or a course at the same level) in the period, plus people
    without an account. Training counts for a course line only when it is equivalent to that course,
    and for a level line when its level matches."""
    held = and_(SingleAgencyTraining.held_on >= period.starts_on, SingleAgencyTraining.held_on <= period.ends_on,
                viewer.narrow(SingleAgencyTraining.agency_id))

    def attended_on(match):
        return (select(Booking.id).join(Session, Session.id == Booking.session_id)
                .join(Course, Course.id == Session.course_id)
                .where(Booking.user_id == SingleAgencyAttendee.user_id, ATTENDED, in_period(period), match)
                .exists())

    named = (
        select(SingleAgencyTraining.agency_id, Agency.sector_id, SingleAgencyTraining.course_id,
               SingleAgencyTraining.level_id, SingleAgencyAttendee.user_id, literal_column("0").label("others"),
               case((attended_on(Course.id == SingleAgencyTraining.course_id), 1), else_=0).label("counted_course"),
               case((attended_on(Course.level_id == SingleAgencyTraining.level_id), 1), else_=0).label("counted_level"))
        .select_from(SingleAgencyAttendee)
        .join(SingleAgencyTraining, SingleAgencyTraining.id == SingleAgencyAttendee.training_id)
        .join(Agency, Agency.id == SingleAgencyTraining.agency_id).where(held)
    )
    unnamed = (
        select(SingleAgencyTraining.agency_id, Agency.sector_id, SingleAgencyTraining.course_id,
               SingleAgencyTraining.level_id, literal_column("NULL").label("user_id"),
               SingleAgencyTraining.others_count.label("others"), literal_column("0").label("counted_course"),
               literal_column("0").label("counted_level"))
        .select_from(SingleAgencyTraining).join(Agency, Agency.id == SingleAgencyTraining.agency_id)
        .where(held, SingleAgencyTraining.others_count > 0)
    )
    people = union_all(named, unnamed).cte("single_agency_people")
    parts = []
    for kind in kinds:
        who = people.c.agency_id if kind[0] == "a" else people.c.sector_id
        what = people.c.course_id if kind[1] == "c" else people.c.level_id
        counted = people.c.counted_course if kind[1] == "c" else people.c.counted_level
        condition = what.in_(ids["course"] if kind[1] == "c" else ids["level"])
        if kind[0] == "a":
            condition = and_(condition, who.in_(ids["agency"]))
        measure = (func.count(distinct(case((counted == 0, people.c.user_id))))
                   + func.coalesce(func.sum(people.c.others), 0))
        parts.append(select(literal_column(f"'{kind}'").label("kind"), who.label("who"), what.label("what"),
                            measure.label("people")).where(condition).group_by(who, what))
    return union_all(*parts)


def _need_figures(period: Period, viewer: Viewer, kinds, ids):
    """The booked and attended, refreshers due and single-agency figures per grouping in one
    statement (part, kind, who, what, booked, attended, people): part "b", "r" or "s" says which
    figure a row holds, so the report reads them in one round trip."""
    booked = _bookings_grouped(period, viewer, kinds, ids).subquery("booked")
    due = _refreshers_grouped(period, viewer, kinds, ids).subquery("refreshers")
    trained = _single_agency_grouped(period, viewer, kinds, ids).subquery("single_agency")
    none = literal_column("0")
    return union_all(
        select(literal_column("'b'"), booked.c.kind, booked.c.who, booked.c.what, booked.c.booked,
               booked.c.attended, none),
        select(literal_column("'r'"), due.c.kind, due.c.who, due.c.what, none, none, due.c.refreshers),
        select(literal_column("'s'"), trained.c.kind, trained.c.who, trained.c.what, none, none,
               trained.c.people),
    )


def need_report(tna: TrainingNeedsAnalysis, period: Period, viewer: Viewer) -> NeedReport:
    """Needed, booked, attended, gap, % met and refreshers due per sector, agency and training."""
    lines = db.session.scalars(
        select(TnaLine).where(TnaLine.tna_id == tna.id).order_by(TnaLine.id)
    ).all()
    course_ids = sorted({l.course_id for l in lines if l.course_id})
    level_ids = sorted({l.level_id for l in lines if l.level_id})
    agency_ids = (sorted({l.agency_id for l in lines if l.agency_id}) if viewer.sees_all
                  else sorted(viewer.agency_ids))
    kinds = _groupings(course_ids, level_ids, agency_ids, viewer)
    ids = {"agency": agency_ids, "course": course_ids, "level": level_ids}
    counts: dict[tuple[str, int, int], tuple[int, int]] = {}
    refreshers: dict[tuple[str, int, int], int] = {}
    single_agency: dict[tuple[str, int, int], int] = {}
    if kinds:
        for part, kind, who, what, booked, attended, n in db.session.execute(
                _need_figures(period, viewer, kinds, ids)):
            if part == "b":
                counts[(kind, who, what)] = (booked, attended)
            elif part == "r":
                refreshers[(kind, who, what)] = n
            else:
                single_agency[(kind, who, what)] = n

    training_labels = _training_labels(course_ids, level_ids)
    sector_names = dict(db.session.execute(select(Sector.id, Sector.name)).all())
    agency_rows = db.session.execute(select(Agency.id, Agency.name, Agency.sector_id)).all()
    agency_names = {a: n for a, n, _ in agency_rows}
    agency_sector = {a: s for a, _, s in agency_rows}

    def filled(row: NeedRow) -> NeedRow:
        scope, who = ("a", row.agency_id) if row.agency_id else ("s", row.sector_id)
        kind, what = (scope + "c", row.course_id) if row.course_id else (scope + "l", row.level_id)
        row.booked, row.attended = counts.get((kind, who, what), (0, 0))
        row.refreshers = refreshers.get((kind, who, what), 0)
        row.single_agency = single_agency.get((kind, who, what), 0)
        return row

    def new_row(sector_id, agency_id, training_key, staff, needed) -> NeedRow:
        course_id = int(training_key[1:]) if training_key[0] == "c" else None
        level_id = int(training_key[1:]) if training_key[0] == "l" else None
        return filled(NeedRow(
            sector_id=sector_id, sector=sector_names.get(sector_id, ""), agency_id=agency_id,
            agency=agency_names.get(agency_id, "") if agency_id else "", course_id=course_id,
            level_id=level_id, training=training_labels.get(training_key, ""),
            staff_in_scope=staff, needed=needed))

    by_sector: dict[int, dict[str, dict]] = defaultdict(lambda: defaultdict(dict))
    for line in lines:
        by_sector[line.sector_id][_training_key(line)][line.agency_id] = line
    order = {key: i for i, key in enumerate(training_labels)}
    blocks: list[SectorBlock] = []
    if viewer.sees_all:
        for sector_id, trainings in by_sector.items():
            block = SectorBlock(sector_id, sector_names.get(sector_id, ""))
            for key in sorted(trainings, key=lambda k: order.get(k, 0)):
                found = trainings[key]
                sector_line = found.get(None)
                agency_lines = [l for a, l in found.items() if a is not None]
                if sector_line is not None:
                    block.rows.append(new_row(sector_id, None, key, sector_line.staff_in_scope,
                                              sector_line.needed))
                else:
                    block.rows.append(new_row(
                        sector_id, None, key, sum(l.staff_in_scope for l in agency_lines),
                        sum(l.needed for l in agency_lines)))
                for line in sorted(agency_lines, key=lambda l: agency_names.get(l.agency_id, "")):
                    block.rows.append(new_row(sector_id, line.agency_id, key, line.staff_in_scope,
                                              line.needed))
            blocks.append(block)
    else:
        for agency_id in sorted(viewer.agency_ids, key=lambda a: agency_names.get(a, "")):
            sector_id = agency_sector.get(agency_id)
            trainings = by_sector.get(sector_id, {})
            keys = [k for k in trainings if None in trainings[k] or agency_id in trainings[k]]
            if not keys:
                continue
            block = SectorBlock(sector_id, sector_names.get(sector_id, ""))
            for key in sorted(keys, key=lambda k: order.get(k, 0)):
                line = trainings[key].get(agency_id)
                block.rows.append(new_row(sector_id, agency_id, key,
                                          line.staff_in_scope if line else None,
                                          line.needed if line else None))
            blocks.append(block)
    # Furthest behind first: the lowest share of need met, then the largest gap.
    blocks.sort(key=lambda b: (b.percent_met if b.percent_met is not None else 101,
                               -(b.needed - b.met), b.name))
    return NeedReport(tna=tna, period=period, sectors=blocks,
                      trainings=[(k, v) for k, v in training_labels.items()
                                 if any(_training_key(r) == k for b in blocks for r in b.rows)])


def _training_labels(course_ids, level_ids) -> dict[str, str]:
    labels: dict[str, str] = {}
    for level_id, name in db.session.execute(
        select(Level.id, Level.name).where(Level.id.in_(level_ids or [-1])).order_by(Level.position, Level.name)
    ):
        labels[f"l{level_id}"] = f"Any {name} course"
    for course_id, title in db.session.execute(
        select(Course.id, Course.title).where(Course.id.in_(course_ids or [-1])).order_by(Course.title)
    ):
        labels[f"c{course_id}"] = title
    return labels


# --- Drill-down: the people and sessions behind a figure -----------------------------------------

BOOKING_MEASURES = {
    "booked": ("Booked", BOOKED),
    "attended": ("Attended", ATTENDED),
    "not_attended": ("Booked but not (yet) attended", and_(BOOKED, not_(ATTENDED))),
    "bookings": ("Bookings", Booking.walk_in.is_(False)),
    "cancellations": ("Cancellations", Booking.status == BOOKING_CANCELLED),
    "late_cancellations": ("Late cancellations", Booking.late_cancellation.is_(True)),
    "no_shows": ("No-shows", NO_SHOW),
    "walk_ins": ("Walk-ins", Booking.walk_in.is_(True)),
    "taking_part": ("Taking part", TAKING_PART),
    "chargeable": ("Chargeable", or_(NO_SHOW, Booking.late_cancellation.is_(True))),
}


def booking_rows(period: Period, viewer: Viewer, measure: str, filters: Filters):
    """The bookings behind a figure: one row per booking with the person, agency and session."""
    label, condition = BOOKING_MEASURES[measure]
    sector = aliased(Sector)
    query = (
        select(Booking.id, User.id.label("user_id"), User.name, User.email, Agency.name.label("agency"),
               sector.name.label("sector"), Course.title, Session.id.label("session_id"),
               Session.starts_at, Booking.status, Booking.outcome, Booking.walk_in,
               Booking.late_cancellation)
        .select_from(Booking)
        .join(User, User.id == Booking.user_id)
        .join(Session, Session.id == Booking.session_id)
        .join(Course, Course.id == Session.course_id)
        .outerjoin(Agency, Agency.id == Booking.agency_id)
        .outerjoin(sector, sector.id == Agency.sector_id)
        .where(in_period(period), viewer.narrow(Booking.agency_id), condition)
        .order_by(Session.starts_at, User.name, Booking.id)
    )
    return filters.narrow(query, course=Course.id, session=Session.id, sector=Agency.sector_id,
                          agency=Booking.agency_id, level=Course.level_id)


def refresher_rows(period: Period, viewer: Viewer, filters: Filters):
    """The people whose refresher falls due in the period (by the agency they are in now)."""
    due = due_refreshers(period)
    query = (
        select(User.id.label("user_id"), User.name, User.email, Agency.name.label("agency"),
               Sector.name.label("sector"), Course.title, Course.refresher_months, due.c.completed_on)
        .select_from(due)
        .join(User, User.id == due.c.user_id)
        .join(Agency, Agency.id == User.agency_id)
        .join(Sector, Sector.id == Agency.sector_id)
        .join(Course, Course.id == due.c.course_id)
        .where(viewer.narrow(User.agency_id))
        .order_by(due.c.completed_on, User.name, Course.title)
    )
    # A refresher belongs to no session, so a session asked for does not narrow it.
    return filters.narrow(query, course=Course.id, sector=Agency.sector_id, agency=User.agency_id,
                          level=Course.level_id)


def online_rows(period: Period, viewer: Viewer, filters: Filters):
    """The people who completed an online course in the period (by the agency they are in now)."""
    query = (
        select(User.id.label("user_id"), User.name, User.email, Agency.name.label("agency"),
               Sector.name.label("sector"), Course.title, Completion.completed_on, Completion.source,
               Completion.score)
        .select_from(Completion)
        .join(User, User.id == Completion.user_id)
        .join(Course, Course.id == Completion.course_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .outerjoin(Sector, Sector.id == Agency.sector_id)
        .where(online_completed(period), viewer.narrow(User.agency_id))
        .order_by(Completion.completed_on, User.name, Completion.id)
    )
    if filters.session_id:  # an online course has no sessions
        query = query.where(false())
    return filters.narrow(query, course=Course.id, sector=Agency.sector_id, agency=User.agency_id,
                          level=Course.level_id)


def due_on(row) -> object:
    return add_months(row.completed_on, row.refresher_months)


# --- Multi-agency mix -----------------------------------------------------------------------------

@dataclass
class MixSession:
    session_id: int
    title: str
    starts_at: object
    capacity: int
    sectors: list[tuple[int | None, str, int]] = field(default_factory=list)
    # As shown, when small groups are withheld (reports/published.py); the figures above stay exact
    # so the largest sector and "over half" are worked out as before.
    shown: dict | None = None

    @property
    def sector_figures(self) -> list[tuple[int | None, str, int | Hidden]]:
        return self.shown["sectors"] if self.shown else self.sectors

    @property
    def taking_part_figure(self) -> int | Hidden:
        return self.shown["taking_part"] if self.shown else self.taking_part

    @property
    def largest_share_figure(self) -> int | Hidden | None:
        return self.shown["largest_share"] if self.shown else self.largest_share

    @property
    def taking_part(self) -> int:
        return sum(n for _, _, n in self.sectors)

    @property
    def largest(self) -> tuple[int | None, str, int] | None:
        return self.sectors[0] if self.sectors else None

    @property
    def largest_share(self) -> int | None:
        if not self.taking_part:
            return None
        return round(100 * self.sectors[0][2] / self.taking_part)

    @property
    def dominated(self) -> bool:
        """One sector filled more than half of the places taken."""
        return bool(self.taking_part) and 2 * self.sectors[0][2] > self.taking_part


@dataclass
class MixReport:
    period: Period
    sessions: list[MixSession]
    sector_totals: list[tuple[int | None, str, int | Hidden]]
    sector_shares: list[int | Hidden] | None = None  # each sector's share, when some are withheld
    shown_places: int | Hidden = 0  # the places taken, as shown, when some are withheld

    @property
    def places_taken(self) -> int | Hidden:
        if self.sector_shares is not None:
            return self.shown_places
        return sum(n for _, _, n in self.sector_totals)

    def shares(self) -> list[int | Hidden]:
        """Each sector's share (per cent) of the places taken, in sector_totals' order."""
        if self.sector_shares is not None:
            return self.sector_shares
        total = sum(n for _, _, n in self.sector_totals)
        return [round(100 * n / total) if total else 0 for _, _, n in self.sector_totals]

    @property
    def dominated(self) -> list[MixSession]:
        return [s for s in self.sessions if s.dominated]


def mix_report(period: Period, viewer: Viewer) -> MixReport:
    """Per session: the sectors taking part and the largest sector's share of the places taken."""
    sessions_query = (
        select(Session.id, Course.title, Session.starts_at, Session.capacity)
        .join(Course, Course.id == Session.course_id)
        .where(in_period(period))
        .order_by(Session.starts_at, Session.id)
    )
    if not viewer.sees_all:
        # A coordinator sees the mix (counts by sector, no names) of sessions their staff were on.
        sessions_query = sessions_query.where(exists().where(
            Booking.session_id == Session.id, viewer.narrow(Booking.agency_id), TAKING_PART))
    sessions = {sid: MixSession(sid, title, starts_at, capacity)
                for sid, title, starts_at, capacity in db.session.execute(sessions_query)}
    mix = (
        select(Booking.session_id, Agency.sector_id, func.count().label("n"))
        .select_from(Booking)
        .join(Session, Session.id == Booking.session_id)
        .outerjoin(Agency, Agency.id == Booking.agency_id)
        .where(in_period(period), TAKING_PART)
        .group_by(Booking.session_id, Agency.sector_id)
    )
    if not viewer.sees_all:
        mix = mix.where(Booking.session_id.in_(list(sessions) or [-1]))
    # The sector names come in a lookup of their own: joined to the tens of thousands of grouped
    # rows over five years, each row's name costs more than the extra round trip.
    names = dict(db.session.execute(select(Sector.id, Sector.name)).all())
    totals: dict[int | None, int] = defaultdict(int)
    for session_id, sector_id, n in db.session.execute(mix):
        if session_id in sessions:
            sessions[session_id].sectors.append((sector_id, names.get(sector_id, NOT_RECORDED), n))
            totals[sector_id] += n
    for item in sessions.values():
        item.sectors.sort(key=lambda s: (-s[2], s[1]))
    return MixReport(
        period=period, sessions=list(sessions.values()),
        sector_totals=sorted(((s, names.get(s, NOT_RECORDED), n) for s, n in totals.items()),
                             key=lambda t: (-t[2], t[1])),
    )


# --- Activity per agency -------------------------------------------------------------------------

@dataclass
class ActivityRow:
    agency_id: int | None
    agency: str
    sector: str
    bookings: int
    attendances: int
    cancellations: int
    late_cancellations: int
    no_shows: int
    walk_ins: int
    charges_pence: int


@dataclass
class ActivityReport:
    period: Period
    rows: list[ActivityRow]
    totals: dict[str, int | Hidden] | None = None  # as shown, when small groups are withheld

    def total(self, name: str) -> int | Hidden:
        if self.totals is not None:
            return self.totals[name]
        return sum(getattr(r, name) for r in self.rows)


def activity_report(period: Period, viewer: Viewer) -> ActivityReport:
    """Bookings, attendances, cancellations, late cancellations, no-shows, walk-ins and charges."""
    per_agency = (
        select(
            Booking.agency_id.label("agency_id"),
            _sum(Booking.walk_in.is_(False)).label("bookings"), _sum(ATTENDED).label("attendances"),
            _sum(Booking.status == BOOKING_CANCELLED).label("cancellations"),
            _sum(Booking.late_cancellation.is_(True)).label("late_cancellations"),
            _sum(NO_SHOW).label("no_shows"), _sum(Booking.walk_in.is_(True)).label("walk_ins"),
        )
        .select_from(Booking)
        .join(Session, Session.id == Booking.session_id)
        .where(in_period(period), viewer.narrow(Booking.agency_id))
        .group_by(Booking.agency_id)
        .cte("per_agency")
    )
    # Charges still due (not waived, not voided) per agency invoiced, for sessions in the period.
    charged = (
        select(Charge.agency_id.label("agency_id"), func.sum(Charge.amount_pence).label("pence"))
        .join(Booking, Booking.id == Charge.booking_id)
        .join(Session, Session.id == Booking.session_id)
        .where(in_period(period), Charge.status == CHARGE_DUE, viewer.narrow(Charge.agency_id))
        .group_by(Charge.agency_id)
        .cte("charged")
    )
    # Names are joined to the few grouped rows, not grouped by, which keeps the big GROUP BY
    # cheap; an agency without a sector reads as not recorded, as it always has.
    named = (
        select(Agency.id.label("agency_id"), Agency.name.label("agency"), Sector.name.label("sector"))
        .join(Sector, Sector.id == Agency.sector_id)
        .subquery("named")
    )
    query = (
        select(per_agency, named.c.agency, named.c.sector, func.coalesce(charged.c.pence, 0))
        .outerjoin(named, named.c.agency_id == per_agency.c.agency_id)
        .outerjoin(charged, charged.c.agency_id.is_not_distinct_from(per_agency.c.agency_id))
    )
    rows = []
    for agency_id, *numbers, agency, sector, pence in db.session.execute(query):
        rows.append(ActivityRow(agency_id, agency if agency is not None else NOT_RECORDED, sector or "",
                                *map(int, numbers), int(pence)))
    rows.sort(key=lambda r: (r.sector, r.agency))
    return ActivityReport(period, rows)


# --- The annual report's tables ------------------------------------------------------------------

@dataclass
class AnnualReport:
    period: Period
    events: list[tuple[int, str, int | Hidden]]  # (course id, title, attendees)
    by_sector: list[tuple[int | None, str, int | Hidden]]
    people: int | Hidden
    evaluation: list[tuple[str, str]] | None
    shown_total: int | Hidden | None = None  # the total as shown, when small groups are withheld
    online: list[tuple[int, str, int | Hidden]] = field(default_factory=list)  # (course id, title, completed)
    shown_online_total: int | Hidden | None = None
    # Training agencies ran for their own staff: a line of its own, never in the figures above.
    single_agency_trainings: int = 0
    single_agency_attendances: int | Hidden = 0

    @property
    def total(self) -> int | Hidden:
        return self.shown_total if self.shown_total is not None else sum(n for _, _, n in self.events)

    @property
    def online_total(self) -> int | Hidden:
        if self.shown_online_total is not None:
            return self.shown_online_total
        return sum(n for _, _, n in self.online)

    def share(self, attendees: int | Hidden) -> int | Hidden:
        """A sector's share of the attendees, per cent (withheld with its figure)."""
        if is_hidden(attendees) or is_hidden(self.total):
            return attendees if is_hidden(attendees) else self.total
        return round(100 * attendees / self.total) if self.total else 0


def evaluation_headlines(period: Period) -> list[tuple[str, str]] | None:
    """The evaluation's headline figures for the period; None when no evaluation was sent."""
    return headline_figures(period.starts_on, period.ends_on) or None


def _online_by_course(period: Period, viewer: Viewer) -> list[tuple[int, str, int]]:
    found = db.session.execute(
        select(Course.id, Course.title, func.count(Completion.id))
        .select_from(Completion).join(Course, Course.id == Completion.course_id)
        .join(User, User.id == Completion.user_id)
        .where(online_completed(period), viewer.narrow(User.agency_id))
        .group_by(Course.id, Course.title)
    ).all()
    return sorted(((cid, title, n) for cid, title, n in found), key=lambda e: (-e[2], e[1]))


def annual_report(period: Period, viewer: Viewer) -> AnnualReport:
    """Attendees per event, in total and by sector, online courses completed, and the evaluation's
    headline figures."""
    attended = and_(in_period(period), viewer.narrow(Booking.agency_id), ATTENDED)
    # One pass over the bookings grouped by course and sector (a few hundred rows) gives both
    # tables: each is a sum over the other grouping. The titles and sector names are joined to
    # the grouped rows in the same statement, and the people counted beside them.
    grouped = (
        select(Session.course_id.label("course_id"), Agency.sector_id.label("sector_id"),
               func.count().label("n"))
        .select_from(Booking).join(Session, Session.id == Booking.session_id)
        .outerjoin(Agency, Agency.id == Booking.agency_id)
        .where(attended).group_by(Session.course_id, Agency.sector_id)
        .cte("grouped")
    )
    different_people = (
        select(func.count(distinct(Booking.user_id))).select_from(Booking)
        .join(Session, Session.id == Booking.session_id).where(attended)
        .scalar_subquery()
    )
    people = 0  # nobody attended when no row comes back
    events: dict[int, int] = defaultdict(int)
    by_sector: dict[int | None, int] = defaultdict(int)
    titles: dict[int, str] = {}
    sector_names: dict[int | None, str] = {}
    for course_id, sector_id, n, title, sector, people in db.session.execute(
        select(grouped.c.course_id, grouped.c.sector_id, grouped.c.n, Course.title, Sector.name,
               different_people)
        .select_from(grouped)
        .outerjoin(Course, Course.id == grouped.c.course_id)
        .outerjoin(Sector, Sector.id == grouped.c.sector_id)
    ):
        events[course_id] += n
        by_sector[sector_id] += n
        titles[course_id] = title or ""
        sector_names[sector_id] = sector if sector is not None else NOT_RECORDED
    return AnnualReport(
        period=period,
        events=sorted(((cid, titles[cid], n) for cid, n in events.items()), key=lambda e: (-e[2], e[1])),
        by_sector=sorted(((sid, sector_names[sid], n) for sid, n in by_sector.items()),
                         key=lambda s: (-s[2], s[1])),
        people=people,
        evaluation=evaluation_headlines(period) if viewer.sees_all else None,
        online=_online_by_course(period, viewer),
        **single_agency_totals(period, viewer),
    )


def single_agency_totals(period: Period, viewer: Viewer) -> dict[str, int]:
    """Single-agency training held in the period: how many were recorded, and their attendances
    (staff named, plus people without an account)."""
    held = and_(SingleAgencyTraining.held_on >= period.starts_on, SingleAgencyTraining.held_on <= period.ends_on,
                viewer.narrow(SingleAgencyTraining.agency_id))
    # Its own count over the same trainings, not one per training row of the outer query.
    named = (
        select(func.count()).select_from(SingleAgencyAttendee)
        .join(SingleAgencyTraining, SingleAgencyTraining.id == SingleAgencyAttendee.training_id).where(held)
        .correlate(None).scalar_subquery()
    )
    trainings, others, named = db.session.execute(
        select(func.count(), func.coalesce(func.sum(SingleAgencyTraining.others_count), 0), named).where(held)
    ).one()
    return {"single_agency_trainings": trainings or 0, "single_agency_attendances": (named or 0) + (others or 0)}


# --- Acting on a gap -------------------------------------------------------------------------------

@dataclass
class AgencyGap:
    agency: Agency
    needed: int | None
    booked: int
    attended: int

    @property
    def gap(self) -> int | None:
        return None if self.needed is None else max(self.needed - self.attended, 0)


def agencies_behind(tna: TrainingNeedsAnalysis, period: Period, sector_id: int,
                    course_id: int | None, level_id: int | None) -> list[AgencyGap]:
    """The sector's agencies, furthest behind first: largest share of their own need unmet, then
    (where the analysis has no figure for the agency) fewest people trained."""
    taken = taking_training(period, Viewer(None))
    training = taken.c.course_id == course_id if course_id else taken.c.level_id == level_id
    counts = {agency_id: (booked, attended) for agency_id, booked, attended in db.session.execute(
        select(taken.c.agency_id, func.count(distinct(case((taken.c.booked == 1, taken.c.user_id)))),
               func.count(distinct(case((taken.c.attended == 1, taken.c.user_id)))))
        .where(training, taken.c.sector_id == sector_id)
        .group_by(taken.c.agency_id)
    )}
    needs = dict(db.session.execute(
        select(TnaLine.agency_id, TnaLine.needed).where(
            TnaLine.tna_id == tna.id, TnaLine.sector_id == sector_id, TnaLine.agency_id.is_not(None),
            TnaLine.course_id == course_id if course_id else TnaLine.level_id == level_id)
    ).all())
    found = [
        AgencyGap(agency, needs.get(agency.id), *counts.get(agency.id, (0, 0)))
        for agency in db.session.scalars(
            select(Agency).where(Agency.sector_id == sector_id, Agency.active.is_(True)).order_by(Agency.name))
    ]

    def behind(item: AgencyGap):
        if item.needed:
            return (0, item.attended / item.needed, -(item.gap or 0), item.agency.name)
        return (1, item.attended, 0, item.agency.name)

    return sorted(found, key=behind)


def upcoming_sessions(course_id: int | None, level_id: int | None, now) -> list[Session]:
    """Published open sessions of the course (or level) still to come and still taking bookings."""
    training = Course.id == course_id if course_id else Course.level_id == level_id
    return db.session.scalars(
        select(Session).join(Course, Course.id == Session.course_id)
        .where(training, Session.status == PUBLISHED, Session.starts_at > now,
               Session.closed_to_agency_id.is_(None),  # a closed session is not open to other agencies
               or_(Session.booking_closes_at.is_(None), Session.booking_closes_at > now),
               Course.retired_at.is_(None))
        .order_by(Session.starts_at, Session.id)
    ).all()
