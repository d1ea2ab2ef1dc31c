"""Payments (services/payments.py, dao/payment.py) on both databases: the original's §5 payment scenario
(968.00 invoice, 400.00 paid, 568.00 due), bad amounts refused naming ``amount`` with nothing written,
overpayments refused or kept as account credit (later applied to another invoice), refunds as negative
rows with a reason and never more than was paid, void/draft/paid invoices refused, idempotency (the same
key twice records one payment), the online payment through the mock gateway, and scope (staff their
branch, instructors 403, students only their own invoice online, others 404)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery
from app.dao.payment import SORTS, PaymentDAO
from app.services import payments
from app.services.gateway import MockGateway, gateway_from_settings
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 3, 10, 2, 30)  # 13:30 in Melbourne, 10 March 2026
TODAY = date(2026, 3, 10)
SETTINGS = {"PAYMENT_GATEWAY": "mock"}
CARD = {"name_on_card": "Jack Mason", "card_number": "4111 1111 1111 1111", "card_expiry": "12/29", "card_cvv": "123"}


class World:
    def __init__(self, db):
        self.db = db
        self.branch, self.other = f.make_branch(db), f.make_branch(db)
        self.student_user = f.make_user(db, branch_id=self.branch)
        self.student = f.make_student(db, user_id=self.student_user, branch_id=self.branch)
        self.enrollment = f.make_enrollment(db, self.student)
        self.invoice = f.make_invoice(db, self.enrollment)  # 968.00
        self.staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.branch), role="staff",
                           branch_id=self.branch)
        self.foreign_staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.other), role="staff",
                                   branch_id=self.other)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        self.teacher = Actor(user_id=f.make_user(db, role="instructor"), role="instructor", instructor_id=1)
        self.pupil = Actor(user_id=self.student_user, role="student", student_id=self.student)

    def pay(self, amount="100.00", actor=None, invoice=None, key=None, **data):
        return payments.record(self.db, actor or self.staff, invoice or self.invoice,
                               {"amount": amount, "method": "cash", "payment_date": "2026-03-09", **data},
                               now=NOW, settings=SETTINGS, idempotency_key=key)

    def invoice_row(self, invoice=None):
        return self.db.fetch_one("SELECT status, total FROM invoices WHERE id = :id", {"id": invoice or self.invoice})

    def count(self, table="payments"):
        return self.db.fetch_value(f"SELECT COUNT(*) AS n FROM {table}", cast=int)


@pytest.fixture
def w(db):
    return World(db)


def test_the_originals_scenario_968_invoice_400_paid_568_due(w):
    payment = w.pay("400.00", reference="RCPT-1", notes="Counter")
    dao = PaymentDAO(w.db)
    ctx = dao.invoice_context(w.invoice)
    assert ctx["total"] == Decimal("968.00") and ctx["paid"] == Decimal("400.00")
    assert ctx["total"] - ctx["paid"] == Decimal("568.00")
    assert w.invoice_row()["status"] == "partial"
    row = dao.find(payment)
    assert (row["amount"], row["method"], row["reference"], row["kind"]) == (Decimal("400.00"), "cash", "RCPT-1", "payment")
    assert row["recorded_by"] == w.staff.user_id and row["payment_date"] == date(2026, 3, 9)
    assert w.db.fetch_value("SELECT action FROM audit_trail WHERE entity_type = 'payment' AND entity_id = :id",
                            {"id": payment}) == "payment_recorded"
    w.pay("568.00")
    assert w.invoice_row()["status"] == "paid"


@pytest.mark.parametrize("amount", ["0", "0.00", "-5", "-0.01", "abc", "1.234", "12.5.0", "NaN", "Infinity", "1e3",
                                    "", "100000000.00"])
def test_bad_amounts_are_422_naming_amount_and_write_nothing(w, amount):
    before = w.count()
    with pytest.raises(ValidationFailed) as caught:
        w.pay(amount)
    assert "amount" in caught.value.errors
    assert w.count() == before and w.invoice_row()["status"] == "sent"


def test_amount_parsing_keeps_cents_exact():
    assert payments.parse_amount("$1,200.5") == Decimal("1200.50")
    assert payments.parse_amount(".10") == Decimal("0.10")
    assert payments.parse_amount(Decimal("0.01")) == Decimal("0.01")


def test_bad_method_and_future_date_are_named(w):
    with pytest.raises(ValidationFailed) as caught:
        w.pay("10.00", method="cheque", payment_date=(TODAY + timedelta(days=1)).isoformat())
    assert set(caught.value.errors) == {"method", "payment_date"}
    assert w.count() == 0


def test_overpayment_is_refused_unless_the_excess_is_kept_as_credit(w):
    with pytest.raises(ValidationFailed) as caught:
        w.pay("1000.00")
    assert "amount" in caught.value.errors and "968.00" in caught.value.errors["amount"][0]
    assert w.count() == 0 and w.count("account_credits") == 0

    payment = w.pay("1000.00", keep_excess_as_credit=True)
    dao = PaymentDAO(w.db)
    assert dao.find(payment)["amount"] == Decimal("968.00")  # the invoice takes its balance
    assert w.invoice_row()["status"] == "paid"
    assert dao.credit_balance(w.student) == Decimal("32.00")
    assert [(c["source"], c["amount"]) for c in dao.credits_for(payment)] == [("overpayment", Decimal("32.00"))]

    # a later invoice uses the credit
    second = f.make_invoice(w.db, w.enrollment, subtotal=Decimal("100.00"))  # 110.00
    applied = payments.apply_credit(w.db, w.staff, second, {}, now=NOW)
    assert dao.find(applied)["amount"] == Decimal("32.00") and dao.find(applied)["method"] == "account_credit"
    assert dao.credit_balance(w.student) == Decimal("0.00")
    assert w.invoice_row(second)["status"] == "partial"
    with pytest.raises(Conflict):
        payments.apply_credit(w.db, w.staff, second, {}, now=NOW)


def test_credit_cannot_be_applied_beyond_the_credit_or_the_balance(w):
    w.pay("1000.00", keep_excess_as_credit=True)  # 32.00 credit
    second = f.make_invoice(w.db, w.enrollment, subtotal=Decimal("10.00"))  # 11.00
    with pytest.raises(ValidationFailed):
        payments.apply_credit(w.db, w.staff, second, {"amount": "40.00"}, now=NOW)
    with pytest.raises(ValidationFailed):
        payments.apply_credit(w.db, w.staff, second, {"amount": "20.00"}, now=NOW)
    payments.apply_credit(w.db, w.staff, second, {}, now=NOW)  # the smaller: 11.00
    assert PaymentDAO(w.db).credit_balance(w.student) == Decimal("21.00")
    assert w.invoice_row(second)["status"] == "paid"


def test_refund_is_a_negative_row_with_a_reason_and_at_most_what_was_paid(w):
    payment = w.pay("400.00")
    with pytest.raises(ValidationFailed) as caught:
        payments.refund(w.db, w.staff, payment, {"amount": "50.00", "reason": " "}, now=NOW)
    assert "reason" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        payments.refund(w.db, w.staff, payment, {"amount": "400.01", "reason": "Too much"}, now=NOW)
    assert "amount" in caught.value.errors
    refund = payments.refund(w.db, w.staff, payment, {"amount": "150.00", "reason": "Lesson cancelled"}, now=NOW)
    dao = PaymentDAO(w.db)
    row = dao.find(refund)
    assert (row["amount"], row["kind"], row["refund_of"], row["reason"]) == (
        Decimal("-150.00"), "refund", payment, "Lesson cancelled")
    assert row["method"] == "cash"  # defaults to the payment's own method
    assert dao.find(payment)["amount"] == Decimal("400.00")  # never an edit
    assert dao.find(payment)["refunded"] == Decimal("150.00")
    assert dao.invoice_context(w.invoice)["paid"] == Decimal("250.00")
    with pytest.raises(ValidationFailed):
        payments.refund(w.db, w.staff, payment, {"amount": "250.01", "reason": "Again"}, now=NOW)
    payments.refund(w.db, w.staff, payment, {"amount": "250.00", "reason": "The rest"}, now=NOW)
    assert w.invoice_row()["status"] in ("sent", "overdue")
    with pytest.raises(Conflict):
        payments.refund(w.db, w.staff, payment, {"amount": "1.00", "reason": "Nothing left"}, now=NOW)
    with pytest.raises(Conflict):
        payments.refund(w.db, w.staff, refund, {"amount": "1.00", "reason": "Refund of a refund"}, now=NOW)


def test_refunding_a_paid_invoice_reopens_it(w):
    payment = w.pay("968.00")
    assert w.invoice_row()["status"] == "paid"
    payments.refund(w.db, w.admin, payment, {"amount": "68.00", "reason": "Discount agreed"}, now=NOW)
    assert w.invoice_row()["status"] == "partial"


@pytest.mark.parametrize("status", ["void", "draft"])
def test_void_and_draft_invoices_are_refused(w, status):
    w.db.execute("UPDATE invoices SET status = :s WHERE id = :id", {"s": status, "id": w.invoice})
    with pytest.raises(Conflict) as caught:
        w.pay("10.00")
    assert status in caught.value.message.lower()
    assert w.count() == 0


def test_a_paid_invoice_is_refused(w):
    w.pay("968.00")
    with pytest.raises(Conflict) as caught:
        w.pay("1.00")
    assert "already paid" in caught.value.message
    assert w.count() == 1


def test_the_same_idempotency_key_records_one_payment(w):
    key = payments.new_idempotency_key()
    first = w.pay("100.00", key=key)
    assert w.pay("100.00", key=key) == first
    assert w.count() == 1 and PaymentDAO(w.db).invoice_context(w.invoice)["paid"] == Decimal("100.00")
    other = f.make_invoice(w.db, w.enrollment)
    with pytest.raises(Conflict):
        w.pay("100.00", invoice=other, key=key)
    with pytest.raises(ValidationFailed):
        w.pay("100.00", key="bad key!")


def test_the_unique_index_backs_the_key(w):
    from app.core.errors import Conflict as DbConflict

    f.make_payment(w.db, w.invoice, idempotency_key="k" * 20)
    with pytest.raises(DbConflict):
        f.make_payment(w.db, w.invoice, idempotency_key="k" * 20)
    f.make_payment(w.db, w.invoice)  # NULL keys never collide
    f.make_payment(w.db, w.invoice)


def test_scope_staff_branch_instructor_403_student_404(w):
    with pytest.raises(NotFound):
        w.pay("10.00", actor=w.foreign_staff)
    with pytest.raises(NotFound):
        w.pay("10.00", actor=Actor(user_id=w.staff.user_id, role="staff", branch_id=None))
    with pytest.raises(PermissionDenied):
        w.pay("10.00", actor=w.teacher)
    with pytest.raises(NotFound):
        w.pay("10.00", actor=w.pupil)  # students pay online only
    with pytest.raises(NotFound):
        w.pay("10.00", invoice=999_999)
    payment = w.pay("10.00", actor=w.admin)
    with pytest.raises(NotFound):
        payments.refund(w.db, w.foreign_staff, payment, {"amount": "1.00", "reason": "x"}, now=NOW)
    with pytest.raises(NotFound):
        payments.get_payment(w.db, w.foreign_staff, payment)
    assert payments.get_payment(w.db, w.pupil, payment)["id"] == payment
    stranger = Actor(user_id=1, role="student", student_id=f.make_student(w.db))
    with pytest.raises(NotFound):
        payments.get_payment(w.db, stranger, payment)
    assert w.count() == 1


def test_the_invoices_own_branch_scopes_it_before_the_students(w):
    """An invoice issued by another branch (invoices.branch_id, migration 0016) belongs to that branch."""
    w.db.execute("UPDATE invoices SET branch_id = :b WHERE id = :id", {"b": w.other, "id": w.invoice})
    with pytest.raises(NotFound):
        w.pay("10.00")
    payment = w.pay("10.00", actor=w.foreign_staff)
    assert payments.get_payment(w.db, w.foreign_staff, payment)["branch_id"] == w.other
    query = ListQuery(sort="date", direction="desc")
    assert payments.ledger(w.db, w.foreign_staff, query)[0].total == 1
    assert payments.ledger(w.db, w.staff, query)[0].total == 0


def test_students_never_see_a_draft(w):
    w.db.execute("UPDATE invoices SET status = 'draft' WHERE id = :id", {"id": w.invoice})
    with pytest.raises(NotFound):
        payments.invoice_payments(w.db, w.pupil, w.invoice)


def test_pay_online_with_the_mock_gateway_charges_once_per_key(w):
    gateway = MockGateway()
    key = payments.new_idempotency_key()
    payment = payments.pay_online(w.db, w.pupil, w.invoice, {"amount": "", **CARD}, now=NOW, settings=SETTINGS,
                                  gateway=gateway, idempotency_key=key)
    row = PaymentDAO(w.db).find(payment)
    assert row["amount"] == Decimal("968.00") and row["method"] == "gateway" and row["gateway"] == "mock"
    assert row["gateway_reference"].startswith("MOCK-") and row["recorded_by"] == w.student_user
    assert "1111" in row["notes"] and "4111111111111111" not in str(row)
    assert w.invoice_row()["status"] == "paid"
    again = payments.pay_online(w.db, w.pupil, w.invoice, {"amount": "", **CARD}, now=NOW, settings=SETTINGS,
                                gateway=gateway, idempotency_key=key)
    assert again == payment and w.count() == 1 and len(gateway.charges) == 1


def test_pay_online_part_payment_declines_and_card_rules(w):
    gateway = gateway_from_settings(SETTINGS)
    with pytest.raises(ValidationFailed) as caught:
        payments.pay_online(w.db, w.pupil, w.invoice, {"amount": "100.00", **CARD, "card_number": "4000000000000002"},
                            now=NOW, settings=SETTINGS, gateway=gateway, idempotency_key=payments.new_idempotency_key())
    assert "card_number" in caught.value.errors and "declined" in caught.value.errors["card_number"][0]
    with pytest.raises(ValidationFailed) as caught:
        payments.pay_online(w.db, w.pupil, w.invoice, {"amount": "1000.00", "name_on_card": "", "card_number": "12",
                                                       "card_expiry": "01/20", "card_cvv": "1"},
                            now=NOW, settings=SETTINGS, gateway=gateway, idempotency_key=payments.new_idempotency_key())
    assert {"name_on_card", "card_number", "card_expiry", "card_cvv"} <= set(caught.value.errors)
    with pytest.raises(ValidationFailed) as caught:
        payments.pay_online(w.db, w.pupil, w.invoice, {"amount": "1000.00", **CARD}, now=NOW, settings=SETTINGS,
                            gateway=gateway, idempotency_key=payments.new_idempotency_key())
    assert "amount" in caught.value.errors
    assert w.count() == 0
    payments.pay_online(w.db, w.pupil, w.invoice, {"amount": "100.00", **CARD}, now=NOW, settings=SETTINGS,
                        gateway=gateway, idempotency_key=payments.new_idempotency_key())
    assert w.invoice_row()["status"] == "partial"
    stranger = Actor(user_id=1, role="student", student_id=f.make_student(w.db))
    with pytest.raises(NotFound):
        payments.pay_online(w.db, stranger, w.invoice, {"amount": "1.00", **CARD}, now=NOW, settings=SETTINGS,
                            gateway=gateway, idempotency_key=payments.new_idempotency_key())
    with pytest.raises(NotFound):
        payments.pay_online(w.db, w.staff, w.invoice, {"amount": "1.00", **CARD}, now=NOW, settings=SETTINGS,
                            gateway=gateway, idempotency_key=payments.new_idempotency_key())


def test_gateway_setting_selects_a_provider():
    assert isinstance(gateway_from_settings({}), MockGateway)
    with pytest.raises(ValueError):
        gateway_from_settings({"PAYMENT_GATEWAY": "nonsense"})
    provider = gateway_from_settings({"PAYMENT_GATEWAY": "app.services.gateway:MockGateway"})
    assert provider.name == "mock"


def test_ledger_filters_scope_and_totals_from_one_aggregate(w):
    other_student = f.make_student(w.db, branch_id=w.other)
    other_invoice = f.make_invoice(w.db, f.make_enrollment(w.db, other_student))
    first = w.pay("100.00", method="card", reference="=HYPERLINK(1)")
    w.pay("50.00", payment_date="2026-03-01")
    w.pay("70.00", actor=w.admin, invoice=other_invoice)
    payments.refund(w.db, w.staff, first, {"amount": "20.00", "reason": "Part"}, now=NOW)

    def ledger(actor, **filters):
        query = ListQuery(sort="date", direction="desc", filters=filters)
        return payments.ledger(w.db, actor, query)

    page, totals = ledger(w.staff)
    assert page.total == 3 and totals == {"count": 3, "received": Decimal("150.00"), "refunded": Decimal("20.00"),
                                          "net": Decimal("130.00")}
    assert ledger(w.admin)[0].total == 4
    assert ledger(w.staff, branch=str(w.other))[0].total == 0  # a foreign branch filter shows nothing
    assert ledger(w.staff, method="card")[0].total == 2  # the payment and its refund (same method)
    assert ledger(w.staff, date_from="2026-03-05")[0].total == 2
    assert ledger(w.staff, date_to="2026-03-05")[0].total == 1
    assert ledger(w.staff, kind="refund")[1]["net"] == Decimal("-20.00")
    with pytest.raises(PermissionDenied):
        ledger(w.teacher)
    cells = payments.export_rows(w.db, w.staff, ListQuery(sort="date", direction="desc"), now=NOW)
    assert len(cells) == 3
    assert any(c == "'=HYPERLINK(1)" for row in cells for c in row)
    assert any(c == "'-20.00" for row in cells for c in row)  # a negative amount is quoted too
    assert set(SORTS) == {"date", "amount", "method"}


def test_ledger_page_has_no_n_plus_one(w):
    from app.core.database import count_queries

    for n in range(6):
        w.pay("10.00", reference=f"R{n}")
    with count_queries() as counter:
        page, _totals = payments.ledger(w.db, w.staff, ListQuery(sort="date", direction="desc", per_page=5))
    assert len(page.items) == 5 and counter.count <= 3
