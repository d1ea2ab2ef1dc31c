"""Payments racing on one invoice, on a real MariaDB (MariaDB only: it needs row locks between separate
connections; without a server it fails under REQUIRE_MYSQL=1 instead of being skipped). Several threads,
each with its own connection, record payments on one 968.00 invoice at the same moment: the sum paid
never exceeds the total (the invoice row is locked FOR UPDATE before anything is read, so each payer sees
the previous payer's commit), the refused ones get the 422 naming ``amount``, and the invoice ends paid.
The same idempotency key sent by several threads at once records one payment and every caller gets its id."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import datetime
from decimal import Decimal

import pytest

from app.core.database import Database
from app.core.errors import ValidationFailed
from app.services import audit, payments
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

NOW = datetime(2026, 3, 10, 2, 30)
THREADS = 4


def _world(url):
    _empty_mysql(url)
    db = Database.from_url(url)
    try:
        db.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
        branch = f.make_branch(db)
        invoice = f.make_invoice(db, f.make_enrollment(db, f.make_student(db, branch_id=branch)))  # 968.00
        actors = [Actor(user_id=f.make_user(db, role="staff", branch_id=branch), role="staff", branch_id=branch)
                  for _ in range(THREADS)]
    finally:
        db.close()
    return invoice, actors


def _race(url, invoice, actors, amount, key=None):
    start = threading.Barrier(len(actors))
    results: list = [None] * len(actors)

    def run(i):
        conn = Database.from_url(url)
        try:
            # a plain read first, as a page would do: the service must still see the latest commit
            conn.fetch_value("SELECT COUNT(*) AS n FROM payments")
            start.wait(timeout=10)
            results[i] = payments.record(conn, actors[i], invoice, {"amount": amount, "method": "cash"},
                                         now=NOW, settings={}, idempotency_key=key)
        except Exception as exc:  # collected and judged below
            results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(r is not None for r in results), "a payer did not finish"
    return results


def _paid(url, invoice):
    check = Database.from_url(url)
    try:
        paid = Decimal(str(check.fetch_value("SELECT COALESCE(SUM(amount), 0) AS s FROM payments WHERE invoice_id = :i",
                                             {"i": invoice})))
        rows = check.fetch_value("SELECT COUNT(*) AS n FROM payments WHERE invoice_id = :i", {"i": invoice}, cast=int)
        status = check.fetch_value("SELECT status FROM invoices WHERE id = :i", {"i": invoice})
        assert audit.verify(check).ok
    finally:
        check.close()
    return paid, rows, status


@pytest.mark.mysql_only
@pytest.mark.parametrize("amount,winners", [("600.00", 1), ("300.00", 3)])
def test_racing_payments_never_exceed_the_total(mysql_schema, amount, winners):
    invoice, actors = _world(mysql_schema)
    results = _race(mysql_schema, invoice, actors, amount)
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if not isinstance(r, int)]
    assert len(won) == winners, results
    assert all(isinstance(r, ValidationFailed) and "amount" in r.errors for r in lost), results
    paid, rows, status = _paid(mysql_schema, invoice)
    assert paid == Decimal(amount) * winners <= Decimal("968.00")
    assert rows == winners and status == "partial"


@pytest.mark.mysql_only
def test_the_same_key_at_the_same_moment_records_one_payment(mysql_schema):
    invoice, actors = _world(mysql_schema)
    results = _race(mysql_schema, invoice, actors, "968.00", key="race-key-0123456789")
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    paid, rows, status = _paid(mysql_schema, invoice)
    assert (paid, rows, status) == (Decimal("968.00"), 1, "paid")
