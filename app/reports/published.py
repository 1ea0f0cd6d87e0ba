"""The reports as published beyond the L&D team: no figure for a group that is too small.

The L&D team (administrators) see exact figures on their own pages, with a note that they are not
to be published. Everyone else who sees a report (reviewers, the L&D sub-group who take these
reports to the partnership board, and coordinators, whose mix and activity pages count other
agencies' people too) sees the same report through `for_publication`: each count of people that
is fewer than SMALL_GROUP_MINIMUM reads "fewer than 5" (app/small_numbers.py), and in every
breakdown shown beside its total the next smallest counts are withheld too, so none can be worked
out by subtraction. Lists of people (the people behind a figure) are not figures and are not
changed here; a withheld figure simply has no link to them.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.reports.figures import ActivityReport, AnnualReport, MixReport, NeedReport
from app.reports.recommendations import RecommendationReport
from app.small_numbers import Hidden, hidden_cells, is_hidden, shown, suppress

ACTIVITY_COUNTS = ("bookings", "attendances", "cancellations", "late_cancellations", "no_shows",
                   "walk_ins")


def annual(report: AnnualReport) -> AnnualReport:
    """Attendees per event and per sector, and online courses completed, each breakdown suppressed
    against its shown total."""
    events = suppress([n for _, _, n in report.events])
    sectors = suppress([n for _, _, n in report.by_sector])
    online = suppress([n for _, _, n in report.online])
    return replace(
        report,
        events=[(course_id, title, n) for (course_id, title, _), n in zip(report.events, events)],
        by_sector=[(sector_id, name, n) for (sector_id, name, _), n in zip(report.by_sector, sectors)],
        online=[(course_id, title, n) for (course_id, title, _), n in zip(report.online, online)],
        people=shown(report.people), shown_total=shown(report.total),
        shown_online_total=shown(report.online_total),
        single_agency_attendances=shown(report.single_agency_attendances))


def activity(report: ActivityReport) -> ActivityReport:
    """Each agency's counts, column by column against the column's total; a charge with the
    no-shows and late cancellations it is for."""
    rows = [replace(r) for r in report.rows]
    totals: dict[str, Any] = {}
    for name in ACTIVITY_COUNTS:
        for index in hidden_cells([getattr(r, name) for r in report.rows]):
            setattr(rows[index], name, Hidden())
        totals[name] = shown(report.total(name))
    charged = [r.late_cancellations + r.no_shows for r in report.rows]
    for index in hidden_cells(charged):
        rows[index].charges_pence = Hidden()
    totals["charges_pence"] = shown(report.total("charges_pence"), size=sum(charged))
    return replace(report, rows=rows, totals=totals)


def mix(report: MixReport) -> MixReport:
    """The sectors at each session against the people taking part, and the sector totals."""
    sessions = []
    for session in report.sessions:
        counts = suppress([n for _, _, n in session.sectors])
        largest = counts[0] if counts else None
        sessions.append(replace(session, shown={
            "sectors": [(sid, name, n) for (sid, name, _), n in zip(session.sectors, counts)],
            "taking_part": shown(session.taking_part),
            "largest_share": largest if is_hidden(largest) else session.largest_share,
        }))
    totals = suppress([n for _, _, n in report.sector_totals])
    shares = [n if is_hidden(n) else share for n, share in zip(totals, report.shares())]
    return replace(report, sessions=sessions, sector_shares=shares, shown_places=shown(report.places_taken),
                   sector_totals=[(sid, name, n) for (sid, name, _), n in zip(report.sector_totals, totals)])


def need(report: NeedReport) -> NeedReport:
    """Booked, attended (and so the gap and % met) and refreshers due for each sector and agency;
    the agencies of one course or level are suppressed against each other, as their sector's row
    beside them is about their total; a sector's "% of need met" goes with any withheld row."""
    blocks = []
    for block in report.sectors:
        rows = [replace(r) for r in block.rows]
        by_training: dict[tuple, list[int]] = {}
        for i, row in enumerate(block.rows):
            if row.agency_id is not None:
                by_training.setdefault((row.course_id, row.level_id), []).append(i)
        for name in ("booked", "attended", "refreshers", "single_agency"):
            hide = {i for i, row in enumerate(block.rows) if is_hidden(shown(getattr(row, name)))}
            for indexes in by_training.values():
                hide.update(indexes[j] for j in hidden_cells([getattr(block.rows[i], name) for i in indexes]))
            for i in hide:
                setattr(rows[i], name, Hidden())
        published = replace(block, rows=rows)
        if any(is_hidden(r.trained) for r in published.headline):
            published.withheld_met = Hidden()
        blocks.append(published)
    return replace(report, sectors=blocks)


def recommendations(report: RecommendationReport) -> RecommendationReport:
    """The people who attended each recommendation's training, and their sectors against that
    total; the evaluation's figures are withheld for small groups already, for everyone."""
    rows = []
    for row in report.rows:
        sectors = suppress([n for _, _, n in row.by_sector])
        rows.append(replace(row, people=shown(row.people), by_sector=[
            (sector_id, name, n) for (sector_id, name, _), n in zip(row.by_sector, sectors)]))
    return replace(report, rows=rows)


def for_publication(built: Any) -> Any:
    """A report's figures as they may be shown beyond the L&D team."""
    if isinstance(built, AnnualReport):
        return annual(built)
    if isinstance(built, ActivityReport):
        return activity(built)
    if isinstance(built, MixReport):
        return mix(built)
    if isinstance(built, NeedReport):
        return need(built)
    if isinstance(built, RecommendationReport):
        return recommendations(built)
    return built
