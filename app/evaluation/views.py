"""Evaluation pages."""
from app.evaluation import bp  # noqa: F401
