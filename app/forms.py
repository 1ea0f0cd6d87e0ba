"""What every form shares: the rules for typed text and numbers, and the date fields.

Forms extend `BaseForm` (or `SubForm` for the rows of a FieldList), whose Meta gives every field
the rule for its kind, so no form can forget it:
- a number (an IntegerField, or a choice read as a whole number) outside what the database holds
  is refused, as a value the form does not offer;
- a single-line field refuses control characters, line breaks included: a name with CR/LF would
  otherwise be stored and break the header of every e-mail that carries it;
- a multi-line field refuses control characters other than line breaks and tabs (NUL among them,
  which PostgreSQL refuses to store, and which spreadsheets refuse to open).
Passwords are never stored or shown, so any character may be in one.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextArea
from wtforms import (
    DateField,
    Form,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import ValidationError
from wtforms.widgets import TextArea

from app.inputs import DB_INT_MAX, YEAR_MAX, YEAR_MIN

_LINE_BREAKS_AND_TABS = "\t\n\r"


def _control_characters(text: str, allowed: str = "") -> bool:
    return any(
        (unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029") and ch not in allowed
        for ch in text
    )


def has_control_characters(text: str | None, multiline: bool = False) -> bool:
    """Whether text holds characters no one types: any control character on one line; on many
    lines, any but line breaks and tabs."""
    return bool(text) and _control_characters(text, _LINE_BREAKS_AND_TABS if multiline else "")


def _label(field) -> str:
    return re.sub(r"\s*\(optional\)\s*$", "", field.label.text or "This field")


class SingleLine:
    """Refuse control characters, line breaks included."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_control_characters(field.data):
            raise ValidationError(f"{_label(field)} cannot contain line breaks, tabs or other hidden characters")


class MultiLine:
    """Refuse control characters other than line breaks and tabs."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and has_control_characters(field.data, multiline=True):
            raise ValidationError(f"{_label(field)} cannot contain hidden control characters")


def _is_multiline(field) -> bool:
    return isinstance(field.widget, (TextArea, GovTextArea))


class DatabaseNumber:
    """Refuse a whole number no database column holds."""

    def __call__(self, form, field):
        if isinstance(field.data, int) and not -DB_INT_MAX - 1 <= field.data <= DB_INT_MAX:
            raise ValidationError(f"{_label(field)} must be a number of {DB_INT_MAX:,} or less")


def database_int(value) -> int:
    """int() for a choice's value, refusing a number no database column holds (a ValueError)."""
    number = int(value)
    if not -DB_INT_MAX - 1 <= number <= DB_INT_MAX:
        raise ValueError("out of range")
    return number


class _InputRulesMeta:
    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField) and not isinstance(field, PasswordField):
            field.validators = [*field.validators, MultiLine() if _is_multiline(field) else SingleLine()]
        elif isinstance(field, (SelectField, SelectMultipleField, RadioField)) and field.coerce is int:
            field.coerce = database_int  # an unreadable choice leaves the field as it was
        elif isinstance(field, IntegerField):
            field.validators = [*field.validators, DatabaseNumber()]
        return field


class BaseForm(FlaskForm):
    """A form whose fields keep to the rules above."""

    class Meta(_InputRulesMeta):
        pass


class SubForm(Form):
    """A row of fields inside a FieldList (no CSRF token of its own), with the same rules."""

    class Meta(_InputRulesMeta):
        pass


class GovDateField(DateField):
    """A GOV.UK date: day, month and year boxes sharing one name.

    All three empty is no date (the field's validators say whether one is needed). Any other
    number of values than three, a date that does not exist, or a year outside YEAR_MIN..YEAR_MAX
    (or the narrower years given) is refused with a message, and what was typed is shown again.
    """

    widget = GovDateInput()

    def __init__(self, label=None, validators=None, message="Enter a real date, for example 27 3 2027",
                 years: tuple[int, int] = (YEAR_MIN, YEAR_MAX), **kwargs):
        kwargs.setdefault("format", "%d %m %Y")
        super().__init__(label, validators, **kwargs)
        self.message = message
        self.years = years

    def process_formdata(self, valuelist):
        # The widget shows three boxes again from raw_data, so it always holds exactly three.
        parts = [str(v).strip() for v in valuelist]
        iso = re.fullmatch(r"([0-9]{1,4})-([0-9]{1,2})-([0-9]{1,2})", parts[0]) if len(parts) == 1 else None
        if iso:
            # A link (a download, the next page) carries the date as 2027-03-31: show it in the boxes.
            parts = [iso.group(3), iso.group(2), iso.group(1)]
        self.raw_data = (parts + ["", "", ""])[:3] if parts else None
        self.data = None
        self.problem = self._problem(parts) if any(parts) else None
        if self.problem:
            raise ValueError(self.problem)

    def _problem(self, parts: list[str]) -> str | None:
        if len(parts) != 3 or not all(parts):
            return "Enter a day, month and year, for example 27 3 2027"
        if not all(re.fullmatch(r"[0-9]{1,4}", p) for p in parts):
            return self.message
        day, month, year = (int(p) for p in parts)
        low, high = self.years
        if not low <= year <= high:
            return f"Enter a year from {low} to {high}"
        try:
            self.data = date(year, month, day)
        except ValueError:
            return self.message
        return None

    def post_validate(self, form, validation_stopped):
        # Optional() clears the field's errors when the day box is empty; a month and year typed
        # without a day are still a mistake to point out, not "no date".
        if getattr(self, "problem", None) and not self.errors:
            self.errors.append(self.problem)
