"""Administration home and the outbox."""
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.accounts.access import ADMIN, requires
from app.admin import bp
from app.email import FAILED, QUEUED, SENT, OutboxMessage, retry_message
from app.extensions import db
from app.urls import mask_secret_links

PAGE_SIZE = 50


@bp.route("/")
@requires(ADMIN)
def home():
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template("admin/home.html", outbox_counts=counts)


@bp.route("/outbox")
@requires(ADMIN)
def outbox():
    status = request.args.get("status", "")
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in (QUEUED, SENT, FAILED):
        query = query.where(OutboxMessage.status == status)
    messages = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/outbox.html", messages=messages, status=status)


@bp.route("/outbox/<int:message_id>")
@requires(ADMIN)
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("admin/outbox_message.html", message=message,
                           text_body=mask_secret_links(message.text_body))


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@requires(ADMIN)
def outbox_retry(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    if message.status != FAILED:
        flash("Only a message that failed can be tried again.", "error")
    else:
        retry_message(message)
        db.session.commit()
        flash("The message will be sent on the next run.", "success")
    return redirect(url_for("admin.outbox_message", message_id=message.id))
