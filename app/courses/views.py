"""The public programme: the list, session and course pages, the printable year and calendar feeds."""
from __future__ import annotations

import re

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from app import calendar
from app.accounts.access import ADMIN, public
from app.clock import today_london
from app.courses import bp
from app.courses.availability import booking_facts
from app.courses.forms import ProgrammeFilterForm
from app.courses.models import DRAFT, Course, Session
from app.courses.queries import (
    ClosedScope,
    bookable_dates_for,
    interest_of,
    ProgrammeFilters,
    active_sectors,
    by_month,
    count_of,
    course_by_code,
    course_sessions,
    feed_sessions,
    levels_in_order,
    load_sessions,
    month_label,
    programme_year_of,
    public_recommendations_of,
    themes_by_name,
    upcoming_months,
    upcoming_query,
    visible_session,
    year_sessions,
)
from app.inputs import query_int, query_page

PAGE_SIZE = 50


def is_admin() -> bool:
    return current_user.is_authenticated and current_user.has_role(ADMIN)


def viewer_scope() -> ClosedScope:
    """The closed sessions the viewer may see: every one for the L&D team, their agency's for staff."""
    return ClosedScope.for_viewer(current_user)


def viewer_pools() -> tuple[int | None, int | None, str] | None:
    """The signed-in person's agency, sector and how to name them, or None."""
    if not current_user.is_authenticated or current_user.agency is None:
        return None
    agency = current_user.agency
    return agency.id, agency.sector_id, agency.sector.name if agency.sector else agency.name


def _session_states(sessions: list[Session], mine: tuple | None) -> dict[int, dict]:
    """Places left, state and the viewer's own places (`mine`: viewer_pools()) for each session."""
    return {
        session_id: {
            "availability": places.detail,
            "left": places.left,
            "state": places.state,
            "state_label": places.state_label,
            "state_class": places.state_class,
            "bookable": places.bookable,
            "release_at": places.release_at,
            "left_for_me": places.left_for(mine[0], mine[1]) if mine else None,
        }
        for session_id, places in booking_facts().places(sessions).items()
    }


def _calendar_response(body: bytes, filename: str) -> Response:
    response = Response(body, content_type=calendar.CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=900"
    return response


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "programme"


def webcal(url: str) -> str:
    """The webcal:// form of an http(s) feed address, which calendar apps subscribe to."""
    return re.sub(r"^https?://", "webcal://", url)


@bp.app_template_filter("hours")
def format_hours(value) -> str:
    """Hours without trailing zeros: 6, 6.5, 3.25."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


@bp.route("/programme")
@public
def programme():
    mine = viewer_pools()  # first, so the person's sector is loaded the same way whatever the page shows
    filters = ProgrammeFilters.from_args(request.args)
    form = ProgrammeFilterForm(request.args, meta={"csrf": False})
    levels, themes, sectors = levels_in_order(), themes_by_name(), active_sectors()
    scope = viewer_scope()
    months = upcoming_months(scope=scope)
    form.level.choices = [(0, "Any level")] + [(lv.id, lv.name) for lv in levels]
    form.theme.choices = [(0, "Any theme")] + [(t.id, t.name) for t in themes]
    form.sector.choices = [(0, "Any sector")] + [(s.id, s.name) for s in sectors]
    form.month.choices = [("", "Any month")] + [(m, month_label(m)) for m in months]
    form.level.data, form.theme.data, form.sector.data = filters.level_id, filters.theme_id, filters.sector_id
    form.month.data, form.places.data, form.q.data = filters.month, filters.with_places, filters.q

    query = upcoming_query(filters, scope=scope)
    total = count_of(query)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(query_page(), pages)
    sessions = load_sessions(query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    feed_url = url_for("courses.programme_feed", _external=True)
    return render_template(
        "courses/programme.html",
        form=None, filter_form=form, filters=filters, groups=by_month(sessions), states=_session_states(sessions, mine),
        total=total, page=page, pages=pages, pagination=_pagination(page, pages),
        mine=mine, feed_url=feed_url, webcal_url=webcal(feed_url),
    )


def _pagination(page: int, pages: int) -> dict | None:
    if pages <= 1:
        return None
    args = request.args.to_dict()

    def href(number):
        args["page"] = number
        return url_for("courses.programme", **args)

    params = {"items": [{"number": n, "href": href(n), "current": n == page} for n in range(1, pages + 1)]}
    if page > 1:
        params["previous"] = {"href": href(page - 1)}
    if page < pages:
        params["next"] = {"href": href(page + 1)}
    return params


@bp.route("/programme/print")
@public
def programme_print():
    this_year = programme_year_of(today_london())
    year = query_int("year", this_year) or this_year
    if not 2000 <= year <= 2100:
        abort(404)
    sessions = year_sessions(year, viewer_scope())
    return render_template(
        "courses/programme_print.html", year=year, groups=by_month(sessions), count=len(sessions),
        this_year=this_year,
    )


@bp.route("/programme.ics")
@public
def programme_feed():
    name = f"{current_app.config['PARTNERSHIP_NAME']} training programme"
    return _calendar_response(calendar.feed(feed_sessions(), name), f"{_slug(current_app.config['PARTNERSHIP_NAME'])}-training.ics")


def _course_or_404(code: str) -> Course:
    course = course_by_code(code)
    if course is None:
        abort(404)
    return course


@bp.route("/courses/<code>/programme.ics")
@public
def course_feed(code: str):
    course = _course_or_404(code)
    name = f"{course.title} – {current_app.config['PARTNERSHIP_NAME']}"
    return _calendar_response(calendar.feed(feed_sessions(course), name), f"{_slug(course.code)}-sessions.ics")


def _visible_session_or_404(session_id: int) -> Session:
    return visible_session(session_id, include_drafts=is_admin(), scope=viewer_scope()) or abort(404)


@bp.route("/sessions/<int:session_id>")
@public
def session_detail(session_id: int):
    mine = viewer_pools()
    session = _visible_session_or_404(session_id)
    state = _session_states([session], mine)[session.id]
    bookable = state["bookable"]
    # Say why a signed-in person would be refused rather than offer a button that refuses them.
    refusal = (booking_facts().booking_refusal(session, current_user)
               if bookable and current_user.is_authenticated else None)
    taken = booking_facts().workshop_places_taken([w.id for w in session.workshops])
    workshop_left = {w.id: max((w.capacity or 0) - taken.get(w.id, 0), 0) for w in session.workshops}
    return render_template(
        "courses/session.html", session=session, s=state, mine=mine, workshop_left=workshop_left,
        is_admin=is_admin(), bookable=bookable and refusal is None, refusal=refusal,
        release_at=state["release_at"], answers=public_recommendations_of(session.course, session),
    )


@bp.route("/sessions/<int:session_id>/calendar.ics")
@public
def session_calendar(session_id: int):
    session = _visible_session_or_404(session_id)
    if session.status == DRAFT:
        abort(404)  # a draft has no calendar yet: its times are not settled
    name = f"{session.course.title} – {current_app.config['PARTNERSHIP_NAME']}"
    return _calendar_response(calendar.feed([session], name), f"{_slug(session.course.code)}-{session.id}.ics")


@bp.route("/courses/<code>")
@public
def course_detail(code: str):
    mine = viewer_pools()
    course = _course_or_404(code)
    if course.code != code:
        return redirect(url_for("courses.course_detail", code=course.code), 301)
    sessions = course_sessions(course, include_drafts=is_admin(), scope=viewer_scope())
    feed_url = url_for("courses.course_feed", code=course.code, _external=True)
    my_interest = can_register_interest = None
    if current_user.is_authenticated and not course.is_online and not course.is_retired:
        my_interest = interest_of(course, current_user)
        can_register_interest = my_interest is None and not bookable_dates_for(course, current_user)
    return render_template(
        "courses/course.html", course=course, sessions=sessions, states=_session_states(sessions, mine),
        mine=mine, feed_url=feed_url, webcal_url=webcal(feed_url), is_admin=is_admin(),
        answers=public_recommendations_of(course),
        my_interest=my_interest, can_register_interest=can_register_interest,
    )
