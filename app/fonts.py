"""The fonts the PDFs draw with: every file found by path here, from the Debian packages that
scripts/ensure_system_packages.sh installs.

DejaVu Sans is the main font. A character DejaVu lacks is drawn from the first fallback that has
it (Noto for other scripts, Noto Color Emoji for emoji); Arabic, Hebrew and emoji come from Noto
even where DejaVu has a glyph, because Noto's shapes and joins them properly and DejaVu's emoji
are a few monochrome faces. A character that no font has is printed as U+FFFD (a visible
replacement character) rather than left out.
"""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
NOTO = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
REPLACEMENT = "\ufffd"

# fontTools logs every table it drops while subsetting, at INFO, for every font of every PDF.
logging.getLogger("fontTools").setLevel(logging.WARNING)


class MissingFont(RuntimeError):
    """A font file the PDFs need is not installed."""


@dataclass(frozen=True)
class FontFile:
    path: Path
    package: str
    index: int = 0  # the face within a .ttc collection

    def check(self) -> FontFile:
        if not self.path.exists():
            raise MissingFont(f"{self.path} is missing: install Debian's {self.package} "
                              "(scripts/ensure_system_packages.sh does)")
        return self


@dataclass(frozen=True)
class Family:
    name: str
    regular: FontFile
    bold: FontFile | None = None  # None: the regular face serves for bold too
    # Ranges in which this font is used even where the main font has a glyph.
    preferred: tuple[tuple[int, int], ...] = ()

    def face(self, style: str) -> FontFile:
        return (self.bold or self.regular) if "B" in style else self.regular


MAIN = Family("DejaVu", FontFile(DEJAVU / "DejaVuSans.ttf", "fonts-dejavu-core"),
              FontFile(DEJAVU / "DejaVuSans-Bold.ttf", "fonts-dejavu-core"))

ARABIC = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
HEBREW = ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))
# Pictographs, flags and skin tones, with the joiner and the emoji variation selector, so that a
# sequence such as a family or a flag stays in one font and is drawn as one glyph.
EMOJI = ((0x1F000, 0x1FAFF), (0x200D, 0x200D), (0xFE0F, 0xFE0F))

# In order: the first that has a character draws it.
FALLBACKS = (
    Family("NotoSansArabic", FontFile(NOTO / "NotoSansArabic-Regular.ttf", "fonts-noto-core"),
           FontFile(NOTO / "NotoSansArabic-Bold.ttf", "fonts-noto-core"), preferred=ARABIC),
    Family("NotoSansHebrew", FontFile(NOTO / "NotoSansHebrew-Regular.ttf", "fonts-noto-core"),
           FontFile(NOTO / "NotoSansHebrew-Bold.ttf", "fonts-noto-core"), preferred=HEBREW),
    Family("NotoColorEmoji", FontFile(NOTO / "NotoColorEmoji.ttf", "fonts-noto-color-emoji"),
           preferred=EMOJI),
    Family("NotoSans", FontFile(NOTO / "NotoSans-Regular.ttf", "fonts-noto-core"),
           FontFile(NOTO / "NotoSans-Bold.ttf", "fonts-noto-core")),
    # Face 2 of the collection is Simplified Chinese; it has the Japanese kana and Korean hangul too.
    Family("NotoSansCJK", FontFile(NOTO_CJK / "NotoSansCJK-Regular.ttc", "fonts-noto-cjk", 2),
           FontFile(NOTO_CJK / "NotoSansCJK-Bold.ttc", "fonts-noto-cjk", 2)),
    Family("NotoSansSymbols", FontFile(NOTO / "NotoSansSymbols-Regular.ttf", "fonts-noto-core"),
           FontFile(NOTO / "NotoSansSymbols-Bold.ttf", "fonts-noto-core")),
    Family("NotoSansSymbols2", FontFile(NOTO / "NotoSansSymbols2-Regular.ttf", "fonts-noto-core")),
)


@cache
def characters(font: FontFile) -> frozenset[int]:
    """The code points a font file has glyphs for (read once per process)."""
    face = TTFont(font.check().path, fontNumber=font.index, lazy=True)
    try:
        return frozenset(face.getBestCmap() or ())
    finally:
        face.close()


def _in(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code <= high for low, high in ranges)


@cache
def main_characters(style: str = "") -> frozenset[int]:
    """What the main font draws: its own characters less those a fallback is preferred for."""
    own = characters(MAIN.face(style))
    given_away = {code for family in FALLBACKS if family.preferred
                  for code in characters(family.face(style)) if _in(code, family.preferred)}
    return own - given_away


@cache
def fallback_for(char: str, style: str = "") -> Family | None:
    """The first fallback family that draws a character the main font does not, or None."""
    code = ord(char)
    # A family that is preferred for the character comes first: the emoji font, not the Arabic
    # one (which has one too), draws the joiner inside an emoji sequence.
    ordered = sorted(FALLBACKS, key=lambda family: not _in(code, family.preferred))
    for family in ordered:
        if code in characters(family.face(style)):
            return family
    return None


def _drawable(char: str) -> bool:
    if ord(char) in main_characters() or fallback_for(char) is not None:
        return True
    # Line breaks and invisible format characters (direction marks, joiners) have nothing to draw.
    return unicodedata.category(char) in ("Cc", "Cf")


def printable(text: str) -> str:
    """The text with every character no font can draw replaced by U+FFFD, so none goes missing."""
    if all(ord(c) in main_characters() for c in text):  # the usual case, kept quick
        return text
    return "".join(c if _drawable(c) else REPLACEMENT for c in text)


def needs_shaping(text: str) -> bool:
    """Whether a text needs HarfBuzz: any character from a fallback font, or a combining mark."""
    return any(ord(c) not in main_characters() or unicodedata.combining(c) for c in text)


def missing(text: str) -> set[str]:
    """The characters of a text that no font draws."""
    return {c for c in text if not _drawable(c)}
