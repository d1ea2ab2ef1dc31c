"""The notifications inbox (services/notifications.py, blueprints/notifications.py) on both databases:
each user sees only their own notifications, newest first, 25 a page, unread ones marked and counted in
the navigation; "mark as read" marks one (someone else's id is 404 and changes nothing) or all; the
unread filter; a notification is written with a valid level, title and message only."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import datetime, timedelta

import pytest

from app.core import passwords
from app.core.errors import NotFound, ValidationFailed
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.services import notifications
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NOW = datetime(2026, 3, 1, 0, 0)


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        ids = {}
        for role, email in (("student", "jack@x.com"), ("staff", "staff@x.com"), ("instructor", "raj@x.com")):
            ids[email] = f.make_user(db, role=role, email=email, password_hash=passwords.hash_password(DEMO_PASSWORD))
        notes = [notifications.notify(db, ids["jack@x.com"], f"Note {n}", f"Message {n}", "info",
                                      now=NOW - timedelta(minutes=30 - n)) for n in range(30)]
        foreign = notifications.notify(db, ids["staff@x.com"], "Zzforeign", "Not for Jack", "warning", now=NOW)
    return {"ids": ids, "notes": notes, "foreign": foreign}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _post(client, data=None):
    return client.post("/notifications/read", data={**(data or {}), "csrf_token": csrf_token(client, "/dashboard/")})


def _unread(app, user):
    with app.app_context():
        return get_db().fetch_value("SELECT COUNT(*) FROM notifications WHERE user_id = :u AND is_read = 0", {"u": user})


def test_the_inbox_lists_own_notifications_newest_first_and_paginates(app, world):
    client = _client(app, "jack@x.com")
    html = client.get("/notifications/").get_data(as_text=True)
    titles = re.findall(r"</span> (Note \d+)</h3>", html)
    assert titles[:3] == ["Note 29", "Note 28", "Note 27"] and len(titles) == 25
    assert "Zzforeign" not in html and "30 unread" in html
    assert re.search(r'nav-badge[^>]*>30<', html)  # the unread count in the navigation
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert re.findall(r"</span> (Note \d+)</h3>", second) == [f"Note {n}" for n in (4, 3, 2, 1, 0)]
    assert _client(app, "raj@x.com").get("/notifications/").status_code == 200  # every role has an inbox


def test_mark_one_read_then_all(app, world):
    client = _client(app, "jack@x.com")
    jack = world["ids"]["jack@x.com"]
    response = _post(client, {"notification_id": str(world["notes"][5]), "page": "2"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/notifications/?page=2")
    assert _unread(app, jack) == 29
    assert _post(client, {"notification_id": str(world["notes"][5])}).status_code == 303  # already read: fine
    unread_page = client.get("/notifications/?show=unread").get_data(as_text=True)
    assert "29 unread" in unread_page and "Note 5<" not in unread_page
    response = _post(client)
    assert response.status_code == 303 and _unread(app, jack) == 0
    assert "29 notifications marked as read." in client.get(response.headers["Location"]).get_data(as_text=True)
    html = client.get("/notifications/").get_data(as_text=True)
    assert "Everything is read." in html and 'nav-badge' not in html


def test_someone_elses_notification_is_404_and_unchanged(app, world):
    client = _client(app, "jack@x.com")
    for wanted in (str(world["foreign"]), "999999", "abc", "-3", "9" * 30):
        assert _post(client, {"notification_id": wanted}).status_code == 404, wanted
    assert _unread(app, world["ids"]["staff@x.com"]) == 1
    assert _unread(app, world["ids"]["jack@x.com"]) == 30
    assert client.post("/notifications/read", data={}).status_code == 403  # no CSRF token


def test_notify_validates_and_mark_read_is_scoped(app, world):
    with app.app_context():
        db = get_db()
        jack = Actor(user_id=world["ids"]["jack@x.com"], role="student")
        for kwargs, field in (({"level": "loud"}, "level"), ({"title": ""}, "title"), ({"title": "x" * 161}, "title"),
                              ({"message": " "}, "message")):
            args = {"title": "Hi", "message": "There", "level": "info", **kwargs}
            with pytest.raises(ValidationFailed) as caught:
                notifications.notify(db, jack.user_id, args["title"], args["message"], args["level"], now=NOW)
            assert caught.value.field == field
        with pytest.raises(NotFound):
            notifications.mark_read(db, jack, world["foreign"])
        assert notifications.mark_read(db, jack, world["notes"][0]) is True
        assert notifications.mark_read(db, jack, world["notes"][0]) is False
        assert notifications.unread_count(db, jack) == 29
        assert notifications.badge(db, jack, NOW) == (29, "29 unread notifications")
        page = notifications.inbox(db, jack, ListQuery(sort="newest", filters={"show": "unread"}))
        assert page.total == 29
