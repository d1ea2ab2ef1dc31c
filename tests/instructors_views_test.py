"""Instructor pages: access per role and scope, create/edit/archive with audit, activation links,
unavailability windows and working hours, validation (422, nothing written), bounded list queries."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest

from app.core import clock
from app.core.database import count_queries
from tests import factories as f
from tests.conftest import login, post_form, session_contents

ADMIN = "admin@origin.com"
STAFF_CBD = "operations@origin.com"
STAFF_BAYSIDE = "priya.raman@origin.com"
AMELIA = "amelia.ward@origin.com"  # instructor, Bayside
RAJ = "raj.patel@origin.com"  # instructor, CBD
STUDENT = "jack.mason@student.com"


def instructor_id(db, email):
    return db.fetch_value("SELECT i.id FROM instructors i JOIN users u ON u.id = i.user_id WHERE u.email = :e",
                          {"e": email})


def branch_id(db, name):
    return db.fetch_value("SELECT id FROM branches WHERE name = :n", {"n": name})


def count(db, table, where="1 = 1", params=None):
    return db.fetch_value(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params or {})


def audit_rows(db, action):
    return db.fetch_all("SELECT entity_type, entity_id, before_json, after_json FROM audit_trail"
                        " WHERE action = :a ORDER BY id", {"a": action})


def new_instructor_form(db, **overrides):
    data = {"first_name": "Grace", "last_name": "Hopper", "email": "grace.hopper@origin.com", "phone": "0400 000 111",
            "branch_id": str(branch_id(db, "CBD Headquarters")), "certification_number": "CERT-IV-2026-001",
            "accreditation_expiry": "2027-06-30", "experience_years": "4", "rating": "4.75",
            "availability_notes": "Weekday mornings", "bio": "Former rally co-driver."}
    data.update(overrides)
    return data


def field_error(html, name):
    """The inline error text rendered for a field (empty when none)."""
    match = re.search(rf'id="{name}-feedback">([^<]*)<', html)
    return match.group(1) if match else ""


# --------------------------------------------------------------------------- access

@pytest.mark.parametrize("email,status", [(ADMIN, 200), (STAFF_CBD, 200), (AMELIA, 403), (STUDENT, 403)])
def test_list_access_by_role(seeded, client, email, status):
    login(client, email)
    assert client.get("/instructors/").status_code == status


def test_admin_sees_every_instructor_with_counts(seeded, client):
    login(client, ADMIN)
    html = client.get("/instructors/").get_data(as_text=True)
    for name in ("Amelia Ward", "Raj Patel", "Tom Nguyen"):
        assert name in html
    assert 'data-label="Lessons"' in html and "Expiring soon" in html  # Raj's accreditation ends in 25 days


def test_staff_list_and_profiles_are_limited_to_their_branch(seeded, client, db):
    login(client, STAFF_CBD)
    html = client.get("/instructors/").get_data(as_text=True)
    assert "Raj Patel" in html and "Amelia Ward" not in html and "Tom Nguyen" not in html
    assert client.get(f"/instructors/{instructor_id(db, RAJ)}").status_code == 200
    amelia = instructor_id(db, AMELIA)
    for path in (f"/instructors/{amelia}", f"/instructors/{amelia}/edit", f"/instructors/{amelia}/hours"):
        assert client.get(path).status_code == 404, path
    for path in (f"/instructors/{amelia}/archive", f"/instructors/{amelia}/activation",
                 f"/instructors/{amelia}/unavailability"):
        assert post_form(client, path, {}).status_code == 404, path
    assert count(db, "users", "status = 'archived'") == 0


def test_instructor_sees_only_their_own_profile(seeded, client, db):
    login(client, AMELIA)
    amelia, raj = instructor_id(db, AMELIA), instructor_id(db, RAJ)
    response = client.get(f"/instructors/{amelia}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Parking techniques" in html  # upcoming lesson (the original's page was always empty)
    assert "Learner Essentials Package" in html  # assigned course
    assert 'href="/instructors/%d/edit"' % amelia not in html and "Archive" not in html
    assert client.get(f"/instructors/{raj}").status_code == 404
    assert client.get("/instructors/999999").status_code == 404
    assert client.get(f"/instructors/{amelia}/edit").status_code == 403
    assert post_form(client, f"/instructors/{amelia}/archive", {}).status_code == 403
    assert client.get("/instructors/new").status_code == 403
    me = client.get("/instructors/me")
    assert me.status_code == 302 and me.headers["Location"].endswith(f"/instructors/{amelia}")


def test_impossible_ids_are_404_never_500(seeded, client, db):
    login(client, ADMIN)
    huge = "9" * 25  # beyond INT UNSIGNED (and beyond what SQLite can bind)
    amelia = instructor_id(db, AMELIA)
    assert client.get(f"/instructors/{huge}").status_code == 404
    assert client.get(f"/instructors/{huge}/hours").status_code == 404
    assert post_form(client, f"/instructors/{amelia}/unavailability/{huge}/delete", {}).status_code == 404
    assert client.get(f"/instructors/?branch={huge}").status_code == 200


def test_student_is_refused_everywhere(seeded, client, db):
    login(client, STUDENT)
    amelia = instructor_id(db, AMELIA)
    for path in ("/instructors/", "/instructors/new", f"/instructors/{amelia}", f"/instructors/{amelia}/hours",
                 "/instructors/me"):
        assert client.get(path).status_code == 403, path
    assert post_form(client, f"/instructors/{amelia}/unavailability", {}).status_code == 403


def test_profile_shows_only_scheduled_future_lessons(seeded, client, db):
    login(client, ADMIN)
    raj = instructor_id(db, RAJ)
    html = client.get(f"/instructors/{raj}").get_data(as_text=True)
    assert "Roundabouts and give-way rules" in html  # scheduled, in two days
    assert "Hill starts" not in html  # last week, not completed
    assert "Professional development day" in html  # seeded unavailability window


# --------------------------------------------------------------------------- create

def test_admin_creates_an_instructor_with_an_activation_link(seeded, client, db):
    login(client, ADMIN)
    response = post_form(client, "/instructors/new", new_instructor_form(db))
    assert response.status_code == 303
    new_id = instructor_id(db, "grace.hopper@origin.com")
    assert urlsplit(response.headers["Location"]).path == f"/instructors/{new_id}"
    user = db.fetch_one("SELECT id, role, branch_id, password_hash FROM users WHERE email = 'grace.hopper@origin.com'")
    assert user["role"] == "instructor" and user["branch_id"] == branch_id(db, "CBD Headquarters")
    assert user["password_hash"].startswith("!unset!")  # staff never set passwords
    profile = db.fetch_one("SELECT certification_number, accreditation_expiry, experience_years, rating"
                           " FROM instructors WHERE id = :id", {"id": new_id})
    assert profile["experience_years"] == 4 and str(profile["rating"]) == "4.75"
    assert str(profile["accreditation_expiry"]) == "2027-06-30"
    assert count(db, "account_tokens", "user_id = :u AND purpose = 'activation'", {"u": user["id"]}) == 1
    created = audit_rows(db, "instructor_created")
    assert [(r["entity_type"], r["entity_id"]) for r in created] == [("instructor", new_id)]
    assert "grace.hopper@origin.com" in created[0]["after_json"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/auth/activate/" in page and "one-time activation link" in page
    assert "/auth/activate/" not in client.get(response.headers["Location"]).get_data(as_text=True)  # shown once


def test_blank_optional_fields_are_stored_as_null(seeded, client, db):
    login(client, ADMIN)
    form = new_instructor_form(db, phone="", certification_number="", accreditation_expiry="",
                               experience_years="", rating="", availability_notes="", bio="")
    assert post_form(client, "/instructors/new", form).status_code == 303
    row = db.fetch_one("SELECT certification_number, accreditation_expiry, experience_years, rating, bio"
                       " FROM instructors WHERE id = :id", {"id": instructor_id(db, "grace.hopper@origin.com")})
    assert row == {"certification_number": None, "accreditation_expiry": None, "experience_years": 0,
                   "rating": None, "bio": None}


@pytest.mark.parametrize("field,value", [
    ("first_name", ""), ("first_name", "x" * 81), ("email", "not-an-email"), ("email", "a" * 160 + "@x.com"),
    ("branch_id", ""), ("branch_id", "999999"), ("branch_id", "abc"), ("accreditation_expiry", "2026-02-30"),
    ("accreditation_expiry", "20226-01-01"), ("experience_years", "-1"), ("experience_years", "71"),
    ("experience_years", "abc"), ("rating", "5.01"), ("rating", "-0.5"), ("rating", "NaN"), ("rating", "4.555"),
    ("rating", "Infinity"), ("certification_number", "C" * 81), ("phone", "9" * 33), ("bio", "b" * 5001),
])
def test_invalid_input_is_422_with_the_field_named_and_nothing_written(seeded, client, db, field, value):
    login(client, ADMIN)
    users, audits = count(db, "users"), count(db, "audit_trail", "action = 'instructor_created'")
    response = post_form(client, "/instructors/new", new_instructor_form(db, **{field: value}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, field), f"no inline error for {field}"
    assert 'value="Grace"' in html or field == "first_name"  # typed values are kept
    assert count(db, "users") == users
    assert count(db, "audit_trail", "action = 'instructor_created'") == audits


def test_duplicate_email_is_a_form_error_naming_it(seeded, client, db):
    login(client, ADMIN)
    users = count(db, "users")
    response = post_form(client, "/instructors/new", new_instructor_form(db, email=" Raj.Patel@Origin.com "))
    assert response.status_code == 409
    assert "already in use" in field_error(response.get_data(as_text=True), "email")
    assert count(db, "users") == users


def test_staff_create_only_in_their_own_branch(seeded, client, db):
    login(client, STAFF_CBD)
    form = client.get("/instructors/new").get_data(as_text=True)
    assert "Bayside Training Hub" not in form
    users = count(db, "users")
    response = post_form(client, "/instructors/new",
                         new_instructor_form(db, branch_id=str(branch_id(db, "Bayside Training Hub"))))
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "branch_id")
    assert count(db, "users") == users
    assert post_form(client, "/instructors/new", new_instructor_form(db)).status_code == 303


# --------------------------------------------------------------------------- edit, archive, activation

def test_edit_records_before_and_after(seeded, client, db):
    login(client, ADMIN)
    raj = instructor_id(db, RAJ)
    page = client.get(f"/instructors/{raj}/edit").get_data(as_text=True)
    assert 'value="CERT-IV-DRV-2018-112"' in page and 'value="raj.patel@origin.com"' in page
    form = new_instructor_form(db, first_name="Rajesh", last_name="Patel", email="raj.patel@origin.com",
                               certification_number="CERT-NEW-9", experience_years="12")
    response = post_form(client, f"/instructors/{raj}/edit", form)
    assert response.status_code == 302
    row = db.fetch_one("SELECT u.first_name, i.certification_number, i.experience_years FROM instructors i"
                       " JOIN users u ON u.id = i.user_id WHERE i.id = :id", {"id": raj})
    assert row == {"first_name": "Rajesh", "certification_number": "CERT-NEW-9", "experience_years": 12}
    [entry] = audit_rows(db, "instructor_updated")
    assert entry["entity_id"] == raj
    assert '"certification_number":"CERT-IV-DRV-2018-112"' in entry["before_json"]
    assert '"certification_number":"CERT-NEW-9"' in entry["after_json"]


def test_edit_refuses_another_users_email_and_bad_input(seeded, client, db):
    login(client, ADMIN)
    raj = instructor_id(db, RAJ)
    response = post_form(client, f"/instructors/{raj}/edit", new_instructor_form(db, email=AMELIA))
    assert response.status_code == 409 and field_error(response.get_data(as_text=True), "email")
    response = post_form(client, f"/instructors/{raj}/edit", new_instructor_form(db, experience_years="-3"))
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "experience_years")
    assert audit_rows(db, "instructor_updated") == []
    assert post_form(client, "/instructors/999999/edit", new_instructor_form(db)).status_code == 404


def test_archive_and_restore(seeded, client, db):
    login(client, STAFF_CBD)
    raj = instructor_id(db, RAJ)
    assert post_form(client, f"/instructors/{raj}/archive", {}).status_code == 303
    assert db.fetch_value("SELECT u.status FROM users u WHERE u.email = :e", {"e": RAJ}) == "archived"
    assert post_form(client, f"/instructors/{raj}/archive", {}).status_code == 422  # already archived (a rule)
    assert "Archived" in client.get("/instructors/?status=archived").get_data(as_text=True)
    assert post_form(client, f"/instructors/{raj}/restore", {}).status_code == 303
    assert db.fetch_value("SELECT u.status FROM users u WHERE u.email = :e", {"e": RAJ}) == "active"
    assert [r["entity_type"] for r in audit_rows(db, "user_archived")] == ["user"]
    assert len(audit_rows(db, "user_restored")) == 1


def test_archived_instructor_can_no_longer_sign_in(seeded, client, db):
    other = seeded.test_client()
    login(other, RAJ)
    assert other.get("/dashboard/").status_code == 200
    login(client, ADMIN)
    post_form(client, f"/instructors/{instructor_id(db, RAJ)}/archive", {})
    assert other.get("/dashboard/").status_code == 302  # their session ended


def test_activation_link_reissued_only_before_activation(seeded, client, db):
    login(client, ADMIN)
    post_form(client, "/instructors/new", new_instructor_form(db))
    grace = instructor_id(db, "grace.hopper@origin.com")
    response = post_form(client, f"/instructors/{grace}/activation", {})
    assert response.status_code == 303
    assert "/auth/activate/" in client.get(response.headers["Location"]).get_data(as_text=True)
    user_id = db.fetch_value("SELECT user_id FROM instructors WHERE id = :id", {"id": grace})
    assert count(db, "account_tokens", "user_id = :u AND used_at IS NULL AND expires_at > :now",
                 {"u": user_id, "now": clock.now()}) == 1  # the first link was revoked
    # Raj already chose a password: a link would let the office take over the account
    response = post_form(client, f"/instructors/{instructor_id(db, RAJ)}/activation", {})
    assert response.status_code == 422 and "already activated" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- unavailability

def _window(days=3, hours=4, reason="Medical appointment"):
    start = datetime.combine(clock.today() + timedelta(days=days), time(9, 0))
    return {"start_datetime": start.strftime("%Y-%m-%dT%H:%M"),
            "end_datetime": (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M"), "reason": reason}


def test_instructor_manages_their_own_unavailability(seeded, client, db):
    login(client, AMELIA)
    amelia = instructor_id(db, AMELIA)
    response = post_form(client, f"/instructors/{amelia}/unavailability", _window())
    assert response.status_code == 303
    window = db.fetch_one("SELECT id, reason, start_datetime FROM instructor_unavailability"
                          " WHERE instructor_id = :i", {"i": amelia})
    assert window["reason"] == "Medical appointment" and window["start_datetime"].hour == 9
    assert "Medical appointment" in client.get(f"/instructors/{amelia}").get_data(as_text=True)
    assert len(audit_rows(db, "instructor_unavailability_added")) == 1
    assert post_form(client, f"/instructors/{amelia}/unavailability/{window['id']}/delete", {}).status_code == 303
    assert count(db, "instructor_unavailability", "instructor_id = :i", {"i": amelia}) == 0
    assert len(audit_rows(db, "instructor_unavailability_deleted")) == 1


@pytest.mark.parametrize("change,field", [
    ({"end_datetime": "same"}, "end_datetime"), ({"hours": -2}, "end_datetime"),
    ({"reason": "r" * 161}, "reason"), ({"start_datetime": "2026-13-01T09:00"}, "start_datetime"),
    ({"start_datetime": ""}, "start_datetime"),
])
def test_bad_unavailability_is_422_and_nothing_written(seeded, client, db, change, field):
    login(client, AMELIA)
    amelia = instructor_id(db, AMELIA)
    change = dict(change)  # the parameter is shared by both backends
    data = _window(hours=change.pop("hours", 4))
    if change.get("end_datetime") == "same":
        change["end_datetime"] = data["start_datetime"]
    data.update(change)
    before = count(db, "instructor_unavailability")
    response = post_form(client, f"/instructors/{amelia}/unavailability", data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert count(db, "instructor_unavailability") == before


def test_windows_of_other_instructors_are_404(seeded, client, db):
    amelia, raj = instructor_id(db, AMELIA), instructor_id(db, RAJ)
    rajs_window = db.fetch_value("SELECT id FROM instructor_unavailability WHERE instructor_id = :i", {"i": raj})
    login(client, AMELIA)
    assert post_form(client, f"/instructors/{raj}/unavailability", _window()).status_code == 404
    assert post_form(client, f"/instructors/{raj}/unavailability/{rajs_window}/delete", {}).status_code == 404
    # Raj's window addressed through Amelia's own URL is not hers either
    assert post_form(client, f"/instructors/{amelia}/unavailability/{rajs_window}/delete", {}).status_code == 404
    assert count(db, "instructor_unavailability", "id = :w", {"w": rajs_window}) == 1
    assert count(db, "instructor_unavailability", "instructor_id = :i", {"i": raj}) == 1


def test_staff_manage_windows_in_their_branch_only(seeded, client, db):
    login(client, STAFF_BAYSIDE)
    amelia, raj = instructor_id(db, AMELIA), instructor_id(db, RAJ)
    assert post_form(client, f"/instructors/{amelia}/unavailability", _window()).status_code == 303
    assert post_form(client, f"/instructors/{raj}/unavailability", _window()).status_code == 404
    assert count(db, "instructor_unavailability", "instructor_id = :i", {"i": raj}) == 1


# --------------------------------------------------------------------------- working hours

def _week(**days):
    data = {"availability_notes": "Prefers mornings"}
    for day in range(7):
        data[f"start_{day}"], data[f"end_{day}"] = days.get(f"d{day}", ("", ""))
    return data


def test_instructor_saves_their_working_week(seeded, client, db):
    login(client, AMELIA)
    amelia = instructor_id(db, AMELIA)
    assert client.get(f"/instructors/{amelia}/hours").status_code == 200
    response = post_form(client, f"/instructors/{amelia}/hours", _week(d1=("08:30", "16:00"), d5=("09:00", "13:00")))
    assert response.status_code == 302
    rows = db.fetch_all("SELECT weekday, start_time, end_time FROM instructor_working_hours"
                        " WHERE instructor_id = :i ORDER BY weekday", {"i": amelia})
    assert [(r["weekday"], r["start_time"], r["end_time"]) for r in rows] == [
        (1, time(8, 30), time(16, 0)), (5, time(9, 0), time(13, 0))]
    notes = db.fetch_value("SELECT availability_notes FROM instructors WHERE id = :i", {"i": amelia})
    assert notes == "Prefers mornings"
    page = client.get(f"/instructors/{amelia}/hours").get_data(as_text=True)
    assert 'value="08:30"' in page and 'value="16:00"' in page
    view = client.get(f"/instructors/{amelia}").get_data(as_text=True)
    assert "Tuesday" in view and "08:30–16:00" in view
    # saving again replaces the week
    post_form(client, f"/instructors/{amelia}/hours", _week(d6=("10:00", "12:00")))
    assert count(db, "instructor_working_hours", "instructor_id = :i", {"i": amelia}) == 1
    assert len(audit_rows(db, "instructor_availability_updated")) == 2


@pytest.mark.parametrize("days,field", [
    ({"d0": ("17:00", "09:00")}, "end_0"), ({"d2": ("09:00", "09:00")}, "end_2"), ({"d3": ("09:00", "")}, "end_3"),
    ({"d4": ("", "12:00")}, "start_4"), ({"d6": ("25:00", "26:00")}, "start_6"),
])
def test_bad_hours_are_422_and_the_week_is_unchanged(seeded, client, db, days, field):
    login(client, ADMIN)
    amelia = instructor_id(db, AMELIA)
    post_form(client, f"/instructors/{amelia}/hours", _week(d1=("08:00", "12:00")))
    response = post_form(client, f"/instructors/{amelia}/hours", _week(d5=("09:00", "10:00"), **days))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert [r["weekday"] for r in db.fetch_all("SELECT weekday FROM instructor_working_hours"
                                               " WHERE instructor_id = :i", {"i": amelia})] == [1]


def test_hours_of_another_instructor_are_404(seeded, client, db):
    login(client, AMELIA)
    raj = instructor_id(db, RAJ)
    before = db.fetch_all("SELECT id, weekday, start_time, end_time FROM instructor_working_hours ORDER BY id")
    assert client.get(f"/instructors/{raj}/hours").status_code == 404
    assert post_form(client, f"/instructors/{raj}/hours", _week(d0=("09:00", "17:00"))).status_code == 404
    assert db.fetch_all("SELECT id, weekday, start_time, end_time FROM instructor_working_hours ORDER BY id") == before


# --------------------------------------------------------------------------- GET never writes; query counts

def test_pages_do_not_write(seeded, client, db):
    login(client, ADMIN)
    amelia = instructor_id(db, AMELIA)
    before = count(db, "audit_trail")
    for path in ("/instructors/", "/instructors/new", f"/instructors/{amelia}", f"/instructors/{amelia}/edit",
                 f"/instructors/{amelia}/hours"):
        assert client.get(path).status_code == 200
    assert count(db, "audit_trail") == before


def test_list_page_query_count_does_not_grow_with_rows(seeded, client, db):
    login(client, ADMIN)
    assert count(db, "instructors") == 3
    with count_queries() as few:
        assert client.get("/instructors/").status_code == 200
    branch = branch_id(db, "CBD Headquarters")
    for _ in range(27):
        f.make_schedule(db, instructor_id=f.make_instructor(db, branch_id=branch), status="completed")
    with count_queries() as many:
        html = client.get("/instructors/?per_page=50").get_data(as_text=True)
    assert html.count('data-label="Lessons"') == 30
    assert many.count == few.count, many.statements


# --------------------------------------------------------------------------- the link panel, the unavailability form

LINK = re.compile(r"https?://[^/\s\"]+/auth/activate/([A-Za-z0-9_-]+)")




def test_new_instructors_link_is_shown_once_to_its_issuer_and_never_in_the_cookie(seeded, client, db):
    login(client, STAFF_CBD)
    created = post_form(client, "/instructors/new", new_instructor_form(db))
    assert created.status_code == 303 and "handoff=" in created.headers["Location"]
    other = seeded.test_client()  # another office user who may see this instructor (the admin)
    login(other, ADMIN)
    foreign = other.get(created.headers["Location"]).get_data(as_text=True)
    assert LINK.search(foreign) is None and "This link was shown once" in foreign
    page = client.get(created.headers["Location"])
    html = page.get_data(as_text=True)
    token = LINK.search(html).group(1)
    assert html.count(token) == 1 and "Instructor Grace created." in html
    contents = session_contents(seeded, client, created, page)
    assert token not in contents and "/auth/activate/" not in contents
    assert count(db, "page_handoffs") == 0
    assert LINK.search(client.get(created.headers["Location"]).get_data(as_text=True)) is None


def test_a_failed_unavailability_window_names_the_problem_and_leaves_a_get_address(seeded, client, db):
    login(client, AMELIA)
    amelia = instructor_id(db, AMELIA)
    page = client.get(f"/instructors/{amelia}").get_data(as_text=True)
    assert f'action="/instructors/{amelia}/unavailability#availability" id="availability-form"' in page
    data = {**_window(hours=-2), "reason": "Dentist"}  # ends before it starts: the service's rule
    response = post_form(client, f"/instructors/{amelia}/unavailability", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-location="/instructors/{amelia}#availability"' in html
    assert 'data-focus-form="availability-form"' in html
    alert = re.search(r'<div class="alert alert-danger page-alert"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert alert.strip().startswith("The unavailability window was not added: ") and 'href="#availability"' in alert
    assert field_error(html, "end_datetime") and field_error(html, "end_datetime") in alert
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="end_datetime"', html)
    assert 'value="Dentist"' in html and f'value="{data["start_datetime"]}"' in html
