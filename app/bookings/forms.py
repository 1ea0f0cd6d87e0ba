"""Forms for booking, cancelling, passing on a place, managers' answers and the L&D team's screens."""
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.forms import BaseForm, GovDateField


class BookingConfirmForm(BaseForm):
    access_needs = TextAreaField(
        "Access or dietary needs (optional)",
        widget=GovTextArea(),
        description="For example a hearing loop, step-free access or a vegetarian lunch. "
                    "Only the L&D team and the trainer see this.",
        validators=[Optional(), Length(max=1000, message="Access needs must be 1000 characters or fewer")],
    )
    submit = SubmitField("Confirm booking", widget=GovSubmitInput())


class BookingCancelForm(BaseForm):
    reason = TextAreaField(
        "Why are you cancelling? (optional)",
        widget=GovTextArea(),
        description="If it is because you are ill, say so: the L&D team may waive a late cancellation charge.",
        validators=[Optional(), Length(max=1000, message="The reason must be 1000 characters or fewer")],
    )
    # What the person saw when they chose: leaving the waiting list must never cancel a place that
    # came up for them meanwhile.
    leaving = HiddenField()
    submit = SubmitField("Cancel booking", widget=GovSubmitInput())


class BookingSubstituteForm(BaseForm):
    email = StringField(
        "Your colleague’s work e-mail address",
        widget=GovTextInput(),
        description="They must work for the same agency and already have an account here.",
        validators=[DataRequired("Enter your colleague’s e-mail address"), Length(max=255)],
    )
    submit = SubmitField("Pass my place to them", widget=GovSubmitInput())


class ApprovalAnswerForm(BaseForm):
    reason = TextAreaField(
        "Reason (optional)",
        widget=GovTextArea(),
        description="We will pass this on to them.",
        validators=[Optional(), Length(max=1000, message="The reason must be 1000 characters or fewer")],
    )
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class AdminBookForm(BaseForm):
    email = StringField(
        "Their e-mail address",
        widget=GovTextInput(),
        description="The person must already have an account.",
        validators=[DataRequired("Enter the person’s e-mail address"), Length(max=255)],
    )
    manager_agreed = BooleanField("Their line manager has already agreed", widget=GovCheckboxInput())
    overbook = BooleanField("Overbook: give them a place even if the session is full",
                            widget=GovCheckboxInput())
    submit = SubmitField("Book them a place", widget=GovSubmitInput())


class AdminMoveForm(BaseForm):
    session_id = SelectField("Move to", widget=GovSelect(), coerce=int,
                             validators=[InputRequired("Choose the session to move them to")])
    overbook = BooleanField("Overbook: move them even if the new session is full", widget=GovCheckboxInput())
    submit = SubmitField("Move booking", widget=GovSubmitInput())


class AdminPromoteForm(BaseForm):
    manager_agreed = BooleanField("Their line manager has already agreed", widget=GovCheckboxInput())
    overbook = BooleanField("Overbook: give them a place even if none is free", widget=GovCheckboxInput())
    submit = SubmitField("Give them a place", widget=GovSubmitInput())


class CompletionRecordForm(BaseForm):
    course_id = SelectField("Online course", widget=GovSelect(), coerce=int,
                            validators=[InputRequired("Choose the online course you completed")])
    completed_on = GovDateField(
        "Date you completed it",
        description="For example, 27 3 2027",
        validators=[InputRequired("Enter the date you completed it, for example 27 3 2027")],
    )
    evidence = StringField(
        "Certificate number or other evidence (optional)",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=500, message="Evidence must be 500 characters or fewer")],
    )
    submit = SubmitField("Record completion", widget=GovSubmitInput())
