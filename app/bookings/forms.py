"""Forms for booking, cancelling, passing on a place, managers' answers and the L&D team's screens."""
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
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import BaseForm, GovDateField


def optional_text(label: str, description: str, *, what: str = "The reason", max_length: int = 1000) -> TextAreaField:
    """An optional box of free text, refused past `max_length` characters ("`what` must be...")."""
    return TextAreaField(
        label, widget=GovTextArea(), description=description,
        validators=[Optional(), Length(max=max_length, message=f"{what} must be {max_length} characters or fewer")],
    )


def account_email(label: str, description: str, missing: str) -> StringField:
    """The work e-mail address of someone who already has an account; `missing` when left empty."""
    return StringField(label, widget=GovTextInput(), description=description,
                       validators=[DataRequired(missing), Length(max=255)])


def completed_on_date() -> GovDateField:
    """The day a person completed some training."""
    return GovDateField("Date you completed it", description="For example, 27 3 2027",
                        validators=[InputRequired("Enter the date you completed it, for example 27 3 2027")])


def manager_agreed_box() -> BooleanField:
    """The L&D team records that the line manager has already agreed (no request is sent)."""
    return BooleanField("Their line manager has already agreed", widget=GovCheckboxInput())


class BookingConfirmForm(BaseForm):
    access_needs = optional_text(
        "Access or dietary needs (optional)",
        "For example a hearing loop, step-free access or a vegetarian lunch. "
        "Only the L&D team and the trainer see this.",
        what="Access needs",
    )
    submit = SubmitField("Confirm booking", widget=GovSubmitInput())


class BookingCancelForm(BaseForm):
    reason = optional_text(
        "Why are you cancelling? (optional)",
        "If it is because you are ill, say so: the L&D team may waive a late cancellation charge.",
    )
    # What the person saw when they chose: leaving the waiting list must never cancel a place that
    # came up for them meanwhile.
    leaving = HiddenField()
    submit = SubmitField("Cancel booking", widget=GovSubmitInput())


class BookingSubstituteForm(BaseForm):
    email = account_email("Your colleague’s work e-mail address",
                          "They must work for the same agency and already have an account here.",
                          "Enter your colleague’s e-mail address")
    submit = SubmitField("Pass my place to them", widget=GovSubmitInput())


class ApprovalAnswerForm(BaseForm):
    reason = optional_text("Reason (optional)", "We will pass this on to them.")
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class AdminBookForm(BaseForm):
    email = account_email("Their e-mail address", "The person must already have an account.",
                          "Enter the person’s e-mail address")
    manager_agreed = manager_agreed_box()
    overbook = BooleanField("Overbook: give them a place even if the session is full",
                            widget=GovCheckboxInput())
    prerequisite_override = optional_text(
        "Book them without a missing prerequisite: reason (optional)",
        "Only if they have not completed a course this one needs, for example "
        "“Level 2 done with their trust, certificate seen”. The reason is kept in the booking’s history.",
    )
    submit = SubmitField("Book them a place", widget=GovSubmitInput())


class AdminMoveForm(BaseForm):
    session_id = SelectField("Move to", widget=GovSelect(), coerce=int,
                             validators=[InputRequired("Choose the session to move them to")])
    overbook = BooleanField("Overbook: move them even if the new session is full", widget=GovCheckboxInput())
    submit = SubmitField("Move booking", widget=GovSubmitInput())


class AdminPromoteForm(BaseForm):
    manager_agreed = manager_agreed_box()
    overbook = BooleanField("Overbook: give them a place even if none is free", widget=GovCheckboxInput())
    submit = SubmitField("Give them a place", widget=GovSubmitInput())


class CompletionRecordForm(BaseForm):
    course_id = SelectField("Online course", widget=GovSelect(), coerce=int,
                            validators=[InputRequired("Choose the online course you completed")])
    completed_on = completed_on_date()
    evidence = StringField(
        "Certificate number or other evidence (optional)",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=500, message="Evidence must be 500 characters or fewer")],
    )
    submit = SubmitField("Record completion", widget=GovSubmitInput())


class PriorLearningRecordForm(BaseForm):
    course_id = SelectField("Which course here it is equivalent to", widget=GovSelect(), coerce=int,
                            validators=[InputRequired("Choose the course here your learning is equivalent to")])
    provider = StringField(
        "Who provided it",
        widget=GovTextInput(),
        description="For example your own agency, trust or an e-learning provider.",
        validators=[Optional(), Length(max=200, message="The provider must be 200 characters or fewer")],
    )
    completed_on = completed_on_date()
    evidence = optional_text(
        "Describe the training and your evidence",
        "The course title, how long it was, and a certificate number if you have one.",
        what="The description", max_length=2000,
    )
    certificate = FileField("Upload your certificate (optional)", widget=GovFileInput(),
                            description="A PDF, PNG or JPEG file, 5 MB or smaller. Only you and the L&D team see it.")
    submit = SubmitField("Send for checking", widget=GovSubmitInput())


class PriorLearningDecisionForm(BaseForm):
    decision = RadioField("Does it count as this course?", widget=GovRadioInput(),
                          choices=[("accept", "Yes, accept it"), ("reject", "No, do not accept it")],
                          validators=[InputRequired("Choose whether to accept it")])
    note = optional_text("Why it is not accepted", "Needed if you do not accept it: we tell the person.",
                         max_length=2000)
    submit = SubmitField("Save and tell them", widget=GovSubmitInput())


class OfferAnswerForm(BaseForm):
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class StaffBookForm(BaseForm):
    session_id = SelectField("Session", widget=GovSelect(), coerce=int,
                             validators=[InputRequired("Choose the session to book")])
    submit = SubmitField("Book the place", widget=GovSubmitInput())


class StaffMoveForm(BaseForm):
    session_id = SelectField("Move to", widget=GovSelect(), coerce=int,
                             validators=[InputRequired("Choose the session to move them to")])
    submit = SubmitField("Move booking", widget=GovSubmitInput())


class StaffCancelForm(BaseForm):
    reason = optional_text("Why is it cancelled? (optional)",
                           "If it is because they are ill, say so: the L&D team may waive a late cancellation charge.")
    submit = SubmitField("Cancel booking", widget=GovSubmitInput())


class WorkshopChoiceForm(BaseForm):
    """The workshops themselves are radios per time slot, built from the programme in the template."""

    submit = SubmitField("Save my workshops", widget=GovSubmitInput())
