"""The servers' /metrics at the end of a rush: a few lines of what Prometheus would have seen.

Each server gets its own PROMETHEUS_MULTIPROC_DIR, as two machines would, so each one's scrape adds
up its own gunicorn workers; the lines add the servers up (requests, bookings) or take one server's
reading of the database (outbox, jobs), as the README's "Metrics and alerts" says to.
"""
from __future__ import annotations

import secrets
import urllib.request
from collections import defaultdict
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

BOOK_RULE = "/sessions/<int:session_id>/book"


def metrics_environment(folder: Path, port: int, token: str) -> dict[str, str]:
    """The settings that turn a bench server's metrics on, with an empty directory of its own."""
    directory = folder / f"metrics-{port}"
    directory.mkdir()
    return {"METRICS_ENABLED": "on", "METRICS_TOKEN": token, "PROMETHEUS_MULTIPROC_DIR": str(directory)}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _samples(base_url: str, token: str) -> list:
    request = urllib.request.Request(base_url + "/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def summary(base_urls: list[str], token: str) -> list[str]:
    """A few lines from every server's /metrics."""
    added = defaultdict(float)
    database = {}
    for index, base_url in enumerate(base_urls):
        for sample in _samples(base_url, token):
            labels = sample.labels
            if sample.name == "training_bookings_total":
                added[("booked", labels["outcome"])] += sample.value
            elif sample.name == "training_booking_refusals_total":
                added[("refused", labels["reason"])] += sample.value
            elif sample.name == "training_http_requests_total" and labels["endpoint"] == BOOK_RULE:
                added[("book", labels["method"] + " " + labels["status"])] += sample.value
            elif sample.name == "training_http_request_duration_seconds_count" and labels["endpoint"] == BOOK_RULE:
                added[("timed", labels["method"])] += sample.value
            elif sample.name == "training_http_request_duration_seconds_sum" and labels["endpoint"] == BOOK_RULE:
                added[("seconds", labels["method"])] += sample.value
            elif index == 0 and sample.name in ("training_outbox_messages", "training_job_runs_total",
                                                "training_job_failures_total"):
                database[(sample.name, tuple(labels.values()))] = sample.value

    def listed(kind: str) -> str:
        found = sorted((key[1], value) for key, value in added.items() if key[0] == kind and value)
        return ", ".join(f"{name} {value:.0f}" for name, value in found) or "none"

    posts, seconds = added[("timed", "POST")], added[("seconds", "POST")]
    runs = sum(v for (name, _), v in database.items() if name == "training_job_runs_total")
    failures = sum(v for (name, _), v in database.items() if name == "training_job_failures_total")
    outbox = ", ".join(f"{labels[0]} {value:.0f}" for (name, labels), value in sorted(database.items())
                       if name == "training_outbox_messages")
    return [
        f"   metrics:    /metrics of {len(base_urls)} servers (each adding up its workers), summed:",
        f"      {BOOK_RULE}: {listed('book')}; mean POST {seconds / posts * 1000:.0f} ms inside the app" if posts else
        f"      {BOOK_RULE}: {listed('book')}",
        f"      training_bookings_total: {listed('booked')}; training_booking_refusals_total: {listed('refused')}",
        f"      from the database: outbox {outbox}; job runs {runs:.0f}, failed {failures:.0f}",
    ]
