"""Pre-course material: the trainers' page to upload files and send them, and downloading them."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.accounts.access import ADMIN, TRAINER, requires, signed_in
from app.attendance import bp, queries
from app.attendance.forms import MaterialMessageForm, MaterialUploadForm
from app.attendance.materials import (
    MAX_FILES,
    add_material,
    can_download_materials,
    can_manage_materials,
    max_bytes,
    remove_material,
    send_materials,
)
from app.attendance.models import SessionMaterial
from app.courses.models import DRAFT, Session
from app.exports import download
from app.inputs import row_or_404
from app.refusals import refusals


def _session_to_manage(session_id: int) -> Session:
    session = row_or_404(Session, session_id)
    if session.status == DRAFT:
        abort(404)
    if not can_manage_materials(session, current_user):
        abort(403)
    return session


def _manage_page(session: Session, upload_form: MaterialUploadForm, message_form: MaterialMessageForm,
                 status: int = 200):
    return render_template(
        "attendance/materials.html", session=session, materials=queries.materials_of(session),
        upload_form=upload_form, message_form=message_form, confirmed=len(queries.confirmed_bookings_on(session)),
        max_files=MAX_FILES, max_mb=max_bytes() // (1024 * 1024),
    ), status


@bp.route("/registers/<int:session_id>/materials")
@requires(TRAINER, ADMIN)
def materials(session_id: int):
    session = _session_to_manage(session_id)
    return _manage_page(session, MaterialUploadForm(formdata=None), MaterialMessageForm(formdata=None))


@bp.route("/registers/<int:session_id>/materials/upload", methods=["POST"])
@requires(TRAINER, ADMIN)
def material_upload(session_id: int):
    session = _session_to_manage(session_id)
    form = MaterialUploadForm()
    if form.validate_on_submit():
        upload = form.upload.data
        name, data = "", b""
        if upload is not None and getattr(upload, "filename", ""):
            # One byte more than allowed is enough to refuse a file that is too big.
            name, data = upload.filename, upload.stream.read(max_bytes() + 1)
        with refusals(form, field="upload") as attempt:
            material = add_material(session, name, data, current_user)
        if not attempt.refused:
            flash(f"{material.name} added. Send a message below to tell the people booked.", "success")
            return redirect(url_for("attendance.materials", session_id=session.id))
    return _manage_page(session, form, MaterialMessageForm(formdata=None), 400)


@bp.route("/registers/<int:session_id>/materials/send", methods=["POST"])
@requires(TRAINER, ADMIN)
def material_send(session_id: int):
    session = _session_to_manage(session_id)
    form = MaterialMessageForm()
    if form.validate_on_submit():
        with refusals(form, field="message") as attempt:
            count = send_materials(session, form.message.data, current_user)
        if not attempt.refused:
            flash(f"Message sent to {count} {'person' if count == 1 else 'people'} with a confirmed place.", "success")
            return redirect(url_for("attendance.materials", session_id=session.id))
    return _manage_page(session, MaterialUploadForm(formdata=None), form, 400)


@bp.route("/registers/<int:session_id>/materials/<int:material_id>/remove", methods=["POST"])
@requires(TRAINER, ADMIN)
def material_remove(session_id: int, material_id: int):
    session = _session_to_manage(session_id)
    material = row_or_404(SessionMaterial, material_id, session_id=session.id)
    name = material.name
    with refusals() as attempt:
        remove_material(material, current_user)
    if not attempt.refused:
        flash(f"{name} removed.", "success")
    return redirect(url_for("attendance.materials", session_id=session.id))


def _session_to_read(session_id: int) -> Session:
    session = row_or_404(Session, session_id)
    # Not found rather than forbidden: whether a session has material is not for everyone to learn.
    if session.status == DRAFT or not can_download_materials(session, current_user):
        abort(404)
    return session


@bp.route("/sessions/<int:session_id>/materials")
@signed_in
def session_materials(session_id: int):
    session = _session_to_read(session_id)
    return render_template("attendance/session_materials.html", session=session,
                           materials=queries.materials_of(session),
                           manages=can_manage_materials(session, current_user))


@bp.route("/sessions/<int:session_id>/materials/<int:material_id>")
@signed_in
def material_download(session_id: int, material_id: int):
    session = _session_to_read(session_id)
    material = row_or_404(SessionMaterial, material_id, session_id=session.id)
    return download(material.content, material.name, material.content_type)
