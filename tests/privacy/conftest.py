"""A person with something in every part of the service, and a search of the whole database for
them that does not use the app's own (it reflects the tables from the database itself)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import MetaData, String, select

from app.attendance.certificates import issue_certificate
from app.attendance.charges import charge_for, record_payment
from app.attendance.completion_import import apply_completions, read_completions_file, upload_completions
from app.attendance.models import SingleAgencyAttendee, SingleAgencyTraining, Suspension
from app.attendance.outcomes import record_outcome
from app.accounts.details import change_own_details
from app.bookings.completions import record_prior_learning
from app.bookings.models import ATTENDED, DID_NOT_ATTEND
from app.email import OutboxMessage
from app.evaluation.models import STAGE_ONE
from app.evaluation.question_sets import ensure_default_question_sets
from app.evaluation.sending import create_invitation
from app.extensions import db
from tests.evaluation.conftest import answer_by_key

NAME = "Zephyrine Quillfeather"
EMAIL = "zephyrine.quillfeather@nbhealth.example"
# Sessions in March 2027; the tests look at them from April.
DAY = datetime(2027, 3, 3, 9, 30)
NOW = datetime(2027, 4, 1, 9, 0)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def rows_naming(person_id: int, needles: list[str]) -> set[tuple[str, tuple]]:
    """(table, primary key) of every row holding the person's id in a column that refers to users,
    or any needle (ignoring case) in a text column, in every table the database has."""
    meta = MetaData()
    meta.reflect(bind=db.engine)
    found = set()
    lowered = [n.lower() for n in needles]
    for table in meta.sorted_tables:
        by_id = [c for c in table.columns if any(fk.column.table.name == "users" for fk in c.foreign_keys)]
        if table.name == "users":
            by_id.append(table.c.id)
        texts = [c for c in table.columns if isinstance(c.type, String)]
        for row in db.session.execute(select(table)).mappings():
            key = tuple(row[c.name] for c in table.primary_key.columns)
            if any(row[c.name] == person_id for c in by_id) or any(
                isinstance(row[c.name], str) and any(n in row[c.name].lower() for n in lowered)
                for c in texts
            ):
                found.add((table.name, key))
    return found


def rows_with_text(needles: list[str]) -> list[tuple[str, str]]:
    """(table, column) of every text value holding any needle, ignoring case."""
    meta = MetaData()
    meta.reflect(bind=db.engine)
    lowered = [n.lower() for n in needles]
    hits = []
    for table in meta.sorted_tables:
        texts = [c for c in table.columns if isinstance(c.type, String)]
        for row in db.session.execute(select(*texts)).mappings() if texts else ():
            hits += [(table.name, c.name) for c in texts
                     if isinstance(row[c.name], str) and any(n in row[c.name].lower() for n in lowered)]
    return hits


@pytest.fixture
def admin(make_user):
    return make_user(name="Ada Administrator", email="ada.admin@nbscp.example", roles=("admin",))


@pytest.fixture
def rich_person(app, set_now, make_user, make_agency, make_attendee, make_course, make_session,
                make_booking, admin, deliver, mailbox):
    """A person with bookings and their history, an attendance, a paid charge, a suspension, a
    certificate, completions (one prior learning with an uploaded file, one imported from the
    e-learning provider, and a file of theirs waiting to be applied), an evaluation answer, sent
    messages, a colleague who names them as line manager and a message to their own manager."""
    set_now(DAY.replace(day=1))
    agency = make_agency(name="Northbridge Community Health", sector="Health - community")
    person = make_user(name=NAME, email=EMAIL, agency=agency, job_title="School nurse",
                       line_manager_name="Orla Overton", line_manager_email="orla.overton@nbhealth.example",
                       access_needs="Step-free access and a halal lunch")
    change_own_details(person, name=NAME, job_title="Named nurse for safeguarding",
                       line_manager_name="Orla Overton", line_manager_email="orla.overton@nbhealth.example")
    course = make_course(title="Safeguarding Level 3", charge_pence=7500, refresher_months=36)
    other_course = make_course(title="Domestic Abuse and Sexual Violence", charge_pence=6000)
    attended = make_booking(make_session(course, DAY), person, history=True,
                            access_needs="A hearing loop, please")
    missed = make_booking(make_session(other_course, DAY.replace(day=10)), person, history=True)
    set_now(NOW)
    record_outcome(attended, ATTENDED, admin, "register")
    record_outcome(missed, DID_NOT_ATTEND, admin, "register")
    db.session.flush()
    record_payment(charge_for(missed), admin)
    certificate = issue_certificate(attended)
    db.session.add(Suspension(user_id=person.id, starts_on=date(2027, 3, 10), until=date(2027, 9, 10),
                              reason="Repeated no-shows", created_by_id=admin.id))
    record_prior_learning(person, make_course(title="Prevent", charge_pence=0), "Own trust",
                          date(2026, 11, 2), "E-learning certificate ZQ-2291", person,
                          certificate=("zq certificate.png", PNG))
    # An online course from the e-learning provider's export, and a file of it still waiting.
    make_course(title="Introductory online safeguarding", code="EL1", is_online=True)
    export = f"name,email,course,completed_on,score\n{NAME},{EMAIL},EL1,2027-03-20,88\n".encode()
    apply_completions(read_completions_file(export), admin)
    upload_completions(export.replace(b"2027-03-20", b"2027-03-21"), "export.csv", admin)
    ensure_default_question_sets()
    invitation = create_invitation(attended, STAGE_ONE, NOW)
    db.session.commit()
    answer_by_key(invitation, now=NOW, apply_plan="Share chronologies with the school team.")
    db.session.add(SingleAgencyTraining(agency=agency, title="Safeguarding in school nursing", held_on=date(2027, 2, 1),
                                        hours=Decimal("3"), attendees=[SingleAgencyAttendee(user=person)]))
    colleague = make_attendee(name="Colm Colleague", line_manager_email=EMAIL)
    db.session.add(OutboxMessage(idempotency_key="test:manager-ask", recipient="orla.overton@nbhealth.example",
                                 subject=f"{NAME} asks for a place", text_body=f"{NAME} would like a place."))
    db.session.commit()
    deliver()
    return {"person": person, "agency": agency, "attended": attended, "missed": missed,
            "certificate": certificate.code, "colleague": colleague, "course": course}
