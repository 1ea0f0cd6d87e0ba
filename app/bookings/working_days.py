"""Working days in England: weekdays that are not bank holidays (the `holidays` package)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from app.clock import london_to_utc, to_london


@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """True for Monday to Friday, unless it is a bank holiday in England."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(day: date, count: int) -> date:
    """The `count`th working day after `day` (before it when `count` is negative)."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_later(moment: datetime, count: int) -> datetime:
    """The same London time of day `count` working days after a naive-UTC moment."""
    local = to_london(moment)
    later = add_working_days(local.date(), count)
    return london_to_utc(datetime.combine(later, local.time().replace(tzinfo=None)))


def cancellation_deadline(starts_at: datetime, notice_days: int) -> date:
    """The last day (UK date) a place can be cancelled without it counting as late."""
    return add_working_days(to_london(starts_at).date(), -notice_days)
