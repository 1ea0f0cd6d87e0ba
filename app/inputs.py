"""Reading what a request carries: ids and numbers in the address, dates in links, stray NULs.

Every id, page and number a view reads from the address comes through here, bounded to what the
database holds, so no input reaches a query as a number or a character the database refuses
(issue 11: no input reaches a 500).
"""
from __future__ import annotations

import re
from datetime import date

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from app.extensions import db

# PostgreSQL INTEGER (every id and count in this schema) is 32-bit; SQLite's is 64-bit. The
# narrower one bounds every number a request may carry into a query.
DB_INT_MAX = 2**31 - 1
# Dates people may type or link to: wide enough for any training record, narrow enough that a day
# either side (periods run to the end of their last day) stays inside what Python and SQL hold.
YEAR_MIN, YEAR_MAX = 1900, 2200
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")
_DIGITS = re.compile(r"[0-9]+")


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: 0 to DB_INT_MAX in ASCII digits, or the page is not found."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=0, max=DB_INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def whole_number(text: str | None) -> int | None:
    """Read a whole number from 0 to DB_INT_MAX; None for anything else."""
    text = (text or "").strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if value <= DB_INT_MAX else None


def query_int(name: str, default: int | None = None) -> int | None:
    """An id or number from the query string: `default` when it is missing or not a whole number.

    A whole number larger than any id names nothing, so the page is not found, as for an id that
    names no row (and a CSV download is refused before it starts).
    """
    text = request.args.get(name, "").strip()
    if not _DIGITS.fullmatch(text):
        return default
    value = whole_number(text)
    if value is None:
        abort(404)
    return value


def query_page(name: str = "page") -> int:
    """A page number from the query string: 1 unless it names a later page (past the last one
    is an empty page, as it always was)."""
    text = request.args.get(name, "").strip()
    if not _DIGITS.fullmatch(text):
        return 1
    value = whole_number(text)
    return max(DB_INT_MAX if value is None else value, 1)


def row_or_404(model, row_id: int, **belongs_to):
    """The row an address names, or 404 when there is none or it is not the one the address nests
    it under (`tna_id=3`: a line of analysis 3)."""
    row = db.session.get(model, row_id)
    if row is None or any(getattr(row, name) != value for name, value in belongs_to.items()):
        abort(404)
    return row


def year_in_range(day: date) -> bool:
    return YEAR_MIN <= day.year <= YEAR_MAX


def parse_iso_date(text: str | None) -> date | None:
    """Read a date written as 2027-03-31 (as links carry them); None if it is not one we hold."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if year_in_range(day) else None


def init_app(app: Flask) -> None:
    """Bound every `<int:...>` in the routes, and refuse a NUL anywhere in the address."""
    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def _refuse_nul_in_address():
        # No page takes a NUL, and PostgreSQL refuses one in any text it is asked to compare.
        # Form bodies are checked by the forms (app.forms), which say so beside the field.
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in v for v in values)
            for key, values in request.args.lists()
        ):
            abort(400)
