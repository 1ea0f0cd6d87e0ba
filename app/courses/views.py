"""The programme pages and the L&D team's course and session screens."""
from app.courses import bp  # noqa: F401
