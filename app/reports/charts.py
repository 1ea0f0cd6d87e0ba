"""Charts drawn on the server as inline SVG (no JavaScript, no CDN).

Each chart is an image with a title and a description for screen readers; the page always shows
the same numbers in a table beside it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
LABEL_WIDTH = 230
RIGHT_MARGIN = 70
ROW_HEIGHT = 30
TOP = 44
BLUE = "#1d70b8"
LIGHT_BLUE = "#9dc3e6"
NEED = "#d4351c"
TEXT = "#0b0c0c"
GRID = "#b1b4b6"
_ids = itertools.count(1)


@dataclass
class Bar:
    label: str
    attended: int
    booked: int
    needed: int | None


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(title: str, description: str, height: int) -> tuple[list[str], str]:
    uid = f"chart-{next(_ids)}"
    parts = [
        f'<svg class="app-chart" role="img" aria-labelledby="{uid}-title {uid}-desc" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="arial, sans-serif" font-size="14">',
        f'<title id="{uid}-title">{escape(title)}</title>',
        f'<desc id="{uid}-desc">{escape(description)}</desc>',
    ]
    return parts, uid


def need_chart(title: str, bars: list[Bar]) -> Markup:
    """Bars of people booked and attended against a red line at the number needed."""
    if not bars:
        return Markup("")
    height = TOP + ROW_HEIGHT * len(bars) + 24
    plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN
    top = max([1] + [max(b.booked, b.attended, b.needed or 0) for b in bars])

    def x(value: float) -> float:
        return LABEL_WIDTH + plot * value / top

    description = "; ".join(
        f"{b.label}: {b.attended} attended, {b.booked} booked"
        + (f", {b.needed} needed" if b.needed is not None else ", no need set")
        for b in bars
    )
    parts, _ = _open(title, description, height)
    # Legend.
    parts += [
        f'<rect x="{LABEL_WIDTH}" y="8" width="14" height="14" fill="{BLUE}"/>',
        f'<text x="{LABEL_WIDTH + 20}" y="20" fill="{TEXT}">Attended</text>',
        f'<rect x="{LABEL_WIDTH + 110}" y="8" width="14" height="14" fill="{LIGHT_BLUE}"/>',
        f'<text x="{LABEL_WIDTH + 130}" y="20" fill="{TEXT}">Booked</text>',
        f'<line x1="{LABEL_WIDTH + 210}" y1="6" x2="{LABEL_WIDTH + 210}" y2="24" stroke="{NEED}" stroke-width="4"/>',
        f'<text x="{LABEL_WIDTH + 220}" y="20" fill="{TEXT}">Needed</text>',
    ]
    bottom = TOP + ROW_HEIGHT * len(bars)
    for tick in sorted({0, top // 2, top}):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{TOP - 6}" x2="{x(tick):.1f}" y2="{bottom}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{bottom + 18}" text-anchor="middle" fill="{TEXT}">{tick}</text>')
    for i, bar in enumerate(bars):
        y = TOP + i * ROW_HEIGHT
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 19}" text-anchor="end" fill="{TEXT}">'
                     f'{escape(_short(bar.label))}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 5}" width="{x(bar.booked) - LABEL_WIDTH:.1f}" '
                     f'height="20" fill="{LIGHT_BLUE}"/>')
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 9}" width="{x(bar.attended) - LABEL_WIDTH:.1f}" '
                     f'height="12" fill="{BLUE}"/>')
        if bar.needed is not None:
            parts.append(f'<line x1="{x(bar.needed):.1f}" y1="{y + 1}" x2="{x(bar.needed):.1f}" '
                         f'y2="{y + 29}" stroke="{NEED}" stroke-width="4"/>')
        figure = f"{bar.attended}" + (f" / {bar.needed}" if bar.needed is not None else "")
        parts.append(f'<text x="{WIDTH - RIGHT_MARGIN + 8}" y="{y + 19}" fill="{TEXT}">{figure}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def share_chart(title: str, items: list[tuple[str, int]]) -> Markup:
    """Horizontal bars of each sector's share of the total."""
    items = [(label, n) for label, n in items if n]
    if not items:
        return Markup("")
    total = sum(n for _, n in items)
    height = TOP - 20 + ROW_HEIGHT * len(items) + 10
    plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN
    largest = max(n for _, n in items)
    description = "; ".join(f"{label}: {n} ({round(100 * n / total)}%)" for label, n in items)
    parts, _ = _open(title, description, height)
    for i, (label, n) in enumerate(items):
        y = TOP - 20 + i * ROW_HEIGHT
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 19}" text-anchor="end" fill="{TEXT}">'
                     f'{escape(_short(label))}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 6}" width="{plot * n / largest:.1f}" height="18" '
                     f'fill="{BLUE}"/>')
        parts.append(f'<text x="{LABEL_WIDTH + plot * n / largest + 6:.1f}" y="{y + 19}" fill="{TEXT}">'
                     f'{round(100 * n / total)}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
