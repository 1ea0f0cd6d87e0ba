"""Forms for registers, walk-ins, corrections, charges, suspensions, certificates, pre-course material,
the e-learning completions import and single-agency training."""
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.attendance.walk_ins import SEARCH_MIN_CHARACTERS
from app.bookings.models import OUTCOME_LABELS
from app.courses.forms import WholeNumberField
from app.forms import BaseForm, GovDateField


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


class CompletionUploadForm(BaseForm):
    file = FileField("CSV or XLSX file", widget=GovFileInput(),
                     description="The e-learning provider’s export: name, email, course, completed_on, "
                                 "score. You will see what it records before anything is saved.")
    submit = SubmitField("Upload and check", widget=GovSubmitInput())
class MaterialUploadForm(BaseForm):
    upload = FileField("Upload a file", widget=GovFileInput(),
                       description="A PDF, Word, PowerPoint or Excel document, or an image.")
    submit = SubmitField("Upload", widget=GovSubmitInput(), id="upload-submit")


class MaterialMessageForm(BaseForm):
    message = StringField("Message to the people with a confirmed place", widget=GovTextArea(),
                          validators=[DataRequired("Enter a message for the people booked"), Length(max=5000)],
                          description="For example what to read before the day and what to bring. "
                                      "The e-mail lists every file above with a link to it.")
    submit = SubmitField("Send to the people booked", widget=GovSubmitInput(), id="message-submit")
class SingleAgencyTrainingForm(BaseForm):
    agency_id = SelectField("Agency", widget=GovSelect(), coerce=int, validate_choice=False)
    title = StringField("Title of the training", widget=GovTextInput(),
                        validators=[DataRequired("Enter the title of the training"), Length(max=200)])
    held_on = GovDateField("Date it was held", description="For example, 27 3 2027",
                           validators=[InputRequired("Enter the date the training was held")])
    hours = StringField("Hours of training", widget=GovTextInput(), description="For example, 3 or 2.5",
                        validators=[DataRequired("Enter the hours of training, for example 3 or 2.5"), Length(max=10)])
    level_id = SelectField("Level", widget=GovSelect(), coerce=int, validate_choice=False,
                           description="It counts against the training needs analysis at this level.")
    course_id = SelectField("Equivalent to (optional)", widget=GovSelect(), coerce=int, validate_choice=False,
                            description="A course of the partnership's programme this training covers, if any.")
    delivered_by = StringField("Delivered by", widget=GovTextInput(), validators=[Optional(), Length(max=200)],
                               description="The trainer or team who ran it.")
    attendee_emails = StringField(
        "Work e-mail addresses of the staff who attended", widget=GovTextArea(),
        description="One a line. Each must have an account here with your agency; it counts in their training record.",
        validators=[Length(max=50000)])
    others_count = WholeNumberField("Others who attended without an account", message="The number must be a whole number",
                                    description="A number only: no names are kept for them.")
    submit = SubmitField("Record the training", widget=GovSubmitInput())


class SingleAgencyUploadForm(BaseForm):
    agency_id = SelectField("Agency", widget=GovSelect(), coerce=int, validate_choice=False)
    file = FileField("CSV or XLSX file", widget=GovFileInput(),
                     description="One row per piece of training. You will see every row checked before anything is saved.")
    submit = SubmitField("Upload and check", widget=GovSubmitInput())


class SingleAgencyApplyForm(BaseForm):
    agency_id = HiddenField()
    rows = HiddenField()
    submit = SubmitField("Record these", widget=GovSubmitInput())


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
