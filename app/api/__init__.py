"""The JSON API for agencies' systems, /api/v1 (and the pages where tokens for it are managed).

Outside the domain chain, like app/operations: it reads every domain through its queries and
changes nothing but its own tokens. See README, "The API for agencies' systems".
"""
from flask import Blueprint

bp = Blueprint("api", __name__)
