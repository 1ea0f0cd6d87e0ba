"""Downloads that open cleanly in Excel: UTF-8 CSV with a BOM, ISO dates, no formula injection.

Every CSV the service offers goes through here (registers, agency lists, charges, evaluation
answers, reports), so no download can carry a formula a name or an answer smuggled in.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain

from flask import Response, stream_with_context

from app.clock import to_london

@dataclass(frozen=True)
class Percent:
    """A share (0.42) that a CSV shows as a number of percent (42) and an XLSX as a percentage cell."""

    fraction: float
    places: int = 0

    def as_number(self) -> int | float:
        value = round(self.fraction * 100, self.places)
        return int(value) if self.places == 0 else value

    def __str__(self) -> str:
        return f"{self.as_number()}%"


def percent(numerator: float, denominator: float, places: int = 0) -> Percent | None:
    """numerator / denominator as a Percent, or None when there is nothing to divide by."""
    return Percent(numerator / denominator, places) if denominator else None


# A cell starting with one of these is read by spreadsheets as a formula (or hides one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(value: object) -> object:
    """Make text that a spreadsheet would run as a formula show as text (a leading apostrophe)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore_defused(text: str) -> str:
    """Undo defuse_formula on a cell read back from one of our own files (an uploaded template)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def safe_cell(value: object) -> object:
    """Return a value for a CSV cell: dates as ISO dates, numbers as numbers, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):  # naive UTC in this app: shown as UK time
        return to_london(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, Percent):
        return value.as_number()
    return defuse_formula(str(value))


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Write rows as CSV text, every cell through safe_cell (no BOM: see csv_bytes)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


def csv_bytes(header: list[str], rows: Iterable[Iterable[object]]) -> bytes:
    """Build a CSV file (with a BOM, so Excel reads it as UTF-8)."""
    return (BOM + csv_text(chain([header], rows))).encode("utf-8")


BOM = "\ufeff"


def file_slug(text: str) -> str:
    """Turn a name into a part of a download's file name: lower case, hyphens, at most 60 characters."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "file"


def download(data, filename: str, content_type: str) -> Response:
    """Send a file as a download that no cache keeps (these hold personal data)."""
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_download(filename: str, header: list[str], rows: Iterable[Iterable[object]]) -> Response:
    return download(csv_bytes(header, rows), filename, "text/csv; charset=utf-8")


def csv_stream(filename: str, header: list[str], rows: Iterable[Iterable[object]]) -> Response:
    """Send a long CSV as it is written, row by row.

    The first row is read before the response is made, so a query that fails does so while an
    error page can still be sent, rather than after a 200 has gone with half a file.
    """
    rows = iter(rows)
    first = next(rows, None)

    def generate():
        yield BOM + csv_text([header] + ([first] if first is not None else []))
        for row in rows:
            yield csv_text([row])

    return download(stream_with_context(generate()), filename, "text/csv; charset=utf-8")


def pdf_download(data: bytes, filename: str) -> Response:
    return download(data, filename, "application/pdf")
