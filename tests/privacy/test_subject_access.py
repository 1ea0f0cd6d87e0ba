"""Subject access: the file holds every row about the person, and only the right people get it."""
from __future__ import annotations

import base64
import json

from app.email import OutboxMessage
from app.extensions import db
from tests.privacy.conftest import EMAIL, NAME, PNG, rows_naming


def _keys(data: dict) -> set[tuple[str, tuple]]:
    listed = {(r["table"], tuple(r["key"])) for records in data["sections"].values() for r in records}
    return listed | {(r["table"], tuple(r["key"])) for r in data["other_records"]}


def test_the_file_holds_every_row_that_refers_to_the_person(rich_person, admin, client, login_as):
    person = rich_person["person"]
    login_as(admin)
    assert client.get(f"/admin/people/{person.id}").status_code == 200  # an access log entry about them
    client.post("/sign-out")
    # Their own copy (an administrator's copy would add its own access log entry after it is made).
    login_as(person)
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="personal-data-{person.id}.json"'
    data = json.loads(response.get_data(as_text=True))

    in_database = rows_naming(person.id, [EMAIL, NAME])
    missing = in_database - _keys(data)
    assert not missing, f"rows about the person missing from the file: {sorted(missing)}"
    # Every kind of record is in its own section with its contents, not only listed.
    sections = data["sections"]
    for table in ("users", "account_events", "bookings", "booking_events", "charges", "suspensions",
                  "certificates", "completions", "single_agency_attendees", "evaluation_invitations", "evaluation_responses",
                  "evaluation_answers", "outbox_messages", "access_log_entries"):
        assert sections[table], table
    assert [(e["fields"]["viewer_id"], e["fields"]["kind"]) for e in sections["access_log_entries"]] == [
        (admin.id, "person")]
    assert len(sections["bookings"]) == 2
    assert sections["users"][0]["fields"]["access_needs"] == "Step-free access and a halal lunch"
    assert sections["certificates"][0]["fields"]["code"] == rich_person["certificate"]
    assert any(a["fields"]["value_text"] == "Share chronologies with the school team."
               for a in sections["evaluation_answers"])
    assert {e["fields"]["to_value"] for e in sections["account_events"]} >= {"Named nurse for safeguarding"}
    assert sections["single_agency_attendees"][0]["about"]["training"] == "Safeguarding in school nursing"
    uploaded = next(c["about"]["uploaded_certificate"] for c in sections["completions"]
                    if "uploaded_certificate" in c["about"])
    assert base64.b64decode(uploaded["base64"]) == PNG
    # Where others name them: the colleague's line manager, the message to their own manager.
    others = {(r["table"], tuple(r["key"])): r["columns"] for r in data["other_records"]}
    assert others[("users", (rich_person["colleague"].id,))] == ["line_manager_email"]
    ask = db.session.query(OutboxMessage).filter_by(idempotency_key="test:manager-ask").one()
    assert others[("outbox_messages", (ask.id,))] == ["subject", "text_body"]
    # No secrets, and other people's records carry no contents.
    text = response.get_data(as_text=True)
    for secret in (person.password_hash, person.session_token, person.calendar_token):
        assert secret not in text
    assert "Colm Colleague" not in text
    assert "/evaluation/answer/" in text and "[hidden]" in text


def test_a_person_downloads_their_own_and_reads_it(rich_person, client, login_as):
    person = rich_person["person"]
    login_as(person)
    page = client.get("/account/data").get_data(as_text=True)
    assert "Download your data as a file" in page and "Ask for my details to be erased" in page
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["person_id"] == person.id and data["sections"]["users"][0]["fields"]["email"] == EMAIL
    document = client.get("/account/data/document").get_data(as_text=True)
    assert "Your bookings’ history" in document
    assert "Named nurse for safeguarding" in document
    assert "Share chronologies with the school team." in document
    assert "zq certificate.png" in document


def test_only_administrators_produce_someone_elses(rich_person, make_user, client, login_as):
    person = rich_person["person"]
    coordinator = make_user(roles=("coordinator",), coordinates=rich_person["agency"])
    login_as(coordinator)
    for path in (f"/admin/people/{person.id}/data.json", f"/admin/people/{person.id}/data",
                 f"/admin/people/{person.id}/erase"):
        assert client.get(path).status_code == 403
    assert client.get("/account/data.json").status_code == 200  # their own
    assert NAME not in client.get("/account/data.json").get_data(as_text=True)
    client.post("/sign-out", data={})
    assert client.get("/account/data.json").status_code == 302  # to sign in


def test_asking_for_erasure_tells_the_l_and_d_team(rich_person, client, login_as, app, deliver, mailbox):
    person = rich_person["person"]
    login_as(person)
    response = client.post("/account/data/erasure-request", data={}, follow_redirects=True)
    assert "We have told the L&amp;D team" in response.get_data(as_text=True)
    deliver()
    sent = mailbox.to(app.config["L_AND_D_EMAIL"])
    assert len(sent) == 1 and f"/admin/people/{person.id}/erase" in sent[0].get_body(("plain",)).get_content()
    assert NAME not in sent[0].as_string()
    assert person.name == NAME  # asking erases nothing
