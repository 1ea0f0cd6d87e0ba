"""The reports domain's refusals: one error class, and an import refused with its list of problems."""
from __future__ import annotations

from app.errors import DomainError


class ReportsError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any.

    The reports domain's one error class: ImportRefused below is the same refusal with its list of
    problems.
    """


class ImportRefused(ReportsError):
    """An uploaded file has rows that cannot be used; `problems` lists (line number, reason)."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(f"The file has {len(problems)} problem{'s' if len(problems) != 1 else ''}.",
                         "file", problems)

    def on_form(self) -> list[tuple]:
        # The lines are listed in a table; the form shows only the summary, beside the file.
        return [(self.field, self.message)]
