"""Account pages as people use them: what they see, the e-mail that arrives, what changes."""
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import event, func, select
from werkzeug.routing.converters import NumberConverter

from app import clock
from app.accounts.access import ANYONE
from app.accounts.models import (
    ACTIVE,
    ADMIN,
    COORDINATOR,
    DEACTIVATED,
    LEARNER,
    PENDING_APPROVAL,
    REFUSED,
    REVIEWER,
    TRAINER,
    AccountEvent,
    Agency,
    RoleGrant,
    Sector,
    User,
)
from app.email import OutboxMessage, queue_email
from app.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.security import page_without_nonce


def text(response) -> str:
    return page_without_nonce(response)


def link_in(message, path: str) -> str:
    """The path of the first link to `path` in a received e-mail's plain-text part."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"http://localhost(" + re.escape(path) + r"\S+)", body)
    assert match, body
    return match.group(1)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def school(make_agency):
    return make_agency("Hillcrest Primary School", "Education - schools",
                       domains=("hillcrest.sch.example",))


def registration(school, **overrides):
    data = {
        "name": "Amara Okafor", "email": "amara.okafor@hillcrest.sch.example",
        "job_title": "Teacher", "agency_id": str(school.id),
        "line_manager_name": "Ben Head", "line_manager_email": "ben.head@hillcrest.sch.example",
        "password": TEST_PASSWORD, "password_again": TEST_PASSWORD,
    }
    data.update(overrides)
    return data


# --- Registration ---------------------------------------------------------------------------

def test_the_registration_page_lists_active_agencies_with_a_search_box(client, school, make_agency):
    closed = make_agency("Closed Clinic")
    closed.active = False
    db.session.commit()
    page = text(client.get("/register"))
    assert "Hillcrest Primary School" in page
    assert "Closed Clinic" not in page
    assert 'data-app-filter="Search the list by name"' in page
    assert '<label class="govuk-label" for="agency_id">' in page


@pytest.mark.parametrize("overrides, message", [
    ({"email": "office@hillcrest.sch.example"}, "looks like a shared mailbox"),
    ({"name": ""}, "Enter your full name"),
    ({"job_title": ""}, "Enter your job title"),
    ({"agency_id": "0"}, "Select the agency you work for"),
    ({"email": ""}, "Enter your work e-mail address"),
    ({"line_manager_email": "ben.head at school"}, "Enter an e-mail address in the correct format"),
    ({"line_manager_email": "amara.okafor@hillcrest.sch.example"}, "not your own"),
    ({"password_again": "something else"}, "The passwords do not match"),
    ({"password": "short", "password_again": "short"}, "at least 10 characters"),
])
def test_registration_refusals_are_shown_on_the_page_and_create_nothing(client, school, mailbox,
                                                                         deliver, overrides, message):
    response = client.post("/register", data=registration(school, **overrides))
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page and message in page
    assert page.count(message) >= 2, "in the error summary and next to the field"
    assert count(User) == 0
    assert deliver() == (0, 0) and mailbox.messages == []


def test_a_taken_address_gets_the_same_page_as_a_new_one_and_its_owner_an_e_mail(
        app, school, make_user, mailbox, deliver):
    owner = make_user(name="Amara Okafor", email="amara.okafor@hillcrest.sch.example", agency=school)
    taken = app.test_client().post("/register", data=registration(
        school, email="Amara.Okafor@HILLCREST.sch.example"))
    new = app.test_client().post("/register", data=registration(
        school, name="Ben Newcomer", email="ben.newcomer@hillcrest.sch.example"))
    assert taken.status_code == new.status_code == 200
    assert text(taken).replace("amara.okafor", "ADDRESS") == text(new).replace("ben.newcomer", "ADDRESS")
    assert "Check your e-mail" in text(taken) and "already" not in text(taken)
    assert count(User) == 2

    deliver()
    [warning] = mailbox.to(owner.email)
    assert warning["Subject"] == "Someone tried to register with your e-mail address"
    body = warning.get_body(preferencelist=("plain",)).get_content()
    assert "If it was you, you do not need a new account" in body
    assert "http://localhost/sign-in" in body and "http://localhost/password/forgotten" in body
    db.session.refresh(owner)
    assert owner.name == "Amara Okafor" and owner.check_password(TEST_PASSWORD)


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "password123", "1234567890", "qwertyuiop"])
def test_common_or_repetitive_passwords_are_refused_with_a_reason(client, school, password):
    response = client.post("/register", data=registration(
        school, password=password, password_again=password))
    page = text(response)
    assert "Your password is too easy to guess." in page
    assert "Three random words together make a strong password" in page
    assert count(User) == 0


def test_registration_sends_a_link_that_confirms_the_address_once(client, school, mailbox, deliver):
    response = client.post("/register", data=registration(school))
    assert "Check your e-mail" in text(response)
    assert "Once confirmed, you can sign in" in text(response)
    deliver()
    [message] = mailbox.to("amara.okafor@hillcrest.sch.example")
    assert message["Subject"] == "Confirm your e-mail address"
    link = link_in(message, "/verify/")

    first = client.get(link, follow_redirects=True)
    assert "Your e-mail address is confirmed. You can now sign in." in text(first)
    again = client.get(link, follow_redirects=True)
    assert "already confirmed" in text(again)
    person = db.session.scalar(select(User))
    assert person.is_verified
    assert db.session.scalar(select(func.count()).select_from(AccountEvent)
                             .where(AccountEvent.action == "verified")) == 1
    signed_in = client.post("/sign-in", data={"email": person.email, "password": TEST_PASSWORD})
    assert signed_in.status_code == 302


def test_an_address_outside_the_agency_domains_is_held_with_a_clear_message(client, school,
                                                                             mailbox, deliver):
    response = client.post("/register", data=registration(school, email="amara.okafor@gmail.com"))
    page = text(response)
    assert "the L&amp;D team will check your account before you can sign in" in page
    deliver()
    link = link_in(mailbox.to("amara.okafor@gmail.com")[0], "/verify/")
    confirmed = client.get(link, follow_redirects=True)
    assert "The L&amp;D team will approve your account and e-mail you." in text(confirmed)
    refused = client.post("/sign-in", data={"email": "amara.okafor@gmail.com",
                                            "password": TEST_PASSWORD})
    assert "waiting for the L&amp;D team to approve it" in text(refused)
    assert db.session.scalar(select(User.status)) == PENDING_APPROVAL


def test_a_tampered_verification_link_does_not_work(client, school, mailbox, deliver):
    client.post("/register", data=registration(school))
    deliver()
    link = link_in(mailbox.messages[0], "/verify/")
    response = client.get(link[:-3] + ("xyz" if not link.endswith("xyz") else "abc"))
    assert response.status_code == 400
    assert "This link does not work" in text(response)
    assert not db.session.scalar(select(User)).is_verified


def test_an_expired_verification_link_offers_a_new_one(app, client, school, mailbox, deliver,
                                                       set_now):
    set_now(clock.utcnow())
    client.post("/register", data=registration(school))
    deliver()
    link = link_in(mailbox.messages[0], "/verify/")
    set_now(clock.utcnow() + timedelta(hours=app.config["VERIFY_LINK_HOURS"], minutes=1))
    response = client.get(link)
    assert response.status_code == 400
    assert "This link has expired" in text(response)
    assert "Send me a new confirmation link" in text(response)
    assert not db.session.scalar(select(User)).is_verified


# --- Signing in -----------------------------------------------------------------------------

def sign_in(client, email, password=TEST_PASSWORD, **extra):
    return client.post("/sign-in", data={"email": email, "password": password, **extra})


def test_a_wrong_password_gets_the_same_message_as_an_unknown_address(client, make_user):
    person = make_user()
    wrong = sign_in(client, person.email, "not the password")
    unknown = sign_in(client, "nobody@example.org")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Enter a correct e-mail address and password" in text(response)
    assert client.get("/account").status_code == 302, "still signed out"


@pytest.mark.parametrize("fields, message", [
    ({"verified": False}, "Confirm your e-mail address first"),
    ({"status": PENDING_APPROVAL}, "waiting for the L&amp;D team to approve it"),
    ({"status": DEACTIVATED}, "This account has been closed"),
])
def test_accounts_that_cannot_sign_in_are_told_why(client, make_user, fields, message):
    person = make_user(**fields)
    response = sign_in(client, person.email)
    assert message in text(response)
    assert client.get("/account").status_code == 302


def test_repeated_failures_lock_the_account_for_a_while(app, client, make_user, set_now):
    set_now(clock.utcnow())
    person = make_user()
    for _ in range(app.config["MAX_FAILED_SIGN_INS"]):
        sign_in(client, person.email, "not the password")
    locked = sign_in(client, person.email)
    assert locked.status_code == 200
    assert "Too many failed attempts" in text(locked)

    set_now(clock.utcnow() + timedelta(minutes=app.config["LOCKOUT_MINUTES"] - 1))
    assert "Too many failed attempts" in text(sign_in(client, person.email))
    set_now(clock.utcnow() + timedelta(minutes=1, seconds=1))
    assert sign_in(client, person.email).status_code == 302
    assert "Your account" in text(client.get("/account"))


def test_a_stranger_elsewhere_cannot_lock_a_person_out_and_learns_nothing(app, make_user):
    person = make_user(roles=(ADMIN,))
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    pages = {}
    for address in (person.email, "nobody@example.org"):
        for _ in range(app.config["MAX_FAILED_SIGN_INS"]):
            sign_in(stranger, address, "guess")
        paused = sign_in(stranger, address, "guess")
        assert paused.status_code == 200
        pages[address] = text(paused).replace(address, "ADDRESS")
    assert "Too many failed attempts" in pages[person.email]
    assert pages[person.email] == pages["nobody@example.org"]

    assert sign_in(app.test_client(), person.email).status_code == 302, "from their own network"


def test_the_remember_me_cookie_is_set_only_when_ticked(app, make_user):
    person = make_user()
    plain = app.test_client().post("/sign-in", data={"email": person.email, "password": TEST_PASSWORD})
    assert plain.status_code == 302
    assert not any(h.startswith("remember_token=") for h in plain.headers.getlist("Set-Cookie"))
    ticked = app.test_client().post("/sign-in", data={"email": person.email,
                                                      "password": TEST_PASSWORD, "remember": "y"})
    assert ticked.status_code == 302
    assert any(h.startswith("remember_token=") for h in ticked.headers.getlist("Set-Cookie")), ticked.headers.getlist("Set-Cookie")


def _cookies(response) -> dict[str, str]:
    """The attributes of each cookie a response sets, keyed by name (lower-case attributes)."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = header.split("=", 1)[0]
        found[name] = header.lower()
    return found


def test_the_remember_me_cookie_lasts_the_configured_days_and_stays_on_this_site(app, make_user):
    person = make_user()
    ticked = sign_in(app.test_client(), person.email, remember="y")
    cookie = _cookies(ticked)["remember_token"]
    days = app.config["REMEMBER_COOKIE_DURATION_DAYS"]
    assert days == 14
    expires = parsedate_to_datetime(re.search(r"expires=([^;]+)", cookie).group(1))
    # Flask-Login dates it from the real clock, not the app's.
    lasts = expires - datetime.now(timezone.utc)
    assert timedelta(days=days, minutes=-1) < lasts <= timedelta(days=days)
    assert "samesite=lax" in cookie and "httponly" in cookie


def _copy(app, browser):
    """Another browser holding the same cookies, as someone who copied them would."""
    thief = app.test_client()
    for name in ("session", "remember_token"):
        cookie = browser.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


@pytest.mark.parametrize("remember", [False, True])
def test_signing_out_ends_the_session_for_a_copied_cookie_too(app, make_user, remember):
    person = make_user()
    browser = app.test_client()
    assert sign_in(browser, person.email, **({"remember": "y"} if remember else {})).status_code == 302
    thief = _copy(app, browser)
    assert thief.get("/account").status_code == 200, "the copy works while signed in"
    if remember:
        remembered_only = app.test_client()
        remembered_only.set_cookie("remember_token", browser.get_cookie("remember_token").value)
        assert remembered_only.get("/account").status_code == 200

    browser.post("/sign-out")
    for copy in [thief] + ([remembered_only] if remember else []):
        replay = copy.get("/account")
        assert replay.status_code == 302 and "/sign-in" in replay.headers["Location"]
    assert sign_in(app.test_client(), person.email).status_code == 302, "they can sign in again"


def test_a_password_reset_ends_every_session(app, make_user, mailbox, deliver):
    person = make_user(email="dev@example.org")
    browser = app.test_client()
    sign_in(browser, person.email, remember="y")
    thief = _copy(app, browser)
    browser.post("/password/forgotten", data={"email": person.email})
    deliver()
    link = link_in(mailbox.to("dev@example.org")[0], "/password/reset/")
    app.test_client().post(link, data={"password": "a brand new password",
                                       "password_again": "a brand new password"})
    for someone in (browser, thief):
        assert someone.get("/account").status_code == 302


def test_changing_the_password_ends_every_other_session(app, make_user, mailbox):
    person = make_user()
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, person.email, remember="y")
    sign_in(elsewhere, person.email, remember="y")
    thief = _copy(app, here)
    assert "Change your password" in text(here.get("/account"))

    wrong = here.post("/account/password", data={
        "current_password": "not it", "password": "a brand new password",
        "password_again": "a brand new password"})
    assert "Your current password is not right" in text(wrong)
    weak = here.post("/account/password", data={
        "current_password": TEST_PASSWORD, "password": "password123", "password_again": "password123"})
    assert "Your password is too easy to guess" in text(weak)
    assert elsewhere.get("/account").status_code == 200, "nothing changed yet"

    done = here.post("/account/password", data={
        "current_password": TEST_PASSWORD, "password": "a brand new password",
        "password_again": "a brand new password"})
    assert _cookies(done)["remember_token"].startswith("remember_token="), "a fresh cookie"
    assert "Your password has been changed" in text(here.get("/account"))
    assert here.get("/account").status_code == 200, "this browser stays signed in"
    for other in (elsewhere, thief):
        assert other.get("/account").status_code == 302
    assert sign_in(app.test_client(), person.email, "a brand new password").status_code == 302
    assert "password changed" in [e.action for e in db.session.scalars(select(AccountEvent))]


def test_signing_out_needs_the_button(client, make_user, login_as):
    login_as(make_user())
    assert "Sign out" in text(client.get("/sign-out"))
    assert client.get("/account").status_code == 200, "a GET does not sign out"
    done = client.post("/sign-out", follow_redirects=True)
    assert "You have signed out." in text(done)
    assert client.get("/account").status_code == 302


# --- Password reset -------------------------------------------------------------------------

def test_a_reset_link_is_emailed_and_works_once(client, make_user, mailbox, deliver):
    person = make_user(email="dev@example.org")
    response = client.post("/password/forgotten", data={"email": "Dev@Example.org"})
    assert response.status_code == 200
    deliver()
    [message] = mailbox.to("dev@example.org")
    assert message["Subject"] == "Reset your password"
    link = link_in(message, "/password/reset/")

    assert "New password" in text(client.get(link))
    done = client.post(link, data={"password": "a brand new password",
                                   "password_again": "a brand new password"}, follow_redirects=True)
    assert "Your password has been changed" in text(done)
    assert "Enter a correct e-mail address" in text(sign_in(client, person.email))
    assert sign_in(client, person.email, "a brand new password").status_code == 302

    used = client.get(link)
    assert used.status_code == 400 and "already been used" in text(used)


def test_an_unknown_address_gets_the_same_reset_page_and_no_mail(client, mailbox, deliver):
    response = client.post("/password/forgotten", data={"email": "nobody@example.org"})
    assert response.status_code == 200
    deliver()
    assert mailbox.messages == []


def test_a_reset_link_expires(app, client, make_user, mailbox, deliver, set_now):
    set_now(clock.utcnow())
    person = make_user(email="dev@example.org")
    client.post("/password/forgotten", data={"email": person.email})
    deliver()
    link = link_in(mailbox.to("dev@example.org")[0], "/password/reset/")
    set_now(clock.utcnow() + timedelta(hours=app.config["RESET_LINK_HOURS"], minutes=1))
    response = client.post(link, data={"password": "a brand new password",
                                       "password_again": "a brand new password"})
    assert response.status_code == 400 and "This link has expired" in text(response)
    db.session.refresh(person)
    assert person.check_password(TEST_PASSWORD)


# --- The L&D team's screens: people ---------------------------------------------------------

@pytest.fixture
def admin_client(client, make_user, login_as):
    admin = make_user(name="Adaeze Fairweather", email="adaeze@lscb.example", roles=(ADMIN,))
    login_as(admin)
    client.admin = admin
    return client


def test_approving_a_held_account_emails_the_person_who_can_then_sign_in(
        app, admin_client, make_user, mailbox, deliver):
    held = make_user(name="Olu Held", email="olu@gmail.com", status=PENDING_APPROVAL)
    page = text(admin_client.get(f"/admin/people/{held.id}"))
    assert "This account is waiting for approval." in page and "Approve account" in page

    done = admin_client.post(f"/admin/people/{held.id}/approve", follow_redirects=True)
    assert "Olu Held’s account is approved" in text(done)
    assert "Approved" in text(done) and "Adaeze Fairweather" in text(done), "in the history"
    deliver()
    [message] = mailbox.to("olu@gmail.com")
    assert message["Subject"] == "Your account is approved"
    assert "You can now sign in" in message.get_body(preferencelist=("plain",)).get_content()
    assert sign_in(app.test_client(), "olu@gmail.com").status_code == 302


def test_refusing_a_held_account_emails_the_note_and_keeps_them_out(
        app, admin_client, make_user, mailbox, deliver):
    held = make_user(name="Olu Held", email="olu@gmail.com", status=PENDING_APPROVAL)
    assert "Refuse this account" in text(admin_client.get(f"/admin/people/{held.id}/refuse"))
    done = admin_client.post(f"/admin/people/{held.id}/refuse",
                             data={"reason": "Please register with your school address."},
                             follow_redirects=True)
    assert "Olu Held’s account is refused" in text(done)
    deliver()
    [message] = mailbox.to("olu@gmail.com")
    assert "Please register with your school address." in message.get_body(
        preferencelist=("plain",)).get_content()
    db.session.refresh(held)
    assert held.status == REFUSED
    assert sign_in(app.test_client(), "olu@gmail.com").status_code == 200


def test_refusing_an_account_that_is_not_held_changes_nothing(admin_client, make_user, mailbox,
                                                              deliver):
    person = make_user(name="Already Active")
    response = admin_client.post(f"/admin/people/{person.id}/refuse", data={"reason": "x"})
    assert "Already Active’s account is not waiting for approval" in text(response)
    db.session.refresh(person)
    assert person.status == ACTIVE
    assert deliver() == (0, 0)


def _edit(person, **overrides):
    data = {"name": person.name, "email": person.email, "job_title": person.job_title,
            "agency_id": str(person.agency_id), "line_manager_name": person.line_manager_name,
            "line_manager_email": person.line_manager_email, "reason": ""}
    data.update(overrides)
    return data


def test_changing_agency_shows_in_the_history(admin_client, make_user, make_agency):
    before = make_agency("Canal Side Surgery")
    after = make_agency("Marlowe Road Practice")
    person = make_user(name="Priya Moving", agency=before)
    page = text(admin_client.get(f"/admin/people/{person.id}"))
    assert f'href="/admin/people/{person.id}/edit#agency_id"' in page
    form = text(admin_client.get(f"/admin/people/{person.id}/edit"))
    assert "Change details" in form and "Canal Side Surgery" in form

    refused = admin_client.post(f"/admin/people/{person.id}/edit",
                                data=_edit(person, agency_id="0"))
    assert "Choose the person’s agency" in text(refused)

    done = admin_client.post(f"/admin/people/{person.id}/edit",
                             data=_edit(person, agency_id=str(after.id)), follow_redirects=True)
    page = text(done)
    assert "Priya Moving’s details have been saved." in page
    assert "Agency changed" in page
    assert "From ‘Canal Side Surgery’ to ‘Marlowe Road Practice’" in page
    assert "Adaeze Fairweather" in page, "who made the change"
    db.session.refresh(person)
    assert person.agency_id == after.id


def test_an_administrator_changes_name_address_job_and_manager(admin_client, make_user, mailbox,
                                                               deliver):
    person = make_user(name="Tom Old", email="tom@example.org", job_title="Nurse",
                       line_manager_name="Ann Boss", line_manager_email="ann@example.org")
    done = admin_client.post(
        f"/admin/people/{person.id}/edit",
        data=_edit(person, name="Tom New", email="tom.new@example.org", job_title="Matron",
                   line_manager_name="Bea Boss", line_manager_email="bea@example.org"),
        follow_redirects=True)
    page = text(done)
    assert "We have sent a link to tom.new@example.org to confirm it." in page
    for row in ("From ‘Tom Old’ to ‘Tom New’", "From ‘tom@example.org’ to ‘tom.new@example.org’",
                "From ‘Nurse’ to ‘Matron’", "From ‘ann@example.org’ to ‘bea@example.org’"):
        assert row in page
    deliver()
    [confirm] = mailbox.to("tom.new@example.org")
    assert confirm["Subject"] == "Confirm your e-mail address"


def test_a_move_outside_the_agency_domains_needs_a_reason_on_the_page(admin_client, make_user,
                                                                      make_agency):
    school = make_agency("Hillcrest Primary", domains=("hillcrest.sch.example",))
    person = make_user(name="Jo Seconded", email="jo@council.example")
    refused = admin_client.post(f"/admin/people/{person.id}/edit",
                                data=_edit(person, agency_id=str(school.id)))
    page = text(refused)
    assert refused.status_code == 200 and "There is a problem" in page
    assert "jo@council.example is not on Hillcrest Primary’s e-mail domains (hillcrest.sch.example)" in page
    db.session.refresh(person)
    assert person.agency_id != school.id

    done = admin_client.post(f"/admin/people/{person.id}/edit",
                             data=_edit(person, agency_id=str(school.id),
                                        reason="Seconded for a year; checked with the head"),
                             follow_redirects=True)
    page = text(done)
    assert "Approved outside the agency’s domains" in page
    assert "Seconded for a year; checked with the head" in page
    db.session.refresh(person)
    assert person.agency_id == school.id


def test_deactivating_signs_the_person_out_and_reactivating_lets_them_back(app, admin_client,
                                                                           make_user):
    person = make_user(name="Farid Leaving")
    their_browser = app.test_client()
    assert sign_in(their_browser, person.email).status_code == 302
    assert their_browser.get("/account").status_code == 200

    done = admin_client.post(f"/admin/people/{person.id}/deactivate", follow_redirects=True)
    assert "Farid Leaving’s account is deactivated" in text(done)
    assert their_browser.get("/account").status_code == 302, "signed out on their next page"
    assert "This account has been closed" in text(sign_in(app.test_client(), person.email))

    done = admin_client.post(f"/admin/people/{person.id}/reactivate", follow_redirects=True)
    assert "Farid Leaving’s account is active again" in text(done)
    assert sign_in(app.test_client(), person.email).status_code == 302


def test_an_administrator_cannot_deactivate_themselves(admin_client):
    admin = admin_client.admin
    page = text(admin_client.get(f"/admin/people/{admin.id}"))
    assert "Deactivate account" not in page
    response = admin_client.post(f"/admin/people/{admin.id}/deactivate", follow_redirects=True)
    assert "You cannot deactivate your own account" in text(response)
    db.session.refresh(admin)
    assert admin.status == ACTIVE


def test_granting_and_removing_roles(admin_client, make_user, make_agency):
    agency = make_agency("Riverside Mental Health")
    person = make_user(name="Kasia Role", agency=agency)
    refused = admin_client.post(f"/admin/people/{person.id}/roles/new",
                                data={"role": COORDINATOR, "agency_id": "0"})
    assert "Choose the agency this person coordinates" in text(refused)
    assert count(RoleGrant) == 1, "only the administrator's own role"

    done = admin_client.post(f"/admin/people/{person.id}/roles/new",
                             data={"role": COORDINATOR, "agency_id": str(agency.id)},
                             follow_redirects=True)
    page = text(done)
    assert "Kasia Role now has the role Agency coordinator for Riverside Mental Health." in page
    assert "Agency coordinator for Riverside Mental Health" in page

    grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == person.id))
    done = admin_client.post(f"/admin/people/{person.id}/roles/{grant.id}/remove",
                             follow_redirects=True)
    assert "Kasia Role no longer has the role Agency coordinator." in text(done)
    assert "Role removed" in text(done)
    db.session.expire_all()
    assert db.session.get(User, person.id).roles == {LEARNER}


def test_removing_your_own_administrator_role_is_refused(admin_client):
    grant = admin_client.admin.role_grants[0]
    response = admin_client.post(f"/admin/people/{admin_client.admin.id}/roles/{grant.id}/remove",
                                 follow_redirects=True)
    assert "You cannot remove your own administrator role" in text(response)
    assert count(RoleGrant) == 1


def test_a_new_confirmation_link_can_be_sent(admin_client, make_user, mailbox, deliver):
    person = make_user(name="Grace Unconfirmed", email="grace@example.org", verified=False)
    done = admin_client.post(f"/admin/people/{person.id}/resend-verification",
                             follow_redirects=True)
    assert "A new confirmation link has been sent to grace@example.org." in text(done)
    deliver()
    [message] = mailbox.to("grace@example.org")
    assert message["Subject"] == "Confirm your e-mail address"


# --- Limits per client -------------------------------------------------------------------------

@pytest.mark.parametrize("path, setting, data", [
    ("/sign-in", "RATELIMIT_SIGN_IN", {"email": "someone@example.org", "password": "guess"}),
    ("/register", "RATELIMIT_REGISTER", {"name": "Someone"}),
    ("/password/forgotten", "RATELIMIT_EMAIL_LINKS", {"email": "someone@example.org"}),
    ("/verify/resend", "RATELIMIT_EMAIL_LINKS", {"email": "someone@example.org"}),
])
def test_one_client_is_slowed_down_after_a_number_of_attempts(app, rate_limits, path, setting,
                                                               data):
    rate_limits[setting] = "3 per minute"
    script = app.test_client()
    for _ in range(3):
        assert script.post(path, data=data).status_code in (200, 302)
    refused = script.post(path, data=data)
    assert refused.status_code == 429
    assert "Too many attempts" in text(refused) and "Wait a few minutes" in text(refused)
    assert script.get(path).status_code == 200, "the page itself still opens"
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert other.post(path, data=data).status_code in (200, 302), "other clients carry on"


def test_the_default_limits_leave_room_for_an_office_sharing_one_address(app, rate_limits,
                                                                          make_user):
    people = [make_user() for _ in range(10)]
    for person in people:
        assert sign_in(app.test_client(), person.email).status_code == 302


def test_a_locked_account_can_be_unlocked(app, admin_client, make_user):
    person = make_user(name="Leon Locked")
    for _ in range(app.config["MAX_FAILED_SIGN_INS"]):
        sign_in(app.test_client(), person.email, "not the password")
    assert "Too many failed attempts" in text(sign_in(app.test_client(), person.email))
    page = text(admin_client.get(f"/admin/people/{person.id}"))
    assert "locked after failed sign-ins" in page and "Unlock account" in page

    done = admin_client.post(f"/admin/people/{person.id}/unlock", follow_redirects=True)
    assert "Leon Locked’s account is unlocked" in text(done)
    assert sign_in(app.test_client(), person.email).status_code == 302


def test_an_unknown_person_or_action_is_not_found(admin_client):
    assert admin_client.get("/admin/people/999999").status_code == 404
    assert admin_client.post("/admin/people/999999/approve").status_code == 404
    assert admin_client.post(f"/admin/people/{admin_client.admin.id}/delete").status_code == 404


def test_people_can_be_found_by_name_email_or_agency(admin_client, make_user, make_agency):
    police = make_agency("Metropolitan Police North")
    make_user(name="Amara Okafor", email="amara@school.example")
    make_user(name="Ben Castellane", email="ben.c@police.example", agency=police)
    make_user(name="Chloe Held", agency=police, status=PENDING_APPROVAL)

    page = text(admin_client.get("/admin/people?q=okafor"))
    assert "1 person matches your search." in page and "Amara Okafor" in page
    assert "Ben Castellane" not in page
    page = text(admin_client.get("/admin/people?q=metropolitan"))
    assert "Ben Castellane" in page and "Chloe Held" in page and "Amara Okafor" not in page
    page = text(admin_client.get("/admin/people?status=pending_approval"))
    assert "Chloe Held" in page and "Ben Castellane" not in page
    page = text(admin_client.get(f"/admin/people?agency={police.id}&q=ben"))
    assert "Ben Castellane" in page and "Chloe Held" not in page
    page = text(admin_client.get("/admin/people?q=nobody-called-this"))
    assert "0 people match your search." in page
    assert admin_client.get("/admin/people?agency=abc&page=-3").status_code == 200


def test_the_people_list_pages_and_keeps_the_search(admin_client, make_user, make_agency):
    agency = make_agency("Northbridge College")
    for n in range(30):
        make_user(name=f"Student Teacher {n:02d}", agency=agency)
    first = text(admin_client.get("/admin/people?q=student"))
    assert "30 people match your search." in first
    assert "Student Teacher 24" in first and "Student Teacher 25" not in first
    assert "/admin/people?page=2&amp;q=student" in first
    second = text(admin_client.get("/admin/people?q=student&page=2"))
    assert "Student Teacher 25" in second and "Student Teacher 29" in second
    assert "Student Teacher 24" not in second


@contextmanager
def counting_queries():
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def test_the_people_list_does_not_run_a_query_per_row(admin_client, make_user, make_agency,
                                                      make_sector):
    def add_people(first: int, last: int):
        for n in range(first, last):
            agency = make_agency(f"Row Agency {n}", sector=make_sector(f"Row Sector {n}"))
            make_user(name=f"Person {n}", agency=agency, roles=(TRAINER,))

    add_people(0, 2)
    with counting_queries() as few:
        assert "Person 1" in text(admin_client.get("/admin/people"))
    add_people(2, 20)
    with counting_queries() as many:
        assert "Person 19" in text(admin_client.get("/admin/people"))
    assert len(many) == len(few), many


# --- The L&D team's screens: sectors and agencies ---------------------------------------------

def test_adding_an_agency_with_domains(admin_client, make_sector):
    police = make_sector("Police")
    db.session.commit()
    done = admin_client.post("/admin/agencies/new", data={
        "name": "Met Police North", "sector_id": str(police.id),
        "domains": "met.police.example,\n@Police.example"}, follow_redirects=True)
    page = text(done)
    assert "Agency ‘Met Police North’ added." in page
    assert "met.police.example, police.example" in page
    register_page = text(admin_client.application.test_client().get("/register"))
    assert "Met Police North" in register_page


@pytest.mark.parametrize("domains, message", [
    ("nhs", "‘nhs’ is not an e-mail domain"),
    ("gmail.com", "gmail.com is a public e-mail service"),
    ("taken.example", "taken.example already belongs to Taken Agency"),
])
def test_bad_agency_domains_are_refused_on_the_page(admin_client, make_agency, domains, message):
    taken = make_agency("Taken Agency", domains=("taken.example",))
    db.session.commit()
    response = admin_client.post("/admin/agencies/new", data={
        "name": "New Agency", "sector_id": str(taken.sector_id), "domains": domains})
    page = text(response)
    assert "There is a problem" in page and message in page
    assert count(Agency) == 2, "the administrator's agency and Taken Agency"


def test_agency_names_must_be_unique_and_sectors_chosen(admin_client, make_agency):
    existing = make_agency("Canal Side Surgery")
    db.session.commit()
    page = text(admin_client.post("/admin/agencies/new", data={
        "name": "CANAL SIDE SURGERY", "sector_id": str(existing.sector_id), "domains": ""}))
    assert "There is already an agency called ‘Canal Side Surgery’" in page
    page = text(admin_client.post("/admin/agencies/new", data={
        "name": "New Surgery", "sector_id": "0", "domains": ""}))
    assert "Choose the agency’s sector" in page
    assert count(Agency) == 2


def test_a_deactivated_agency_is_no_longer_offered_at_registration(admin_client, make_agency):
    agency = make_agency("Little Acorns Nursery", domains=("acorns.example",))
    make_user_agency_page = text(admin_client.get(f"/admin/agencies/{agency.id}/edit"))
    assert "acorns.example" in make_user_agency_page
    done = admin_client.post(f"/admin/agencies/{agency.id}/edit", data={
        "name": "Little Acorns Nursery", "sector_id": str(agency.sector_id),
        "domains": "acorns.example"}, follow_redirects=True)
    assert "Agency ‘Little Acorns Nursery’ saved." in text(done)
    assert "Deactivated" in text(done)
    assert "Little Acorns Nursery" not in text(admin_client.application.test_client().get("/register"))


def test_an_agency_people_belong_to_is_not_deleted(admin_client, make_agency, make_user):
    used = make_agency("Hillcrest Primary")
    make_user(agency=used)
    empty = make_agency("Nobody Here")
    db.session.commit()
    page = text(admin_client.get(f"/admin/agencies/{used.id}/edit"))
    assert "1 person belongs to this agency, so it cannot be deleted" in page
    refused = admin_client.post(f"/admin/agencies/{used.id}/delete", follow_redirects=True)
    assert "Deactivate it instead" in text(refused)
    done = admin_client.post(f"/admin/agencies/{empty.id}/delete", follow_redirects=True)
    assert "Agency ‘Nobody Here’ deleted." in text(done)
    names = set(db.session.scalars(select(Agency.name)))
    assert "Hillcrest Primary" in names and "Nobody Here" not in names


def test_sectors_are_added_renamed_and_deleted_only_when_empty(admin_client, make_sector):
    done = admin_client.post("/admin/sectors/new", data={"name": "Faith"}, follow_redirects=True)
    assert "Sector ‘Faith’ added." in text(done)
    refused = admin_client.post("/admin/sectors/new", data={"name": "faith"})
    assert "There is already a sector called ‘Faith’" in text(refused)
    faith = db.session.scalar(select(Sector).where(Sector.name == "Faith"))
    done = admin_client.post(f"/admin/sectors/{faith.id}/edit",
                             data={"name": "Faith groups", "active": "y"}, follow_redirects=True)
    assert "Sector ‘Faith groups’ saved." in text(done)
    used = db.session.scalar(select(Sector).where(Sector.name == "Health - acute"))
    refused = admin_client.post(f"/admin/sectors/{used.id}/delete", follow_redirects=True)
    assert "cannot be deleted. Deactivate it instead." in text(refused)
    done = admin_client.post(f"/admin/sectors/{faith.id}/delete", follow_redirects=True)
    assert "Sector ‘Faith groups’ deleted." in text(done)
    assert set(db.session.scalars(select(Sector.name))) == {"Health - acute"}


def test_the_administration_home_links_to_people_agencies_and_sectors(admin_client):
    page = text(admin_client.get("/admin/"))
    for href in ("/admin/people", "/admin/people?status=pending_approval", "/admin/agencies",
                 "/admin/sectors"):
        assert f'href="{href}"' in page


# --- Every view states who may use it, and the rest get 403 -----------------------------------

ROLES = (None, LEARNER, COORDINATOR, TRAINER, ADMIN, REVIEWER)
# URL arguments whose name does not say their table.
_ARGUMENT_TABLES = {"person": "users", "user": "users", "message": "outbox_messages",
                    "grant": "role_grants"}


def _table_for(argument: str):
    stem = argument[:-3] if argument.endswith("_id") else argument
    tables = db.metadata.tables
    for name in (_ARGUMENT_TABLES.get(stem), stem + "s", stem + "es", stem[:-1] + "ies", stem):
        if name and name in tables:
            return tables[name]
    return None


def _sample_values(rule) -> dict:
    """URL values for a rule: the id of an existing row where one can be found, else dummies."""
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        table = _table_for(argument)
        if getattr(converter, "items", None):
            values[argument] = sorted(converter.items)[0]
        elif table is not None and "id" in table.c:
            values[argument] = db.session.scalar(select(func.min(table.c.id))) or 1
        elif isinstance(converter, NumberConverter):
            values[argument] = 1
        else:
            values[argument] = "x"
    return values


def _may_use(view, role) -> bool:
    allowed = view.allowed_roles
    if allowed == ANYONE:
        return True
    return role is not None and (LEARNER in allowed or role in allowed)


def test_every_view_states_which_roles_may_use_it(app):
    missing = sorted(
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not hasattr(app.view_functions[rule.endpoint], "allowed_roles")
    )
    assert missing == [], "views without @public, @signed_in or @requires"


def test_every_url_for_every_role_gives_403_to_those_not_allowed(app, make_user, make_agency):
    agency = make_agency("Riverside Mental Health")
    people = {role: make_user(name=f"Walker {role}", agency=agency,
                              roles=(role,) if role not in (None, LEARNER) else (),
                              coordinates=agency)
              for role in ROLES if role is not None}
    queue_email(key="walk", to="someone@example.org", subject="Hello",
                template="accounts/emails/verify", person=people[LEARNER],
                link="http://localhost/x", hours=48)
    db.session.add(AccountEvent(user_id=people[LEARNER].id, action="registered"))
    db.session.commit()
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert any(rule.endpoint == "accounts.admin_people" for rule in rules)
    problems = []
    checked = 0
    for role in ROLES:
        client = app.test_client()
        if role is not None:
            response = sign_in(client, people[role].email)
            assert response.status_code == 302, f"{role} could not sign in"
        for rule in rules:
            view = app.view_functions[rule.endpoint]
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **_sample_values(rule))
            allowed = _may_use(view, role)
            if "GET" in rule.methods:
                response = client.get(url)
            elif not allowed and "POST" in rule.methods:
                response = client.post(url)  # refused before the view runs: changes nothing
            else:
                continue
            checked += 1
            status = response.status_code
            who = role or "anonymous"
            if allowed and status in (403, 500):
                problems.append(f"{who} GET {url}: {status}, but the view allows them")
            if not allowed:
                if role is None:
                    location = response.headers.get("Location", "")
                    if status != 302 or not location.startswith("/sign-in"):
                        problems.append(f"anonymous {url}: {status} {location}, not sent to sign in")
                elif status != 403:
                    problems.append(f"{who} {url}: {status}, expected 403")
    assert problems == []
    assert checked >= len(ROLES) * 20


# --- Cross-site request forgery ---------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app, admin_client,
                                                                      make_user):
    person = make_user(name="Target Person")
    app.config["WTF_CSRF_ENABLED"] = True

    response = admin_client.post(f"/admin/people/{person.id}/deactivate")
    assert response.status_code == 400
    assert "This form has expired" in text(response)
    db.session.refresh(person)
    assert person.status == ACTIVE
    assert count(AccountEvent) == 0

    page = text(admin_client.get(f"/admin/people/{person.id}"))
    token = CSRF_FIELD.search(page).group(1)
    done = admin_client.post(f"/admin/people/{person.id}/deactivate", data={"csrf_token": token},
                             follow_redirects=True)
    assert "Target Person’s account is deactivated" in text(done)
    db.session.refresh(person)
    assert person.status == DEACTIVATED


def test_sign_out_and_registration_without_the_csrf_token_are_refused(app, client, make_user,
                                                                      login_as, school):
    login_as(make_user())
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post("/sign-out")
    assert refused.status_code == 400 and "This form has expired" in text(refused)
    assert client.get("/account").status_code == 200, "still signed in"

    anonymous = app.test_client()
    refused = anonymous.post("/register", data=registration(school))
    assert refused.status_code == 400
    assert count(User) == 1


# --- A person's own details -------------------------------------------------------------------

def test_a_person_changes_their_details_and_sees_the_change_on_their_account(client, make_user,
                                                                            login_as):
    person = make_user(name="Ruth Hale", email="ruth@example.org", job_title="Nurse",
                       line_manager_name="Ann Boss", line_manager_email="ann@example.org")
    login_as(person)
    page = text(client.get("/account"))
    for anchor in ("name", "job_title", "line_manager_name"):
        assert f'href="/account/details#{anchor}"' in page
    assert "You have not changed your details since you registered." in page
    form = text(client.get("/account/details"))
    assert 'value="ann@example.org"' in form

    done = client.post("/account/details", data={
        "name": "Ruth Hale-Obi", "job_title": "Ward sister", "line_manager_name": "Bea Boss",
        "line_manager_email": "bea@example.org"}, follow_redirects=True)
    page = text(done)
    assert "Your details have been saved." in page
    assert "Bea Boss (bea@example.org)" in page
    for was, now in (("Ruth Hale", "Ruth Hale-Obi"), ("Nurse", "Ward sister"),
                     ("ann@example.org", "bea@example.org")):
        assert re.search(rf">{re.escape(was)}</td>\s*<td[^>]*>{re.escape(now)}</td>\s*<td[^>]*>You<", page)
    db.session.refresh(person)
    assert (person.name, person.line_manager_email) == ("Ruth Hale-Obi", "bea@example.org")


@pytest.mark.parametrize("changes, message", [
    ({"line_manager_email": "ruth@example.org"}, "not your own"),
    ({"line_manager_email": "bea at example"}, "Enter an e-mail address in the correct format"),
    ({"line_manager_email": ""}, "Enter your line manager’s e-mail address"),
    ({"name": "Ruth\r\nBcc: x@example.org"}, "cannot contain line breaks"),
    ({"job_title": ""}, "Enter your job title"),
])
def test_bad_details_are_refused_on_the_page_and_change_nothing(client, make_user, login_as,
                                                                changes, message):
    person = make_user(name="Ruth Hale", email="ruth@example.org",
                       line_manager_email="ann@example.org")
    login_as(person)
    data = {"name": "Ruth Hale", "job_title": "Nurse", "line_manager_name": "Ann Boss",
            "line_manager_email": "ann@example.org"}
    data.update(changes)
    response = client.post("/account/details", data=data)
    page = text(response)
    assert response.status_code == 200 and "There is a problem" in page and message in page
    assert count(AccountEvent) == 0
    db.session.refresh(person)
    assert (person.name, person.line_manager_email) == ("Ruth Hale", "ann@example.org")


def test_saving_returns_to_the_page_the_person_came_from_on_this_site_only(client, make_user,
                                                                          login_as):
    login_as(make_user(line_manager_name="", line_manager_email=""))
    data = {"name": "Sam Walk", "job_title": "Youth worker", "line_manager_name": "Lee Lead",
            "line_manager_email": "lee@example.org"}
    done = client.post("/account/details?next=/sessions/7/book", data=data)
    assert done.headers["Location"] == "/sessions/7/book"
    done = client.post("/account/details?next=https://evil.example/", data=data)
    assert done.headers["Location"] == "/account"


def test_a_learner_cannot_open_another_persons_details(client, make_user, login_as):
    other = make_user(name="Someone Else")
    login_as(make_user())
    assert client.get(f"/admin/people/{other.id}/edit").status_code == 403
    response = client.post(f"/admin/people/{other.id}/edit", data={"name": "Changed"})
    assert response.status_code == 403
    db.session.refresh(other)
    assert other.name == "Someone Else" and count(AccountEvent) == 0
    # Their own page only ever shows and changes their own account.
    assert "Someone Else" not in text(client.get(f"/account/details?id={other.id}"))


def test_administrators_see_the_persons_own_changes_in_the_history(app, admin_client, make_user):
    person = make_user(name="Ruth Hale", email="ruth@example.org", job_title="Nurse",
                       line_manager_name="Ann Boss", line_manager_email="ann@example.org")
    their_browser = app.test_client()
    assert sign_in(their_browser, person.email).status_code == 302
    their_browser.post("/account/details", data={
        "name": "Ruth Hale", "job_title": "Nurse", "line_manager_name": "Bea Boss",
        "line_manager_email": "bea@example.org"})
    page = text(admin_client.get(f"/admin/people/{person.id}"))
    assert re.search(r"Line manager’s e-mail address changed</td>\s*<td[^>]*>"
                     r"From ‘ann@example.org’ to ‘bea@example.org’</td>\s*<td[^>]*>The person</td>",
                     page)
    assert "Bea Boss (bea@example.org)" in page
