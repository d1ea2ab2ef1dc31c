"""Documents: upload on a student profile, download (streamed as an attachment), delete."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, send_file, url_for

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.web import form_failure, section_failed, see_other
from app.forms.documents import UploadForm
from app.forms.students import ActionForm
from app.blueprints.students import render_profile, section_url
from app.services import documents, students

bp = Blueprint("documents", __name__)

DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Cache-Control": "private, no-store",
}


@bp.post("/students/<int:student_id>/documents")
@roles_required("admin", "staff", "student")
def upload(student_id: int):
    db, actor = get_db(), current_actor()
    students.get_student(db, actor, student_id)  # 404 outside the scope, before the file is looked at
    form = UploadForm()
    status = 422
    if form.validate():
        file = form.document.data
        try:
            stored = documents.upload(
                db, actor, student_id, file.filename, file.stream,
                {"category": form.category.data, "expiry_date": form.expiry_date.data,
                 "description": form.description.data},
                clock.now(),
                upload_dir=current_app.config["UPLOAD_DIR"],
                max_bytes=int(current_app.config["MAX_UPLOAD_BYTES"]),
            )
        except AppError as exc:  # 413 (too large) goes to the error page, like 403/404
            status = form_failure(form, exc)
        else:
            flash(f"Document “{stored.file_name}” uploaded.", "success")
            return see_other(section_url(student_id, "documents"))
    return render_profile(student_id, upload_form=form, status=status,
                          **section_failed(form, "The document was not uploaded",
                                           section_url(student_id, "documents"), "upload-form"))


@bp.get("/documents/<int:document_id>/download")
@roles_required(*ANY_ROLE)
def download(document_id: int):
    found = documents.open_download(get_db(), current_actor(), document_id, clock.now(),
                                    upload_dir=current_app.config["UPLOAD_DIR"])
    response = send_file(found.path, mimetype=found.mime_type, as_attachment=True,
                         download_name=found.download_name, conditional=False, etag=False, max_age=None)
    response.headers.update(DOWNLOAD_HEADERS)
    return response


@bp.post("/documents/<int:document_id>/delete")
@roles_required("admin", "staff")
def delete(document_id: int):
    ActionForm()  # CSRF is checked globally; the form documents the intent
    doc = documents.delete(get_db(), current_actor(), document_id, clock.now(),
                           upload_dir=current_app.config["UPLOAD_DIR"])
    flash(f"Document “{doc['file_name']}” deleted.", "success")
    if doc.get("student_id"):
        return see_other(section_url(doc["student_id"], "documents"))
    return see_other(url_for("dashboard.index"))
