"""Staff account pages (both backends): admin only; create in one transaction with an activation link
(shown once, usable once); duplicate e-mail; validation; edit with audit; archive ends sessions; restore;
re-issued links; a list whose query count does not grow with its rows."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
import re
from datetime import date
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from app.core import clock
from app.core.database import count_queries
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login, post_form, session_contents

ADMIN, STAFF, OTHER_STAFF = "admin@test.origin", "staff@test.origin", "staff.other@test.origin"
INSTRUCTOR, STUDENT = "instructor@test.origin", "student@test.origin"
LINK = re.compile(r"https?://[^/\s]+(/auth/activate/[A-Za-z0-9_-]+)")


def build_world(app) -> SimpleNamespace:
    """Two branches; an admin (who also has a staff profile), a staff member at each branch,
    an instructor and a student, all able to sign in."""
    from app.core import passwords

    with app.app_context():
        db = get_db()
        password_hash = passwords.hash_password(DEMO_PASSWORD)
        home = f.make_branch(db, name="Home Branch")
        other = f.make_branch(db, name="Other Branch")

        def staffer(role, email, branch, first, last, position):
            user = f.make_user(db, role=role, email=email, branch_id=branch, password_hash=password_hash,
                               first_name=first, last_name=last)
            return db.insert("staff_profiles", {"user_id": user, "branch_id": branch, "position_title": position,
                                                "employment_type": "Full-time", "start_date": date(2022, 1, 10)})

        admin = staffer("admin", ADMIN, home, "Laura", "Matthews", "Principal")
        staff = staffer("staff", STAFF, home, "Oliver", "Grant", "Operations Coordinator")
        other_staff = staffer("staff", OTHER_STAFF, other, "Priya", "Raman", "Front Desk")
        f.make_instructor(db, user_id=f.make_user(db, role="instructor", email=INSTRUCTOR, branch_id=home,
                                                  password_hash=password_hash), branch_id=home)
        f.make_student(db, user_id=f.make_user(db, role="student", email=STUDENT, branch_id=home,
                                               password_hash=password_hash), branch_id=home)
    return SimpleNamespace(home=home, other=other, admin=admin, staff=staff, other_staff=other_staff)


@pytest.fixture
def world(app):
    return build_world(app)


def new_staff(world, **changes):
    data = {"first_name": "Chloe", "last_name": "Bennett", "email": "chloe.bennett@test.origin",
            "phone": "0400 123 456", "branch_id": str(world.other), "position_title": "Bookings Officer",
            "employment_type": "Part-time", "start_date": "2026-03-02", "notes": "Speaks Mandarin."}
    data.update(changes)
    return data


def value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def counts(app):
    return {t: value(app, f"SELECT COUNT(*) FROM {t}")
            for t in ("users", "staff_profiles", "account_tokens", "audit_trail")}


def audits(app, action):
    with app.app_context():
        return get_db().fetch_all(
            "SELECT entity_type, entity_id, before_json, after_json FROM audit_trail WHERE action = :a ORDER BY id",
            {"a": action})


def routes(world, staff_id=None):
    staff_id = staff_id or world.staff
    gets = ["/staff/", "/staff/new", f"/staff/{staff_id}", f"/staff/{staff_id}/edit"]
    posts = ["/staff/new", f"/staff/{staff_id}/edit", f"/staff/{staff_id}/archive", f"/staff/{staff_id}/restore",
             f"/staff/{staff_id}/activation"]
    return gets, posts


def test_admin_can_open_every_staff_page(app, client, world):
    login(client, ADMIN)
    gets, _ = routes(world)
    for path in gets:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("email", [STAFF, INSTRUCTOR, STUDENT])
def test_everyone_else_is_refused_with_403_and_nothing_changes(app, client, world, email):
    login(client, email)
    before = {k: v for k, v in counts(app).items() if k != "audit_trail"}
    gets, posts = routes(world, world.other_staff)
    for path in gets:
        assert client.get(path).status_code == 403, path
    for path in posts:
        assert post_form(client, path, new_staff(world)).status_code == 403, path
    assert {k: v for k, v in counts(app).items() if k != "audit_trail"} == before
    assert value(app, "SELECT status FROM users WHERE email = :e", {"e": OTHER_STAFF}) == "active"


def test_unknown_staff_id_is_404(app, client, world):
    login(client, ADMIN)
    for path in ("/staff/999999", "/staff/999999/edit"):
        assert client.get(path).status_code == 404
    for path in ("/staff/999999/edit", "/staff/999999/archive", "/staff/999999/restore", "/staff/999999/activation"):
        assert post_form(client, path, new_staff(world)).status_code == 404, path


def test_state_changes_are_post_only(app, client, world):
    login(client, ADMIN)
    for action in ("archive", "restore", "activation"):
        assert client.get(f"/staff/{world.staff}/{action}").status_code == 405
    assert client.post(f"/staff/{world.staff}/archive").status_code == 403  # no CSRF token
    assert value(app, "SELECT status FROM users WHERE email = :e", {"e": STAFF}) == "active"


def test_create_shows_the_link_once_and_it_activates_the_account_once(app, client, world):
    login(client, ADMIN)
    response = post_form(client, "/staff/new", new_staff(world, email=" Chloe.Bennett@Test.Origin "))
    assert response.status_code == 303
    staff_id = int(urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = LINK.search(page).group(1)
    assert "Activation pending" in page
    assert LINK.search(client.get(response.headers["Location"]).get_data(as_text=True)) is None  # shown once
    with app.app_context():
        db = get_db()
        user = db.fetch_one("SELECT id, role, email, branch_id, status, password_hash FROM users"
                            " WHERE email = 'chloe.bennett@test.origin'")
        profile = db.fetch_one("SELECT user_id, branch_id, position_title, employment_type, start_date"
                               " FROM staff_profiles WHERE id = :id", {"id": staff_id})
    assert user["role"] == "staff" and user["branch_id"] == world.other and user["password_hash"].startswith("!unset!")
    assert profile == {"user_id": user["id"], "branch_id": world.other, "position_title": "Bookings Officer",
                       "employment_type": "Part-time", "start_date": date(2026, 3, 2)}
    [audit] = audits(app, "staff_created")
    assert audit["entity_type"] == "staff" and audit["entity_id"] == staff_id
    assert json.loads(audit["after_json"])["email"] == "chloe.bennett@test.origin"
    # the new staff member cannot sign in before activating
    newcomer = app.test_client()
    assert login(newcomer, "chloe.bennett@test.origin", DEMO_PASSWORD).status_code == 401
    assert newcomer.get(link).status_code == 200
    token = csrf_token(newcomer, link)
    password = "a long enough passphrase"
    activated = newcomer.post(link, data={"password": password, "confirm_password": password, "csrf_token": token})
    assert activated.status_code == 303
    assert newcomer.get(link).status_code == 404  # single use
    assert login(newcomer, "chloe.bennett@test.origin", password).status_code == 302
    assert newcomer.get("/dashboard/").status_code == 200


def test_blank_start_date_defaults_to_today(app, client, world):
    login(client, ADMIN)
    assert post_form(client, "/staff/new", new_staff(world, start_date="")).status_code == 303
    assert value(app, "SELECT start_date FROM staff_profiles WHERE position_title = 'Bookings Officer'") \
        == clock.today()


@pytest.mark.parametrize("email", [STAFF, "STAFF@test.origin", STUDENT])
def test_duplicate_email_is_409_naming_the_field_and_writes_nothing(app, client, world, email):
    login(client, ADMIN)
    before = counts(app)
    response = post_form(client, "/staff/new", new_staff(world, email=email))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'id="email-feedback"' in html and "already in use" in html
    assert 'value="Bookings Officer"' in html  # typed values kept
    assert counts(app) == before


@pytest.mark.parametrize("changes,field", [
    ({"first_name": ""}, "first_name"),
    ({"last_name": "l" * 81}, "last_name"),
    ({"email": ""}, "email"),
    ({"email": "nobody-at-all"}, "email"),
    ({"email": "x" * 150 + "@test.origin"}, "email"),
    ({"phone": "0400 <b>"}, "phone"),
    ({"branch_id": ""}, "branch_id"),
    ({"branch_id": "999999"}, "branch_id"),
    ({"branch_id": "abc"}, "branch_id"),
    ({"employment_type": "Contractor"}, "employment_type"),
    ({"start_date": "2026-02-30"}, "start_date"),
    ({"start_date": "31/12/2026"}, "start_date"),
    ({"start_date": "0201-01-01"}, "start_date"),
    ({"position_title": "p" * 101}, "position_title"),
    ({"notes": "n" * 5001}, "notes"),
])
def test_invalid_staff_is_422_with_the_field_named_and_nothing_written(app, client, world, changes, field):
    login(client, ADMIN)
    before = counts(app)
    response = post_form(client, "/staff/new", new_staff(world, **changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-feedback"' in html
    assert counts(app) == before


def test_edit_updates_profile_and_account_with_before_and_after(app, client, world):
    login(client, ADMIN)
    form = client.get(f"/staff/{world.staff}/edit").get_data(as_text=True)
    assert 'value="Operations Coordinator"' in form and "email" not in re.findall(r'name="([^"]+)"', form)
    response = post_form(client, f"/staff/{world.staff}/edit", {
        "first_name": "Olly", "last_name": "Grant", "phone": "", "branch_id": str(world.other),
        "position_title": "Branch Manager", "employment_type": "Casual", "start_date": "", "notes": "",
        "email": "hijack@test.origin"})
    assert response.status_code == 302
    with app.app_context():
        row = get_db().fetch_one(
            "SELECT u.first_name, u.email, u.branch_id AS user_branch, s.branch_id, s.position_title,"
            " s.employment_type, s.start_date FROM staff_profiles s JOIN users u ON u.id = s.user_id"
            " WHERE s.id = :id", {"id": world.staff})
    assert row == {"first_name": "Olly", "email": STAFF, "user_branch": world.other, "branch_id": world.other,
                   "position_title": "Branch Manager", "employment_type": "Casual",
                   "start_date": date(2022, 1, 10)}  # blank start date keeps the current one
    [audit] = audits(app, "staff_updated")
    assert json.loads(audit["before_json"])["position_title"] == "Operations Coordinator"
    assert json.loads(audit["after_json"])["position_title"] == "Branch Manager"
    # the moved staff member now sees the other branch only
    moved = app.test_client()
    login(moved, STAFF)
    assert moved.get(f"/branches/{world.other}").status_code == 200
    assert moved.get(f"/branches/{world.home}").status_code == 404


def test_invalid_edit_is_422_and_keeps_the_row(app, client, world):
    login(client, ADMIN)
    response = post_form(client, f"/staff/{world.staff}/edit", {
        "first_name": "", "last_name": "Grant", "branch_id": str(world.home), "employment_type": "Full-time"})
    assert response.status_code == 422 and 'id="first_name-feedback"' in response.get_data(as_text=True)
    assert value(app, "SELECT first_name FROM users WHERE email = :e", {"e": STAFF}) == "Oliver"
    assert audits(app, "staff_updated") == []


def test_archive_ends_the_staff_members_sessions_and_restore_lets_them_back(app, client, world):
    victim = app.test_client()
    login(victim, STAFF)
    assert victim.get("/branches/").status_code == 200
    login(client, ADMIN)
    response = post_form(client, f"/staff/{world.staff}/archive", token_from=f"/staff/{world.staff}")
    assert response.status_code == 303
    assert value(app, "SELECT status FROM users WHERE email = :e", {"e": STAFF}) == "archived"
    with app.app_context():
        user_id = get_db().fetch_value("SELECT id FROM users WHERE email = :e", {"e": STAFF})
    assert value(app, "SELECT COUNT(*) FROM user_sessions WHERE user_id = :u", {"u": user_id}) == 0
    assert victim.get("/branches/").status_code == 302  # signed out at once
    assert login(app.test_client(), STAFF).status_code == 401
    assert len(audits(app, "user_archived")) == 1
    assert "Archived" in client.get("/staff/?status=archived").get_data(as_text=True)
    again = post_form(client, f"/staff/{world.staff}/archive")
    assert again.status_code == 422
    restored = post_form(client, f"/staff/{world.staff}/restore")
    assert restored.status_code == 303
    assert value(app, "SELECT status FROM users WHERE email = :e", {"e": STAFF}) == "active"
    assert login(app.test_client(), STAFF).status_code == 302


def test_admin_cannot_archive_themselves(app, client, world):
    login(client, ADMIN)
    response = post_form(client, f"/staff/{world.admin}/archive")
    assert response.status_code == 422
    assert "cannot archive your own account" in response.get_data(as_text=True)
    assert value(app, "SELECT status FROM users WHERE email = :e", {"e": ADMIN}) == "active"
    assert client.get("/dashboard/").status_code == 200


def test_reissued_link_replaces_the_old_one(app, client, world):
    login(client, ADMIN)
    created = post_form(client, "/staff/new", new_staff(world), follow_redirects=True)
    first = LINK.search(created.get_data(as_text=True)).group(1)
    staff_id = int(re.search(r'action="/staff/(\d+)/activation"', created.get_data(as_text=True)).group(1))
    reissued = post_form(client, f"/staff/{staff_id}/activation", follow_redirects=True)
    second = LINK.search(reissued.get_data(as_text=True)).group(1)
    assert first != second
    newcomer = app.test_client()
    assert newcomer.get(first).status_code == 404
    assert newcomer.get(second).status_code == 200
    assert len(audits(app, "activation_link_issued")) == 1


def test_no_activation_link_for_an_archived_account(app, client, world):
    login(client, ADMIN)
    post_form(client, f"/staff/{world.staff}/archive")
    tokens = value(app, "SELECT COUNT(*) FROM account_tokens")
    response = post_form(client, f"/staff/{world.staff}/activation")
    assert response.status_code == 422
    assert value(app, "SELECT COUNT(*) FROM account_tokens") == tokens


def test_list_search_filter_sort(app, client, world):
    login(client, ADMIN)
    html = client.get("/staff/").get_data(as_text=True)
    html = html[html.index("<tbody>"):]
    assert html.index("Oliver Grant") < html.index("Laura Matthews") < html.index("Priya Raman")
    assert 'data-label="Start date"' in html
    by_branch = client.get(f"/staff/?branch={world.other}").get_data(as_text=True)
    assert "Priya Raman" in by_branch and "Oliver Grant" not in by_branch
    searched = client.get("/staff/?q=front").get_data(as_text=True)
    assert "Priya Raman" in searched and "Oliver Grant" not in searched
    desc = client.get("/staff/?sort=name&dir=desc").get_data(as_text=True)
    assert desc.index("Priya Raman") < desc.index("Oliver Grant")


def _list_queries(client, path):
    client.get(path)
    with count_queries() as counter:
        assert client.get(path).status_code == 200
    return counter.count


def test_list_query_count_does_not_grow_with_rows(app, client, world):
    from app.services import accounts
    from app.services.scope import SYSTEM

    login(client, ADMIN)
    few = _list_queries(client, "/staff/?per_page=100")  # 3 staff
    with app.app_context():
        db = get_db()
        for n in range(27):  # 30 staff, some with pending activation links
            account = accounts.create_user(db, SYSTEM, {"role": "staff", "first_name": f"S{n}", "last_name": "Extra",
                                                        "email": f"extra{n}@test.origin",
                                                        "branch_id": world.home}, clock.now())
            db.insert("staff_profiles", {"user_id": account.user_id, "branch_id": world.home})
    many = _list_queries(client, "/staff/?per_page=100")
    assert value(app, "SELECT COUNT(*) FROM staff_profiles") == 30
    assert many == few


def test_get_requests_never_write(app, client, world):
    login(client, ADMIN)
    client.get("/dashboard/")
    before = counts(app)
    gets, _ = routes(world)
    for path in gets + ["/staff/?q=x&branch=abc&status=zzz&sort=nope&page=-4&per_page=100000"]:
        assert client.get(path).status_code == 200, path
    assert counts(app) == before


# --------------------------------------------------------------------------- activation links: never in the cookie



def test_create_and_reissue_keep_the_link_out_of_the_session_cookie(app, client, world):
    login(client, ADMIN)
    created = post_form(client, "/staff/new", new_staff(world))
    assert created.status_code == 303 and "handoff=" in created.headers["Location"]
    page = client.get(created.headers["Location"])
    html = page.get_data(as_text=True)
    link = LINK.search(html).group(1)
    assert html.count(link) == 1 and "It was not e-mailed" in html
    contents = session_contents(app, client, created, page)
    assert "Staff account created" in contents  # the flash decodes ...
    assert link not in contents and "/auth/activate/" not in contents  # ... without the link
    staff_id = int(urlsplit(created.headers["Location"]).path.rsplit("/", 1)[1])
    reissued = post_form(client, f"/staff/{staff_id}/activation", token_from=f"/staff/{staff_id}")
    assert reissued.status_code == 303
    # another admin opening the same address sees nothing, and does not use it up
    other = app.test_client()
    with app.app_context():
        f.make_user(get_db(), role="admin", email="second.admin@test.origin",
                    password_hash=value(app, "SELECT password_hash FROM users WHERE email = :e", {"e": ADMIN}))
    login(other, "second.admin@test.origin")
    foreign = other.get(reissued.headers["Location"]).get_data(as_text=True)
    assert LINK.search(foreign) is None and "This link was shown once" in foreign
    page = client.get(reissued.headers["Location"])
    second = LINK.search(page.get_data(as_text=True)).group(1)
    assert second != link
    contents = session_contents(app, client, reissued, page)
    assert second not in contents and "/auth/activate/" not in contents
    assert LINK.search(client.get(reissued.headers["Location"]).get_data(as_text=True)) is None  # shown once


# --------------------------------------------------------------------------- no take-over of an active account

def test_no_activation_link_for_a_staff_member_who_already_set_a_password(app, client, world):
    """The staff service used to issue one (an admin could then set any staff member's password)."""
    login(client, ADMIN)
    page = client.get(f"/staff/{world.staff}").get_data(as_text=True)
    assert f'action="/staff/{world.staff}/activation"' not in page  # no button offered
    tokens = value(app, "SELECT COUNT(*) FROM account_tokens")
    response = post_form(client, f"/staff/{world.staff}/activation")
    assert response.status_code == 422
    assert "already activated" in response.get_data(as_text=True)
    assert value(app, "SELECT COUNT(*) FROM account_tokens") == tokens
    assert audits(app, "activation_link_issued") == []
    assert login(app.test_client(), STAFF).status_code == 302  # their own password still works


def test_accounts_refuse_a_link_for_every_activated_account(app, world):
    """The central rule (accounts.reissue_activation) covers every role, not only the callers that check."""
    from app.core.errors import ValidationFailed
    from app.services import accounts
    from app.services.scope import Actor

    with app.app_context():
        db = get_db()
        actor = Actor(user_id=db.fetch_value("SELECT id FROM users WHERE email = :e", {"e": ADMIN}), role="admin")
        for email in (STAFF, INSTRUCTOR, STUDENT, ADMIN):
            user_id = db.fetch_value("SELECT id FROM users WHERE email = :e", {"e": email})
            with pytest.raises(ValidationFailed, match="already activated"):
                accounts.reissue_activation(db, actor, user_id, clock.now())
        fresh = f.make_user(db, role="staff", password_hash=accounts.unusable_password_hash())
        assert accounts.reissue_activation(db, actor, fresh, clock.now()).user_id == fresh
        assert db.fetch_value("SELECT COUNT(*) FROM account_tokens WHERE user_id <> :u", {"u": fresh}) == 0


def test_a_refused_action_is_shown_at_the_top_with_its_status(app, client, world):
    login(client, ADMIN)
    response = post_form(client, f"/staff/{world.staff}/restore")  # not archived
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-location="/staff/{world.staff}"' in html
    assert re.search(r'class="alert alert-danger page-alert"[^>]*>\s*This account is not archived\.', html)
