"""The L&D team's import of an e-learning provider's completions: upload, preview, apply or discard."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, requires
from app.attendance import bp, queries
from app.attendance.completion_import import (
    DUPLICATE,
    MATCHED,
    MAX_FILE_BYTES,
    NEW,
    UNMATCHED,
    CompletionRowsRefused,
    apply_upload,
    discard_upload,
    preview_completions,
    upload_completions,
    upload_rows,
)
from app.attendance.forms import CompletionUploadForm
from app.attendance.models import UPLOAD_PENDING, CompletionUpload
from app.inputs import row_or_404
from app.refusals import refusals

KINDS_SHOWN = (MATCHED, NEW, UNMATCHED, DUPLICATE)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@bp.route("/admin/e-learning-completions", methods=["GET", "POST"])
@requires(ADMIN)
def completion_upload():
    form = CompletionUploadForm()
    problems = None
    if form.validate_on_submit():
        storage = form.file.data
        if storage is None or not getattr(storage, "filename", ""):
            form.file.errors = list(form.file.errors) + ["Choose a CSV or XLSX file to upload"]
        else:
            # One byte past the limit is enough to refuse it, without reading a huge file.
            data = storage.stream.read(MAX_FILE_BYTES + 1)
            with refusals(form, field="file") as attempt:
                upload = upload_completions(data, storage.filename, current_user)
            if not attempt.refused:
                return redirect(url_for(".completion_preview", upload_id=upload.id))
            if isinstance(attempt.error, CompletionRowsRefused):
                problems = attempt.error.lines
    status = 422 if (problems or form.errors) else 200
    return render_template("attendance/completion_upload.html", form=form, problems=problems,
                           past=queries.past_completion_uploads()), status


def _upload_or_404(upload_id: int) -> CompletionUpload:
    # Only the person who uploaded a file sees its rows (names and addresses from outside).
    return row_or_404(CompletionUpload, upload_id, uploaded_by_id=current_user.id)


@bp.route("/admin/e-learning-completions/<int:upload_id>")
@requires(ADMIN)
def completion_preview(upload_id: int):
    upload = _upload_or_404(upload_id)
    if upload.status != UPLOAD_PENDING:
        flash("That file has already been applied or discarded.", "info")
        return redirect(url_for(".completion_upload"))
    # The rows were checked when the file was uploaded; matching them again shows today's accounts.
    preview = preview_completions(upload_rows(upload), current_user)
    record_access("completion_import", scope=f"completion upload {upload.id}")
    return render_template("attendance/completion_preview.html", upload=upload, preview=preview,
                           kinds=KINDS_SHOWN)


@bp.route("/admin/e-learning-completions/<int:upload_id>/apply", methods=["POST"])
@requires(ADMIN)
def completion_apply(upload_id: int):
    upload = _upload_or_404(upload_id)
    with refusals() as attempt:
        apply_upload(upload, current_user)
    if attempt.refused:
        return redirect(url_for(".completion_upload"))
    flash(f"Recorded {_count(upload.recorded, 'completion')} ({_count(upload.accounts_opened, 'new account')}); "
          f"{_count(upload.skipped, 'row')} not recorded.", "success")
    return redirect(url_for(".completion_upload"))


@bp.route("/admin/e-learning-completions/<int:upload_id>/discard", methods=["POST"])
@requires(ADMIN)
def completion_discard(upload_id: int):
    upload = _upload_or_404(upload_id)
    with refusals() as attempt:
        discard_upload(upload, current_user)
    if not attempt.refused:
        flash("The file was discarded; nothing was recorded.", "success")
    return redirect(url_for(".completion_upload"))
