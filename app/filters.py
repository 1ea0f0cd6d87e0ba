"""How a page narrows what it shows: the period, the filter values and the viewer.

Every page that filters by date, agency, sector, course or level reads its GET form (a FilterForm)
into these, and every query narrows by them the same way. Only models from the left of the chain
(accounts, courses) are used here, so attendance, evaluation and reports can all import it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import abort, request
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from sqlalchemy import false, select, true
from wtforms import SelectField, SubmitField
from wtforms.validators import Optional

from app import clock
from app.accounts.models import ADMIN, REVIEWER, Agency, Sector, User
from app.clock import day_start_utc
from app.courses.models import Course, Level
from app.extensions import db
from app.forms import BaseForm, GovDateField
from app.inputs import query_int

END_BEFORE_START = "The end date must be the same as or after the start date"


# --- The period ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """A run of whole days in UK time."""

    starts_on: date
    ends_on: date

    @property
    def start_utc(self) -> datetime:
        return day_start_utc(self.starts_on)

    @property
    def end_utc(self) -> datetime:
        """The first moment after the period (exclusive), in naive UTC."""
        return day_start_utc(self.ends_on + timedelta(days=1))

    @property
    def label(self) -> str:
        return f"{self.starts_on:%-d %B %Y} to {self.ends_on:%-d %B %Y}"

    @property
    def slug(self) -> str:
        return f"{self.starts_on:%Y-%m-%d}-to-{self.ends_on:%Y-%m-%d}"

    def args(self, **others) -> dict:
        """The period as query-string values the period forms read back, with the other values
        given (empty ones left out)."""
        values = {"start": self.starts_on.isoformat(), "end": self.ends_on.isoformat()}
        values.update({name: value for name, value in others.items() if value not in (None, "")})
        return values


def financial_year(day: date | None = None) -> Period:
    """Return the April-to-March year that contains `day` (today in the UK by default)."""
    return Period(*clock.financial_year(day))


def recent_period() -> Period:
    """The last twelve months and the next three: what a coordinator usually wants to see."""
    today = clock.today_london()
    return Period(clock.add_months(today, -12), clock.add_months(today, 3))


# --- Who sees which agency -----------------------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    """Whose figures a person may see: every agency's, or only the agencies they coordinate."""

    agency_ids: frozenset[int] | None  # None: all

    @classmethod
    def of(cls, user: User, sees_all: Iterable[str] = (ADMIN, REVIEWER)) -> Viewer:
        if user.has_role(*sees_all):
            return cls(None)
        return cls(frozenset(user.coordinated_agency_ids))

    @property
    def sees_all(self) -> bool:
        return self.agency_ids is None

    def may_see_agency(self, agency_id: int | None) -> bool:
        return self.sees_all or (agency_id is not None and agency_id in self.agency_ids)

    def narrow(self, agency_column):
        """The condition keeping rows whose `agency_column` is one of the viewer's agencies."""
        if self.sees_all:
            return true()
        return agency_column.in_(self.agency_ids) if self.agency_ids else false()

    def agencies(self) -> list[Agency]:
        """The agencies the viewer may see, by name."""
        return list(db.session.scalars(select(Agency).where(self.narrow(Agency.id)).order_by(Agency.name)))


# --- The filter values ---------------------------------------------------------------------------

@dataclass
class Filters:
    """What a page is narrowed to (None: any)."""

    course_id: int | None = None
    session_id: int | None = None
    sector_id: int | None = None
    agency_id: int | None = None
    level_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def narrow(self, query, *, course=None, session=None, sector=None, agency=None, level=None,
               starts_at=None):
        """Add a condition on the given column for each value set (a value without a column is not used)."""
        for value, column in ((self.course_id, course), (self.session_id, session),
                              (self.sector_id, sector), (self.agency_id, agency),
                              (self.level_id, level)):
            if value and column is not None:
                query = query.where(column == value)
        if starts_at is not None and self.date_from:
            query = query.where(starts_at >= day_start_utc(self.date_from))
        if starts_at is not None and self.date_to:
            query = query.where(starts_at < day_start_utc(self.date_to + timedelta(days=1)))
        return query


# --- The forms that read them --------------------------------------------------------------------

class FilterForm(BaseForm):
    """A GET form that only narrows what a page shows; its choice lists come from the database."""

    class Meta:
        csrf = False

    def choose_courses(self, field: SelectField, courses: Iterable[Course] | None = None) -> None:
        if courses is None:
            courses = db.session.scalars(select(Course).order_by(Course.title))
        field.choices = [(0, "All courses")] + [(c.id, c.title) for c in courses]

    def choose_sectors(self, field: SelectField) -> None:
        sectors = db.session.scalars(select(Sector).order_by(Sector.position, Sector.name))
        field.choices = [(0, "All sectors")] + [(s.id, s.name) for s in sectors]

    def choose_levels(self, field: SelectField) -> None:
        levels = db.session.scalars(select(Level).order_by(Level.position, Level.name))
        field.choices = [(0, "All levels")] + [(level.id, level.name) for level in levels]

    def chosen(self, field: SelectField) -> int | None:
        """The id chosen in a select, or None for "all" or a wrong value."""
        return field.data if field.data and not field.errors else None


class PeriodFilterForm(FilterForm):
    """Dates (defaulted when missing), a course and, for coordinators' pages, an agency."""

    agency_id = SelectField("Agency", widget=GovSelect(), coerce=int, validators=[Optional()])
    course_id = SelectField("Course", widget=GovSelect(), coerce=int, validators=[Optional()])
    start = GovDateField("From", validators=[Optional()])
    end = GovDateField("To", validators=[Optional()])
    submit = SubmitField("Show", widget=GovSubmitInput())


def read_period_filters(viewer: Viewer, default: Period, courses: Iterable[Course]
                        ) -> tuple[PeriodFilterForm, Agency | None, Period, int | None]:
    """Read the period, course and agency of a PeriodFilterForm; refuse an agency the viewer may not see.

    A coordinator is shown their first agency when none is asked for; an administrator, none.
    """
    form = PeriodFilterForm(request.args)
    visible = viewer.agencies()
    form.agency_id.choices = ([(0, "Choose an agency")] if viewer.sees_all else []) + [
        (a.id, a.name) for a in visible]
    form.choose_courses(form.course_id, courses)
    form.validate()
    requested = query_int("agency_id")
    if requested:
        if not viewer.may_see_agency(requested):
            abort(403)
        agency = db.session.get(Agency, requested) or abort(404)
    elif not viewer.sees_all:
        if not visible:
            abort(403)
        agency = visible[0]
    else:
        agency = None
    if agency is not None:
        form.agency_id.data = agency.id
    return form, agency, read_form_period(form, default), form.chosen(form.course_id)


def read_form_period(form: FilterForm, default: Period) -> Period:
    """The period of a validated form's `start` and `end` dates: `default`'s for a date missing or
    wrong, and `default` with a message beside the end when it is before the start."""
    start = form.start.data if not form.start.errors and form.start.data else default.starts_on
    end = form.end.data if not form.end.errors and form.end.data else default.ends_on
    if end < start:
        form.end.errors = list(form.end.errors) + ["The end date must be on or after the start date"]
        start, end = default.starts_on, default.ends_on
    form.start.data, form.end.data = start, end
    return Period(start, end)
