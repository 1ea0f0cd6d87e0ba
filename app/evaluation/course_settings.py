"""A course's evaluation settings: a copy of stage 2 for line managers, and the certificate gate."""
from __future__ import annotations

from flask import current_app

from app.accounts.models import User
from app.clock import utcnow
from app.courses.models import Course
from app.evaluation.models import CourseEvaluationSetting
from app.extensions import db


def course_setting(course: Course) -> CourseEvaluationSetting:
    """Return a course's evaluation settings (the defaults when none are saved)."""
    setting = db.session.get(CourseEvaluationSetting, course.id)
    if setting is None:
        setting = CourseEvaluationSetting(
            course_id=course.id, manager_copy=False,
            certificate_needs_evaluation=current_app.config["EVALUATION_CERTIFICATE_GATE"],
        )
    return setting


def update_course_setting(course: Course, actor: User, *, manager_copy: bool,
                          certificate_needs_evaluation: bool) -> CourseEvaluationSetting:
    """Save whether line managers get a copy of stage 2 and whether certificates wait for stage 1."""
    setting = course_setting(course)
    setting.manager_copy = bool(manager_copy)
    setting.certificate_needs_evaluation = bool(certificate_needs_evaluation)
    setting.updated_at = utcnow()
    setting.updated_by_id = actor.id
    db.session.add(setting)
    db.session.flush()
    return setting
