"""The privacy domain's refusals."""
from app.errors import DomainError


class PrivacyError(DomainError):
    """A privacy rule refused: e.g. a person who cannot be erased yet, with every reason."""
