"""NotificationDAO (both backends): the purge helpers."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, timedelta

from app.dao.notification import NotificationDAO
from tests import factories as f

NOW = datetime(2026, 11, 26, 3, 0, 0)


def _note(db, user, age_days):
    return db.insert("notifications", {"user_id": user, "title": "t", "message": "m",
                                       "created_at": NOW - timedelta(days=age_days)})


def test_ids_older_than_is_ordered_and_limited(db):
    user = f.make_user(db)
    old = [_note(db, user, 400 + i) for i in range(3)]
    _note(db, user, 10)
    dao = NotificationDAO(db)
    assert dao.ids_older_than(NOW - timedelta(days=365), 2) == sorted(old)[:2]
    assert dao.ids_older_than(NOW - timedelta(days=365), 10) == sorted(old)


def test_delete_ids_removes_only_those(db):
    user = f.make_user(db)
    ids = [_note(db, user, d) for d in (1, 2, 3)]
    dao = NotificationDAO(db)
    assert dao.delete_ids(ids[:2]) == 2
    assert dao.delete_ids([]) == 0
    assert db.fetch_value("SELECT COUNT(*) AS n FROM notifications", cast=int) == 1


def test_the_inbox_reads_are_one_users_newest_first_and_marking_is_scoped(db):
    """The inbox methods (services/notifications.py): a page per user, the unread count, the owner, and
    mark read one (only the owner's) or all."""
    from app.core.pagination import ListQuery

    user, other = f.make_user(db), f.make_user(db)
    dao = NotificationDAO(db)
    mine = [dao.insert(user, f"t{n}", "m", NOW - timedelta(hours=5 - n)) for n in range(5)]
    theirs = dao.insert(other, "x", "m", NOW, level="warning")
    page = dao.page_for_user(user, ListQuery(sort="newest", per_page=2))
    assert page.total == 5 and [r["id"] for r in page.items] == [mine[4], mine[3]]
    assert dao.owner(theirs) == other and dao.owner(999999) is None
    assert dao.mark_read(other, mine[0]) == 0          # not theirs: nothing changes
    assert dao.mark_read(user, mine[0]) == 1 and dao.mark_read(user, mine[0]) == 0
    assert dao.unread_count(user) == 4
    assert dao.page_for_user(user, ListQuery(sort="newest"), unread_only=True).total == 4
    assert dao.mark_all_read(user) == 4 and dao.unread_count(user) == 0 and dao.unread_count(other) == 1


def test_a_notification_names_what_it_is_about_and_its_kind(db):
    import pytest

    from app.core.errors import ValidationFailed
    from app.core.pagination import ListQuery
    from app.services import notifications

    user = f.make_user(db)
    now = datetime(2026, 3, 10, 2, 30)
    notifications.notify(db, user, "Lesson moved", "Now at 10:00", now=now, related_type="schedule", related_id=7,
                         kind="transactional")
    notifications.notify(db, user, "Hello", "Plain", now=now + timedelta(seconds=1))
    plain, moved = NotificationDAO(db).page_for_user(user, ListQuery("newest", "desc")).items
    assert (moved["related_type"], moved["related_id"], moved["kind"], moved["reminder_id"]) == (
        "schedule", 7, "transactional", None)
    assert (plain["related_type"], plain["related_id"], plain["kind"]) == (None, None, None)
    with pytest.raises(ValidationFailed) as caught:
        notifications.notify(db, user, "x", "y", now=now, related_type="users")
    assert caught.value.field == "related_type"
    with pytest.raises(ValidationFailed):
        notifications.notify(db, user, "x", "y", now=now, kind="spam")
