"""What the L&D sub-group sees: evaluation figures, computed by the database with GROUP BY.

Every figure is filtered the same way (course, session, period of the session's date, sector of
the person's agency when they booked, level). Measures are followed by question `key`, so versions
of a question set that reword a question still add up to one measure.

No figure leaves this module for a group smaller than SMALL_GROUP_MINIMUM (app/small_numbers.py),
whoever is looking: response figures need that many people invited, answer figures that many
answers; written answers and the anonymised export lose the course, session and sector that would
place an answer in a smaller group.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from app.accounts.models import Agency, Sector, User
from app.bookings.models import Booking
from app.clock import to_london
from app.courses.models import Course, Level, Session
from app.evaluation.models import (
    CHOOSE_MANY,
    CHOOSE_ONE,
    SCALE,
    SCALE_VALUES,
    STAGE_ONE,
    STAGE_TWO,
    STAGES,
    TEXT,
    YES_NO_NOT_YET,
    YES_NO_NOT_YET_OPTIONS,
    Answer,
    Invitation,
    ManagerComment,
    Question,
    QuestionOption,
    QuestionSet,
    Response,
)
from app.exports import Percent
from app.extensions import db
from app.filters import Filters
from app.small_numbers import Hidden, hidden_cells, is_hidden, is_small, minimum

MEASURES = [  # (label, stage-1 before key, stage-1 after key, stage-2 key)
    ("Knowledge of the topic", "knowledge_before", "knowledge_after", None),
    ("Confidence in this area of work", "confidence_before", "confidence_after", "confidence_now"),
]
CHOICE_MEASURES = ("applied", "areas_changed", "barriers")


def _scoped(query, filters: Filters, invitation=Invitation):
    """Join an invitation to its session and course and apply the filters to it."""
    query = (query.join(Session, Session.id == invitation.session_id)
             .join(Course, Course.id == Session.course_id)
             .join(Booking, Booking.id == invitation.booking_id)
             .outerjoin(Agency, Agency.id == Booking.agency_id))
    return filters.narrow(query, course=Course.id, session=invitation.session_id,
                          level=Course.level_id, sector=Agency.sector_id, starts_at=Session.starts_at)


def _counted(query, filters: Filters, invitation=Invitation):
    """Apply the filters to a count over invitations, joining only the tables the filters name.

    A count reads no column of the session, course, booking or agency, and every invitation has
    a session (with a course) and a booking, so leaving the unneeded joins out keeps the same
    figures for less work."""
    if filters.level_id or filters.course_id or filters.date_from or filters.date_to:
        query = query.join(Session, Session.id == invitation.session_id)
    if filters.level_id:
        query = query.join(Course, Course.id == Session.course_id)
    if filters.sector_id:
        query = (query.join(Booking, Booking.id == invitation.booking_id)
                 .join(Agency, Agency.id == Booking.agency_id))
    return filters.narrow(query, course=Session.course_id, session=invitation.session_id,
                          level=Course.level_id, sector=Agency.sector_id, starts_at=Session.starts_at)


def _answers_query(*columns):
    return (select(*columns).select_from(Answer)
            .join(Question, Question.id == Answer.question_id)
            .join(Response, Response.id == Answer.response_id)
            .join(Invitation, Invitation.id == Response.invitation_id))


# --- Response rates -----------------------------------------------------------------------------

@dataclass
class StageCounts:
    stage: int
    sent: int | Hidden = 0  # Hidden: fewer people were invited than the minimum
    responded: int | Hidden = 0

    @property
    def rate(self) -> float | Hidden | None:
        if is_hidden(self.sent):
            return self.sent
        return self.responded / self.sent if self.sent else None

    @property
    def hidden(self) -> bool:
        return is_hidden(self.sent)

    def withheld(self) -> StageCounts:
        """The same counts with nothing shown (the group is small, or would give one away)."""
        return StageCounts(self.stage, Hidden(), Hidden())

    def checked(self) -> StageCounts:
        """These counts, or none of them when fewer people were invited than the minimum."""
        return self.withheld() if is_small(self.sent) else self


def stage_counts(filters: Filters) -> dict[int, StageCounts]:
    """Count invitations sent and answered at each stage (none shown for a small group)."""
    query = _counted(select(Invitation.stage, func.count(Invitation.id),
                            func.count(Invitation.submitted_at)).select_from(Invitation), filters)
    counts = {stage: StageCounts(stage) for stage in STAGES}
    for stage, sent, responded in db.session.execute(query.group_by(Invitation.stage)):
        counts[stage] = StageCounts(stage, sent, responded).checked()
    return counts


def _suppress_series(rows: list, counts_of) -> None:
    """Hide each stage's small counts in a breakdown (months, courses) whose total is shown.

    `counts_of(row)` is the row's {stage: StageCounts}; a small cell, and the smallest others until
    the hidden ones hold the minimum, are withheld, so none is found by subtracting the rest from
    the total on the same page."""
    for stage in STAGES:
        cells = [counts_of(row)[stage] for row in rows]
        for index in hidden_cells([c.sent for c in cells]):
            counts_of(rows[index])[stage] = cells[index].withheld()


def _month(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


@dataclass
class MonthCounts:
    month: str  # "2027-03"
    counts: dict[int, StageCounts] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return datetime.strptime(self.month, "%Y-%m").strftime("%b %Y")


def counts_by_month(filters: Filters) -> list[MonthCounts]:
    """Count invitations sent and answered per month they were sent, per stage."""
    month = _month(Invitation.sent_at).label("month")
    query = _counted(select(month, Invitation.stage, func.count(Invitation.id),
                            func.count(Invitation.submitted_at)).select_from(Invitation), filters)
    months: dict[str, MonthCounts] = {}
    for label, stage, sent, responded in db.session.execute(
            query.group_by(month, Invitation.stage).order_by(month)):
        entry = months.setdefault(label, MonthCounts(label, {s: StageCounts(s) for s in STAGES}))
        entry.counts[stage] = StageCounts(stage, sent, responded)
    result = list(months.values())
    _suppress_series(result, lambda m: m.counts)
    return result


# --- Ratings ------------------------------------------------------------------------------------

@dataclass
class QuestionInfo:
    stage: int
    key: str
    text: str
    kind: str
    low_label: str = ""
    high_label: str = ""
    position: int = 0
    course_id: int | None = None
    options: dict[str, str] = field(default_factory=dict)


def question_catalogue() -> dict[tuple[int, int | None, str], QuestionInfo]:
    """The newest wording of every measure, by (stage, course or None, key)."""
    catalogue: dict[tuple[int, int | None, str], QuestionInfo] = {}
    rows = db.session.execute(
        select(Question.id, Question.stage, Question.course_id, Question.key, Question.text,
               Question.kind, Question.low_label, Question.high_label, Question.position,
               QuestionSet.published_at)
        .outerjoin(QuestionSet, QuestionSet.id == Question.question_set_id)
        .order_by(QuestionSet.version.nulls_first(), Question.id)
    ).all()
    ids = {}
    for qid, stage, course_id, key, text, kind, low, high, position, published in rows:
        if course_id is None and published is None:
            continue  # a draft's wording is not the one people answered
        catalogue[(stage, course_id, key)] = QuestionInfo(
            stage, key, text, kind, low, high, position + (1000 if course_id else 0), course_id)
        ids[qid] = (stage, course_id, key)
    for qid, value, label in db.session.execute(
            select(QuestionOption.question_id, QuestionOption.value, QuestionOption.label)
            .where(QuestionOption.question_id.in_(list(ids))).order_by(QuestionOption.position)):
        catalogue[ids[qid]].options[value] = label
    for info in catalogue.values():
        if info.kind == YES_NO_NOT_YET:
            info.options = dict(YES_NO_NOT_YET_OPTIONS)
    return catalogue


@dataclass
class Distribution:
    info: QuestionInfo
    counts: dict[int, int]  # empty when withheld
    withheld: Hidden | None = None  # fewer answers than the minimum

    @property
    def total(self) -> int | Hidden:
        return self.withheld or sum(self.counts.values())

    @property
    def mean(self) -> float | Hidden | None:
        if self.withheld:
            return self.withheld
        return sum(v * n for v, n in self.counts.items()) / self.total if self.total else None

    def count(self, value: int) -> int | Hidden:
        return self.withheld or self.counts.get(value, 0)

    def checked(self) -> Distribution:
        """This distribution, or none of its figures when fewer answers than the minimum."""
        if is_small(sum(self.counts.values())):
            return Distribution(self.info, {}, Hidden())
        return self


def rating_distributions(filters: Filters,
                         catalogue: dict | None = None) -> list[Distribution]:
    """Count each rating (1 to 5) given to each scale question, question by question."""
    catalogue = catalogue if catalogue is not None else question_catalogue()
    query = _scoped(_answers_query(Question.stage, Question.course_id, Question.key,
                                   Answer.value_int, func.count(Answer.id)), filters)
    query = query.where(Question.kind == SCALE).group_by(
        Question.stage, Question.course_id, Question.key, Answer.value_int)
    found: dict[tuple, dict[int, int]] = {}
    for stage, course_id, key, value, count in db.session.execute(query):
        found.setdefault((stage, course_id, key), {v: 0 for v in SCALE_VALUES})[value] = count
    distributions = [
        Distribution(catalogue.get(ident) or QuestionInfo(ident[0], ident[2], ident[2], SCALE,
                                                          course_id=ident[1]), counts).checked()
        for ident, counts in found.items()
    ]
    return sorted(distributions, key=lambda d: (d.info.stage, d.info.position, d.info.key))


@dataclass
class MeasureRow:
    label: str
    before: float | Hidden | None
    after: float | Hidden | None
    later: float | Hidden | None
    counts: tuple[int | Hidden, int | Hidden, int | Hidden]
    later_asked: bool = True  # stage 2 asks about confidence only


def measure_means(distributions: list[Distribution]) -> list[MeasureRow]:
    """Mean knowledge and confidence before, after and at stage 2."""
    by_key = {(d.info.stage, d.info.key): d for d in distributions if d.info.course_id is None}

    def mean(stage, key):
        d = by_key.get((stage, key)) if key else None
        return (d.mean, d.total) if d else (None, 0)

    rows = []
    for label, before_key, after_key, later_key in MEASURES:
        (before, nb), (after, na), (later, nl) = (
            mean(STAGE_ONE, before_key), mean(STAGE_ONE, after_key), mean(STAGE_TWO, later_key))
        rows.append(MeasureRow(label, before, after, later, (nb, na, nl), later_key is not None))
    return rows


@dataclass
class ConfidenceShift:
    people: int | Hidden = 0  # Hidden: fewer people answered both than the minimum
    rose: int | Hidden = 0
    same: int | Hidden = 0
    fell: int | Hidden = 0
    mean_before: float | Hidden | None = None
    mean_now: float | Hidden | None = None

    @property
    def hidden(self) -> bool:
        return is_hidden(self.people)

    @property
    def rose_share(self) -> float | Hidden | None:
        if self.hidden:
            return self.people
        return self.rose / self.people if self.people else None


def confidence_shift(filters: Filters) -> ConfidenceShift:
    """Compare, person by person, confidence before the course with confidence at stage 2."""
    i1, r1, a1, q1 = (aliased(Invitation), aliased(Response), aliased(Answer), aliased(Question))
    i2, r2, a2, q2 = (aliased(Invitation), aliased(Response), aliased(Answer), aliased(Question))
    query = (
        select(
            func.count(a1.id),
            func.sum(case((a2.value_int > a1.value_int, 1), else_=0)),
            func.sum(case((a2.value_int == a1.value_int, 1), else_=0)),
            func.sum(case((a2.value_int < a1.value_int, 1), else_=0)),
            func.avg(a1.value_int), func.avg(a2.value_int),
        )
        .select_from(i1)
        .join(r1, r1.invitation_id == i1.id)
        .join(a1, a1.response_id == r1.id)
        .join(q1, and_(q1.id == a1.question_id, q1.key == "confidence_before",
                       q1.course_id.is_(None)))
        .join(i2, and_(i2.booking_id == i1.booking_id, i2.stage == STAGE_TWO))
        .join(r2, r2.invitation_id == i2.id)
        .join(a2, a2.response_id == r2.id)
        .join(q2, and_(q2.id == a2.question_id, q2.key == "confidence_now", q2.course_id.is_(None)))
        .where(i1.stage == STAGE_ONE)
    )
    people, rose, same, fell, before, now = db.session.execute(_counted(query, filters, i1)).one()
    if is_small(people or 0):
        hidden = Hidden()
        return ConfidenceShift(hidden, hidden, hidden, hidden, hidden, hidden)
    return ConfidenceShift(
        people or 0, int(rose or 0), int(same or 0), int(fell or 0),
        float(before) if before is not None else None, float(now) if now is not None else None,
    )


# --- Applying the learning ----------------------------------------------------------------------

@dataclass
class ChoiceFigure:
    info: QuestionInfo
    respondents: int | Hidden  # stage-2 responses whose version asked the question
    counts: dict[str, int]  # option value -> people who chose it

    @property
    def hidden(self) -> bool:
        return is_hidden(self.respondents)

    def share(self, value: str) -> float | Hidden | None:
        if self.hidden:
            return self.respondents
        return self.counts.get(value, 0) / self.respondents if self.respondents else None

    def rows(self) -> list[tuple[str, int | Hidden, float | Hidden | None]]:
        if self.hidden:
            values = list(self.info.options)
            return [(self.info.options[v], self.respondents, self.respondents) for v in values]
        values = list(self.info.options) + [v for v in self.counts if v not in self.info.options]
        return [(self.info.options.get(v, v), self.counts.get(v, 0), self.share(v)) for v in values]


def choice_figures(filters: Filters, catalogue: dict | None = None) -> dict[str, ChoiceFigure]:
    """Share of stage-2 respondents who applied the learning, and each area changed and barrier."""
    catalogue = catalogue if catalogue is not None else question_catalogue()
    asked = _scoped(
        select(Question.key, func.count(func.distinct(Response.id))).select_from(Response)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Question, Question.question_set_id == Response.question_set_id), filters)
    asked = asked.where(Question.key.in_(CHOICE_MEASURES), Question.stage == STAGE_TWO).group_by(Question.key)
    respondents = dict(db.session.execute(asked).all())
    chosen = _scoped(_answers_query(Question.key, Answer.value_text,
                                    func.count(func.distinct(Answer.response_id))), filters)
    chosen = chosen.where(Question.key.in_(CHOICE_MEASURES), Question.stage == STAGE_TWO,
                          Question.course_id.is_(None)).group_by(Question.key, Answer.value_text)
    counts: dict[str, dict[str, int]] = {}
    for key, value, count in db.session.execute(chosen):
        counts.setdefault(key, {})[value] = count
    figures = {}
    for key in CHOICE_MEASURES:
        info = catalogue.get((STAGE_TWO, None, key))
        if info is None:
            continue
        asked_of = respondents.get(key, 0)
        if is_small(asked_of):
            figures[key] = ChoiceFigure(info, Hidden(), {})
        else:
            figures[key] = ChoiceFigure(info, asked_of, counts.get(key, {}))
    return figures


# --- Per course ---------------------------------------------------------------------------------

@dataclass
class CourseRow:
    course_id: int
    title: str
    counts: dict[int, StageCounts] = field(default_factory=dict)
    means: dict[str, float | Hidden] = field(default_factory=dict)  # Hidden: too few answers


def per_course(filters: Filters) -> list[CourseRow]:
    """Response rates and mean confidence before, after and later, course by course."""
    rows: dict[int, CourseRow] = {}
    counted = _scoped(select(Course.id, Course.title, Invitation.stage, func.count(Invitation.id),
                             func.count(Invitation.submitted_at)).select_from(Invitation), filters)
    for course_id, title, stage, sent, responded in db.session.execute(
            counted.group_by(Course.id, Course.title, Invitation.stage)):
        row = rows.setdefault(course_id, CourseRow(course_id, title, {s: StageCounts(s) for s in STAGES}))
        row.counts[stage] = StageCounts(stage, sent, responded)
    keys = ("confidence_before", "confidence_after", "confidence_now")
    means = _scoped(_answers_query(Course.id, Question.key, func.avg(Answer.value_int),
                                   func.count(Answer.value_int)), filters)
    means = means.where(Question.key.in_(keys), Question.course_id.is_(None)).group_by(Course.id, Question.key)
    answered: dict[str, list[tuple[int, int]]] = {}
    for course_id, key, value, answers in db.session.execute(means):
        if course_id in rows and value is not None:
            rows[course_id].means[key] = float(value)
            answered.setdefault(key, []).append((course_id, answers))
    # A small course's mean is hidden, and (as the page shows the mean of all of them with its
    # answers) so are the next smallest until the hidden ones hold the minimum of answers.
    for key, cells in answered.items():
        for index in hidden_cells([n for _, n in cells]):
            rows[cells[index][0]].means[key] = Hidden()
    result = sorted(rows.values(), key=lambda r: r.title)
    _suppress_series(result, lambda r: r.counts)
    return result


# --- Written answers and the anonymised export -------------------------------------------------

@dataclass
class ResponseGroups:
    """What may be shown beside each answer so that no one is placed in a group that is too small.

    Responses at one stage are nested: course, then session, then the sector of the person's
    agency. At each level the small groups lose that level (a session of 3 keeps its course but
    not its date), and, as with any table whose total is known, so do the next smallest groups
    beside them until those losing it hold at least the minimum: five nurses shown as "Health"
    beside one answer without a sector would name the lone officer's sector by elimination.
    A stage with fewer responses in the selection than the minimum shows nothing at all. What
    was not counted (a line manager's comment on a session nobody answered) is not shown.
    """

    withheld: set[int] = field(default_factory=set)  # stages with 1 to minimum - 1 responses
    shown: set[int] = field(default_factory=set)  # stages with enough
    courses: set[tuple] = field(default_factory=set)  # (stage, course) that may be shown
    sessions: set[tuple] = field(default_factory=set)  # (stage, course, session)
    sectors: set[tuple] = field(default_factory=set)  # (stage, course, session, sector)

    def placing(self, stage: int, course_id: int, session_id: int, sector_id: int | None, *,
                with_sector: bool = True) -> tuple[bool, bool, bool] | None:
        """What may be shown beside one answer: (course, session, sector), or None for nothing."""
        if stage not in self.shown:
            return None
        course = (stage, course_id) in self.courses
        session = course and (stage, course_id, session_id) in self.sessions
        sector = with_sector and session and (stage, course_id, session_id, sector_id) in self.sectors
        return course, session, sector

    def withheld_stages(self) -> list[int]:
        """Stages at which the whole selection has fewer responses than the minimum."""
        return sorted(self.withheld)


def _hide_small(groups: dict, least: int) -> list:
    """The keys of the groups (key -> responses) that lose a level: small ones and their cover."""
    keys = list(groups)
    return [keys[i] for i in hidden_cells([groups[k] for k in keys], least)]


def response_groups(filters: Filters) -> ResponseGroups:
    """Count the selection's responses by stage, course, session and sector, in one query, and
    decide what may be shown beside each answer."""
    query = _scoped(select(Invitation.stage, Course.id, Invitation.session_id, Agency.sector_id,
                           func.count(Response.id)).select_from(Response)
                    .join(Invitation, Invitation.id == Response.invitation_id), filters)
    tree: dict = {}  # stage -> course -> session -> sector -> responses
    for stage, course_id, session_id, sector_id, n in db.session.execute(
            query.group_by(Invitation.stage, Course.id, Invitation.session_id, Agency.sector_id)):
        tree.setdefault(stage, {}).setdefault(course_id, {}).setdefault(session_id, {})[sector_id] = n
    least = minimum()
    groups = ResponseGroups()

    def size(node) -> int:
        return sum(size(v) for v in node.values()) if isinstance(node, dict) else node

    for stage in STAGES:
        courses = tree.get(stage, {})
        if not courses:
            continue
        if is_small(size(courses), least):
            groups.withheld.add(stage)
            continue
        groups.shown.add(stage)
        dropped = set(_hide_small({c: size(v) for c, v in courses.items()}, least))
        for course_id, sessions in courses.items():
            if course_id in dropped:
                continue
            groups.courses.add((stage, course_id))
            gone = set(_hide_small({s: size(v) for s, v in sessions.items()}, least))
            for session_id, sectors in sessions.items():
                if session_id in gone:
                    continue
                groups.sessions.add((stage, course_id, session_id))
                hidden = set(_hide_small(sectors, least))
                groups.sectors.update((stage, course_id, session_id, sector)
                                      for sector in sectors if sector not in hidden)
    return groups


@dataclass
class WrittenAnswer:
    text: str
    question: str
    stage: int
    course: str  # "" when the course would place the answer in a small group
    session_starts_at: datetime | None  # None when the session would
    submitted_at: datetime | None  # None with the session (the day answered points to it)
    person: str | None  # only for administrators


def _placed(groups: ResponseGroups | None, stage: int, course_id: int, session_id: int,
            course: str, starts: datetime | None, submitted: datetime | None):
    """(course, session start, submitted) as they may be shown beside an answer on the page."""
    if groups is None:  # administrators, who see names, see everything
        return course, starts, submitted
    shows = groups.placing(stage, course_id, session_id, None, with_sector=False)
    if shows is None:
        return "", None, None
    return (course if shows[0] else ""), (starts if shows[1] else None), (submitted if shows[1] else None)


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def written_answers(filters: Filters, *, with_names: bool, page: int = 1,
                    per_page: int = 50, groups: ResponseGroups | None = None) -> Page:
    """Free-text answers with their course and date, newest first (names for administrators).

    Without names, pass the selection's `groups`: answers at a stage with fewer responses than
    the minimum are left out, and the others lose the course or session that would place them in
    a smaller group."""
    stages = [s for s in STAGES if groups is None or s in groups.shown]
    base = _scoped(_answers_query(Answer.id), filters).where(Question.kind == TEXT,
                                                              Question.stage.in_(stages))
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    query = _scoped(_answers_query(
        Answer.value_text, Question.text, Question.stage, Course.id, Invitation.session_id,
        Course.title, Session.starts_at, Response.submitted_at, User.name,
    ).join(User, User.id == Invitation.user_id), filters).where(Question.kind == TEXT,
                                                                  Question.stage.in_(stages))
    query = query.order_by(Response.submitted_at.desc(), Answer.id).limit(per_page).offset(
        (page - 1) * per_page)
    items = [WrittenAnswer(text, question, stage,
                           *_placed(groups, stage, course_id, session_id, course, starts, submitted),
                           name if with_names else None)
             for text, question, stage, course_id, session_id, course, starts, submitted, name
             in db.session.execute(query)]
    return Page(items, page, per_page, total)


def manager_comments(filters: Filters, *, with_names: bool, limit: int = 200,
                     groups: ResponseGroups | None = None) -> list[WrittenAnswer]:
    """Line managers' comments with their course and date, newest first (placed as answers are)."""
    if groups is not None and STAGE_TWO not in groups.shown:
        return []
    query = _scoped(
        select(ManagerComment.comment, Course.id, Invitation.session_id, Course.title,
               Session.starts_at, ManagerComment.submitted_at, User.name).select_from(ManagerComment)
        .join(Invitation, Invitation.id == ManagerComment.invitation_id)
        .join(User, User.id == Invitation.user_id), filters)
    query = query.order_by(ManagerComment.submitted_at.desc()).limit(limit)
    return [WrittenAnswer(comment, "Line manager’s comment", STAGE_TWO,
                          *_placed(groups, STAGE_TWO, course_id, session_id, course, starts, submitted),
                          name if with_names else None)
            for comment, course_id, session_id, course, starts, submitted, name
            in db.session.execute(query)]


ANSWER_COLUMNS = ["response", "stage", "question set version", "course code", "course",
                  "session date", "sector", "level", "question key", "question", "answer"]


def anonymised_answer_rows(filters: Filters, groups: ResponseGroups | None = None) -> Iterator[list]:
    """Every answer, one row each, without names, e-mail addresses or a small group (for the CSV).

    Answers at a stage with fewer responses in the selection than the minimum are left out; the
    others lose the sector, the session date or the course (and its level) until what is left is
    shared by at least the minimum of responses at that stage (ResponseGroups.placing)."""
    catalogue = question_catalogue()
    groups = groups or response_groups(filters)
    stages = [s for s in STAGES if s in groups.shown]
    query = _scoped(_answers_query(
        Response.id, Question.stage, QuestionSet.version, Course.code, Course.title,
        Session.starts_at, Sector.name, Level.name, Question.key, Question.text, Question.kind,
        Question.course_id, Answer.value_int, Answer.value_text, Course.id, Invitation.session_id,
        Agency.sector_id,
    ), filters).where(Question.stage.in_(stages))
    query = (query.outerjoin(QuestionSet, QuestionSet.id == Response.question_set_id)
             .outerjoin(Sector, Sector.id == Agency.sector_id)
             .outerjoin(Level, Level.id == Course.level_id)
             .order_by(Response.id, Answer.id))
    for (response_id, stage, version, code, title, starts, sector, level, key, text, kind,
         course_id, value_int, value_text, of_course, session_id, sector_id) in db.session.execute(
            query.execution_options(yield_per=500)):
        shows_course, shows_session, shows_sector = groups.placing(stage, of_course, session_id, sector_id)
        if not shows_course:
            code = title = level = ""
        if not shows_session:
            starts = None
        if not shows_sector:
            sector = ""
        if kind == SCALE:
            answer = value_int
        elif kind in (YES_NO_NOT_YET, CHOOSE_ONE, CHOOSE_MANY):
            info = catalogue.get((stage, course_id, key))
            answer = info.options.get(value_text, value_text) if info else value_text
        else:
            answer = value_text
        yield [response_id, stage, version or "", code, title,
               to_london(starts).date().isoformat() if starts else "", sector or "", level or "", key, text, answer]


def _percent(share):
    if share is None or is_hidden(share):
        return share if share is not None else ""
    return Percent(share, 1)


def _rounded(mean):
    if mean is None or is_hidden(mean):
        return mean if mean is not None else ""
    return round(mean, 2)


def figure_rows(filters: Filters) -> list[list]:
    """The review page's figures as rows (section, measure, stage, value, count) for CSV or XLSX.

    Shares are Percent values: a number of percent in the CSV, a percentage cell in the XLSX; a
    figure withheld for a small group reads "fewer than 5".
    """
    catalogue = question_catalogue()
    rows: list[list] = []
    for stage, counts in stage_counts(filters).items():
        rows.append(["Response rate", "Invitations sent", stage, counts.sent, ""])
        rows.append(["Response rate", "Responses", stage, counts.responded, ""])
        rows.append(["Response rate", "Response rate (%)", stage, _percent(counts.rate), ""])
    distributions = rating_distributions(filters, catalogue)
    for row in measure_means(distributions):
        for when, value, count in zip(("before", "after", "at stage 2"),
                                      (row.before, row.after, row.later), row.counts):
            rows.append(["Mean rating", f"{row.label} {when}", 1 if when != "at stage 2" else 2,
                         _rounded(value), count])
    shift = confidence_shift(filters)
    rows.append(["Confidence shift", "People with both answers", 2, shift.people, ""])
    for label, value in (("Rose", shift.rose), ("Stayed the same", shift.same), ("Fell", shift.fell)):
        rows.append(["Confidence shift", label, 2, value, ""])
    rows.append(["Confidence shift", "Share whose confidence rose (%)", 2,
                 _percent(shift.rose_share), ""])
    for d in distributions:
        for value in SCALE_VALUES:
            rows.append(["Rating distribution", f"{d.info.text} [{d.info.key}] = {value}",
                         d.info.stage, d.count(value), d.total])
    for key, figure in choice_figures(filters, catalogue).items():
        for label, count, share in figure.rows():
            rows.append([figure.info.text, label, STAGE_TWO, _percent(share), count])
    return rows


def headline_figures(starts_on: date, ends_on: date) -> list[tuple[str, str]]:
    """The evaluation's headline figures for a period, for the annual report's tables."""
    filters = Filters(date_from=starts_on, date_to=ends_on)
    counts = stage_counts(filters)
    if not any(c.sent for c in counts.values()):
        return []

    def rate(c: StageCounts) -> str:
        if c.hidden:
            return f"{c.sent} sent"
        return f"{c.responded} of {c.sent} ({c.rate:.0%})" if c.sent else "none sent"

    shift = confidence_shift(filters)
    figures = [
        ("First evaluations answered (after the course)", rate(counts[STAGE_ONE])),
        ("Second evaluations answered (months later)", rate(counts[STAGE_TWO])),
    ]
    if shift.hidden:
        figures.append(("People whose confidence rose by the second evaluation",
                        f"not shown: {shift.people} people answered both"))
    elif shift.people:
        figures.append(("People whose confidence rose by the second evaluation",
                        f"{shift.rose} of {shift.people} ({shift.rose_share:.0%})"))
        figures.append(("Mean confidence (1 to 5): before the course, then months later",
                        f"{shift.mean_before:.1f}, then {shift.mean_now:.1f}"))
    return figures


@dataclass
class Summary:
    """The figures of the evaluation summary page for one group of answers (the reviewers' page and a
    trainer's page for their own session draw the same figures, with the same small-number rule)."""

    counts: dict[int, StageCounts]
    distributions: list[Distribution]
    means: list[MeasureRow]
    shift: ConfidenceShift
    months: list[MonthCounts]
    choices: dict[str, ChoiceFigure]


def summary(filters: Filters) -> Summary:
    catalogue = question_catalogue()
    distributions = rating_distributions(filters, catalogue)
    return Summary(counts=stage_counts(filters), distributions=distributions,
                   means=measure_means(distributions), shift=confidence_shift(filters),
                   months=counts_by_month(filters), choices=choice_figures(filters, catalogue))
