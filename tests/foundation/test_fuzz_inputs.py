"""Every route, as every role, with bad values in the address, query string and form body: no 500.

Hypothesis draws the requests (seeded per route, method and role, so every run sends the same
ones) from values that have broken pages before: numbers no database column holds, dates with
missing or extra parts or impossible years, NUL and other control characters, invalid
percent-encoding, overlong text. Any response of 500 or more, any exception, and any download
that fails while it streams (the whole body is read) is a failure.

The budget is fixed: EXAMPLES requests per route and method for a role the view lets in,
DENIED_EXAMPLES for one it turns away (the answer does not depend on the input there). The
figures go to stdout and to a summary file (FUZZ_SUMMARY, by default in the temp folder).
"""
from __future__ import annotations

import os
import tempfile
import time
import zlib
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from werkzeug.routing.converters import AnyConverter, NumberConverter

from app.accounts.access import ANYONE
from app.accounts.models import ADMIN, COORDINATOR, REVIEWER, TRAINER
from app.demo import load_demo
from app.extensions import db
from app.forms import BaseForm, SubForm
from tests.conftest import TEST_PASSWORD

EXAMPLES = 8
DENIED_EXAMPLES = 2
ROLES = ("anonymous", "learner", COORDINATOR, TRAINER, ADMIN, REVIEWER)
SUMMARY = Path(os.environ.get("FUZZ_SUMMARY") or Path(tempfile.gettempdir()) / "fuzz-inputs-summary.txt")
# The readiness check answers 503 by design here: the test database is built without migrations
# and no job runner has run (tests/operations/test_health.py checks when it says 200 and 503).
NOT_READY = ("/readyz", 503)

# Sent as they are, not percent-encoded: the point is that they are not valid encodings.
RAW = ["%zz", "%ff", "%", "%00", "%C0%AF", "%E2%80", "%u0041", "a%2"]
IDS = ["1", "2", "3"]
NUMBERS = ["0", "-1", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
           "18446744073709551616", "99999999999999999999", "1" * 400, "1e999", "1.5", "0x1f",
           "NaN", "Infinity", "\u00b2", "\u0661\u0662", " 7 ", "+5"]
TEXT = ["", "x", "\x00", "a\x00b", "Ann\r\nBcc: someone@example.org", "tab\there", "\x1b[31m",
        "\u2028", "\x7f", "\x85", "=1+2", "@SUM(A1)", "<script>alert(1)</script>", "' OR 1=1 --",
        "a" * 5000, "\u00e9" * 300, "\U0001f600", "9999-12-31", "0000-01-01", "2026-02-30",
        "2026-13", "9999-99", "true", "on", "y"]
DATE_PARTS = ["1", "31", "12", "13", "0", "9999", "0000", "2026", "99999999999999999999", "x", "",
              "\x00", "-1", "\u00b2"]
# The names views and forms read; form field names are added from the forms themselves.
NAMES = ["page", "session_id", "start", "end", "tna", "sector", "agency", "course", "level",
         "session", "measure", "q", "status", "period", "show", "agency_id", "course_id",
         "sector_id", "level_id", "date_from", "date_to", "year", "month", "theme", "places",
         "print", "only", "past", "retired", "code", "next", "session_ids", "direction", "publish",
         "outcome-1", "outcome-99999999999999999999", "outcome-\u00b2", "q1", "q2", "q3",
         "parts-0-date", "parts-0-starts_at", "reservations-0-places", "reservations-0-sector_id",
         "dates-0", "agencies", "email", "password", "name"]
DATE_NAMES = ["start", "end", "date_from", "date_to", "completed_on", "starts_on", "ends_on",
              "booking_opens_on", "booking_closes_on", "parts-0-date", "parts-1-date", "dates-0"]


def _form_field_names() -> list[str]:
    names, seen, todo = set(), set(), [BaseForm, SubForm]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        names.update(n for klass in cls.__mro__ for n, v in vars(klass).items()
                     if hasattr(v, "field_class"))
    return sorted(names)


def _value(strategy_values):
    return st.one_of(st.sampled_from(strategy_values), st.sampled_from(RAW).map(lambda r: ("raw", r)))


def _encode(text) -> str:
    if isinstance(text, tuple):  # ("raw", "%zz")
        return text[1]
    return quote(text, safe="")


def _pairs(names: list[str], max_size: int):
    plain = st.tuples(st.sampled_from(names), _value(NUMBERS + IDS + TEXT))
    date = st.tuples(st.sampled_from(DATE_NAMES), st.lists(st.sampled_from(DATE_PARTS), min_size=1, max_size=4))
    chunk = st.one_of(plain.map(lambda p: [p]), date.map(lambda d: [(d[0], v) for v in d[1]]))
    return st.lists(chunk, max_size=max_size).map(lambda chunks: [p for c in chunks for p in c])


def _encode_pairs(pairs) -> str:
    return "&".join(f"{quote(name, safe='')}={_encode(value)}" for name, value in pairs)


def _path(rule, draw) -> str:
    parts = []
    for is_argument, text in rule._trace:
        if not is_argument:
            parts.append("" if text == "|" else text)  # "|" divides the host from the path
            continue
        converter = rule._converters[text]
        if isinstance(converter, AnyConverter):
            parts.append(draw(st.sampled_from(sorted(converter.items) + ["nope"])))
        elif isinstance(converter, NumberConverter):
            parts.append(_encode(draw(_value(IDS + NUMBERS))))
        else:
            parts.append(_encode(draw(_value(["x", "abc.def"] + TEXT))))
    return "".join(parts)


def _allowed(app, rule, role) -> bool:
    allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", ANYONE)
    if allowed == ANYONE:
        return True
    return role != "anonymous" and ("learner" in allowed or role in allowed)


def test_no_input_reaches_a_500(app, make_user, make_agency):
    load_demo()
    db.session.commit()
    agency = make_agency("Fuzzing agency")
    people = {role: make_user(name=f"Fuzz {role}", agency=agency, coordinates=agency,
                              roles=() if role == "learner" else (role,))
              for role in ROLES if role != "anonymous"}
    emails = {role: person.email for role, person in people.items()}
    names = sorted(set(NAMES) | set(_form_field_names()))
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    clients = {role: app.test_client() for role in ROLES}
    failures: list[str] = []
    counts = {"requests": 0, "over_500": 0, "combinations": 0}
    started = time.monotonic()

    def signed_in(role):
        client = clients[role]
        if role == "anonymous":
            return client
        with client.session_transaction() as session:
            if session.get("_user_id"):
                return client
        response = client.post("/sign-in", data={"email": emails[role], "password": TEST_PASSWORD})
        assert response.status_code == 302, f"{role} could not sign in again"
        return client

    def visit(client, role, method, url, body):
        counts["requests"] += 1
        problem = None
        try:
            response = client.open(url, method=method, data=body,
                                   content_type="application/x-www-form-urlencoded")
            response.get_data()  # a streamed download fails here, after its 200
            if response.status_code >= 500 and (url.partition("?")[0], response.status_code) != NOT_READY:
                problem = f"{response.status_code}"
            response.close()
        except Exception as exc:  # with TESTING on, a view's exception propagates to here
            problem = f"{type(exc).__name__}: {str(exc)[:160]}"
        finally:
            db.session.rollback()
        if problem:
            counts["over_500"] += 1
            failures.append(f"{role} {method} {url[:200]} body={body[:120]!r}: {problem}")

    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                counts["combinations"] += 1
                budget = EXAMPLES if _allowed(app, rule, role) else DENIED_EXAMPLES

                @seed(zlib.crc32(f"{rule.rule} {method} {role}".encode()))
                @settings(max_examples=budget, deadline=None, database=None, phases=[Phase.generate],
                          suppress_health_check=list(HealthCheck))
                @given(st.data())
                def fuzz(data):
                    path = _path(rule, data.draw)
                    query = _encode_pairs(data.draw(_pairs(names, 3)))
                    body = _encode_pairs(data.draw(_pairs(names, 6))) if method == "POST" else ""
                    visit(signed_in(role), role, method, f"{path}?{query}" if query else path, body)

                fuzz()

    seconds = time.monotonic() - started
    routes = len(rules)
    summary = (f"fuzz {db.engine.dialect.name}: {routes} routes x {len(ROLES)} roles "
               f"({counts['combinations']} route-method-role combinations), {counts['requests']} requests, "
               f"{counts['over_500']} responses >= 500, {seconds:.0f}s")
    print("\n" + summary)
    with SUMMARY.open("a") as out:
        out.write(summary + "\n")
    assert not failures, f"{len(failures)} requests failed:\n" + "\n".join(failures[:40])
