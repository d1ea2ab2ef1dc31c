"""ContactPreferenceDAO on SQLite and MariaDB: no row means every channel; save inserts then updates."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime

from app.dao.contact_preference import ContactPreferenceDAO
from app.services import contact
from tests.factories import make_user

NOW = datetime(2026, 3, 10, 2, 30)


def test_no_row_allows_every_channel_and_save_inserts_then_updates(db):
    user = make_user(db)
    dao = ContactPreferenceDAO(db)
    assert dao.opt_outs(user) is None and contact.preferences(db, user) == {"email": True, "sms": True, "in_app": True}
    with db.transaction():
        dao.save(user, email_opt_out=False, sms_opt_out=True, in_app_opt_out=False, now=NOW)
    assert contact.preferences(db, user) == {"email": True, "sms": False, "in_app": True}
    with db.transaction():
        dao.save(user, email_opt_out=True, sms_opt_out=False, in_app_opt_out=True, now=NOW)
    assert contact.preferences(db, user) == {"email": False, "sms": True, "in_app": False}
    assert db.fetch_value("SELECT COUNT(*) FROM contact_preferences WHERE user_id = :u", {"u": user}) == 1
