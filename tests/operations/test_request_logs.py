"""Request ids and the one log line per request: what it holds, and what it never holds."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy.exc import OperationalError

from app import create_app
from app.accounts.models import User
from app.bookings.models import CONFIRMED, Booking
from app.extensions import db
from app.operations.logs import redact
from tests.conftest import TEST_PASSWORD, make_test_config

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _csrf_token(page: str) -> str:
    match = TOKEN.search(page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_every_request_gets_an_id_in_its_header_and_on_the_not_found_page(client, log_lines):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    reference = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", reference)
    assert f"Quote this reference if you contact us: <strong>{reference}</strong>" in response.get_data(as_text=True)
    (line,) = log_lines.pairs("request")
    assert line["request_id"] == reference
    assert line["status"] == "404" and line["route"] == "-" and line["endpoint"] == "-"

    other = client.get("/no-such-page").headers["X-Request-ID"]
    assert other != reference, "each request its own"


@pytest.mark.parametrize("incoming, kept", [
    ("lb-7f3a9c2e-4b1d", True),
    ("0123456789abcdef0123456789abcdef", True),
    ("Root=1-67891233-abcdef012345678912345678", False),  # "=" could break a key=value line
    ("short", False),
    ("x" * 65, False),
    ('abc" injected="1', False),
    ("abcdefgh\tlevel=ERROR", False),
    ("<script>alert(1)</script>", False),
])
def test_an_incoming_request_id_is_kept_only_if_it_is_a_safe_short_token(client, log_lines, incoming, kept):
    response = client.get("/no-such-page", headers={"X-Request-ID": incoming})
    reference = response.headers["X-Request-ID"]
    assert (reference == incoming) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{16}", reference)
    assert log_lines.pairs("request")[0]["request_id"] == reference


def test_every_error_page_shows_the_reference(app, client, make_user, login_as, rate_limits):
    pages = {}
    pages[404] = client.get("/no-such-page")
    pages[405] = client.post("/healthz")
    pages[400] = client.get("/sign-in?from=%00")
    login_as(make_user())
    pages[403] = client.get("/admin/people")
    rate_limits["RATELIMIT_SIGN_IN"] = "1 per minute"
    other = app.test_client()
    other.post("/sign-in", data={"email": "a@example.org", "password": "x"})
    pages[429] = other.post("/sign-in", data={"email": "a@example.org", "password": "x"})
    for status, response in pages.items():
        assert response.status_code == status
        reference = response.headers["X-Request-ID"]
        assert f"Quote this reference if you contact us: <strong>{reference}</strong>" in response.get_data(
            as_text=True), status


def test_a_form_past_its_token_says_so_with_the_reference(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/sign-in", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form has expired" in page
    assert f"Quote this reference if you contact us: <strong>{response.headers['X-Request-ID']}</strong>" in page


def test_the_log_line_of_a_sign_in_and_a_booking_holds_ids_and_the_route_never_who(
        app, client, log_lines, make_user, make_session, set_now):
    set_now(datetime(2027, 3, 1, 9, 0))
    app.config["WTF_CSRF_ENABLED"] = True
    person = make_user(name="Philippa Strangeways", email="philippa.strangeways@example.org",
                       line_manager_name="Bartholomew Vane", line_manager_email="b.vane@example.org")
    session = make_session(capacity=5)

    token = _csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in?email=philippa.strangeways%40example.org",
                           data={"email": person.email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    page = client.get(f"/sessions/{session.id}/book").get_data(as_text=True)
    token = _csrf_token(page)
    with client.session_transaction() as cookie_session:
        raw_token = cookie_session["csrf_token"]
    response = client.post(f"/sessions/{session.id}/book",
                           data={"access_needs": "Wheelchair access, please", "csrf_token": token})
    assert response.status_code == 302
    assert db.session.query(Booking).filter_by(user_id=person.id).one().status == CONFIRMED

    lines = log_lines.pairs("request")
    assert [(line["method"], line["route"], line["endpoint"], line["status"]) for line in lines] == [
        ("GET", "/sign-in", "accounts.sign_in", "200"),
        ("POST", "/sign-in", "accounts.sign_in", "302"),
        ("GET", "/sessions/<int:session_id>/book", "bookings.book", "200"),
        ("POST", "/sessions/<int:session_id>/book", "bookings.book", "302"),
    ]
    assert [line["user_id"] for line in lines] == ["-", str(person.id), str(person.id), str(person.id)]
    for line in lines:
        assert list(line) == ["time", "level", "logger", "request_id", "message", "method", "route",
                              "endpoint", "status", "duration_ms", "user_id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
        assert line["level"] == "INFO" and line["logger"] == "app.requests"
        assert re.fullmatch(r"[0-9a-f]{16}", line["request_id"])
        assert float(line["duration_ms"]) >= 0
    assert len({line["request_id"] for line in lines}) == 4

    written = log_lines.text
    for secret in ("Philippa", "Strangeways", "philippa", "example.org", "Bartholomew", TEST_PASSWORD,
                   token, raw_token, "Wheelchair", "session_token", person.session_token, "?", "%40"):
        assert secret not in written, secret


def test_json_lines_parse_and_hold_the_same_fields(app, smtp_server, log_lines, make_user):
    person = make_user()
    json_app = create_app(make_test_config(smtp_server.port, LOG_FORMAT="json"))
    with json_app.app_context():
        client = json_app.test_client()
        client.post("/sign-in", data={"email": person.email, "password": TEST_PASSWORD})
        response = client.get("/my-bookings")
    assert response.status_code == 200
    lines = log_lines.json("request")
    assert [(line["method"], line["route"], line["status"], line["user_id"]) for line in lines] == [
        ("POST", "/sign-in", 302, person.id),
        ("GET", "/my-bookings", 200, person.id),
    ]
    assert lines[1]["request_id"] == response.headers["X-Request-ID"]
    # This app keeps one app context (and so one `g`) open around both requests, as a script does.
    assert lines[0]["request_id"] != lines[1]["request_id"]
    assert lines[1]["endpoint"] == "bookings.my_bookings" and isinstance(lines[1]["duration_ms"], float)
    assert person.email not in log_lines.text


def test_a_failing_request_logs_its_traceback_and_id_but_no_locals(app, client, log_lines):
    def explode(token):
        pass_phrase = "kept-in-a-local-variable"  # noqa: F841  (must not reach the log)
        raise RuntimeError("the view broke")

    explode.allowed_roles = "anyone"
    app.add_url_rule("/explode/<token>", "explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/explode/secret-link-token?email=someone%40example.org")
    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    assert f"Quote this reference if you contact us: <strong>{reference}</strong>" in response.get_data(as_text=True)

    (failure,) = [record for record in log_lines.records() if "message=exception" in record]
    first, traceback = failure.split("\n", 1)
    assert f"request_id={reference}" in first and "level=ERROR" in first
    assert "route=/explode/<token>" in first and "endpoint=explode" in first
    assert traceback.startswith("Traceback") and "RuntimeError: the view broke" in traceback
    assert log_lines.pairs("request")[0]["status"] == "500"
    for secret in ("kept-in-a-local-variable", "secret-link-token", "someone"):
        assert secret not in log_lines.text, secret


def test_the_database_away_page_shows_the_reference(app, client):
    def database_away():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    database_away.allowed_roles = "anyone"
    app.add_url_rule("/database-away", "database_away", database_away)
    response = client.get("/database-away")
    assert response.status_code == 503
    assert (f"Quote this reference if you contact us: <strong>{response.headers['X-Request-ID']}</strong>"
            in response.get_data(as_text=True))


def test_a_database_error_in_a_traceback_leaves_out_the_values(app, client, log_lines, make_user):
    person = make_user(email="unique.clash@example.org")

    def clash():
        db.session.add(User(name="Clash Person", email=person.email, job_title="x", agency=person.agency,
                            line_manager_name="x", line_manager_email="x@x.example"))
        db.session.flush()

    clash.allowed_roles = "anyone"
    app.add_url_rule("/clash", "clash", clash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/clash").status_code == 500
    assert "IntegrityError" in log_lines.text and "email" in log_lines.text, "which constraint, still"
    assert "unique.clash" not in log_lines.text and "Clash Person" not in log_lines.text


def test_what_a_database_error_quotes_of_the_data_is_hidden():
    text = ('psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "uq_users_email"\n'
            "DETAIL:  Key (email)=(jo.bloggs@example.org) already exists.\n"
            "DETAIL:  Failing row contains (7, Jo Bloggs, Social worker).\n"
            "RuntimeError: could not send to jo.bloggs@example.org")
    assert redact(text) == (
        'psycopg.errors.UniqueViolation: duplicate key value violates unique constraint "uq_users_email"\n'
        "DETAIL:  Key (email)=([hidden]) already exists.\n"
        "DETAIL:  [hidden]\n"
        "RuntimeError: could not send to [e-mail address]")


def test_health_probes_and_static_files_that_succeed_log_at_debug(app, client, log_lines):
    client.get("/healthz")
    client.get("/static/app.css")
    client.get("/static/no-such-file.css")
    lines = log_lines.pairs("request")
    assert [(line["endpoint"], line["status"]) for line in lines] == [("static", "404")]


def test_log_settings_are_checked_at_start(smtp_server):
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be text or json"):
        create_app(make_test_config(smtp_server.port, LOG_FORMAT="jsno"))
    with pytest.raises(RuntimeError, match="LOG_LEVEL must be"):
        create_app(make_test_config(smtp_server.port, LOG_LEVEL="LOUD"))
