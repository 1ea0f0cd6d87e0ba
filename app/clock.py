"""The one source of "now", so tests can move time.

Datetimes are stored as naive UTC; pages show them in Europe/London.
"""
import calendar
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_frozen: datetime | None = None


def utcnow() -> datetime:
    """Return the current time as naive UTC (or the time a test has set)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None)


def set_now(moment: datetime | None) -> None:
    """Fix the clock at a naive-UTC moment (None lets it run again)."""
    global _frozen
    if moment is not None and moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    _frozen = moment


def to_london(moment: datetime) -> datetime:
    """Convert a naive-UTC datetime to an aware Europe/London one."""
    return moment.replace(tzinfo=timezone.utc).astimezone(LONDON)


def london_to_utc(moment: datetime) -> datetime:
    """Convert a naive Europe/London wall-clock time to naive UTC."""
    return moment.replace(tzinfo=LONDON).astimezone(timezone.utc).replace(tzinfo=None)


def today_london() -> date:
    """Return today's date in the UK."""
    return to_london(utcnow()).date()


def add_months(day: date, months: int) -> date:
    """Move a date by whole months (back if negative), keeping to the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def financial_year(day: date | None = None) -> tuple[date, date]:
    """Return the first and last days of the April-to-March year `day` (today in the UK) is in."""
    day = day or today_london()
    first = day.year if day.month >= 4 else day.year - 1
    return date(first, 4, 1), date(first + 1, 3, 31)
