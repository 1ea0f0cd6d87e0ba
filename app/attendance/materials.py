"""Pre-course material: files a session's trainers give the people booked, and a message with them.

Trainers of a session (and the L&D team) upload files, kept in the database with the session. A
file's type is read from its content, never from its name: PDF, Word, PowerPoint and Excel
documents (DOCX, PPTX, XLSX) and PNG, JPEG or GIF images. People with a confirmed place, the
session's trainers and the L&D team may download them. Sending tells the people with a confirmed
place, through the outbox, with the trainer's message and a link to each file.
"""
from __future__ import annotations

import io
import zipfile

from flask import current_app

from app.accounts.models import ADMIN, User
from app.attendance import queries
from app.attendance.errors import AttendanceError
from app.attendance.models import SessionMaterial
from app.attendance.notifications import notify_materials
from app.attendance.register import is_session_trainer
from app.clock import utcnow
from app.courses.models import CANCELLED, PUBLISHED, Session
from app.extensions import db

MAX_FILES = 20
MESSAGE_MAX = 5000
SIMPLE_TYPES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
)
# Office documents are ZIP files; the part each must hold says which kind it is.
OFFICE_TYPES = (
    ("word/document.xml",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    ("ppt/presentation.xml",
     "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
    ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
)
KINDS = "a PDF, Word (DOCX), PowerPoint (PPTX) or Excel (XLSX) document, or a PNG, JPEG or GIF image"


def material_type(data: bytes) -> tuple[str, str] | None:
    """Return the (content type, file extension) the content shows; None for anything else."""
    for magic, content_type, extension in SIMPLE_TYPES:
        if data.startswith(magic):
            return content_type, extension
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names:
            for part, content_type, extension in OFFICE_TYPES:
                if part in names:
                    return content_type, extension
    return None


def max_bytes() -> int:
    return current_app.config["MATERIAL_MAX_MB"] * 1024 * 1024


def can_manage_materials(session: Session, person: User) -> bool:
    """The session's trainers and the L&D team."""
    return person.has_role(ADMIN) or is_session_trainer(session, person)


def can_download_materials(session: Session, person: User) -> bool:
    """The session's trainers, the L&D team and the people with a confirmed place."""
    return can_manage_materials(session, person) or queries.has_confirmed_place(session, person)


def _plain_name(name: str, extension: str) -> str:
    # A stored name is shown back and used in a download header: keep it plain.
    stem = "".join(ch for ch in (name or "").rsplit(".", 1)[0] if ch.isalnum() or ch in " -_")[:100].strip()
    return (stem or "material") + extension


def _refuse_unless_manager(session: Session, actor: User) -> None:
    if not can_manage_materials(session, actor):
        raise AttendanceError("Only this session’s trainers and the L&D team can change its material.")
    if session.status == CANCELLED:
        raise AttendanceError("This session was cancelled, so it has no material to give.")
    if session.status != PUBLISHED:
        raise AttendanceError("Publish the session before adding material for the people booked.")


def add_material(session: Session, name: str, data: bytes, actor: User) -> SessionMaterial:
    """Keep a file with the session for the people booked; its type is checked by its content."""
    _refuse_unless_manager(session, actor)
    limit = max_bytes()
    if not data:
        raise AttendanceError("Choose a file to upload.", "upload")
    if len(data) > limit:
        raise AttendanceError(f"The file must be {current_app.config['MATERIAL_MAX_MB']} MB or smaller.", "upload")
    found = material_type(data)
    if found is None:
        raise AttendanceError(f"The file must be {KINDS}.", "upload")
    if queries.material_count(session) >= MAX_FILES:
        raise AttendanceError(f"A session can have at most {MAX_FILES} files: remove one first.", "upload")
    content_type, extension = found
    material = SessionMaterial(session_id=session.id, uploaded_by_id=actor.id, name=_plain_name(name, extension),
                               content_type=content_type, size=len(data), content=data, uploaded_at=utcnow())
    db.session.add(material)
    db.session.flush()
    return material


def remove_material(material: SessionMaterial, actor: User) -> None:
    """Take a file away from the session (links already sent stop working)."""
    _refuse_unless_manager(material.session, actor)
    db.session.delete(material)
    db.session.flush()


def send_materials(session: Session, message: str, actor: User) -> int:
    """E-mail the people with a confirmed place the trainer's message and links to every file."""
    _refuse_unless_manager(session, actor)
    message = (message or "").strip()
    if not message:
        raise AttendanceError("Enter a message for the people booked.", "message")
    if len(message) > MESSAGE_MAX:
        raise AttendanceError(f"The message must be {MESSAGE_MAX} characters or fewer.", "message")
    now = utcnow()
    if session.ends_at is not None and session.ends_at <= now:
        raise AttendanceError("This session has taken place: pre-course material can no longer be sent.")
    bookings = queries.confirmed_bookings_on(session)
    if not bookings:
        raise AttendanceError("Nobody has a confirmed place on this session yet, so there is nobody to send to.")
    materials = queries.materials_of(session)
    notify_materials(session, bookings, materials, message, actor, now)
    for material in materials:
        material.sent_at = material.sent_at or now
    db.session.flush()
    return len(bookings)
