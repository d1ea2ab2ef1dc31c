if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""Audit viewer, CSV export, chain check, and the security events the app records."""
import csv
import io

from app.core.flask_db import get_db
from tests.conftest import login, mysql_url, require_mysql

ADMIN = "admin@origin.com"
STAFF = "operations@origin.com"


def actions(app):
    with app.app_context():
        return [r["action"] for r in get_db().fetch_all("SELECT action FROM audit_trail ORDER BY id")]


def test_sign_in_failure_logout_and_refusals_are_audited(seeded, client):
    login(client, ADMIN, "wrong")
    login(client, ADMIN)
    staff = seeded.test_client()
    login(staff, STAFF)
    assert staff.get("/audit/").status_code == 403       # role refusal
    from tests.conftest import post_form
    post_form(client, "/auth/logout")
    recorded = actions(seeded)
    for action in ("login_failed", "login", "access_denied", "logout"):
        assert action in recorded, action


def test_only_admin_sees_the_viewer(seeded, client):
    login(client, STAFF)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    admin = seeded.test_client()
    login(admin, ADMIN)
    page = admin.get("/audit/")
    assert page.status_code == 200 and "student_created" in page.get_data(as_text=True)


def test_filters_and_detail_page(seeded, client):
    login(client, ADMIN)
    html = client.get("/audit/?action=login").get_data(as_text=True)
    assert "<code>login</code>" in html and "<code>student_created</code>" not in html
    bad = client.get("/audit/?date_from=2026-13-45")
    assert bad.status_code == 200 and "not a valid date" in bad.get_data(as_text=True)
    with seeded.app_context():
        audit_id = get_db().fetch_value("SELECT MIN(id) AS id FROM audit_trail")
    assert client.get(f"/audit/{audit_id}").status_code == 200
    assert client.get("/audit/99999999").status_code == 404


def test_csv_export_is_spreadsheet_safe_and_audited(seeded, client):
    with seeded.app_context():
        db = get_db()
        db.insert("audit_trail", {"action": "note", "details": "=HYPERLINK(\"http://x\")", "created_at": "2026-01-01 00:00:00"})
    login(client, ADMIN)
    response = client.get("/audit/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "id" and len(rows) > 2
    details = [r[8] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://x\")" in details
    assert "audit_exported" in actions(seeded)


def test_verify_page_and_command_detect_tampering(seeded, client, runner):
    login(client, ADMIN)
    assert "The chain is intact" in client.get("/audit/verify").get_data(as_text=True)
    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    with seeded.app_context():
        db = get_db()
        target = db.fetch_value("SELECT MAX(id) AS id FROM audit_trail WHERE row_hash IS NOT NULL")
        db.execute("UPDATE audit_trail SET action = 'tampered' WHERE id = :id", {"id": target})
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 1 and f"row {target}" in result.output
    assert "Tampering detected" in client.get("/audit/verify").get_data(as_text=True)


def test_print_grants_makes_audit_append_only(tmp_path):
    require_mysql()
    from app.bootstrap import create_app
    from tests.conftest import app_overrides

    app = create_app(app_overrides(mysql_url(), tmp_path))
    result = app.test_cli_runner().invoke(args=["print-grants", "--user", "origin_app"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    audit_line = [line for line in lines if "`audit_trail`" in line][0]
    assert audit_line.startswith("GRANT SELECT, INSERT ON") and "UPDATE" not in audit_line
    assert any("`users`" in line and "UPDATE, DELETE" in line for line in lines)
