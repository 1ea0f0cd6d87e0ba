"""Names in every script print on the sign-in sheet, the certificate and the training record (issue 11).

Each name is read back from the PDF with pypdf. pypdf reads the PDFs fpdf2 makes in two ways worth
knowing, and the helpers here undo only those:
- Arabic and Hebrew come out letter by letter in logical order (fpdf2 maps each shaped glyph back
  to its letters), NFKC-normalised in case a reader returns presentation forms; but a line of
  several right-to-left words comes out word by word in the order they stand on the page, right
  to left. The tests check that order on the page directly, from where each word is drawn.
- Chinese, Japanese and Korean glyphs are two-byte codes in a font with its own encoding CMap,
  which pypdf reads a byte at a time: each character comes out after a NUL, which is dropped
  here. (Poppler's pdftotext reads them cleanly.)
"""
from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app import fonts
from app.attendance import pdfs
from app.attendance.register import register_bookings
from tests.attendance.conftest import COURSE, DAY, ROOM, pdf_text

NAMES = {
    "Latin with diacritics": "Zoë Ó Súilleabháin",
    "Greek": "Γιώργος Παπαδόπουλος",
    "Cyrillic": "Анна Смирнова",
    "Chinese": "王秀英",
    "Japanese": "山田 花子",
    "Korean": "김민준",
    "Arabic": "محمد عبد الله",
    "Hebrew": "שרה כהן",
    "emoji": "Priya Shah 🌻",
    "emoji sequence": "Sam 👩‍⚕️ Okafor 🇬🇧",
}
RIGHT_TO_LEFT = {"Arabic", "Hebrew"}


def read_back(data: bytes) -> str:
    """The PDF's text as pypdf extracts it, less the NULs of its two-byte CJK reading."""
    return unicodedata.normalize("NFKC", pdf_text(data).replace("\x00", ""))


def words_left_to_right(data: bytes, words: list[str]) -> list[str]:
    """The given words in the order they are drawn across the first page, left to right."""
    found: dict[str, float] = {}

    def visit(text, cm, tm, font, size):
        word = unicodedata.normalize("NFKC", text).strip()
        if word in words and word not in found:
            found[word] = cm[4] + tm[4] * cm[0]

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    assert set(found) == set(words), f"drawn separately: {sorted(found)} of {words}"
    return sorted(found, key=found.get)


@pytest.fixture
def documents(app, make_user, make_agency, make_session, make_course, make_booking):
    """Draw each document for a person of the given name: sheet, certificate, training record."""
    def _draw(name: str) -> dict[str, bytes]:
        person = make_user(name=name, agency=make_agency(name="Hillcrest Primary School"))
        session = make_session(course=make_course(**COURSE), starts_at=DAY, **ROOM)
        booking = make_booking(session, person)
        return {
            "sign-in sheet": pdfs.sign_in_sheet(session, register_bookings(session)),
            "certificate": pdfs.certificate(booking, "ABCD-2345", "http://localhost/certificates/verify"),
            "training record": pdfs.training_record(person, [], Decimal("0"), date(2027, 3, 4)),
        }

    return _draw


@pytest.mark.parametrize("script", NAMES)
def test_every_document_prints_the_name(documents, script, caplog):
    name = NAMES[script]
    assert fonts.missing(name) == set(), "a font for every character is installed"
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        drawn = documents(name)
    assert not [r.message for r in caplog.records if "missing" in r.message]
    for document, data in drawn.items():
        text = read_back(data)
        if script in RIGHT_TO_LEFT:
            words = name.split()
            for word in words:
                assert word in text, (document, word, text)
            # Right to left: the first word of the name is drawn rightmost.
            assert words_left_to_right(data, words) == words[::-1], document
        else:
            assert name in text, (document, text)


def test_arabic_letters_are_joined(documents):
    """Shaped Arabic draws a letter with a different glyph by its place in the word (initial,
    medial, final); drawn unshaped, each letter has one glyph, its isolated form."""
    data = documents("محمد عبد الله")["sign-in sheet"]
    reader = PdfReader(io.BytesIO(data))
    arabic = [font.get_object() for font in reader.pages[0]["/Resources"]["/Font"].values()
              if "NotoSansArabic" in str(font.get_object().get("/BaseFont", ""))]
    assert arabic, "drawn with Noto Sans Arabic"
    cmap = arabic[0]["/ToUnicode"].get_object().get_data().decode()
    letters = Counter(re.findall(r"^<[0-9A-F]{4}> <(06[0-9A-F]{2})>$", cmap, re.MULTILINE))
    assert letters["0645"] >= 2 and letters["0644"] >= 2, cmap  # meem in محمد, lam in الله


def test_a_character_no_font_has_prints_as_a_replacement_not_nothing(documents):
    name = "Ada \U0010FFFF Lovelace"  # a noncharacter: no font draws it
    assert fonts.missing(name) == {"\U0010FFFF"}
    for document, data in documents(name).items():
        assert "Ada \ufffd Lovelace" in read_back(data), document


def test_a_latin_only_document_embeds_only_dejavu(documents):
    data = documents("Zoë Ábrahams")["sign-in sheet"]
    reader = PdfReader(io.BytesIO(data))
    names = {str(f.get_object().get("/BaseFont")) for page in reader.pages
             for f in page["/Resources"]["/Font"].values()}
    assert names == {"/MPDFAA+DejaVuSansBook", "/MPDFAA+DejaVuSansBold"}

