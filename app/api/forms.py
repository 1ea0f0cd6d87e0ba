"""Creating and revoking API tokens."""
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from app.api.tokens import EXPIRY_DAYS, SCOPES
from app.forms import BaseForm


class ApiTokenCreateForm(BaseForm):
    name = StringField("Name", widget=GovTextInput(),
                       description="Which system will use it, for example, HR system (live)",
                       validators=[InputRequired("Enter a name that says which system will use the token"),
                                   Length(max=100, message="Name must be 100 characters or fewer")])
    scopes = SelectMultipleField("What the token may do", widget=GovCheckboxesInput(),
                                 choices=list(SCOPES.items()),
                                 validators=[InputRequired("Select what the token may do")])
    days = RadioField("How long it works", widget=GovRadioInput(), coerce=int,
                      choices=[(d, f"{d} days") for d in EXPIRY_DAYS], default=90,
                      validators=[InputRequired("Select how long the token works")])
    submit = SubmitField("Create token", widget=GovSubmitInput())


class ApiTokenRevokeForm(BaseForm):
    submit = SubmitField("Revoke token", widget=GovSubmitInput())
