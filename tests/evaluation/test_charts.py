"""The server-drawn charts: no label runs into another, and no two questions read alike."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from app.evaluation.charts import distribution_chart, means_chart, text_width, wrap
from app.evaluation.figures import Distribution, MeasureRow, QuestionInfo
from app.evaluation.models import SCALE

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each text element with its box (left, top, right, bottom), from its x, y, size and anchor."""
    boxes = []
    for node in ET.fromstring(str(svg)).iter(f"{SVG}text"):
        x, y, size = float(node.get("x")), float(node.get("y")), float(node.get("font-size"))
        width = text_width(node.text or "", size, node.get("font-weight", "normal"))
        left = {"start": x, "middle": x - width / 2, "end": x - width}[node.get("text-anchor", "start")]
        boxes.append((node.text or "", (left, y - 0.9 * size, left + width, y + 0.25 * size)))
    return boxes


def _assert_no_overlap(svg) -> list[str]:
    boxes = _texts(svg)
    width = float(ET.fromstring(str(svg)).get("width"))
    for index, (text, (l1, t1, r1, b1)) in enumerate(boxes):
        assert l1 >= 0 and r1 <= width, f"{text!r} runs off the chart"
        for other, (l2, t2, r2, b2) in boxes[index + 1:]:
            assert r1 <= l2 or r2 <= l1 or b1 <= t2 or b2 <= t1, f"{text!r} overlaps {other!r}"
    return [text for text, _box in boxes]


def _distribution(stage: int, key: str, text: str) -> Distribution:
    return Distribution(QuestionInfo(stage, key, text, SCALE), {1: 1, 2: 0, 3: 2, 4: 5, 5: 3})


def test_knowledge_and_confidence_labels_do_not_overlap():
    rows = [MeasureRow("Knowledge of the topic", 2.4, 4.1, None, (9, 9, 0), later_asked=False),
            MeasureRow("Confidence in this area of work", 2.9, 4.3, 5.0, (9, 9, 4))]
    texts = _assert_no_overlap(means_chart(rows))
    assert texts.count("Before the course") == 2 and "Knowledge of the topic" in texts


def test_question_labels_wrap_do_not_overlap_and_stay_distinct():
    questions = [
        _distribution(1, "confidence_after", "How confident are you in this area of your work now, after the course?"),
        _distribution(2, "confidence_now", "How confident are you in this area of your work now?"),
        _distribution(1, "multi_agency", "Learning alongside other agencies helped me understand their roles"),
        _distribution(1, "venue", "The venue or online platform"),
        # Two long questions that read alike for longer than any label can show.
        _distribution(1, "long_a", "When you think about everything that happened on the day and afterwards in your "
                                   "team, and about the people you work with, how would you rate the first part?"),
        _distribution(2, "long_b", "When you think about everything that happened on the day and afterwards in your "
                                   "team, and about the people you work with, how would you rate the second part?"),
    ]
    svg = distribution_chart(questions)
    _assert_no_overlap(svg)
    labels = []
    root = ET.fromstring(str(svg))
    for node in root.iter(f"{SVG}text"):
        if node.get("text-anchor") == "end":  # question labels, one or more lines each
            labels.append((float(node.get("y")), node.text))
    # Lines of one label are a line apart; labels are further apart than that.
    grouped: list[list[str]] = []
    last_y = None
    for y, line in labels:
        if last_y is not None and y - last_y <= 12 * 1.25 + 0.1:
            grouped[-1].append(line)
        else:
            grouped.append([line])
        last_y = y
    joined = [" ".join(lines) for lines in grouped]
    assert len(joined) == len(questions) and len(set(joined)) == len(joined), joined
    assert joined[0] == "How confident are you in this area of your work now, after the course?"
    assert joined[1] == "How confident are you in this area of your work now?"
    assert joined[4].endswith("(stage 1)") and joined[5].endswith("(stage 2)")
    # The description (read by screen readers) names each question in full.
    assert "how would you rate the second part?: " in root.find(f"{SVG}desc").text


def test_wrap_keeps_every_word_within_the_width():
    lines = wrap("How confident were you in this area of your work before the course?", 12, 200)
    assert " ".join(lines) == "How confident were you in this area of your work before the course?"
    assert all(text_width(line, 12) <= 200 for line in lines)
    assert wrap("word " * 100, 12, 100, max_lines=2)[-1].endswith("…")
