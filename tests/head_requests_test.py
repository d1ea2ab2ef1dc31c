"""HEAD is answered like GET and never runs a form's POST branch (CSRF protection lets HEAD through as
a safe method, so a view that ran its write path for it would be a state change without a token)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import pytest

from tests.conftest import login

ADMIN = "admin@origin.com"


def _count(app, table):
    from app.core.flask_db import get_db

    with app.app_context():
        return get_db().fetch_value(f"SELECT COUNT(*) FROM {table}", cast=int)


def test_head_on_the_sign_in_page_is_200_like_get(seeded, client):
    get, head = client.get("/auth/login"), client.head("/auth/login")
    assert get.status_code == head.status_code == 200
    assert head.get_data() == b""


def test_head_on_form_pages_writes_nothing(seeded, client):
    from app.core.flask_db import get_db

    with seeded.app_context():
        enrollment_id = get_db().fetch_value("SELECT MIN(id) FROM enrollments", cast=int)
    login(client, ADMIN)
    before = {t: _count(seeded, t) for t in ("invoices", "students", "branches", "courses", "staff_profiles")}
    for path in (f"/invoices/new?enrollment_id={enrollment_id}", "/students/new", "/branches/new", "/courses/new",
                 "/staff/new", "/account/email"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
    assert {t: _count(seeded, t) for t in before} == before
