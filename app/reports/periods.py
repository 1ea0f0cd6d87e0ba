"""Report periods: any run of whole days in UK time, a financial year (April to March) by default."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from app import clock
from app.clock import add_months, london_to_utc


@dataclass(frozen=True)
class Period:
    starts_on: date
    ends_on: date

    @property
    def start_utc(self) -> datetime:
        return london_to_utc(datetime.combine(self.starts_on, time()))

    @property
    def end_utc(self) -> datetime:
        """The first moment after the period (exclusive), in naive UTC."""
        return london_to_utc(datetime.combine(self.ends_on + timedelta(days=1), time()))

    @property
    def label(self) -> str:
        return f"{self.starts_on:%-d %B %Y} to {self.ends_on:%-d %B %Y}"

    @property
    def slug(self) -> str:
        return f"{self.starts_on:%Y-%m-%d}-to-{self.ends_on:%Y-%m-%d}"

    def args(self) -> dict[str, str]:
        """The period as query-string values the period form reads back."""
        return {"start": self.starts_on.isoformat(), "end": self.ends_on.isoformat()}


def financial_year(day: date | None = None) -> Period:
    """Return the April-to-March year that contains `day` (today in the UK by default)."""
    return Period(*clock.financial_year(day))


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
