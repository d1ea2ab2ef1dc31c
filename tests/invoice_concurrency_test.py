"""Invoice numbers under parallel issuers (MariaDB, real connections): 10 threads x 5 invoices in the
same, fresh year get 50 distinct, gap-free numbers INV-YYYY-000001..000050 (the counter row is created
by the first issuer; the others wait on its lock)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import datetime

import pytest

from app.core.database import Database
from app.services import invoicing
from app.services.scheduling import with_retries
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

NOW = datetime(2031, 5, 6, 1, 0, 0)
THREADS, EACH = 10, 5


@pytest.fixture
def db_url(mysql_schema) -> str:
    """MariaDB only (SQLite serialises writers: nothing to race), emptied for each test."""
    _empty_mysql(mysql_schema)
    return mysql_schema


@pytest.fixture
def db(db_url):
    database = Database.from_url(db_url)
    yield database
    database.close()
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne", "INVOICE_REMINDER_DAYS_BEFORE_DUE": "2"}


def test_fifty_parallel_invoices_get_fifty_distinct_numbers(db, db_url):
    admin = f.make_user(db, role="admin")
    enrolments = [f.make_enrollment(db) for _ in range(THREADS)]
    actor = Actor(user_id=admin, role="admin")
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def issue(enrolment: int) -> None:
        conn = Database.from_url(db_url)
        try:
            start.wait()
            for _ in range(EACH):
                def attempt():
                    with conn.transaction():
                        return invoicing.create_invoice(
                            conn, actor, enrollment_id=enrolment, now=NOW, settings=SETTINGS,
                            lines=[{"description": "Lesson", "quantity": 1, "unit_price": "70.00", "kind": "lesson"}])
                new_id = with_retries(attempt)
                with lock:
                    ids.append(new_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=issue, args=(e,)) for e in enrolments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    numbers = sorted(r["invoice_number"] for r in db.fetch_all(
        "SELECT invoice_number FROM invoices WHERE issue_date >= '2031-01-01'"))
    assert len(ids) == THREADS * EACH
    assert numbers == [f"INV-2031-{n:06d}" for n in range(1, THREADS * EACH + 1)]


def test_the_counter_alone_never_hands_out_a_number_twice(db, db_url):
    """The same race without the audit chain's lock (which serialises whole invoice creations): each thread
    takes numbers straight from InvoiceDAO.next_number in transactions of its own, holding each a moment."""
    import time

    from app.dao.invoice import InvoiceDAO

    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def take() -> None:
        conn = Database.from_url(db_url)
        try:
            start.wait()
            for _ in range(EACH):
                def attempt():
                    with conn.transaction():
                        n = InvoiceDAO(conn).next_number(2032)
                        time.sleep(0.002)  # hold the row lock while others queue on it
                        return n
                n = with_retries(attempt)
                with lock:
                    taken.append(n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=take) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(taken) == list(range(1, THREADS * EACH + 1))
