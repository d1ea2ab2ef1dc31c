"""Documents through the web (both backends, demo data): the upload corpus (real files accepted,
disguised ones refused, one byte over the limit is 413), nothing written on refusal, scope on
upload/download/delete, download headers, deletion removes the file, and the insert-failure clean-up."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import hashlib
import io
import os
import re
import struct
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import pytest

from app.core import clock
from app.core.errors import IntegrityViolation
from app.core.flask_db import get_db
from app.dao.document import DocumentDAO
from app.services import documents
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import app_overrides, csrf_token, login, post_form

ADMIN = "admin@origin.com"
STAFF_CBD = "operations@origin.com"       # CBD: Mia, Lucas
STAFF_BAYSIDE = "priya.raman@origin.com"  # Bayside: Jack, Noah
AMELIA = "amelia.ward@origin.com"         # teaches Jack
RAJ = "raj.patel@origin.com"              # teaches Mia
JACK = "jack.mason@student.com"
MIA = "mia.chen@student.com"


# --------------------------------------------------------------------------- a small corpus of real files

def _png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) \
        + chunk(b"IEND", b"")


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
PNG = _png()
# A 16x16 JPEG (CPython's test image Lib/test/imghdrdata/python.jpg, 543 bytes).
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010101000100010000ffdb00430003020202020203020202030303030406040404040408060605"
    "0609080a0a090809090a0c0f0c0a0b0e0b09090d110d0e0f101011100a0c12131210130f101010ffdb004301030303040304"
    "08040408100b090b101010101010101010101010101010101010101010101010101010101010101010101010101010101010"
    "1010101010101010ffc00011080010001003012200021101031101ffc4001600010101000000000000000000000000000704"
    "05ffc4002410000104010402020300000000000000000102030406050708121311220014093132ffc4001501010100000000"
    "000000000000000000000006ffc400231100010205030500000000000000000000010211030405062100123115166181e1ff"
    "da000c03010002110311003f0014a6d26a1b73c1e61312d4951cf31163e42565beba5aec694540b1e520b254a51fd2cab8fa"
    "f220ab963d976c9335e69b77d7e66da71781a5571c7f1cea71e24b39d7e32253f21a69ded4714a38b482e84b892a71691ecd"
    "2d213bf1efb91a74aceea15a758ed548ac655b858b81857b21299867a96b94b949654fb9c88529114b812af07ad9f23c807e"
    "55be0df662a140cce8e69a3d5cb743b3d77a6558b1d9512188bf64b8d3f1c3680429c0d0febb3c02e03c5407b4bdd97b54e6"
    "27fb6edf9460148262138db8529828370589727960e432896fc3828ea7528cea208dbe78191f07ad7fffd9"
)
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504  # OLE2 compound file header block


def _zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in entries.items():
            # a fixed timestamp: the bytes (and so the test ids) must not change between pytest-xdist
            # workers, which collect at different seconds and refuse to run when their ids differ
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text,
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


DOCX = _zip({
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                           'content-types"><Override PartName="/word/document.xml" ContentType="application/'
                           'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"/>',
    "word/document.xml": '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                         'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Medical</w:t></w:r></w:p>'
                         '</w:body></w:document>',
})
ZIP = _zip({"readme.txt": "just a zip"})
XLSX_LIKE = _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


# --------------------------------------------------------------------------- helpers

def _value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def _rows(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_all(sql, params or {})


def _student_id(app, email) -> int:
    return _value(app, "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e", {"e": email})


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _stored_files(app) -> list[str]:
    directory = Path(app.config["UPLOAD_DIR"])
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def _documents(app) -> int:
    return int(_value(app, "SELECT COUNT(*) AS n FROM documents") or 0)


def _upload(client, student_id, data: bytes, name: str, content_type="application/octet-stream", **fields):
    form = {"category": "licence", "description": "", "expiry_date": "", **fields}
    form["document"] = (io.BytesIO(data), name, content_type)
    form["csrf_token"] = csrf_token(client, "/dashboard/")
    return client.post(f"/students/{student_id}/documents", data=form, content_type="multipart/form-data")


@pytest.fixture
def small_limit(db_url, tmp_path):
    """An app with a 4 KiB file limit (the request limit stays larger, as in production)."""
    from app.core import passwords
    from app.services.seed import seed_demo
    from app.bootstrap import create_app

    app = create_app(app_overrides(db_url, tmp_path, MAX_UPLOAD_BYTES=4096))
    with app.app_context():
        seed_demo(get_db(), clock.now(), clock.today())
    yield app
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


# --------------------------------------------------------------------------- the corpus

@pytest.mark.parametrize("data,name,mime", [
    (PDF, "Learner permit.pdf", "application/pdf"),
    (PNG, "licence-front.PNG", "image/png"),
    (JPEG, "licence.jpg", "image/jpeg"),
    (JPEG, "licence.jpeg", "image/jpeg"),
    (DOCX, "medical.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (DOC, "assessment.doc", "application/msword"),
])
def test_real_files_are_accepted_and_stored_safely(seeded, data, name, mime):
    jack = _student_id(seeded, JACK)
    admin = _client(seeded, ADMIN)
    response = _upload(admin, jack, data, name, content_type="text/html", description="Front and back",
                       category="Licence", expiry_date="2027-06-30")
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    row = _rows(seeded, "SELECT id, user_id, file_name, file_path, mime_type, file_size, sha256, category, notes,"
                        " expiry_date, uploaded_by FROM documents ORDER BY id DESC LIMIT 1")[0]
    admin_id = _value(seeded, "SELECT id FROM users WHERE email = :e", {"e": ADMIN})
    assert row["user_id"] == _value(seeded, "SELECT user_id FROM students WHERE id = :id", {"id": jack})
    assert row["mime_type"] == mime  # sniffed, not the client's text/html
    assert row["file_size"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest()
    assert row["category"] == "licence" and row["notes"] == "Front and back" and str(row["expiry_date"]) == "2027-06-30"
    assert row["uploaded_by"] == admin_id
    assert row["file_name"] == name.replace(" ", "_")
    extension = name.rsplit(".", 1)[1].lower()
    assert re.fullmatch(rf"[0-9a-f]{{32}}\.{extension}", row["file_path"])
    stored = Path(seeded.config["UPLOAD_DIR"]) / row["file_path"]
    assert stored.read_bytes() == data
    assert oct(stored.stat().st_mode & 0o777) == "0o640"
    assert "static" not in stored.resolve().parts
    audit = _rows(seeded, "SELECT entity_type, entity_id, details FROM audit_trail"
                          " WHERE action = 'student_document_uploaded'")
    assert audit == [{"entity_type": "student", "entity_id": jack, "details": row["file_name"]}]
    html = admin.get(f"/students/{jack}").get_data(as_text=True)
    assert row["file_name"] in html and "Laura Matthews" in html


@pytest.mark.parametrize("data,name", [
    (HTML, "licence.pdf"),            # HTML renamed .pdf
    (ZIP, "licence.jpg"),             # a zip renamed .jpg
    (ZIP, "licence.docx"),            # a zip without word/
    (XLSX_LIKE, "licence.docx"),      # an office file that is not a Word document
    (ZIP, "licence.png"),
    (EXE, "setup.exe"),               # not an allowed extension
    (PDF, "licence.exe"),             # allowed content, refused extension
    (PDF, "licence.png"),             # content and extension disagree
    (PNG, "licence.pdf"),
    (JPEG, "licence"),                # no extension at all
    (b"<svg onload=alert(1)>", "logo.png"),
    (b"%PD", "short.pdf"),            # truncated signature
    (b"", "empty.pdf"),
])
def test_disguised_and_refused_uploads_are_422_and_write_nothing(seeded, data, name):
    jack = _student_id(seeded, JACK)
    admin = _client(seeded, ADMIN)
    before_rows, before_files = _documents(seeded), _stored_files(seeded)
    response = _upload(admin, jack, data, name, description="typed text")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="document-feedback"' in html and 'value="typed text"' in html
    assert _documents(seeded) == before_rows and _stored_files(seeded) == before_files
    assert int(_value(seeded, "SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'student_document_uploaded'")) == 0


def test_one_byte_over_the_limit_is_413_and_writes_nothing(small_limit):
    jack = _student_id(small_limit, JACK)
    admin = _client(small_limit, ADMIN)
    exact = PDF + b"%" * (4096 - len(PDF))
    assert _upload(admin, jack, exact, "exact.pdf").status_code == 303
    assert _documents(small_limit) == 2 and len(_stored_files(small_limit)) == 1
    response = _upload(admin, jack, exact + b"%", "over.pdf")
    assert response.status_code == 413 and "at most 4 KiB" in response.get_data(as_text=True)
    assert _documents(small_limit) == 2 and len(_stored_files(small_limit)) == 1


@pytest.mark.parametrize("fields,field", [
    ({"category": "passport"}, "category"),
    ({"category": ""}, "category"),
    ({"description": "d" * 161}, "description"),
    ({"expiry_date": "2027-02-30"}, "expiry_date"),
    ({"expiry_date": "31/12/2027"}, "expiry_date"),
    ({"expiry_date": "9999-12-31"}, "expiry_date"),
])
def test_field_validation_is_422_and_writes_nothing(seeded, fields, field):
    jack = _student_id(seeded, JACK)
    admin = _client(seeded, ADMIN)
    response = _upload(admin, jack, PDF, "scan.pdf", **fields)
    assert response.status_code == 422 and f'id="{field}-feedback"' in response.get_data(as_text=True)
    assert _documents(seeded) == 1 and _stored_files(seeded) == []


def test_missing_file_is_422(seeded):
    jack = _student_id(seeded, JACK)
    admin = _client(seeded, ADMIN)
    response = post_form(admin, f"/students/{jack}/documents", {"category": "licence"})
    assert response.status_code == 422 and 'id="document-feedback"' in response.get_data(as_text=True)
    assert _documents(seeded) == 1


def test_hostile_file_names_stay_inside_the_upload_directory(seeded):
    jack = _student_id(seeded, JACK)
    admin = _client(seeded, ADMIN)
    for name in ("../../etc/passwd.pdf", "..\\..\\boot.pdf", "/abs/path.pdf", "日本語.pdf", "my licence (copy);.pdf"):
        assert _upload(admin, jack, PDF, name).status_code == 303, name
    names = [r["file_name"] for r in _rows(seeded, "SELECT file_name FROM documents WHERE file_name <> "
                                                   "'Learner_Permit.pdf' ORDER BY id")]
    assert names == ["etc_passwd.pdf", "boot.pdf", "abs_path.pdf", "document.pdf", "my_licence_copy.pdf"]
    directory = Path(seeded.config["UPLOAD_DIR"]).resolve()
    for stored in _stored_files(seeded):
        assert (directory / stored).resolve().parent == directory and re.fullmatch(r"[0-9a-f]{32}\.pdf", stored)


# --------------------------------------------------------------------------- upload scope

def test_upload_scope(seeded):
    jack, mia = _student_id(seeded, JACK), _student_id(seeded, MIA)
    cases = [
        (STAFF_BAYSIDE, jack, 303), (STAFF_CBD, jack, 404),
        (JACK, jack, 303), (JACK, mia, 404),   # a student may upload their own (a fix over the original)
        (AMELIA, jack, 403), (ADMIN, 999999, 404),
    ]
    expected_rows = _documents(seeded)
    for email, student_id, status in cases:
        response = _upload(_client(seeded, email), student_id, PDF, "scan.pdf")
        assert response.status_code == status, (email, student_id)
        expected_rows += status == 303
        assert _documents(seeded) == expected_rows and len(_stored_files(seeded)) == expected_rows - 1
    jack_user = _value(seeded, "SELECT id FROM users WHERE email = :e", {"e": JACK})
    assert _value(seeded, "SELECT COUNT(*) AS n FROM documents WHERE uploaded_by = :u", {"u": jack_user}) == 1


def test_oversized_foreign_upload_is_404_not_413(small_limit):
    """Scope comes first: a foreign student's id never reveals anything, even for a big file."""
    mia = _student_id(small_limit, MIA)
    staff = _client(small_limit, STAFF_BAYSIDE)
    assert _upload(staff, mia, PDF + b"%" * 5000, "big.pdf").status_code == 404
    assert _stored_files(small_limit) == []


# --------------------------------------------------------------------------- download

def _uploaded(app, student_email=JACK, data=PDF, name="Licence scan.pdf"):
    admin = _client(app, ADMIN)
    assert _upload(admin, _student_id(app, student_email), data, name).status_code == 303
    return _value(app, "SELECT MAX(id) AS id FROM documents")


@pytest.mark.parametrize("viewer,status", [
    (ADMIN, 200), (STAFF_BAYSIDE, 200), (AMELIA, 200), (JACK, 200),
    (STAFF_CBD, 404), (RAJ, 404), (MIA, 404),
])
def test_download_scope_and_headers(seeded, viewer, status):
    document_id = _uploaded(seeded)
    response = _client(seeded, viewer).get(f"/documents/{document_id}/download")
    body = response.data
    response.close()
    assert response.status_code == status
    audits = int(_value(seeded, "SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'document_downloaded'"
                                " AND entity_id = :id", {"id": document_id}))
    if status != 200:
        assert audits == 0
        return
    assert body == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "Licence_scan.pdf" in disposition
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert audits == 1


def test_download_of_unknown_or_missing_file_is_404(seeded):
    admin = _client(seeded, ADMIN)
    assert admin.get("/documents/999999/download").status_code == 404
    assert admin.get("/documents/" + "9" * 30 + "/download").status_code == 404
    assert post_form(admin, "/documents/" + "9" * 30 + "/delete").status_code == 404
    assert _upload(admin, int("9" * 30), PDF, "x.pdf").status_code == 404
    seeded_doc = _value(seeded, "SELECT id FROM documents WHERE file_name = 'Learner_Permit.pdf'")
    response = admin.get(f"/documents/{seeded_doc}/download")  # the demo row has no file on disk
    assert response.status_code == 404 and "no longer available" in response.get_data(as_text=True)
    document_id = _uploaded(seeded)
    stored = _value(seeded, "SELECT file_path FROM documents WHERE id = :id", {"id": document_id})
    os.remove(Path(seeded.config["UPLOAD_DIR"]) / stored)
    assert admin.get(f"/documents/{document_id}/download").status_code == 404


def test_download_refuses_a_stored_path_outside_the_upload_directory(seeded):
    secret = Path(seeded.config["UPLOAD_DIR"]).parent / "secret.txt"
    secret.write_text("not yours")
    with seeded.app_context():
        db = get_db()
        jack_user = db.fetch_value("SELECT id FROM users WHERE email = :e", {"e": JACK})
        document_id = db.insert("documents", {"user_id": jack_user, "file_name": "x.pdf",
                                              "file_path": "../secret.txt", "created_at": clock.now()})
    response = _client(seeded, ADMIN).get(f"/documents/{document_id}/download")
    assert response.status_code == 404 and b"not yours" not in response.data


# --------------------------------------------------------------------------- delete

def test_delete_removes_row_and_file_with_audit(seeded):
    document_id = _uploaded(seeded)
    stored = _value(seeded, "SELECT file_path FROM documents WHERE id = :id", {"id": document_id})
    path = Path(seeded.config["UPLOAD_DIR"]) / stored
    assert path.exists()
    for email, status in ((STAFF_CBD, 404), (AMELIA, 403), (JACK, 403)):
        assert post_form(_client(seeded, email), f"/documents/{document_id}/delete").status_code == status, email
    assert path.exists() and _value(seeded, "SELECT id FROM documents WHERE id = :id", {"id": document_id})
    staff = _client(seeded, STAFF_BAYSIDE)
    assert staff.get(f"/documents/{document_id}/delete").status_code == 405
    response = post_form(staff, f"/documents/{document_id}/delete")
    jack = _student_id(seeded, JACK)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/students/{jack}#documents")
    assert not path.exists()
    assert _value(seeded, "SELECT id FROM documents WHERE id = :id", {"id": document_id}) is None
    entry = _rows(seeded, "SELECT entity_type, details, before_json FROM audit_trail WHERE action = 'document_deleted'")
    assert len(entry) == 1 and entry[0]["entity_type"] == "document"
    assert '"file_name":"Licence_scan.pdf"' in entry[0]["before_json"] and stored in entry[0]["before_json"]
    assert post_form(staff, f"/documents/{document_id}/delete").status_code == 404
    html = staff.get(f"/students/{jack}").get_data(as_text=True)
    assert "Document deleted" in html and "Licence_scan.pdf" in html  # the timeline keeps the event


def test_expiry_warnings_on_the_profile(seeded):
    jack = _student_id(seeded, JACK)
    admin = _client(seeded, ADMIN)
    today = clock.today()
    _upload(admin, jack, PDF, "soon.pdf", expiry_date=(today + timedelta(days=10)).isoformat())
    _upload(admin, jack, PDF, "old.pdf", expiry_date=(today - timedelta(days=1)).isoformat())
    html = admin.get(f"/students/{jack}").get_data(as_text=True)
    section = html[html.index('id="documents"'):html.index('id="communications"')]
    assert "Expires within 30 days" in section and "Expired" in section


# --------------------------------------------------------------------------- service: failure clean-up

def test_file_is_removed_when_the_database_insert_fails(db, tmp_path, monkeypatch):
    branch = f.make_branch(db)
    student = f.make_student(db, branch_id=branch)
    actor = Actor(user_id=f.make_user(db, role="admin"), role="admin")

    def broken_insert(self, data, now):
        raise IntegrityViolation("simulated failure")

    monkeypatch.setattr(DocumentDAO, "insert", broken_insert)
    with pytest.raises(IntegrityViolation):
        documents.upload(db, actor, student, "scan.pdf", io.BytesIO(PDF), {"category": "licence"}, f.NOW,
                         upload_dir=tmp_path / "up", max_bytes=4096)
    assert list((tmp_path / "up").iterdir()) == []
    assert db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail") == 0


def test_service_refuses_before_writing(db, tmp_path):
    home, away = f.make_branch(db), f.make_branch(db)
    student = f.make_student(db, branch_id=home)
    staff = Actor(user_id=f.make_user(db, role="staff", branch_id=away), role="staff", branch_id=away)
    instructor = Actor(user_id=f.make_user(db, role="instructor"), role="instructor", instructor_id=None)
    for actor in (staff, instructor):
        with pytest.raises(Exception) as refused:
            documents.upload(db, actor, student, "scan.pdf", io.BytesIO(PDF), {"category": "licence"}, f.NOW,
                             upload_dir=tmp_path / "up", max_bytes=4096)
        assert getattr(refused.value, "status", None) == 404
    assert not (tmp_path / "up").exists()


def test_a_failed_upload_names_the_problem_and_leaves_the_sections_get_address(seeded):
    jack = _student_id(seeded, JACK)
    admin = _client(seeded, ADMIN)
    profile = admin.get(f"/students/{jack}").get_data(as_text=True)
    assert f'action="/students/{jack}/documents#documents"' in profile and 'id="upload-form"' in profile
    response = _upload(admin, jack, HTML, "licence.pdf", description="Front of the licence")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-location="/students/{jack}#documents"' in html and 'data-focus-form="upload-form"' in html
    alert = re.search(r'<div class="alert alert-danger page-alert"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert alert.strip().startswith("The document was not uploaded: ") and 'href="#documents"' in alert
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="document"', html)
    assert 'value="Front of the licence"' in html  # typed values are kept
    uploaded = _upload(admin, jack, PDF, "scan.pdf")
    assert uploaded.status_code == 303 and uploaded.headers["Location"].endswith(f"/students/{jack}#documents")
