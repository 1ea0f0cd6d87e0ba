"""A trainer's profile, their dates away and the material they uploaded: in their subject access
file, and erased with them (the material stays with its session, no longer saying who gave it)."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from app.attendance.models import SessionMaterial
from app.courses.models import Provider, TrainerProfile, TrainerUnavailability
from app.courses.trainers import TrainerDetails, add_unavailability, save_trainer_profile
from app.extensions import db
from app.privacy.erasure import erase_person
from tests.privacy.conftest import DAY, NOW, rows_naming, rows_with_text

NAME, EMAIL = "Perpetua Lanthorne", "perpetua.lanthorne@harbour.example"
PDF = b"%PDF-1.4\n%%EOF\n"


def _trainer(set_now, make_user, make_course, make_session, admin):
    set_now(NOW)
    person = make_user(name=NAME, email=EMAIL, roles=("trainer",))
    course = make_course(title="Safeguarding Level 3")
    provider = Provider(name="Harbour Training Ltd", contact_name="Pat Contact")
    db.session.add(provider)
    save_trainer_profile(person, TrainerDetails(provider=provider, courses=[course], working_days="12",
                                                notes="Prefers morning sessions"), admin)
    add_unavailability(person, date(2027, 6, 1), date(2027, 6, 3), "hospital appointment", admin)
    session = make_session(course, DAY, trainers=[person])
    db.session.add(SessionMaterial(session_id=session.id, uploaded_by_id=person.id, name="Chronology.pdf",
                                   content_type="application/pdf", size=len(PDF), content=PDF))
    db.session.commit()
    return person


def test_the_subject_access_file_holds_the_profile_dates_and_uploads(
        client, login_as, set_now, make_user, make_course, make_session, admin):
    person = _trainer(set_now, make_user, make_course, make_session, admin)
    login_as(person)
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))
    sections = data["sections"]
    [profile] = sections["trainer_profiles"]
    assert profile["fields"]["notes"] == "Prefers morning sessions"
    assert profile["about"] == {"provider": "Harbour Training Ltd", "courses": ["Safeguarding Level 3"],
                                "usual_days": ["Tuesday", "Wednesday"]}
    assert sections["trainer_unavailability"][0]["fields"]["reason"] == "hospital appointment"
    [material] = sections["session_materials"]
    assert material["fields"]["name"] == "Chronology.pdf" and "content" not in material["fields"]
    listed = {(r["table"], tuple(r["key"])) for _t, records in sections.items() for r in records} | {
        (r["table"], tuple(r["key"])) for r in data["other_records"]}
    assert not rows_naming(person.id, [EMAIL, NAME]) - listed


def test_erasure_removes_the_profile_and_dates_and_keeps_the_material(
        set_now, make_user, make_course, make_session, admin):
    person = _trainer(set_now, make_user, make_course, make_session, admin)
    erase_person(person, actor=admin)
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalars(select(TrainerProfile)).all() == []
    assert db.session.scalars(select(TrainerUnavailability)).all() == []
    material = db.session.scalar(select(SessionMaterial))
    assert material.uploaded_by_id is None and material.content == PDF
    assert rows_with_text([NAME, EMAIL, "hospital appointment", "Prefers morning"]) == []
    assert db.session.scalar(select(Provider.name)) == "Harbour Training Ltd"  # an organisation: it stays
