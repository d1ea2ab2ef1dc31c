"""The branch booking-policy page (``/branches/<id>/policy``) with the test client: admin only (staff read
the policy on the branch page, without the edit link; the page itself is 403 for them), hours and weeks
converted to the stored minutes and days, saved and audited; out-of-range values answer 422 naming the
field, keep what was typed and store nothing; a stored value that is not a whole number of the page's
unit survives an unrelated edit; an unknown branch is 404."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as html_lib
import re

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

DEFAULTS = {"min_notice_hours": "12", "horizon_weeks": "8", "max_lessons_per_week": "3", "cancel_cutoff_hours": "24",
            "slot_grid_minutes": "15", "buffer_minutes": "0"}


@pytest.fixture
def world(app):
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db, name="Bayside")
        for role, email, home in (("admin", "admin@x.com", None), ("staff", "staff@x.com", branch)):
            f.make_user(db, role=role, branch_id=home, email=email,
                        password_hash=passwords.hash_password(DEMO_PASSWORD))
    return {"branch": branch}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _text(response) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _stored(app, branch):
    with app.app_context():
        return get_db().fetch_one(
            "SELECT min_notice_minutes, horizon_days, max_lessons_per_week, cancel_cutoff_minutes,"
            " students_any_instructor, slot_grid_minutes, buffer_minutes FROM branch_booking_policies"
            " WHERE branch_id = :b", {"b": branch})


def _save(client, branch, **changes):
    data = {**DEFAULTS, **changes, "csrf_token": csrf_token(client, f"/branches/{branch}/policy")}
    return client.post(f"/branches/{branch}/policy", data={k: v for k, v in data.items() if v is not None})


def test_the_admin_edits_the_policy_and_the_branch_page_shows_it(app, world):
    branch = world["branch"]
    admin = _client(app, "admin@x.com")
    page = admin.get(f"/branches/{branch}/policy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name, value in DEFAULTS.items():
        if name != "slot_grid_minutes":
            assert re.search(rf'name="{name}"[^>]*value="{value}"|value="{value}"[^>]*name="{name}"', html), name
    assert "the school’s defaults" in _text(admin.get(f"/branches/{branch}"))
    response = _save(admin, branch, min_notice_hours="2.5", horizon_weeks="4", max_lessons_per_week="5",
                     cancel_cutoff_hours="48", students_any_instructor="y", slot_grid_minutes="30",
                     buffer_minutes="10")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/branches/{branch}#booking-policy")
    assert _stored(app, branch) == {"min_notice_minutes": 150, "horizon_days": 28, "max_lessons_per_week": 5,
                                    "cancel_cutoff_minutes": 2880, "students_any_instructor": 1,
                                    "slot_grid_minutes": 30, "buffer_minutes": 10}
    with app.app_context():
        assert get_db().fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'branch_policy_updated'") == 1
    text = _text(admin.get(f"/branches/{branch}"))
    assert "Booking policy" in text and "150 minutes before the lesson" in text and "4 weeks ahead" in text
    assert "any instructor of the branch" in text and "Edit booking policy" in text

    staff = _client(app, "staff@x.com")
    text = _text(staff.get(f"/branches/{branch}"))
    assert "48 hours before the lesson" in text and "Edit booking policy" not in text
    assert staff.get(f"/branches/{branch}/policy").status_code == 403
    assert staff.post(f"/branches/{branch}/policy", data={"csrf_token": csrf_token(staff, "/dashboard/")}
                      ).status_code == 403


@pytest.mark.parametrize("field, value, message", [
    ("min_notice_hours", "200", "Minimum notice must be 0 to 168 hours"),
    ("horizon_weeks", "0", "The booking horizon must be 1 to 52 whole weeks."),
    ("horizon_weeks", "2.5", "The booking horizon must be 1 to 52 whole weeks."),
    ("max_lessons_per_week", "lots", "The weekly limit must be 1 to 21 lessons."),
    ("cancel_cutoff_hours", "-1", "The cancellation cut-off must be 0 to 168 hours"),
    ("buffer_minutes", "121", "The buffer must be 0 to 120 minutes."),
    ("slot_grid_minutes", "7", "Choose 5, 10, 15, 30 or 60 minutes."),
])
def test_out_of_range_values_are_422_naming_the_field_and_nothing_is_stored(app, world, field, value, message):
    admin = _client(app, "admin@x.com")
    response = _save(admin, world["branch"], **{field: value, "max_lessons_per_week": "4"} if field != "max_lessons_per_week"
                     else {field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html_lib.unescape(html)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', html) or \
        re.search(rf'<[^>]*name="{field}"[^>]*is-invalid|is-invalid[^>]*name="{field}"', html), field
    if field != "slot_grid_minutes":
        assert f'value="{value}"' in html  # what was typed is kept
    assert _stored(app, world["branch"]) is None


def test_an_unchanged_odd_value_survives_and_nothing_changed_says_so(app, world):
    branch = world["branch"]
    with app.app_context():
        get_db().insert("branch_booking_policies", {"branch_id": branch, "min_notice_minutes": 90, "horizon_days": 30,
                                                    "max_lessons_per_week": 3, "cancel_cutoff_minutes": 1440,
                                                    "students_any_instructor": 0, "slot_grid_minutes": 15,
                                                    "buffer_minutes": 0})
    admin = _client(app, "admin@x.com")
    html = admin.get(f"/branches/{branch}/policy").get_data(as_text=True)
    assert 'value="1.5"' in html and 'value="4.29"' in html
    response = _save(admin, branch, min_notice_hours="1.5", horizon_weeks="4.29")
    assert response.status_code == 303
    assert "Nothing changed" in _text(admin.get(f"/branches/{branch}"))
    _save(admin, branch, min_notice_hours="1.5", horizon_weeks="4.29", max_lessons_per_week="6")
    stored = _stored(app, branch)
    assert (stored["min_notice_minutes"], stored["horizon_days"], stored["max_lessons_per_week"]) == (90, 30, 6)


def test_an_unknown_branch_is_404(app, world):
    admin = _client(app, "admin@x.com")
    assert admin.get(f"/branches/{world['branch'] + 999}/policy").status_code == 404
    assert admin.post(f"/branches/{world['branch'] + 999}/policy",
                      data={"csrf_token": csrf_token(admin, "/dashboard/")}).status_code == 404


def test_the_fee_settings_are_saved_shown_and_checked(app, world):
    branch = world["branch"]
    admin = _client(app, "admin@x.com")
    html = admin.get(f"/branches/{branch}/policy").get_data(as_text=True)
    assert 'name="late_cancel_fee"' in html and 'name="no_show_fee"' in html and 'name="no_show_consumes"' in html
    bad = _save(admin, branch, late_cancel_fee="12.345")
    assert bad.status_code == 422 and 'value="12.345"' in bad.get_data(as_text=True)
    assert "at most two decimals" in html_lib.unescape(bad.get_data(as_text=True))
    assert _stored(app, branch) is None
    assert _save(admin, branch, late_cancel_fee="40", no_show_fee="25.50", no_show_consumes="0").status_code == 303
    with app.app_context():
        row = get_db().fetch_one("SELECT late_cancel_fee, no_show_fee, no_show_consumes FROM branch_booking_policies"
                                 " WHERE branch_id = :b", {"b": branch})
    from decimal import Decimal
    assert (Decimal(str(row["late_cancel_fee"])), Decimal(str(row["no_show_fee"])), row["no_show_consumes"]) == (
        Decimal("40"), Decimal("25.5"), 0)
    text = _text(admin.get(f"/branches/{branch}"))
    assert "$40.00" in text and "$25.50" in text and "does not use a lesson credit" in text
    assert _save(admin, branch, late_cancel_fee="").status_code == 303  # blank: no fee
    with app.app_context():
        assert get_db().fetch_value("SELECT late_cancel_fee FROM branch_booking_policies WHERE branch_id = :b",
                                    {"b": branch}) is None
