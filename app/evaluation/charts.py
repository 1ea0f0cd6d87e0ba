"""Charts drawn on the server as inline SVG: no JavaScript, no CDN.

Each chart is an image with a title and a description naming its figures (role="img"), and the
pages that show one also show the same numbers in a table.
"""
from __future__ import annotations

from collections import Counter

from markupsafe import Markup, escape

from app.evaluation.figures import ConfidenceShift, Distribution, MeasureRow, MonthCounts, Summary
from app.evaluation.models import SCALE_VALUES, STAGE_ONE, STAGE_TWO
from app.small_numbers import is_hidden

INK = "#0b0c0c"
GRID = "#b1b4b6"
SERIES = ["#b1b4b6", "#1d70b8", "#00703c"]  # before, after, later
SCALE_COLOURS = {1: "#d4351c", 2: "#f47738", 3: "#b1b4b6", 4: "#5694ca", 5: "#003078"}
FONT = 'font-family="arial, sans-serif"'


def _svg(chart_id: str, title: str, description: str, width: int, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="app-chart" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, content: str, size: int = 14, anchor: str = "start",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" {FONT} fill="{INK}" '
            f'text-anchor="{anchor}" font-weight="{weight}">{escape(content)}</text>')


# Arial's widest common glyphs are about 0.6 of the font size across (bold a little more): labels
# are laid out with these figures, so a label never runs into its neighbour.
CHAR_WIDTH = {"normal": 0.6, "bold": 0.66}
LINE_HEIGHT = 1.25


def text_width(content: str, size: float, weight: str = "normal") -> float:
    """A generous estimate of the width of a line of text in the charts' font."""
    return len(content) * size * CHAR_WIDTH[weight]


def wrap(content: str, size: float, width: float, max_lines: int = 3) -> list[str]:
    """Break a label into lines that fit `width`; a label too long for `max_lines` ends in "…"."""
    per_line = max(int(width // (size * CHAR_WIDTH["normal"])), 1)
    lines: list[str] = []
    for word in content.split():
        while len(word) > per_line:  # a word longer than a line is cut
            lines.append(word[:per_line - 1] + "-")
            word = word[per_line - 1:]
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        last = " ".join(lines[max_lines - 1:])
        lines = lines[:max_lines - 1] + [last[:per_line - 1].rstrip() + "…"]
    return lines or [""]


def unique_labels(labels: list[list[str]], extras: list[str]) -> list[list[str]]:
    """Make shortened labels distinct: one shared with another gets its extra (e.g. the stage)."""
    def suffixed(lines: list[str], extra: object) -> list[str]:
        return lines[:-1] + [f"{lines[-1]} ({extra})"]

    counts = Counter(" ".join(lines) for lines in labels)
    result = [suffixed(lines, extra) if counts[" ".join(lines)] > 1 else lines
              for lines, extra in zip(labels, extras)]
    counts, seen = Counter(" ".join(lines) for lines in result), Counter()
    for index, lines in enumerate(result):  # still alike: number them
        text = " ".join(lines)
        if counts[text] > 1:
            seen[text] += 1
            result[index] = suffixed(lines, seen[text])
    return result


def _lines(x: float, y: float, lines: list[str], size: int, anchor: str = "start") -> str:
    """A label of several lines, the first line's baseline at y."""
    return "".join(_text(x, y + index * size * LINE_HEIGHT, line, size, anchor)
                   for index, line in enumerate(lines))


def _rect(x: float, y: float, w: float, h: float, colour: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{colour}"/>'


def _legend(items: list[tuple[str, str]], y: float, x: float = 10) -> list[str]:
    body = []
    for label, colour in items:
        body.append(_rect(x, y - 11, 14, 14, colour))
        body.append(_text(x + 20, y, label, 13))
        x += 20 + text_width(label, 13) + 16
    return body


def _fmt(value) -> str:
    if is_hidden(value):
        return f"{value} answers"
    return "no answers" if value is None else f"{value:.1f}"


def _length(value) -> float:
    """A bar's value: none for no answers or a figure withheld for a small group."""
    return 0 if value is None or is_hidden(value) else value


def means_chart(rows: list[MeasureRow], chart_id: str = "chart-means") -> Markup:
    """Mean knowledge and confidence before, after and at stage 2, on the 1 to 5 scale."""
    width, left, right = 680, 230, 60
    bar, gap = 20, 26
    plot = width - left - right
    series = [("Before the course", "before"), ("After the course", "after"), ("Months later", "later")]
    body, y = [], 40
    description = []
    for row in rows:
        # The measure's name has a line of its own above its bars, clear of their labels.
        body.append(_text(10, y + 14, row.label, 14, weight="bold"))
        y += 24
        parts = []
        for index, (label, attr) in enumerate(series):
            value = getattr(row, attr)
            if attr == "later" and not row.later_asked:
                continue
            body.append(_text(left - 8, y + 15, label, 13, anchor="end"))
            body.append(_rect(left, y, plot * _length(value) / 5, bar, SERIES[index]))
            body.append(_text(left + plot * _length(value) / 5 + 6, y + 15, _fmt(value), 13))
            parts.append(f"{label.lower()} {_fmt(value)}")
            y += gap
        description.append(f"{row.label}: " + ", ".join(parts))
        y += 14
    for tick in range(6):
        x = left + plot * tick / 5
        body.insert(0, f'<line x1="{x:.1f}" y1="30" x2="{x:.1f}" y2="{y - 10}" stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(x, 22, str(tick), 12, anchor="middle"))
    return _svg(chart_id, "Mean ratings on a scale of 1 to 5", "; ".join(description) + ".",
                width, y, body)


def distribution_chart(distributions: list[Distribution], chart_id: str = "chart-ratings") -> Markup:
    """How the ratings of each scale question spread from 1 to 5 (as shares of its answers)."""
    width, left, right = 720, 300, 20
    size, bar = 12, 20
    plot = width - left - right
    body = _legend([(str(v), SCALE_COLOURS[v]) for v in SCALE_VALUES], 18, left)
    body.insert(0, _text(10, 18, "Rating:", 13))
    y, description = 36, []
    # Questions are wrapped onto up to three lines (not cut short), and two that still read alike
    # (the same question at both stages) are told apart by their stage.
    labels = unique_labels([wrap(d.info.text, size, left - 18) for d in distributions],
                           [f"stage {d.info.stage}" for d in distributions])
    for d, lines in zip(distributions, labels):
        lines = wrap(" ".join(lines), size, left - 18, max_lines=len(lines) + 1)
        height = max(bar, len(lines) * size * LINE_HEIGHT)
        first = y + (height - len(lines) * size * LINE_HEIGHT) / 2 + size
        body.append(_lines(left - 8, first, lines, size, anchor="end"))
        x = left
        top = y + (height - bar) / 2
        if d.withheld:
            body.append(_text(left, top + 15, f"{d.withheld} answers: not shown", 12))
            description.append(f"{d.info.text}: {d.withheld} answers, not shown")
            y += height + 8
            continue
        for value in SCALE_VALUES:
            share = d.counts.get(value, 0) / d.total if d.total else 0
            body.append(_rect(x, top, plot * share, bar, SCALE_COLOURS[value]))
            x += plot * share
        description.append(f"{d.info.text}: " + ", ".join(
            f"{d.counts.get(v, 0)} rated {v}" for v in SCALE_VALUES))
        y += height + 8
    return _svg(chart_id, "How each question was rated",
                "; ".join(description) + "." if description else "No ratings yet.", width, y + 6, body)


def shift_chart(shift: ConfidenceShift, chart_id: str = "chart-shift") -> Markup:
    """People whose confidence rose, stayed the same or fell between the course and stage 2."""
    width, left = 680, 10
    plot = width - 20
    if shift.hidden:
        return _svg(chart_id, "Confidence before the course compared with months later",
                    f"{shift.people} people answered both stages: not shown.", width, 40,
                    [_text(left, 24, f"{shift.people} people answered both stages: not shown.", 13)])
    parts = [("Rose", shift.rose, "#00703c"), ("Stayed the same", shift.same, "#b1b4b6"),
             ("Fell", shift.fell, "#d4351c")]
    body = _legend([(f"{label} ({count})", colour) for label, count, colour in parts], 18)
    x = left
    for _label, count, colour in parts:
        share = count / shift.people if shift.people else 0
        body.append(_rect(x, 32, plot * share, 28, colour))
        x += plot * share
    description = (f"Of {shift.people} people who answered both stages, confidence rose for "
                   f"{shift.rose}, stayed the same for {shift.same} and fell for {shift.fell}.")
    return _svg(chart_id, "Confidence before the course compared with months later", description,
                width, 70, body)


def response_chart(months: list[MonthCounts], chart_id: str = "chart-responses") -> Markup:
    """Response rate of each stage by the month invitations were sent."""
    height, top, bottom, left = 240, 30, 50, 44
    group = 56
    width = max(left + group * max(len(months), 1) + 20, 320)
    plot = height - top - bottom
    colours = {STAGE_ONE: "#1d70b8", STAGE_TWO: "#00703c"}
    body = _legend([("Stage 1", colours[STAGE_ONE]), ("Stage 2", colours[STAGE_TWO])], 16, left)
    for tick in (0, 25, 50, 75, 100):
        y = top + plot - plot * tick / 100
        body.insert(0, f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(left - 6, y + 4, f"{tick}%", 11, anchor="end"))
    description = []
    for index, month in enumerate(months):
        x = left + 8 + group * index
        parts = []
        for offset, stage in enumerate((STAGE_ONE, STAGE_TWO)):
            counts = month.counts[stage]
            rate = _length(counts.rate)
            body.append(_rect(x + offset * 20, top + plot - plot * rate, 18, plot * rate, colours[stage]))
            if counts.hidden:
                parts.append(f"stage {stage} {counts.sent} sent")
            elif counts.sent:
                parts.append(f"stage {stage} {counts.responded} of {counts.sent}")
        body.append(_text(x + 19, height - bottom + 16, month.label, 11, anchor="middle"))
        description.append(f"{month.label}: " + ", ".join(parts))
    return _svg(chart_id, "Response rates by month the evaluation was sent",
                "; ".join(description) + "." if description else "Nothing sent yet.", width, height, body)


def summary_charts(summary: Summary) -> dict[str, Markup]:
    """The summary page's four charts, from `figures.summary`."""
    return {
        "means": means_chart(summary.means),
        "ratings": distribution_chart(summary.distributions),
        "shift": shift_chart(summary.shift),
        "responses": response_chart(summary.months),
    }
