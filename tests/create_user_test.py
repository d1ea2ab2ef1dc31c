"""`flask create-user`: the first administrator of a fresh server (or any account) from the shell.

Through click's runner and the test client, on both databases: the prompted password (twice), the
ORIGIN_NEW_PASSWORD variable, the password policy, a used e-mail, the branch rules, the activation
link followed end to end, the audit rows, and the production profile (no demo data, no default
password: the first admin comes from this command).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from app.core.flask_db import get_db
from conftest import app_overrides, csrf_token, login
import factories as f

PASSWORD = "violet tram cardigan 1987"
ADMIN = ["create-user", "--role", "admin", "--email", "Ada@Example.org", "--first-name", "Ada", "--last-name", "Lovelace"]


def users(app):
    with app.app_context():
        return get_db().fetch_all("SELECT id, role, email, status, branch_id FROM users ORDER BY id")


def actions(app):
    with app.app_context():
        return [(r["action"], r["user_id"], r["entity_id"], r["details"]) for r in
                get_db().fetch_all("SELECT action, user_id, entity_id, details FROM audit_trail ORDER BY id")]


def signs_in(app, email, password=PASSWORD) -> bool:
    client = app.test_client()
    response = login(client, email, password)
    return response.status_code in (302, 303) and "/dashboard" in response.headers["Location"]


def test_the_first_admin_on_an_empty_database_with_the_prompted_password(app, runner):
    assert users(app) == []
    result = runner.invoke(args=ADMIN, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password:" in result.stderr and "Repeat the password:" in result.stderr
    assert PASSWORD not in result.output  # hidden input
    made = users(app)
    assert [(u["role"], u["email"], u["status"], u["branch_id"]) for u in made] == [
        ("admin", "ada@example.org", "active", None)]
    assert result.stdout.strip() == (f"created admin ada@example.org (user {made[0]['id']}); the password is set, "
                                     "they can sign in now")
    assert signs_in(app, "ada@example.org")
    trail = actions(app)
    assert [a for a, *_ in trail[:2]] == ["user_created", "account_activated"]
    action, user_id, entity_id, details = trail[0]
    assert user_id is None and entity_id == made[0]["id"]  # the system actor
    assert details.startswith("flask create-user by ") and details.endswith(": admin, password set on the command line")


def test_the_password_can_come_from_the_environment_for_scripts(app, runner, monkeypatch):
    monkeypatch.setenv("ORIGIN_NEW_PASSWORD", PASSWORD)
    result = runner.invoke(args=ADMIN)  # no input: nothing is asked
    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output and signs_in(app, "ada@example.org")


@pytest.mark.parametrize("password, words", [
    ("short", "Password must be at least 8 characters (this one has 5)."),
    ("password123", "on the list of common passwords"),
    ("Lovelace Rocks 2027", "must not contain your name \u201cLovelace\u201d"),
])
def test_a_password_the_policy_refuses_creates_nothing(app, runner, password, words):
    result = runner.invoke(args=ADMIN, input=f"{password}\n{password}\n")
    assert result.exit_code == 1 and words in result.output
    assert users(app) == [] and actions(app) == []


def test_two_different_passwords_are_asked_again_and_nothing_is_created_on_giving_up(app, runner):
    result = runner.invoke(args=ADMIN, input=f"{PASSWORD}\nsomething else\n")
    assert result.exit_code == 1 and "do not match" in result.output
    assert users(app) == []


def test_a_used_email_is_refused_before_the_password_is_asked(app, runner, db):
    existing = f.make_user(db, role="staff", email="ada@example.org")
    result = runner.invoke(args=ADMIN, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 1
    assert f"--email: an account with ada@example.org already exists (staff, active, user {existing})." in result.output
    assert "Password:" not in result.output and len(users(app)) == 1


def test_staff_instructors_and_students_need_a_branch_by_id_or_name(app, runner, db, monkeypatch):
    monkeypatch.setenv("ORIGIN_NEW_PASSWORD", PASSWORD)
    bayside = f.make_branch(db, name="Bayside Centre")
    base = ["create-user", "--email", "sam@example.org", "--first-name", "Sam", "--last-name", "Reed"]
    for role in ("staff", "instructor", "student"):
        result = runner.invoke(args=[*base, "--role", role])
        assert result.exit_code == 1 and f"--branch: a {role} account belongs to a branch" in result.output
    unknown = runner.invoke(args=[*base, "--role", "staff", "--branch", "Nowhere"])
    assert unknown.exit_code == 1 and f"no branch 'Nowhere'; the branches are {bayside} (Bayside Centre)" in unknown.output
    student = runner.invoke(args=[*base, "--role", "student", "--branch", str(bayside)])
    assert student.exit_code == 1 and "phone: Enter a phone number." in student.output  # the student service's rule
    assert users(app) == []

    staff = runner.invoke(args=[*base, "--role", "staff", "--branch", "bayside centre"])
    assert staff.exit_code == 0, staff.output
    made = users(app)[0]
    assert (made["role"], made["branch_id"]) == ("staff", bayside)
    assert db.fetch_value("SELECT branch_id FROM staff_profiles WHERE user_id = :u", {"u": made["id"]}) == bayside
    assert [a for a, *_ in actions(app)] == ["staff_created", "user_created", "account_activated"]
    assert signs_in(app, "sam@example.org")

    pupil = runner.invoke(args=["create-user", "--role", "student", "--email", "pia@example.org", "--first-name",
                                "Pia", "--last-name", "Nolan", "--phone", "0401 000 111", "--branch", str(bayside)])
    assert pupil.exit_code == 0, pupil.output
    assert db.fetch_value("SELECT COUNT(*) FROM students s JOIN users u ON u.id = s.user_id"
                          " WHERE u.email = 'pia@example.org'") == 1


def test_the_activation_link_works_end_to_end(app, runner, db):
    branch = f.make_branch(db, name="City")
    result = runner.invoke(args=["create-user", "--role", "instructor", "--email", "ivy@example.org", "--first-name",
                                 "Ivy", "--last-name", "Chen", "--branch", str(branch), "--activation-link",
                                 "--base-url", "http://localhost"])
    assert result.exit_code == 0, result.output
    link, summary = result.stdout.strip().splitlines()
    assert re.fullmatch(r"http://localhost/auth/activate/[A-Za-z0-9_-]{40,}", link)
    assert summary.startswith("created instructor ivy@example.org (user ") and "works once, until" in summary
    assert "Password:" not in result.output
    assert not signs_in(app, "ivy@example.org")  # no usable password until the link is used
    assert db.fetch_value("SELECT COUNT(*) FROM instructors i JOIN users u ON u.id = i.user_id"
                          " WHERE u.email = 'ivy@example.org'") == 1

    client = app.test_client()
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200 and "Ivy" in page.get_data(as_text=True)
    done = client.post(path, data={"password": PASSWORD, "confirm_password": PASSWORD,
                                   "csrf_token": csrf_token(client, path)})
    assert done.status_code == 303 and done.headers["Location"].endswith("/auth/login")
    assert signs_in(app, "ivy@example.org")
    assert client.get(path).status_code == 404  # once only
    made = [a for a in actions(app) if not a[0].startswith("login")]
    assert [a for a, *_ in made] == ["instructor_created", "user_created", "account_activated"]
    assert made[1][3].endswith(": instructor, activation link issued")


def test_the_link_is_built_for_the_configured_host(app, runner):
    app.config["TRUSTED_HOSTS"] = ["origin.example.com"]
    app.config["PREFERRED_URL_SCHEME"] = "https"
    try:
        made = runner.invoke(args=[*ADMIN, "--activation-link"])
        assert made.exit_code == 0, made.output
        assert made.stdout.startswith("https://origin.example.com/auth/activate/")
        refused = runner.invoke(args=["create-user", "--role", "admin", "--email", "eve@example.org", "--first-name",
                                      "Eve", "--last-name", "Moss", "--activation-link", "--base-url", "https://evil.test"])
        assert refused.exit_code == 2 and "evil.test is not in TRUSTED_HOSTS" in refused.output
        bad = runner.invoke(args=[*ADMIN, "--activation-link", "--base-url", "origin.example.com"])
        assert bad.exit_code == 2 and "--base-url" in bad.output
    finally:
        app.config["TRUSTED_HOSTS"] = None
        app.config["PREFERRED_URL_SCHEME"] = "http"


def test_missing_names_and_bad_roles_are_refused(app, runner):
    nameless = runner.invoke(args=["create-user", "--role", "admin", "--email", "x@example.org"], input="a\na\n")
    assert nameless.exit_code == 1 and "--first-name and --last-name" in nameless.output
    assert runner.invoke(args=["create-user", "--role", "owner", "--email", "x@example.org"]).exit_code == 2
    assert users(app) == []


def test_production_refuses_the_demo_data_and_creates_the_first_admin_by_link(db_url, tmp_path):
    from app.bootstrap import create_app

    app = create_app(app_overrides(db_url, tmp_path, APP_ENV="production", TRUSTED_HOSTS="origin.example.com",
                                   SECOND_FACTOR_ROLES="admin,staff"))
    runner = app.test_cli_runner()
    seed = runner.invoke(args=["seed-demo"])
    assert seed.exit_code == 1 and "refused in the production profile" in seed.output
    assert users(app) == []  # no demo account, so no default password
    made = runner.invoke(args=[*ADMIN, "--activation-link"])
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("https://origin.example.com/auth/activate/")
