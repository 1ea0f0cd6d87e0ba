"""/healthz and /readyz, for load balancers, deploy scripts and monitoring.

/healthz says the process answers and touches nothing else, not even the database. /readyz says
whether this server is ready for requests (app.operations.readiness): 200, or 503 naming the checks
that failed. Both are open to anyone and say nothing about anyone; they read no session and set no
cookie, and are exempt from request limits and CSRF (they only read). Successful probes are logged
at DEBUG (app.operations.request_logs).
"""
from __future__ import annotations

from flask import jsonify

from app.accounts.access import public
from app.extensions import csrf, limiter
from app.operations import bp, readiness


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
@public
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
@csrf.exempt
@public
def readyz():
    result = readiness.check()
    if result.ready:
        return jsonify(status="ready", checks=result.checks)
    return jsonify(status="not ready", failed=result.failed, checks=result.checks), 503
