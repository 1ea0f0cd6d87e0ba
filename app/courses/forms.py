"""Forms for courses, levels, themes, venues and sessions, and the programme's filters."""
from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.forms import BaseForm, GovDateField, SubForm
from app.refusals import first_input

PART_ROWS = 4
RESERVATION_ROWS = 6
COPY_ROWS = 6


class AdminForm(BaseForm):
    """A programme administration form whose `errors` feed the page's error summary whole.

    The errors of nested rows (a session's parts and reserved places, a copy's dates) are listed
    too, in page order, each keyed by the id its link focuses (the day box of a date).
    """

    @property
    def errors(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        _collect_errors(self, found)
        return found


def _collect_errors(form, found: dict[str, list[str]]) -> None:
    for field in form:
        if isinstance(field, FieldList):
            for message in field.errors:
                if isinstance(message, str) and field.entries:
                    found.setdefault(_anchor(first_input(field.entries[0])), [message])
            for entry in field.entries:
                if isinstance(entry, FormField):
                    _collect_errors(entry.form, found)
                elif entry.errors:
                    found.setdefault(_anchor(entry), [entry.errors[0]])
        elif field.errors and isinstance(field.errors[0], str):
            found.setdefault(_anchor(field), [field.errors[0]])


def _anchor(field) -> str:
    # Date boxes are named after the field; the first box (day) is what the link should focus.
    return f"{field.id}-day" if field.type == "GovDateField" else field.id


# Sessions are run in this century: a year beyond is a typing slip.
SESSION_YEARS = (2000, 2100)


def parse_clock_time(text: str) -> time | None:
    """Read a time of day: 9:30, 09:30, 9.30, 13:00, 9:30am, 2pm."""
    text = (text or "").strip().lower().replace(" ", "")
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?(am|pm)?", text)
    if not match:
        raise ValueError("not a time")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if match.group(2) is None and half is None:
        raise ValueError("not a time")  # a bare "9" is ambiguous
    if half:
        if not 1 <= hour <= 12:
            raise ValueError("not a time")
        hour = hour % 12 + (12 if half == "pm" else 0)
    return time(hour, minute)


class ClockTimeField(StringField):
    """A time of day typed as text."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, message="Enter a time, for example 9:30 or 13:45", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message
        self.time = None

    def pre_validate(self, form):
        try:
            self.time = parse_clock_time(self.data or "")
        except ValueError:
            self.time = None
            raise ValidationError(self.message)


class WholeNumberField(StringField):
    """A whole number typed as text, with a plain message when it is not one."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message or f"{label} must be a whole number"
        self.number = None

    def process_data(self, value):
        super().process_data("" if value is None else str(value))

    def pre_validate(self, form):
        text = (self.data or "").strip()
        self.number = None
        if text:
            if not re.fullmatch(r"-?\d{1,7}", text):
                raise ValidationError(self.message)
            self.number = int(text)


class MultiCheckboxField(SelectMultipleField):
    widget = GovCheckboxesInput()

    def pre_validate(self, form):
        # Choices that vanished since the page was drawn are ignored rather than refused.
        values = {str(v) for v, _ in self.choices or []}
        self.data = [d for d in (self.data or []) if str(d) in values]


class CourseForm(AdminForm):
    title = StringField("Title", widget=GovTextInput(), validators=[DataRequired("Enter the course’s title"), Length(max=200)])
    code = StringField("Short code", widget=GovTextInput(), description="Letters, numbers and hyphens, for example L3 or SCR-PRAC. It appears in web addresses.",
                       validators=[DataRequired("Enter a short code for the course, for example L3"), Length(max=30)])
    level_id = SelectField("Level", widget=GovSelect(), coerce=int)
    description = StringField("Description", widget=GovTextArea(), description="What the course covers, in plain words.")
    learning_outcomes = StringField("Learning outcomes", widget=GovTextArea(), description="One per line: what people will be able to do.")
    audience_sector_ids = MultiCheckboxField("Sectors it is for", coerce=int, description="Leave all unticked if it is for every sector.")
    audience_roles = StringField("Job roles it is for", widget=GovTextArea(), description="For example: practitioners with case responsibility; designated safeguarding leads.")
    theme_ids = MultiCheckboxField("Themes", coerce=int)
    grew_from = StringField("What it grew from", widget=GovTextArea(), description="A serious case review, an audit or a national case: shown on the course page.")
    duration_hours = StringField("Length in hours", widget=GovTextInput(), description="For CPD and the training record, for example 6 or 6.5.",
                                 validators=[DataRequired("Enter the course’s length in hours")])
    prerequisite_ids = MultiCheckboxField("Prerequisites", coerce=int, description="Courses people must complete first.")
    refresher_months = WholeNumberField("Refresher interval in months", description="How often people should do it again, for example 36. Leave blank for none.",
                                        message="The refresher interval must be a whole number of months")
    renews_course_id = SelectField("Completing it renews the refresher of", widget=GovSelect(), coerce=int, default=0,
                                   description="For a refresher course: attending it restarts the refresher clock of "
                                               "the main course, for example Level 3 Refresher renews Level 3.")
    cancellation_notice_days = WholeNumberField("Cancellation notice in working days", message="The notice must be a whole number of working days",
                                                validators=[DataRequired("Enter the cancellation notice in working days")])
    non_attendance_charge = StringField("Charge for late cancellation or not attending, in pounds", widget=GovTextInput(),
                                        description="For example 75 or 75.00. Enter 0 for no charge.")
    evaluation_delay_months = WholeNumberField("Months before the second evaluation", message="The delay must be a whole number of months",
                                               validators=[DataRequired("Enter the months before the second evaluation")])
    requires_manager_approval = BooleanField("A line manager must agree to each booking", widget=GovCheckboxInput())
    is_online = BooleanField("Online course (e-learning people record themselves, not booked)", widget=GovCheckboxInput())
    uses_offers = BooleanField("Offer freed places to the waiting list, to accept or let pass", widget=GovCheckboxInput(),
                               description="Instead of confirming the first waiting person at once, the place is held "
                                           "for them for the hours below; unanswered, it goes to the next person.")
    offer_hours = WholeNumberField("How long an offer lasts, in hours", message="The offer must last a whole number of hours",
                                   description="For example 24. Never past the session's start.")
    submit = SubmitField("Save course", widget=GovSubmitInput())

    def validate_duration_hours(self, field):
        try:
            self.hours = Decimal((field.data or "").strip())
        except InvalidOperation:
            raise ValidationError("Enter the length as a number of hours, for example 6 or 6.5")
        if not self.hours.is_finite():
            raise ValidationError("Enter the length as a number of hours, for example 6 or 6.5")

    def validate_non_attendance_charge(self, field):
        text = (field.data or "0").strip().lstrip("£").replace(",", "") or "0"
        if not re.fullmatch(r"\d{1,5}(\.\d{1,2})?", text):
            raise ValidationError("Enter the charge in pounds, for example 75 or 75.00")
        self.charge_pence = int(Decimal(text) * 100)


class LevelForm(AdminForm):
    name = StringField("Level name", widget=GovTextInput(), description="The partnership’s own name, for example Level 3 or Conference.",
                       validators=[DataRequired("Enter the level’s name"), Length(max=100)])
    intercollegiate_level = StringField("Intercollegiate level", widget=GovTextInput(),
                                        description="The Intercollegiate Document level it matches, for example Level 3 (core, 6 hours).",
                                        validators=[Length(max=100)])
    position = WholeNumberField("Position in lists", description="Lower numbers come first.", message="The position must be a whole number")
    submit = SubmitField("Save level", widget=GovSubmitInput())


class ThemeForm(AdminForm):
    name = StringField("Theme", widget=GovTextInput(), validators=[DataRequired("Enter the theme’s name"), Length(max=100)])
    submit = SubmitField("Save theme", widget=GovSubmitInput())


class VenueForm(AdminForm):
    name = StringField("Venue name", widget=GovTextInput(), validators=[DataRequired("Enter the venue’s name"), Length(max=200)])
    address = StringField("Address", widget=GovTextArea(), validators=[DataRequired("Enter the venue’s address")])
    access_information = StringField("Access information", widget=GovTextArea(),
                                     description="Step-free access, parking, public transport, hearing loop, where to sign in.")
    active = BooleanField("In use for new sessions", widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Save venue", widget=GovSubmitInput())


class LearningSourceForm(AdminForm):
    kind = SelectField("Kind of source", widget=GovSelect(), validators=[DataRequired("Choose what kind of source this is")])
    title = StringField("Title", widget=GovTextInput(), validators=[DataRequired("Enter the source’s title"), Length(max=200)],
                        description="Anonymised, as it is published, for example Child R or Audit of neglect cases 2026.")
    published_on = GovDateField("Published on", validators=[Optional()],
                                description="Leave blank until it is published: until then no course page names it. "
                                            "For example 27 3 2026.")
    summary = StringField("Summary", widget=GovTextArea(), validators=[Length(max=5000)],
                          description="What it found, in a few lines. Shown only to the L&D team and reviewers.")
    submit = SubmitField("Save source", widget=GovSubmitInput())


class RecommendationForm(AdminForm):
    number = WholeNumberField("Number", description="As the source numbers it.", message="The number must be a whole number")
    text = StringField("Recommendation", widget=GovTextArea(),
                       validators=[DataRequired("Enter the recommendation as the source words it"), Length(max=5000)])
    status = SelectField("Status", widget=GovSelect())
    submit = SubmitField("Save recommendation", widget=GovSubmitInput())


class RecommendationTrainingForm(AdminForm):
    course_ids = MultiCheckboxField("Courses that answer it", coerce=int,
                                    description="Every session of these courses counts in the board’s report.")
    session_ids = MultiCheckboxField("Sessions that answer it", coerce=int,
                                     description="One-off sessions, such as a learning workshop on this review. "
                                                 "Sessions of the past 2 years and to come.")
    submit = SubmitField("Save training", widget=GovSubmitInput())


class PartForm(SubForm):
    date = GovDateField("Date", years=SESSION_YEARS)
    starts_at = ClockTimeField("Start time", description="For example 9:30")
    ends_at = ClockTimeField("End time", description="For example 16:30")

    @property
    def is_blank(self) -> bool:
        return self.date.data is None and not (self.starts_at.data or "").strip() and not (self.ends_at.data or "").strip()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if not ok or self.is_blank:
            return ok
        if self.date.data is None:
            self.date.errors.append("Enter the date of this part")
        if self.starts_at.time is None:
            self.starts_at.errors.append("Enter the start time of this part")
        if self.ends_at.time is None:
            self.ends_at.errors.append("Enter the end time of this part")
        return not (self.date.errors or self.starts_at.errors or self.ends_at.errors)

    def london_times(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.date.data, self.starts_at.time),
                datetime.combine(self.date.data, self.ends_at.time))


class ReservationForm(SubForm):
    sector_id = SelectField("Sector", widget=GovSelect(), coerce=int, validate_choice=False)
    agency_id = SelectField("or agency", widget=GovSelect(), coerce=int, validate_choice=False)
    places = WholeNumberField("Places", message="The places must be a whole number")

    @property
    def is_blank(self) -> bool:
        return not self.sector_id.data and not self.agency_id.data and not (self.places.data or "").strip()


class SessionForm(AdminForm):
    parts = FieldList(FormField(PartForm), min_entries=PART_ROWS, max_entries=PART_ROWS)
    venue_id = SelectField("Venue", widget=GovSelect(), coerce=int, validate_choice=False)
    online_url = StringField("Online joining link", widget=GovTextInput(), validators=[Length(max=500)],
                             description="Sent only to people with a confirmed place. Leave blank for a session in a room.")
    capacity = WholeNumberField("Places", message="The places must be a whole number",
                                validators=[DataRequired("Enter the number of places")])
    reservations = FieldList(FormField(ReservationForm), min_entries=RESERVATION_ROWS, max_entries=RESERVATION_ROWS)
    reservation_release_days = WholeNumberField(
        "Release unused reserved places this many days before the start",
        message="The days must be a whole number", validators=[DataRequired("Enter when reserved places are released")])
    closed_to_agency_id = SelectField(
        "Closed to one agency", widget=GovSelect(), coerce=int, validate_choice=False,
        description="A closed session is not on the public programme: only that agency's staff see and book it. "
                    "Its attendance still counts in the reports.")
    booking_opens_on = GovDateField("Booking opens", years=SESSION_YEARS, description="Leave blank to open bookings as soon as the session is published.")
    booking_opens_time = ClockTimeField("Booking opens at", description="Leave blank for midnight.")
    booking_closes_on = GovDateField("Booking closes", years=SESSION_YEARS, description="Leave blank to take bookings until the session starts.")
    booking_closes_time = ClockTimeField("Booking closes at", description="Leave blank for 5:00pm.")
    trainer_ids = MultiCheckboxField("Trainers", coerce=int, description="People with the trainer role.")
    external_trainers = StringField("External trainers", widget=GovTextInput(), validators=[Length(max=500)],
                                    description="Names of trainers from outside, separated by commas.")
    book_anyway = BooleanField(
        "Book anyway if a trainer or room is already booked at the time", widget=GovCheckboxInput(),
        description="Administrators only. The clash and who booked it anyway are kept in the session’s history.")
    joining_instructions = StringField("Joining instructions", widget=GovTextArea(),
                                       description="What to bring, arrival time, lunch: sent with the confirmation.")
    submit = SubmitField("Save session", widget=GovSubmitInput())

    def validate_booking_opens_time(self, field):
        if field.time is not None and self.booking_opens_on.data is None:
            raise ValidationError("Enter the date booking opens, or leave the time blank")

    def validate_booking_closes_time(self, field):
        if field.time is not None and self.booking_closes_on.data is None:
            raise ValidationError("Enter the date booking closes, or leave the time blank")

    def validate_parts(self, field):
        if all(entry.form.is_blank for entry in field.entries):
            raise ValidationError("Enter the date and times of at least one part")


class SessionCopyForm(AdminForm):
    dates = FieldList(GovDateField("First day of the copy", years=SESSION_YEARS), min_entries=COPY_ROWS, max_entries=COPY_ROWS)
    submit = SubmitField("Make the copies", widget=GovSubmitInput())


class SessionCancelForm(AdminForm):
    reason = StringField("Reason for cancelling", widget=GovTextArea(),
                         description="People booked will see this in the message telling them.",
                         validators=[DataRequired("Enter the reason for cancelling"), Length(max=2000)])
    submit = SubmitField("Cancel the session", widget=GovSubmitInput())


class ProgrammeFilterForm(BaseForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField("Search", widget=GovTextInput(), validators=[Optional(), Length(max=100)],
                    description="Course title, code, description or venue")
    level = SelectField("Level", widget=GovSelect(), coerce=int, validate_choice=False, default=0)
    theme = SelectField("Theme", widget=GovSelect(), coerce=int, validate_choice=False, default=0)
    sector = SelectField("For people working in", widget=GovSelect(), coerce=int, validate_choice=False, default=0)
    month = SelectField("Month", widget=GovSelect(), validate_choice=False, default="")
    places = BooleanField("Only sessions with places left", widget=GovCheckboxInput())



WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))]


class ProviderForm(AdminForm):
    name = StringField("Organisation", widget=GovTextInput(),
                       validators=[DataRequired("Enter the organisation’s name"), Length(max=200)])
    contact_name = StringField("Contact name", widget=GovTextInput(), validators=[Length(max=200)])
    email = StringField("Contact e-mail address", widget=GovTextInput(), validators=[Length(max=254)])
    phone = StringField("Contact phone number", widget=GovTextInput(), validators=[Length(max=50)])
    contract_reference = StringField("Contract reference", widget=GovTextInput(), validators=[Length(max=100)])
    contract_starts_on = GovDateField("Contract starts", years=SESSION_YEARS, validators=[Optional()])
    contract_ends_on = GovDateField("Contract ends", years=SESSION_YEARS, validators=[Optional()])
    active = BooleanField("Commissioned now (its trainers can be chosen)", widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Save provider", widget=GovSubmitInput())


class TrainerProfileForm(AdminForm):
    provider_id = SelectField("Internal or from a provider", coerce=int, widget=GovSelect())
    course_ids = MultiCheckboxField("Courses they can deliver", coerce=int,
                                    description="Leave all unticked if they can deliver any course.")
    working_days = MultiCheckboxField("Days they usually train", choices=WEEKDAY_CHOICES,
                                      description="A session on another day gives a warning, not a refusal.")
    notes = StringField("Notes for the L&D team", widget=GovTextArea(), validators=[Length(max=2000)])
    submit = SubmitField("Save trainer", widget=GovSubmitInput())


class UnavailabilityForm(AdminForm):
    starts_on = GovDateField("First day unavailable", years=SESSION_YEARS,
                             validators=[DataRequired("Enter the first day they are unavailable")])
    ends_on = GovDateField("Last day unavailable", years=SESSION_YEARS,
                           validators=[DataRequired("Enter the last day they are unavailable")])
    reason = StringField("Reason (optional)", widget=GovTextInput(), validators=[Length(max=200)],
                         description="Shown to the L&D team with the warning, for example ‘annual leave’.")
    submit = SubmitField("Add these dates", widget=GovSubmitInput())


class ProgrammeItemForm(AdminForm):
    kind = RadioField("What is it?", widget=GovRadioInput(), choices=[
        ("plenary", "Plenary (everyone)"), ("workshop", "Workshop (people choose one per time slot)")],
        validators=[InputRequired("Choose plenary or workshop")])
    day = GovDateField("Date", years=SESSION_YEARS)
    starts_at = ClockTimeField("Start time", description="For example 11:00. Workshops starting together are one slot.")
    ends_at = ClockTimeField("End time", description="For example 12:30")
    title = StringField("Title", widget=GovTextInput(), validators=[DataRequired("Enter the title"), Length(max=200)])
    leads = StringField("Speakers or workshop leads (optional)", widget=GovTextInput(), validators=[Length(max=500)],
                        description="Names and roles, as the programme prints them.")
    room = StringField("Room (optional)", widget=GovTextInput(), validators=[Length(max=200)])
    capacity = WholeNumberField("Places (workshops)", message="The places must be a whole number")
    submit = SubmitField("Add to the programme", widget=GovSubmitInput())


class ChoicesCloseForm(AdminForm):
    close_day = GovDateField("Date", years=SESSION_YEARS)
    close_time = ClockTimeField("Time", description="For example 17:00")
    submit = SubmitField("Save when choices close", widget=GovSubmitInput())

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and self.close_day.data is None and self.close_time.time is not None:
            self.close_day.errors.append("Enter the date choices close, or clear the time")
            return False
        if ok and self.close_day.data is not None and self.close_time.time is None:
            self.close_time.errors.append("Enter the time choices close, for example 17:00")
            return False
        return ok
