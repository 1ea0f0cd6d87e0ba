"""A learner's training record and certificates, and checking a certificate's code (public)."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.access import public, signed_in
from app.attendance import bp, pdfs, queries
from app.attendance.certificates import certificate_refusals, issue_certificate, verify_certificate
from app.attendance.forms import CertificateVerifyForm
from app.attendance.dates import session_days
from app.attendance.suspensions import active_suspension
from app.bookings.models import Booking
from app.clock import today_london
from app.exports import csv_download, file_slug, pdf_download
from app.inputs import row_or_404
from app.urls import external_url


def _record_rows():
    rows = queries.training_record(current_user)
    return rows, queries.total_hours(rows)


@bp.route("/my-training")
@signed_in
def training_record():
    rows, total = _record_rows()
    certificates = [(b, certificate_refusals(b)) for b in queries.marked_bookings(current_user)]
    return render_template("attendance/training_record.html", rows=rows, total=total,
                           certificates=certificates, suspension=active_suspension(current_user),
                           single_agency=queries.single_agency_training_of(current_user))


@bp.route("/my-training.csv")
@signed_in
def training_record_csv():
    rows, _total = _record_rows()
    header = ["Course", "Course code", "Level", "Completed on", "Hours", "How", "Refresher due",
              "Refresher"]
    data = [[r.course.title, r.course.code, r.level, r.completed_on, r.hours, r.source_label,
             r.refresher_due, r.refresher_state] for r in rows]
    data += [[t.title, t.course.code if t.course else "", t.level.name if t.level else "", t.held_on, t.hours,
              f"Single-agency training ({t.agency.name})", "", ""]
             for t in queries.single_agency_training_of(current_user)]
    return csv_download(f"training-record-{file_slug(current_user.name)}.csv", header, data)


@bp.route("/my-training.pdf")
@signed_in
def training_record_pdf():
    rows, total = _record_rows()
    data = pdfs.training_record(current_user, rows, total, today_london())
    return pdf_download(data, f"training-record-{file_slug(current_user.name)}.pdf")


@bp.route("/my-training/certificates/<int:booking_id>")
@signed_in
def certificate(booking_id: int):
    booking = row_or_404(Booking, booking_id, user_id=current_user.id)
    return render_template("attendance/certificate.html", booking=booking,
                           refusals=certificate_refusals(booking), days=session_days(booking.session))


@bp.route("/my-training/certificates/<int:booking_id>.pdf")
@signed_in
def certificate_pdf(booking_id: int):
    booking = row_or_404(Booking, booking_id, user_id=current_user.id)
    if certificate_refusals(booking):
        return redirect(url_for("attendance.certificate", booking_id=booking.id))
    issued = issue_certificate(booking)  # made when attendance was marked: this only reads
    data = pdfs.certificate(booking, issued.code, external_url("attendance.verify"))
    return pdf_download(data, f"certificate-{file_slug(booking.session.course.title)}.pdf")


@bp.route("/certificates/verify")
@public
def verify():
    form = CertificateVerifyForm(request.args)
    result = None
    checked = False
    if request.args.get("code") is not None and form.validate():
        checked = True
        result = verify_certificate(form.code.data)
    return render_template("attendance/verify.html", form=form, result=result, checked=checked,
                           days=session_days(result.booking.session) if result else [])
