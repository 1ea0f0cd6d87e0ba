"""The one base for every domain's refusals."""


class DomainError(Exception):
    """A refusal a person can read.

    `field` names the form field it belongs to, if any; `problems` lists every (field, message)
    found, so a form can show each one beside its field.
    """

    def __init__(self, message: str, field: str | None = None,
                 problems: list[tuple] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = problems or [(field, message)]

    def on_form(self) -> list[tuple]:
        """The (field, message) pairs to show on a form."""
        return self.problems
