"""The API's writes: the agency's staff's e-learning completions in bulk, and booking or cancelling
a place for one of them where the agency's coordinator may.

Thin, like every view: read the body (app.api.answers.body), run the domain's own rule
(attendance.completion_import, bookings.on_behalf) as the person who created the token, and commit
once, with the access log row in the same transaction, or roll back and answer a problem: nothing
is ever half-saved.
"""
from __future__ import annotations

import re

from flask import g

from app.access_log import record_access, take_recorded, write_entries
from app.accounts.models import ACTIVE, ADMIN, COORDINATOR, User
from app.api import bp, queries, representations, schemas
from app.api.answers import accepts_json, body, written
from app.api.auth import token_required
from app.api.problems import problem
from app.api.spec import operation
from app.api.views import AGENCY_NOTE, PREFIX
from app.attendance.completion_import import (
    DUPLICATE,
    MATCHED,
    NEW,
    UNMATCHED,
    CompletionImport,
    CompletionRowsRefused,
    apply_completions,
    preview_completions,
)
from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.bookings.errors import BookingError
from app.bookings.on_behalf import book_for_staff, cancel_for_staff, coordinates
from app.errors import DomainError
from app.extensions import db

# Added to the booking history's row, after who did it.
THROUGH_API = "through the agency’s system"
NOT_STAFF = "The agency has nobody with this id or address."
NOT_COORDINATING = ("The person who created this token no longer coordinates the agency, so it cannot "
                    "book or cancel places: a coordinator must create a new token.")
_REPEATS = re.compile(r"^repeats line (\d+)$")


def _commit_logged(resource: str, subject_user_id: int | None = None) -> None:
    """Commit the write with its access log row (the answer shows the agency's staff)."""
    token = g.api_token
    record_access("api", viewer_id=token.created_by_id, subject_user_id=subject_user_id,
                  scope=f"API token {token.id}: agency {token.agency_id}, {resource}")
    write_entries(take_recorded())
    db.session.commit()


# --- Completions ---------------------------------------------------------------------------------

def _unmatched_reason(row, agency) -> str:
    """Why a row was not recorded, saying nothing of people outside the agency (an address that is
    someone else's, closed or not, reads as one the agency does not have)."""
    if row.course_id is None or row.agency_id == agency.id:
        return row.reason
    return f"{agency.name} has nobody with this address, and it is not on the agency’s domains"


def _outcomes(found: CompletionImport, agency, dry_run: bool) -> dict:
    rows = []
    for row in found.rows:
        outcome = {MATCHED: "recorded", NEW: "new_account", DUPLICATE: "duplicate", UNMATCHED: "unmatched"}[row.kind]
        reason = _unmatched_reason(row, agency) if row.kind == UNMATCHED else row.reason
        repeats = _REPEATS.match(reason)
        if repeats:
            reason = f"repeats row {repeats.group(1)}"
        ours = row.kind in (MATCHED, NEW) or (row.kind == DUPLICATE and row.agency_id == agency.id)
        rows.append({"index": row.line, "email": row.email, "course": row.course_text,
                     "completed_on": row.completed_on, "outcome": outcome, "reason": reason,
                     "person_id": row.person_id if ours else None,
                     "course_id": row.course_id})
    return {"dry_run": dry_run, "recorded": found.to_record,
            "accounts_opened": len({r.email for r in found.of_kind(NEW)}),
            "duplicates": found.duplicates, "unmatched": found.unmatched, "rows": rows}


@bp.route(f"{PREFIX}/agency/completions", methods=["POST"])
@token_required("completions")
@operation(
    summary="Record completions in bulk", tag="Agency", body=schemas.CompletionsIn,
    response=schemas.CompletionsResult, body_example={"rows": [
        {"email": "sam.example@agency.example", "name": "Sam Example", "course": "EL1",
         "completed_on": "2026-03-27", "score": 85}], "dry_run": False},
    ok="Nothing recorded: a dry run, or every row is unmatched or a duplicate. Each row's outcome.",
    created="Recorded: the counts and each row's outcome.",
    problems={"413": f"More than {schemas.MAX_COMPLETION_ROWS} rows: split them.",
              "422": "A row cannot be read (see `errors`, by row): nothing was recorded."},
    description="An e-learning provider's or HR system's completions of online courses, as the L&D "
                "team's import reads them: each row is recorded for the agency's person with that "
                "address, or opens an account for someone on the agency's own domain who has none "
                "yet (`name` needed), or comes back unmatched with the reason (someone outside the "
                "agency, an unknown course) or as a duplicate (already recorded, so sending the same "
                "rows again records nothing twice). All or nothing: one unreadable row (no address, "
                "a date that is not a date or is in the future, a score outside 0 to 100) refuses "
                "them all." + AGENCY_NOTE)
def record_completions():
    if not accepts_json():
        return problem(406)
    sent = body(schemas.CompletionsIn)
    if len(sent["rows"]) > schemas.MAX_COMPLETION_ROWS:
        return problem(413, f"At most {schemas.MAX_COMPLETION_ROWS} rows a call: split them.")
    token = g.api_token
    agency, actor = token.agency, token.created_by
    rows = [{**row, "line": index} for index, row in enumerate(sent["rows"])]
    try:
        found = preview_completions(rows, actor, agency)
        if sent["dry_run"] or not found.to_record:
            answer = _outcomes(found, agency, sent["dry_run"])
            db.session.rollback()
            _commit_logged("completions, none recorded")
            return written(schemas.CompletionsResult, answer)
        found = apply_completions(rows, actor, agency)
    except CompletionRowsRefused as refused:
        db.session.rollback()
        return problem(422, f"{refused.message.replace('file', 'request')} Nothing was recorded.",
                       errors={f"rows.{line}": [reason] for line, reason in refused.lines})
    except DomainError as refused:
        db.session.rollback()
        return problem(422, refused.message)
    answer = _outcomes(found, agency, False)
    _commit_logged(f"completions recorded {answer['recorded']}")
    return written(schemas.CompletionsResult, answer, 201)


# --- Bookings ------------------------------------------------------------------------------------

def _acting_for(agency) -> User | None:
    """The token's creator, if they may still book for the agency's staff: an active administrator,
    or an active coordinator of the agency (None otherwise)."""
    creator = g.api_token.created_by
    if creator is None or creator.status != ACTIVE:
        return None
    if creator.has_role(ADMIN) or (creator.has_role(COORDINATOR) and agency.id in creator.coordinated_agency_ids):
        return creator
    return None


def _refused(refusal: BookingError):
    db.session.rollback()
    return problem(409, refusal.message, rule=refusal.kind)


@bp.route(f"{PREFIX}/agency/bookings", methods=["POST"])
@token_required("bookings")
@operation(
    summary="Book a place for one of the agency's staff", tag="Agency", body=schemas.BookingIn,
    response=schemas.BookingOut, ok=None, body_example={"session_id": 42, "email": "sam.example@agency.example"},
    created="Booked: `status` is confirmed, waiting (the session is full for them: on the waiting "
            "list) or awaiting_approval (a place held while their line manager is asked).",
    problems={"403": "The token lacks the bookings scope, or the person who created it no longer "
                     "coordinates the agency.",
              "404": "No such session open to the public, or the agency has no such person.",
              "409": "The booking rules refuse (see `detail` and `rule`): already booked, the window "
                     "is closed, a prerequisite is missing, they are suspended..."},
    description="Book a place on a session for a person of the agency, exactly as the agency's "
                "coordinator may on its pages: the same rules as booking for oneself (quotas, the "
                "booking window, prerequisites, suspensions, the line manager's agreement where the "
                "course needs it), acting as the person who created the token, who must still "
                "coordinate the agency (or be an administrator). The booking history names them and "
                "says it came through the agency's system. The person is e-mailed as usual.")
def book_for_person():
    if not accepts_json():
        return problem(406)
    sent = body(schemas.BookingIn)
    agency = g.api_token.agency
    actor = _acting_for(agency)
    if actor is None:
        return problem(403, NOT_COORDINATING)
    person = queries.staff_member(agency, sent.get("person_id"), sent.get("email"))
    if person is None:
        return problem(404, NOT_STAFF)
    session = queries.bookable_session(agency, sent["session_id"])
    if session is None:
        return problem(404, "There is no such session.")
    try:
        if actor.id == person.id:  # the coordinator's own place, as they may book on their own pages
            booking = book_place(session, person, actor, note=THROUGH_API)
        elif coordinates(actor, person):
            booking = book_for_staff(actor, person, session, note=f"by their agency’s coordinator, {THROUGH_API}")
        else:
            booking = book_place(session, person, actor, note=f"by the L&D team, {THROUGH_API}")
    except BookingError as refusal:
        return _refused(refusal)
    answer = representations.booking(booking)
    _commit_logged(f"booking {booking.id}", person.id)
    return written(schemas.BookingOut, answer, 201)


@bp.route(f"{PREFIX}/agency/bookings/<int:booking_id>", methods=["DELETE"])
@token_required("bookings")
@operation(
    summary="Cancel a place of one of the agency's staff", tag="Agency", response=schemas.BookingOut,
    path_parameters={"booking_id": "The booking's id (from /agency/bookings)."},
    ok="Cancelled: the booking as it now is (`late_cancellation`: inside the notice period, so it "
       "may be charged to the agency).",
    problems={"403": "The token lacks the bookings scope, or the person who created it no longer "
                     "coordinates the agency.",
              "404": "The agency has no such booking.",
              "409": "The booking cannot be cancelled (see `detail`): already cancelled, or the "
                     "session has started."},
    description="Cancel a place or a waiting place, as the agency's coordinator may: late "
                "cancellations are charged as usual, and the next person waiting is offered the "
                "place. Acts as the person who created the token (who must still coordinate the "
                "agency, or be an administrator).")
def cancel_for_person(booking_id: int):
    if not accepts_json():
        return problem(406)
    agency = g.api_token.agency
    actor = _acting_for(agency)
    if actor is None:
        return problem(403, NOT_COORDINATING)
    booking = queries.agency_booking(agency, booking_id)
    if booking is None:
        return problem(404, "The agency has no such booking.")
    try:
        if actor.id == booking.user_id:  # the coordinator's own place
            booking = cancel_booking(booking, actor, THROUGH_API)
        elif coordinates(actor, booking.user):
            booking = cancel_for_staff(actor, booking, THROUGH_API)
        else:
            booking = cancel_booking(booking, actor, THROUGH_API)
    except BookingError as refusal:
        return _refused(refusal)
    answer = representations.booking(booking)
    _commit_logged(f"booking {booking.id} cancelled", booking.user_id)
    return written(schemas.BookingOut, answer)
