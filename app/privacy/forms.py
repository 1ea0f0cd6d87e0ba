"""The privacy pages' forms."""
from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField
from wtforms.validators import Optional

from app.filters import FilterForm
from app.forms import GovDateField


class AccessLogFilterForm(FilterForm):
    """Narrow the access log: who looked, at what kind of data, and when."""

    viewer_id = SelectField("Who looked", widget=GovSelect(), coerce=int, validators=[Optional()])
    kind = SelectField("What they saw", widget=GovSelect(), validators=[Optional()])
    start = GovDateField("From", validators=[Optional()])
    end = GovDateField("To", validators=[Optional()])
    submit = SubmitField("Show", widget=GovSubmitInput())
