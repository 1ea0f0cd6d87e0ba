"""Forms for signing up, signing in and managing accounts."""
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length


class AccountRegisterForm(FlaskForm):
    name = StringField("Full name", widget=GovTextInput(),
                       validators=[DataRequired("Enter your full name"), Length(max=200)])
    email = StringField(
        "Work e-mail address",
        widget=GovTextInput(),
        description="Your own address, not a shared mailbox. We use it to send your bookings.",
        validators=[DataRequired("Enter your work e-mail address"), Length(max=255)],
    )
    job_title = StringField("Job title", widget=GovTextInput(),
                            validators=[DataRequired("Enter your job title"), Length(max=200)])
    agency_id = SelectField(
        "Agency",
        widget=GovSelect(),
        coerce=int,
        description="Start typing to find your agency in the list.",
        validators=[InputRequired("Select the agency you work for")],
    )
    line_manager_name = StringField(
        "Line manager’s name", widget=GovTextInput(),
        validators=[DataRequired("Enter your line manager’s name"), Length(max=200)])
    line_manager_email = StringField(
        "Line manager’s e-mail address",
        widget=GovTextInput(),
        description="Some courses ask your manager to agree before your place is confirmed.",
        validators=[DataRequired("Enter your line manager’s e-mail address"), Length(max=255)],
    )
    password = PasswordField(
        "Create a password",
        widget=GovPasswordInput(),
        description="At least 10 characters.",
        validators=[DataRequired("Create a password"), Length(max=200)],
    )
    password_again = PasswordField(
        "Type the password again",
        widget=GovPasswordInput(),
        validators=[DataRequired("Type the password again"),
                    EqualTo("password", "The passwords do not match")],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


class SignInForm(FlaskForm):
    email = StringField("E-mail address", widget=GovTextInput(),
                        validators=[DataRequired("Enter your e-mail address")])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[DataRequired("Enter your password")])
    remember = BooleanField("Keep me signed in on this device", widget=GovCheckboxInput())
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class EmailRequestForm(FlaskForm):
    email = StringField("E-mail address", widget=GovTextInput(),
                        validators=[DataRequired("Enter your e-mail address")])
    submit = SubmitField("Send the link", widget=GovSubmitInput())


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", widget=GovPasswordInput(),
                             description="At least 10 characters.",
                             validators=[DataRequired("Enter a new password"), Length(max=200)])
    password_again = PasswordField(
        "Type the password again", widget=GovPasswordInput(),
        validators=[DataRequired("Type the password again"),
                    EqualTo("password", "The passwords do not match")])
    submit = SubmitField("Set the new password", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change something."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
