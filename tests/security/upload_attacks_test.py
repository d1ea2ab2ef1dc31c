"""Upload attacks (ASVS 4.0.3 V12.1.1, V12.2.1, V12.3, V12.5.2; figure 8 of
shared/docs/security-reliability.md §7), SQLite, the demo school (small), one app for the module.

The corpus adds to tests/documents_views_test.py's (HTML renamed .pdf, a zip renamed .jpg/.png/.docx,
an .exe, content and extension disagreeing, an SVG with onload as .png, truncated and empty files):
PHP, HTML and Windows executables renamed .pdf and .jpg, a zip renamed .pdf, a GIF/JavaScript polyglot
renamed .jpg, an SVG with a script as .svg, double extensions, a NUL in the name. 100% are refused with
422 and nothing is written (no row, no file, no audit row).

A polyglot that does start with a real signature (a PDF header followed by HTML and script; a JPEG
header followed by PHP) is stored, but it can never run: its download is an attachment of the sniffed
type with nosniff and ``Content-Security-Policy: sandbox``, under a server-made name.

Covered elsewhere, not repeated: one byte over the limit is 413 and writes nothing
(tests/documents_views_test.py::test_one_byte_over_the_limit_is_413_and_writes_nothing); a foreign
download is 404 for every role (tests/access_matrix_test.py::test_document_download_is_the_owners_and_not_a_foreigners,
tests/documents_views_test.py::test_download_scope_and_headers); hostile file names stay in the upload
directory (tests/documents_views_test.py::test_hostile_file_names_stay_inside_the_upload_directory).
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from pathlib import Path

import pytest

import security_support as sec
from app.core import clock
from app.core.flask_db import get_db
from documents_views_test import EXE, HTML, JPEG, PDF, ZIP, _upload
from tests.conftest import login

PHP = b"<?php system($_GET['c']); ?>\n"
GIF_JS = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(document.domain);//" + b"\x00" * 16
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script>'
       b"</svg>")
DISGUISED = [
    (PHP, "licence.pdf"), (PHP, "licence.jpg"), (PHP, "licence.php"), (PHP, "licence.php.pdf"),
    (HTML, "licence.jpg"), (HTML, "licence.html"), (HTML, "licence.htm.pdf"),
    (EXE, "licence.pdf"), (EXE, "licence.jpg"), (EXE, "licence.pdf.exe"),
    (ZIP, "licence.pdf"), (GIF_JS, "licence.jpg"), (GIF_JS, "licence.gif"),
    (SVG, "licence.svg"), (SVG, "licence.pdf"), (SVG, "licence.jpg"),
    (PDF, "licence.pdf.html"), (PDF, "licence.svg"), (PDF, "licence\x00.pdf.html"),
]
POLYGLOTS = [  # a real signature, hostile content after it: stored, but served inert
    (b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n", "polyglot.pdf",
     "application/pdf"),
    (JPEG + PHP, "polyglot.jpg", "image/jpeg"),
]


@pytest.fixture(scope="module")
def school(sqlite_template, tmp_path_factory):
    from app.services.seed import seed_demo

    app = sec.build_app(tmp_path_factory.mktemp("upload_attacks"), sqlite_template)
    with app.app_context():
        seed_demo(get_db(), clock.now(), clock.today(), lived_in=False)
    yield app
    sec.restore_hashing()


def _count(app, sql, params=None):
    with app.app_context():
        return int(get_db().fetch_value(sql, params or {}) or 0)


def _state(app):
    directory = Path(app.config["UPLOAD_DIR"])
    files = sorted(p.name for p in directory.iterdir()) if directory.exists() else []
    return (_count(app, "SELECT COUNT(*) FROM documents"), files,
            _count(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'student_document_uploaded'"))


@pytest.fixture(scope="module")
def office(school):
    client = school.test_client()
    assert login(client, "admin@origin.com").status_code == 302
    jack = _count(school, "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                  {"e": "jack.mason@student.com"})
    return client, jack


def test_every_disguised_file_is_refused_and_nothing_is_written(school, office):
    client, jack = office
    before = _state(school)
    answers = {}
    for data, name in DISGUISED:
        response = _upload(client, jack, data, name, content_type="application/pdf")
        answers[name + f" ({data[:8]!r})"] = response.status_code
    refused = [k for k, status in answers.items() if status == 422]
    print(f"upload corpus: {len(refused)}/{len(DISGUISED)} disguised files refused")
    assert len(refused) == len(DISGUISED), {k: s for k, s in answers.items() if s != 422}
    assert _state(school) == before


@pytest.mark.parametrize("data,name,mime", POLYGLOTS)
def test_a_polyglot_with_a_real_signature_is_served_inert(school, office, data, name, mime):
    client, jack = office
    assert _upload(client, jack, data, name, content_type="text/html").status_code == 303
    with school.app_context():
        row = get_db().fetch_one("SELECT id, file_path, mime_type FROM documents ORDER BY id DESC LIMIT 1")
    assert row["mime_type"] == mime and re.fullmatch(r"[0-9a-f]{32}\.(pdf|jpg)", row["file_path"])
    response = client.get(f"/documents/{row['id']}/download")
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Type"] == mime
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    response.close()
