"""PrivacyDAO: the reads of a student's personal-data export and the writes of anonymising a former
student (services/privacy.py holds the rules).

Export: one statement per section (profile, enrolments, lessons, invoices, invoice lines, payments,
account credit, documents, enrolment requests, contact preferences, notifications, messages received,
sessions, waitlist), whatever the student's history: no per-row queries.

Anonymise: set-based UPDATE/DELETE statements keyed by the student and their account, run inside the
service's one transaction. ``claim`` is the race-safe gate (a conditional UPDATE of the users row: only
an archived student account that is not anonymised yet), so two requests cannot both anonymise.
Invoices, invoice lines, payments, account credits, lesson rows and audit rows are never deleted; the
audit trail is never updated (it is a hash chain).
"""
from __future__ import annotations

from datetime import date, datetime
from app.dao.base import BaseDAO, money

# The student's lessons, invoices, enrolment requests and gap offers, as subqueries on :sid (the related
# ids reminders and notifications point to).
_LESSONS = "SELECT ls.id FROM schedules ls JOIN enrollments le ON le.id = ls.enrollment_id WHERE le.student_id = :sid"
_INVOICES = "SELECT li.id FROM invoices li JOIN enrollments lie ON lie.id = li.enrollment_id WHERE lie.student_id = :sid"
_REQUESTS = "SELECT lr.id FROM enrollment_requests lr WHERE lr.student_id = :sid"
_OFFERS = "SELECT lo.id FROM gap_offers lo WHERE lo.student_id = :sid"
_ABOUT_STUDENT = (
    f"((related_type = 'schedule' AND related_id IN ({_LESSONS}))"
    f" OR (related_type = 'invoice' AND related_id IN ({_INVOICES}))"
    f" OR (related_type = 'enrollment_request' AND related_id IN ({_REQUESTS}))"
    f" OR (related_type = 'gap_offer' AND related_id IN ({_OFFERS})))"
)
# Reminders to the student, or about their lessons, invoices, requests and offers (to anyone).
_REMINDERS = f"(recipient_user_id = :uid OR {_ABOUT_STUDENT})"
OPEN_REMINDER_STATUSES = ("pending", "failed", "unknown")


class PrivacyDAO(BaseDAO):
    # ------------------------------------------------------------------------------------ export reads
    def profile(self, user_id: int, student_id: int | None) -> dict | None:
        """The account and (when there is one) the student profile, with the branch's name."""
        return self.db.fetch_one(
            "SELECT u.id AS user_id, u.first_name, u.last_name, u.email, u.phone, u.status AS account_status,"
            " u.created_at AS account_created_at, u.last_login_at, u.password_changed_at,"
            " s.id AS student_id, s.license_number, s.license_status, s.license_expiry, s.date_of_birth,"
            " s.emergency_contact_name, s.emergency_contact_phone, s.address_line, s.city, s.postcode,"
            " s.progress_summary, s.created_at AS registered_at, b.name AS branch_name"
            " FROM users u LEFT JOIN students s ON s.id = :sid AND s.user_id = u.id"
            " LEFT JOIN branches b ON b.id = COALESCE(s.branch_id, u.branch_id)"
            " WHERE u.id = :uid", {"uid": user_id, "sid": student_id or 0})

    def enrolments(self, student_id: int) -> list[dict]:
        return self.db.fetch_all(
            "SELECT e.id, c.title AS course, e.start_date, e.status, e.created_at"
            " FROM enrollments e JOIN courses c ON c.id = e.course_id"
            " WHERE e.student_id = :sid ORDER BY e.start_date, e.id", {"sid": student_id})

    def lessons(self, student_id: int) -> list[dict]:
        """Every lesson, exam and assessment of the student (every status), oldest first, with the names
        the portal shows (instructor, branch, vehicle) and what the student sees of each (topic, pick-up,
        notes, outcome, rating, feedback, cancellation)."""
        return self.db.fetch_all(
            "SELECT s.id, c.title AS course, s.event_type, s.scheduled_date, s.start_time, s.end_time, s.status,"
            " s.lesson_topic, s.pickup_location, s.notes, s.student_rating, s.student_feedback,"
            " s.cancelled_at, s.cancel_reason, iu.first_name AS instructor_first_name,"
            " iu.last_name AS instructor_last_name, b.name AS branch_name, v.name AS vehicle_name"
            " FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id JOIN courses c ON c.id = e.course_id"
            " LEFT JOIN instructors i ON i.id = s.instructor_id LEFT JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN branches b ON b.id = s.branch_id LEFT JOIN vehicles v ON v.id = s.vehicle_id"
            " WHERE e.student_id = :sid ORDER BY s.scheduled_date, s.start_time, s.id", {"sid": student_id})

    def invoices(self, student_id: int) -> list[dict]:
        """The student's issued invoices and credit notes (drafts are not issued: the portal hides them),
        with the amount paid (payments less refunds) per invoice."""
        rows = self.db.fetch_all(
            "SELECT i.id, i.invoice_number, i.issue_date, i.due_date, i.subtotal, i.discount_amount, i.tax_amount,"
            " i.total, i.status, i.notes, i.void_reason, i.credit_note_for, c.title AS course,"
            " COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id), 0) AS paid"
            " FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id JOIN courses c ON c.id = e.course_id"
            " WHERE e.student_id = :sid AND i.status <> 'draft' ORDER BY i.issue_date, i.id", {"sid": student_id})
        for row in rows:
            for key in ("subtotal", "discount_amount", "tax_amount", "total", "paid"):
                row[key] = money(row[key])
        return rows

    def invoice_lines(self, student_id: int) -> list[dict]:
        """The lines of those invoices, in one statement (the service groups them by ``invoice_id``)."""
        rows = self.db.fetch_all(
            "SELECT it.id, it.invoice_id, it.description, it.kind, it.quantity, it.unit_price, it.discount,"
            " it.total, it.waived_at, it.waive_reason"
            " FROM invoice_items it JOIN invoices i ON i.id = it.invoice_id JOIN enrollments e ON e.id = i.enrollment_id"
            " WHERE e.student_id = :sid AND i.status <> 'draft' ORDER BY it.invoice_id, it.id", {"sid": student_id})
        for row in rows:
            for key in ("unit_price", "discount", "total"):
                row[key] = money(row[key])
        return rows

    def payments(self, student_id: int) -> list[dict]:
        rows = self.db.fetch_all(
            "SELECT p.id, i.invoice_number, p.payment_date, p.amount, p.kind, p.method, p.reference, p.reason"
            " FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN enrollments e ON e.id = i.enrollment_id"
            " WHERE e.student_id = :sid ORDER BY p.payment_date, p.id", {"sid": student_id})
        for row in rows:
            row["amount"] = money(row["amount"])
        return rows

    def account_credits(self, student_id: int) -> list[dict]:
        rows = self.db.fetch_all(
            "SELECT ac.id, ac.created_at, ac.amount, ac.source, ac.notes, i.invoice_number"
            " FROM account_credits ac LEFT JOIN invoices i ON i.id = ac.invoice_id"
            " WHERE ac.student_id = :sid ORDER BY ac.created_at, ac.id", {"sid": student_id})
        for row in rows:
            row["amount"] = money(row["amount"])
        return rows

    def documents(self, user_id: int) -> list[dict]:
        """The documents list (names, types, dates): never the files."""
        return self.db.fetch_all(
            "SELECT id, file_name, category, mime_type, file_size, notes AS description, expiry_date, created_at"
            " FROM documents WHERE user_id = :uid ORDER BY created_at, id", {"uid": user_id})

    def enrolment_requests(self, student_id: int) -> list[dict]:
        return self.db.fetch_all(
            "SELECT r.id, c.title AS course, r.preferred_date, r.preferred_time, r.status, r.student_notes,"
            " r.admin_notes AS decision_notes, r.created_at, r.decision_at"
            " FROM enrollment_requests r JOIN courses c ON c.id = r.course_id"
            " WHERE r.student_id = :sid ORDER BY r.created_at, r.id", {"sid": student_id})

    def contact_preferences(self, user_id: int) -> dict | None:
        return self.db.fetch_one(
            "SELECT email_opt_out, sms_opt_out, in_app_opt_out, updated_at FROM contact_preferences"
            " WHERE user_id = :uid", {"uid": user_id})

    def notifications(self, user_id: int) -> list[dict]:
        return self.db.fetch_all(
            "SELECT id, title, message, level, is_read, created_at FROM notifications WHERE user_id = :uid"
            " ORDER BY created_at, id", {"uid": user_id})

    def messages_received(self, user_id: int) -> list[dict]:
        """Broadcasts sent to the account (the profile's communication history)."""
        return self.db.fetch_all(
            "SELECT c.id, c.created_at, c.channel, c.subject, c.message FROM communications c"
            " WHERE c.id IN (SELECT cr.communication_id FROM communication_recipients cr WHERE cr.user_id = :uid)"
            " ORDER BY c.created_at, c.id", {"uid": user_id})

    def sessions(self, user_id: int) -> list[dict]:
        return self.db.fetch_all(
            "SELECT created_at, last_seen_at, ip_address, user_agent FROM user_sessions WHERE user_id = :uid"
            " ORDER BY created_at, id", {"uid": user_id})

    def waitlist(self, student_id: int) -> dict | None:
        return self.db.fetch_one(
            "SELECT active, weekdays, earliest_time, latest_time, opted_in_at FROM waitlist_preferences"
            " WHERE student_id = :sid", {"sid": student_id})

    def counts(self, user_id: int, student_id: int | None) -> dict:
        """How many rows each main section holds (the /my/data page), in one statement."""
        row = self.db.fetch_one(
            "SELECT"
            " (SELECT COUNT(*) FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
            "  WHERE e.student_id = :sid) AS lessons,"
            " (SELECT COUNT(*) FROM enrollments e WHERE e.student_id = :sid) AS enrolments,"
            " (SELECT COUNT(*) FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
            "  WHERE e.student_id = :sid AND i.status <> 'draft') AS invoices,"
            " (SELECT COUNT(*) FROM payments p JOIN invoices i ON i.id = p.invoice_id"
            "  JOIN enrollments e ON e.id = i.enrollment_id WHERE e.student_id = :sid) AS payments,"
            " (SELECT COUNT(*) FROM documents d WHERE d.user_id = :uid) AS documents,"
            " (SELECT COUNT(*) FROM notifications n WHERE n.user_id = :uid) AS notifications",
            {"uid": user_id, "sid": student_id or 0}) or {}
        return {k: int(v or 0) for k, v in row.items()}

    # ------------------------------------------------------------------------------------ anonymise
    def state(self, student_id: int, today: date) -> dict | None:
        """What decides whether the student may be anonymised: the account (status, anonymised_at, the
        personal values the reason is cleaned of), the balance still owed on issued invoices (each
        invoice's total less payments and issued credit notes, counting only what is owed), the account
        credit the school holds for them, and their lessons still booked."""
        row = self.db.fetch_one(
            "SELECT s.id AS student_id, s.user_id, s.branch_id, s.license_number, u.role, u.status,"
            " u.anonymised_at, u.first_name, u.last_name, u.email, u.phone,"
            " (SELECT COALESCE(SUM(CASE WHEN ob.owed > 0 THEN ob.owed ELSE 0 END), 0) FROM ("
            "   SELECT i.total - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id), 0)"
            "   - COALESCE((SELECT -SUM(cn.total) FROM invoices cn WHERE cn.credit_note_for = i.id"
            "     AND cn.status NOT IN ('draft', 'void')), 0) AS owed"
            "   FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
            "   WHERE e.student_id = :sid AND i.status NOT IN ('draft', 'void') AND i.credit_note_for IS NULL"
            " ) ob) AS balance_due,"
            " (SELECT COALESCE(SUM(ac.amount), 0) FROM account_credits ac WHERE ac.student_id = :sid) AS credit,"
            " (SELECT COUNT(*) FROM schedules sc JOIN enrollments se ON se.id = sc.enrollment_id"
            "  WHERE se.student_id = :sid AND sc.status = 'scheduled' AND sc.scheduled_date >= :today) AS booked,"
            " (SELECT COUNT(*) FROM notes n WHERE n.related_type = 'student' AND n.related_id = :sid) AS notes"
            " FROM students s JOIN users u ON u.id = s.user_id WHERE s.id = :sid",
            {"sid": student_id, "today": today})
        if row is not None:
            row["balance_due"], row["credit"] = money(row["balance_due"]), money(row["credit"])
            row["booked"], row["notes"] = int(row["booked"] or 0), int(row["notes"] or 0)
        return row

    def anonymised_at(self, user_id: int) -> datetime | None:
        return self.db.fetch_value("SELECT anonymised_at FROM users WHERE id = :uid", {"uid": user_id})

    def claim(self, user_id: int, *, email: str, password_hash: str, first_name: str, last_name: str,
              now: datetime) -> bool:
        """Replace the account's personal fields, only while it is an archived student account not yet
        anonymised (False otherwise: someone else got there first, or it changed)."""
        return self.db.execute(
            "UPDATE users SET first_name = :first, last_name = :last, email = :email, phone = NULL,"
            " password_hash = :hash, last_login_at = NULL, anonymised_at = :now, updated_at = :now"
            " WHERE id = :uid AND role = 'student' AND status = 'archived' AND anonymised_at IS NULL",
            {"uid": user_id, "first": first_name, "last": last_name, "email": email, "hash": password_hash,
             "now": now}).rowcount == 1

    def scrub_student(self, student_id: int, summary: str, now: datetime) -> int:
        """Every personal column of the profile (the licence status and branch stay: not identifying,
        and the branch keeps the record in its office's scope)."""
        return self.db.execute(
            "UPDATE students SET license_number = NULL, license_expiry = NULL, date_of_birth = NULL,"
            " emergency_contact_name = NULL, emergency_contact_phone = NULL, address_line = NULL, city = NULL,"
            " postcode = NULL, progress_summary = :summary, updated_at = :now WHERE id = :sid",
            {"sid": student_id, "summary": summary, "now": now}).rowcount

    def scrub_notes(self, student_id: int, text: str) -> int:
        return self.db.execute(
            "UPDATE notes SET content = :text WHERE related_type = 'student' AND related_id = :sid",
            {"sid": student_id, "text": text}).rowcount

    def document_files(self, user_id: int) -> list[dict]:
        return self.db.fetch_all(
            "SELECT id, file_path FROM documents WHERE user_id = :uid ORDER BY id", {"uid": user_id})

    def scrub_documents(self, user_id: int, name: str) -> int:
        """The rows stay (that a document was held, its category and date); its name, description, expiry,
        digest, size and stored file name go (the files are deleted after the commit)."""
        return self.db.execute(
            "UPDATE documents SET file_name = :name, file_path = '', notes = NULL, expiry_date = NULL,"
            " sha256 = NULL, file_size = NULL WHERE user_id = :uid", {"uid": user_id, "name": name}).rowcount

    def scrub_enrolments(self, student_id: int, now: datetime) -> int:
        self.db.execute(
            "UPDATE enrollment_requests SET student_notes = NULL, admin_notes = NULL, updated_at = :now"
            " WHERE student_id = :sid", {"sid": student_id, "now": now})
        return self.db.execute(
            "UPDATE enrollments SET notes = NULL, updated_at = :now WHERE student_id = :sid",
            {"sid": student_id, "now": now}).rowcount

    def scrub_lessons(self, student_id: int, now: datetime) -> int:
        """The lesson rows stay (dates, times, status, rating: the record of what was delivered and
        invoiced); their free text (pick-up address, notes, feedback, cancellation reason) goes, and so
        does the message of any reschedule proposal on them."""
        count = self.db.execute(
            "UPDATE schedules SET pickup_location = NULL, notes = NULL, student_feedback = NULL,"  # nosec B608 # interpolates only module constants (_LESSONS); every value is a bound :parameter
            f" cancel_reason = NULL, updated_at = :now WHERE id IN ({_LESSONS})",
            {"sid": student_id, "now": now}).rowcount
        self.db.execute(f"UPDATE reschedule_proposals SET message = NULL WHERE schedule_id IN ({_LESSONS})",  # nosec B608 # interpolates only module constants (_LESSONS); every value is a bound :parameter
                        {"sid": student_id})
        return count

    def end_waiting(self, student_id: int, now: datetime) -> int:
        self.db.execute("DELETE FROM waitlist_preferences WHERE student_id = :sid", {"sid": student_id})
        return self.db.execute(
            "UPDATE gap_offers SET status = 'expired', answered_at = :now WHERE student_id = :sid"
            " AND status = 'offered'", {"sid": student_id, "now": now}).rowcount

    def cancel_reminders(self, user_id: int, student_id: int, now: datetime) -> int:
        """Reminders still to go (pending, failed and waiting for a retry, or needing review) to the student or
        about their records: cancelled."""
        marks, params = self.db.in_params("open", OPEN_REMINDER_STATUSES)
        return self.db.execute(
            "UPDATE reminders SET status = 'cancelled', next_attempt_at = NULL, claim_token = NULL,"  # nosec B608 # interpolates only module constants and IN-list placeholders of db.in_params; every value is a bound :parameter
            f" lease_until = NULL, updated_at = :now WHERE status IN ({marks}) AND {_REMINDERS}",
            {**params, "uid": user_id, "sid": student_id, "now": now}).rowcount

    def scrub_reminders(self, user_id: int, student_id: int, text: str) -> int:
        """The text of every reminder to the student or about their records, and the addresses and errors
        of their delivery log (the rows stay: what was sent when, by which channel)."""
        params = {"uid": user_id, "sid": student_id}
        self.db.execute(
            "UPDATE message_deliveries SET address = NULL, error = NULL WHERE reminder_id IN"  # nosec B608 # interpolates only module constants (_REMINDERS); every value is a bound :parameter
            f" (SELECT id FROM reminders WHERE {_REMINDERS})",
            params)
        return self.db.execute(
            f"UPDATE reminders SET message = :text, last_error = NULL WHERE {_REMINDERS}",  # nosec B608 # interpolates only module constants (_REMINDERS); every value is a bound :parameter
            {**params, "text": text}).rowcount

    def scrub_notifications(self, user_id: int, student_id: int, text: str) -> tuple[int, int]:
        """(the student's own inbox, deleted; other people's notifications about the student or their
        records, whose message is replaced: an application names the applicant)."""
        own = self.db.execute("DELETE FROM notifications WHERE user_id = :uid", {"uid": user_id}).rowcount
        others = self.db.execute(
            f"UPDATE notifications SET message = :text WHERE user_id <> :uid AND ({_ABOUT_STUDENT}"  # nosec B608 # interpolates only module constants (_ABOUT_STUDENT); every value is a bound :parameter
            " OR (related_type = 'student' AND related_id = :sid))",
            {"uid": user_id, "sid": student_id, "text": text}).rowcount
        return own, others

    def end_access(self, user_id: int, student_id: int, new_email: str) -> dict:
        """Sessions, tokens (activation, reset, page hand-offs, the calendar feed), the second factor and
        its recovery codes: deleted. Sign-in attempts stay for the throttle's history, without the old
        address or the client's IP address."""
        uid = {"uid": user_id}
        out = {"sessions": self.db.execute("DELETE FROM user_sessions WHERE user_id = :uid", uid).rowcount}
        out["tokens"] = self.db.execute("DELETE FROM account_tokens WHERE user_id = :uid", uid).rowcount
        out["tokens"] += self.db.execute("DELETE FROM page_handoffs WHERE user_id = :uid", uid).rowcount
        out["tokens"] += self.db.execute(
            "DELETE FROM calendar_feed_tokens WHERE owner_type = 'student' AND owner_id = :sid",
            {"sid": student_id}).rowcount
        self.db.execute("DELETE FROM recovery_codes WHERE user_id = :uid", uid)
        self.db.execute("DELETE FROM user_second_factors WHERE user_id = :uid", uid)
        self.db.execute("UPDATE login_attempts SET email = :email, ip_address = NULL WHERE user_id = :uid",
                        {**uid, "email": new_email})
        return out

    def forget_attempts_by_address(self, old_email: str, new_email: str) -> int:
        """Sign-in attempts recorded by address only (no user id: a wrong password before the account
        was known) under the student's old address."""
        return self.db.execute(
            "UPDATE login_attempts SET email = :new, ip_address = NULL WHERE email = :old AND user_id IS NULL",
            {"old": old_email, "new": new_email}).rowcount
