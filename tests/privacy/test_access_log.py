"""The access log: every page and download that shows other people's personal data writes one row
(who looked, what kind, which page, whose page), never the data; administrators read it; the job
runner removes rows past ACCESS_LOG_RETENTION_MONTHS."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.access_log import AccessLogEntry
from app.bookings.models import PRIOR_LEARNING, WAITING, Completion
from app.clock import to_london, utcnow
from app.email import OutboxMessage
from app.extensions import db
from app.jobs import run_jobs

LEARNER_NAME = "Quentin Okonkwo-Vale"
LEARNER_EMAIL = "q.okonkwo-vale@harbour-health.example"
LEARNER_JOB = "Paediatric liaison nurse"


@dataclass
class World:
    admin: object
    reviewer: object
    coordinator: object
    trainer: object
    learner: object
    agency: object
    session: object
    booking: object
    waiting: object
    completion: object
    message: object


@pytest.fixture
def world(app, make_user, make_agency, make_session, make_booking, make_attendee):
    agency = make_agency("Harbour Health Trust")
    learner = make_user(LEARNER_NAME, LEARNER_EMAIL, agency=agency, job_title=LEARNER_JOB)
    trainer = make_user("Tamsin Trainer", roles=("trainer",))
    session = make_session(starts_at=utcnow() - timedelta(days=3), trainers=(trainer,))
    booking = make_booking(session, learner)
    waiting = make_booking(session, make_attendee("Wendell Waiting", agency=agency), status=WAITING)
    completion = Completion(user=learner, course=session.course, completed_on=date(2026, 5, 1),
                            source=PRIOR_LEARNING, provider="Another partnership",
                            certificate_name="certificate.pdf", certificate_type="application/pdf",
                            certificate_data=b"%PDF-1.4 a certificate")
    message = OutboxMessage(idempotency_key="test:access-log", recipient=LEARNER_EMAIL,
                            subject="Your place is booked", text_body="Dear Quentin")
    db.session.add_all([completion, message])
    db.session.commit()
    return World(
        admin=make_user("Ada Administrator", roles=("admin",)),
        reviewer=make_user("Rhiannon Reviewer", roles=("reviewer",)),
        coordinator=make_user("Cormac Coordinator", agency=agency, roles=("coordinator",)),
        trainer=trainer, learner=learner, agency=agency, session=session, booking=booking,
        waiting=waiting, completion=completion, message=message,
    )


def entries() -> list[AccessLogEntry]:
    """Every row, read afresh (the log is written on a connection of its own)."""
    db.session.rollback()
    return list(db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))


# (viewer, URL, endpoint, kind, whose page it is: True for the learner's, "waiting" for the other's)
PAGES = [
    ("trainer", lambda w: f"/registers/{w.session.id}", "attendance.register", "register", False),
    ("admin", lambda w: f"/registers/{w.session.id}", "attendance.register", "register", False),
    ("trainer", lambda w: f"/registers/{w.session.id}.csv", "attendance.register_csv", "register", False),
    ("trainer", lambda w: f"/registers/{w.session.id}.pdf", "attendance.register_pdf", "register", False),
    ("trainer", lambda w: f"/registers/{w.session.id}/walk-in?q=okonkwo", "attendance.walk_in",
     "walk_in_search", False),
    ("admin", lambda w: f"/attendance/bookings/{w.booking.id}", "attendance.correct", "booking", True),
    ("admin", lambda w: "/charges", "attendance.charges", "charges", False),
    ("admin", lambda w: "/charges.csv", "attendance.charges_csv", "charges", False),
    ("admin", lambda w: "/suspensions", "attendance.suspensions", "suspensions", False),
    ("admin", lambda w: f"/admin/sessions/{w.session.id}/bookings", "bookings.admin_session_bookings",
     "bookings", False),
    ("admin", lambda w: f"/admin/bookings/{w.booking.id}", "bookings.admin_booking", "booking", True),
    ("admin", lambda w: f"/admin/bookings/{w.booking.id}/cancel", "bookings.admin_cancel", "booking", True),
    ("admin", lambda w: f"/admin/bookings/{w.booking.id}/move", "bookings.admin_move", "booking", True),
    ("admin", lambda w: f"/admin/bookings/{w.waiting.id}/promote", "bookings.admin_promote", "booking",
     "waiting"),
    ("admin", lambda w: "/admin/completions?show=all", "bookings.admin_completions", "completions", False),
    ("admin", lambda w: f"/admin/completions/{w.completion.id}/decide", "bookings.admin_decide_completion",
     "completions", True),
    ("admin", lambda w: f"/completions/{w.completion.id}/certificate", "bookings.completion_certificate",
     "completions", True),
    ("admin", lambda w: "/admin/people", "accounts.admin_people", "people_list", False),
    ("admin", lambda w: f"/admin/people/{w.learner.id}", "accounts.admin_person", "person", True),
    ("admin", lambda w: f"/admin/people/{w.learner.id}/edit", "accounts.admin_person_edit", "person", True),
    ("admin", lambda w: f"/admin/people/{w.learner.id}/refuse", "accounts.admin_person_refuse", "person",
     True),
    ("admin", lambda w: f"/admin/people/{w.learner.id}/roles/new", "accounts.admin_person_role_grant",
     "person", True),
    ("admin", lambda w: "/admin/outbox", "admin.outbox", "outbox", False),
    ("admin", lambda w: f"/admin/outbox/{w.message.id}", "admin.outbox_message", "outbox", True),
    ("reviewer", lambda w: "/evaluation/review/answers", "evaluation.review_answers", "evaluation_answers",
     False),
    ("admin", lambda w: "/evaluation/review/answers", "evaluation.review_answers", "evaluation_answers",
     False),
    ("reviewer", lambda w: "/evaluation/review/answers.csv", "evaluation.answers_csv", "evaluation_answers",
     False),
    ("admin", lambda w: f"/evaluation/invitations?session_id={w.session.id}", "evaluation.invitations",
     "evaluation_invitations", False),
    ("reviewer", lambda w: "/reports/people?measure=booked", "reports.people", "people_report", False),
    ("admin", lambda w: "/reports/people.csv?measure=booked", "reports.export", "people_report", False),
    ("admin", lambda w: "/reports/people.xlsx?measure=booked", "reports.export", "people_report", False),
    ("coordinator", lambda w: "/agency", "reports.agency_home", "agency_staff", False),
    ("admin", lambda w: f"/agency?agency_id={w.agency.id}", "reports.agency_home", "agency_staff", False),
    ("coordinator", lambda w: "/agency/bookings.csv", "reports.agency_bookings_csv", "agency_staff", False),
    ("coordinator", lambda w: "/agency/charges", "reports.agency_charges", "charges", False),
    ("coordinator", lambda w: "/agency/charges.csv", "reports.agency_charges_csv", "charges", False),
    ("admin", lambda w: "/admin/access-log", "privacy.access_log", "access_log", False),
    ("admin", lambda w: f"/admin/people/{w.learner.id}/data", "privacy.admin_data_document", "subject_access",
     True),
    ("admin", lambda w: f"/admin/people/{w.learner.id}/data.json", "privacy.admin_data_json", "subject_access",
     True),
    ("admin", lambda w: f"/admin/people/{w.learner.id}/erase", "privacy.admin_erase", "person", True),
]


@pytest.mark.parametrize("viewer, url, endpoint, kind, about_learner", PAGES,
                         ids=[f"{p[2]}-{p[0]}" for p in PAGES])
def test_each_page_showing_others_data_writes_one_row(world, login_as, viewer, url, endpoint, kind,
                                                      about_learner):
    person = getattr(world, viewer)
    client = login_as(person)
    before = utcnow()

    response = client.get(url(world))

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    response.get_data()  # a streamed download runs to its end
    rows = entries()
    assert len(rows) == 1
    row = rows[0]
    assert (row.viewer_id, row.endpoint, row.kind) == (person.id, endpoint, kind)
    subject = {True: world.learner, "waiting": world.waiting.user}.get(about_learner)
    assert row.subject_user_id == (subject.id if subject else None)
    assert before - timedelta(seconds=1) <= row.at <= utcnow() + timedelta(seconds=1)
    held = " ".join(str(value) for value in (row.endpoint, row.kind, row.scope)).lower()
    for personal in (LEARNER_NAME, LEARNER_EMAIL, LEARNER_JOB, "okonkwo", person.name, person.email):
        assert personal.lower() not in held


def test_the_scope_names_what_was_seen_by_id(world, login_as):
    client = login_as(world.trainer)
    client.get(f"/registers/{world.session.id}")
    client.post("/sign-out")
    login_as(world.coordinator).get("/agency")

    register, agency = entries()
    assert register.scope == f"session {world.session.id}"
    assert agency.scope.startswith(f"agency {world.agency.id}, ")


OWN_PAGES = ["/my-bookings", "/my-training", "/my-training.csv", "/my-training.pdf", "/account",
             "/account/details", "/evaluation/mine", "/programme", "/", "/account/data", "/account/data.json",
             "/account/data/document"]


@pytest.mark.parametrize("url", OWN_PAGES)
def test_a_persons_own_pages_write_nothing(world, login_as, url):
    response = login_as(world.learner).get(url)

    assert response.status_code == 200
    assert entries() == []


def test_an_outbox_message_to_no_account_is_about_no_one(world, login_as):
    notice = OutboxMessage(idempotency_key="test:notice", recipient="training@northbridge-scp.example",
                           subject="Messages that failed", text_body="2 messages failed")
    db.session.add(notice)
    db.session.commit()

    assert login_as(world.admin).get(f"/admin/outbox/{notice.id}").status_code == 200

    [row] = entries()
    assert (row.subject_user_id, row.scope) == (None, f"message {notice.id}")


def test_a_persons_own_uploaded_certificate_writes_nothing(world, login_as):
    response = login_as(world.learner).get(f"/completions/{world.completion.id}/certificate")

    assert response.status_code == 200
    assert entries() == []


@pytest.mark.parametrize("url", ["/registers/{session}", "/registers/{session}.csv", "/agency",
                                 "/admin/people/{learner}", "/evaluation/review/answers"])
def test_a_refused_page_writes_nothing(world, login_as, url):
    response = login_as(world.learner).get(url.format(session=world.session.id, learner=world.learner.id))

    assert response.status_code in (403, 404)
    assert entries() == []


def test_pages_that_show_no_one_write_nothing(world, login_as):
    client = login_as(world.trainer)
    assert client.get(f"/registers/{world.session.id}/walk-in").status_code == 200
    assert client.get(f"/registers/{world.session.id}/walk-in?q=nobody-by-this-name").status_code == 200
    assert client.get("/registers").status_code == 200

    assert entries() == []


def test_a_form_shown_again_after_a_post_is_logged(world, login_as):
    client = login_as(world.admin)

    response = client.post(f"/admin/people/{world.learner.id}/edit",
                           data={"name": "", "email": LEARNER_EMAIL, "agency_id": world.agency.id})

    assert response.status_code == 200
    [row] = entries()
    assert (row.endpoint, row.subject_user_id) == ("accounts.admin_person_edit", world.learner.id)


def test_a_post_that_redirects_logs_nothing(world, login_as):
    client = login_as(world.admin)

    response = client.post(f"/admin/people/{world.learner.id}/deactivate")

    assert response.status_code == 302
    assert entries() == []


def _broken_write(_rows):
    raise OperationalError("INSERT INTO access_log_entries", {}, Exception("disk I/O error"))


def test_on_sqlite_the_log_waits_for_another_writer_instead_of_failing(world, login_as):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single write lock")
    client = login_as(world.trainer)
    db.session.rollback()
    other = db.engine.raw_connection()  # another request, say, holding the write lock a while
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE users SET job_title = job_title WHERE id = ?", (world.trainer.id,))
    releases = threading.Timer(0.5, other.commit)
    releases.start()
    try:
        response = client.get(f"/registers/{world.session.id}")
    finally:
        releases.join()
        other.close()

    assert response.status_code == 200
    assert [row.endpoint for row in entries()] == ["attendance.register"]


def test_when_the_log_cannot_be_written_the_data_is_not_shown(world, login_as, monkeypatch):
    client = login_as(world.trainer)

    monkeypatch.setattr("app.privacy.access_log_views.write_entries", _broken_write)
    for url in (f"/registers/{world.session.id}", f"/registers/{world.session.id}.csv"):
        response = client.get(url)

        assert response.status_code == 503
        body = response.get_data(as_text=True)
        assert LEARNER_NAME not in body and LEARNER_EMAIL not in body
        assert "Content-Disposition" not in response.headers
    assert entries() == []


def test_a_streamed_download_is_not_sent_when_the_log_cannot_be_written(world, login_as, monkeypatch):
    client = login_as(world.reviewer)
    monkeypatch.setattr("app.privacy.access_log_views.write_entries", _broken_write)

    response = client.get("/evaluation/review/answers.csv")

    assert response.status_code == 503
    assert "Content-Disposition" not in response.headers
    assert entries() == []


def test_a_streamed_download_writes_its_row_before_it_starts(world, login_as):
    response = login_as(world.reviewer).get("/evaluation/review/answers.csv")

    assert response.is_streamed
    assert [row.endpoint for row in entries()] == ["evaluation.answers_csv"]  # before the body is read
    response.get_data()
    assert len(entries()) == 1


# --- Reading the log -----------------------------------------------------------------------------

def _add(viewer, kind, *, at=None, subject=None, endpoint="attendance.register", scope=""):
    db.session.add(AccessLogEntry(viewer_id=viewer.id, kind=kind, endpoint=endpoint,
                                  subject_user_id=subject.id if subject else None, scope=scope,
                                  at=at or utcnow() - timedelta(hours=1)))
    db.session.commit()


def _shown(response) -> int:
    """The number of entries the page says match, from its status line."""
    text = response.get_data(as_text=True)
    marker = text.index('role="status">') + len('role="status">')
    return int(text[marker:text.index(" ", marker)])


@pytest.mark.parametrize("role", ["reviewer", "coordinator", "trainer", "learner"])
def test_only_administrators_read_the_log(world, login_as, role):
    assert login_as(getattr(world, role)).get("/admin/access-log").status_code == 403


def test_signed_out_people_are_sent_to_sign_in(world, client):
    response = client.get("/admin/access-log")

    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_the_log_filters_by_viewer_kind_person_and_dates(world, login_as, set_now):
    now = datetime(2027, 5, 20, 23, 30)  # 45 days earlier is 00:30 on 6 April in the UK (summer time)
    set_now(now)
    _add(world.trainer, "register", scope=f"session {world.session.id}")
    _add(world.trainer, "register", at=now - timedelta(days=45))
    _add(world.coordinator, "agency_staff", scope=f"agency {world.agency.id}")
    _add(world.admin, "person", subject=world.learner, endpoint="accounts.admin_person")
    client = login_as(world.admin)

    everything = client.get("/admin/access-log")
    assert everything.status_code == 200
    assert _shown(everything) == 3  # the last month; the 45-day-old row is outside it
    page = everything.get_data(as_text=True)
    assert "Tamsin Trainer" in page and "Cormac Coordinator" in page and LEARNER_NAME in page

    assert _shown(client.get(f"/admin/access-log?viewer_id={world.trainer.id}")) == 1
    assert _shown(client.get("/admin/access-log?kind=agency_staff")) == 1
    assert _shown(client.get(f"/admin/access-log?subject_id={world.learner.id}")) == 1
    earlier = to_london(now - timedelta(days=60)).date()
    assert _shown(client.get(f"/admin/access-log?viewer_id={world.trainer.id}"
                             f"&start={earlier.day}&start={earlier.month}&start={earlier.year}")) == 2
    day = to_london(now - timedelta(days=45)).date()
    only_that_day = (f"/admin/access-log?start={day.day}&start={day.month}&start={day.year}"
                     f"&end={day.day}&end={day.month}&end={day.year}")
    assert _shown(client.get(only_that_day)) == 1


def test_the_logs_filters_refuse_bad_values_without_failing(world, login_as):
    client = login_as(world.admin)

    assert client.get("/admin/access-log?subject_id=999999").status_code == 404
    for query in ("viewer_id=abc", "kind=not-a-kind", "start=31&start=2&start=2027", "page=-3"):
        response = client.get(f"/admin/access-log?{query}")
        assert response.status_code == 200, query
    backwards = client.get("/admin/access-log?start=2&start=3&start=2027&end=1&end=3&end=2027")
    assert "The end date must be on or after the start date" in backwards.get_data(as_text=True)


def test_the_log_pages_long_lists(world, login_as):
    for _ in range(55):
        db.session.add(AccessLogEntry(viewer_id=world.trainer.id, kind="register",
                                      endpoint="attendance.register", at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    client = login_as(world.admin)

    first = client.get("/admin/access-log").get_data(as_text=True)
    second = client.get("/admin/access-log?page=2").get_data(as_text=True)
    assert first.count("attendance.register") == 50
    # Reading page one logged a row, newest, so one more register row moved to page two.
    assert second.count("attendance.register") == 6
    assert second.count("privacy.access_log") == 0


def test_the_person_page_links_to_who_looked_at_them(world, login_as):
    page = login_as(world.admin).get(f"/admin/people/{world.learner.id}").get_data(as_text=True)

    assert f"/admin/access-log?subject_id={world.learner.id}" in page


# --- Retention -----------------------------------------------------------------------------------

def test_the_retention_job_removes_only_entries_past_the_period(world, app, set_now):
    set_now(datetime(2029, 6, 15, 12, 0))
    _add(world.trainer, "register", at=datetime(2027, 6, 14, 22, 0), scope="old")  # before 15 June 2027 UK
    _add(world.trainer, "register", at=datetime(2027, 6, 15, 9, 0), scope="kept, first day")
    _add(world.trainer, "register", at=datetime(2029, 6, 15, 11, 0), scope="kept, today")

    result = run_jobs("privacy_access_log_retention")

    assert result["privacy_access_log_retention"] == "1 access log entries removed"
    assert [row.scope for row in entries()] == ["kept, first day", "kept, today"]


def test_the_retention_period_is_a_setting(world, app, set_now):
    app.config["ACCESS_LOG_RETENTION_MONTHS"] = 6
    set_now(datetime(2029, 6, 15, 12, 0))
    _add(world.trainer, "register", at=datetime(2028, 12, 1, 9, 0), scope="old")
    _add(world.trainer, "register", at=datetime(2029, 1, 1, 9, 0), scope="kept")

    run_jobs("privacy_access_log_retention")

    assert [row.scope for row in entries()] == ["kept"]
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry)) == 1
