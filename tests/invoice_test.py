"""Invoices on both backends: InvoiceDAO.recent (balance due as exact money, filters, order, one query), then
the invoicing service of issue 9 (numbers, statuses, discounts and tax, void and credit notes, fees and waivers,
reminders queued and withdrawn, the overdue job, scope, the paid hook), the list page, the statement and the
SQLite rebuild of migration 0016."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, timedelta
from decimal import Decimal

from app.core.database import count_queries
from app.dao.invoice import InvoiceDAO
from tests.factories import (
    make_branch, make_course, make_enrollment, make_invoice, make_payment, make_student, make_user,
)

TODAY = date(2026, 3, 10)
DAY = timedelta(days=1)


def _by_number(rows) -> dict:
    return {r["invoice_number"]: r for r in rows}


def _assert_money(value, expected: str):
    assert isinstance(value, Decimal), type(value)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2, value  # exactly two decimals (cents), e.g. 568.00 not 568


def test_balance_due_is_total_minus_all_payments(db):
    invoice = make_invoice(db, invoice_number="INV-A", subtotal=Decimal("880.00"))  # total 968.00
    make_payment(db, invoice, Decimal("400.00"))
    make_payment(db, invoice, Decimal("100.10"))
    make_payment(db, invoice, Decimal("0.20"))
    row = _by_number(InvoiceDAO(db).recent())["INV-A"]
    _assert_money(row["total"], "968.00")
    _assert_money(row["paid"], "500.30")
    _assert_money(row["balance_due"], "467.70")


def test_cents_that_do_not_add_up_in_binary_floats_stay_exact(db):
    # SQLite stores DECIMAL as REAL and SUM returns a float: 0.10 + 0.20 is 0.30000000000000004 there
    invoice = make_invoice(db, invoice_number="INV-F", subtotal=Decimal("12.55"), tax_amount=Decimal("0.25"))
    for amount in ("0.10", "0.20", "12.50"):
        make_payment(db, invoice, Decimal(amount))
    row = _by_number(InvoiceDAO(db).recent())["INV-F"]
    _assert_money(row["total"], "12.80")
    _assert_money(row["paid"], "12.80")
    _assert_money(row["balance_due"], "0.00")


def test_invoice_without_payments_owes_its_total(db):
    make_invoice(db, invoice_number="INV-Z", subtotal=Decimal("320.00"))
    row = _by_number(InvoiceDAO(db).recent())["INV-Z"]
    _assert_money(row["paid"], "0.00")
    _assert_money(row["balance_due"], "352.00")


def test_payments_of_one_invoice_do_not_leak_into_another(db):
    enrollment = make_enrollment(db)
    first = make_invoice(db, enrollment, invoice_number="INV-1", subtotal=Decimal("100.00"))
    make_invoice(db, enrollment, invoice_number="INV-2", subtotal=Decimal("200.00"))
    make_payment(db, first, Decimal("110.00"))
    rows = _by_number(InvoiceDAO(db).recent())
    _assert_money(rows["INV-1"]["balance_due"], "0.00")
    _assert_money(rows["INV-2"]["balance_due"], "220.00")


def test_overpayment_gives_a_negative_balance(db):
    invoice = make_invoice(db, invoice_number="INV-O", subtotal=Decimal("100.00"))
    make_payment(db, invoice, Decimal("150.00"))
    _assert_money(_by_number(InvoiceDAO(db).recent())["INV-O"]["balance_due"], "-40.00")


def test_rows_carry_course_and_student_names(db):
    user = make_user(db, first_name="Jack", last_name="Mason")
    student = make_student(db, user_id=user)
    enrollment = make_enrollment(db, student, make_course(db, title="Learner Essentials Package"))
    invoice = make_invoice(db, enrollment, invoice_number="INV-20260301-0001", issue_date=TODAY,
                           due_date=TODAY + 7 * DAY, status="partial")
    (row,) = InvoiceDAO(db).recent()
    assert row["id"] == invoice
    assert row["issue_date"] == TODAY and row["due_date"] == TODAY + 7 * DAY
    assert row["status"] == "partial"
    assert row["course_title"] == "Learner Essentials Package"
    assert (row["student_first_name"], row["student_last_name"]) == ("Jack", "Mason")


def test_newest_issue_date_first_then_newest_id_and_limit(db):
    enrollment = make_enrollment(db)
    make_invoice(db, enrollment, invoice_number="old", issue_date=TODAY - 30 * DAY)
    make_invoice(db, enrollment, invoice_number="newest", issue_date=TODAY)
    make_invoice(db, enrollment, invoice_number="mid-first", issue_date=TODAY - 5 * DAY)
    make_invoice(db, enrollment, invoice_number="mid-second", issue_date=TODAY - 5 * DAY)
    make_invoice(db, enrollment, invoice_number="older", issue_date=TODAY - 20 * DAY)
    make_invoice(db, enrollment, invoice_number="middle", issue_date=TODAY - 10 * DAY)
    dao = InvoiceDAO(db)
    numbers = [r["invoice_number"] for r in dao.recent(limit=10)]
    assert numbers == ["newest", "mid-second", "mid-first", "middle", "older", "old"]
    assert [r["invoice_number"] for r in dao.recent()] == numbers[:5]  # default limit 5
    assert [r["invoice_number"] for r in dao.recent(limit=2)] == ["newest", "mid-second"]


def test_filters_by_student_and_by_the_students_branch(db):
    north, south = make_branch(db), make_branch(db)
    jack, mia, zoe = (make_student(db, branch_id=north), make_student(db, branch_id=north),
                      make_student(db, branch_id=south))
    make_invoice(db, make_enrollment(db, jack), invoice_number="jack-1", issue_date=TODAY - 3 * DAY)
    make_invoice(db, make_enrollment(db, jack), invoice_number="jack-2", issue_date=TODAY - 1 * DAY)
    make_invoice(db, make_enrollment(db, mia), invoice_number="mia-1", issue_date=TODAY - 2 * DAY)
    make_invoice(db, make_enrollment(db, zoe), invoice_number="zoe-1", issue_date=TODAY)
    dao = InvoiceDAO(db)
    assert [r["invoice_number"] for r in dao.recent(student_id=jack)] == ["jack-2", "jack-1"]
    assert [r["invoice_number"] for r in dao.recent(branch_id=north)] == ["jack-2", "mia-1", "jack-1"]
    assert [r["invoice_number"] for r in dao.recent(branch_id=south)] == ["zoe-1"]
    assert dao.recent(student_id=zoe, branch_id=north) == []
    assert dao.recent(student_id=max(jack, mia, zoe) + 1000) == []


def test_one_query_however_many_invoices_and_payments(db):
    for n in range(7):
        invoice = make_invoice(db, make_enrollment(db), issue_date=TODAY - n * DAY)
        for _ in range(n):
            make_payment(db, invoice, Decimal("1.00"))
    dao = InvoiceDAO(db)
    with count_queries() as counter:
        rows = dao.recent(limit=10)
    assert counter.count == 1
    assert len(rows) == 7
    assert [r["paid"] for r in rows] == [Decimal(f"{n}.00") for n in range(7)]


# ------------------------------------------------------------------------------------------------------
# Issue 9: the invoicing service (numbers, statuses, void and credit notes, fees, reminders, overdue)

from datetime import datetime  # noqa: E402

import pytest  # noqa: E402

from app.core.errors import Conflict, NotFound, ValidationFailed  # noqa: E402
from app.services import invoicing  # noqa: E402
from app.services.scope import Actor  # noqa: E402

NOW = datetime(2026, 3, 10, 1, 0, 0)  # 12:00 in Melbourne, 10 Mar 2026
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne", "GST_RATE": "10", "INVOICE_DUE_DAYS": 7,
            "INVOICE_REMINDER_DAYS_BEFORE_DUE": "2"}


def _admin(db) -> Actor:
    return Actor(user_id=make_user(db, role="admin"), role="admin")


def _line(price="880.00", **extra) -> dict:
    return {"description": "Learner Essentials Package Fee", "quantity": 1, "unit_price": price, "kind": "course",
            **extra}


def _issued(db, actor, enrollment=None, price="880.00", now=NOW, **kw) -> int:
    return invoicing.create_invoice(db, actor, enrollment_id=enrollment or make_enrollment(db), lines=[_line(price)],
                                    now=now, settings=SETTINGS, **kw)


def test_issued_invoice_gets_the_years_next_number_and_the_originals_amounts(db):
    actor = _admin(db)
    first, second = _issued(db, actor), _issued(db, actor)
    a, b = invoicing.get(db, actor, first), invoicing.get(db, actor, second)
    assert (a["invoice_number"], b["invoice_number"]) == ("INV-2026-000001", "INV-2026-000002")
    _assert_money(a["subtotal"], "880.00")
    _assert_money(a["tax_amount"], "88.00")
    _assert_money(a["total"], "968.00")  # the original's seed invoice 1
    assert a["status"] == "sent" and a["issue_date"] == TODAY and a["due_date"] == TODAY + 7 * DAY
    assert a["issued_at"] == NOW and a["items"][0]["kind"] == "course"


def test_numbers_restart_each_year_and_drafts_carry_a_placeholder(db):
    actor = _admin(db)
    draft = invoicing.create_invoice(db, actor, enrollment_id=make_enrollment(db), lines=[_line()], issue=False,
                                     now=NOW, settings=SETTINGS)
    row = invoicing.get(db, actor, draft)
    assert row["status"] == "draft" and row["invoice_number"] == f"DRAFT-{draft:06d}"
    assert invoicing.issue_invoice(db, actor, draft, now=NOW, settings=SETTINGS) == "INV-2026-000001"
    next_year = _issued(db, actor, now=datetime(2027, 1, 5, 1, 0))
    assert invoicing.get(db, actor, next_year)["invoice_number"] == "INV-2027-000001"
    with pytest.raises(Conflict):
        invoicing.issue_invoice(db, actor, draft, now=NOW, settings=SETTINGS)


def test_discount_and_tax_included(db):
    actor = _admin(db)
    added = _issued(db, actor, price="100.00", discount="10.00")
    row = invoicing.get(db, actor, added)
    assert (row["subtotal"], row["discount_amount"], row["tax_amount"], row["total"]) == (
        Decimal("100.00"), Decimal("10.00"), Decimal("9.00"), Decimal("99.00"))
    included = _issued(db, actor, price="110.00", tax_inclusive=True)
    row = invoicing.get(db, actor, included)
    assert (row["tax_amount"], row["total"], row["tax_inclusive"]) == (Decimal("10.00"), Decimal("110.00"), True)


@pytest.mark.parametrize("price, field", [("0", "lines-0-unit_price"), ("-5", "lines-0-unit_price"),
                                          ("abc", "lines-0-unit_price"), ("1.005", "lines-0-unit_price")])
def test_bad_amounts_are_refused_naming_the_field_and_nothing_is_written(db, price, field):
    actor = _admin(db)
    enrolment = make_enrollment(db)
    if price == "0":  # a free line is allowed; a three-decimal discount is not
        with pytest.raises(ValidationFailed) as caught:
            invoicing.create_invoice(db, actor, enrollment_id=enrolment, lines=[_line(price)], discount="0.001",
                                     now=NOW, settings=SETTINGS)
        assert caught.value.field == "discount"
    else:
        with pytest.raises(ValidationFailed) as caught:
            invoicing.create_invoice(db, actor, enrollment_id=enrolment, lines=[_line(price)], now=NOW,
                                     settings=SETTINGS)
        assert caught.value.field == field
    assert InvoiceDAO(db).recent(student_id=None) == []


def test_status_follows_payments_and_the_due_date(db):
    actor = _admin(db)
    invoice = _issued(db, actor)
    make_payment(db, invoice, Decimal("400.00"))
    assert invoicing.recompute(db, invoice, now=NOW, settings=SETTINGS) == {
        "total": Decimal("968.00"), "paid": Decimal("400.00"), "balance": Decimal("568.00"), "status": "partial"}
    later = datetime(2026, 3, 20, 1, 0)  # past the due date (17 Mar)
    assert invoicing.recompute(db, invoice, now=later, settings=SETTINGS)["status"] == "overdue"
    make_payment(db, invoice, Decimal("568.00"))
    assert invoicing.recompute(db, invoice, now=later, settings=SETTINGS)["status"] == "paid"
    assert invoicing.balance(db, invoice) == Decimal("0.00")


def test_mark_overdue_sets_overdue_only_past_the_due_date(db):
    actor = _admin(db)
    due, paid, later = _issued(db, actor), _issued(db, actor), _issued(db, actor, now=datetime(2026, 3, 15, 1, 0))
    make_payment(db, paid, Decimal("968.00"))
    invoicing.recompute(db, paid, now=NOW, settings=SETTINGS)
    assert invoicing.mark_overdue(db, now=datetime(2026, 3, 18, 1, 0), settings=SETTINGS) == 1
    statuses = {i: invoicing.get(db, actor, i)["status"] for i in (due, paid, later)}
    assert statuses == {due: "overdue", paid: "paid", later: "sent"}
    assert invoicing.mark_overdue(db, now=datetime(2026, 3, 18, 1, 0), settings=SETTINGS) == 0


def test_issuing_queues_the_invoice_due_reminder_and_paying_withdraws_it(db):
    actor = _admin(db)
    invoice = _issued(db, actor)
    reminder, issued = sorted(InvoiceDAO(db).reminders_of(invoice), key=lambda r: r["reminder_type"] != "Invoice Due")
    assert (reminder["reminder_type"], reminder["channel"], reminder["status"]) == ("Invoice Due", "email", "pending")
    # the original's "Invoice <number> issued" e-mail: transactional, due at once
    assert (issued["reminder_type"], issued["channel"], issued["send_at"], issued["transactional"]) == (
        "Invoice issued", "email", NOW, 1)
    assert reminder["send_on"] == TODAY + 5 * DAY  # the original: issue + 5 days
    assert "INV-2026-000001" in reminder["message"]
    make_payment(db, invoice, Decimal("968.00"))
    invoicing.recompute(db, invoice, now=NOW, settings=SETTINGS)
    assert [r["status"] for r in InvoiceDAO(db).reminders_of(invoice)] == ["cancelled", "cancelled"]


def test_reminder_offsets_are_configurable(db):
    actor = _admin(db)
    invoice = invoicing.create_invoice(db, actor, enrollment_id=make_enrollment(db), lines=[_line()], now=NOW,
                                       settings={**SETTINGS, "INVOICE_REMINDER_DAYS_BEFORE_DUE": "7, 2, 0"})
    assert [r["send_on"] for r in InvoiceDAO(db).reminders_of(invoice)
            if r["reminder_type"] == "Invoice Due"] == [TODAY, TODAY + 5 * DAY, TODAY + 7 * DAY]


def test_void_needs_a_reason_keeps_the_row_and_withdraws_reminders(db):
    actor = _admin(db)
    invoice = _issued(db, actor)
    with pytest.raises(ValidationFailed) as caught:
        invoicing.void(db, actor, invoice, "  ", now=NOW)
    assert caught.value.field == "reason"
    invoicing.void(db, actor, invoice, "Entered twice", now=NOW)
    row = invoicing.get(db, actor, invoice)
    assert (row["status"], row["void_reason"], row["voided_at"]) == ("void", "Entered twice", NOW)
    assert [r["status"] for r in InvoiceDAO(db).reminders_of(invoice)] == ["cancelled", "cancelled"]
    assert invoicing.recompute(db, invoice, now=NOW, settings=SETTINGS)["status"] == "void"
    with pytest.raises(Conflict):
        invoicing.void(db, actor, invoice, "again", now=NOW)


def test_an_invoice_with_payments_cannot_be_voided(db):
    actor = _admin(db)
    invoice = _issued(db, actor)
    make_payment(db, invoice, Decimal("10.00"))
    with pytest.raises(Conflict):
        invoicing.void(db, actor, invoice, "oops", now=NOW)


def test_credit_note_is_a_negative_invoice_with_its_own_number(db):
    actor = _admin(db)
    invoice = _issued(db, actor)
    make_payment(db, invoice, Decimal("868.00"))
    invoicing.recompute(db, invoice, now=NOW, settings=SETTINGS)
    note = invoicing.credit_note(db, actor, invoice, reason="Goodwill", amount="100.00", now=NOW, settings=SETTINGS)
    credit = invoicing.get(db, actor, note)
    assert credit["invoice_number"] == "INV-2026-000002" and credit["credit_note_for"] == invoice
    _assert_money(credit["total"], "-100.00")
    _assert_money(credit["tax_amount"], "-9.09")  # tax included in the credit
    original = invoicing.get(db, actor, invoice)
    assert original["status"] == "paid" and original["balance_due"] == Decimal("0.00")
    assert [c["id"] for c in original["credit_notes"]] == [note]
    with pytest.raises(ValidationFailed):
        invoicing.credit_note(db, actor, invoice, reason="more", amount="900.00", now=NOW, settings=SETTINGS)
    with pytest.raises(ValidationFailed):
        invoicing.credit_note(db, actor, invoice, reason="", now=NOW, settings=SETTINGS)
    with pytest.raises(Conflict):  # its credit note would be left pointing at nothing owed
        invoicing.void(db, actor, invoice, "Wrong student", now=NOW)
    invoicing.void(db, actor, note, "Credited by mistake", now=NOW)  # a credit note can be voided
    again = invoicing.get(db, actor, invoice)
    assert (again["balance_due"], again["status"]) == (Decimal("100.00"), "partial")


def test_an_issued_invoice_cannot_be_edited(db):
    actor = _admin(db)
    invoice = _issued(db, actor)
    with pytest.raises(invoicing.InvoiceLocked) as caught:
        invoicing.add_line(db, actor, invoice, _line("10.00"), now=NOW)
    assert caught.value.status == 409 and "credit note" in caught.value.message
    assert len(invoicing.get(db, actor, invoice)["items"]) == 1


def test_fee_lines_join_the_open_draft_and_waivers_need_a_reason(db):
    actor = _admin(db)
    enrolment = make_enrollment(db)
    first = invoicing.add_fee_line(db, actor, enrollment_id=enrolment, kind="fee_late_cancel",
                                   description="Late cancellation fee", amount=Decimal("50.00"), now=NOW,
                                   settings=SETTINGS)
    second = invoicing.add_fee_line(db, actor, enrollment_id=enrolment, kind="fee_no_show",
                                    description="No-show fee", amount=Decimal("80.00"), now=NOW, settings=SETTINGS)
    assert first["invoice_id"] == second["invoice_id"]
    row = invoicing.get(db, actor, first["invoice_id"])
    assert row["status"] == "draft" and row["total"] == Decimal("143.00")
    with pytest.raises(ValidationFailed) as caught:
        invoicing.waive_fee(db, actor, second["item_id"], "", now=NOW)
    assert caught.value.field == "reason"
    invoicing.waive_fee(db, actor, second["item_id"], "First offence", now=NOW)
    row = invoicing.get(db, actor, first["invoice_id"])
    assert row["total"] == Decimal("55.00")
    waived = [i for i in row["items"] if i["id"] == second["item_id"]][0]
    assert waived["waive_reason"] == "First offence" and waived["waived_by"] == actor.user_id
    invoicing.issue_invoice(db, actor, first["invoice_id"], now=NOW, settings=SETTINGS)
    with pytest.raises(invoicing.InvoiceLocked):
        invoicing.waive_fee(db, actor, first["item_id"], "late", now=NOW)


def test_staff_of_another_branch_and_other_students_get_404(db):
    north, south = make_branch(db), make_branch(db)
    student = make_student(db, branch_id=north)
    actor = _admin(db)
    invoice = _issued(db, actor, enrollment=make_enrollment(db, student))
    own = Actor(user_id=make_user(db, role="staff"), role="staff", branch_id=north)
    other = Actor(user_id=make_user(db, role="staff"), role="staff", branch_id=south)
    assert invoicing.get(db, own, invoice)["id"] == invoice
    with pytest.raises(NotFound):
        invoicing.get(db, other, invoice)
    with pytest.raises(NotFound):
        invoicing.get(db, Actor(user_id=1, role="student", student_id=student + 999), invoice)
    assert invoicing.get(db, Actor(user_id=1, role="student", student_id=student), invoice)["id"] == invoice


def test_paid_invoice_adds_the_lines_credits_once(db):
    from app.services import packages
    actor = _admin(db)
    enrolment = make_enrollment(db)
    invoice = invoicing.create_invoice(db, actor, enrollment_id=enrolment, now=NOW, settings=SETTINGS,
                                       lines=[{"description": "Five extra lessons", "quantity": 1,
                                               "unit_price": "300.00", "kind": "package", "credits": 5}])
    before = packages.summary(db, enrolment).purchased
    make_payment(db, invoice, Decimal("330.00"))
    invoicing.recompute(db, invoice, now=NOW, settings=SETTINGS)
    assert packages.summary(db, enrolment).purchased == before + 5
    make_payment(db, invoice, Decimal("-330.00"))  # refunded: partial again
    invoicing.recompute(db, invoice, now=NOW, settings=SETTINGS)
    make_payment(db, invoice, Decimal("330.00"))
    invoicing.recompute(db, invoice, now=NOW, settings=SETTINGS)
    assert packages.summary(db, enrolment).purchased == before + 5


# ------------------------------------------------------------------------------------------------------
# Migration 0016 on SQLite: invoices is rebuilt (the status CHECK widens) while its children keep their rows

def test_sqlite_0016_keeps_invoices_items_and_payments_with_their_ids(tmp_path, sqlite_template, monkeypatch):
    from app.core import clock, schema as schema_module
    from app.core.database import Database
    from app.core.errors import IntegrityViolation
    from tests.schema_test import sqlite_shape, upgrade_before

    db = Database.from_url(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    upgrade_before(db, "0016", monkeypatch)
    invoices = [make_invoice(db, invoice_number=f"INV-OLD-{n}") for n in range(3)]
    gone = make_invoice(db, invoice_number="INV-GONE")
    db.execute("DELETE FROM invoices WHERE id = :id", {"id": gone})
    items = [db.insert("invoice_items", {"invoice_id": i, "description": "Fee", "quantity": 1,
                                         "unit_price": Decimal("880.00"), "total": Decimal("880.00")})
             for i in invoices]
    payments = [make_payment(db, i, Decimal("400.00")) for i in invoices]
    before = {t: db.fetch_all(f"SELECT id FROM {t} ORDER BY id") for t in ("invoices", "invoice_items", "payments")}

    schema_module.upgrade(db, clock.now())

    after = {t: db.fetch_all(f"SELECT id FROM {t} ORDER BY id") for t in ("invoices", "invoice_items", "payments")}
    assert after == before and [r["id"] for r in after["invoice_items"]] == items
    assert [r["id"] for r in after["payments"]] == payments
    assert db.fetch_all("PRAGMA foreign_key_check") == []
    assert sqlite_shape(db) == sqlite_shape(Database.from_url(f"sqlite:///{sqlite_template}"))
    assert not {"invoices_new", "m0016_invoice_items", "m0016_payments"} & set(db.tables())
    assert make_invoice(db, status="draft") == gone + 1  # the counter carried over
    with pytest.raises(IntegrityViolation):
        make_invoice(db, status="lost")
    db.execute("DELETE FROM invoices WHERE id = :id", {"id": invoices[0]})  # children still cascade
    assert db.fetch_value("SELECT COUNT(*) AS n FROM payments WHERE invoice_id = :id", {"id": invoices[0]}) == 0
    db.close()


# ------------------------------------------------------------------------------------------------------
# InvoiceDAO.page and the statement

def test_list_page_filters_scopes_sums_and_costs_three_queries(db):
    from app.core.pagination import ListQuery

    north, south = make_branch(db), make_branch(db)
    jack = make_student(db, branch_id=north, user_id=make_user(db, first_name="Jack", last_name="Mason"))
    zoe = make_student(db, branch_id=south)
    for n in range(4):
        invoice = make_invoice(db, make_enrollment(db, jack), subtotal=Decimal("100.00"), status="partial")
        make_payment(db, invoice, Decimal(f"{n}.50"))
    make_invoice(db, make_enrollment(db, zoe), subtotal=Decimal("200.00"), status="paid")
    make_invoice(db, make_enrollment(db, jack), subtotal=Decimal("999.00"), status="void")
    dao = InvoiceDAO(db)
    query = ListQuery(sort="issued", direction="desc", per_page=2)
    with count_queries() as counter:
        page = dao.page(query)
    assert counter.count == 3 and page.total == 6 and len(page.items) == 2
    assert page.totals == {"total": Decimal("660.00"), "paid": Decimal("8.00"), "balance": Decimal("652.00")}
    north_page = dao.page(ListQuery(sort="issued", per_page=50), branch_id=north)
    assert north_page.total == 5 and {r["branch_id"] for r in north_page.items} == {north}
    assert dao.page(ListQuery(sort="issued", filters={"status": "void"})).total == 1
    assert dao.page(ListQuery(sort="issued", q="Mason")).total == 5
    assert dao.page(ListQuery(sort="issued", filters={"branch": str(south)})).total == 1


def test_statement_has_opening_balance_rows_and_closing_balance(db):
    actor = _admin(db)
    student = make_student(db)
    enrolment = make_enrollment(db, student)
    early = _issued(db, actor, enrollment=enrolment, price="100.00", now=datetime(2026, 1, 5, 1, 0))
    make_payment(db, early, Decimal("50.00"), payment_date=date(2026, 1, 6))
    later = _issued(db, actor, enrollment=enrolment, price="200.00")
    make_payment(db, later, Decimal("20.00"), payment_date=TODAY)
    invoicing.credit_note(db, actor, later, reason="Goodwill", amount="10.00", now=NOW, settings=SETTINGS)
    data = invoicing.statement(db, actor, student, date(2026, 2, 1), date(2026, 3, 31))
    assert data["opening"] == Decimal("60.00")  # 110.00 invoiced - 50.00 paid before February
    assert [r["kind"] for r in data["rows"]] == ["invoice", "credit", "payment"]
    assert data["closing"] == Decimal("60.00") + Decimal("220.00") - Decimal("10.00") - Decimal("20.00")
    with pytest.raises(NotFound):
        invoicing.statement(db, Actor(user_id=1, role="student", student_id=student + 1), student,
                            date(2026, 1, 1), date(2026, 12, 31))


def test_the_nightly_command_marks_overdue_invoices(app):
    from app.core.flask_db import get_db

    with app.app_context():
        db = get_db()
        late = make_invoice(db, due_date=date(2020, 1, 1), status="sent")
        make_invoice(db, due_date=date(2020, 1, 1), status="paid", subtotal=Decimal("0.00"))
        make_invoice(db, due_date=date(2099, 1, 1), status="sent")
    result = app.test_cli_runner().invoke(args=["mark-overdue-invoices"])
    assert result.exit_code == 0 and "marked 1 invoices overdue" in result.output
    with app.app_context():
        assert InvoiceDAO(get_db()).amounts(late)["status"] == "overdue"
    assert "marked 0 invoices overdue" in app.test_cli_runner().invoke(args=["mark-overdue-invoices"]).output


def test_recent_leaves_drafts_out(db):
    enrollment = make_enrollment(db)
    make_invoice(db, enrollment, invoice_number="INV-ISSUED")
    make_invoice(db, enrollment, invoice_number="DRAFT-000999", status="draft")
    assert [r["invoice_number"] for r in InvoiceDAO(db).recent()] == ["INV-ISSUED"]


def test_a_credit_note_on_a_paid_invoice_becomes_account_credit(db):
    from app.dao.payment import PaymentDAO

    actor = _admin(db)
    invoice = _issued(db, actor)
    total = db.fetch_value("SELECT total FROM invoices WHERE id = :id", {"id": invoice})
    make_payment(db, invoice, Decimal(str(total)) - Decimal("20.00"))   # 20.00 still owed
    invoicing.recompute(db, invoice, now=NOW, settings=SETTINGS)
    invoicing.credit_note(db, actor, invoice, reason="Lesson not given", amount="50.00", now=NOW, settings=SETTINGS)
    student = db.fetch_value("SELECT e.student_id FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
                             " WHERE i.id = :id", {"id": invoice})
    assert PaymentDAO(db).credit_balance(student) == Decimal("30.00")   # 50 credited, 20 of it was owed
    original = invoicing.get(db, actor, invoice)
    assert original["balance_due"] == Decimal("0.00") and original["status"] == "paid"
    moved = db.fetch_one("SELECT amount, kind FROM payments WHERE invoice_id = :id AND kind = 'refund'", {"id": invoice})
    assert Decimal(str(moved["amount"])) == Decimal("-30.00")
