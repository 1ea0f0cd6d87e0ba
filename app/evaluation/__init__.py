from flask import Blueprint

bp = Blueprint("evaluation", __name__)

from . import demo, jobs, views  # noqa: E402,F401
from app.attendance.certificates import add_certificate_gate  # noqa: E402
from app.evaluation.services import certificate_gate  # noqa: E402

# Certificates wait for the first evaluation (CERTIFICATE_REQUIRES_EVALUATION, per course).
add_certificate_gate(certificate_gate)
