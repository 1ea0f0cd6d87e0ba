"""Forms for signing up, signing in and managing accounts."""
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from app.forms import BaseForm

PASSWORD_HINT = ("At least 10 characters, and not a common password. Three random words together "
                 "make a strong one that is easy to remember.")



class AccountRegisterForm(BaseForm):
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
        description="The organisation you work for.",
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
        description=PASSWORD_HINT,
        validators=[DataRequired("Create a password"), Length(max=200)],
    )
    password_again = PasswordField(
        "Type the password again",
        widget=GovPasswordInput(),
        validators=[DataRequired("Type the password again"),
                    EqualTo("password", "The passwords do not match")],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


class SignInForm(BaseForm):
    email = StringField("E-mail address", widget=GovTextInput(),
                        validators=[DataRequired("Enter your e-mail address")])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[DataRequired("Enter your password")])
    remember = BooleanField("Keep me signed in on this device", widget=GovCheckboxInput())
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class EmailRequestForm(BaseForm):
    email = StringField("E-mail address", widget=GovTextInput(),
                        validators=[DataRequired("Enter your e-mail address")])
    submit = SubmitField("Send the link", widget=GovSubmitInput())


def _new_password(again: str) -> tuple[PasswordField, PasswordField]:
    """A new password and the same typed again (`again` labels the second box)."""
    return (
        PasswordField("New password", widget=GovPasswordInput(), description=PASSWORD_HINT,
                      validators=[DataRequired("Enter a new password"), Length(max=200)]),
        PasswordField(again, widget=GovPasswordInput(),
                      validators=[DataRequired(again),
                                  EqualTo("password", "The passwords do not match")]),
    )


class PasswordResetForm(BaseForm):
    password, password_again = _new_password("Type the password again")
    submit = SubmitField("Set the new password", widget=GovSubmitInput())


class PasswordChangeForm(BaseForm):
    current_password = PasswordField("Current password", widget=GovPasswordInput(),
                                     validators=[DataRequired("Enter your current password")])
    password, password_again = _new_password("Type the new password again")
    submit = SubmitField("Change password", widget=GovSubmitInput())


class ConfirmForm(BaseForm):
    """A form with nothing but its CSRF token, for buttons that change something."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())


class SectorEditForm(BaseForm):
    name = StringField("Sector name", widget=GovTextInput(),
                       validators=[DataRequired("Enter the sector’s name"), Length(max=120)])
    active = BooleanField("In use: new agencies can be put in this sector",
                          widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Save", widget=GovSubmitInput())


class AgencyEditForm(BaseForm):
    name = StringField("Agency name", widget=GovTextInput(),
                       validators=[DataRequired("Enter the agency’s name"), Length(max=200)])
    sector_id = SelectField("Sector", widget=GovSelect(), coerce=int,
                            validators=[InputRequired("Choose the agency’s sector")])
    domains = TextAreaField(
        "E-mail domains",
        widget=GovTextArea(),
        description="The part after the @ in staff addresses, e.g. nhs.net. Separate them with "
                    "commas or put one on each line. People registering with another address "
                    "are held for the L&D team to approve. Leave empty to accept any address.",
        validators=[Length(max=4000)],
    )
    active = BooleanField("Active: people can choose this agency when they register",
                          widget=GovCheckboxInput(), default=True)
    # Choices are the configured identity providers (set by the view).
    sign_in_provider = SelectField(
        "How its staff sign in", widget=GovSelect(),
        description="Choose a sign-in service to stop its staff signing in with a password here: "
                    "they must use their organisation’s account.")
    submit = SubmitField("Save", widget=GovSubmitInput())


class PersonSearchForm(BaseForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Name, e-mail or agency", widget=GovTextInput())
    agency = SelectField("Agency", widget=GovSelect(), coerce=int, default=0)
    status = SelectField("Account", widget=GovSelect(), default="")
    role = SelectField("Role", widget=GovSelect(), default="")
    submit = SubmitField("Search", widget=GovSubmitInput())


class AccountDetailsForm(BaseForm):
    """A person's own details: what they may change themselves."""

    name = StringField("Full name", widget=GovTextInput(),
                       validators=[DataRequired("Enter your full name"), Length(max=200)])
    job_title = StringField("Job title", widget=GovTextInput(),
                            validators=[DataRequired("Enter your job title"), Length(max=200)])
    line_manager_name = StringField("Line manager’s name", widget=GovTextInput(),
                                    validators=[Length(max=200)])
    line_manager_email = StringField(
        "Line manager’s e-mail address",
        widget=GovTextInput(),
        description="Some courses ask your manager to agree before your place is confirmed. If a "
                    "place is waiting for your old manager, we ask the new one instead.",
        validators=[Length(max=255)],
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class PersonEditForm(BaseForm):
    """Everything about a person the L&D team can change (roles have their own page)."""

    name = StringField("Full name", widget=GovTextInput(),
                       validators=[DataRequired("Enter the person’s full name"), Length(max=200)])
    email = StringField(
        "E-mail address", widget=GovTextInput(),
        description="A new address must be confirmed again: we e-mail a link to it.",
        validators=[DataRequired("Enter the person’s e-mail address"), Length(max=255)])
    job_title = StringField("Job title", widget=GovTextInput(), validators=[Length(max=200)])
    agency_id = SelectField(
        "Agency", widget=GovSelect(), coerce=int,
        description="Bookings already made stay with the agency they were made for.",
        validators=[InputRequired("Choose the person’s agency")])
    line_manager_name = StringField("Line manager’s name", widget=GovTextInput(),
                                    validators=[Length(max=200)])
    line_manager_email = StringField(
        "Line manager’s e-mail address", widget=GovTextInput(),
        description="Places waiting for the old manager’s agreement are asked of the new one.",
        validators=[Length(max=255)])
    reason = TextAreaField(
        "Reason, if the address is not on the agency’s e-mail domains (optional)",
        widget=GovTextArea(),
        description="Registering with such an address waits for the L&D team’s approval. Say "
                    "how you know the person works there; the account history keeps it.",
        validators=[Length(max=1000, message="The reason must be 1000 characters or fewer")],
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class RoleGrantForm(BaseForm):
    role = SelectField("Role", widget=GovSelect(),
                       validators=[InputRequired("Choose a role from the list")])
    agency_id = SelectField(
        "Agency they coordinate", widget=GovSelect(), coerce=int, default=0,
        description="Only for agency coordinators: they see this agency’s staff and bookings.",
    )
    submit = SubmitField("Grant role", widget=GovSubmitInput())


class AccountRefuseForm(BaseForm):
    reason = TextAreaField(
        "Note to the person (optional)", widget=GovTextArea(),
        description="It goes in the e-mail telling them the account was not approved.",
        validators=[Length(max=1000, message="The note must be 1000 characters or fewer")],
    )
    submit = SubmitField("Refuse account", widget=GovSubmitInput())
