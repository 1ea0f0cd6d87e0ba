"""Importing an e-learning provider's completions: reading CSV and XLSX, matching, the preview and
applying it all at once, on the L&D team's pages and through the rules the API calls."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.access_log import AccessLogEntry
from app.accounts.models import User
from app.attendance.completion_import import (
    DUPLICATE,
    MATCHED,
    NEW,
    UNMATCHED,
    CompletionRowsRefused,
    apply_completions,
    discard_stale_uploads,
    preview_completions,
    read_completions_file,
)
from app.attendance.models import UPLOAD_APPLIED, UPLOAD_DISCARDED, CompletionUpload
from app.bookings.eligibility import missing_prerequisites
from app.bookings.models import E_LEARNING_IMPORT, Completion
from app.extensions import db
from tests.conftest import TEST_PASSWORD

TODAY = datetime(2027, 5, 10, 9, 0)


@pytest.fixture
def world(app, set_now, make_agency, make_user, make_course):
    set_now(TODAY)
    agency = make_agency("Northbridge Council", domains=("northbridge.example",))
    admin = make_user("Ada Admin", "ada@northbridge.example", agency=agency, roles=("admin",))
    known = make_user("Kim Known", "kim.known@northbridge.example", agency=agency)
    level1 = make_course("Introductory online safeguarding", code="EL1", level="Level 1", is_online=True)
    level2 = make_course("Safeguarding Level 2 online", code="EL2", level="Level 2", is_online=True)
    room = make_course("Safeguarding Level 3", code="L3", level="Level 3", prerequisites=(level1, level2))
    db.session.commit()

    class World:
        pass

    w = World()
    w.agency, w.admin, w.known, w.level1, w.level2, w.room = agency, admin, known, level1, level2, room
    return w


def _row(email, course="EL1", completed_on="2027-04-01", name="Someone Here", score="80"):
    return {"name": name, "email": email, "course": course, "completed_on": completed_on, "score": score}


def test_rows_are_sorted_into_matched_new_unmatched_and_duplicates(world):
    rows = [
        _row("KIM.KNOWN@northbridge.example"),  # matched, whatever the case
        _row("new.person@northbridge.example", name="Nia New"),  # new: on the agency's domain
        _row("stranger@elsewhere.example"),  # unmatched: no agency has the domain
        _row("kim.known@northbridge.example", course="Safeguarding Level 2 online"),  # by title
        _row("kim.known@northbridge.example"),  # repeats line 1
        _row("kim.known@northbridge.example", course="L3"),  # not an online course
        _row("info@northbridge.example"),  # a shared mailbox
    ]
    result = preview_completions(rows, world.admin)
    kinds = [(r.kind, r.reason) for r in result.rows]
    assert kinds[0] == (MATCHED, "")
    assert kinds[1] == (NEW, "")
    assert kinds[2][0] == UNMATCHED and "domain" in kinds[2][1]
    assert kinds[3] == (MATCHED, "")
    assert kinds[4] == (DUPLICATE, "repeats line 1")
    assert kinds[5][0] == UNMATCHED and "not an online course" in kinds[5][1]
    assert kinds[6][0] == UNMATCHED and "shared mailbox" in kinds[6][1]
    assert (result.matched, result.new, result.unmatched, result.duplicates) == (2, 1, 3, 1)
    assert db.session.scalar(select(func.count(Completion.id))) == 0  # a preview records nothing


def test_applying_records_everything_matched_and_opens_accounts_for_the_new(world):
    rows = [_row("kim.known@northbridge.example", score="85%"),
            _row("Nia.New@northbridge.example", name="Nia New", completed_on="02/04/2027"),
            _row("stranger@elsewhere.example")]
    result = apply_completions(rows, world.admin)
    db.session.commit()
    assert (result.matched, result.new, result.unmatched) == (1, 1, 1)
    nia = db.session.scalar(select(User).where(User.email == "nia.new@northbridge.example"))
    assert nia.name == "Nia New" and nia.agency_id == world.agency.id and nia.password_hash is None
    recorded = {(c.user_id, c.completed_on, c.score, c.source) for c in db.session.scalars(select(Completion))}
    assert recorded == {(world.known.id, date(2027, 4, 1), 85, E_LEARNING_IMPORT),
                        (nia.id, date(2027, 4, 2), 80, E_LEARNING_IMPORT)}
    # Sent again, the same rows are duplicates and nothing more is recorded.
    again = preview_completions(rows, world.admin)
    assert [r.kind for r in again.rows] == [DUPLICATE, DUPLICATE, UNMATCHED]
    with pytest.raises(Exception, match="Nothing to record"):
        apply_completions(rows, world.admin)


def test_an_imported_completion_counts_as_a_prerequisite(world):
    assert missing_prerequisites(world.room, world.known)
    apply_completions([_row("kim.known@northbridge.example", course="EL1"),
                       _row("kim.known@northbridge.example", course="EL2")], world.admin)
    db.session.commit()
    assert missing_prerequisites(world.room, world.known) == []


def test_one_unreadable_row_refuses_them_all(world):
    rows = [_row("kim.known@northbridge.example"),
            _row("kim.known@northbridge.example", completed_on="31/02/2027"),
            _row("", score="120"),
            _row("kim.known@northbridge.example", completed_on="2027-06-01")]
    with pytest.raises(CompletionRowsRefused) as refused:
        apply_completions(rows, world.admin)
    lines = dict(refused.value.lines)
    assert set(lines) == {2, 3, 4}
    assert "not a date" in lines[2] and "no e-mail address" in lines[3] and "120" in lines[3]
    assert "future" in lines[4]
    assert db.session.scalar(select(func.count(Completion.id))) == 0


def test_an_agency_narrows_matching_to_its_own_people(world, make_agency, make_user):
    other = make_agency("Other Trust", domains=("other.example",))
    make_user("Oli Other", "oli@other.example", agency=other)
    result = preview_completions([_row("oli@other.example"), _row("new@other.example", name="New One"),
                                  _row("kim.known@northbridge.example")], world.admin, agency=world.agency)
    assert [r.kind for r in result.rows] == [UNMATCHED, UNMATCHED, MATCHED]
    assert result.rows[0].reason == "not in Northbridge Council"


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_csv_and_xlsx_are_read_alike(world):
    csv_data = ("Full name,E-mail,Course code,Completion date,Score (%)\r\n"
                "Kim Known,kim.known@northbridge.example,EL1,01/04/2027,90\r\n\r\n").encode()
    xlsx_data = _xlsx([["Name", "Email", "Course", "Completed on", "Score"],
                       ["Kim Known", "kim.known@northbridge.example", "EL1", datetime(2027, 4, 1), 90]])
    for data in (csv_data, xlsx_data):
        rows = read_completions_file(data)
        assert len(rows) == 1
        result = preview_completions(rows, world.admin)
        assert result.rows[0].kind == MATCHED and result.rows[0].completed_on == date(2027, 4, 1)
        assert result.rows[0].score == 90 and result.rows[0].line == 2


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"name,course\nKim,EL1\n", "missing: email, completed_on"),
    (b"PK\x03\x04not really a workbook", "XLSX file cannot be read"),
    (b"email,course,completed_on\n" + b"a@b.example,EL1,2027-04-01\n" * 5001, "more than 5000 rows"),
    (b"x" * (2 * 1024 * 1024 + 1), "larger than 2 MB"),
    (None, "too large once unpacked"),
])
def test_bad_files_are_refused_with_a_message(world, data, message):
    if data is None:  # a zip that unpacks to far more than its size
        packed = io.BytesIO()
        with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as bomb:
            bomb.writestr("xl/sharedStrings.xml", b"a" * (60 * 1024 * 1024))
        data = packed.getvalue()
    with pytest.raises(CompletionRowsRefused) as refused:
        read_completions_file(data)
    assert message in refused.value.lines[0][1]


# --- The L&D team's pages ---------------------------------------------------------------------------

def _upload(client, data: bytes, name: str = "export.csv"):
    return client.post("/admin/e-learning-completions",
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


CSV = ("name,email,course,completed_on,score\n"
       "Kim Known,kim.known@northbridge.example,EL1,2027-04-01,75\n"
       "Nia New,nia.new@northbridge.example,EL1,2027-04-02,\n"
       "Sam Stranger,sam@elsewhere.example,EL1,2027-04-02,\n").encode()


def test_upload_preview_and_apply(world, client, login_as):
    login_as(world.admin)
    response = _upload(client, CSV)
    assert response.status_code == 302
    upload = db.session.scalar(select(CompletionUpload))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nia New" in page and "sam@elsewhere.example" in page and "Record 2 completions" in page
    assert db.session.scalar(select(func.count(Completion.id))) == 0
    assert db.session.scalar(select(AccessLogEntry.kind)) == "completion_import"
    response = client.post(f"/admin/e-learning-completions/{upload.id}/apply", follow_redirects=True)
    assert "Recorded 2 completions (1 new account); 1 row not recorded." in response.get_data(as_text=True)
    db.session.refresh(upload)
    assert upload.status == UPLOAD_APPLIED and upload.rows_json == "[]"
    assert db.session.scalar(select(func.count(Completion.id))) == 2
    # A second click changes nothing.
    client.post(f"/admin/e-learning-completions/{upload.id}/apply")
    assert db.session.scalar(select(func.count(Completion.id))) == 2


def test_a_bad_file_shows_its_lines_and_saves_nothing(world, client, login_as):
    login_as(world.admin)
    response = _upload(client, b"name,email,course,completed_on,score\nKim,kim.known@northbridge.example,EL1,soon,\n")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“soon” is not a date" in page and "The file has 1 problem." in page
    assert db.session.scalar(select(func.count(CompletionUpload.id))) == 0
    assert _upload(client, b"").status_code == 422


def test_discard_and_stale_files_keep_no_rows(world, client, login_as, set_now):
    login_as(world.admin)
    _upload(client, CSV)
    upload = db.session.scalar(select(CompletionUpload))
    client.post(f"/admin/e-learning-completions/{upload.id}/discard")
    db.session.refresh(upload)
    assert upload.status == UPLOAD_DISCARDED and upload.rows_json == "[]"
    _upload(client, CSV)
    set_now(datetime(2027, 5, 20, 9, 0))
    assert discard_stale_uploads() == 1
    assert db.session.scalar(select(func.count(Completion.id))) == 0


def _signed_in(app, person):
    client = app.test_client()
    assert client.post("/sign-in", data={"email": person.email, "password": TEST_PASSWORD}).status_code == 302
    return client


def test_only_administrators_and_only_the_uploader(world, app, make_user):
    coordinator = _signed_in(app, make_user(roles=("coordinator",), agency=world.agency))
    assert coordinator.get("/admin/e-learning-completions").status_code == 403
    assert _upload(coordinator, CSV).status_code == 403
    assert db.session.scalar(select(func.count(CompletionUpload.id))) == 0
    _upload(_signed_in(app, world.admin), CSV)
    upload = db.session.scalar(select(CompletionUpload))
    other = _signed_in(app, make_user(roles=("admin",), agency=world.agency))
    assert other.get("/admin/e-learning-completions").status_code == 200
    assert other.get(f"/admin/e-learning-completions/{upload.id}").status_code == 404
    assert other.post(f"/admin/e-learning-completions/{upload.id}/apply").status_code == 404
    assert db.session.scalar(select(func.count(Completion.id))) == 0


def test_the_training_record_shows_an_imported_completion_and_its_refresher(world, client, login_as, make_course):
    refreshed = make_course("Safeguarding online refresher", code="EL9", is_online=True, refresher_months=12)
    apply_completions([_row("kim.known@northbridge.example", course="EL9", completed_on="2026-06-01")],
                      world.admin)
    db.session.commit()
    login_as(world.known)
    page = client.get("/my-training").get_data(as_text=True)
    assert refreshed.title in page and "from the e-learning provider" in page
    assert "1 June 2027" in page  # the refresher falls due a year on
