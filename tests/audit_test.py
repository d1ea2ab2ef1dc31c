if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""AuditDAO and the audit service: append-only rows, hash chain, tamper detection, filters."""
from datetime import datetime, timedelta

import pytest

from app.core.database import count_queries
from app.core.pagination import ListQuery
from app.dao.audit import AuditDAO
from app.services import audit
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 11, 26, 9, 0, 0)


def _actor(db):
    user = f.make_user(db, role="staff")
    return Actor(user_id=user, role="staff", branch_id=None, ip="203.0.113.5")


def _write(db, actor, n=3):
    return [audit.record(db, actor, "branch_updated", "branch", i + 1, now=NOW + timedelta(seconds=i),
                         before={"name": f"Old {i}"}, after={"name": f"New {i}", "password_hash": "x"})
            for i in range(n)]


def test_record_writes_actor_snapshot_ip_and_chains_hashes(db):
    actor = _actor(db)
    ids = _write(db, actor)
    rows = [AuditDAO(db).find(i) for i in ids]
    assert rows[0]["user_id"] == actor.user_id and rows[0]["actor_role"] == "staff"
    assert rows[0]["ip_address"] == "203.0.113.5"
    assert '"name":"Old 0"' in rows[0]["before_json"]
    assert '"password_hash":"***"' in rows[0]["after_json"]  # secrets never stored
    assert rows[0]["prev_hash"] is None
    assert rows[1]["prev_hash"] == rows[0]["row_hash"] and rows[2]["prev_hash"] == rows[1]["row_hash"]
    assert AuditDAO(db).head()["last_id"] == ids[-1]
    assert audit.verify(db).ok and audit.verify(db).checked == 3


def test_verify_names_the_first_changed_row(db):
    ids = _write(db, _actor(db), 4)
    db.execute("UPDATE audit_trail SET details = :d WHERE id = :id", {"d": "edited", "id": ids[1]})
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == ids[1]
    assert "changed" in result.reason


def test_verify_detects_a_removed_row_and_removed_newest_rows(db):
    ids = _write(db, _actor(db), 4)
    db.execute("DELETE FROM audit_trail WHERE id = :id", {"id": ids[1]})
    result = audit.verify(db)
    assert not result.ok and result.first_bad_id == ids[2]


def test_verify_detects_truncated_tail(db):
    ids = _write(db, _actor(db), 3)
    db.execute("DELETE FROM audit_trail WHERE id = :id", {"id": ids[-1]})
    result = audit.verify(db)
    assert not result.ok and "newest" in result.reason


def test_legacy_rows_without_hash_are_accepted_before_the_chain(db):
    db.insert("audit_trail", {"user_id": None, "action": "student_created", "entity_type": "student",
                              "entity_id": 1, "details": "PHP era", "created_at": NOW - timedelta(days=300)})
    _write(db, _actor(db), 2)
    assert audit.verify(db).ok


def test_failed_audit_write_rolls_back_the_business_change(db, monkeypatch):
    actor = _actor(db)

    def broken_insert(self, row):
        raise RuntimeError("audit storage down")

    monkeypatch.setattr(AuditDAO, "insert", broken_insert)
    with pytest.raises(RuntimeError):
        with db.transaction():
            db.insert("branches", {"name": "Should vanish"})
            audit.record(db, actor, "branch_created", "branch", 1, now=NOW)
    assert db.fetch_value("SELECT COUNT(*) AS n FROM branches WHERE name = :n", {"n": "Should vanish"}, cast=int) == 0


def test_list_page_filters_and_costs_two_queries(db):
    actor = _actor(db)
    _write(db, actor, 3)
    audit.record(db, actor, "vehicle_created", "vehicle", 9, now=NOW + timedelta(minutes=5))
    dao = AuditDAO(db)
    with count_queries() as counter:
        page = dao.list_page(ListQuery.from_args({"entity_type": "vehicle"}, ["created_at"], "created_at",
                                                 "desc", filters=["entity_type"]))
    assert counter.count == 2
    assert page.total == 1 and page.items[0]["action"] == "vehicle_created"
    by_action = dao.list_page(ListQuery.from_args({"action": "branch_updated", "per_page": "2"}, ["created_at"],
                                                  "created_at", "desc", filters=["action"]))
    assert by_action.total == 3 and len(by_action.items) == 2
    by_time = dao.list_page(ListQuery.from_args({"from_at": "2026-11-26 09:00:01", "to_at": "2026-11-26 09:00:02"},
                                                ["created_at"], "created_at", filters=["from_at", "to_at"]))
    assert [r["entity_id"] for r in by_time.items] == [2]
    by_user = dao.list_page(ListQuery.from_args({"user_id": str(actor.user_id), "q": "vehicle"}, ["created_at"],
                                                "created_at", filters=["user_id"]))
    assert by_user.total == 1


def test_export_streams_all_matching_rows_in_id_order(db):
    _write(db, _actor(db), 5)
    rows = list(AuditDAO(db).export(ListQuery.from_args({}, ["created_at"], "created_at"), batch=2))
    assert [r["entity_id"] for r in rows] == [1, 2, 3, 4, 5]


def test_distinct_actions_and_entity_types(db):
    actor = _actor(db)
    _write(db, actor, 1)
    audit.record(db, actor, "login", None, None, now=NOW)
    assert AuditDAO(db).distinct_actions() == ["branch_updated", "login"]
    assert AuditDAO(db).distinct_entity_types() == ["branch"]


def test_dao_offers_no_update_or_delete():
    assert not [name for name in dir(AuditDAO) if name.startswith(("update", "delete", "remove"))]
