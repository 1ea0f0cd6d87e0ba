"""The L&D team's screens: courses, levels, themes, venues and sessions (all under /admin)."""
from __future__ import annotations

from datetime import datetime, time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import FieldList, FormField

from app.accounts.access import ADMIN, requires
from app.accounts.models import Agency, Sector, User
from app.clock import london_to_utc, to_london
from app.courses import bp
from app.courses.availability import booking_facts
from app.courses.catalogue import (
    CourseDetails,
    create_course,
    delete_course,
    reinstate_course,
    retire_course,
    update_course,
)
from app.courses.changes import cancel_session, update_session
from app.courses.clashes import availability_warnings
from app.courses.conference import add_programme_item, remove_programme_item, set_choices_close
from app.courses.copying import duplicate_session
from app.courses.forms import (
    PART_ROWS,
    RESERVATION_ROWS,
    ChoicesCloseForm,
    CourseForm,
    LevelForm,
    PartForm,
    ProgrammeItemForm,
    ReservationForm,
    SessionCancelForm,
    SessionCopyForm,
    SessionForm,
    ThemeForm,
    VenueForm,
)
from app.courses.models import CANCELLED, DRAFT, PUBLISHED, Course, Level, Session, Theme, Venue
from app.courses.queries import (
    active_agencies,
    active_sectors,
    admin_sessions_query,
    catalogue,
    count_of,
    interest_counts,
    last_session_of,
    levels_in_order,
    load_sessions,
    refresher_courses,
    session_count,
    sessions_with_ids,
    themes_by_name,
    trainer_candidates,
    trainer_profiles_of,
    upcoming_session_counts,
    venues_by_name,
    with_ids,
)
from app.courses.reference_data import (
    VenueDetails,
    create_level,
    create_theme,
    create_venue,
    delete_theme,
    rename_theme,
    update_level,
    update_venue,
)
from app.courses.scheduling import (
    PartTimes,
    ReservationPlan,
    SessionPlan,
    create_session,
    delete_session,
    plan_from_session,
    publish_sessions,
)
from app.extensions import db
from app.inputs import query_int, query_page, whole_number
from app.refusals import refusals

ADMIN_PAGE_SIZE = 100


def _paths(aliases: dict[str, str] | None = None, index_maps: dict[str, list[int]] | None = None):
    """Turn the field paths a service names into this form's: its aliases for renamed fields, and
    its row numbers where the service numbered only the rows it was given."""
    aliases, index_maps = aliases or {}, index_maps or {}

    def rename(path: str | None) -> str | None:
        if not path:
            return path
        name, _, rest = path.partition("-")
        name = aliases.get(name, name)
        if rest and name in index_maps:
            index, _, tail = rest.partition("-")
            if index.isdigit() and int(index) < len(index_maps[name]):
                rest = f"{index_maps[name][int(index)]}" + (f"-{tail}" if tail else "")
        return f"{name}-{rest}" if rest else name

    return rename


def _get_or_404(model, object_id: int):
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


# --- Courses -------------------------------------------------------------------------------


@bp.route("/admin/courses")
@requires(ADMIN)
def admin_courses():
    show_retired = request.args.get("retired") == "1"
    courses = catalogue(include_retired=show_retired)
    upcoming = upcoming_session_counts()
    return render_template("courses/admin/courses.html", courses=courses, upcoming=upcoming, show_retired=show_retired)


def _course_choices(form: CourseForm, course: Course | None) -> None:
    form.level_id.choices = [(0, "No level")] + [
        (lv.id, lv.name + (f" (Intercollegiate {lv.intercollegiate_level})" if lv.intercollegiate_level else ""))
        for lv in levels_in_order()
    ]
    form.theme_ids.choices = [(t.id, t.name) for t in themes_by_name()]
    form.audience_sector_ids.choices = [(s.id, s.name) for s in active_sectors()]
    form.renews_course_id.choices = [(0, "No other course")] + [
        (c.id, f"{c.title} ({c.code})")
        for c in refresher_courses()
        if (course is None or c.id != course.id) and (not c.is_retired or (course and c.id == course.renews_course_id))
    ]
    current = {c.id for c in course.prerequisites} if course else set()
    form.prerequisite_ids.choices = [
        (c.id, f"{c.title} ({c.code})")
        for c in catalogue()
        if (course is None or c.id != course.id) and (not c.is_retired or c.id in current)
    ]


def _course_details(form: CourseForm) -> CourseDetails:
    return CourseDetails(
        code=form.code.data, title=form.title.data, description=form.description.data,
        learning_outcomes=form.learning_outcomes.data, audience_roles=form.audience_roles.data,
        grew_from=form.grew_from.data,
        level=db.session.get(Level, form.level_id.data) if form.level_id.data else None,
        themes=with_ids(Theme, form.theme_ids.data), audience_sectors=with_ids(Sector, form.audience_sector_ids.data),
        prerequisites=with_ids(Course, form.prerequisite_ids.data),
        duration_hours=form.hours, is_online=form.is_online.data,
        refresher_months=form.refresher_months.number,
        renews=db.session.get(Course, form.renews_course_id.data) if form.renews_course_id.data else None,
        requires_manager_approval=form.requires_manager_approval.data,
        cancellation_notice_days=form.cancellation_notice_days.number,
        uses_offers=form.uses_offers.data,
        offer_hours=form.offer_hours.number if form.offer_hours.number is not None else 0,
        non_attendance_charge_pence=form.charge_pence,
        evaluation_delay_months=form.evaluation_delay_months.number,
    )


COURSE_ALIASES = {"prerequisites": "prerequisite_ids", "renews": "renews_course_id"}


@bp.route("/admin/courses/new", methods=["GET", "POST"])
@requires(ADMIN)
def admin_course_new():
    form = CourseForm(data={"cancellation_notice_days": 5, "evaluation_delay_months": 3, "offer_hours": 24,
                            "requires_manager_approval": True, "non_attendance_charge": "0"})
    _course_choices(form, None)
    if form.validate_on_submit():
        with refusals(form, rename=_paths(COURSE_ALIASES)) as attempt:
            course = create_course(_course_details(form), current_user)
        if not attempt.refused:
            flash(f"{course.title} added. Now add its sessions.", "success")
            return redirect(url_for("courses.admin_session_new", course_id=course.id))
    return render_template("courses/admin/course_form.html", form=form, course=None)


@bp.route("/admin/courses/<int:course_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_course_edit(course_id: int):
    course = _get_or_404(Course, course_id)
    form = CourseForm(data=None if request.method == "POST" else {
        "title": course.title, "code": course.code, "level_id": course.level_id or 0,
        "description": course.description, "learning_outcomes": course.learning_outcomes,
        "audience_sector_ids": [s.id for s in course.audience_sectors], "audience_roles": course.audience_roles,
        "theme_ids": [t.id for t in course.themes], "grew_from": course.grew_from,
        "duration_hours": f"{course.duration_hours:.2f}".rstrip("0").rstrip("."),
        "prerequisite_ids": [c.id for c in course.prerequisites],
        "refresher_months": course.refresher_months, "renews_course_id": course.renews_course_id or 0,
        "cancellation_notice_days": course.cancellation_notice_days,
        "uses_offers": course.uses_offers, "offer_hours": course.offer_hours,
        "non_attendance_charge": f"{course.non_attendance_charge_pence / 100:.2f}",
        "evaluation_delay_months": course.evaluation_delay_months,
        "requires_manager_approval": course.requires_manager_approval, "is_online": course.is_online,
    })
    _course_choices(form, course)
    if form.validate_on_submit():
        with refusals(form, rename=_paths(COURSE_ALIASES)) as attempt:
            update_course(course, _course_details(form), current_user)
        if not attempt.refused:
            flash(f"{course.title} saved.", "success")
            return redirect(url_for("courses.admin_courses"))
    return render_template("courses/admin/course_form.html", form=form, course=course,
                           session_count=session_count(course),
                           interested=interest_counts([course.id]).get(course.id, 0))


def _course_action(course_id: int, action, done: str):
    course = _get_or_404(Course, course_id)
    with refusals() as attempt:
        action(course, current_user)
    if attempt.refused:
        return redirect(url_for("courses.admin_course_edit", course_id=course_id))
    flash(done.format(title=course.title), "success")
    return redirect(url_for("courses.admin_courses"))


@bp.route("/admin/courses/<int:course_id>/retire", methods=["POST"])
@requires(ADMIN)
def admin_course_retire(course_id: int):
    return _course_action(course_id, retire_course, "{title} retired. Its sessions and records are kept.")


@bp.route("/admin/courses/<int:course_id>/reinstate", methods=["POST"])
@requires(ADMIN)
def admin_course_reinstate(course_id: int):
    return _course_action(course_id, reinstate_course, "{title} is back in the programme.")


@bp.route("/admin/courses/<int:course_id>/delete", methods=["POST"])
@requires(ADMIN)
def admin_course_delete(course_id: int):
    return _course_action(course_id, delete_course, "{title} deleted.")


# --- Levels, themes, venues ----------------------------------------------------------------


def _saved(form, change, done: str, list_page: str):
    """Run `change` (a service) for a submitted form; once saved, flash `done` (naming the thing
    saved as {name}) and go back to `list_page`. None when there is nothing to save or it was refused."""
    if not form.validate_on_submit():
        return None
    with refusals(form) as attempt:
        thing = change()
    if attempt.refused:
        return None
    flash(done.format(name=thing.name), "success")
    return redirect(url_for(list_page))


@bp.route("/admin/levels", methods=["GET", "POST"])
@requires(ADMIN)
def admin_levels():
    form = LevelForm()
    return _saved(form, lambda: create_level(form.name.data, form.intercollegiate_level.data, current_user,
                                             position=form.position.number),
                  "Level {name} added.", "courses.admin_levels") \
        or render_template("courses/admin/levels.html", form=form, levels=levels_in_order())


@bp.route("/admin/levels/<int:level_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_level_edit(level_id: int):
    level = _get_or_404(Level, level_id)
    form = LevelForm(data=None if request.method == "POST" else {
        "name": level.name, "intercollegiate_level": level.intercollegiate_level, "position": level.position})
    return _saved(form, lambda: update_level(level, form.name.data, form.intercollegiate_level.data, current_user,
                                             position=form.position.number),
                  "Level {name} saved.", "courses.admin_levels") \
        or render_template("courses/admin/level_form.html", form=form, level=level)


@bp.route("/admin/themes", methods=["GET", "POST"])
@requires(ADMIN)
def admin_themes():
    form = ThemeForm()
    return _saved(form, lambda: create_theme(form.name.data, current_user), "Theme {name} added.", "courses.admin_themes") \
        or render_template("courses/admin/themes.html", form=form, themes=themes_by_name())


@bp.route("/admin/themes/<int:theme_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_theme_edit(theme_id: int):
    theme = _get_or_404(Theme, theme_id)
    form = ThemeForm(data=None if request.method == "POST" else {"name": theme.name})
    return _saved(form, lambda: rename_theme(theme, form.name.data, current_user), "Theme {name} saved.",
                  "courses.admin_themes") \
        or render_template("courses/admin/theme_form.html", form=form, theme=theme)


@bp.route("/admin/themes/<int:theme_id>/delete", methods=["POST"])
@requires(ADMIN)
def admin_theme_delete(theme_id: int):
    theme = _get_or_404(Theme, theme_id)
    name = theme.name
    delete_theme(theme, current_user)
    db.session.commit()
    flash(f"Theme {name} removed from the list and from every course.", "success")
    return redirect(url_for("courses.admin_themes"))


@bp.route("/admin/venues")
@requires(ADMIN)
def admin_venues():
    venues = venues_by_name(active_first=True)
    return render_template("courses/admin/venues.html", venues=venues)


def _venue_details(form: VenueForm) -> VenueDetails:
    return VenueDetails(name=form.name.data, address=form.address.data,
                        access_information=form.access_information.data, active=form.active.data)


@bp.route("/admin/venues/new", methods=["GET", "POST"])
@requires(ADMIN)
def admin_venue_new():
    form = VenueForm()
    return _saved(form, lambda: create_venue(_venue_details(form), current_user), "{name} added.", "courses.admin_venues") \
        or render_template("courses/admin/venue_form.html", form=form, venue=None)


@bp.route("/admin/venues/<int:venue_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_venue_edit(venue_id: int):
    venue = _get_or_404(Venue, venue_id)
    form = VenueForm(data=None if request.method == "POST" else {
        "name": venue.name, "address": venue.address, "access_information": venue.access_information,
        "active": venue.active})
    return _saved(form, lambda: update_venue(venue, _venue_details(form), current_user), "{name} saved.",
                  "courses.admin_venues") \
        or render_template("courses/admin/venue_form.html", form=form, venue=venue)


# --- Sessions ------------------------------------------------------------------------------


@bp.route("/admin/sessions")
@requires(ADMIN)
def admin_sessions():
    status = request.args.get("status", "")
    period = request.args.get("period", "upcoming")
    course_id = query_int("course", 0)
    query = admin_sessions_query(status, period, course_id)
    total = count_of(query)
    page = query_page()
    sessions = load_sessions(query, limit=ADMIN_PAGE_SIZE, offset=(page - 1) * ADMIN_PAGE_SIZE)
    places_on = booking_facts().places(sessions)
    rows = []
    for session in sessions:
        places = places_on[session.id]
        rows.append({
            "session": session, "taken": places.taken, "left": places.left,
            "fill": round(100 * places.taken / session.capacity) if session.capacity else 0,
            "state_label": places.state_label if session.status != DRAFT else "Draft",
            "state_class": places.state_class if session.status != DRAFT else "govuk-tag--grey",
        })
    courses = catalogue()
    return render_template(
        "courses/admin/sessions.html", rows=rows, status=status, period=period, course_id=course_id,
        courses=courses, total=total, page=page, pages=max((total + ADMIN_PAGE_SIZE - 1) // ADMIN_PAGE_SIZE, 1),
    )


@bp.route("/admin/sessions/publish", methods=["POST"])
@requires(ADMIN)
def admin_sessions_publish():
    ids = [n for n in map(whole_number, request.form.getlist("session_ids")) if n is not None]
    sessions = sessions_with_ids(ids)
    with refusals() as attempt:
        published = publish_sessions(sessions, current_user)
    if not attempt.refused:
        count = len(published)
        flash(f"{count} session{'s' if count != 1 else ''} published." if count else "Those sessions were already published.",
              "success")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/admin/")
                    else url_for("courses.admin_sessions"))


def _session_form(formdata=None, data=None, part_rows: int = PART_ROWS) -> SessionForm:
    """The session form with enough part rows for the session's parts."""

    class _SessionForm(SessionForm):
        pass

    _SessionForm.parts = FieldList(FormField(PartForm), min_entries=part_rows, max_entries=part_rows)
    _SessionForm.reservations = FieldList(FormField(ReservationForm), min_entries=RESERVATION_ROWS,
                                          max_entries=RESERVATION_ROWS)
    if formdata is not None:
        return _SessionForm(formdata=formdata)
    return _SessionForm(formdata=None, data=data)


def _session_choices(form: SessionForm, session: Session | None) -> None:
    venues = venues_by_name()
    form.venue_id.choices = [(0, "No venue: online only")] + [
        (v.id, v.name) for v in venues if v.active or (session is not None and v.id == session.venue_id)
    ]
    sectors, agencies = active_sectors(), active_agencies()
    for entry in form.reservations.entries:
        entry.form.sector_id.choices = [(0, "Choose a sector")] + [(s.id, s.name) for s in sectors]
        entry.form.agency_id.choices = [(0, "Choose an agency")] + [(a.id, a.name) for a in agencies]
    closed = session.closed_to_agency if session is not None else None
    form.closed_to_agency_id.choices = [(0, "Open to everyone")] + [(a.id, a.name) for a in agencies] + (
        [(closed.id, f"{closed.name} (no longer in use)")] if closed is not None and closed not in agencies else [])
    trainers = trainer_candidates()
    current = list(session.trainers) if session is not None else []
    profiles = trainer_profiles_of([u.id for u in trainers])

    def labelled(person: User) -> str:
        profile = profiles.get(person.id)
        return f"{person.name} ({profile.provider.name})" if profile and profile.provider else person.name

    form.trainer_ids.choices = [(u.id, labelled(u)) for u in trainers] + [
        (u.id, f"{u.name} (no longer a trainer)") for u in current if u not in trainers
    ]


def _session_data(plan: SessionPlan, part_rows: int) -> dict:
    def hhmm(moment):
        return moment.strftime("%H:%M") if moment else ""

    return {
        "parts": [{"date": p.starts_at.date(), "starts_at": hhmm(p.starts_at), "ends_at": hhmm(p.ends_at)}
                  for p in plan.parts] + [{} for _ in range(part_rows - len(plan.parts))],
        "venue_id": plan.venue.id if plan.venue else 0,
        "online_url": plan.online_url,
        "capacity": plan.capacity,
        "reservations": [{"sector_id": r.sector.id if r.sector else 0, "agency_id": r.agency.id if r.agency else 0,
                          "places": r.places} for r in plan.reservations]
        + [{} for _ in range(RESERVATION_ROWS - len(plan.reservations))],
        "reservation_release_days": plan.reservation_release_days,
        "closed_to_agency_id": plan.closed_to_agency.id if plan.closed_to_agency else 0,
        "booking_opens_on": plan.booking_opens_at.date() if plan.booking_opens_at else None,
        "booking_opens_time": hhmm(plan.booking_opens_at) if plan.booking_opens_at and plan.booking_opens_at.time() != time(0) else "",
        "booking_closes_on": plan.booking_closes_at.date() if plan.booking_closes_at else None,
        "booking_closes_time": hhmm(plan.booking_closes_at) if plan.booking_closes_at and plan.booking_closes_at.time() != time(17) else "",
        "trainer_ids": [u.id for u in plan.trainers],
        "external_trainers": plan.external_trainers,
        "joining_instructions": plan.joining_instructions,
    }


def _plan_from_form(form: SessionForm) -> tuple[SessionPlan, dict[str, list[int]]]:
    """The plan the form describes, and which form row each planned part or reservation came from."""
    part_rows, parts = [], []
    for index, entry in enumerate(form.parts.entries):
        if not entry.form.is_blank:
            parts.append(PartTimes(*entry.form.london_times()))
            part_rows.append(index)
    reservation_rows, reservations = [], []
    for index, entry in enumerate(form.reservations.entries):
        row = entry.form
        if row.is_blank:
            continue
        reservations.append(ReservationPlan(
            places=row.places.number or 0,
            sector=db.session.get(Sector, row.sector_id.data) if row.sector_id.data else None,
            agency=db.session.get(Agency, row.agency_id.data) if row.agency_id.data else None,
        ))
        reservation_rows.append(index)
    trainers = with_ids(User, form.trainer_ids.data)

    def moment(day, clock, default):
        return datetime.combine(day, clock or default) if day else None

    plan = SessionPlan(
        parts=parts,
        capacity=form.capacity.number,
        venue=db.session.get(Venue, form.venue_id.data) if form.venue_id.data else None,
        online_url=form.online_url.data or "",
        booking_opens_at=moment(form.booking_opens_on.data, form.booking_opens_time.time, time(0)),
        booking_closes_at=moment(form.booking_closes_on.data, form.booking_closes_time.time, time(17)),
        reservation_release_days=form.reservation_release_days.number or 0,
        joining_instructions=form.joining_instructions.data or "",
        trainers=trainers,
        external_trainers=form.external_trainers.data or "",
        reservations=reservations,
        book_anyway_by=current_user if form.book_anyway.data else None,
        closed_to_agency=(db.session.get(Agency, form.closed_to_agency_id.data)
                          if form.closed_to_agency_id.data else None),
    )
    return plan, {"parts": part_rows, "reservations": reservation_rows}


def _warn_about_availability(session: Session) -> None:
    """Show, after saving, where the trainers are asked to train outside their availability."""
    parts = [(p.starts_at, p.ends_at) for p in session.parts]
    for warning in availability_warnings(session.course, parts, list(session.trainers)):
        flash(f"Check the trainers: {warning}.", "warning")


SESSION_ALIASES = {"venue": "venue_id", "closed_to_agency": "closed_to_agency_id", "booking_opens_at": "booking_opens_on", "booking_closes_at": "booking_closes_on",
                   "trainers": "trainer_ids"}


def _new_session_defaults(course: Course) -> dict:
    """A new session starts from the course's last one (venue, places, reservations, trainers)."""
    last = last_session_of(course)
    if last is None:
        return _session_data(SessionPlan(parts=[], capacity=24), PART_ROWS)
    plan = plan_from_session(last)
    parts = [PartTimes(p.starts_at, p.ends_at) for p in plan.parts][:PART_ROWS]
    data = _session_data(plan, PART_ROWS)
    # Keep the times of day (they rarely change) but not the dates.
    data["parts"] = [{"starts_at": p.starts_at.strftime("%H:%M"), "ends_at": p.ends_at.strftime("%H:%M")} for p in parts] \
        + [{} for _ in range(PART_ROWS - len(parts))]
    data["booking_opens_on"] = data["booking_closes_on"] = None
    data["booking_opens_time"] = data["booking_closes_time"] = ""
    return data


@bp.route("/admin/courses/<int:course_id>/sessions/new", methods=["GET", "POST"])
@requires(ADMIN)
def admin_session_new(course_id: int):
    course = _get_or_404(Course, course_id)
    if course.is_retired:
        flash("This course is retired: reinstate it before adding sessions.", "error")
        return redirect(url_for("courses.admin_course_edit", course_id=course.id))
    if request.method == "POST":
        form = _session_form(formdata=request.form)
    else:
        form = _session_form(data=_new_session_defaults(course))
    _session_choices(form, None)
    if request.method == "POST" and form.validate():
        plan, rows = _plan_from_form(form)
        with refusals(form, rename=_paths(SESSION_ALIASES, rows)) as attempt:
            session = create_session(course, plan, current_user)
            if request.form.get("publish") == "yes":
                publish_sessions([session], current_user)
        if not attempt.refused:
            flash(f"Session added{' and published' if session.status == PUBLISHED else ' as a draft'}.", "success")
            _warn_about_availability(session)
            return redirect(url_for("courses.admin_session_edit", session_id=session.id))
    return render_template("courses/admin/session_form.html", form=form, course=course, session=None,
                           interested=interest_counts([course.id]).get(course.id, 0))


@bp.route("/admin/sessions/<int:session_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_session_edit(session_id: int):
    session = _get_or_404(Session, session_id)
    rows = max(PART_ROWS, len(session.parts) + 1)
    if request.method == "POST":
        form = _session_form(formdata=request.form, part_rows=rows)
    else:
        form = _session_form(data=_session_data(plan_from_session(session), rows), part_rows=rows)
    _session_choices(form, session)
    if request.method == "POST" and session.status == CANCELLED:
        flash("This session is cancelled and cannot be changed.", "error")
        return redirect(url_for("courses.admin_session_edit", session_id=session.id))
    if request.method == "POST" and form.validate():
        plan, row_map = _plan_from_form(form)
        sequence_before = session.sequence
        with refusals(form, rename=_paths(SESSION_ALIASES, row_map)) as attempt:
            update_session(session, plan, current_user)
        if not attempt.refused:
            told = " The people booked will be told about the change." if session.sequence != sequence_before else ""
            flash("Session saved." + told, "success")
            _warn_about_availability(session)
            return redirect(url_for("courses.admin_session_edit", session_id=session.id))
    availability = booking_facts().places([session])[session.id]
    return render_template("courses/admin/session_form.html", form=form, course=session.course,
                           session=session, availability=availability)


@bp.route("/admin/sessions/<int:session_id>/copy", methods=["GET", "POST"])
@requires(ADMIN)
def admin_session_copy(session_id: int):
    session = _get_or_404(Session, session_id)
    form = SessionCopyForm()
    if form.validate_on_submit():
        days = [entry.data for entry in form.dates.entries if entry.data]
        # The service numbers the dates it was given; the form numbers every box, filled or not.
        given = {"dates": [i for i, e in enumerate(form.dates.entries) if e.data]}
        with refusals(form, rename=_paths(index_maps=given)) as attempt:
            copies = duplicate_session(session, days, current_user)
        if not attempt.refused:
            flash(f"{len(copies)} draft cop{'ies' if len(copies) != 1 else 'y'} made. Tick them below and publish.", "success")
            return redirect(url_for("courses.admin_sessions", course=session.course_id, status=DRAFT))
    return render_template("courses/admin/session_copy.html", form=form, session=session)


@bp.route("/admin/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@requires(ADMIN)
def admin_session_cancel(session_id: int):
    session = _get_or_404(Session, session_id)
    form = SessionCancelForm()
    if form.validate_on_submit():
        with refusals(form) as attempt:
            cancel_session(session, form.reason.data, current_user)
        if not attempt.refused:
            flash("Session cancelled. The people booked will be told.", "success")
            return redirect(url_for("courses.admin_session_edit", session_id=session.id))
    held = booking_facts().places([session])[session.id].taken
    return render_template("courses/admin/session_cancel.html", form=form, session=session,
                           held=held)


@bp.route("/admin/sessions/<int:session_id>/delete", methods=["POST"])
@requires(ADMIN)
def admin_session_delete(session_id: int):
    session = _get_or_404(Session, session_id)
    course_id = session.course_id
    with refusals() as attempt:
        delete_session(session, current_user)
    if attempt.refused:
        return redirect(url_for("courses.admin_session_edit", session_id=session_id))
    flash("Draft session deleted.", "success")
    return redirect(url_for("courses.admin_sessions", course=course_id))



# ---------------------------------------------------------------- a conference's programme


@bp.route("/admin/sessions/<int:session_id>/programme", methods=["GET", "POST"])
@requires(ADMIN)
def admin_programme(session_id: int):
    session = _get_or_404(Session, session_id)
    form = ProgrammeItemForm(prefix="item")
    close_form = ChoicesCloseForm(prefix="close")
    if request.method == "GET" and session.parts:
        form.day.data = to_london(session.parts[0].starts_at).date()
    if request.method == "GET" and session.choices_close_at:
        close_form.close_day.data = to_london(session.choices_close_at).date()
        close_form.close_time.data = f"{to_london(session.choices_close_at):%H:%M}"
    if form.submit.data and form.validate_on_submit():
        with refusals(form) as attempt:
            item = add_programme_item(
                session, kind=form.kind.data, day=form.day.data, starts=form.starts_at.time,
                ends=form.ends_at.time, title=form.title.data, leads=form.leads.data or "",
                room=form.room.data or "", capacity=form.capacity.number, actor=current_user)
        if not attempt.refused:
            flash(f"“{item.title}” added to the programme.", "success")
            return redirect(url_for("courses.admin_programme", session_id=session.id))
    elif close_form.submit.data and close_form.validate_on_submit():
        moment = None
        if close_form.close_day.data and close_form.close_time.time:
            moment = london_to_utc(datetime.combine(close_form.close_day.data, close_form.close_time.time))
        with refusals(close_form, "close_day") as attempt:
            set_choices_close(session, moment, current_user)
        if not attempt.refused:
            flash("Saved when workshop choices close.", "success")
            return redirect(url_for("courses.admin_programme", session_id=session.id))
    taken = booking_facts().workshop_places_taken([w.id for w in session.workshops])
    return render_template("courses/admin/programme.html", session=session, form=form,
                           close_form=close_form, taken=taken)


@bp.route("/admin/sessions/<int:session_id>/programme/<int:item_id>/delete", methods=["POST"])
@requires(ADMIN)
def admin_programme_remove(session_id: int, item_id: int):
    session = _get_or_404(Session, session_id)
    item = next((i for i in session.programme if i.id == item_id), None) or abort(404)
    title = item.title
    with refusals() as attempt:
        remove_programme_item(item, current_user)
    if not attempt.refused:
        flash(f"“{title}” taken off the programme.", "success")
    return redirect(url_for("courses.admin_programme", session_id=session.id))
