"""Absolute links for e-mails and calendar files."""
from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """Build an absolute URL on BASE_URL, inside a request or not (cron jobs have none)."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config["BASE_URL"] + path
