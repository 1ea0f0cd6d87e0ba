"""The API's endpoints under /api/v1, its OpenAPI document and its reference page.

Thin, like every view: read the parameters (app.api.answers), read through app.api.queries, and
answer through the schemas. Agency resources belong to the token's agency alone, and each call that
shows its staff writes one access log row, answered for by the person who created the token.
"""
from __future__ import annotations

import logging

from flask import g, jsonify, render_template
from sqlalchemy.exc import SQLAlchemyError

from app.access_log import record_access
from app.accounts.access import public
from app.api import bp, queries, representations, schemas
from app.api.answers import answer, page_of, paged, parameters
from app.api.auth import token_required
from app.api.problems import problem
from app.api.spec import document, operation
from app.api.tokens import SCOPES, mark_used, note_use
from app.extensions import db
from app.locking import write_intent

log = logging.getLogger(__name__)
PREFIX = "/api/v1"
AGENCY_NOTE = " Only the token's own agency's staff are ever listed."


@bp.after_request
def _note_token_use(response):
    """Record when a token was last used (at most once a minute), in a short transaction of its own."""
    token = g.get("api_token")
    if token is None or response.status_code >= 400 or not note_use(token):
        return response
    token_id = token.id
    db.session.rollback()
    try:
        with write_intent():
            mark_used(token_id)
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("Could not record the use of API token %s", token_id)
    return response


def _logged(response, resource: str, period):
    """Write the access log row of an answer that shows the agency's staff, before it is sent.

    Written at once (as a streamed download's is), so that if it cannot be written the caller gets
    a 503 problem rather than the error page the access log's writer shows in a browser.
    """
    if response.status_code == 200:
        token = g.api_token
        record_access("api", viewer_id=token.created_by_id, streamed=True,
                      scope=f"API token {token.id}: agency {token.agency_id}, {resource}, "
                            f"{period.starts_on} to {period.ends_on}")
    return response


def _list(resource: str, rows_for, show, page_schema, query_schema=schemas.ListQuery):
    args = parameters(query_schema)
    period = queries.period(args.get("date_from"), args.get("date_to"))
    rows = rows_for(g.api_token.agency, period, args.get("changed_since"))
    body, headers = paged(page_of(rows, args["page"], args["page_size"]), show)
    return _logged(answer(page_schema, body, headers), resource, period)


@bp.route(f"{PREFIX}/sessions")
@token_required("read")
@operation(summary="The programme", tag="Programme", response=schemas.SessionPage, query=schemas.ListQuery,
           description="Published sessions yet to start, as the public programme lists them, by start. "
                       "`from` and `to` narrow by the day a session starts; `changed_since` by when "
                       "it was last changed.")
def list_sessions():
    args = parameters(schemas.ListQuery)
    sessions = queries.programme(queries.period(args.get("date_from"), args.get("date_to")), args.get("changed_since"))
    found = page_of(sessions, args["page"], args["page_size"])
    places = queries.places(found.items)
    body, headers = paged(found, lambda s: representations.session(s, places.get(s.id)))
    return answer(schemas.SessionPage, body, headers)


@bp.route(f"{PREFIX}/sessions/<int:session_id>")
@token_required("read")
@operation(summary="One session", tag="Programme", response=schemas.SessionOut, not_found=True,
           path_parameters={"session_id": "The session's id."},
           description="A published session (or one cancelled after it was published), as its page shows it.")
def get_session(session_id: int):
    session = queries.public_session(session_id)
    if session is None:
        return problem(404, "There is no such session.")
    return answer(schemas.SessionOut, representations.session(session, queries.places([session]).get(session.id)))


@bp.route(f"{PREFIX}/agency/bookings")
@token_required("read")
@operation(summary="Bookings and attendance", tag="Agency", response=schemas.BookingPage,
           query=schemas.ListQuery,
           description="Places booked for the agency, with their state and what the register says, "
                       "by session start. `from` and `to` narrow by the day the session starts; "
                       "`changed_since` by the booking's last change (state or attendance)." + AGENCY_NOTE)
def list_bookings():
    return _list("bookings", queries.bookings, representations.booking, schemas.BookingPage)


@bp.route(f"{PREFIX}/agency/completions")
@token_required("read")
@operation(summary="Completions", tag="Agency", response=schemas.CompletionPage, query=schemas.ListQuery,
           description="Training completed by the agency's current staff that counts: courses here, "
                       "online courses, and learning elsewhere once the L&D team accepted it. `from` "
                       "and `to` narrow by the day completed; `changed_since` by when it was recorded "
                       "or checked." + AGENCY_NOTE)
def list_completions():
    return _list("completions", queries.completions, representations.completion, schemas.CompletionPage)


@bp.route(f"{PREFIX}/agency/certificates")
@token_required("read")
@operation(summary="Certificates", tag="Agency", response=schemas.CertificatePage, query=schemas.ListQuery,
           description="Certificates of attendance issued for places booked for the agency, with the "
                       "verification code printed on each. `from`, `to` and `changed_since` narrow "
                       "by when it was issued." + AGENCY_NOTE)
def list_certificates():
    return _list("certificates", queries.certificates, representations.certificate, schemas.CertificatePage)


@bp.route(f"{PREFIX}/agency/charges")
@token_required("read")
@operation(summary="Charges", tag="Agency", response=schemas.ChargePage, query=schemas.ListQuery,
           description="Charges to the agency for missed places and late cancellations (not voided "
                       "ones), as its charges statement lists them. `from` and `to` narrow by the day "
                       "incurred; `changed_since` by the last change (waived, paid)." + AGENCY_NOTE)
def list_charges():
    return _list("charges", queries.charges, representations.charge, schemas.ChargePage)


@bp.route(f"{PREFIX}/agency/refreshers")
@token_required("read")
@operation(summary="Refreshers due (training needs)", tag="Agency", response=schemas.RefresherPage,
           query=schemas.RefresherQuery,
           description="The agency's current staff whose refresher is overdue or due soon, by due "
                       "date, as the coordinator's page shows them. `from` and `to` narrow by the due "
                       "date. Worked out afresh on every call, so there is no `changed_since`." + AGENCY_NOTE)
def list_refreshers():
    args = parameters(schemas.RefresherQuery)
    rows = queries.refreshers(g.api_token.agency, args.get("date_from"), args.get("date_to"))
    body, headers = paged(page_of(rows, args["page"], args["page_size"]), representations.refresher)
    return _logged(answer(schemas.RefresherPage, body, headers), "refreshers",
                   queries.period(args.get("date_from"), args.get("date_to")))


@bp.route(f"{PREFIX}/openapi.json")
@public
def openapi_document():
    return jsonify(document())


@bp.route(f"{PREFIX}/docs")
@public
def reference():
    return render_template("api/reference.html", spec=document(), scopes=SCOPES)


@bp.route(f"{PREFIX}/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
@public
def not_found(rest: str):
    return problem(404)
