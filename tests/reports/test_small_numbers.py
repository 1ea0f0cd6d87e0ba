"""The board's reports beyond the L&D team: no count of fewer than SMALL_GROUP_MINIMUM (5) people.

The reports' hand-worked data set, with five more people from the hospital trust at a Neglect
session: attendees per event are Level 3 3, Serious Case Review 2, Neglect 5 (10 in all); by sector
Police 3, Health 7.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest

from app.bookings.models import ATTENDED
from app.extensions import db
from app.filters import Period, Viewer
from app.reports import figures, published
from app.small_numbers import Hidden
from tests.reports.conftest import YEAR_END, YEAR_START

YEAR = {"start": "2026-04-01", "end": "2027-03-31"}
HIDDEN = "fewer than 5"


@pytest.fixture
def board(dataset, make_course, make_session, make_booking, make_attendee):
    neglect = make_course("Neglect", "NEG")
    session = make_session(neglect, datetime(2026, 9, 1, 8, 30), capacity=10)
    for n in range(5):
        make_booking(session, make_attendee(name=f"Nurse {n}", agency=dataset.trust), outcome=ATTENDED)
    db.session.commit()
    return dataset


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _table(rows: list[list[str]], first_cell: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the table whose header row starts with `first_cell`."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == first_cell)
    body = []
    for row in rows[start + 1:]:
        if not row or not any(row):
            break
        body.append(row)
    return rows[start], body


def _no_small_count(header: list[str], body: list[list[str]], columns: list[str]) -> None:
    for name in columns:
        index = header.index(name)
        for row in body:
            value = row[index]
            assert value == HIDDEN or value == "" or float(value) == 0 or float(value) >= 5, (name, row)


def test_the_annual_report_for_a_reviewer_withholds_small_groups_and_those_beside_them(
        board, make_user, login_as):
    client = login_as(make_user(roles=("reviewer",)))
    page = re.sub(r"\s+", " ", client.get("/reports/annual", query_string=YEAR).get_data(as_text=True))
    assert 'id="small-groups"' in page and 'id="exact-figures"' not in page
    events = page[page.index("Attendees per event"):page.index("Attendance by sector")]
    assert re.search(r"Safeguarding Level 3</th> <td[^>]*>fewer than 5</td>", events)
    # Serious Case Review (2) is small; Level 3 (3) is small; together they hold 5, so Neglect shows.
    assert re.search(r"Serious Case Review workshop</th> <td[^>]*>fewer than 5</td>", events)
    assert re.search(r"Neglect</th> <td[^>]*><a [^>]*><span aria-hidden=\"true\">5</span>", events)
    sectors = page[page.index("Attendance by sector"):]
    # Police (3) is small, and Health (7) would be the total (10) less it.
    assert re.search(r"Police</th> <td[^>]*>fewer than 5</td> <td[^>]*>fewer than 5</td>", sectors)
    assert re.search(r"Health - acute</th> <td[^>]*>fewer than 5</td>", sectors)
    assert "70%" not in sectors and "30%" not in sectors
    rows = _csv(client.get("/reports/annual.csv", query_string=YEAR))
    header, body = _table(rows, "Name of event")
    assert ["Safeguarding Level 3", HIDDEN] in body and ["Neglect", "5"] in body
    assert ["Total attendees", "10"] in body
    header, body = _table(rows, "Sector")
    assert {tuple(r) for r in body} == {("Police", HIDDEN), ("Health - acute", HIDDEN)}


def test_administrators_see_exact_figures_told_not_to_publish_them(board, make_user, login_as):
    client = login_as(make_user(roles=("admin",)))
    page = re.sub(r"\s+", " ", client.get("/reports/annual", query_string=YEAR).get_data(as_text=True))
    assert 'id="exact-figures"' in page and "do not publish them" in page
    assert f">{HIDDEN}<" not in page
    assert "30%" in page and "70%" in page
    header, body = _table(_csv(client.get("/reports/annual.csv", query_string=YEAR)), "Sector")
    assert {tuple(r) for r in body} == {("Police", "3"), ("Health - acute", "7")}


@pytest.mark.parametrize("role", ["reviewer", "coordinator"])
def test_no_board_report_or_export_shows_a_count_under_five_beyond_the_l_and_d_team(
        board, make_user, login_as, role):
    client = login_as(make_user(roles=(role,), agency=board.pol_a))
    for path, extra in (("/reports/attendance", {}), ("/reports/mix", {}), ("/reports/mix", {"only": "all"}),
                        ("/reports/activity", {}), ("/reports/annual", {})):
        response = client.get(path, query_string=dict(YEAR, **extra))
        assert response.status_code == 200, path
    activity = _csv(client.get("/reports/activity.csv", query_string=YEAR))
    header, body = _table(activity, "Agency")
    _no_small_count(header, body, ["Bookings", "Attendances", "Cancellations", "Late cancellations",
                                   "No-shows", "Walk-ins"])
    assert any(HIDDEN in row for row in body)
    mix = _csv(client.get("/reports/mix.csv", query_string=YEAR))
    header, body = _table(mix, "Date")
    _no_small_count(header, body, ["Taking part"])
    for row in body:
        for count in re.findall(r" (\d+)(?:;|$)", row[header.index("Sectors")]):
            assert int(count) >= 5, row
    header, totals = _table(mix, "Sector")
    _no_small_count(header, totals, ["Places taken"])
    need = _csv(client.get("/reports/attendance.csv", query_string=dict(YEAR, tna=board.tna.id)))
    header, body = _table(need, "Sector")
    _no_small_count(header, body, ["Booked", "Attended", "Refreshers due"])
    assert any(HIDDEN in row for row in body)


def test_activity_charges_go_with_the_no_shows_they_are_for(board):
    report = figures.activity_report(Period(YEAR_START, YEAR_END), Viewer(None))
    shown = published.activity(report)
    for exact, row in zip(report.rows, shown.rows):
        if 0 < exact.late_cancellations + exact.no_shows < 5:
            assert row.charges_pence == HIDDEN
    assert shown.total("bookings") == report.total("bookings")  # 15 bookings: shown
    assert shown.total("no_shows") == Hidden() and shown.total("charges_pence") == Hidden()
