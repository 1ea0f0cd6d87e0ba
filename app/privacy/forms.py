"""The privacy pages' forms."""
from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSelect, GovSubmitInput
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.validators import DataRequired, Optional

from app.filters import FilterForm
from app.forms import BaseForm, GovDateField


class ErasureRequestForm(BaseForm):
    """A person asks the L&D team to erase their details."""

    submit = SubmitField("Ask for my details to be erased", widget=GovSubmitInput())


class EraseForm(BaseForm):
    """An administrator confirms an erasure, which cannot be undone."""

    understood = BooleanField(
        "I understand that this cannot be undone", widget=GovCheckboxInput(),
        validators=[DataRequired("Confirm that you understand this cannot be undone")])
    submit = SubmitField("Erase this person’s details", widget=GovSubmitInput())


class AccessLogFilterForm(FilterForm):
    """Narrow the access log: who looked, at what kind of data, and when."""

    viewer_id = SelectField("Who looked", widget=GovSelect(), coerce=int, validators=[Optional()])
    kind = SelectField("What they saw", widget=GovSelect(), validators=[Optional()])
    start = GovDateField("From", validators=[Optional()])
    end = GovDateField("To", validators=[Optional()])
    submit = SubmitField("Show", widget=GovSubmitInput())
