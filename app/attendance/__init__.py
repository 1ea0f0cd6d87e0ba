"""Registers and attendance: marking, charges, suspensions, certificates, training records and agencies' staff."""
from flask import Blueprint

bp = Blueprint("attendance", __name__)

from . import demo, jobs, views  # noqa: E402,F401
