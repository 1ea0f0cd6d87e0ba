"""Account rules: registration, links, sign-in, lock-out, reset, and the L&D team's actions."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.accounts import (
    account_status,
    agencies,
    details,
    passwords,
    queries,
    registration,
    roles,
    sign_in,
)
from app.accounts.models import (
    ACTIVE,
    COORDINATOR,
    DEACTIVATED,
    PENDING_APPROVAL,
    REFUSED,
    TRAINER,
    AccountEvent,
    Agency,
    AgencyDomain,
    Sector,
    User,
)
from app.accounts.errors import AccountError
from app.accounts.sign_in import SignInRefused
from app.accounts.tokens import LinkError
from app.email import OutboxMessage
from app.extensions import db
from tests.conftest import TEST_PASSWORD

CLIENT = "192.0.2.1"


@pytest.fixture
def register(make_agency):
    agency_holder = {}

    def _register(**overrides):
        if "agency" not in overrides:
            if "a" not in agency_holder:
                agency_holder["a"] = make_agency("Hillcrest Primary", "Education - schools",
                                                 domains=("hillcrest.sch.example",))
            overrides["agency"] = agency_holder["a"]
        fields = dict(name="Amara Okafor", email="amara.okafor@hillcrest.sch.example",
                      password=TEST_PASSWORD, job_title="Teacher", line_manager_name="Ben Head",
                      line_manager_email="ben.head@hillcrest.sch.example")
        fields.update(overrides)
        return registration.register_person(**fields).person

    return _register


def _events(person: User) -> list[str]:
    return list(db.session.scalars(
        select(AccountEvent.action).where(AccountEvent.user_id == person.id)
        .order_by(AccountEvent.id)
    ))


def _outbox_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)))


# --- Registration ---------------------------------------------------------------------------

def test_registration_on_the_agency_domain_is_active_and_queues_a_verification_link(register):
    person = register()
    assert person.status == ACTIVE and not person.is_verified
    [message] = _outbox_to("amara.okafor@hillcrest.sch.example")
    assert message.subject == "Confirm your e-mail address"
    assert "/verify/" in message.text_body


@pytest.mark.parametrize("address", ["info@hillcrest.sch.example", "Office@hillcrest.sch.example",
                                     "admin+bookings@hillcrest.sch.example"])
def test_generic_mailboxes_are_refused_with_a_reason(register, address):
    with pytest.raises(AccountError, match="shared mailbox") as refused:
        register(email=address)
    assert refused.value.field == "email"


def test_an_address_outside_the_agency_domains_is_held_for_approval(register):
    person = register(email="amara@gmail.com")
    assert person.status == PENDING_APPROVAL
    assert _events(person) == ["registered", "held"]


def test_an_agency_without_domains_accepts_any_address(register, make_agency):
    person = register(agency=make_agency("Little Acorns Nursery"), email="amara@littleacorns.example")
    assert person.status == ACTIVE


def test_one_account_per_address_and_its_owner_is_told_of_another_attempt(register, make_agency):
    owner = register()
    again = registration.register_person(
        name="Someone Else", email="Amara.OKAFOR@Hillcrest.sch.example", password=TEST_PASSWORD,
        job_title="Teacher", agency=owner.agency, line_manager_name="Ben Head",
        line_manager_email="ben.head@hillcrest.sch.example")
    assert again == registration.Registration("amara.okafor@hillcrest.sch.example", False, None)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert [m.subject for m in _outbox_to(owner.email)] == [
        "Confirm your e-mail address", "Someone tried to register with your e-mail address"]
    assert "registration attempted" in _events(owner)


def test_a_taken_address_shows_held_exactly_as_a_new_one_would(register, make_user, make_agency):
    school = make_agency("Hillcrest Primary", "Education - schools",
                         domains=("hillcrest.sch.example",))
    make_user(email="amara@gmail.com", agency=make_agency())
    taken = register(email="amara@gmail.com", agency=school)
    assert taken is None
    fresh = registration.register_person(
        name="Amara Okafor", email="amara2@gmail.com", password=TEST_PASSWORD, job_title="Teacher",
        agency=school, line_manager_name="Ben Head",
        line_manager_email="ben.head@hillcrest.sch.example")
    again = registration.register_person(
        name="Amara Okafor", email="amara@gmail.com", password=TEST_PASSWORD, job_title="Teacher",
        agency=school, line_manager_name="Ben Head",
        line_manager_email="ben.head@hillcrest.sch.example")
    assert fresh.held and again.held


def test_a_taken_address_still_gets_every_other_check(register):
    register()
    with pytest.raises(AccountError, match="at least 10 characters"):
        register(password="short")
    with pytest.raises(AccountError, match="not your own"):
        register(line_manager_email="amara.okafor@hillcrest.sch.example")


@pytest.mark.parametrize("overrides, field, message", [
    ({"name": "  "}, "name", "Enter your full name"),
    ({"email": "not-an-address"}, "email", "correct format"),
    ({"agency": None}, "agency_id", "Select the agency"),
    ({"line_manager_email": "ben.head@"}, "line_manager_email", "correct format"),
    ({"line_manager_email": "amara.okafor@hillcrest.sch.example"}, "line_manager_email", "not your own"),
    ({"line_manager_name": ""}, "line_manager_name", "line manager’s name"),
    ({"password": "short"}, "password", "at least 10 characters"),
    ({"password": "aaaaaaaaaa"}, "password", "too easy to guess"),
    ({"password": "password123"}, "password", "too easy to guess"),
    ({"password": "Amara Okafor"}, "password", "too easy to guess"),
])
def test_missing_or_bad_details_are_refused_against_their_field(register, overrides, field, message):
    with pytest.raises(AccountError, match=message) as refused:
        register(**overrides)
    assert refused.value.field == field


def test_a_deactivated_agency_cannot_be_chosen(register, make_agency):
    agency = make_agency("Closed Clinic")
    agency.active = False
    with pytest.raises(AccountError, match="Select the agency"):
        register(agency=agency, email="amara@closed.example")


# --- Verification and reset links -------------------------------------------------------------

def _link_token(person: User, path: str) -> str:
    body = db.session.scalars(
        select(OutboxMessage.text_body).where(OutboxMessage.recipient == person.email)
        .order_by(OutboxMessage.id.desc())
    ).first()
    return body.split(path, 1)[1].split()[0]


def test_a_verification_link_confirms_once(register):
    person = register()
    token = _link_token(person, "/verify/")
    assert registration.verify_email(token) == (person, True)
    assert registration.verify_email(token) == (person, False)
    assert person.is_verified
    assert _events(person).count("verified") == 1


def test_a_tampered_verification_link_is_refused(register):
    person = register()
    token = _link_token(person, "/verify/")
    with pytest.raises(LinkError, match="not valid") as refused:
        registration.verify_email(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    assert not refused.value.expired
    assert not person.is_verified


def test_a_verification_link_expires(app, register, set_now):
    set_now(clock.utcnow())
    person = register()
    token = _link_token(person, "/verify/")
    set_now(clock.utcnow() + timedelta(hours=app.config["VERIFY_LINK_HOURS"], minutes=1))
    with pytest.raises(LinkError) as refused:
        registration.verify_email(token)
    assert refused.value.expired
    assert not person.is_verified


def test_a_reset_link_works_once_and_expires(app, make_user, set_now):
    set_now(clock.utcnow())
    person = make_user(email="dev@example.org")
    sign_in.request_password_reset("DEV@example.org")
    token = _link_token(person, "/password/reset/")
    sign_in.reset_password(token, "a brand new password")
    assert person.check_password("a brand new password")
    with pytest.raises(LinkError, match="already been used"):
        sign_in.reset_password(token, "another new password")

    sign_in.request_password_reset("dev@example.org")
    late = _link_token(person, "/password/reset/")
    set_now(clock.utcnow() + timedelta(hours=app.config["RESET_LINK_HOURS"], minutes=1))
    with pytest.raises(LinkError) as refused:
        sign_in.reset_password(late, "yet another password")
    assert refused.value.expired


def test_a_reset_request_for_an_unknown_address_sends_nothing(app):
    sign_in.request_password_reset("nobody@example.org")
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --- Sign-in and lock-out -------------------------------------------------------------------

def test_sign_in_with_the_right_password(make_user):
    person = make_user(email="grace@example.org")
    assert sign_in.authenticate("Grace@Example.org", TEST_PASSWORD, client=CLIENT) is person
    assert person.last_sign_in_at is not None


@pytest.mark.parametrize("fields, message", [
    ({"verified": False}, "Confirm your e-mail address first"),
    ({"status": PENDING_APPROVAL}, "waiting for the L&D team to approve"),
    ({"status": DEACTIVATED}, "has been closed"),
    ({"status": REFUSED}, "cannot sign in"),
])
def test_accounts_that_may_not_sign_in_are_told_why(make_user, fields, message):
    person = make_user(**fields)
    with pytest.raises(SignInRefused, match=message):
        sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT)


def test_a_wrong_password_and_an_unknown_address_get_the_same_message(make_user):
    person = make_user()
    with pytest.raises(SignInRefused) as wrong:
        sign_in.authenticate(person.email, "wrong password", client=CLIENT)
    with pytest.raises(SignInRefused) as unknown:
        sign_in.authenticate("nobody@example.org", "wrong password", client=CLIENT)
    assert wrong.value.message == unknown.value.message == "Enter a correct e-mail address and password"


def test_repeated_failures_pause_the_client_until_the_pause_ends(app, make_user, set_now):
    set_now(clock.utcnow())
    person = make_user()
    for _ in range(app.config["MAX_FAILED_SIGN_INS"]):
        with pytest.raises(SignInRefused):
            sign_in.authenticate(person.email, "wrong password", client=CLIENT)
    with pytest.raises(SignInRefused, match="Too many failed attempts"):
        sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT)
    set_now(clock.utcnow() + timedelta(minutes=app.config["LOCKOUT_MINUTES"], seconds=1))
    assert sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT) is person


def test_a_pause_is_the_same_for_an_address_without_an_account(app, make_user):
    person = make_user()
    refusals = {}
    for address in (person.email, "nobody@example.org"):
        for _ in range(app.config["MAX_FAILED_SIGN_INS"]):
            with pytest.raises(SignInRefused):
                sign_in.authenticate(address, "wrong password", client=CLIENT)
        with pytest.raises(SignInRefused) as paused:
            sign_in.authenticate(address, "wrong password", client=CLIENT)
        refusals[address] = paused.value.message
    assert refusals[person.email] == refusals["nobody@example.org"]
    assert "Too many failed attempts" in refusals[person.email]


def test_a_stranger_elsewhere_cannot_pause_a_persons_own_sign_in(app, make_user):
    person = make_user(roles=("admin",))
    for _ in range(app.config["MAX_FAILED_SIGN_INS"] * 3):
        with pytest.raises(SignInRefused):
            sign_in.authenticate(person.email, "guess", client="203.0.113.9")
    with pytest.raises(SignInRefused, match="Too many failed attempts"):
        sign_in.authenticate(person.email, TEST_PASSWORD, client="203.0.113.9")
    assert sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT) is person


def test_pauses_grow_with_further_failures(app, make_user, set_now):
    set_now(clock.utcnow())
    person = make_user()
    limit, minutes = app.config["MAX_FAILED_SIGN_INS"], app.config["LOCKOUT_MINUTES"]
    for _ in range(limit):
        with pytest.raises(SignInRefused):
            sign_in.authenticate(person.email, "guess", client=CLIENT)
    for _ in range(limit):  # one guess after each pause
        set_now(clock.utcnow() + timedelta(minutes=minutes * 2, seconds=1))
        with pytest.raises(SignInRefused, match="Enter a correct"):
            sign_in.authenticate(person.email, "guess", client=CLIENT)
    set_now(clock.utcnow() + timedelta(minutes=minutes + 1))
    with pytest.raises(SignInRefused, match="Too many failed attempts"):
        sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT)
    set_now(clock.utcnow() + timedelta(minutes=minutes))
    assert sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT) is person


def test_many_failures_from_one_client_pause_it_for_every_address(app, make_user):
    person = make_user()
    for n in range(app.config["MAX_FAILED_SIGN_INS_PER_CLIENT"]):
        with pytest.raises(SignInRefused, match="Enter a correct"):
            sign_in.authenticate(f"guess{n}@example.org", "guess", client="203.0.113.9")
    with pytest.raises(SignInRefused, match="Too many failed attempts"):
        sign_in.authenticate(person.email, TEST_PASSWORD, client="203.0.113.9")
    assert sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT) is person


def test_the_password_is_checked_whether_or_not_the_address_has_an_account(make_user,
                                                                          monkeypatch):
    """Equal work, so the time taken does not show who has an account (bench/ has no timing)."""
    checked = []
    real = passwords.check_password_hash
    monkeypatch.setattr(passwords, "check_password_hash",
                        lambda stored, password: checked.append(stored) or real(stored, password))
    person = make_user()
    walk_in = make_user()
    walk_in.password_hash = None  # as a walk-in's account is until they set one
    db.session.commit()
    for address in (person.email, "nobody@example.org", walk_in.email):
        with pytest.raises(SignInRefused, match="Enter a correct"):
            sign_in.authenticate(address, "wrong password", client=CLIENT)
    assert len(checked) == 3
    method = person.password_hash.split("$", 1)[0]
    assert all(stored.startswith(method + "$") for stored in checked)


# --- Sectors and agencies ---------------------------------------------------------------------

def test_domains_are_read_from_commas_and_lines_and_tidied(app):
    assert agencies.parse_domains(" NHS.net, @stbrigids-nhs.example\nnhs.net;  ") == [
        "nhs.net", "stbrigids-nhs.example"]
    assert agencies.parse_domains("") == []


@pytest.mark.parametrize("text, message", [
    ("nhs", "is not an e-mail domain"),
    ("bad_domain.example", "is not an e-mail domain"),
    ("-edge.example", "is not an e-mail domain"),
    ("name@nhs.net", "is not an e-mail domain"),
    ("gmail.com", "public e-mail service"),
])
def test_malformed_or_public_domains_are_refused(app, text, message):
    with pytest.raises(AccountError, match=message) as refused:
        agencies.parse_domains(text)
    assert refused.value.field == "domains"


def test_an_agency_gets_its_name_sector_and_domains(make_user, make_sector):
    admin = make_user()
    sector = make_sector("Police")
    agency = agencies.create_agency("  Met   Police North ", sector, "met.police.example\npolice.example", admin)
    assert agency.name == "Met Police North" and agency.sector is sector
    assert agency.domain_names == ["met.police.example", "police.example"]


def test_agency_names_are_unique_whatever_the_case(make_user, make_agency):
    admin = make_user()
    existing = make_agency("Canal Side Surgery")
    with pytest.raises(AccountError, match="already an agency called") as refused:
        agencies.create_agency("canal side surgery", existing.sector, "", admin)
    assert refused.value.field == "name"


def test_a_domain_belongs_to_one_agency(make_user, make_agency):
    admin = make_user()
    make_agency("Canal Side Surgery", domains=("canalside.example",))
    other = make_agency("Marlowe Road Practice")
    db.session.commit()
    with pytest.raises(AccountError, match="canalside.example already belongs to Canal Side Surgery"):
        agencies.update_agency(other, other.name, other.sector, "marlowe.example, canalside.example",
                               True, admin)
    db.session.rollback()
    assert db.session.get(Agency, other.id).domain_names == []


def test_editing_domains_keeps_unchanged_ones_and_replaces_the_rest(make_user, make_agency):
    admin = make_user()
    agency = make_agency("Northbridge College", domains=("old.example", "keep.example"))
    agencies.update_agency(agency, agency.name, agency.sector, "keep.example\nnew.example", False, admin)
    db.session.commit()
    assert agency.domain_names == ["keep.example", "new.example"]
    assert not agency.active
    assert set(db.session.scalars(select(AgencyDomain.domain))) == {"keep.example", "new.example"}


def test_an_agency_people_belong_to_is_deactivated_not_deleted(make_user, make_agency):
    admin = make_user()
    agency = make_agency("Hillcrest Primary")
    make_user(agency=agency)
    with pytest.raises(AccountError, match="1 person belongs to ‘Hillcrest Primary’.*Deactivate it"):
        agencies.delete_agency(agency, admin)
    empty = make_agency("Empty Agency", domains=("empty.example",))
    agencies.delete_agency(empty, admin)
    db.session.commit()
    assert db.session.scalar(select(Agency).where(Agency.name == "Empty Agency")) is None
    assert db.session.scalar(select(AgencyDomain).where(AgencyDomain.domain == "empty.example")) is None


def test_an_agency_a_coordinator_holds_a_role_for_cannot_be_deleted(make_user, make_agency):
    admin = make_user()
    agency = make_agency("Coordinated Agency")
    make_user(roles=(COORDINATOR,), coordinates=agency)
    with pytest.raises(AccountError, match="used by bookings, roles or other records"):
        agencies.delete_agency(agency, admin)


def test_sectors_are_unique_and_a_used_one_is_not_deleted(make_user, make_sector, make_agency):
    admin = make_user()
    with pytest.raises(AccountError, match="already a sector called"):
        agencies.create_sector("HEALTH - ACUTE", admin)  # make_user's agency is in this sector
    housing = agencies.create_sector("Housing", admin)
    make_agency("Northbridge Homes", sector=housing)
    with pytest.raises(AccountError, match="Deactivate it instead"):
        agencies.delete_sector(housing, admin)
    faith = agencies.create_sector("Faith", admin)
    agencies.delete_sector(faith, admin)
    assert db.session.scalar(select(Sector).where(Sector.name == "Faith")) is None


def test_a_sector_no_longer_in_use_cannot_take_new_agencies(make_user, make_sector):
    admin = make_user()
    sector = make_sector("Other")
    agencies.update_sector(sector, "Other", False, admin)
    with pytest.raises(AccountError, match="no longer in use") as refused:
        agencies.create_agency("New Agency", sector, "", admin)
    assert refused.value.field == "sector_id"


# --- People: the L&D team's actions -----------------------------------------------------------

def test_approving_a_held_account_lets_them_sign_in_and_emails_them(make_user):
    admin = make_user(name="Adaeze Admin")
    person = make_user(email="held@gmail.com", status=PENDING_APPROVAL)
    account_status.approve_account(person, admin)
    db.session.commit()
    assert sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT) is person
    [message] = _outbox_to("held@gmail.com")
    assert message.subject == "Your account is approved"
    assert "You can now sign in" in message.text_body
    with pytest.raises(AccountError, match="not waiting for approval"):
        account_status.approve_account(person, admin)


def test_refusing_a_held_account_keeps_it_out_and_emails_the_reason(make_user):
    admin = make_user()
    person = make_user(email="held@gmail.com", status=PENDING_APPROVAL)
    account_status.refuse_account(person, admin, "We could not confirm you work at this school.")
    assert person.status == REFUSED
    [message] = _outbox_to("held@gmail.com")
    assert "We could not confirm you work at this school." in message.text_body
    with pytest.raises(SignInRefused):
        sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT)
    with pytest.raises(AccountError, match="not waiting for approval"):
        account_status.refuse_account(make_user(), admin)


def _changes(person: User) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(AccountEvent.field, AccountEvent.from_value, AccountEvent.to_value,
               AccountEvent.actor_id)
        .where(AccountEvent.user_id == person.id, AccountEvent.field.is_not(None))
        .order_by(AccountEvent.id)
    )]


def _own(person: User, **overrides):
    fields = dict(name=person.name, job_title=person.job_title,
                  line_manager_name=person.line_manager_name,
                  line_manager_email=person.line_manager_email)
    fields.update(overrides)
    return details.change_own_details(person, **fields)


def _admin(person: User, actor: User, **overrides):
    fields = dict(name=person.name, email=person.email, job_title=person.job_title,
                  agency=person.agency, line_manager_name=person.line_manager_name,
                  line_manager_email=person.line_manager_email)
    fields.update(overrides)
    return details.change_person_details(person, actor, **fields)


def test_a_person_changes_their_own_details_and_each_change_is_recorded(make_user):
    person = make_user(name="Priya Shah", job_title="Nurse", line_manager_name="Old Boss",
                       line_manager_email="old.boss@example.org")
    change = _own(person, name="  Priya  Shah-Evans ", job_title="Ward sister",
                  line_manager_name="New Boss", line_manager_email="New.Boss@Example.org")
    assert change.fields == ["name", "job_title", "line_manager_name", "line_manager_email"]
    assert (person.name, person.job_title, person.line_manager_email) == (
        "Priya Shah-Evans", "Ward sister", "new.boss@example.org")
    assert _changes(person) == [
        ("name", "Priya Shah", "Priya Shah-Evans", person.id),
        ("job_title", "Nurse", "Ward sister", person.id),
        ("line_manager_name", "Old Boss", "New Boss", person.id),
        ("line_manager_email", "old.boss@example.org", "new.boss@example.org", person.id),
    ]
    assert _own(person).fields == [], "saving the same details records nothing"
    assert len(_changes(person)) == 4


@pytest.mark.parametrize("overrides, field, message", [
    ({"name": " "}, "name", "Enter your full name"),
    ({"job_title": ""}, "job_title", "Enter your job title"),
    ({"line_manager_email": "not-an-address"}, "line_manager_email", "correct format"),
    ({"line_manager_email": "me@example.org"}, "line_manager_email", "not your own"),
    ({"line_manager_email": ""}, "line_manager_email", "Enter your line manager’s e-mail"),
    ({"line_manager_name": ""}, "line_manager_name", "Enter your line manager’s name"),
])
def test_own_details_are_checked_and_a_refusal_changes_nothing(make_user, overrides, field,
                                                                message):
    person = make_user(email="me@example.org", line_manager_email="boss@example.org")
    with pytest.raises(AccountError, match=message) as refused:
        _own(person, **overrides)
    assert refused.value.field == field
    db.session.rollback()
    db.session.refresh(person)
    assert person.line_manager_email == "boss@example.org" and _changes(person) == []


def test_someone_without_a_manager_may_add_one_later(make_user):
    walk_in = make_user(line_manager_name="", line_manager_email="")
    assert _own(walk_in, job_title="Youth worker").fields == ["job_title"]
    _own(walk_in, line_manager_name="Sam Lead", line_manager_email="sam.lead@example.org")
    assert walk_in.line_manager_email == "sam.lead@example.org"
    with pytest.raises(AccountError, match="Enter your line manager’s e-mail"):
        _own(walk_in, line_manager_email="")


def test_an_administrator_changes_any_detail_and_a_new_address_is_confirmed_again(make_user,
                                                                                   make_agency):
    admin = make_user(roles=("admin",))
    before = make_agency("Canal Side Surgery")
    after = make_agency("Marlowe Road Practice")
    person = make_user(email="priya@example.org", agency=before)
    _admin(person, admin, email="Priya.Shah@example.org", agency=after)
    assert person.agency is after and person.email == "priya.shah@example.org"
    assert not person.is_verified
    assert _changes(person) == [
        ("email", "priya@example.org", "priya.shah@example.org", admin.id),
        ("agency", "Canal Side Surgery", "Marlowe Road Practice", admin.id),
    ]
    [link] = _outbox_to("priya.shah@example.org")
    assert link.subject == "Confirm your e-mail address"


def test_an_administrator_cannot_take_another_persons_address(make_user):
    admin = make_user(roles=("admin",))
    make_user(email="taken@example.org")
    person = make_user()
    with pytest.raises(AccountError, match="Another account already uses") as refused:
        _admin(person, admin, email="TAKEN@example.org")
    assert refused.value.field == "email"


def test_only_an_administrator_changes_someone_elses_details(make_user):
    learner, person = make_user(), make_user(name="Kept Name")
    with pytest.raises(AccountError, match="Only the L&D team"):
        _admin(person, learner, name="Changed")
    assert person.name == "Kept Name"


def test_a_move_outside_the_agencys_domains_needs_the_administrators_reason(make_user,
                                                                          make_agency):
    admin = make_user(roles=("admin",))
    school = make_agency("Hillcrest Primary", domains=("hillcrest.sch.example",))
    person = make_user(email="jo@council.example")
    with pytest.raises(AccountError, match="not on Hillcrest Primary’s e-mail domains") as refused:
        _admin(person, admin, agency=school)
    assert refused.value.field == "reason"
    db.session.rollback()
    db.session.refresh(person)
    assert person.agency is not school

    _admin(person, admin, agency=school, reason="Seconded to the school for a year")
    assert person.agency is school
    assert _events(person)[-1] == "approved outside the agency’s domains"
    assert db.session.scalar(select(AccountEvent.detail).order_by(AccountEvent.id.desc())
                             .limit(1)) == "Seconded to the school for a year"
    # Once approved, other details change without asking again; a move on the domains needs none.
    _admin(person, admin, job_title="Family support worker")
    _admin(person, admin, email="jo@hillcrest.sch.example")
    assert person.email == "jo@hillcrest.sch.example"


def test_a_closed_agency_cannot_be_chosen_for_a_move(make_user, make_agency):
    admin = make_user(roles=("admin",))
    person = make_user()
    closed = make_agency("Closed")
    closed.active = False
    with pytest.raises(AccountError, match="no longer active"):
        _admin(person, admin, agency=closed)


def test_deactivate_and_reactivate(make_user):
    admin = make_user()
    person = make_user()
    account_status.deactivate_account(person, admin)
    with pytest.raises(SignInRefused, match="has been closed"):
        sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT)
    with pytest.raises(AccountError, match="Only an active account"):
        account_status.deactivate_account(person, admin)
    account_status.reactivate_account(person, admin)
    assert sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT) is person
    assert _events(person) == ["deactivated", "reactivated"]
    with pytest.raises(AccountError, match="your own account"):
        account_status.deactivate_account(admin, admin)


def test_roles_are_granted_and_removed_and_coordinators_need_an_agency(make_user, make_agency):
    admin = make_user(roles=("admin",))
    person = make_user()
    with pytest.raises(AccountError, match="Choose the agency") as refused:
        roles.grant_role(person, COORDINATOR, admin)
    assert refused.value.field == "agency_id"
    agency = make_agency("Hillcrest Primary")
    roles.grant_role(person, COORDINATOR, admin, agency)
    grant = roles.grant_role(person, TRAINER, admin, agency)
    assert grant.agency is None, "only coordinators hold a role for an agency"
    assert person.roles == {"learner", COORDINATOR, TRAINER}
    assert person.coordinated_agency_ids == {agency.id}
    with pytest.raises(AccountError, match="already has this role"):
        roles.grant_role(person, TRAINER, admin)
    roles.revoke_role(grant, admin)
    assert person.roles == {"learner", COORDINATOR}
    with pytest.raises(AccountError, match="your own administrator role"):
        roles.revoke_role(admin.role_grants[0], admin)


def test_a_new_verification_link_only_for_unconfirmed_addresses(make_user):
    admin = make_user()
    person = make_user(email="unconfirmed@example.org", verified=False)
    registration.resend_verification_link(person, admin)
    [message] = _outbox_to("unconfirmed@example.org")
    assert message.subject == "Confirm your e-mail address"
    with pytest.raises(AccountError, match="already confirmed"):
        registration.resend_verification_link(make_user(), admin)


def test_unlocking_ends_a_lockout(app, make_user):
    admin = make_user()
    person = make_user()
    with pytest.raises(AccountError, match="not locked"):
        sign_in.unlock_account(person, admin)
    for _ in range(app.config["MAX_FAILED_SIGN_INS"]):
        with pytest.raises(SignInRefused):
            sign_in.authenticate(person.email, "wrong password", client=CLIENT)
    sign_in.unlock_account(person, admin)
    assert sign_in.authenticate(person.email, TEST_PASSWORD, client=CLIENT) is person


def test_people_search_by_name_email_or_agency(make_user, make_agency):
    police = make_agency("Metropolitan Police North")
    school = make_agency("Hillcrest Primary")
    amara = make_user(name="Amara Okafor", email="amara@school.example", agency=school)
    ben = make_user(name="Ben Castellane", email="ben.c@police.example", agency=police)
    held = make_user(name="Chloe Held", email="chloe100%@x.example", agency=police,
                     status=PENDING_APPROVAL)

    def names(**kwargs):
        return [p.name for p in db.session.scalars(queries.people_query(**kwargs))]

    assert names(text="okafor") == ["Amara Okafor"]
    assert names(text="POLICE.example") == ["Ben Castellane"]
    assert names(text="metropolitan") == ["Ben Castellane", "Chloe Held"]
    assert names(text="ben metropolitan") == ["Ben Castellane"]
    assert names(text="100%") == ["Chloe Held"], "% is searched for, not a wildcard"
    assert names(agency_id=school.id) == ["Amara Okafor"]
    assert names(status=PENDING_APPROVAL) == ["Chloe Held"]
    assert amara and ben and held


def test_the_demo_logins_keep_their_published_password_which_the_policy_refuses(app):
    import random

    from app.demo import DEMO_PASSWORD, load_people

    load_people(random.Random(2015))
    db.session.commit()
    admin = sign_in.authenticate("admin@northbridge-council.example", DEMO_PASSWORD, client=CLIENT)
    assert admin.name == "Adaeze Fairweather"
    with pytest.raises(AccountError, match="too easy to guess"):
        passwords.check_password_strength(DEMO_PASSWORD, admin)
