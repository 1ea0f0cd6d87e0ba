"""The reports catalogue drives the report pages, their exports, the home page and the tabs."""
import csv
import io
import re

import pytest
from openpyxl import load_workbook
from werkzeug.exceptions import NotFound

from app.accounts.models import ADMIN
from app.filters import Period, Viewer
from app.reports import figures
from app.reports.catalogue import CATALOGUE, LISTED, Query
from tests.reports.conftest import YEAR_END, YEAR_START

YEAR = {"start": "2026-04-01", "end": "2027-03-31"}


@pytest.fixture
def admin(dataset, make_user):
    return make_user(name="Adaeze Admin", roles=(ADMIN,), agency=dataset.trust)


def _expected_tables(app, report, admin, tna):
    """The entry's own tables for the year, as its builder and tables function make them."""
    with app.test_request_context(query_string=YEAR):
        query = Query(Period(YEAR_START, YEAR_END), tna if report.with_tna else None, Viewer.of(admin))
        built = report.build(query)
        return report.export_heading(built, query), report.tables(built)


def test_every_catalogue_entry_answers_with_its_page_and_exports_whose_tables_are_its_own(
        app, dataset, admin, login_as):
    client = login_as(admin)
    assert set(CATALOGUE) == {"attendance", "mix", "activity", "annual", "recommendations", "people"}
    for slug, report in CATALOGUE.items():
        assert client.get(f"/reports/{slug}", query_string=YEAR).status_code == 200, slug
        heading, tables = _expected_tables(app, report, admin, dataset.tna)
        assert tables and all(table.headers for table in tables), slug

        response = client.get(f"/reports/{slug}.csv", query_string=YEAR)
        assert response.status_code == 200, slug
        assert f'filename="{slug}-2026-04-01-to-2027-03-31.csv"' in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        assert rows[0] == [heading], slug
        # Each table: a blank line, its title, then its header row.
        starts = [i for i, row in enumerate(rows) if row == []]
        assert [rows[i + 1] for i in starts] == [[t.title] for t in tables], slug
        assert [rows[i + 2] for i in starts] == [t.headers for t in tables], slug

        response = client.get(f"/reports/{slug}.xlsx", query_string=YEAR)
        assert response.status_code == 200, slug
        book = load_workbook(io.BytesIO(response.data))
        assert [next(sheet.iter_rows(min_row=3, max_row=3, values_only=True)) for sheet in book] == \
            [tuple(t.headers) for t in tables], slug


def test_the_routes_home_page_and_tabs_come_from_the_catalogue(app, dataset, admin, login_as):
    urls = app.url_map.bind("localhost")
    for slug, report in CATALOGUE.items():
        assert urls.match(f"/reports/{slug}") == (f"reports.{slug}", {}), slug
        assert urls.match(f"/reports/{slug}.xlsx") == ("reports.export", {"report": slug, "fmt": "xlsx"}), slug
        assert app.view_functions[f"reports.{slug}"].allowed_roles == frozenset(report.roles), slug
    client = login_as(admin)
    home = client.get("/reports").get_data(as_text=True)
    links = re.findall(r'<h2 class="govuk-heading-m"><a class="govuk-link" href="/reports/(\w+)">([^<]+)</a>', home)
    assert links == [(r.slug, r.title) for r in LISTED]
    with pytest.raises(NotFound):  # only the catalogue's reports have exports
        urls.match("/reports/gaps.csv")
    assert "people" not in [r.slug for r in LISTED]  # reached from the figures, not listed
    for report in LISTED:
        assert report.summary in home, report.slug
    tabs = client.get("/reports/mix", query_string=YEAR).get_data(as_text=True)
    nav = re.search(r'<nav [^>]*aria-label="Reports">(.*?)</nav>', tabs, re.S).group(1)
    assert re.findall(r">([^<>]+)</(?:a|strong)>", nav) == [r.title for r in LISTED]


def test_no_one_without_a_reporting_role_reaches_any_catalogue_entry(dataset, make_user, login_as):
    client = login_as(make_user(name="Lena Learner", agency=dataset.pol_a))
    for slug in CATALOGUE:
        for path in (f"/reports/{slug}", f"/reports/{slug}.csv", f"/reports/{slug}.xlsx"):
            assert client.get(path, query_string=YEAR).status_code == 403, path
