"""Forms for training needs analyses, their imports, report periods and gap e-mails."""
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovFileInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.courses.forms import WholeNumberField
from app.filters import END_BEFORE_START, FilterForm
from app.forms import BaseForm, GovDateField


class PeriodForm(FilterForm):
    """The period (and analysis) a report covers; read from the query string."""

    tna = SelectField("Training needs analysis", widget=GovSelect(), coerce=int,
                      validators=[Optional()])
    start = GovDateField("From", description="For example, 1 4 2026",
                         validators=[InputRequired("Enter the date the period starts, as day, month and year")])
    end = GovDateField("To", description="For example, 31 3 2027",
                       validators=[InputRequired("Enter the date the period ends, as day, month and year")])
    submit = SubmitField("Show the report", widget=GovSubmitInput())

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(END_BEFORE_START)


class TnaForm(BaseForm):
    name = StringField("Name", widget=GovTextInput(),
                       description="For example, Training needs 2026 to 2027",
                       validators=[InputRequired("Enter a name for the training needs analysis"),
                                   Length(max=200, message="The name must be 200 characters or fewer")])
    starts_on = GovDateField("The period starts",
                             description="Usually 1 April. For example, 1 4 2026",
                             validators=[InputRequired("Enter the date the period starts, as day, month and year")])
    ends_on = GovDateField("The period ends",
                           description="Usually 31 March. For example, 31 3 2027",
                           validators=[InputRequired("Enter the date the period ends, as day, month and year")])
    file = FileField("Import the needs from a CSV file (optional)", widget=GovFileInput(),
                     description="Download the template, fill in the numbers, and upload it here. "
                                 "You will see what changes before anything is saved.")
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TnaImportForm(BaseForm):
    file = FileField("CSV file", widget=GovFileInput(),
                     description="One row per sector (or agency) and course or level. "
                                 "You will see what changes before anything is saved.")
    submit = SubmitField("Upload and check", widget=GovSubmitInput())


class TnaLineForm(BaseForm):
    sector_id = SelectField("Sector", widget=GovSelect(), coerce=int,
                            validators=[InputRequired("Choose the sector")])
    agency_id = SelectField("Agency (optional)", widget=GovSelect(), coerce=int,
                            description="Leave as the whole sector unless the need is for one agency.")
    course_id = SelectField("Course", widget=GovSelect(), coerce=int,
                            description="Choose a course, or a level below (not both).")
    level_id = SelectField("Or any course at this level", widget=GovSelect(), coerce=int)
    staff_in_scope = IntegerField(
        "Staff in scope", widget=GovTextInput(),
        description="How many staff the sector (or agency) has who work with children. "
                    "It is the same on every line of this sector or agency.",
        validators=[InputRequired("Enter the staff in scope as a whole number"),
                    NumberRange(min=0, message="Staff in scope cannot be negative")])
    needed = IntegerField("How many need this training in the period", widget=GovTextInput(),
                          validators=[InputRequired("Enter how many need it, as a whole number"),
                                      NumberRange(min=0, message="The number needed cannot be negative")])
    submit = SubmitField("Save", widget=GovSubmitInput())


class GapEmailForm(BaseForm):
    agencies = SelectMultipleField(
        "Agencies to e-mail", widget=GovCheckboxesInput(), coerce=int,
        description="Their coordinators get the upcoming sessions listed above. Each agency is "
                    "e-mailed about this gap at most once a week.",
        validators=[InputRequired("Choose at least one agency to e-mail")])
    submit = SubmitField("E-mail the coordinators", widget=GovSubmitInput())


class NeedsProposalForm(BaseForm):
    """Staff in scope and a note; the number needing each training is one box per training, read by name."""

    staff_in_scope = WholeNumberField("Staff in scope", message="The staff in scope must be a whole number",
                                      description="How many of your agency’s staff work with children or families.")
    note = StringField("Note for the L&D team (optional)", widget=GovTextArea(), validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Send the proposal", widget=GovSubmitInput())


class NeedsDecisionForm(BaseForm):
    staff_in_scope = WholeNumberField("Staff in scope", message="The staff in scope must be a whole number")
    submit = SubmitField("Accept these figures", widget=GovSubmitInput())
