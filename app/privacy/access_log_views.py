"""The access log: written after each page that recorded one, and read by administrators.

Writing: a page records its access in `g` (app.access_log.record_access). Once the page is drawn,
and before it is sent, the request's transaction is ended (a GET's only read; a POST's view has
committed what it meant to keep, and teardown would roll back the rest anyway) and the rows are
written in a short write transaction of their own (on SQLite BEGIN IMMEDIATE, which waits its turn
for the write lock rather than failing as a read turned write can, see app.locking). If they cannot
be written, the person is shown "try again" instead of the page: nobody is shown other people's
data without it being logged. Only pages shown (status 2xx) are logged: a redirect, a refusal or an
error page showed nothing. A download streamed from a query writes its row before it starts
(record_access(..., streamed=True)), as ending the transaction afterwards would close its cursor.
"""
from __future__ import annotations

import logging

from flask import current_app, g, make_response, render_template, request
from flask.wrappers import Response
from sqlalchemy.exc import SQLAlchemyError

from app.access_log import KINDS, WRITER, record_access, take_recorded, write_entries
from app.accounts.access import ADMIN, requires
from app.accounts.models import User
from app.clock import add_months, today_london
from app.extensions import db, login_manager
from app.filters import Period, read_form_period
from app.inputs import query_int, query_page, row_or_404
from app.locking import write_intent
from app.privacy import bp, queries
from app.privacy.forms import AccessLogFilterForm

log = logging.getLogger(__name__)

PAGE_SIZE = 50


def write_recorded(rows: list[dict]) -> Response | None:
    """Write recorded rows and commit; on failure, the "try again" page to send instead of the data."""
    db.session.rollback()
    try:
        with write_intent():
            write_entries(rows)
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("The access log could not be written for %s; the data was withheld",
                      request.endpoint)
        # Drawn as signed out, as app/__init__.py's 503 page is: the person is not read again from
        # a database that just failed.
        g._login_user = login_manager.anonymous_user()
        return make_response(render_template("errors/503.html"), 503, {"Retry-After": "30"})
    return None


@bp.record_once
def _install_writer(state) -> None:
    state.app.extensions[WRITER] = write_recorded


@bp.after_app_request
def write_access_log(response: Response) -> Response:
    rows = take_recorded()
    if not rows or not 200 <= response.status_code < 300:
        return response
    if response.is_streamed:
        raise RuntimeError(f"{request.endpoint} streams: record its access with streamed=True")
    return write_recorded(rows) or response


@bp.route("/admin/access-log")
@requires(ADMIN)
def access_log():
    form = AccessLogFilterForm(request.args)
    form.viewer_id.choices = [(0, "Anyone")] + [(p.id, p.name) for p in queries.access_log_viewers()]
    form.kind.choices = [("", "Any")] + list(KINDS.items())
    form.validate()
    subject_id = query_int("subject_id")
    subject = row_or_404(User, subject_id) if subject_id is not None else None
    today = today_london()
    # Everything kept about one person; otherwise the last month.
    months = current_app.config["ACCESS_LOG_RETENTION_MONTHS"] if subject else 1
    period = read_form_period(form, Period(add_months(today, -months), today))
    kind = form.kind.data if form.kind.data and not form.kind.errors else None
    entries = db.paginate(
        queries.access_log_entries(viewer_id=form.chosen(form.viewer_id), kind=kind,
                                   subject_id=subject.id if subject else None,
                                   starts=period.start_utc, ends=period.end_utc),
        page=query_page(), per_page=PAGE_SIZE, error_out=False)
    # The log names whose data staff looked at, so reading it is logged like any other such page.
    record_access("access_log", subject_user_id=subject.id if subject else None,
                  scope=f"{period.starts_on} to {period.ends_on}")
    everyone_args = period.args(viewer_id=form.chosen(form.viewer_id), kind=kind)
    args = dict(everyone_args, **({"subject_id": subject.id} if subject else {}))
    return render_template("privacy/access_log.html", form=form, entries=entries, subject=subject,
                           period=period, kinds=KINDS, args=args, everyone_args=everyone_args)
