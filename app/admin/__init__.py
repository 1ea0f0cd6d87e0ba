"""The L&D team's administration screens that belong to no single domain (outbox, jobs)."""
from flask import Blueprint

bp = Blueprint("admin", __name__)
