"""What the API reads from a request and what it answers, as marshmallow schemas: the views load
their parameters with them and dump their answers through them, and the OpenAPI document
(app.api.spec) is generated from the same classes, so the document cannot drift from the code."""
from __future__ import annotations

from datetime import timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from app.inputs import YEAR_MAX, YEAR_MIN

MAX_PAGE = 2_147_483_647
MAX_PAGE_SIZE = 100


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE  # a parameter the API does not know (a cache-buster) is ignored


def _in_years(value) -> None:
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise ValidationError(f"Must be in the years {YEAR_MIN} to {YEAR_MAX}.")


class UtcDateTime(fields.DateTime):
    """An ISO 8601 moment; with an offset it is turned into UTC, without one it is read as UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return moment

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


class PageQuery(_Lenient):
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE),
                          metadata={"description": "Which page, from 1."})
    page_size = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE_SIZE),
                               metadata={"description": f"Items a page, 1 to {MAX_PAGE_SIZE}."})


class ListQuery(PageQuery):
    date_from = fields.Date(data_key="from", validate=_in_years,
                            metadata={"description": "Only items on or after this day (UK date, YYYY-MM-DD)."})
    date_to = fields.Date(data_key="to", validate=_in_years,
                          metadata={"description": "Only items on or before this day (UK date, YYYY-MM-DD)."})
    changed_since = UtcDateTime(validate=_in_years, metadata={
        "description": "Only items created or changed at or after this moment (ISO 8601; UTC if no offset)."})

    @validates_schema
    def _order(self, data, **_kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("from must be on or before to.", "from")


class RefresherQuery(PageQuery):
    date_from = fields.Date(data_key="from", validate=_in_years,
                            metadata={"description": "Only refreshers due on or after this day."})
    date_to = fields.Date(data_key="to", validate=_in_years,
                          metadata={"description": "Only refreshers due on or before this day."})


# --- Answers -------------------------------------------------------------------------------------

class Links(Schema):
    self_ = fields.String(data_key="self", attribute="self", required=True)
    first = fields.String(required=True)
    last = fields.String(required=True)
    next = fields.String(allow_none=True, required=True)
    prev = fields.String(allow_none=True, required=True)


class PageMeta(Schema):
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "Items in all pages."})
    links = fields.Nested(Links, required=True)


class CourseRef(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)


class Person(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    job_title = fields.String(required=True)


class Part(Schema):
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)


class Venue(Schema):
    name = fields.String(required=True)
    address = fields.String(required=True)


class Course(CourseRef):
    level = fields.String(allow_none=True, required=True)
    duration_hours = fields.String(required=True, metadata={"description": "Decimal hours, e.g. \"6.50\"."})
    online = fields.Boolean(required=True)


class SessionOut(Schema):
    id = fields.Integer(required=True)
    course = fields.Nested(Course, required=True)
    starts_at = UtcDateTime(required=True, allow_none=True)
    ends_at = UtcDateTime(required=True, allow_none=True)
    parts = fields.List(fields.Nested(Part), required=True)
    venue = fields.Nested(Venue, allow_none=True, required=True)
    capacity = fields.Integer(required=True)
    places_left = fields.Integer(required=True)
    state = fields.String(required=True, metadata={
        "description": "open, few, full, closed, not_open or cancelled"})
    updated_at = UtcDateTime(required=True)
    url = fields.String(required=True, metadata={"description": "The session's page, to book on."})


class SessionRef(Schema):
    id = fields.Integer(required=True)
    starts_at = UtcDateTime(required=True, allow_none=True)
    course = fields.Nested(CourseRef, required=True)


class BookingOut(Schema):
    id = fields.Integer(required=True)
    person = fields.Nested(Person, required=True)
    session = fields.Nested(SessionRef, required=True)
    status = fields.String(required=True, metadata={"description": "The booking's state, e.g. confirmed, waiting, cancelled."})
    state_label = fields.String(required=True)
    late_cancellation = fields.Boolean(required=True)
    walk_in = fields.Boolean(required=True)
    attendance = fields.String(allow_none=True, required=True, metadata={
        "description": "What the register says (null: not marked yet)."})
    attendance_label = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class CompletionOut(Schema):
    id = fields.Integer(required=True)
    person = fields.Nested(Person, required=True)
    course = fields.Nested(CourseRef, required=True)
    completed_on = fields.Date(required=True)
    source = fields.String(required=True, metadata={"description": "attendance, self_recorded or prior_learning"})
    provider = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    changed_at = UtcDateTime(required=True)


class CertificateOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "The verification code printed on the certificate."})
    verify_url = fields.String(required=True, metadata={"description": "Where anyone holding the code can check it."})
    issued_at = UtcDateTime(required=True)
    booking_id = fields.Integer(required=True)
    person = fields.Nested(Person, required=True)
    session = fields.Nested(SessionRef, required=True)


class ChargeOut(Schema):
    id = fields.Integer(required=True)
    booking_id = fields.Integer(required=True)
    person = fields.Nested(Person, required=True)
    session = fields.Nested(SessionRef, required=True)
    reason = fields.String(required=True)
    amount_pence = fields.Integer(required=True)
    incurred_on = fields.Date(required=True)
    status = fields.String(required=True, metadata={"description": "due, waived or paid"})
    updated_at = UtcDateTime(required=True)


class RefresherOut(Schema):
    person = fields.Nested(Person, required=True)
    course = fields.Nested(CourseRef, required=True)
    completed_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    state = fields.String(required=True, metadata={"description": "overdue or due_soon"})


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of items: `data` and the page's figures and links."""
    return type(name, (PageMeta,), {"data": fields.List(fields.Nested(item), required=True)})


SessionPage = page_of(SessionOut, "SessionPage")
BookingPage = page_of(BookingOut, "BookingPage")
CompletionPage = page_of(CompletionOut, "CompletionPage")
CertificatePage = page_of(CertificateOut, "CertificatePage")
ChargePage = page_of(ChargeOut, "ChargePage")
RefresherPage = page_of(RefresherOut, "RefresherPage")


class Problem(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={
        "description": "For 400: each parameter's (or the body's, e.g. `rows.2.email`) problems; "
                       "for 422: each unreadable row's, by its index (`rows.2`)."})
    rule = fields.String(metadata={
        "description": "For 409: the booking rule that refused, in a word (e.g. not_booked_here)."})


# --- Writes --------------------------------------------------------------------------------------

MAX_COMPLETION_ROWS = 1000


class _Strict(Schema):
    pass  # a write's body: a field the API does not know is an error, not silently dropped


class CompletionRowIn(_Strict):
    email = fields.String(required=True, metadata={"description": "The person's e-mail address (any case)."})
    name = fields.String(allow_none=True, metadata={
        "description": "Their name: needed only to open an account for someone on the agency's "
                       "domain who has none yet."})
    course = fields.String(required=True, metadata={"description": "An online course's code or title here."})
    completed_on = fields.String(required=True, metadata={
        "format": "date", "description": "The day completed: 2026-03-27 (or 27/03/2026); not in the future."})
    score = fields.Float(allow_none=True, metadata={"description": "0 to 100, if the provider gives one."})


class CompletionsIn(_Strict):
    rows = fields.List(fields.Nested(CompletionRowIn), required=True, validate=validate.Length(min=1),
                       metadata={"maxItems": MAX_COMPLETION_ROWS,
                                 "description": f"1 to {MAX_COMPLETION_ROWS} rows (more: 413)."})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "true: say what would be recorded, record nothing."})


class CompletionOutcome(Schema):
    index = fields.Integer(required=True, metadata={"description": "The row's place in `rows`, from 0."})
    email = fields.String(required=True)
    course = fields.String(required=True, metadata={"description": "The course as sent."})
    completed_on = fields.Date(required=True)
    outcome = fields.String(required=True, metadata={
        "description": "recorded (or would be, in a dry run), new_account (an account opened for "
                       "someone on the agency's domain, and recorded), duplicate (already recorded, "
                       "or repeats an earlier row) or unmatched (not recorded: see reason)."})
    reason = fields.String(required=True, metadata={"description": "Why a row is unmatched or a duplicate."})
    person_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "The agency's person it was recorded for (null when unmatched, or a new "
                       "account in a dry run)."})
    course_id = fields.Integer(allow_none=True, required=True)


class CompletionsResult(Schema):
    dry_run = fields.Boolean(required=True)
    recorded = fields.Integer(required=True, metadata={"description": "Completions recorded (or that would be)."})
    accounts_opened = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    unmatched = fields.Integer(required=True)
    rows = fields.List(fields.Nested(CompletionOutcome), required=True)


class BookingIn(_Strict):
    session_id = fields.Integer(required=True, validate=validate.Range(1, MAX_PAGE),
                                metadata={"description": "The session (from /sessions)."})
    person_id = fields.Integer(validate=validate.Range(1, MAX_PAGE), metadata={
        "description": "The person (as the agency's lists give it); or send `email`."})
    email = fields.String(validate=validate.Length(1, 255), metadata={
        "description": "The person's e-mail address; or send `person_id`."})

    @validates_schema
    def _one_person(self, data, **_kwargs):
        if ("person_id" in data) == ("email" in data):
            raise ValidationError("Send person_id or email (one of them).", "person_id")


