"""Tables written as one CSV (one block per table) or one XLSX workbook (one sheet per table).

Shared by every page that exports more than one table (reports, evaluation figures); cells go
through app.exports, so a spreadsheet carries no formula smuggled in.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.exports import BOM, Percent, csv_text, defuse_formula

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def to_csv(heading: str, tables: list[Table]) -> bytes:
    """One CSV: the report's heading, then each table with its title, header row and rows."""
    rows: list[list] = [[heading]]
    for table in tables:
        rows += [[], [table.title], table.headers, *table.rows]
    # A byte-order mark so Excel reads the UTF-8 (names with accents, the £ sign) correctly.
    return (BOM + csv_text(rows)).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[:25]} {n}"
        n += 1
    used.add(name.lower())
    return name


def _xlsx_value(value: object) -> object:
    if isinstance(value, Percent):  # a fraction in a percentage cell, so sums and charts work
        return value.fraction
    return value if isinstance(value, (datetime, date)) else defuse_formula(value)


def to_xlsx(heading: str, tables: list[Table]) -> bytes:
    """An XLSX workbook: one sheet per table, the heading above a bold header row."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables or [Table("Report", [])]:
        sheet = book.create_sheet(_sheet_title(table.title, used))
        sheet.append([heading])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append(table.headers)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_value(v) for v in row])
            for cell, value in zip(sheet[sheet.max_row], row):
                if isinstance(value, Percent):
                    cell.number_format = "0%"
        sheet.freeze_panes = "A4"
        for index, header in enumerate(table.headers, start=1):
            longest = max([len(str(header))] + [len(str(r[index - 1])) for r in table.rows[:200]
                                                if index - 1 < len(r) and r[index - 1] is not None])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
