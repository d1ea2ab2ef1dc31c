"""The audit chain under parallel writers (both backends).

Every audit append locks the chain's head row. When that row had to be created by the first writers,
parallel first writes on MariaDB deadlocked (two gap locks, two inserts) and the deadlock was
swallowed as "another writer created it", leaving the write to fail later. The schema now seeds the
head row (init-db and migration 0007), and ``lock_head`` only tolerates a real duplicate key.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import datetime

from app.core import clock
from app.core.database import Database
from app.core.schema import init_db
from app.dao.audit import AuditDAO
from app.services import audit
from app.services.scope import Actor

NOW = datetime(2026, 11, 30, 9, 0, 0)
WRITERS = 12


def _seed_head(db_url: str) -> None:
    """What init-db and migration 0007 do (the test fixture empties every table between tests)."""
    db = Database.from_url(db_url)
    statement = ("INSERT IGNORE INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)"
                 if db.backend == "mysql" else
                 "INSERT OR IGNORE INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
    db.execute(statement)
    db.execute(statement)  # re-runnable
    db.close()


def test_init_db_creates_the_chain_head(tmp_path):
    db = Database.from_url(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    init_db(db, clock.now())
    assert AuditDAO(db).head() == {"id": 1, "last_id": None, "last_hash": None}
    db.close()


def test_parallel_audit_writers_keep_one_valid_chain(db_url):
    _seed_head(db_url)
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        conn = Database.from_url(db_url)
        try:
            barrier.wait(timeout=10)
            with conn.transaction():
                audit.record(conn, Actor(user_id=0, role="admin"), "concurrency_probe", None, None, now=NOW,
                             details=f"writer {i}")
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    check = Database.from_url(db_url)
    result = audit.verify(check)
    rows = check.fetch_value("SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'concurrency_probe'", cast=int)
    check.close()
    assert rows == WRITERS
    assert result.ok, result
    assert result.checked == WRITERS
