"""`flask seed-demo`: the original's four demo accounts plus a small, realistic school.

Dates are relative to today so the dashboards always have upcoming lessons,
an overdue invoice and a due reminder. Every one of the 22 original tables gets
rows. Refuses to run on a database that already has users.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.core import passwords
from app.core.database import Database
from app.dao.user import UserDAO
from app.services import audit
from app.services.scope import Actor

DEMO_PASSWORD = "Password123!"
DEMO_ACCOUNTS = (
    ("admin@origin.com", "admin"),
    ("operations@origin.com", "staff"),
    ("amelia.ward@origin.com", "instructor"),
    ("jack.mason@student.com", "student"),
)


class AlreadySeeded(RuntimeError):
    pass


@dataclass
class SeedSummary:
    rows: int
    tables: int
    counts: dict[str, int]


def seed_demo(db: Database, now: datetime, today: date) -> SeedSummary:
    if UserDAO(db).count_by_role():
        raise AlreadySeeded("The database already has users; seed-demo only fills an empty database.")
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
                         "Weekends only.", "Test-day intensive coach.", Decimal("4.90"))

        def student(user_id, branch, licence, status, expiry, contact, contact_phone, address, city, postcode, summary):
            return add("students", stamped(dict(user_id=user_id, branch_id=branch, license_number=licence,
                                                license_status=status, license_expiry=expiry,
                                                emergency_contact_name=contact, emergency_contact_phone=contact_phone,
                                                address_line=address, city=city, postcode=postcode,
                                                progress_summary=summary)))

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
        for course_id, instructor_id in ((learner, amelia), (conversion, amelia), (intensive, amelia),
                                         (learner, raj), (conversion, raj), (intensive, tom)):
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

        def enrol(student_id, course_id, start, status, progress, notes):
            return add("enrollments", stamped(dict(student_id=student_id, course_id=course_id, start_date=start,
                                                   status=status, progress_percentage=progress, notes=notes)))

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

        def invoice(enrollment_id, number, issued, due, subtotal, status, notes, description):
            tax = (subtotal * Decimal("0.10")).quantize(Decimal("0.01"))
            invoice_id = add("invoices", stamped(dict(
                enrollment_id=enrollment_id, invoice_number=number, issue_date=issued, due_date=due,
                subtotal=subtotal, tax_amount=tax, total=subtotal + tax, status=status, notes=notes)))
            add("invoice_items", dict(invoice_id=invoice_id, description=description, quantity=1,
                                      unit_price=subtotal, total=subtotal))
            return invoice_id

        inv_jack = invoice(e_jack, f"INV-{(today - timedelta(days=21)).strftime('%Y%m%d')}-0001",
                           today - timedelta(days=21), today - timedelta(days=14), Decimal("880.00"), "partial",
                           "Auto-generated upon enrolment.", "Learner Essentials Package (10 lessons)")
        inv_mia = invoice(e_mia, f"INV-{(today - timedelta(days=45)).strftime('%Y%m%d')}-0002",
                          today - timedelta(days=45), today - timedelta(days=38), Decimal("880.00"), "paid",
                          "Auto-generated upon enrolment.", "Learner Essentials Package (10 lessons)")
        invoice(e_noah, f"INV-{(today - timedelta(days=10)).strftime('%Y%m%d')}-0003",
                today - timedelta(days=10), today - timedelta(days=3), Decimal("320.00"), "sent",
                "Auto-generated upon enrolment.", "Test Day Intensive")
        inv_lucas = invoice(e_lucas, f"INV-{(today - timedelta(days=5)).strftime('%Y%m%d')}-0004",
                            today - timedelta(days=5), today + timedelta(days=2), Decimal("540.00"), "sent",
                            "Auto-generated upon enrolment.", "Overseas Licence Conversion")

        add("payments", stamped(dict(invoice_id=inv_jack, amount=Decimal("400.00"),
                                     payment_date=today - timedelta(days=20), method="Card", reference="AUTH7832",
                                     notes="Deposit received online.", recorded_by=staff)))
        add("payments", stamped(dict(invoice_id=inv_mia, amount=Decimal("968.00"),
                                     payment_date=today - timedelta(days=40), method="Bank Transfer",
                                     reference="EFT-22871", notes=None, recorded_by=staff)))

        def lesson(enrollment_id, instructor_id, vehicle_id, branch, day, start, end, status, topic,
                   rating=None, feedback=None, marked_by=None):
            return add("schedules", stamped(dict(
                enrollment_id=enrollment_id, instructor_id=instructor_id, vehicle_id=vehicle_id, branch_id=branch,
                event_type="lesson", scheduled_date=day, start_time=start, end_time=end, status=status,
                student_rating=rating, student_feedback=feedback, completion_marked_by=marked_by,
                completion_marked_at=now if marked_by else None, lesson_topic=topic, notes=None, reminder_sent=0)))

        lesson(e_jack, amelia, corolla, bayside, today - timedelta(days=14), time(9, 0), time(10, 30), "completed",
               "Urban driving fundamentals", 7, "Good observation; work on lane changes.", amelia_u)
        next_jack = lesson(e_jack, amelia, corolla, bayside, today + timedelta(days=1), time(9, 0), time(10, 30),
                           "scheduled", "Parking techniques")
        lesson(e_jack, amelia, corolla, bayside, today + timedelta(days=8), time(9, 0), time(10, 30), "scheduled",
               "Freeway merging")
        lesson(e_mia, raj, i30, cbd, today + timedelta(days=2), time(16, 0), time(17, 0), "scheduled",
               "Roundabouts and give-way rules")
        lesson(e_mia, raj, i30, cbd, today - timedelta(days=7), time(16, 0), time(17, 0), "not_completed",
               "Hill starts", None, "Student unwell; rebook.", raj_u)
        lesson(e_noah, tom, yaris, north, today + timedelta(days=3), time(10, 0), time(12, 0), "scheduled",
               "Mock driving test")

        add("instructor_unavailability", stamped(dict(
            instructor_id=raj, start_datetime=datetime.combine(today + timedelta(days=4), time(8, 0)),
            end_datetime=datetime.combine(today + timedelta(days=4), time(18, 0)), reason="Professional development day")))

        add("reminders", stamped(dict(related_type="invoice", related_id=inv_lucas, recipient_user_id=students_u[3],
                                      channel="email", reminder_type="Invoice Due",
                                      message="Your invoice is due in two days.", send_on=today, status="pending")))
        add("reminders", stamped(dict(related_type="schedule", related_id=next_jack, recipient_user_id=jack_u,
                                      channel="sms", reminder_type="Upcoming Lesson",
                                      message=f"Lesson booked for {(today + timedelta(days=1)).strftime('%d %b %Y')} at 09:00.",
                                      send_on=today, status="pending")))
        add("reminders", stamped(dict(related_type="invoice", related_id=inv_jack, recipient_user_id=jack_u,
                                      channel="email", reminder_type="Invoice Due",
                                      message="Your invoice is due soon.", send_on=today - timedelta(days=16),
                                      status="sent")))

        add("notifications", dict(user_id=jack_u, title="Welcome to Origin Driving School",
                                  message="Your first lesson will be scheduled soon.", level="info", is_read=1,
                                  created_at=now - timedelta(days=21)))
        add("notifications", dict(user_id=amelia_u, title="New Lesson Assigned",
                                  message="Jack Mason has a lesson with you tomorrow at 09:00.", level="info",
                                  is_read=0, created_at=now - timedelta(hours=3)))
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

        for weekday in range(1, 6):  # Amelia: Tue-Sat mornings
            add("instructor_working_hours", stamped(dict(instructor_id=amelia, weekday=weekday,
                                                         start_time=time(8, 0), end_time=time(13, 0))))
        for weekday in range(0, 5):  # Raj: weekday afternoons
            add("instructor_working_hours", stamped(dict(instructor_id=raj, weekday=weekday,
                                                         start_time=time(13, 0), end_time=time(19, 0))))
        add("vehicle_service_logs", dict(vehicle_id=corolla, service_date=today - timedelta(days=60),
                                         odometer_km=48210, cost=Decimal("389.50"), notes="Logbook service.",
                                         recorded_by=staff, created_at=now))
        add("vehicle_downtime", stamped(dict(
            vehicle_id=i30, start_datetime=datetime.combine(today + timedelta(days=6), time(7, 0)),
            end_datetime=datetime.combine(today + timedelta(days=6), time(12, 0)), reason="Tyre replacement")))

        staff_actor = Actor(user_id=staff, role="staff", branch_id=cbd)
        audit.record(db, staff_actor, "student_created", "student", jack, now=now,
                     details="Demo data: enrolment and invoice generated.")
        audit.record(db, Actor(user_id=admin, role="admin"), "schedule_created", "schedule", next_jack, now=now,
                     details="Demo data: lesson booked.")
        counts["audit_trail"] = 2
    return SeedSummary(rows=sum(counts.values()), tables=len(counts), counts=counts)
