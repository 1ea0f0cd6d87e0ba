"""Absolute links for e-mails and calendar files."""
from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """Build an absolute URL on BASE_URL, inside a request or not (jobs have none).

    Outside a request the app's URL map is bound directly: a pushed request context would run the
    request teardown hooks when it is popped, in the middle of the job that asked for a link.
    """
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        current_app.inject_url_defaults(endpoint, values)
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path
