"""Small numbers: no figure about a group of fewer than SMALL_GROUP_MINIMUM people (issue 16).

One rule for the evaluation's figures and the reports the board sees. A figure about a group of
people (the people invited, who answered, who attended, from one sector, agency, session or
course) is shown only when the group has at least the minimum in it; otherwise the figure reads
"fewer than 5" (a `Hidden`). Nobody is in a group of none, so a 0 is shown.

A breakdown whose total is shown (a table of sectors under "Total attendees") also hides the
next smallest cells, until the hidden cells together hold at least the minimum: one hidden cell
beside a shown total could be found by subtraction, two hidden cells of 1 and 2 by their sum.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask import current_app


def minimum() -> int:
    """The smallest group a figure may be shown for (the SMALL_GROUP_MINIMUM setting)."""
    return current_app.config["SMALL_GROUP_MINIMUM"]


class Hidden(str):
    """A figure withheld because its group is small: it reads "fewer than 5".

    A string, so it prints in pages, CSV and XLSX as it is, and any sum or comparison made with it
    by mistake fails loudly instead of counting a withheld figure.
    """

    def __new__(cls, least: int | None = None):
        return super().__new__(cls, f"fewer than {least if least is not None else minimum()}")


def is_hidden(value: object) -> bool:
    return isinstance(value, Hidden)


def is_small(size: int, least: int | None = None) -> bool:
    """Whether a group of this many people is too small to show a figure for (none is not)."""
    return 0 < size < (least if least is not None else minimum())


def shown(value, size: int | None = None, least: int | None = None):
    """The value, or Hidden when the group it is about (of `size`, by default the value) is small."""
    size = value if size is None else size
    return Hidden(least) if is_small(size, least) else value


def hidden_cells(sizes: Sequence[int], least: int | None = None) -> set[int]:
    """Which cells of a breakdown with a shown total to hide (their indexes).

    Every small cell, then (so none is found from the total by subtraction) the smallest others
    until the hidden cells together hold at least the minimum, or every cell is hidden.
    """
    least = least if least is not None else minimum()
    hidden = {i for i, n in enumerate(sizes) if is_small(n, least)}
    if hidden:
        others = sorted((n, i) for i, n in enumerate(sizes) if i not in hidden and n > 0)
        while others and sum(sizes[i] for i in hidden) < least:
            hidden.add(others.pop(0)[1])
    return hidden


def suppress(values: Sequence[int], least: int | None = None) -> list:
    """A breakdown's values with small cells (and those that would give them away) Hidden."""
    hidden = hidden_cells(values, least)
    return [Hidden(least) if i in hidden else v for i, v in enumerate(values)]
