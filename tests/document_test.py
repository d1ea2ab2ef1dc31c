"""DocumentDAO on both backends (metadata, owner scope, delete) and the content checks of
services.documents (magic bytes, file names) that need no database."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import io
import zipfile
from datetime import date, datetime, timedelta

import pytest

from app.dao.document import DocumentDAO
from app.dao.student import NOTHING, StudentScope
from app.services import documents
from tests import factories as f

NOW = datetime(2026, 3, 10, 2, 30, 0)
ALL = StudentScope(everything=True)


def _doc(db, user_id, **overrides):
    row = {"user_id": user_id, "file_name": "scan.pdf", "file_path": "a" * 32 + ".pdf", "mime_type": "application/pdf",
           "file_size": 1234, "category": "licence", "notes": "Front and back", "expiry_date": date(2027, 1, 1),
           "sha256": "b" * 64, "uploaded_by": None}
    row.update(overrides)
    return DocumentDAO(db).insert(row, overrides.pop("now", NOW))


def test_insert_find_and_list_with_uploader(db):
    student_user = f.make_user(db)
    f.make_student(db, user_id=student_user)
    uploader = f.make_user(db, role="staff", first_name="Oliver", last_name="Grant")
    dao = DocumentDAO(db)
    older = _doc(db, student_user, uploaded_by=uploader)
    newer = DocumentDAO(db).insert({"user_id": student_user, "file_name": "id.png", "file_path": "c" * 32 + ".png",
                                    "mime_type": "image/png", "file_size": 10, "category": "ID"},
                                   NOW + timedelta(minutes=1))
    _doc(db, f.make_user(db))
    found = dao.find(older)
    assert found["sha256"] == "b" * 64 and found["expiry_date"] == date(2027, 1, 1)
    assert found["uploaded_by"] == uploader and found["created_at"] == NOW and found["file_size"] == 1234
    rows = dao.for_user(student_user)
    assert [r["id"] for r in rows] == [newer, older]
    assert rows[1]["uploader_first_name"] == "Oliver" and rows[0]["uploader_first_name"] is None
    assert len(dao.for_user(student_user, limit=1)) == 1
    assert dao.find(newer + 1000) is None


def test_find_for_scope_follows_the_owner_student(db):
    home, away = f.make_branch(db), f.make_branch(db)
    owner_user = f.make_user(db, branch_id=home)
    owner = f.make_student(db, user_id=owner_user, branch_id=home)
    teacher, stranger = f.make_instructor(db), f.make_instructor(db)
    f.make_schedule(db, enrollment_id=f.make_enrollment(db, student_id=owner), instructor_id=teacher)
    doc = _doc(db, owner_user)
    dao = DocumentDAO(db)
    visible = [ALL, StudentScope(branch_id=home), StudentScope(instructor_id=teacher), StudentScope(student_id=owner)]
    hidden = [StudentScope(branch_id=away), StudentScope(instructor_id=stranger),
              StudentScope(student_id=owner + 1000), NOTHING]
    for scope in visible:
        found = dao.find_for_scope(doc, scope)
        assert found is not None and found["student_id"] == owner and found["student_branch_id"] == home, scope
    for scope in hidden:
        assert dao.find_for_scope(doc, scope) is None, scope
    assert dao.find_for_scope(doc, NOTHING, owner_user_id=owner_user) is not None  # the owner's own file
    assert dao.find_for_scope(doc, NOTHING, owner_user_id=owner_user + 1) is None


def test_document_of_an_account_without_student_profile(db):
    staff_user = f.make_user(db, role="staff", branch_id=f.make_branch(db))
    doc = _doc(db, staff_user)
    dao = DocumentDAO(db)
    found = dao.find_for_scope(doc, ALL)
    assert found["student_id"] is None
    assert dao.find_for_scope(doc, StudentScope(branch_id=-1)) is None
    assert dao.find_for_scope(doc, NOTHING, owner_user_id=staff_user)["id"] == doc


def test_owner_with_two_profiles_uses_the_oldest(db):
    user = f.make_user(db)
    first = f.make_student(db, user_id=user)
    f.make_student(db, user_id=user)
    doc = _doc(db, user)
    assert DocumentDAO(db).find_for_scope(doc, ALL)["student_id"] == first


def test_delete(db):
    user = f.make_user(db)
    keep, gone = _doc(db, user), _doc(db, user)
    dao = DocumentDAO(db)
    assert dao.delete(gone) == 1 and dao.delete(gone) == 0
    assert dao.find(gone) is None and dao.find(keep) is not None


# --------------------------------------------------------------------------- content checks (no database)

def _zip(names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:  # a fixed timestamp: stable bytes, so stable test ids across xdist workers
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize("data,kind", [
    (b"%PDF-1.4\n%%EOF\n", "pdf"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 8, "jpg"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8, "doc"),
    (_zip(["[Content_Types].xml", "word/document.xml"]), "docx"),
    (_zip(["[Content_Types].xml", "xl/workbook.xml"]), None),  # a spreadsheet is not a Word file
    (_zip(["readme.txt"]), None),
    (b"PK\x03\x04 truncated", None),
    (b"<html><script>alert(1)</script></html>", None),
    (b"MZ\x90\x00", None),  # a Windows executable
    (b"", None),
])
def test_sniff_decides_by_content(data, kind):
    assert documents.sniff(data) == kind


@pytest.mark.parametrize("name,ext,expected", [
    ("Learner Permit.PDF", "pdf", "Learner_Permit.PDF"),
    ("../../etc/passwd.pdf", "pdf", "etc_passwd.pdf"),
    ("..\\..\\x.pdf", "pdf", "x.pdf"),
    ("日本語.pdf", "pdf", "document.pdf"),  # secure_filename leaves "pdf": fallback
    ("ファイル", "png", "document.png"),
    ("", "jpg", "document.jpg"),
    ("a" * 300 + ".docx", "docx", "a" * 155 + ".docx"),
])
def test_safe_file_name(name, ext, expected):
    result = documents.safe_file_name(name, ext)
    assert result == expected
    assert len(result) <= 160 and "/" not in result and "\\" not in result


def test_extension_and_category_helpers():
    assert documents.extension_of("scan.Final.JPEG") == "jpeg"
    assert documents.extension_of("C:\\Users\\me\\scan.pdf") == "pdf"
    assert documents.extension_of("noextension") == ""
    assert documents.canonical_category(" Licence ") == "licence"
    assert documents.canonical_category("id") == "ID"
    assert documents.canonical_category("passport") == "passport"
    assert documents.category_label("ID") == "ID" and documents.category_label("medical") == "Medical"


def test_size_label():
    assert documents.size_label(5 * 1024 * 1024) == "5 MiB"
    assert documents.size_label(4096) == "4 KiB"
    assert documents.size_label(1000) == "1,000 bytes"
