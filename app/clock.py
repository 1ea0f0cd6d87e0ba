"""The one source of "now", so tests can move time and the demo can move forward.

Datetimes are stored as naive UTC; pages show them in Europe/London.

The demo clock (`flask demo advance --days N`) is an offset kept in a small file. create_app
points this module at the file only when APP_ENV is development; in every other environment the
path is None and the file, even if one exists, is never read.
"""
import calendar
import json
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_frozen: datetime | None = None
_demo_file: Path | None = None
# (when last looked, offset): the file is read at most once a second, so a web server and a job
# runner started before `flask demo advance` follow it within a second.
_demo_cache: tuple[float, timedelta] = (float("-inf"), timedelta(0))
DEMO_CACHE_SECONDS = 1.0


def utcnow() -> datetime:
    """Return the current time as naive UTC (or the time a test has set, or the demo's)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None) + demo_offset()


def use_demo_clock(path: Path | None) -> None:
    """Honour the demo clock offset kept at `path` (development only); None ignores any."""
    global _demo_file, _demo_cache
    _demo_file = Path(path) if path else None
    _demo_cache = (float("-inf"), timedelta(0))


def demo_offset() -> timedelta:
    """Return how far the demo clock runs ahead (nothing unless use_demo_clock chose a file)."""
    global _demo_cache
    if _demo_file is None:
        return timedelta(0)
    looked, offset = _demo_cache
    if time.monotonic() - looked < DEMO_CACHE_SECONDS:
        return offset
    try:
        offset = timedelta(days=int(json.loads(_demo_file.read_text(encoding="utf-8"))["days"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        offset = timedelta(0)
    _demo_cache = (time.monotonic(), offset)
    return offset


def set_demo_offset(days: int) -> None:
    """Keep the demo clock `days` ahead of the real one (0 removes the file)."""
    global _demo_cache
    if _demo_file is None:
        raise RuntimeError("The demo clock is not in use (only in development).")
    if days:
        _demo_file.parent.mkdir(parents=True, exist_ok=True)
        _demo_file.write_text(json.dumps({"days": days}) + "\n", encoding="utf-8")
    else:
        _demo_file.unlink(missing_ok=True)
    _demo_cache = (float("-inf"), timedelta(0))


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


def day_start_utc(day: date) -> datetime:
    """Return the naive-UTC moment a UK date begins."""
    return london_to_utc(datetime.combine(day, datetime.min.time()))


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
