"""The reports catalogue: one entry per report, read by the routes, every export and the home page.

A new report is one entry in CATALOGUE plus one builder in figures.py and its template,
reports/<slug>.html: the page /reports/<slug>, its exports /reports/<slug>.csv and .xlsx, the home
page's link and the tabs all follow from the entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import abort, request
from sqlalchemy import exists, select
from werkzeug.datastructures import MultiDict

from app.accounts.access import ADMIN, COORDINATOR, REVIEWER
from app.accounts.models import Agency, Sector
from app.attendance.queries import SOURCE_LABELS
from app.bookings.models import OUTCOME_LABELS, STATE_LABELS
from app.courses.models import Course, Level, Session
from app.exports import percent
from app.extensions import db
from app.filters import Filters, Period, Viewer
from app.inputs import query_int, query_page
from app.reports import charts, figures
from app.reports.recommendations import RecommendationReport, recommendation_report
from app.reports.published import for_publication
from app.spreadsheets import Table
from app.reports.models import TrainingNeedsAnalysis
from app.small_numbers import is_hidden, minimum
from app.templating import format_datetime

REPORT_ROLES = (ADMIN, REVIEWER, COORDINATOR)
PAGE_SIZE = 50
MEASURE_LABELS = {key: label for key, (label, _) in figures.BOOKING_MEASURES.items()}
MEASURE_LABELS.update({"refresher": "Refresher due", "gap": "Behind the gap",
                       "online": "Online courses completed"})
# Figures that count online courses completed beside the sessions' bookings (figures.taking_training).
WITH_ONLINE = ("attended", "booked")


@dataclass(frozen=True)
class Query:
    """What a report was asked for: the period, the analysis it compares with, who is looking."""

    period: Period | None
    tna: TrainingNeedsAnalysis | None
    viewer: Viewer
    args: MultiDict = field(default_factory=MultiDict)
    exact: bool = False  # the L&D team's own figures; everyone else's go through for_publication

    @property
    def print_layout(self) -> bool:
        return self.args.get("print") == "1"


@dataclass(frozen=True)
class Report:
    """One report: its address, its title, how its figures are built, shown and exported."""

    slug: str  # /reports/<slug>, /reports/<slug>.csv and .xlsx; the endpoint reports.<slug>
    title: str  # the home page's link, the tabs, the exports' heading
    build: Callable[[Query], Any]  # the figures for a period, as the viewer may see them
    tables: Callable[[Any], list[Table]]  # the figures as the exports' tables
    charts: Callable[[Any], dict] = lambda report: {}  # the page's charts, as template values
    page: Callable[[Any, Query], dict] = lambda report, query: {}  # other values only the page needs
    summary: str = ""  # the home page's paragraph; without one a report is reached from others' figures
    roles: tuple[str, ...] = REPORT_ROLES  # who may see the page and its exports
    with_tna: bool = False  # compares with a training needs analysis (?tna=, the current one by default)
    own_view: bool = False  # the page is its own view in views.py; the catalogue still drives its exports
    heading: Callable[[Any, Query], str] | None = None  # the exports' heading, when not the title's

    @property
    def template(self) -> str:
        return f"reports/{self.slug}.html"

    def figures_for(self, query: Query) -> Any:
        """The figures as the viewer may see them: exact for the L&D team, without small groups
        for everyone else (reports/published.py)."""
        built = self.build(query)
        return built if query.exact else for_publication(built)

    def ready(self, query: Query) -> bool:
        """Whether the query has what the builder needs: a period, and an analysis if it compares."""
        return query.period is not None and (query.tna is not None or not self.with_tna)

    def export_heading(self, report: Any, query: Query) -> str:
        if self.heading is not None:
            return self.heading(report, query)
        compared = f" ({query.tna.name})" if self.with_tna else ""
        return f"{self.title}{compared}, {query.period.label}"


# --- Attendance against need ---------------------------------------------------------------------

def _need_tables(report: figures.NeedReport) -> list[Table]:
    table = Table("Attendance against need", [
        "Sector", "Agency", "Course or level", "Staff in scope", "Needed", "Booked", "Attended",
        "Trained by their agency", "Gap", "% met", "Refreshers due"])
    for block in report.sectors:
        for row in block.rows:
            table.rows.append([row.sector, row.agency or "Whole sector", row.training, row.staff_in_scope,
                               row.needed, row.booked, row.attended, row.single_agency, row.gap,
                               row.trained if is_hidden(row.trained) else percent(row.trained, row.needed),
                               row.refreshers])
    return [table]


def _need_charts(report: figures.NeedReport) -> dict:
    chart_list = []
    for key, label in report.trainings:
        # A withheld figure has no bar (its length would tell it); the table under the chart says so.
        bars = [charts.Bar(r.agency or r.sector, r.attended, r.booked, r.needed)
                for r in report.chart_rows(key) if not (is_hidden(r.attended) or is_hidden(r.booked))]
        chart_list.append((label, charts.need_chart(f"{label}: attended and booked against need", bars)))
    return {"charts": chart_list}


# --- Multi-agency mix ----------------------------------------------------------------------------

def _mix_tables(report: figures.MixReport) -> list[Table]:
    sessions = Table("Sessions", ["Date", "Course", "Places", "Taking part", "Sectors present",
                                  "Largest sector", "Largest share %", "One sector over half",
                                  "Sectors"])
    for s in report.sessions:
        largest, share = s.largest, s.largest_share_figure
        sessions.rows.append([
            format_datetime(s.starts_at), s.title, s.capacity, s.taking_part_figure, len(s.sectors),
            largest[1] if largest else "",
            share if is_hidden(share) else percent(largest[2], s.taking_part) if largest else None,
            "Yes" if s.dominated else "No",
            "; ".join(f"{name} {n}" for _, name, n in s.sector_figures)])
    totals = Table("Sector totals", ["Sector", "Places taken"],
                   [[name, n] for _, name, n in report.sector_totals])
    return [sessions, totals]


def _share_chart(title: str, rows: list[tuple[int, str, int]], total: int | None = None) -> dict:
    """A chart of each sector's share, from a report's (sector id, sector, number) rows.

    Withheld sectors (reports/published.py) have no bar of their own; given the `total`, they
    share one bar, which holds at least the minimum of people."""
    items = [(name, n) for _, name, n in rows if not is_hidden(n)]
    if total is not None and not is_hidden(total) and len(items) < len(rows):
        items.append((f"Sectors of fewer than {minimum()}, together", total - sum(n for _, n in items)))
    return {"chart": charts.share_chart(title, items)}


def _mix_page(report: figures.MixReport | None, query: Query) -> dict:
    """Which sessions the page lists, a page of them at a time (all of them on paper)."""
    only = query.args.get("only", "dominated")
    page = query_page()
    shown, pages = [], 1
    if report:
        listed = report.dominated if only == "dominated" else report.sessions
        if query.print_layout:
            shown = listed
        else:
            pages = max((len(listed) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
            shown = listed[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return {"only": only, "page": page, "pages": pages, "shown": shown}


# --- Activity per agency -------------------------------------------------------------------------

ACTIVITY_COLUMNS = [
    ("bookings", "Bookings"), ("attendances", "Attendances"), ("cancellations", "Cancellations"),
    ("late_cancellations", "Late cancellations"), ("no_shows", "No-shows"), ("walk_ins", "Walk-ins"),
]
ACTIVITY_MEASURES = {"bookings": "bookings", "attendances": "attended", "cancellations": "cancellations",
                     "late_cancellations": "late_cancellations", "no_shows": "no_shows",
                     "walk_ins": "walk_ins"}


def _pounds(pence):
    return pence if is_hidden(pence) else round(pence / 100, 2)


def _activity_tables(report: figures.ActivityReport) -> list[Table]:
    charge_label = "Charges due (£)"
    table = Table("Activity per agency", ["Agency", "Sector"] + [l for _, l in ACTIVITY_COLUMNS] + [charge_label])
    for r in report.rows:
        table.rows.append([r.agency, r.sector] + [getattr(r, k) for k, _ in ACTIVITY_COLUMNS]
                          + [_pounds(r.charges_pence)])
    table.rows.append(["Total", ""] + [report.total(k) for k, _ in ACTIVITY_COLUMNS]
                      + [_pounds(report.total("charges_pence"))])
    return [table]


# --- Annual report tables ------------------------------------------------------------------------

def _annual_tables(report: figures.AnnualReport) -> list[Table]:
    events = Table("Attendees per event", ["Name of event", "Attendees to date"],
                   [[title, n] for _, title, n in report.events])
    events.rows.append(["Total attendees", report.total])
    sectors = Table("Attendance by sector", ["Sector", "Attendees"],
                    [[name, n] for _, name, n in report.by_sector])
    online = Table("Online courses completed", ["Online course", "Completed"],
                   [[title, n] for _, title, n in report.online])
    online.rows.append(["Introductory online (total)", report.online_total])
    summary = Table("Summary", ["Figure", "Value"], [
        ["Attendances (face-to-face)", report.total], ["Different people who attended", report.people],
        ["Online courses completed (introductory online)", report.online_total],
        ["Single-agency training recorded by agencies", report.single_agency_trainings],
        ["Single-agency training attendances", report.single_agency_attendances]])
    tables = [events, sectors, online, summary]
    if report.evaluation:
        tables.append(Table("Evaluation", ["Figure", "Value"], [list(i) for i in report.evaluation]))
    return tables


# --- Learning from reviews ----------------------------------------------------------------------

def _recommendation_tables(report: RecommendationReport) -> list[Table]:
    recommendations = Table("Recommendations and the training that answers them", [
        "Source", "Kind", "Recommendation", "Wording", "Status", "Training that answers it",
        "Sessions in the period", "People who attended", "Second evaluations answered"])
    sectors = Table("People who attended, by sector", ["Source", "Recommendation", "Sector", "People"])
    practice = Table("Practice since: the second evaluation", [
        "Source", "Recommendation", "Question", "Answer", "People", "Share %"])
    for row in report.rows:
        recommendations.rows.append([row.source, row.kind, row.number, row.text, row.status,
                                     "; ".join(row.training), row.sessions, row.people, row.responses])
        sectors.rows += [[row.source, row.number, name, n] for _, name, n in row.by_sector]
        for question in row.practice:
            practice.rows += [[row.source, row.number, question.text, choice.label, choice.people,
                               choice.share if is_hidden(choice.share) or choice.share is None
                               else percent(choice.share, 1)] for choice in question.rows]
    return [recommendations, sectors, practice]


# --- People behind a figure ----------------------------------------------------------------------

@dataclass(frozen=True)
class PeopleSection:
    kind: str  # a booking measure, or "refresher"
    title: str  # on the page
    table_title: str  # in the exports
    rows: Any  # the query for every row; the page reads a page of it at a time


@dataclass(frozen=True)
class PeopleList:
    measure: str
    filters: Filters
    heading: str
    sections: list[PeopleSection]


def filter_args(filters: Filters) -> dict:
    return {"sector": filters.sector_id, "agency": filters.agency_id, "course": filters.course_id,
            "level": filters.level_id, "session": filters.session_id}


def people_request(viewer: Viewer) -> tuple[str, Filters]:
    """The measure and filters asked for: 404 for an unknown measure, 403 for another's agency."""
    measure = request.args.get("measure", "attended")
    if measure not in MEASURE_LABELS:
        abort(404)
    filters = Filters(
        sector_id=query_int("sector"), agency_id=query_int("agency"), course_id=query_int("course"),
        level_id=query_int("level"), session_id=query_int("session"),
    )
    if filters.agency_id and not viewer.may_see_agency(filters.agency_id):
        abort(403)
    return measure, filters


def describe(measure: str, filters: Filters) -> str:
    """The figure a list of people is behind, in words: 404 when a filter names nothing."""
    parts = [MEASURE_LABELS[measure]]
    names = [
        (filters.course_id, Course, Course.title), (filters.level_id, Level, Level.name),
        (filters.sector_id, Sector, Sector.name), (filters.agency_id, Agency, Agency.name),
    ]
    for value, model, column in names:
        if value:
            found = db.session.scalar(select(column).where(model.id == value))
            if found is None:
                abort(404)
            parts.append(f"any {found} course" if model is Level else found)
    if filters.session_id:
        title = db.session.execute(
            select(Course.title, Session.starts_at).join(Session.course)
            .where(Session.id == filters.session_id)).first()
        if title is None:
            abort(404)
            parts.append(f"{title[0]} on {format_datetime(title[1])}")
    return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]


def people_list(query: Query) -> PeopleList:
    """The people behind a figure: for the gap, those not (yet) attended and those due a refresher."""
    measure, filters = people_request(query.viewer)
    heading = describe(measure, filters)
    period, viewer = query.period, query.viewer
    refresher_title = "Refresher due in the period"
    if measure == "gap":
        sections = [
            PeopleSection("not_attended", MEASURE_LABELS["not_attended"], MEASURE_LABELS["not_attended"],
                          figures.booking_rows(period, viewer, "not_attended", filters)),
            PeopleSection("refresher", refresher_title, refresher_title,
                          figures.refresher_rows(period, viewer, filters))]
    elif measure == "refresher":
        sections = [PeopleSection("refresher", MEASURE_LABELS[measure], refresher_title,
                                  figures.refresher_rows(period, viewer, filters))]
    elif measure == "online":
        sections = [PeopleSection("online", MEASURE_LABELS[measure], MEASURE_LABELS[measure],
                                  figures.online_rows(period, viewer, filters))]
    else:
        sections = [PeopleSection(measure, MEASURE_LABELS[measure], MEASURE_LABELS[measure],
                                  figures.booking_rows(period, viewer, measure, filters))]
        online = figures.online_rows(period, viewer, filters)
        # Attendance against need counts online courses completed too: list them where there are any.
        if measure in WITH_ONLINE and db.session.scalar(select(exists(online.subquery()))):
            sections.append(PeopleSection("online", MEASURE_LABELS["online"], MEASURE_LABELS["online"], online))
    return PeopleList(measure, filters, heading, sections)


def _booking_table(title: str, rows) -> Table:
    table = Table(title, ["Name", "E-mail", "Agency when booked", "Sector", "Course", "Session",
                          "Booking", "Attendance", "Walk-in", "Late cancellation"])
    for r in rows:
        table.rows.append([r.name, r.email, r.agency or figures.NOT_RECORDED, r.sector or "", r.title,
                           format_datetime(r.starts_at), STATE_LABELS.get(r.status, r.status),
                           OUTCOME_LABELS.get(r.outcome or "", ""), "Yes" if r.walk_in else "",
                           "Yes" if r.late_cancellation else ""])
    return table


def _refresher_table(title: str, rows) -> Table:
    table = Table(title, ["Name", "E-mail", "Agency now", "Sector", "Course", "Completed", "Refresher due"])
    for r in rows:
        table.rows.append([r.name, r.email, r.agency, r.sector, r.title,
                           r.completed_on.strftime("%-d %B %Y"), figures.due_on(r).strftime("%-d %B %Y")])
    return table


def _online_table(title: str, rows) -> Table:
    table = Table(title, ["Name", "E-mail", "Agency now", "Sector", "Online course", "Completed", "How",
                          "Score"])
    for r in rows:
        table.rows.append([r.name, r.email, r.agency or figures.NOT_RECORDED, r.sector or "", r.title,
                           r.completed_on.strftime("%-d %B %Y"), SOURCE_LABELS.get(r.source, r.source),
                           r.score if r.score is not None else ""])
    return table


def _people_tables(people: PeopleList) -> list[Table]:
    makers = {"refresher": _refresher_table, "online": _online_table}
    return [makers.get(s.kind, _booking_table)(s.table_title, db.session.execute(s.rows))
            for s in people.sections]


# --- The catalogue -------------------------------------------------------------------------------

def _per_period(builder: Callable[[Period, Viewer], Any]) -> Callable[[Query], Any]:
    """A figures.py builder that needs only the period and the viewer, asked with a Query."""
    return lambda query: builder(query.period, query.viewer)


CATALOGUE: dict[str, Report] = {report.slug: report for report in [
    Report(
        "attendance", "Attendance against need", with_tna=True,
        build=lambda q: figures.need_report(q.tna, q.period, q.viewer),
        tables=_need_tables, charts=_need_charts,
        summary="Per sector and agency, for each course or level in the training needs analysis: how "
                "many need it, how many booked and attended, the gap, and whose refresher falls due."),
    Report(
        "mix", "Multi-agency mix", build=_per_period(figures.mix_report),
        tables=_mix_tables, page=_mix_page,
        charts=lambda r: _share_chart("Share of places taken by each sector", r.sector_totals,
                                      r.places_taken),
        summary="The sectors at each session, and the sessions where one sector filled more than half "
                "the places."),
    Report(
        "activity", "Activity per agency", build=_per_period(figures.activity_report),
        tables=_activity_tables,
        page=lambda report, query: {"columns": ACTIVITY_COLUMNS, "measures": ACTIVITY_MEASURES},
        summary="Bookings, attendances, cancellations, late cancellations, no-shows, walk-ins and "
                "charges."),
    Report(
        "annual", "Annual report tables", build=_per_period(figures.annual_report),
        tables=_annual_tables,
        charts=lambda r: _share_chart("Attendance by sector", r.by_sector, r.total),
        summary="Attendees per event, in total and by sector, and online courses completed, ready for "
                "the board’s annual report."),
    Report(
        "recommendations", "Learning from reviews", build=_per_period(recommendation_report),
        tables=_recommendation_tables, roles=(ADMIN, REVIEWER),
        summary="For each recommendation of a serious case review, audit or Section 11 finding: the "
                "training that answers it, who attended it by sector, and what they said months later "
                "about their practice."),
    Report(
        "people", "People behind a figure", build=people_list, tables=_people_tables, own_view=True,
        heading=lambda people, q: f"{people.heading}, {q.period.label}"),
]}
LISTED = [report for report in CATALOGUE.values() if report.summary]
