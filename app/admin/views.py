"""Administration home and the outbox."""
from email.utils import parseaddr

from flask import abort, flash, redirect, render_template, request, url_for

from app.access_log import record_access
from app.accounts.access import ADMIN, requires
from app.accounts.models import find_user_by_email
from app.admin import bp
from app.email import (
    FAILED,
    OutboxMessage,
    outbox_counts,
    outbox_listing,
    outbox_text,
    retry_failed_messages,
    retry_message,
)
from app.extensions import db
from app.inputs import query_page
from app.urls import mask_secret_links

PAGE_SIZE = 50


@bp.route("/")
@requires(ADMIN)
def home():
    return render_template("admin/home.html", outbox_counts=outbox_counts())


@bp.route("/outbox")
@requires(ADMIN)
def outbox():
    status = request.args.get("status", "")
    page = query_page()
    messages = db.paginate(outbox_listing(status), page=page, per_page=PAGE_SIZE, error_out=False)
    record_access("outbox", scope=f"status {status}" if status else "")
    return render_template("admin/outbox.html", messages=messages, status=status,
                           counts=outbox_counts())


@bp.route("/outbox/<int:message_id>")
@requires(ADMIN)
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    recipient = find_user_by_email(parseaddr(message.recipient)[1])  # None: the L&D team, say
    record_access("outbox", subject_user_id=recipient.id if recipient else None,
                  scope=f"message {message.id}")
    return render_template("admin/outbox_message.html", message=message,
                           text_body=mask_secret_links(outbox_text(message)))


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@requires(ADMIN)
def outbox_retry(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    if message.status != FAILED:
        flash("Only a message that failed can be tried again.", "error")
    elif message.content_removed_at is not None:
        flash("This message’s content was removed under the retention rules, so it cannot be sent again.",
              "error")
    else:
        retry_message(message)
        db.session.commit()
        flash("The message will be sent on the next run.", "success")
    return redirect(url_for("admin.outbox_message", message_id=message.id))


@bp.route("/outbox/retry-failed", methods=["POST"])
@requires(ADMIN)
def outbox_retry_failed():
    count = retry_failed_messages()
    db.session.commit()
    if count:
        flash(f"{count} failed message{'s' if count != 1 else ''} will be sent again on the next run.", "success")
    else:
        flash("There are no failed messages to try again.", "info")
    return redirect(url_for("admin.outbox", status=FAILED))
