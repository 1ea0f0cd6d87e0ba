"""Registering and withdrawing interest in a course (a signed-in person, for themselves only).

Both are POST-only buttons; CSRFProtect refuses a post without the form's token (app/__init__.py).
"""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from app.accounts.access import signed_in
from app.courses import bp, interest
from app.courses.queries import course_by_code
from app.refusals import refusals


def _course_or_404(code: str):
    return course_by_code(code) or abort(404)


@bp.route("/courses/<code>/interest", methods=["POST"])
@signed_in
def register_interest(code: str):
    course = _course_or_404(code)
    with refusals() as attempt:
        interest.register_interest(course, current_user)
    if not attempt.refused:
        flash("We will e-mail you when a new date of this course is published. You can stop this from "
              "My bookings.", "success")
    return redirect(url_for("courses.course_detail", code=course.code))


@bp.route("/courses/<code>/interest/withdraw", methods=["POST"])
@signed_in
def withdraw_interest(code: str):
    course = _course_or_404(code)
    with refusals() as attempt:
        interest.withdraw_interest(course, current_user)
    if not attempt.refused:
        flash(f"We will no longer e-mail you about new dates of {course.title}.", "success")
    return redirect(url_for("bookings.my_bookings") + "#interest")
