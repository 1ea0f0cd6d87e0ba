"""Booking pages."""
from app.bookings import bp  # noqa: F401
