"""The one source of "now", so tests can move time.

Datetimes are stored as naive UTC; pages show them in Europe/London.
"""
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
