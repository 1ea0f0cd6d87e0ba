"""Template helpers: dates in UK time, money, and the service navigation for the current person."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from app.accounts.models import ROLE_LABELS
from app.clock import demo_offset, to_london
from app.small_numbers import is_hidden

# (label, endpoint, roles that see it); "anyone" items show to everyone.
NAVIGATION = [
    ("Programme", "courses.programme", "anyone"),
    ("My bookings", "bookings.my_bookings", {"learner"}),
    ("My training", "attendance.training_record", {"learner"}),
    ("My evaluations", "evaluation.my_evaluations", {"learner"}),
    ("My sessions", "attendance.trainer_sessions", {"trainer", "admin"}),
    ("My agency", "reports.agency_home", {"coordinator"}),
    ("Evaluation", "evaluation.review_home", {"reviewer", "admin"}),
    ("Reports", "reports.home", {"reviewer", "admin", "coordinator"}),
    ("Administration", "admin.home", {"admin"}),
]


def navigation_items() -> list[dict]:
    items = []
    roles = current_user.roles if current_user.is_authenticated else set()
    for label, endpoint, allowed in NAVIGATION:
        if endpoint not in current_app.view_functions:
            continue
        if allowed != "anyone" and not (roles & allowed):
            continue
        href = url_for(endpoint)
        items.append(
            {"text": label, "href": href, "active": request.path.startswith(href) and href != "/"}
        )
    if current_user.is_authenticated:
        items.append({"text": "Your account", "href": url_for("accounts.account")})
        items.append({"text": "Sign out", "href": url_for("accounts.sign_out")})
    else:
        items.append({"text": "Sign in", "href": url_for("accounts.sign_in")})
        items.append({"text": "Register", "href": url_for("accounts.register")})
    return items


def format_datetime(moment: datetime | None, fmt: str = "%-d %B %Y, %-I:%M%p") -> str:
    """Show a naive-UTC datetime in UK time, e.g. '3 March 2027, 9:30am'."""
    if moment is None:
        return ""
    return to_london(moment).strftime(fmt).replace("AM", "am").replace("PM", "pm")


def format_date(value: date | datetime | None, fmt: str = "%-d %B %Y") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_london(value)
    return value.strftime(fmt)


def format_time(moment: datetime | None) -> str:
    return format_datetime(moment, "%-I:%M%p")


def format_pence(pence: int | None) -> str:
    if pence is None:
        return ""
    return f"£{pence / 100:,.2f}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["uk_datetime"] = format_datetime
    app.jinja_env.filters["uk_date"] = format_date
    app.jinja_env.filters["uk_time"] = format_time
    app.jinja_env.filters["pence"] = format_pence
    app.jinja_env.tests["hidden"] = is_hidden  # a figure withheld for a small group

    @app.context_processor
    def _globals():
        return {
            "partnership_name": app.config["PARTNERSHIP_NAME"],
            "service_name": app.config["SERVICE_NAME"],
            "navigation_items": navigation_items,
            "role_labels": ROLE_LABELS,
            # Development only (`flask demo advance`); always 0 elsewhere.
            "demo_clock_days": demo_offset().days,
        }
