"""Subject access: everything held about one person, as JSON and as a readable document.

Each record names its table and primary key, so the file can be checked against the database; the
person's own records come with every column but secrets (password hash, session and calendar
tokens, link nonces), and every other row that refers to them (as the one who did something, or by
e-mail address or name) is listed by table, key and the columns that refer to them, so nobody
else's details travel in someone's file.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.access_log import KINDS
from app.accounts.models import User
from app.clock import utcnow
from app.privacy import queries
from app.urls import mask_secret_links

FORMAT = "subject-access/1"
# Columns never written to a file: secrets that would let the holder act as the person.
SECRET_COLUMNS = frozenset({
    "password_hash", "session_token", "calendar_token", "nonce", "claim_token", "idempotency_key",
    "render_json", "certificate_data",
})
# Columns listed by size, not content: a session material's file is the session's, not the person's.
NOT_IN_FILE = SECRET_COLUMNS | {"content"}
# The sections of a file in the order a person reads them: (table, heading).
SECTIONS = (
    ("users", "Your account"),
    ("role_grants", "Roles you hold"),
    ("account_events", "Your account’s history (including changes of agency and details)"),
    ("external_identities", "Your organisation’s accounts that sign you in here"),
    ("bookings", "Your bookings"),
    ("booking_events", "Your bookings’ history"),
    ("workshop_choices", "Workshops you chose at conferences"),
    ("charges", "Charges to your agency for missed places"),
    ("suspensions", "Suspensions of booking"),
    ("certificates", "Certificates of attendance"),
    ("completions", "Training completed, including learning done elsewhere"),
    ("course_interests", "Courses you asked to hear about new dates of"),
    ("single_agency_attendees", "Training your agency ran that you attended (single-agency training)"),
    ("evaluation_invitations", "Evaluations you were asked to answer"),
    ("evaluation_responses", "Evaluations you answered"),
    ("evaluation_answers", "Your evaluation answers"),
    ("evaluation_manager_comments", "Your line manager’s comments on your evaluations"),
    ("outbox_messages", "E-mails sent to you"),
    ("access_log_entries", "Staff who looked at pages about you (the access log)"),
    ("trainer_profiles", "Your trainer profile"),
    ("trainer_unavailability", "Dates you told us you cannot train"),
    ("session_materials", "Pre-course material you uploaded for sessions you trained"),
)


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _about(name: str, row) -> dict:
    """Plain-language context for a record (the course, the question) beside its ids."""
    if name == "users":
        return {"agency": row.agency.name if row.agency else "", "password_set": bool(row.password_hash),
                "calendar_feed_link": "exists (its secret is not shown)"}
    if name in ("bookings", "charges"):
        return {"course": row.session.course.title, "session_starts_at": _plain(row.session.starts_at),
                "agency": row.agency.name if row.agency else ""}
    if name == "certificates":
        return {"course": row.booking.session.course.title}
    if name == "completions":
        about = {"course": row.course.title}
        if row.certificate_name:
            data = queries.certificate_data(row.id) or b""
            about["uploaded_certificate"] = {"name": row.certificate_name, "type": row.certificate_type,
                                             "bytes": len(data), "base64": _plain(data)}
        return about
    if name == "evaluation_answers":
        return {"question": row.question.text}
    if name == "single_agency_attendees":
        training = row.training
        return {"training": training.title, "held_on": _plain(training.held_on), "hours": _plain(training.hours),
                "agency": training.agency.name}
    if name == "access_log_entries":
        return {"what": KINDS.get(row.kind, row.kind)}
    if name == "trainer_profiles":
        return {"provider": row.provider.name if row.provider else "internal",
                "courses": [c.title for c in row.courses], "usual_days": row.working_day_names}
    if name == "session_materials":
        return {"course": row.session.course.title, "session_starts_at": _plain(row.session.starts_at)}
    if name == "evaluation_invitations":
        return {"course": row.session.course.title, "session_starts_at": _plain(row.session.starts_at)}
    return {}


def _record(name: str, row) -> dict:
    table = queries.table_named(name)
    fields = {c.name: _plain(getattr(row, c.name)) for c in table.columns if c.name not in NOT_IN_FILE}
    if name == "outbox_messages":
        # The person's own copy of a message, but a working link in it stays in their mailbox only.
        fields = {k: mask_secret_links(v) if isinstance(v, str) else v for k, v in fields.items()}
    return {"table": name, "key": list(queries.key_of(table, row)), "fields": fields,
            "about": _about(name, row)}


@dataclass
class SubjectAccess:
    """What a subject access file holds, ready to write as JSON or show as a document."""

    person_id: int
    produced_at: datetime
    sections: list[tuple[str, str, list[dict]]]  # (table, heading, records)
    other_records: list[dict]

    def as_dict(self) -> dict:
        return {
            "format": FORMAT,
            "produced_at": self.produced_at.isoformat(),
            "person_id": self.person_id,
            "sections": {name: records for name, _heading, records in self.sections},
            "other_records": self.other_records,
        }

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)


def subject_access(person: User) -> SubjectAccess:
    """Gather everything held about a person: their records, and every other row naming them."""
    own = queries.own_rows(person)
    sections = [(name, heading, [_record(name, row) for row in own.get(name, [])])
                for name, heading in SECTIONS]
    listed = {(r["table"], tuple(r["key"])) for _n, _h, records in sections for r in records}
    others = [
        {"table": m.table, "key": list(m.key), "columns": list(m.columns)}
        for m in queries.mentions(person.id, queries.Identity(person.email, person.name))
        if (m.table, m.key) not in listed
    ]
    return SubjectAccess(person.id, utcnow(), sections, others)
