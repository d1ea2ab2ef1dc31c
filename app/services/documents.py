"""Student documents: upload, download, delete.

Allowed: pdf, doc, docx, jpg, jpeg, png up to MAX_UPLOAD_BYTES (5 MiB by default; one byte more
is a 413). The type is decided by the content (magic bytes) and must agree with the extension of
the client's file name; the client's MIME type is ignored. Files are stored under UPLOAD_DIR
(outside static/) as ``<random hex>.<ext>``, written only once the student is found in the
actor's scope, and removed again if the database insert fails. Downloads go through the same
scope (owner student, admin, staff of the student's branch, instructors of the student) and are
audited; deletions (office only) remove the row and the file and audit the before snapshot.

Fixes over the original (spec 4.9, 8.2.6): content sniffing, files outside the web root, random
names, the owner is checked before anything is written, deletion and expiry exist, students can
upload their own documents, and the download file name is sanitised.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Mapping

from werkzeug.utils import secure_filename

from app.core.database import Database
from app.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from app.core.params import MAX_DATE, MIN_DATE
from app.dao.document import DocumentDAO
from app.services import audit
from app.services.scope import Actor
from app.services.students import document_tag, get_student, scope_for

log = logging.getLogger(__name__)

MIME_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
ALLOWED_EXTENSIONS = tuple(MIME_TYPES)
CATEGORIES = ("licence", "ID", "medical", "assessment", "other")
CATEGORY_LABELS = {"licence": "Licence", "ID": "ID", "medical": "Medical", "assessment": "Assessment",
                   "other": "Other"}
MAX_DESCRIPTION = 160
MAX_FILE_NAME = 160
UPLOAD_ROLES = ("admin", "staff", "student")

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MISSING_FILE = "The file of this document is no longer available. Ask the office to upload it again."


def size_label(n: int) -> str:
    """5242880 -> '5 MiB', 4096 -> '4 KiB', 1000 -> '1,000 bytes'."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n:,} bytes"


def canonical_category(value: Any) -> Any:
    """'Licence', 'id', ' OTHER ' -> the stored spelling; anything else unchanged (then refused)."""
    if not isinstance(value, str):
        return value
    wanted = value.strip().lower()
    for category in CATEGORIES:
        if category.lower() == wanted:
            return category
    return value.strip()


def category_label(value: str | None) -> str:
    if not value:
        return ""
    return CATEGORY_LABELS.get(canonical_category(value), value)


def sniff(data: bytes) -> str | None:
    """The type the bytes really are: 'pdf', 'png', 'jpg', 'doc', 'docx', or None."""
    if data.startswith(PDF_MAGIC):
        return "pdf"
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpg"
    if data.startswith(OLE_MAGIC):
        return "doc"
    if data.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:  # reads the directory only, never inflates
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            return None
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
    return None


def extension_of(file_name: str | None) -> str:
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def safe_file_name(file_name: str | None, extension: str) -> str:
    """werkzeug's secure_filename, with a fallback (it may return '') and the column's length limit."""
    name = secure_filename(file_name or "")
    if not name or extension_of(name) != extension:
        name = f"document.{extension}"
    if len(name) > MAX_FILE_NAME:
        stem = name[: MAX_FILE_NAME - len(extension) - 1].rstrip("._") or "document"
        name = f"{stem}.{extension}"
    return name


def _check_fields(category: Any, expiry_date: Any, description: Any) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    category = canonical_category(category)
    if category not in CATEGORIES:
        errors["category"] = ["Choose licence, ID, medical, assessment or other."]
    if expiry_date is not None and (not isinstance(expiry_date, date) or isinstance(expiry_date, datetime)
                                    or not MIN_DATE <= expiry_date <= MAX_DATE):
        errors["expiry_date"] = ["Enter a real date (YYYY-MM-DD)."]
    description = description.strip() or None if isinstance(description, str) else None
    if description and len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"At most {MAX_DESCRIPTION} characters."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors=errors)
    return {"category": category, "expiry_date": expiry_date, "notes": description}


@dataclass
class Stored:
    document_id: int
    file_name: str
    stored_name: str
    size: int
    mime_type: str
    sha256: str


def upload(db: Database, actor: Actor, student_id: int, file_name: str | None, stream: BinaryIO,
           fields: Mapping[str, Any], now: datetime, *, upload_dir: str | os.PathLike, max_bytes: int) -> Stored:
    """Check, store and record one upload; raises NotFound, PayloadTooLarge or ValidationFailed
    (field ``document`` for the file) and writes nothing in those cases."""
    if actor.role not in UPLOAD_ROLES:
        raise NotFound("Student not found")
    student = get_student(db, actor, student_id)  # scope first: nothing is read or written for a foreign id
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The file is too large. Files may be at most {size_label(max_bytes)}.")
    meta = _check_fields(fields.get("category"), fields.get("expiry_date"), fields.get("description"))
    extension = extension_of(file_name)
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationFailed("Upload a PDF, Word (.doc, .docx), JPEG or PNG file.", field="document")
    if not data:
        raise ValidationFailed("The file is empty.", field="document")
    kind = sniff(data)
    expected = "jpg" if extension == "jpeg" else extension
    if kind != expected:
        raise ValidationFailed(f"The file's content is not a real .{extension} file.", field="document")
    original = safe_file_name(file_name, extension)
    digest = hashlib.sha256(data).hexdigest()
    mime = MIME_TYPES[extension]

    directory = Path(upload_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    path = directory / stored_name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        row = {"user_id": student["user_id"], "file_name": original, "file_path": stored_name, "mime_type": mime,
               "file_size": len(data), "sha256": digest, "uploaded_by": actor.user_id or None, **meta}
        with db.transaction():
            document_id = DocumentDAO(db).insert(row, now)
            audit.record(db, actor, "student_document_uploaded", "student", student_id, now=now,
                         details=original, after={"document_id": document_id, **row})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Stored(document_id, original, stored_name, len(data), mime, digest)


def stored_path(upload_dir: str | os.PathLike, stored_name: str | None) -> Path | None:
    """The file's path when it is a regular file directly inside the upload directory, else None."""
    if not stored_name:
        return None
    base = Path(upload_dir).resolve()
    candidate = (base / stored_name).resolve()
    if candidate.parent != base or not candidate.is_file():
        return None
    return candidate


def _snapshot(doc: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "user_id", "file_name", "file_path", "mime_type", "file_size", "category", "notes",
            "expiry_date", "sha256", "uploaded_by", "created_at", "student_id")
    return {k: doc.get(k) for k in keys}


def _details(doc: Mapping[str, Any]) -> str:
    return f"{doc['file_name']} {document_tag(doc.get('student_id'))}".strip()


def get_document(db: Database, actor: Actor, document_id: int) -> dict:
    """The document if ``actor`` may see its owner (or owns it), else NotFound."""
    doc = DocumentDAO(db).find_for_scope(document_id, scope_for(actor), owner_user_id=actor.user_id or None)
    if doc is None:
        raise NotFound("Document not found")
    return doc


@dataclass
class Download:
    document: dict
    path: Path
    download_name: str
    mime_type: str


def open_download(db: Database, actor: Actor, document_id: int, now: datetime, *,
                  upload_dir: str | os.PathLike) -> Download:
    """Scope check, file check, then the ``document_downloaded`` audit row (before streaming)."""
    doc = get_document(db, actor, document_id)
    path = stored_path(upload_dir, doc["file_path"])
    if path is None:
        raise NotFound(MISSING_FILE)
    extension = extension_of(doc["file_path"])
    if extension not in MIME_TYPES:
        extension = extension_of(doc["file_name"])
    name = safe_file_name(doc["file_name"], extension) if extension else (secure_filename(doc["file_name"] or "")
                                                                          or "document")
    with db.transaction():
        audit.record(db, actor, "document_downloaded", "document", doc["id"], now=now, details=_details(doc))
    mime = MIME_TYPES.get(extension) or "application/octet-stream"
    return Download(doc, path, name, mime)


def delete(db: Database, actor: Actor, document_id: int, now: datetime, *, upload_dir: str | os.PathLike) -> dict:
    """Office only: delete the row (audited with its before snapshot), then the file."""
    if not actor.is_office:
        raise NotFound("Document not found")
    dao = DocumentDAO(db)
    with db.transaction():
        doc = dao.find_for_scope(document_id, scope_for(actor))
        if doc is None:
            raise NotFound("Document not found")
        dao.delete(document_id)
        audit.record(db, actor, "document_deleted", "document", document_id, now=now, details=_details(doc),
                     before=_snapshot(doc))
    path = stored_path(upload_dir, doc["file_path"])
    if path is not None:
        try:
            path.unlink()
        except OSError:  # the row is gone; a stray file is harmless and logged for clean-up
            log.warning("could not remove the file of deleted document %s: %s", document_id, path)
    return doc
