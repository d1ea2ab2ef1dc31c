"""Re-authentication (app/core/reauth.py, /auth/confirm) and what it guards, on SQLite: changing one's
e-mail (new page) and password, anyone's role (staff <-> administrator), the audit export.

- A sign-in counts as a confirmation for REAUTH_MINUTES; after that a guarded GET goes to the confirm
  page with ``next`` and a guarded POST writes nothing (the e-mail and the role stay as they were) and
  goes there too, handing back the non-secret field typed; JSON gets 401.
- A wrong password on the confirm page is a clear 401, audited, and counts toward the account lock
  exactly like a failed sign-in (ten lock the account: 429 with Retry-After, sign-in included).
- With a second factor enrolled the confirmation needs the code as well (pyotp computes it).
- ``next`` goes only through safe_next.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from app.core import passwords
from app.core.errors import ValidationFailed
from app.core.flask_db import get_db
from app.services import second_factor, staff as staff_service
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

T0 = datetime(2026, 11, 30, 22, 0, 0)
ADMIN, OTHER_ADMIN, STAFF, INSTRUCTOR = "boss@x.com", "deputy@x.com", "desk@x.com", "teach@x.com"


@pytest.fixture
def backend():
    """The SQL here is UserDAO's and UserSessionDAO's (tests/user_test.py, tests/user_session_test.py run
    those on both databases)."""
    return "sqlite"


@pytest.fixture
def world(app, frozen):
    frozen(T0)
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db)
        ids = {}
        for email, role, last in ((ADMIN, "admin", "Boss"), (OTHER_ADMIN, "admin", "Deputy"),
                                  (STAFF, "staff", "Desk"), (INSTRUCTOR, "instructor", "Teach")):
            ids[email] = f.make_user(db, role=role, branch_id=branch, email=email, first_name="Pat", last_name=last,
                                     password_hash=passwords.hash_password(DEMO_PASSWORD))
        ids["staff_profile"] = db.insert("staff_profiles", {"user_id": ids[STAFF], "branch_id": branch,
                                                            "position_title": "Desk"})
        ids["admin_profile"] = db.insert("staff_profiles", {"user_id": ids[ADMIN], "branch_id": branch,
                                                            "position_title": "Owner"})
        ids["deputy_profile"] = db.insert("staff_profiles", {"user_id": ids[OTHER_ADMIN], "branch_id": branch,
                                                             "position_title": "Deputy"})
    return ids


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _value(app, sql, **params):
    with app.app_context():
        return get_db().fetch_value(sql, params)


def _email_of(app, user_id):
    return _value(app, "SELECT email FROM users WHERE id = :id", id=user_id)


def _confirm_location(response) -> str | None:
    """The ``next`` of a redirect to the confirm page (asserts it is one)."""
    assert response.status_code == 303, response.status_code
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/auth/confirm"
    return parse_qs(parts.query).get("next", [None])[0]


def _confirm(client, password=DEMO_PASSWORD, next_url=None, **extra):
    path = "/auth/confirm" + (f"?{urlencode({'next': next_url})}" if next_url else "")
    return client.post(path, data={"password": password, "csrf_token": csrf_token(client, path), **extra})


# --------------------------------------------------------------------------- fresh and stale

def test_a_sign_in_counts_as_a_confirmation_for_ten_minutes(app, world, frozen):
    client = _client(app, INSTRUCTOR)
    frozen(T0 + timedelta(minutes=10))
    assert client.get("/account/email").status_code == 200
    frozen(T0 + timedelta(minutes=10, seconds=1))
    assert _confirm_location(client.get("/account/email")) == "/account/email"
    assert _confirm_location(client.get("/account/password")) == "/account/password"


def test_a_stale_email_post_writes_nothing_and_hands_the_typed_address_back(app, world, frozen):
    client = _client(app, INSTRUCTOR)
    token = csrf_token(client, "/account/email")
    frozen(T0 + timedelta(minutes=11))
    response = client.post("/account/email", data={"new_email": "new.teach@x.com", "csrf_token": token})
    next_url = _confirm_location(response)
    assert next_url.startswith("/account/email?kept=") and "new.teach" not in next_url  # signed, not plain
    assert _email_of(app, world[INSTRUCTOR]) == INSTRUCTOR  # unchanged
    assert _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'email_changed'") == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing was changed yet" in page and 'name="password"' in page
    # confirmed: back to the form, the address typed before filled in again; the POST now goes through
    confirmed = _confirm(client, next_url=next_url)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == next_url
    form = client.get(next_url).get_data(as_text=True)
    assert 'value="new.teach@x.com"' in form
    done = client.post("/account/email", data={"new_email": "new.teach@x.com",
                                               "csrf_token": csrf_token(client, "/account/email")})
    assert done.status_code == 303 and done.headers["Location"] == "/account/"
    assert _email_of(app, world[INSTRUCTOR]) == "new.teach@x.com"


def test_only_a_value_signed_for_this_user_fills_the_form_in(app, world, frozen):
    """A crafted link cannot pre-fill an address: plain parameters, a tampered value, another user's
    value and an old one are all ignored."""
    staff = _client(app, STAFF)
    frozen(T0 + timedelta(minutes=11))
    stale = staff.post("/account/email", data={"new_email": "attacker@evil.example",
                                               "csrf_token": csrf_token(staff, "/auth/confirm")})
    theirs = _confirm_location(stale)
    assert theirs.startswith("/account/email?kept=")
    frozen(T0 + timedelta(minutes=12))
    teacher = _client(app, INSTRUCTOR)
    for url in ("/account/email?new_email=attacker%40evil.example", theirs, theirs[:-3] + "abc",
                "/account/email?kept=nonsense"):
        html = teacher.get(url).get_data(as_text=True)
        assert "attacker@evil.example" not in html, url
    frozen(T0 + timedelta(minutes=11 + 31))  # past KEPT_MAX_AGE_SECONDS (the staff member signs in again)
    staff = _client(app, STAFF)
    assert "attacker@evil.example" not in staff.get(theirs).get_data(as_text=True)


def _notices(app, subject_part: str) -> list[tuple[str, str]]:
    path = Path(app.config["LOG_DIR"]) / "outbound.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(n["to"], n["status"]) for n in (json.loads(line.split("] ", 1)[1]) for line in lines
                                              if subject_part in line)]


def test_the_owner_is_told_when_the_password_or_the_second_factor_changes(app, world):
    """ASVS V2.2.3 / V2.5.5: a changed password, a second factor switched on or off and new recovery codes
    each send the owner an e-mail notice (through the mailer: logged as skipped, mail is off in tests)."""
    client = _client(app, INSTRUCTOR)
    assert client.post("/account/password", data={
        "current_password": DEMO_PASSWORD, "new_password": "a quiet river bend", "confirm_password":
        "a quiet river bend", "csrf_token": csrf_token(client, "/account/password")}).status_code == 302
    assert _notices(app, "password was changed") == [(INSTRUCTOR, "skipped")]
    client = app.test_client()
    login(client, INSTRUCTOR, "a quiet river bend")
    secret = client.get("/account/second-factor")  # status page; start the set-up
    token = csrf_token(client, "/account/second-factor")
    client.post("/account/second-factor/enrol", data={"csrf_token": token})
    with app.app_context():
        pending = get_db().fetch_value("SELECT secret FROM user_second_factors WHERE user_id = :u",
                                       {"u": world[INSTRUCTOR]})
        seed = second_factor.decrypt_secret(pending, world[INSTRUCTOR], app.config)
    at = second_factor.code_at(seed, T0)
    assert client.post("/account/second-factor/confirm", data={"code": at, "csrf_token": token}).status_code == 303
    assert _notices(app, "second factor was switched on") == [(INSTRUCTOR, "skipped")]
    assert client.post("/account/second-factor/codes", data={"csrf_token": token}).status_code == 303
    assert _notices(app, "New Origin Driving School recovery codes") == [(INSTRUCTOR, "skipped")]
    assert client.post("/account/second-factor/disable", data={"csrf_token": token}).status_code == 303
    assert _notices(app, "second factor was switched off") == [(INSTRUCTOR, "skipped")]
    assert secret.status_code == 200


def test_changing_the_email_is_audited_and_tells_the_old_address(app, world):
    client = _client(app, INSTRUCTOR)
    response = client.post("/account/email", data={"new_email": "  New.Teach@X.com ",
                                                    "csrf_token": csrf_token(client, "/account/email")})
    assert response.status_code == 303
    assert "sign in with it from now on" in client.get("/account/").get_data(as_text=True)
    assert _email_of(app, world[INSTRUCTOR]) == "new.teach@x.com"
    with app.app_context():
        row = get_db().fetch_one("SELECT user_id, entity_id, before_json, after_json FROM audit_trail"
                                 " WHERE action = 'email_changed'")
    assert row["user_id"] == row["entity_id"] == world[INSTRUCTOR]
    assert json.loads(row["before_json"]) == {"email": INSTRUCTOR}
    assert json.loads(row["after_json"]) == {"email": "new.teach@x.com"}
    log = (Path(app.config["LOG_DIR"]) / "outbound.log").read_text()
    notice = [json.loads(line.split("] ", 1)[1]) for line in log.splitlines() if "e-mail address was changed" in line]
    assert [(n["to"], n["status"]) for n in notice] == [(INSTRUCTOR, "skipped")]  # mail is off in tests
    # the new address signs in; the old one no longer does
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/dashboard/")})
    assert login(app.test_client(), INSTRUCTOR).status_code == 401
    assert login(app.test_client(), "new.teach@x.com").status_code == 302


@pytest.mark.parametrize("value, status, message", [
    ("", 422, "Enter the new e-mail address."),
    ("not-an-address", 422, "Enter a valid e-mail address"),
    ("a@" + "b" * 160 + ".com", 422, "at most 160 characters"),
    (STAFF.upper(), 409, "already used by another account"),
    (INSTRUCTOR, 422, "already your e-mail address"),
])
def test_a_bad_new_email_is_refused_with_its_reason_and_kept(app, world, value, status, message):
    client = _client(app, INSTRUCTOR)
    response = client.post("/account/email",
                           data={"new_email": value, "csrf_token": csrf_token(client, "/account/email")})
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html
    if value:
        assert f'value="{value.strip()}"' in html
    assert _email_of(app, world[INSTRUCTOR]) == INSTRUCTOR


def test_json_callers_get_401_and_no_redirect(app, world, frozen):
    client = _client(app, ADMIN)
    frozen(T0 + timedelta(minutes=11))
    response = client.get("/audit/export.csv", headers={"Accept": "application/json"})
    assert response.status_code == 401 and "confirm your password" in response.get_json()["error"]


def test_the_audit_export_needs_a_fresh_confirmation(app, world, frozen):
    client = _client(app, ADMIN)
    assert client.get("/audit/export.csv").status_code == 200
    frozen(T0 + timedelta(minutes=11))
    exported = _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'audit_exported'")
    stale = client.get("/audit/export.csv?action=login")
    # Back to the audit list with its filters (not to the file, which would leave the confirm page up).
    assert _confirm_location(stale) == "/audit/?action=login"
    assert _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'audit_exported'") == exported
    confirmed = _confirm(client, next_url="/audit/?action=login")
    assert confirmed.headers["Location"] == "/audit/?action=login"
    assert client.get("/audit/export.csv?action=login").mimetype == "text/csv"


# --------------------------------------------------------------------------- the confirm page

def test_a_wrong_password_is_a_clear_401_that_keeps_next_and_is_audited(app, world, frozen):
    client = _client(app, INSTRUCTOR)
    frozen(T0 + timedelta(minutes=11))
    response = _confirm(client, "wrong-password", next_url="/account/email")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "The password is incorrect." in html
    assert 'action="/auth/confirm?next=/account/email"' in html
    assert _value(app, "SELECT COUNT(*) FROM login_attempts WHERE email = :e AND succeeded = 0", e=INSTRUCTOR) == 1
    assert _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'reauth_failed' AND user_id = :u",
                  u=world[INSTRUCTOR]) == 1
    assert _confirm_location(client.get("/account/email")) == "/account/email"  # still stale
    assert _confirm(client, "", next_url="/account/email").status_code == 422  # empty: a field error, not counted
    assert _value(app, "SELECT COUNT(*) FROM login_attempts WHERE email = :e AND succeeded = 0", e=INSTRUCTOR) == 1


def test_wrong_passwords_on_the_confirm_page_lock_the_account_like_sign_in(app, world, frozen):
    client = _client(app, INSTRUCTOR)
    for i in range(10):
        frozen(T0 + timedelta(minutes=11, seconds=i))
        assert _confirm(client, f"guess-{i}").status_code == 401
    frozen(T0 + timedelta(minutes=12))
    locked = _confirm(client)  # the right password, refused unverified while locked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in locked.get_data(as_text=True)
    assert _confirm_location(client.get("/account/email")) == "/account/email"
    assert login(app.test_client(), INSTRUCTOR).status_code == 429  # the same lock as sign-in
    assert login(app.test_client(), STAFF).status_code == 302  # another account is unaffected
    frozen(T0 + timedelta(minutes=11, seconds=9) + timedelta(minutes=15, seconds=1))
    client = _client(app, INSTRUCTOR)  # the old session went idle meanwhile
    assert client.get("/account/email").status_code == 200


def test_next_is_used_only_when_it_is_a_path_on_this_site(app, world):
    client = _client(app, INSTRUCTOR)
    for hostile in ("//evil.example/x", "https://evil.example/", "/%5C%5Cevil.example"):
        response = _confirm(client, next_url=hostile)
        assert response.status_code == 303 and response.headers["Location"] == "/dashboard/", hostile


def test_a_success_is_audited_and_sets_the_time_on_this_session_only(app, world, frozen):
    first, second = _client(app, INSTRUCTOR), _client(app, INSTRUCTOR)
    frozen(T0 + timedelta(minutes=20))
    assert _confirm(first).status_code == 303
    assert first.get("/account/email").status_code == 200
    assert _confirm_location(second.get("/account/email")) == "/account/email"
    assert _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'reauthenticated'") == 1


# --------------------------------------------------------------------------- with a second factor

@pytest.fixture
def enrolled(app, world, frozen):
    """The instructor has a TOTP factor switched on (enrolled users pass the code step in any role)."""
    frozen(T0 - timedelta(minutes=5))
    actor = Actor(user_id=world[INSTRUCTOR], role="instructor")
    with app.app_context():
        db = get_db()
        secret, _ = second_factor.begin_enrolment(db, actor, T0 - timedelta(minutes=5), app.config)
        second_factor.confirm_enrolment(db, actor, second_factor.code_at(secret, T0 - timedelta(minutes=5)),
                                        T0 - timedelta(minutes=5), app.config)
    frozen(T0)
    return secret


def _code(secret, at):
    return second_factor.code_at(secret, at)


def test_with_a_second_factor_the_confirmation_needs_the_code_too(app, world, enrolled, frozen):
    client = app.test_client()
    assert login(client, INSTRUCTOR).status_code == 302
    assert client.get("/account/email").headers["Location"].startswith("/auth/second-factor")  # the gate first
    step = client.post("/auth/second-factor", data={"code": _code(enrolled, T0),
                                                     "csrf_token": csrf_token(client, "/auth/second-factor")})
    assert step.status_code == 303
    assert client.get("/account/email").status_code == 200  # the completed sign-in counts
    at = T0 + timedelta(minutes=11)
    frozen(at)
    page = client.get("/auth/confirm?next=/account/email").get_data(as_text=True)
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    missing = _confirm(client, next_url="/account/email")
    assert missing.status_code == 422 and "Enter the 6-digit code" in missing.get_data(as_text=True)
    wrong = _confirm(client, next_url="/account/email", code="000000" if _code(enrolled, at) != "000000" else "111111")
    assert wrong.status_code == 422
    assert _confirm_location(client.get("/account/email")) == "/account/email"
    bad_password = _confirm(client, "wrong-password", code=_code(enrolled, at))
    assert bad_password.status_code == 401
    ok = _confirm(client, next_url="/account/email", code=_code(enrolled, at))
    assert ok.status_code == 303 and ok.headers["Location"] == "/account/email"
    assert client.get("/account/email").status_code == 200
    with app.app_context():
        details = get_db().fetch_value("SELECT details FROM audit_trail WHERE action = 'reauthenticated'")
    assert details == "password and totp code"
    frozen(at + timedelta(seconds=5))
    replay = _confirm(client, code=_code(enrolled, at))  # the same code again: refused
    assert replay.status_code == 422


# --------------------------------------------------------------------------- role changes

def _role(app, user_id):
    return _value(app, "SELECT role FROM users WHERE id = :id", id=user_id)


def _post_role(client, staff_id, role):
    page = f"/staff/{staff_id}"
    return client.post(f"/staff/{staff_id}/role", data={"role": role, "csrf_token": csrf_token(client, page)})


def test_an_admin_makes_staff_an_administrator_and_their_sessions_end(app, world):
    admin, desk = _client(app, ADMIN), _client(app, STAFF)
    page = admin.get(f"/staff/{world['staff_profile']}").get_data(as_text=True)
    assert f'action="/staff/{world["staff_profile"]}/role"' in page
    response = _post_role(admin, world["staff_profile"], "admin")
    assert response.status_code == 303 and response.headers["Location"] == f"/staff/{world['staff_profile']}"
    assert _role(app, world[STAFF]) == "admin"
    assert "now has the Administrator role" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert desk.get("/dashboard/").status_code == 302  # signed out: the new role applies at the next sign-in
    with app.app_context():
        row = get_db().fetch_one("SELECT user_id, entity_type, entity_id, before_json, after_json FROM audit_trail"
                                 " WHERE action = 'role_changed'")
    assert (row["user_id"], row["entity_type"], row["entity_id"]) == (world[ADMIN], "staff", world["staff_profile"])
    assert json.loads(row["before_json"]) == {"role": "staff"} and json.loads(row["after_json"]) == {"role": "admin"}
    back = _post_role(admin, world["staff_profile"], "staff")
    assert back.status_code == 303 and _role(app, world[STAFF]) == "staff"


def test_a_stale_role_change_writes_nothing_and_returns_to_the_profile(app, world, frozen):
    admin = _client(app, ADMIN)
    token = csrf_token(admin, f"/staff/{world['staff_profile']}")
    frozen(T0 + timedelta(minutes=11))
    response = admin.post(f"/staff/{world['staff_profile']}/role", data={"role": "admin", "csrf_token": token})
    next_url = _confirm_location(response)
    assert next_url.startswith(f"/staff/{world['staff_profile']}?kept=")
    assert _role(app, world[STAFF]) == "staff"
    assert _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'role_changed'") == 0
    _confirm(admin)
    page = admin.get(next_url).get_data(as_text=True)
    assert '<option selected value="admin">' in page


def test_nobody_changes_their_own_role_and_only_admins_change_any(app, world):
    admin = _client(app, ADMIN)
    own = admin.get(f"/staff/{world['admin_profile']}").get_data(as_text=True)
    assert "/role" not in own  # no form for oneself
    refused = _post_role(admin, world["admin_profile"], "staff")
    assert refused.status_code == 422 and "cannot change your own role" in refused.get_data(as_text=True)
    assert _role(app, world[ADMIN]) == "admin"
    assert _post_role(admin, world["staff_profile"], "student").status_code == 422
    assert _post_role(admin, world["staff_profile"], "staff").status_code == 422  # already staff
    assert _post_role(admin, 999999, "admin").status_code == 404
    desk = _client(app, STAFF)
    assert _post_role(desk, world["deputy_profile"], "staff").status_code == 403
    assert _role(app, world[OTHER_ADMIN]) == "admin"


def test_the_last_active_administrator_keeps_the_role(app, world):
    """Reachable when the acting admin was demoted meanwhile (two admins demoting each other at once:
    the admins' rows are locked first, so the second one sees the first change)."""
    with app.app_context():
        db = get_db()
        db.execute("UPDATE users SET role = 'staff' WHERE id = :id", {"id": world[ADMIN]})
        actor = Actor(user_id=world[ADMIN], role="admin")
        with pytest.raises(ValidationFailed, match="last active administrator"):
            staff_service.change_role(db, actor, world["deputy_profile"], "staff", T0)
        assert db.fetch_value("SELECT role FROM users WHERE id = :id", {"id": world[OTHER_ADMIN]}) == "admin"
