"""Kept report CSVs (services/export_cache.py, blueprints/reports.py): the same export asked again is
served from the file the first left, byte for byte, without building the report again; an audited
change, a summary refresh, another day, another scope or other arguments build it afresh; a file past
the age limit is not served; an abandoned download leaves no file; the directory is private; and the
stamp the key holds (the last audited data change: a sign-in leaves it) is read on both databases."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import os
import stat
import time
from datetime import datetime

import pytest

from app.core.database import count_queries
from app.core.flask_db import get_db
from app.dao.report import ReportQueriesDAO
from app.services import audit, stats
from app.services.export_cache import ExportCache
from app.services.scope import Actor
from tests.reports_views_test import NOW, TODAY, _client, _text, world  # noqa: F401 (the fixture)

ADMIN = Actor(user_id=1, role="admin")


@pytest.fixture
def kept(app, tmp_path):
    app.config["EXPORT_CACHE_SECONDS"] = 300
    app.config["EXPORT_CACHE_DIR"] = str(tmp_path / "exports")
    return tmp_path / "exports"


def _body(response) -> bytes:
    """The whole body, the response closed (a kept file is sent from an open file, as a server does)."""
    try:
        return response.get_data()
    finally:
        response.close()


def _report_statements(counted) -> list[str]:
    return [s for s in counted.statements if "stat_invoice_owing" in s]


def test_the_same_export_is_served_from_the_kept_file(app, world, kept):
    admin = _client(app, "admin@x.com")
    with count_queries() as first_run:
        first = admin.get("/reports/ageing.csv")
        body = _body(first)
    assert first.status_code == 200 and _report_statements(first_run)
    files = [p for p in kept.iterdir()]
    assert len(files) == 1 and files[0].name.endswith("__report_ageing_all_2026-03-10.csv")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o700 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    _client(app, "staff@x.com")                                      # a sign-in meanwhile: no data change
    with count_queries() as second_run:
        second = admin.get("/reports/ageing.csv")
        again = _body(second)
    assert second.status_code == 200 and again == body and b"ZZINV-north" in again
    assert not _report_statements(second_run)                      # not built again
    assert second.headers["Content-Disposition"] == first.headers["Content-Disposition"]
    assert second.mimetype == "text/csv" and second.headers["Cache-Control"] == "no-store"
    assert _client(app, "teacher.north@x.com").get("/reports/ageing.csv").status_code == 403  # roles first


def test_an_audited_change_or_a_refresh_builds_it_afresh(app, world, kept):
    admin = _client(app, "admin@x.com")
    assert b"Zznorthstudent" in _body(admin.get("/reports/ageing.csv"))
    with app.app_context():
        db = get_db()
        user_id = db.fetch_value("SELECT user_id FROM students WHERE id = :id", {"id": world["north"]["student"]})
        with db.transaction():  # a rename as the application makes it: with its audit row
            db.execute("UPDATE users SET last_name = 'Renamed' WHERE id = :id", {"id": user_id})
            audit.record(db, None, "student_updated", "user", user_id, now=NOW)
    renamed = _body(admin.get("/reports/ageing.csv"))
    assert b"Student Renamed" in renamed and b"Zznorthstudent" not in renamed
    with app.app_context():
        db = get_db()
        db.execute("UPDATE stat_invoice_owing SET owing = 1.00")  # hand-made, so only the refresh is seen
        stats.refresh(db, datetime(2026, 3, 10, 3, 0), today=TODAY)
    with count_queries() as counted:
        _body(admin.get("/reports/ageing.csv"))
    assert _report_statements(counted)                             # the refresh moved the stamp
    assert len(list(kept.iterdir())) == 3


def test_scope_arguments_and_day_each_have_their_own_file(app, world, kept, frozen):
    admin, staff = _client(app, "admin@x.com"), _client(app, "staff@x.com")
    whole = _body(admin.get("/reports/ageing.csv"))
    north = _body(staff.get("/reports/ageing.csv"))
    assert b"ZZINV-south" in whole and b"ZZINV-south" not in north    # staff: their branch, never the kept chain
    assert b"ZZINV-south" not in _body(staff.get("/reports/ageing.csv"))
    by_number = _body(admin.get("/reports/ageing.csv?sort=number&dir=desc"))
    assert by_number.index(b"ZZINV-south") < by_number.index(b"ZZINV-north")
    assert len(list(kept.iterdir())) == 3
    frozen(datetime(2026, 3, 11, 2, 30))                             # the next day: days overdue move on
    response = _client(app, "admin@x.com").get("/reports/ageing.csv")  # (signed in again: a day idle)
    assert response.status_code == 200 and _body(response)
    assert len(list(kept.iterdir())) == 4


def test_a_bad_filter_is_still_a_400_and_keeps_nothing(app, world, kept):
    response = _client(app, "admin@x.com").get("/reports/revenue.csv?date_from=2026-13")
    assert response.status_code == 400 and "date_from" in _text(response)
    assert not kept.exists() or not list(kept.iterdir())


def test_files_past_the_age_limit_are_not_served_and_are_pruned(tmp_path):
    cache = ExportCache(tmp_path, 300)
    key = cache.key("ageing", ADMIN, [], TODAY, {"audit_id": 7})
    assert "".join(cache.write_through(key, "report.csv", iter(["a,b\r\n", "1,2\r\n"]))) == "a,b\r\n1,2\r\n"
    path, name = cache.find(key)
    assert name == "report.csv" and path.read_bytes() == b"a,b\r\n1,2\r\n"
    assert cache.find(key, now=time.time() + 301) is None
    os.utime(path, (time.time() - 400, time.time() - 400))
    assert cache.prune() == 1 and not list(tmp_path.iterdir())
    assert ExportCache(tmp_path, 0).find(key) is None               # 0: off
    assert cache.key("ageing", ADMIN, [], TODAY, {"audit_id": 8}) != key
    assert cache.key("ageing", Actor(user_id=2, role="staff", branch_id=3), [], TODAY, {"audit_id": 7}) != key


def test_an_abandoned_or_failed_download_leaves_no_file(tmp_path):
    cache = ExportCache(tmp_path, 300)
    stream = cache.write_through("k1", "report.csv", iter(["a\r\n"] * 5))
    next(stream)
    stream.close()                                                   # the client went away
    assert not list(tmp_path.iterdir())

    def failing():
        yield "a\r\n"
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        list(cache.write_through("k2", "report.csv", failing()))
    assert not list(tmp_path.iterdir()) and cache.find("k2") is None
    assert list(cache.write_through("k3", "../evil.csv", iter(["x"]))) == ["x"]   # an unsafe name: not kept
    assert not list(tmp_path.iterdir())


def test_the_stamp_moves_with_the_audit_chain_and_the_refresh(db):
    dao = ReportQueriesDAO(db)
    before = dao.export_stamp()
    audit.record(db, None, "branch_created", "branch", 1, now=NOW)
    moved = dao.export_stamp()
    assert moved["audit_id"] != before["audit_id"] and moved["audit_id"] is not None
    for action in ("login", "access_refused", "personal_data_exported"):   # no figure changes
        audit.record(db, None, action, "user", 1, now=NOW)
    assert dao.export_stamp() == moved
    assert audit.verify(db).ok                                       # the chain itself moved on as ever
    stats.refresh(db, NOW, today=TODAY)
    assert dao.export_stamp()["refreshed_at"] is not None


def test_one_claim_at_a_time_a_stale_one_is_taken_over_and_a_waiter_gets_the_builders_file(tmp_path):
    cache = ExportCache(tmp_path, 300)
    assert cache.claim("k") and not cache.claim("k")                 # the second asker waits
    assert ExportCache(tmp_path, 0).claim("k") is False              # off: nobody claims
    ticks = {"t": 0.0}

    def sleep(seconds):                                              # the builder finishes while we wait
        ticks["t"] += seconds
        if ticks["t"] >= 0.3:
            list(cache.write_through("k", "report.csv", iter(["a\r\n"])))
            cache.release("k")

    found = cache.wait_for("k", timeout=5, poll=0.1, sleep=sleep, clock=lambda: ticks["t"])
    assert found is not None and found[0].read_bytes() == b"a\r\n" and not (tmp_path / ".lock-k").exists()
    assert cache.claim("j")
    assert cache.wait_for("j", timeout=0.5, poll=0.1, sleep=lambda s: ticks.update(t=ticks["t"] + s),
                          clock=lambda: ticks["t"]) is None          # nobody wrote it: the waiter gives up
    cache.release("j")
    assert cache.wait_for("j", timeout=5) is None                    # no claim, no file: build it yourself
    assert cache.claim("old")
    os.utime(tmp_path / ".lock-old", (time.time() - 121, time.time() - 121))
    assert cache.claim("old")                                        # a killed builder's claim is taken over
    os.utime(tmp_path / ".lock-old", (time.time() - 121, time.time() - 121))
    assert cache.prune() == 1 and not (tmp_path / ".lock-old").exists()


def test_simultaneous_askers_build_the_export_once_and_get_the_same_file(app, world, kept, monkeypatch):
    """Four people ask for the same missing CSV at once (threads, each with its own connection to the
    test database): one builds it, the others wait for its file; every body is the same; no claim is
    left behind. A HEAD while nothing is kept leaves no claim either."""
    import threading

    from app.services import reports

    built, started = [], threading.Barrier(4)
    real = reports.csv_table

    def slow_table(*args, **kwargs):
        built.append(1)
        time.sleep(0.3)                                              # long enough for the others to arrive
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "csv_table", slow_table)
    clients = [_client(app, "admin@x.com") for _ in range(4)]
    bodies, problems = [None] * 4, []

    def ask(n):
        try:
            started.wait(timeout=10)
            response = clients[n].get("/reports/ageing.csv")
            bodies[n] = (response.status_code, _body(response))
        except Exception as exc:  # noqa: BLE001 - reported below
            problems.append(repr(exc))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not problems and len(built) == 1
    assert {b[0] for b in bodies} == {200} and len({b[1] for b in bodies}) == 1 and b"ZZINV-north" in bodies[0][1]
    assert [p.name for p in kept.iterdir() if p.name.startswith((".lock-", ".building-"))] == []
    for path in kept.iterdir():
        path.unlink()
    head = clients[0].head("/reports/ageing.csv")
    head.close()
    assert head.status_code == 200 and not [p for p in kept.iterdir() if p.name.startswith(".lock-")]
