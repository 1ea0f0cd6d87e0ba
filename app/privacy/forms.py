"""The privacy pages' forms."""
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput
from wtforms import BooleanField, SubmitField
from wtforms.validators import DataRequired

from app.forms import BaseForm


class ErasureRequestForm(BaseForm):
    """A person asks the L&D team to erase their details."""

    submit = SubmitField("Ask for my details to be erased", widget=GovSubmitInput())


class EraseForm(BaseForm):
    """An administrator confirms an erasure, which cannot be undone."""

    understood = BooleanField(
        "I understand that this cannot be undone", widget=GovCheckboxInput(),
        validators=[DataRequired("Confirm that you understand this cannot be undone")])
    submit = SubmitField("Erase this person’s details", widget=GovSubmitInput())
