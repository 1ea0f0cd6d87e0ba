"""Personal data: subject access, erasure, retention and the access log's pages (UK GDPR)."""
from flask import Blueprint

bp = Blueprint("privacy", __name__)
