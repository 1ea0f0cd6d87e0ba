"""Forms for registers, walk-ins, corrections, charges, suspensions and certificates."""
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from app.attendance.walk_ins import SEARCH_MIN_CHARACTERS
from app.bookings.models import OUTCOME_LABELS
from app.forms import BaseForm


class WalkInSearchForm(BaseForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(
        "Name or e-mail address", widget=GovTextInput(),
        description=f"At least {SEARCH_MIN_CHARACTERS} characters of their name or work e-mail address.",
        filters=[lambda value: value.strip() if value else value],
        validators=[
            DataRequired("Enter part of a name or e-mail address"),
            Length(min=SEARCH_MIN_CHARACTERS, max=200,
                   message=f"Enter at least {SEARCH_MIN_CHARACTERS} characters of a name or e-mail address"),
        ],
    )
    submit = SubmitField("Search", widget=GovSubmitInput())


class WalkInNewPersonForm(BaseForm):
    name = StringField("Full name", widget=GovTextInput(),
                       validators=[DataRequired("Enter the person’s full name"), Length(max=200)])
    email = StringField(
        "Work e-mail address", widget=GovTextInput(),
        description="Their own address, not a shared mailbox: the certificate and evaluation go to it.",
        validators=[DataRequired("Enter the person’s work e-mail address"), Length(max=255)],
    )
    job_title = StringField("Job title", widget=GovTextInput(),
                            validators=[DataRequired("Enter the person’s job title"), Length(max=200)])
    agency_id = SelectField("Agency", widget=GovSelect(), coerce=int,
                            validators=[InputRequired("Select the agency the person works for")])
    submit = SubmitField("Add to the register as attended", widget=GovSubmitInput())


class OutcomeCorrectForm(BaseForm):
    outcome = RadioField(
        "What happened", widget=GovRadioInput(),
        choices=[(key, label) for key, label in OUTCOME_LABELS.items()] + [("none", "Not marked")],
        validators=[InputRequired("Choose what happened")],
    )
    counts_as_complete = BooleanField(
        "Counts as complete", widget=GovCheckboxInput(),
        description="For partly attended only: tick when enough was attended to complete the course "
                    "(certificate, prerequisites and the refresher clock).",
    )
    reason = StringField("Reason for the correction", widget=GovTextArea(),
                         validators=[DataRequired("Say why you are correcting the register"), Length(max=1000)])
    submit = SubmitField("Save the correction", widget=GovSubmitInput())


class ReasonForm(BaseForm):
    """One required reason: waiving a charge, lifting a suspension."""

    reason = StringField("Reason", widget=GovTextInput(),
                         validators=[DataRequired("Give a reason"), Length(max=1000)])
    submit = SubmitField("Save", widget=GovSubmitInput())


class CertificateVerifyForm(BaseForm):
    class Meta:
        csrf = False  # a GET look-up

    code = StringField("Verification code", widget=GovTextInput(),
                       description="It is printed at the foot of the certificate, like ABCD-EFGH-JKMN.",
                       validators=[DataRequired("Enter the verification code"), Length(max=40)])
    submit = SubmitField("Check the certificate", widget=GovSubmitInput())


class CheckInCodeForm(BaseForm):
    code = StringField(
        "Check-in code", widget=GovTextInput(),
        description="The code under the person’s QR code, for example 1234-K7QFA.",
        filters=[lambda value: value.strip() if value else value],
        validators=[DataRequired("Enter the check-in code"), Length(max=500, message="Enter the check-in code")],
    )
    submit = SubmitField("Check in", widget=GovSubmitInput())


class ArrivalForm(BaseForm):
    submit = SubmitField("Confirm I have arrived", widget=GovSubmitInput())
