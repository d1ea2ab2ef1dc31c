"""`flask seed-demo`: the original's four demo accounts plus a small, realistic school.

Dates are relative to today so the dashboards always have upcoming lessons, an overdue invoice and a due
reminder. Every one of the 22 original tables gets rows. Refuses to run on a database that already has
users (``AlreadySeeded``), so running it twice never doubles anything.

**A lived-in fortnight.** Every demo instructor gets a realistic diary from 14 days before ``today`` to
14 days after it: about 3-5 events on each day they work (lessons mostly, some assessments and
VicRoads drive tests), 45-120 minutes each with gaps between them, inside both the branch's opening hours
and the instructor's working hours, for the students of their branch who have an active enrolment, each
in a car of the branch (the student's gearbox when the branch has one), with topics that follow the
course, pick-up addresses and some notes. They are made through the real services, so they obey the same
rules as the app:

- ``scheduling.book`` (as the admin, warnings accepted) books every event. The generator only proposes
  slots it believes free; a slot the conflict engine blocks anyway is skipped, never forced. Booking
  queues each coming event's reminder; a past one gets none.
- ``outcomes.record`` (as the event's instructor) records the past ones: most completed and rated 3-5
  with short feedback, a few not completed, a no-show or two. The last one or two past events of each
  instructor stay ``scheduled``, so the "awaiting an outcome" list is not empty.
- ``scheduling.cancel`` (as the branch's office) cancels a few coming ones with a reason.

The original's six demo lessons are among them (Jack's "Parking techniques" and Mia's "Roundabouts and
give-way rules" still come up within days), each on the nearest day its instructor works; Noah's mock
test is Amelia's now (the original booked this Bayside student at the Northern centre, which the
enrolment rule refuses). Tom works Wednesday to Saturday and teaches the Learner course too, and a few
more students per branch (an active enrolment and a paid invoice each) share the diaries.

**Finance (issue 9).** Every active enrolment gets its lesson package (``packages.purchase``: the course's
lesson count, source ``enrolment``) before any outcome is recorded, so the fortnight's completed lessons
draw credits; a student whose fortnight (or series) holds more lessons than the package bought extra
lessons at the desk first (a top-up line with credits, issued and paid through ``invoicing`` and
``payments``: paying adds the credits), so every booked lesson is covered with a few to spare and the
students can still book and take offered slots. The original's invoices stay the original's rows (``INV-YYYYMMDD-NNNN``, their
amounts and statuses: Jack's part-paid, Mia's paid, ...), with the columns issue 9 added filled in as
``invoicing`` would (branch, GST 10 % added, no discount, issued by the office). Through the real services
too: Bayside's no-show fee (the branch fee setting, ``policy.update``) puts the fortnight's no-show there on
a draft invoice; Lucas pays a deposit at the desk (``payments.record``: his invoice becomes part-paid); and
a public application (``applications.apply``) waits in the CBD's queue.

Everything runs in ONE transaction (each service's own transaction nests as a savepoint, and a refused
booking rolls back only its own savepoint). The generator is deterministic: a fixed random seed, so the
result depends only on ``today`` and ``now``. ``now`` is the seed's clock (naive UTC, as ``clock.now()``):
it decides which events are past (an outcome) or coming (a reminder). Demo branches have no time zone of
their own, so every date is in APP_TIMEZONE (``settings``, else the clock's zone).
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from app.core import clock, localtime, passwords
from app.core.database import Database
from app.dao.migration import MigrationDAO
from app.dao.user import UserDAO
from app.services import (applications, audit, availability, invoicing, outcomes, packages, payments,
                          policy, proposals, scheduling, series, waitlist)
from app.services import contact as consent
from app.services.scope import Actor

DEMO_PASSWORD = "Password123!"
DEMO_ACCOUNTS = (
    ("admin@origin.com", "admin"),
    ("operations@origin.com", "staff"),
    ("amelia.ward@origin.com", "instructor"),
    ("jack.mason@student.com", "student"),
)

# The demo's admin and staff accounts get a second factor with a random secret (local and staging only,
# `flask seed-demo`); `flask demo-code EMAIL` prints the current code on a local machine.
DEMO_SECOND_FACTOR_EMAILS = ("admin@origin.com", "operations@origin.com", "priya.raman@origin.com")


def enrol_demo_second_factors(db: Database, now: datetime, settings: Mapping[str, Any]) -> list[str]:
    """Switch a TOTP factor on (random secret) for the demo's admin and staff accounts, so `make run`
    signs them in as production would. Local and staging only; returns the e-mails enrolled now."""
    from app.services import second_factor

    if settings.get("APP_ENV") not in ("local", "staging"):
        return []
    users, enrolled = UserDAO(db), []
    with db.transaction():
        for email in DEMO_SECOND_FACTOR_EMAILS:
            user = users.find_by_email(email)
            if user is not None and second_factor.state(db, user["id"]) is None:
                second_factor.enrol_for_demo(db, user["id"], now, settings)
                enrolled.append(email)
    return enrolled


FORTNIGHT = 14          # days before today, and days from today on, that get a diary
RANDOM_SEED = 20260310  # fixed: the same ``today`` always gives the same diary
STEP = 15               # minutes: every start and end lies on the quarter hour
GAP = 15                # minutes at least between two events of one instructor
MAX_PER_WEEK = {"learner": 3, "conversion": 3, "intensive": 2}  # events per student per (Monday-first) week
CANCEL_REASONS = ("Student unwell", "Car in for repair", "Storm warning")


class AlreadySeeded(RuntimeError):
    pass


@dataclass
class SeedSummary:
    rows: int
    tables: int
    counts: dict[str, int]


def seed_demo(db: Database, now: datetime, today: date, *, settings: Mapping[str, Any] | None = None,
              lived_in: bool = True) -> SeedSummary:
    """Fill an empty database with the demo school (AlreadySeeded when it has users). ``lived_in=False``
    leaves out the fortnight and the students added for it: the original's small school with its six
    lessons (booked and recorded through the services all the same), for callers that want few rows."""
    if UserDAO(db).count_by_role():
        raise AlreadySeeded("The database already has users; seed-demo only fills an empty database.")
    settings = dict(settings or {})
    settings.setdefault("APP_TIMEZONE", clock.timezone_name())
    counts: dict[str, int] = {}
    password_hash = passwords.hash_password(DEMO_PASSWORD)

    def add(table: str, row: dict) -> int:
        counts[table] = counts.get(table, 0) + 1
        row = dict(row)
        return db.insert(table, row)

    def stamped(row: dict) -> dict:
        return {**row, "created_at": now, "updated_at": now}

    with db.transaction():
        branches = [
            add("branches", stamped(b))
            for b in (
                dict(name="CBD Headquarters", address="120 Collins St", city="Melbourne", state="VIC", postcode="3000",
                     phone="(03) 8000 9000", email="cbd@origin.com.au", manager_name="Sophie Turner",
                     opening_hours="Mon-Fri 8am-6pm, Sat 8am-1pm", timezone=None),
                dict(name="Bayside Training Hub", address="45 Beach Rd", city="St Kilda", state="VIC", postcode="3182",
                     phone="(03) 8111 9200", email="bayside@origin.com.au", manager_name="Marcus Shaw",
                     opening_hours="Mon-Sat 8am-7pm", timezone=None),
                dict(name="Northern Suburbs Centre", address="28 Plenty Rd", city="Preston", state="VIC",
                     postcode="3072", phone="(03) 8222 9300", email="north@origin.com.au", manager_name="Linh Nguyen",
                     opening_hours="Mon-Fri 9am-5pm, Sat 9am-1pm", timezone=None),
            )
        ]
        cbd, bayside, north = branches
        # Structured opening hours behind the branch_closed rule (weekday 0 = Monday), matching the
        # free-text labels above; timezone NULL = APP_TIMEZONE. Closed on Sundays.
        opening = {
            cbd: [(d, time(8, 0), time(18, 0)) for d in range(5)] + [(5, time(8, 0), time(13, 0))],
            bayside: [(d, time(8, 0), time(19, 0)) for d in range(6)],
            north: [(d, time(9, 0), time(17, 0)) for d in range(5)] + [(5, time(9, 0), time(13, 0))],
        }
        for branch_id, periods in opening.items():
            for weekday, opens, closes in periods:
                add("branch_opening_hours", stamped(dict(branch_id=branch_id, weekday=weekday,
                                                         open_time=opens, close_time=closes)))

        def user(role, first, last, email, phone, branch):
            return add("users", stamped(dict(role=role, first_name=first, last_name=last, email=email, phone=phone,
                                             password_hash=password_hash, status="active", branch_id=branch)))

        admin = user("admin", "Laura", "Matthews", "admin@origin.com", "(03) 8000 9000", cbd)
        staff = user("staff", "Oliver", "Grant", "operations@origin.com", "(03) 8000 9001", cbd)
        amelia_u = user("instructor", "Amelia", "Ward", "amelia.ward@origin.com", "0400 111 222", bayside)
        jack_u = user("student", "Jack", "Mason", "jack.mason@student.com", "0401 555 777", bayside)
        staff2 = user("staff", "Priya", "Raman", "priya.raman@origin.com", "(03) 8111 9201", bayside)
        raj_u = user("instructor", "Raj", "Patel", "raj.patel@origin.com", "0400 333 444", cbd)
        tom_u = user("instructor", "Tom", "Nguyen", "tom.nguyen@origin.com", "0400 555 666", north)
        students_u = [
            user("student", "Mia", "Chen", "mia.chen@student.com", "0401 222 333", cbd),
            user("student", "Noah", "Williams", "noah.williams@student.com", "0401 444 555", bayside),
            user("student", "Zara", "Ahmed", "zara.ahmed@student.com", "0401 666 777", north),
            user("student", "Lucas", "Rossi", "lucas.rossi@student.com", "", cbd),
        ]

        add("staff_profiles", stamped(dict(user_id=staff, branch_id=cbd, position_title="Operations Coordinator",
                                           employment_type="Full-time", start_date=date(2021, 2, 15),
                                           notes="Oversees daily bookings and invoicing.")))
        add("staff_profiles", stamped(dict(user_id=staff2, branch_id=bayside, position_title="Front Desk Officer",
                                           employment_type="Part-time", start_date=date(2023, 7, 3), notes=None)))

        def instructor(user_id, branch, cert, expiry, years, availability, bio, rating):
            return add("instructors", stamped(dict(user_id=user_id, branch_id=branch, certification_number=cert,
                                                   accreditation_expiry=expiry, experience_years=years,
                                                   availability_notes=availability, bio=bio, rating=rating)))

        amelia = instructor(amelia_u, bayside, "CERT-IV-DRV-2020-045", today + timedelta(days=300), 8,
                            "Available Tue-Sat, prefers mornings.",
                            "Former fleet instructor specialising in defensive driving.", Decimal("4.80"))
        raj = instructor(raj_u, cbd, "CERT-IV-DRV-2018-112", today + timedelta(days=25), 11,
                         "Weekdays, late afternoons.", "Patient with nervous learners; manual specialist.",
                         Decimal("4.60"))
        tom = instructor(tom_u, north, "CERT-IV-DRV-2022-077", today + timedelta(days=540), 3,
                         "Wed-Sat; Saturday mornings for test-day intensives.", "Test-day intensive coach.",
                         Decimal("4.90"))

        student_branch: dict[int, int] = {}

        def student(user_id, branch, licence, status, expiry, contact, contact_phone, address, city, postcode, summary):
            student_id = add("students", stamped(dict(user_id=user_id, branch_id=branch, license_number=licence,
                                                license_status=status, license_expiry=expiry,
                                                emergency_contact_name=contact, emergency_contact_phone=contact_phone,
                                                address_line=address, city=city, postcode=postcode,
                                                progress_summary=summary)))
            student_branch[student_id] = branch
            return student_id

        jack = student(jack_u, bayside, "L1234567", "Learner", today + timedelta(days=160), "Sarah Mason",
                       "0402 888 999", "12 Marine Parade", "St Kilda", "3182", "Enrolled and first lesson scheduled.")
        mia = student(students_u[0], cbd, "L7654321", "Learner", today + timedelta(days=400), "Wei Chen",
                      "0402 111 000", "8 Flinders Lane", "Melbourne", "3000", "Lessons in progress.")
        noah = student(students_u[1], bayside, "P1998877", "P1", today + timedelta(days=700), "Emma Williams",
                       "0402 222 111", "3 Acland St", "St Kilda", "3182", "Preparing for the drive test.")
        zara = student(students_u[2], north, None, "Learner", None, "Omar Ahmed", "0402 333 222",
                       "51 High St", "Preston", "3072", "Enrolment request pending approval.")
        lucas = student(students_u[3], cbd, "OS-IT-445566", "Full", today + timedelta(days=90), "Giulia Rossi",
                        "0402 444 333", "200 Spencer St", "Melbourne", "3000", "Overseas licence conversion.")

        courses = [
            add("courses", stamped(c))
            for c in (
                dict(title="Learner Essentials Package", description="Ten structured lessons covering VicRoads criteria.",
                     price=Decimal("880.00"), lesson_count=10, category="Learner", status="active"),
                dict(title="Overseas Licence Conversion", description="Tailored refresher for overseas licence holders.",
                     price=Decimal("540.00"), lesson_count=6, category="Conversion", status="active"),
                dict(title="Test Day Intensive", description="Pre-test simulation and vehicle hire on test day.",
                     price=Decimal("320.00"), lesson_count=2, category="Assessment", status="active"),
                dict(title="Night Driving Module", description="Two evening sessions (retired).",
                     price=Decimal("190.00"), lesson_count=2, category="Learner", status="inactive"),
            )
        ]
        learner, conversion, intensive, _night = courses
        lesson_count = {learner: 10, conversion: 6, intensive: 2, _night: 2}
        for course_id, instructor_id in ((learner, amelia), (conversion, amelia), (intensive, amelia),
                                         (learner, raj), (conversion, raj), (intensive, tom), (learner, tom)):
            add("course_instructor", dict(course_id=course_id, instructor_id=instructor_id))

        def vehicle(name, kind, transmission, plate, vin, branch, status, last_service, next_due, notes):
            return add("vehicles", stamped(dict(name=name, type=kind, transmission=transmission, plate_number=plate,
                                                vin=vin, branch_id=branch, status=status,
                                                last_service_date=last_service, next_service_due=next_due,
                                                notes=notes)))

        corolla = vehicle("Toyota Corolla Hybrid", "Hatchback", "Automatic", "ORI-123", "JTNK43BE503456789", bayside,
                          "available", today - timedelta(days=60), today + timedelta(days=120),
                          "Hybrid model used for learner lessons.")
        vehicle("Mazda 3 Sport", "Sedan", "Manual", "ORI-456", "JM0BN423810123456", cbd, "maintenance",
                today - timedelta(days=200), today + timedelta(days=5), "Manual gearbox training car.")
        i30 = vehicle("Hyundai i30", "Hatchback", "Automatic", "ORI-789", "KMHD841CBKU123456", cbd, "available",
                      today - timedelta(days=30), today + timedelta(days=150), None)
        yaris = vehicle("Toyota Yaris", "Hatchback", "Manual", "ORI-321", "VNKKL3D330A123456", north, "available",
                        today - timedelta(days=90), today + timedelta(days=90), None)

        branch_of: dict[int, int] = {}    # enrolment -> its student's branch
        packaged: list[tuple[int, int]] = []  # (enrolment, the course's lesson count): bought before the outcomes

        def enrol(student_id, course_id, start, status, progress, notes):
            enrollment_id = add("enrollments", stamped(dict(student_id=student_id, course_id=course_id,
                                                            start_date=start, status=status,
                                                            progress_percentage=progress, notes=notes)))
            branch_of[enrollment_id] = student_branch[student_id]
            packaged.append((enrollment_id, lesson_count[course_id]))
            return enrollment_id

        e_jack = enrol(jack, learner, today - timedelta(days=21), "active", 30, "Completed orientation lesson.")
        e_mia = enrol(mia, learner, today - timedelta(days=45), "in_progress", 60, None)
        e_noah = enrol(noah, intensive, today - timedelta(days=10), "active", 50, None)
        e_lucas = enrol(lucas, conversion, today - timedelta(days=5), "active", 0, None)

        def request(student_id, course_id, pref_date, pref_time, status, instructor_id, notes, admin_notes,
                    decided_by, decided_at):
            return add("enrollment_requests", stamped(dict(
                student_id=student_id, course_id=course_id, preferred_date=pref_date, preferred_time=pref_time,
                status=status, instructor_id=instructor_id, student_notes=notes, admin_notes=admin_notes,
                decision_by=decided_by, decision_at=decided_at)))

        request(jack, conversion, today - timedelta(days=14), time(10, 0), "declined", None,
                "Would like conversion lessons on weekends.", "Jack holds no overseas licence; learner course fits.",
                staff, now - timedelta(days=20))
        request(jack, intensive, today + timedelta(days=30), time(14, 0), "pending", amelia,
                "Interested in the assessment package after core lessons.", None, None, None)
        request(zara, learner, today + timedelta(days=7), time(9, 30), "pending", None,
                "Weekend mornings suit me best.", None, None, None)

        invoice_serial = iter(range(1, 1000))

        def invoice(enrollment_id, issued, due, subtotal, status, notes, description):
            tax = (subtotal * Decimal("0.10")).quantize(Decimal("0.01"))
            number = f"INV-{issued.strftime('%Y%m%d')}-{next(invoice_serial):04d}"
            # the original's rows (its number scheme, its statuses), with the columns issue 9 added set as
            # invoicing would: the branch (the list's scope), GST 10 % added, no discount, who issued it
            invoice_id = add("invoices", stamped(dict(
                enrollment_id=enrollment_id, invoice_number=number, issue_date=issued, due_date=due,
                subtotal=subtotal, tax_amount=tax, total=subtotal + tax, status=status, notes=notes,
                branch_id=branch_of[enrollment_id], tax_rate=Decimal("10.00"), tax_inclusive=0,
                discount_amount=Decimal("0.00"), created_by=staff)))
            add("invoice_items", dict(invoice_id=invoice_id, description=description, quantity=1,
                                      unit_price=subtotal, total=subtotal, kind="course"))
            return invoice_id

        inv_jack = invoice(e_jack, today - timedelta(days=21), today - timedelta(days=14), Decimal("880.00"),
                           "partial", "Auto-generated upon enrolment.", "Learner Essentials Package (10 lessons)")
        inv_mia = invoice(e_mia, today - timedelta(days=45), today - timedelta(days=38), Decimal("880.00"), "paid",
                          "Auto-generated upon enrolment.", "Learner Essentials Package (10 lessons)")
        invoice(e_noah, today - timedelta(days=10), today - timedelta(days=3), Decimal("320.00"), "sent",
                "Auto-generated upon enrolment.", "Test Day Intensive")
        inv_lucas = invoice(e_lucas, today - timedelta(days=5), today + timedelta(days=2), Decimal("540.00"), "sent",
                            "Auto-generated upon enrolment.", "Overseas Licence Conversion")

        add("payments", stamped(dict(invoice_id=inv_jack, amount=Decimal("400.00"),
                                     payment_date=today - timedelta(days=20), method="Card", reference="AUTH7832",
                                     notes="Deposit received online.", recorded_by=staff)))
        add("payments", stamped(dict(invoice_id=inv_mia, amount=Decimal("968.00"),
                                     payment_date=today - timedelta(days=40), method="Bank Transfer",
                                     reference="EFT-22871", notes=None, recorded_by=staff)))

        # More students with an active enrolment, so that each instructor's fortnight is shared by
        # several learners (each with an invoice paid on enrolment), created like the ones above.
        offer = {learner: ("Learner Essentials Package (10 lessons)", Decimal("880.00")),
                 conversion: ("Overseas Licence Conversion", Decimal("540.00")),
                 intensive: ("Test Day Intensive", Decimal("320.00"))}
        course_of = {"learner": learner, "conversion": conversion, "intensive": intensive}
        recorder = {cbd: staff, bayside: staff2, north: staff}
        pupils: dict[int, list[_Pupil]] = {
            bayside: [_Pupil(jack, e_jack, "learner", "Automatic", "12 Marine Parade, St Kilda", None, 2, False),
                      _Pupil(noah, e_noah, "intensive", "Automatic", "3 Acland St, St Kilda",
                             "Work: 60 Fitzroy St, St Kilda", 1, True)],
            cbd: [_Pupil(mia, e_mia, "learner", "Automatic", "8 Flinders Lane, Melbourne",
                         "Work: 35 Collins St, Melbourne", 5, False),
                  _Pupil(lucas, e_lucas, "conversion", "Manual", "200 Spencer St, Melbourne", None, 0, False)],
            north: [],
        }
        more = [(branch_id, *row) for branch_id, key in ((bayside, "bayside"), (cbd, "cbd"), (north, "north"))
                for row in _MORE_STUDENTS[key]] if lived_in else []
        for n, (branch_id, first, last, phone, street, city, postcode, course, gearbox, away, licence,
                contact, days_ago, status, progress, summary, test_day) in enumerate(more):
            email = f"{first}.{last}".lower().replace("'", "") + "@student.com"
            user_id = user("student", first, last, email, phone, branch_id)
            licence_status = "Full" if licence.startswith("OS-") else "Learner"
            contact_phone = f"{phone[:-3]}{(int(phone[-3:]) + 404) % 1000:03d}"
            student_id = student(user_id, branch_id, licence, licence_status, today + timedelta(days=200 + 37 * n),
                                 contact, contact_phone, street, city, postcode, summary)
            started = today - timedelta(days=days_ago)
            course_id = course_of[course]
            enrollment_id = enrol(student_id, course_id, started, status, progress, None)
            description, price = offer[course_id]
            invoice_id = invoice(enrollment_id, started, started + timedelta(days=7), price, "paid",
                                 "Auto-generated upon enrolment.", description)
            add("payments", stamped(dict(invoice_id=invoice_id, amount=price + (price * Decimal("0.10")).quantize(
                Decimal("0.01")), payment_date=started + timedelta(days=n % 5), method=("Card", "Bank Transfer")[n % 2],
                reference=f"DEMO-{4100 + n}", notes=None, recorded_by=recorder[branch_id])))
            pupils[branch_id].append(_Pupil(student_id, enrollment_id, course, gearbox, f"{street}, {city}", away,
                                            progress // 10, test_day))

        add("instructor_unavailability", stamped(dict(
            instructor_id=raj, start_datetime=datetime.combine(today + timedelta(days=4), time(8, 0)),
            end_datetime=datetime.combine(today + timedelta(days=4), time(18, 0)), reason="Professional development day")))

        add("reminders", stamped(dict(related_type="invoice", related_id=inv_lucas, recipient_user_id=students_u[3],
                                      channel="email", reminder_type="Invoice Due",
                                      message="Your invoice is due in two days.", send_on=today, status="pending")))
        add("reminders", stamped(dict(related_type="invoice", related_id=inv_jack, recipient_user_id=jack_u,
                                      channel="email", reminder_type="Invoice Due",
                                      message="Your invoice is due soon.", send_on=today - timedelta(days=16),
                                      status="sent")))

        add("notifications", dict(user_id=jack_u, title="Welcome to Origin Driving School",
                                  message="Your first lesson will be scheduled soon.", level="info", is_read=1,
                                  created_at=now - timedelta(days=21)))
        add("notifications", dict(user_id=jack_u, title="Payment received",
                                  message="We received $400.00 for your invoice.", level="success", is_read=0,
                                  created_at=now - timedelta(days=20)))

        comm = add("communications", dict(sender_user_id=staff, audience_scope="selected", channel="email",
                                          subject="Autumn Coaching Clinics",
                                          message="Register for our advanced manoeuvres clinic next month.",
                                          created_at=now - timedelta(days=6)))
        for recipient in (amelia_u, jack_u, students_u[0]):
            add("communication_recipients", dict(communication_id=comm, user_id=recipient))

        add("documents", dict(user_id=jack_u, file_name="Learner_Permit.pdf", file_path="doc_learner_permit.pdf",
                              mime_type="application/pdf", file_size=234567, category="licence",
                              notes="Uploaded via admin (sample record; no file on disk)", created_at=now))

        add("notes", dict(related_type="student", related_id=jack, author_user_id=staff,
                          content="Jack shows strong mirror skills; continue practising lane changes.",
                          created_at=now - timedelta(days=14)))
        add("notes", dict(related_type="student", related_id=mia, author_user_id=raj_u,
                          content="Missed last lesson through illness; rebook this week.",
                          created_at=now - timedelta(days=7)))

        hours = {
            amelia: {d: [(time(8, 0), time(13, 0))] for d in range(1, 6)},   # Tue-Sat mornings
            raj: {d: [(time(13, 0), time(19, 0))] for d in range(0, 5)},     # weekday afternoons
            tom: {**{d: [(time(9, 0), time(17, 0))] for d in range(2, 5)},  # Wed-Fri, and Saturday mornings
                  5: [(time(9, 0), time(13, 0))]},
        }
        for instructor_id, week in hours.items():
            for weekday, periods in week.items():
                for start, end in periods:
                    add("instructor_working_hours", stamped(dict(instructor_id=instructor_id, weekday=weekday,
                                                                 start_time=start, end_time=end)))
        add("vehicle_service_logs", dict(vehicle_id=corolla, service_date=today - timedelta(days=60),
                                         odometer_km=48210, cost=Decimal("389.50"), notes="Logbook service.",
                                         recorded_by=staff, created_at=now))
        add("vehicle_downtime", stamped(dict(
            vehicle_id=i30, start_datetime=datetime.combine(today + timedelta(days=6), time(7, 0)),
            end_datetime=datetime.combine(today + timedelta(days=6), time(12, 0)), reason="Tyre replacement")))

        staff_actor = Actor(user_id=staff, role="staff", branch_id=cbd)
        audit.record(db, staff_actor, "student_created", "student", jack, now=now,
                     details="Demo data: enrolment and invoice generated.")
        counts["audit_trail"] = 1

        # ------------------------------------------------------------------ finance (issue 9)
        # Every active enrolment's lesson package, as an approval buys it (the course's lesson count), before
        # any outcome is recorded: completed lessons draw credits (and a lesson past the package is "owed").
        office_of = {cbd: staff_actor, bayside: Actor(user_id=staff2, role="staff", branch_id=bayside),
                     north: Actor(user_id=admin, role="admin")}
        for enrollment_id, lessons in packaged:
            packages.purchase(db, office_of[branch_of[enrollment_id]], enrollment_id, lessons, now=now,
                              source="enrolment")
        if lived_in:
            # Bayside charges a no-show fee: the fortnight's no-show there adds it to a draft invoice.
            policy.update(db, Actor(user_id=admin, role="admin"), bayside, {"no_show_fee": NO_SHOW_FEE}, now=now)

        # ------------------------------------------------------------------ the lived-in fortnight
        def teacher(instructor_id, user_id, branch_id, cars, office, centre):
            return _Teacher(instructor_id=instructor_id, user_id=user_id, branch_id=branch_id,
                            window={d: _intersect([(o, c) for w, o, c in opening[branch_id] if w == d],
                                                  hours[instructor_id].get(d, []))
                                    for d in range(7)},
                            pupils=pupils[branch_id], cars=cars, office=office, test_centre=centre)

        bayside_office = Actor(user_id=staff2, role="staff", branch_id=bayside)
        teachers = [
            teacher(amelia, amelia_u, bayside, [(corolla, "Automatic")], bayside_office, "VicRoads Sandringham"),
            teacher(raj, raj_u, cbd, [(i30, "Automatic")], staff_actor, "VicRoads Carlton"),  # (Mazda: maintenance)
            teacher(tom, tom_u, north, [(yaris, "Manual")], Actor(user_id=admin, role="admin"), "VicRoads Coburg"),
        ]
        amelia_t, raj_t, _tom_t = teachers
        raj_t.day_off(today + timedelta(days=4))  # the professional development day (unavailability above)
        diary = _Diary(db, Actor(user_id=admin, role="admin"), teachers, now=now, today=today, settings=settings,
                       branch_address={cbd: "120 Collins St, Melbourne", bayside: "45 Beach Rd, St Kilda",
                                       north: "28 Plenty Rd, Preston"})
        jack_p, noah_p = pupils[bayside][0], pupils[bayside][1]
        mia_p = pupils[cbd][0]
        # The original's demo lessons, each on the nearest day its instructor works.
        diary.fixed(amelia_t, jack_p, today - timedelta(days=FORTNIGHT), time(9, 0), time(10, 30),
                    "Urban driving fundamentals",
                    outcome={"status": "completed", "student_rating": 4,
                             "student_feedback": "Good observation; work on lane changes."})
        next_jack = diary.fixed(amelia_t, jack_p, today + timedelta(days=1), time(9, 0), time(10, 30),
                                "Parking techniques")
        diary.fixed(amelia_t, jack_p, today + timedelta(days=8), time(9, 0), time(10, 30), "Freeway merging")
        diary.fixed(raj_t, mia_p, today + timedelta(days=2), time(16, 0), time(17, 0), "Roundabouts and give-way rules")
        diary.fixed(raj_t, mia_p, today - timedelta(days=7), time(16, 0), time(17, 0), "Hill starts",
                    outcome={"status": "not_completed", "notes": "Student unwell; rebook."})
        diary.fixed(amelia_t, noah_p, today + timedelta(days=3), time(10, 0), time(12, 0), "Mock driving test",
                    event_type="assessment")
        if lived_in:
            diary.fill()
        # A student who drives more lessons than the package holds has bought extra lessons at the desk
        # (a top-up line with credits, issued and paid through the services: paying adds the credits),
        # so the fortnight's lessons, Mia's weekly series included, are covered with a few to spare.
        booked = Counter(e.pupil.enrollment_id for e in diary.events if e.event_type == "lesson")
        if lived_in:
            booked[e_mia] += SERIES_LESSONS  # booked in _self_service_demo, after the outcomes
        for n, (enrollment_id, lessons) in enumerate(packaged):
            short = booked[enrollment_id] + SPARE_CREDITS - lessons
            if booked[enrollment_id] and short > 0:
                _sell_top_up(db, office_of[branch_of[enrollment_id]], enrollment_id, -(-short // 5) * 5,
                             reference=f"EFTPOS {118300 + n}", now=now, settings=settings)
        diary.record_outcomes()
        if lived_in:
            # Issue 8: Jack and Noah wait for earlier slots, so the office's cancellations below reach them.
            for student_id, user_id in ((jack, jack_u), (noah, students_u[1])):
                waitlist.save_preferences(db, Actor(user_id=user_id, role="student", student_id=student_id),
                                          {"active": True, "weekdays": [0, 1, 2, 3, 4, 5],
                                           "earliest_time": "08:00", "latest_time": "19:00"}, now=now)
            diary.cancel_some()
            _self_service_demo(db, diary, now=now, settings=settings, staff=staff_actor, mia=mia, raj=raj, tom=tom,
                               amelia=amelia_t.actor, jack=jack)
        for table, n in diary.counts.items():
            counts[table] = counts.get(table, 0) + n
        if lived_in:
            _finance_demo(db, now=now, today=today, settings=settings, office=staff_actor, lucas_invoice=inv_lucas,
                          cbd=cbd, learner=learner)
            _messages_demo(db, now=now, settings=settings, office=staff_actor, noah_user=students_u[1])

        if next_jack is not None:
            add("notifications", dict(user_id=amelia_u, title="New Lesson Assigned",
                                      message=f"Jack Mason has a lesson with you on {_day_label(next_jack.day)}"
                                              f" at {next_jack.start.strftime('%H:%M')}.",
                                      level="info", is_read=0, created_at=now - timedelta(hours=3)))
        # the services wrote rows of their own (reminders, audit, ledger, offers, notifications): count what
        # is there
        actual = MigrationDAO(db).row_counts([t for t in db.tables() if t != "schema_migrations"])
        counts = {t: n for t, n in actual.items() if n}
    from app.services import stats  # the maintained aggregates count the demo at once (issue 13)

    stats.refresh(db, now, today=today)
    return SeedSummary(rows=sum(counts.values()), tables=len(counts), counts=counts)


BROKEN_REASON = "Medical appointment"  # the window recorded over one of Tom's coming lessons
NO_SHOW_FEE = "45.00"                   # Bayside's no-show fee (the branch fee setting)
LUCAS_DEPOSIT = Decimal("200.00")       # part of Lucas's invoice, paid at the front desk
APPLICANT_EMAIL = "grace.obrien@example.com"  # the pending public application
SERIES_LESSONS = 6                      # Mia's weekly series with Raj
SPARE_CREDITS = 3                       # lessons left over after the diary for a student who bought a top-up
EXTRA_LESSON_PRICE = Decimal("85.00")   # one extra lesson, ex GST


def _sell_top_up(db: Database, office: Actor, enrollment_id: int, credits: int, *, reference: str, now: datetime,
                 settings: Mapping[str, Any]) -> int:
    """An invoice for ``credits`` extra lessons (one line that adds them when paid), issued and paid in
    full by card at the desk; returns the invoice id."""
    invoice_id = invoicing.create_invoice(
        db, office, enrollment_id=enrollment_id, now=now, settings=settings, issue=True,
        notes="Extra lessons bought at the front desk.",
        lines=[{"description": f"Extra lessons ({credits})", "quantity": 1,
                "unit_price": str(EXTRA_LESSON_PRICE * credits), "kind": "package", "credits": credits}])
    payments.record(db, office, invoice_id, {"amount": str(invoicing.balance(db, invoice_id)), "method": "card",
                                             "reference": reference}, now=now, settings=settings)
    return invoice_id


def _messages_demo(db: Database, *, now: datetime, settings: Mapping[str, Any], office: Actor,
                   noah_user: int) -> None:
    """Issue 10: Noah takes no SMS (his lesson reminders go by e-mail), and the CBD office has told its
    students about the car park works (a broadcast, queued for the dispatcher like every reminder)."""
    from app.services import communications

    consent.set_preferences(db, Actor(user_id=noah_user, role="student"), email=True, sms=False, in_app=True,
                            now=now - timedelta(days=20))
    communications.send(db, office, {
        "segment": "role", "segment_value": "student", "channel": "in-app", "subject": "Car park works next week",
        "message": "The Collins St car park is closed from Monday to Wednesday. Your instructor will meet you at"
                   " the Flinders Lane entrance instead."}, now=now - timedelta(minutes=20),
        settings={"APP_NAME": "Origin Driving School", **settings})


def _finance_demo(db: Database, *, now: datetime, today: date, settings: Mapping[str, Any], office: Actor,
                  lucas_invoice: int, cbd: int, learner: int) -> None:
    """Issue 9 in use: Lucas paid a deposit on his invoice at the desk (a partial payment through the
    payments service: the invoice is part-paid), and a public application waits in the queue (through
    the applications service, as the /apply page makes it: the applicant's account, student and request at
    the CBD, whose staff (the demo's operations login) are told in-app)."""
    payments.record(db, office, lucas_invoice, {
        "amount": str(LUCAS_DEPOSIT), "method": "card", "reference": "EFTPOS 118204",
        "payment_date": (today - timedelta(days=1)).isoformat(), "notes": "Deposit at the front desk."},
        now=now, settings=settings)
    applications.apply(db, {
        "first_name": "Grace", "last_name": "O'Brien", "email": APPLICANT_EMAIL, "phone": "0414 507 221",
        "date_of_birth": date(today.year - 17, 5, 14), "license_number": "L4410372", "branch_id": cbd,
        "course_id": learner, "preferred_date": today + timedelta(days=9), "preferred_time": time(16, 0),
        "notes": "After school on weekdays, please."}, ip="203.0.113.24", now=now, settings=settings)


def _self_service_demo(db: Database, diary: "_Diary", *, now: datetime, settings: Mapping[str, Any], staff: Actor,
                       mia: int, raj: int, tom: int, amelia: Actor, jack: int) -> None:
    """Issue 8's features in use: a weekly series for Mia with Raj (Thursdays 17:00, six weeks: the
    fortnight's lessons make some dates clash, listed on the series page); Amelia proposing a new time
    for Jack's lesson in a week or more (Jack answers it in "Proposed times"); and Tom's medical
    appointment over one of his coming lessons, which the conflicts panel lists."""
    today = diary.today
    thursday = today + timedelta(days=(3 - today.weekday()) % 7 or 7)
    series.create(db, staff, {"student_id": mia, "instructor_id": raj, "first_date": thursday.isoformat(),
                              "start_time": "17:00", "end_time": "18:00", "interval_weeks": 1,
                              "count": SERIES_LESSONS,
                              "topic": "Weekly practice"}, now=now, settings=settings)
    live = sorted((e for e in diary.events if not e.cancelled and e.outcome is None and e.event_type == "lesson"),
                  key=lambda e: (e.day, e.start))
    coming = next((e for e in live if e.pupil.student_id == jack and e.teacher.instructor_id == amelia.instructor_id
                   and e.day >= today + timedelta(days=6)), None)
    if coming is not None:
        free = availability.slots(db, amelia, instructor_id=amelia.instructor_id, date_from=coming.day + timedelta(days=1),
                                  date_to=coming.day + timedelta(days=7), duration_minutes=_m(coming.end) - _m(coming.start),
                                  now=now, settings=settings)
        if free:
            pick = free[len(free) // 2]
            proposals.propose(db, amelia, coming.id, {
                "date": pick["start"][:10], "start_time": pick["start"][11:16], "end_time": pick["end"][11:16],
                "message": "I have a cancellation then: would that suit you better?"}, now=now, settings=settings)
    broken = next((e for e in live if e.teacher.instructor_id == tom and e.day >= today + timedelta(days=3)), None)
    if broken is not None:
        db.insert("instructor_unavailability", {
            "instructor_id": tom, "start_datetime": datetime.combine(broken.day, broken.start),
            "end_datetime": datetime.combine(broken.day, broken.end), "reason": BROKEN_REASON,
            "created_at": now, "updated_at": now})


# ------------------------------------------------------------------------------------------ the demo school

# Per branch: first, last, phone, street, suburb, postcode, course, gearbox, other pick-up point, licence,
# emergency contact, enrolled days ago, enrolment status, progress %, summary, sits the drive test soon
_MORE_STUDENTS = {
    "bayside": (
        ("Chloe", "Bennett", "0412 301 118", "14 Ormond Esplanade", "Elwood", "3184", "learner", "Automatic",
         "Work: 110 Acland St, St Kilda", "L2210457", "Karen Bennett", 35, "in_progress", 40,
         "Confident in light traffic; roundabouts next.", False),
        ("Ethan", "Walsh", "0412 302 224", "27 Carlisle St", "Balaclava", "3183", "learner", "Manual",
         "Balaclava Station, Carlisle St", "L2210588", "Michael Walsh", 28, "active", 30,
         "Learning in a manual; clutch control improving.", False),
        ("Ruby", "Kowalski", "0412 303 336", "9 Bay St", "Brighton", "3186", "learner", "Automatic",
         "School: Brighton Secondary College, Marriage Rd", "L2210613", "Anna Kowalski", 50, "in_progress", 70,
         "Nearly ready for the drive test.", False),
        ("Sienna", "Marsh", "0412 304 442", "5 Glen Huntly Rd", "Elsternwick", "3185", "intensive", "Automatic",
         None, "L2210729", "Paul Marsh", 12, "active", 50, "Drive test booked; intensive preparation.", True),
        ("Liam", "O'Connor", "0412 305 557", "18 Inkerman St", "St Kilda", "3182", "intensive", "Manual",
         "Work: 2 Fitzroy St, St Kilda", "L2210834", "Siobhan O'Connor", 9, "active", 50,
         "Test day package; practising the test routes.", True),
        ("Harper", "Lim", "0412 306 663", "40 Tennyson St", "Elwood", "3184", "learner", "Automatic", None,
         "L2210946", "David Lim", 14, "active", 20, "Early lessons; quiet streets first.", False),
    ),
    "cbd": (
        ("Aisha", "Karim", "0413 401 112", "22 Lygon St", "Carlton", "3053", "learner", "Automatic",
         "Uni: University of Melbourne, Grattan St", "L3310452", "Farid Karim", 30, "in_progress", 40,
         "Steady progress; city traffic next.", False),
        ("Ben", "Hartley", "0413 402 227", "7 Brunswick St", "Fitzroy", "3065", "learner", "Manual",
         "Work: 150 Smith St, Collingwood", "L3310573", "Jo Hartley", 21, "active", 30,
         "Wants to learn in a manual.", False),
        ("Yuki", "Tanaka", "0413 403 338", "12/88 Southbank Blvd", "Southbank", "3006", "conversion", "Automatic",
         "Work: 1 Collins St, Melbourne", "OS-JP-204871", "Kenji Tanaka", 18, "active", 60,
         "Japanese licence; converting before the six-month limit.", True),
        ("Oscar", "Fletcher", "0413 404 441", "15 Errol St", "North Melbourne", "3051", "learner", "Automatic",
         None, "L3310694", "Ruth Fletcher", 40, "in_progress", 50, "Halfway through the package.", False),
        ("Mateo", "Silva", "0413 405 556", "850 Collins St", "Docklands", "3008", "conversion", "Manual", None,
         "OS-BR-773105", "Lucia Silva", 10, "active", 20, "Brazilian licence; hook turns and trams are new.", False),
        ("Hannah", "Brooks", "0413 406 669", "4 Little Lonsdale St", "Melbourne", "3000", "learner", "Automatic",
         "Work: 300 Bourke St, Melbourne", "L3310715", "Greg Brooks", 55, "in_progress", 80,
         "Final lessons before the drive test.", True),
    ),
    "north": (
        ("Priyanka", "Singh", "0414 501 115", "33 Gilbert Rd", "Preston", "3072", "learner", "Automatic",
         "Preston Market, Cramer St", "L4410461", "Harpreet Singh", 25, "active", 30,
         "Building confidence at intersections.", False),
        ("Marco", "Bianchi", "0414 502 229", "8 Edwardes St", "Reservoir", "3073", "intensive", "Manual", None,
         "L4410582", "Rosa Bianchi", 11, "active", 50, "Drive test booked; manual car.", True),
        ("Leila", "Haddad", "0414 503 331", "19 Hutton St", "Thornbury", "3071", "learner", "Automatic",
         "School: Thornbury High School, Collins St", "L4410603", "Nadia Haddad", 32, "in_progress", 40,
         "Good progress; freeway work soon.", False),
        ("Samuel", "Doyle", "0414 504 447", "140 High St", "Northcote", "3070", "learner", "Manual",
         "Work: 250 High St, Northcote", "L4410724", "Claire Doyle", 20, "active", 30,
         "Learning in a manual.", False),
        ("Emily", "Tran", "0414 505 552", "56 Sydney Rd", "Coburg", "3058", "intensive", "Automatic", None,
         "L4410845", "Linh Tran", 8, "active", 50, "Test day package.", True),
        ("Ahmed", "Yusuf", "0414 506 668", "9 Grimshaw St", "Bundoora", "3083", "learner", "Automatic",
         "Uni: La Trobe University, Kingsbury Dr", "L4410966", "Halima Yusuf", 45, "in_progress", 60,
         "Confident; working on hazard perception.", False),
        ("Olivia", "Kerr", "0414 507 774", "25 Murray Rd", "Preston", "3072", "learner", "Automatic", None,
         "L4411087", "Fiona Kerr", 6, "active", 10, "Just started; first lessons in quiet streets.", False),
    ),
}

_CURRICULUM = {
    "learner": ("Car controls and moving off", "Urban driving fundamentals", "Intersections and give-way rules",
                "Roundabouts and lane changes", "Reverse parallel parking", "Three-point turns and U-turns",
                "Trams, cyclists and shared roads", "Freeway merging", "Hazard perception",
                "Country roads and overtaking", "Low-speed manoeuvres in car parks", "Mock test route"),
    "conversion": ("Victorian road rules refresher", "Hook turns and trams in the CBD", "Roundabouts and lane changes",
                   "Freeway merging", "Hazard perception", "Mock test route"),
    "intensive": ("Test route familiarisation", "Reverse parallel parking", "Hazard perception", "Mock test route"),
}
_REVISION = ("Roundabouts and lane changes", "Reverse parallel parking", "Hazard perception", "Freeway merging",
             "Mock test route", "Lane changes in heavy traffic")
_LESSON_NOTES = (
    "Bring learner permit and log book.", "A parent will sit in the back for this one.",
    "Nervous on busy roads: start in quiet streets.", "Wants extra practice reversing into a driveway.",
    "Ask about booking the drive test.", "Pick up from the side entrance.", "Log book: needs night hours signed.",
    "Focus on head checks before lane changes.",
)
_CONVERSION_NOTE = "Overseas licence holder: Victorian road rules, hook turns and trams."
_FEEDBACK = {
    5: ("Great lesson, felt really confident today.", "Clear explanations, thank you!", "Loved the practice, thanks."),
    4: ("Good lesson; still a bit nervous at roundabouts.", "Helpful tips, thanks.", "Getting there!"),
    3: ("Found it hard today, but learned a lot.", "Felt a bit rushed at the end.", "Need more practice with this."),
}
_REMARKS = (
    "Good lane discipline; keep working on head checks.", "Smooth braking and good speed control.",
    "Ready for busier roads next time.", "Judging gaps at roundabouts still needs work.",
    "Reversing much improved.", "Mirror checks before every manoeuvre: nearly automatic now.",
)
_NOT_COMPLETED = (
    "Stopped after 20 minutes: student felt unwell; rebook.", "Cut short: flat tyre on the way back; rebook.",
    "Ended early: heavy hail, unsafe to continue; rebook.",
)
_NO_SHOW = ("Student did not turn up; called twice, no answer.",
            "No-show: student forgot; reminded them of the cancellation policy.")
LESSON_MINUTES = ((45, 60, 75, 90, 120), (1, 4, 1, 3, 1))  # lengths and their weights
MIN_SEGMENT = 45  # a free stretch shorter than this gets no event


@dataclass
class _Pupil:
    """A student with an active enrolment, as the diary sees them (nothing here is stored)."""

    student_id: int
    enrollment_id: int
    course: str                # learner, conversion or intensive
    gearbox: str               # the transmission they learn in
    home: str                  # the usual pick-up point
    away: str | None           # another one (work, school, station)
    progress: int              # where they are in their course's topics
    test_day: bool             # sits the VicRoads drive test in this fortnight
    booked: int = 0
    assessed: bool = False
    exam_day: date | None = None  # no lessons after the drive test
    days: set = field(default_factory=set)
    weeks: dict = field(default_factory=dict)

    def free(self, day: date, *, planned: bool = False, extra: int = 0) -> bool:
        """At most one event a day, none after the drive test, and (unless it is a planned exam or
        assessment) at most MAX_PER_WEEK (+ ``extra``) a week."""
        if day in self.days or (self.exam_day is not None and day > self.exam_day):
            return False
        return planned or self.weeks.get(_monday(day), 0) < MAX_PER_WEEK[self.course] + extra

    def take(self, day: date) -> None:
        self.booked += 1
        self.days.add(day)
        self.weeks[_monday(day)] = self.weeks.get(_monday(day), 0) + 1


@dataclass
class _Teacher:
    instructor_id: int
    user_id: int
    branch_id: int
    window: dict[int, list[tuple[time, time]]]  # weekday -> periods open AND worked
    pupils: list[_Pupil]
    cars: list[tuple[int, str]]                  # the branch's available cars: (id, transmission)
    office: Actor                                # who cancels for this branch
    test_centre: str
    busy: dict[date, list[tuple[int, int]]] = field(default_factory=dict)  # minutes of the day
    days_off: set = field(default_factory=set)

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, role="instructor", branch_id=self.branch_id,
                     instructor_id=self.instructor_id)

    def works(self, day: date) -> bool:
        return bool(self.window[day.weekday()]) and day not in self.days_off

    def block(self, day: date, start: time, end: time) -> None:
        self.busy.setdefault(day, []).append((_m(start), _m(end)))

    def day_off(self, day: date) -> None:
        """An unavailability window that takes most of the day: no event at all that day."""
        self.days_off.add(day)

    def fits(self, day: date, start: time, end: time) -> bool:
        s, e = _m(start), _m(end)
        inside = any(_m(a) <= s and e <= _m(b) for a, b in self.window[day.weekday()])
        return inside and all(e + GAP <= bs or be + GAP <= s for bs, be in self.busy.get(day, []))

    def free_segments(self, day: date) -> list[tuple[int, int]]:
        """The stretches of the day still free, in minutes, keeping GAP from anything already there."""
        segments = []
        for opens, closes in self.window[day.weekday()]:
            start, end = _m(opens), _m(closes)
            for bs, be in sorted(self.busy.get(day, [])):
                if be + GAP <= start or bs - GAP >= end:
                    continue
                if bs - GAP > start:
                    segments.append((start, bs - GAP))
                start = max(start, be + GAP)
            if end > start:
                segments.append((start, end))
        return [(s, e) for s, e in segments if e - s >= MIN_SEGMENT]


@dataclass
class _Item:
    kind: str
    minutes: int
    pupil: _Pupil | None = None
    topic: str | None = None


@dataclass
class _Event:
    id: int
    teacher: _Teacher
    pupil: _Pupil
    day: date
    start: time
    end: time
    event_type: str
    notes: str | None
    fixed: bool
    outcome: dict | None = None
    cancelled: bool = False


class _Diary:
    """Books, records and cancels the fortnight through the services (see the module docstring)."""

    def __init__(self, db: Database, admin: Actor, teachers: list[_Teacher], *, now: datetime, today: date,
                 settings: Mapping[str, Any], branch_address: Mapping[int, str]):
        self.db, self.admin, self.teachers = db, admin, teachers
        self.now, self.today, self.settings = now, today, settings
        self.branch_address = branch_address
        self.zone: ZoneInfo = localtime.zone_for(None, settings["APP_TIMEZONE"])
        self.rng = random.Random(RANDOM_SEED)
        self.first, self.last = today - timedelta(days=FORTNIGHT), today + timedelta(days=FORTNIGHT)
        self.events: list[_Event] = []
        self.planned: dict[tuple[int, date], list[_Item]] = {}
        self.counts = {"schedules": 0, "reminders": 0, "audit_trail": 0}

    # ------------------------------------------------------------------ booking

    def fixed(self, teacher: _Teacher, pupil: _Pupil, near: date, start: time, end: time, topic: str, *,
              event_type: str = "lesson", outcome: dict | None = None) -> _Event | None:
        """One of the original's lessons, on the first day from ``near`` that its instructor works and has
        free at that time (a past one stays before today)."""
        for offset in range(7):
            day = near + timedelta(days=offset)
            if (near < self.today <= day) or day > self.last:
                break
            if teacher.works(day) and teacher.fits(day, start, end) and pupil.free(day):
                event = self._book(teacher, pupil, day, start, end, event_type, topic, pupil.home, None, fixed=True)
                if event is not None:
                    event.outcome = outcome
                    if event_type == "assessment":
                        pupil.assessed = True
                    return event
        return None

    def fill(self) -> None:
        """Every working day of every instructor, in date order: 3-5 events with gaps around what is there."""
        self._plan_tests()
        day = self.first
        while day <= self.last:
            for teacher in self.teachers:
                if teacher.works(day):
                    self._fill_day(teacher, day)
            day += timedelta(days=1)

    def _plan_tests(self) -> None:
        """Each test-day student sits the VicRoads drive test on a weekday (the first of each instructor in
        the past week, the others in the coming fortnight), with an assessment a few days before."""
        for teacher in self.teachers:
            sitting = sorted((p for p in teacher.pupils if p.test_day), key=lambda p: (p.assessed, p.student_id))
            for k, pupil in enumerate(sitting):
                lo, hi = (-6, -1) if k == 0 else (4 * k, 4 * k + 4)
                days = [self.today + timedelta(days=n) for n in range(lo, min(hi, FORTNIGHT) + 1)]
                days = [d for d in days if teacher.works(d) and d.weekday() < 5 and d not in pupil.days
                        and not teacher.busy.get(d)]  # a day without one of the original's lessons
                if not days:
                    continue
                exam_day = self.rng.choice(days)
                pupil.exam_day = exam_day
                self.planned.setdefault((teacher.instructor_id, exam_day), []).append(
                    _Item("exam", 120, pupil, "VicRoads drive test"))
                if pupil.assessed:
                    continue
                for back in range(self.rng.choice((2, 3, 4)), 8):
                    before = exam_day - timedelta(days=back)
                    if before >= self.first and teacher.works(before) and before not in pupil.days:
                        topic, minutes = self.rng.choice((("Pre-test assessment", 60), ("Mock test route", 90)))
                        self.planned.setdefault((teacher.instructor_id, before), []).append(
                            _Item("assessment", minutes, pupil, topic))
                        pupil.assessed = True
                        break

    def _fill_day(self, teacher: _Teacher, day: date) -> None:
        """3-5 events (counting any already there) in the day's free stretches: the exams and assessments
        planned for it, and lessons for the students free that day."""
        rng = self.rng
        segments = teacher.free_segments(day)
        required = [i for i in self.planned.pop((teacher.instructor_id, day), []) if i.pupil.free(day, planned=True)]
        if not segments:
            return
        free = sum(e - s for s, e in segments)
        there = len(teacher.busy.get(day, []))
        target = min(5, max(3, round(free / 90) + rng.choice((-1, 0, 0, 1)))) - there
        items = [_Item("lesson", rng.choices(*LESSON_MINUTES)[0]) for _ in range(max(0, target - len(required)))]
        for item in required:
            items.insert(rng.randrange(len(items) + 1), item)
        _fit(items, segments)
        reserved = {i.pupil.student_id for i in required}
        for start_m, end_m, item in _pack(rng, segments, items):
            start, end = _t(start_m), _t(end_m)
            pupil = item.pupil or self._choose(teacher, day, reserved)
            if pupil is None:
                continue
            kind, topic = item.kind, item.topic
            if kind == "lesson" and pupil.progress >= 4 and not pupil.test_day and rng.random() < 0.08:
                kind, topic = "assessment", "Progress assessment"
            if topic is None:
                topic = self._topic(pupil, end)
            if kind == "exam":
                pickup = pupil.home
                notes = f"Drive test at {teacher.test_centre}: warm-up drive first; bring learner permit."
            elif kind == "assessment":
                pickup = pupil.home
                notes = "Scored against the VicRoads drive test criteria."
            else:
                roll = rng.random()
                pickup = (pupil.away if roll < 0.3 and pupil.away else
                          f"Branch: {self.branch_address[teacher.branch_id]}" if roll > 0.92 else pupil.home)
                notes = (_CONVERSION_NOTE if pupil.course == "conversion" and pupil.booked == 0 else
                         rng.choice(_LESSON_NOTES) if rng.random() < 0.25 else None)
            self._book(teacher, pupil, day, start, end, kind, topic, pickup, notes)

    def _choose(self, teacher: _Teacher, day: date, reserved: set[int]) -> _Pupil | None:
        """A student free that day, those with fewer events so far more likely (one more event in the week
        than usual only when nobody else is free)."""
        candidates = [p for p in teacher.pupils if p.student_id not in reserved and p.free(day)]
        if not candidates:
            candidates = [p for p in teacher.pupils if p.student_id not in reserved and p.free(day, extra=1)]
        if not candidates:
            return None
        return self.rng.choices(candidates, [1.0 / (1 + p.booked) ** 2 for p in candidates])[0]

    def _topic(self, pupil: _Pupil, end: time) -> str:
        if pupil.course != "intensive" and end >= time(18, 30) and pupil.progress >= 3 and self.rng.random() < 0.6:
            return "Night driving"
        plan = _CURRICULUM[pupil.course]
        if pupil.progress < len(plan):
            topic = plan[pupil.progress]
            if self.rng.random() < 0.8:  # sometimes a topic takes two lessons
                pupil.progress += 1
            return topic
        return self.rng.choice(_REVISION)

    def _book(self, teacher: _Teacher, pupil: _Pupil, day: date, start: time, end: time, event_type: str,
              topic: str, pickup: str, notes: str | None, *, fixed: bool = False) -> _Event | None:
        """Book through the booking service, in the student's gearbox when the branch has such a car; a
        slot the conflict engine blocks is skipped (None), or tried in the branch's next car when only
        the car was the problem."""
        for vehicle_id, _gearbox in sorted(teacher.cars, key=lambda car: car[1] != pupil.gearbox):
            data = {"student_id": pupil.student_id, "enrollment_id": pupil.enrollment_id,
                    "instructor_id": teacher.instructor_id, "vehicle_id": vehicle_id, "branch_id": teacher.branch_id,
                    "event_type": event_type, "date": day.isoformat(), "start_time": start.strftime("%H:%M"),
                    "end_time": end.strftime("%H:%M"), "topic": topic, "pickup_location": pickup, "notes": notes,
                    "accept_warnings": True}
            try:
                booked = scheduling.book(self.db, self.admin, data, now=self.now, settings=self.settings)
            except scheduling.BookingConflict as refused:
                blocks = {c["kind"] for c in refused.conflicts if c["severity"] == "block"}
                if blocks <= {"vehicle", "vehicle_unavailable"}:
                    continue
                return None
            event = _Event(booked.id, teacher, pupil, day, start, end, event_type, notes, fixed)
            self.events.append(event)
            teacher.block(day, start, end)
            pupil.take(day)
            self.counts["schedules"] += 1
            self.counts["audit_trail"] += 1
            if scheduling.reminder_plan(event_type, day, start, self.zone, self.now) is not None:
                self.counts["reminders"] += 1
            return event
        return None

    # ------------------------------------------------------------------ outcomes and cancellations

    def _instant(self, day: date, moment: time) -> datetime:
        return localtime.to_utc_naive(localtime.localize(day, moment, self.zone))

    def record_outcomes(self) -> None:
        """Past events get their outcome from their instructor, except the last one or two of each
        instructor, left scheduled (awaiting an outcome)."""
        rng = self.rng
        for index, teacher in enumerate(self.teachers):
            past = sorted((e for e in self.events if e.teacher is teacher and self._instant(e.day, e.end) <= self.now),
                          key=lambda e: (e.day, e.start))
            loose = [e for e in past if e.outcome is None]
            left = loose[-(1 + index % 2):] if loose else []
            recent = [e for e in loose if e not in left and e.event_type == "lesson"
                      and e.day >= self.today - timedelta(days=7)]
            missed: dict[int, str] = {}
            for status in ("not_completed",) + (("no_show",) if index != 1 else ()):
                choices = [e for e in recent if e.id not in missed]
                if choices:
                    missed[rng.choice(choices).id] = status
            for event in past:
                if event in left:
                    continue
                data = event.outcome or self._outcome(event, missed.get(event.id, "completed"))
                outcomes.record(self.db, teacher.actor, event.id, data, now=self.now)
                self.counts["audit_trail"] += 1

    def _outcome(self, event: _Event, status: str) -> dict:
        rng = self.rng

        def with_notes(remark: str | None) -> dict:
            if remark is None:
                return {}
            return {"notes": f"{event.notes}\n{remark}" if event.notes else remark}

        if status == "not_completed":
            return {"status": status, **with_notes(rng.choice(_NOT_COMPLETED))}
        if status == "no_show":
            return {"status": status, **with_notes(rng.choice(_NO_SHOW))}
        if event.event_type == "exam":
            return {"status": "completed", "student_rating": 5, "student_feedback": "Passed! Thank you so much.",
                    **with_notes(f"Passed the drive test at {event.teacher.test_centre}.")}
        rating = rng.choice((5, 5, 4, 4, 4, 3))
        data: dict[str, Any] = {"status": "completed", "student_rating": rating}
        if rng.random() < 0.75:
            data["student_feedback"] = rng.choice(_FEEDBACK[rating])
        data.update(with_notes(rng.choice(_REMARKS) if rng.random() < 0.4 else None))
        return data

    def cancel_some(self) -> None:
        """Two (or one) coming lessons of each instructor within ten days are cancelled by the office."""
        reasons = iter(CANCEL_REASONS * len(self.teachers))
        for index, teacher in enumerate(self.teachers):
            coming = [e for e in self.events if e.teacher is teacher and not e.fixed and e.event_type == "lesson"
                      and self.today < e.day <= self.today + timedelta(days=10)
                      and self._instant(e.day, e.start) > self.now]
            for event in self.rng.sample(coming, min(len(coming), 2 - index % 2)):
                scheduling.cancel(self.db, teacher.office, event.id, next(reasons), now=self.now)
                event.cancelled = True
                self.counts["audit_trail"] += 1


def _fit(items: list[_Item], segments: list[tuple[int, int]]) -> None:
    """Drop an exam or assessment longer than any free stretch, then shorten the longest lessons (a
    quarter hour at a time, to 45 minutes) until ``items`` fit the free time of ``segments`` with their
    gaps; if even that is too much, drop lessons (then anything) from the end."""
    longest = max((end - start for start, end in segments), default=0)
    items[:] = [i for i in items if i.minutes <= longest or i.kind == "lesson"]
    room = sum(end - start for start, end in segments)
    while items and sum(i.minutes for i in items) + GAP * max(0, len(items) - len(segments)) > room:
        longer = [i for i in items if i.kind == "lesson" and i.minutes > 45]
        if longer:
            max(longer, key=lambda i: i.minutes).minutes -= STEP
            continue
        lessons = [n for n, i in enumerate(items) if i.kind == "lesson"]
        items.pop(lessons[-1] if lessons else -1)


def _pack(rng: random.Random, segments: list[tuple[int, int]], items: list[_Item]) -> list[tuple[int, int, _Item]]:
    """Lay ``items`` out over the free ``segments`` (minutes), GAP apart at least: each segment takes the
    first items that fit, in order (an exam or assessment before the lessons); when none fits, a lesson
    is shortened to what is left (45 minutes at least); what still does not fit anywhere is dropped. The
    spare time goes into random gaps (quarter hours; more of it after an event than before the first)."""
    placed = []
    queue = list(items)
    for seg_start, seg_end in segments:
        here: list[_Item] = []
        used = 0
        while queue:
            left = seg_end - seg_start - used - (GAP if here else 0)
            fits = sorted((n for n, item in enumerate(queue) if item.minutes <= left),
                          key=lambda n: queue[n].kind == "lesson")  # an exam or assessment first
            if not fits:
                short = [n for n, item in enumerate(queue) if item.kind == "lesson" and left >= 45]
                if not short:
                    break
                fits = short[:1]
                queue[fits[0]].minutes = left // STEP * STEP  # as long as the stretch allows (45 at least)
            item = queue.pop(fits[0])
            here.append(item)
            used += (GAP if len(here) > 1 else 0) + item.minutes
        if not here:
            continue
        buckets = [0] * (len(here) + 1)
        weights = [1] + [2] * (len(here) - 1) + [3]
        for _ in range((seg_end - seg_start - used) // STEP):
            buckets[rng.choices(range(len(buckets)), weights)[0]] += 1
        at = seg_start + buckets[0] * STEP
        for n, item in enumerate(here):
            if n:
                at += GAP + buckets[n] * STEP
            placed.append((at, at + item.minutes, item))
            at += item.minutes
    return placed


def _intersect(a: list[tuple[time, time]], b: list[tuple[time, time]]) -> list[tuple[time, time]]:
    """The periods inside both ``a`` and ``b``."""
    out = []
    for a_start, a_end in a:
        for b_start, b_end in b:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return sorted(out)


def _m(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _t(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _day_label(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"
