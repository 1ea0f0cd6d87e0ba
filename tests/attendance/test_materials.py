"""Pre-course material: trainers upload files checked by content, people with a confirmed place
download them, and a message reaches them through the outbox."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.attendance.materials import material_type
from app.attendance.models import SessionMaterial
from app.bookings.models import CONFIRMED, WAITING
from app.courses.models import DRAFT
from app.extensions import db
from tests.attendance.conftest import COURSE, DAY, ROOM

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SessionMaterial))


def test_the_type_is_read_from_the_content_not_the_name():
    assert material_type(PDF) == ("application/pdf", ".pdf")
    assert material_type(office("word/document.xml"))[1] == ".docx"
    assert material_type(office("ppt/presentation.xml"))[1] == ".pptx"
    assert material_type(office("xl/workbook.xml"))[1] == ".xlsx"
    assert material_type(b"\x89PNG\r\n\x1a\n....")[1] == ".png"
    assert material_type(b"MZ\x90\x00 a program") is None
    assert material_type(b"PK\x03\x04 not really a zip") is None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "a zip, but no document")
    assert material_type(buffer.getvalue()) is None


@pytest.fixture
def world(app, set_now, make_user, make_course, make_session, make_booking):
    set_now(datetime(2027, 2, 20, 12, 0))
    trainer = make_user(name="Alex Trainer", roles=("trainer",))
    other_trainer = make_user(name="Olu Othertrainer", roles=("trainer",))
    admin = make_user(name="Adaeze Admin", roles=("admin",))
    session = make_session(course=make_course(title="Safeguarding Level 3", **COURSE), starts_at=DAY,
                           trainers=[trainer], **ROOM)
    booked = make_user(name="Bea Booked", email="bea@example.org")
    waiting = make_user(name="Will Waiting", email="will@example.org")
    stranger = make_user(name="Sam Stranger")
    make_booking(session, booked, status=CONFIRMED)
    make_booking(session, waiting, status=WAITING)
    return type("World", (), dict(trainer=trainer, other_trainer=other_trainer, admin=admin, session=session,
                                  booked=booked, waiting=waiting, stranger=stranger))


@pytest.fixture
def switch_to(client, login_as):
    """Sign out whoever is signed in, then sign this person in."""

    def _switch(person):
        client.post("/sign-out")
        login_as(person)

    return _switch


def _upload(client, session_id: int, data: bytes, name: str):
    return client.post(f"/registers/{session_id}/materials/upload",
                       data={"upload": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_a_trainer_uploads_and_people_with_a_confirmed_place_download(client, login_as, switch_to, world):
    login_as(world.trainer)
    page = client.get(f"/registers/{world.session.id}/materials")
    assert page.status_code == 200 and "No files yet." in page.get_data(as_text=True)
    response = _upload(client, world.session.id, PDF, "Pre-reading: the ../../chronology.docx")
    assert response.status_code == 302
    material = db.session.scalar(select(SessionMaterial))
    # The name keeps plain characters and takes the extension the content shows.
    assert (material.name, material.content_type, material.size) == ("Pre-reading the chronology.pdf", "application/pdf", len(PDF))
    url = f"/sessions/{world.session.id}/materials/{material.id}"

    for person, status in ((world.booked, 200), (world.trainer, 200), (world.admin, 200),
                           (world.waiting, 404), (world.stranger, 404), (world.other_trainer, 404)):
        switch_to(person)
        response = client.get(url)
        assert response.status_code == status, person.name
        if status == 200:
            assert response.data == PDF and "attachment" in response.headers["Content-Disposition"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_only_the_sessions_trainers_and_admins_manage_material(client, switch_to, world):
    for person in (world.other_trainer, world.booked):
        switch_to(person)
        assert client.get(f"/registers/{world.session.id}/materials").status_code == 403
        assert _upload(client, world.session.id, PDF, "a.pdf").status_code == 403
    assert _count() == 0
    switch_to(world.admin)
    assert _upload(client, world.session.id, PDF, "a.pdf").status_code == 302
    assert _count() == 1


def test_a_wrong_or_too_big_file_is_refused_with_a_message_and_nothing_kept(app, client, login_as, world):
    login_as(world.trainer)
    response = _upload(client, world.session.id, b"MZ\x90\x00 a program", "lesson-plan.pdf")
    assert response.status_code == 400
    assert "The file must be a PDF, Word (DOCX), PowerPoint (PPTX) or Excel (XLSX) document" in response.get_data(as_text=True)
    app.config["MATERIAL_MAX_MB"] = 1
    response = _upload(client, world.session.id, PDF + b"0" * (1024 * 1024), "big.pdf")
    assert response.status_code == 400 and "The file must be 1 MB or smaller." in response.get_data(as_text=True)
    response = client.post(f"/registers/{world.session.id}/materials/upload", data={},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file to upload." in response.get_data(as_text=True)
    assert _count() == 0


def test_a_draft_session_has_no_material_page(client, login_as, world):
    world.session.status = DRAFT
    db.session.commit()
    login_as(world.trainer)
    assert client.get(f"/registers/{world.session.id}/materials").status_code == 404


def test_the_message_reaches_confirmed_people_only_with_links(client, login_as, switch_to, world, mailbox, deliver):
    login_as(world.trainer)
    _upload(client, world.session.id, office("word/document.xml"), "Case study.docx")
    response = client.post(f"/registers/{world.session.id}/materials/send", data={"message": "  "})
    assert response.status_code == 400 and "Enter a message for the people booked" in response.get_data(as_text=True)
    response = client.post(f"/registers/{world.session.id}/materials/send", follow_redirects=True,
                           data={"message": "Please read the case study.\nBring a pen. <b>Thanks</b>"})
    assert "Message sent to 1 person with a confirmed place." in response.get_data(as_text=True)
    deliver()
    assert mailbox.to("will@example.org") == []
    [message] = mailbox.to("bea@example.org")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Please read the case study." in body and "Alex Trainer" in body
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;Thanks&lt;/b&gt;" in html and "<b>Thanks" not in html  # what a trainer types stays text
    material = db.session.scalar(select(SessionMaterial))
    link = re.search(r"https?://[^/\s]+(/sessions/\d+/materials/\d+)", body).group(1)
    assert link == f"/sessions/{world.session.id}/materials/{material.id}"
    assert material.sent_at is not None
    # The confirmed person's page lists the material; the link works for them.
    switch_to(world.booked)
    assert "Case study.docx" in client.get(f"/sessions/{world.session.id}/materials").get_data(as_text=True)
    assert client.get(link).status_code == 200


def test_removing_a_file_and_nobody_confirmed_to_send_to(client, login_as, world, make_session, make_course):
    login_as(world.trainer)
    _upload(client, world.session.id, PDF, "a.pdf")
    material = db.session.scalar(select(SessionMaterial))
    client.post(f"/registers/{world.session.id}/materials/{material.id}/remove")
    assert _count() == 0
    empty = make_session(course=make_course(title="Level 1", code="L1"), starts_at=DAY, trainers=[world.trainer])
    response = client.post(f"/registers/{empty.id}/materials/send", data={"message": "Hello"})
    assert response.status_code == 400 and "Nobody has a confirmed place" in response.get_data(as_text=True)
