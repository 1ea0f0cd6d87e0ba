"""Registers and attendance: marking, charges, suspensions, certificates, training records and agencies' staff."""
from flask import Blueprint

bp = Blueprint("attendance", __name__)
