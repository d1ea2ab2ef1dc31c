"""services/event_pages.py on both databases: the booking form's prefill (bad, unknown or foreign values
simply not used, the end an hour after the start, an admin's branch found from the slot's instructor),
its option lists in scope (staff always their own branch, a branchless staff member nothing, the student
list capped with a flag), and the event page: who may open it (admin any, staff their branch, the
lesson's own instructor and student; else NotFound), what it offers (move and cancel for the office on
a scheduled event, the outcome form once it has started) and the times' zone."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time

import pytest

from app.core.errors import NotFound
from app.services import event_pages
from app.services.scope import NO_BRANCH, Actor
from tests import factories as f

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 10, 2, 30)  # 13:30 in Melbourne


class World:
    def __init__(self, db):
        self.db = db
        self.sides = {}
        for tag in ("a", "b"):
            branch = f.make_branch(db, name=f"Branch {tag}", timezone="Australia/Perth" if tag == "b" else None)
            instructor_user = f.make_user(db, role="instructor", branch_id=branch, first_name="Ira",
                                          last_name=f"Instructor{tag.upper()}")
            instructor = f.make_instructor(db, user_id=instructor_user, branch_id=branch)
            student_user = f.make_user(db, role="student", branch_id=branch, first_name="Sam",
                                       last_name=f"Student{tag.upper()}")
            student = f.make_student(db, user_id=student_user, branch_id=branch)
            enrolment = f.make_enrollment(db, student)
            vehicle = f.make_vehicle(db, branch_id=branch)
            lesson = f.make_schedule(db, enrolment, instructor, branch_id=branch, vehicle_id=vehicle,
                                     scheduled_date=date(2026, 3, 12))
            self.sides[tag] = {
                "branch": branch, "instructor": instructor, "student": student, "vehicle": vehicle,
                "lesson": lesson,
                "staff": Actor(user_id=f.make_user(db, role="staff", branch_id=branch), role="staff",
                               branch_id=branch),
                "as_instructor": Actor(user_id=instructor_user, role="instructor", instructor_id=instructor),
                "as_student": Actor(user_id=student_user, role="student", student_id=student),
            }
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        self.nobranch = Actor(user_id=f.make_user(db, role="staff"), role="staff", branch_id=None)

    def __getitem__(self, tag):
        return self.sides[tag]


@pytest.fixture
def world(db):
    return World(db)


def test_prefill_keeps_what_is_in_scope_and_drops_the_rest(db, world):
    a, b = world["a"], world["b"]
    args = {"instructor_id": str(a["instructor"]), "student_id": str(a["student"]), "vehicle_id": str(a["vehicle"]),
            "branch_id": str(b["branch"]), "date": "2030-03-13", "start_time": "09:30", "event_type": "exam"}
    data = event_pages.prefill(db, a["staff"], args)
    assert data["values"] == {"instructor_id": a["instructor"], "student_id": a["student"],
                              "vehicle_id": a["vehicle"], "branch_id": a["branch"], "event_type": "exam",
                              "date": "2030-03-13", "start_time": "09:30", "end_time": "10:30"}
    assert data["branch"]["id"] == a["branch"] and data["branches"] == []

    foreign = {"instructor_id": str(b["instructor"]), "student_id": str(b["student"]), "vehicle_id": str(b["vehicle"]),
               "date": "2030-03-13", "start_time": "09:00", "end_time": "11:15"}
    values = event_pages.prefill(db, a["staff"], foreign)["values"]
    assert (values["instructor_id"], values["student_id"], values["vehicle_id"]) == (None, None, None)
    assert values["end_time"] == "11:15"  # a real end is kept

    bad = {"instructor_id": "abc", "student_id": "-1", "vehicle_id": "1e3", "branch_id": "٣", "date": "2026-02-30",
           "start_time": "25:00", "end_time": "9am", "event_type": "party"}
    values = event_pages.prefill(db, a["staff"], bad)["values"]
    assert values == {"instructor_id": None, "student_id": None, "vehicle_id": None, "branch_id": a["branch"],
                      "event_type": "lesson", "date": None, "start_time": None, "end_time": None}
    # An end before the start is replaced by the default; no default past midnight.
    assert event_pages.prefill(db, a["staff"], {"start_time": "10:00", "end_time": "09:00"})["values"]["end_time"] == "11:00"
    assert event_pages.prefill(db, a["staff"], {"start_time": "23:30"})["values"]["end_time"] is None


def test_an_admins_branch_is_the_given_one_or_the_slots_instructors(db, world):
    b = world["b"]
    data = event_pages.prefill(db, world.admin, {"instructor_id": str(b["instructor"])})
    assert data["branch"]["id"] == b["branch"] and data["values"]["instructor_id"] == b["instructor"]
    assert {x["id"] for x in data["branches"]} == {world["a"]["branch"], b["branch"]}
    given = event_pages.prefill(db, world.admin, {"branch_id": str(world["a"]["branch"]),
                                                   "instructor_id": str(b["instructor"])})
    assert given["branch"]["id"] == world["a"]["branch"] and given["values"]["instructor_id"] is None
    nothing = event_pages.prefill(db, world.admin, {})  # no branch asked for: the first one, switchable
    first = min(world["a"]["branch"], b["branch"], key=lambda i: next(x["name"] for x in data["branches"] if x["id"] == i))
    assert nothing["branch"]["id"] == first and nothing["values"]["branch_id"] == first


def test_booking_options_are_scoped_and_capped(db, world, monkeypatch):
    a = world["a"]
    options = event_pages.booking_options(db, a["staff"], branch_id=world["b"]["branch"])
    assert options["branch"]["id"] == a["branch"]  # staff: always their own branch
    assert [s["id"] for s in options["students"]] == [a["student"]]
    assert [i["id"] for i in options["instructors"]] == [a["instructor"]]
    assert [v["id"] for v in options["vehicles"]] == [a["vehicle"]]
    assert options["students"][0]["label"].startswith("StudentA, Sam (")

    empty = event_pages.booking_options(db, world.nobranch)
    assert empty["branch"] is None and empty["students"] == [] and empty["instructors"] == []
    assert world.nobranch.branch_filter() == NO_BRANCH
    with pytest.raises(NotFound):
        event_pages.booking_options(db, a["as_instructor"])

    for n in range(4):
        f.make_enrollment(db, f.make_student(db, branch_id=a["branch"]))
    monkeypatch.setattr(event_pages, "STUDENT_OPTIONS_MAX", 3)
    capped = event_pages.booking_options(db, a["staff"], student_id=a["student"])
    assert len(capped["students"]) == 3 and capped["students_more"] is True
    assert a["student"] in [s["id"] for s in capped["students"]]  # the chosen one is never dropped
    narrowed = event_pages.booking_options(db, a["staff"], student_q="  StudentA ")
    assert [s["id"] for s in narrowed["students"]] == [a["student"]] and narrowed["students_more"] is False
    assert narrowed["student_q"] == "StudentA"


@pytest.mark.parametrize("who, sees", [
    ("admin", {"a", "b"}), ("staff_a", {"a"}), ("instructor_a", {"a"}), ("student_a", {"a"}), ("nobranch", set()),
])
def test_the_event_page_opens_in_scope_only(db, world, who, sees):
    actor = {"admin": world.admin, "staff_a": world["a"]["staff"], "instructor_a": world["a"]["as_instructor"],
             "student_a": world["a"]["as_student"], "nobranch": world.nobranch}[who]
    for tag in ("a", "b"):
        if tag in sees:
            assert event_pages.get_event(db, actor, world[tag]["lesson"])["id"] == world[tag]["lesson"]
        else:
            with pytest.raises(NotFound):
                event_pages.get_event(db, actor, world[tag]["lesson"])
    for bad in (0, -1, 10**12, "1", None):
        with pytest.raises(NotFound):
            event_pages.get_event(db, actor, bad)


def test_event_page_offers_changes_to_the_office_and_the_outcome_once_started(db, world):
    a = world["a"]
    office = event_pages.event_page(db, a["staff"], a["lesson"], now=NOW, settings=SETTINGS)
    event = office["event"]
    assert event["heading"] == "Lesson with Sam StudentA" and event["label"] == "Lesson"
    assert (event["zone"], event["zone_label"]) == ("Australia/Melbourne", "AEDT")
    assert office["can_change"] is True and office["can_record"] is False  # 12 March has not started
    assert [i["id"] for i in office["instructors"]] == [a["instructor"]]
    assert [v["id"] for v in office["vehicles"]] == [a["vehicle"]]
    assert set(office["outcome_event"]) >= {
        "id", "status", "event_type", "scheduled_date", "start_time", "end_time", "student_rating",
        "student_feedback", "notes", "completion_marked_at", "completion_marked_by_name"}

    later = datetime(2026, 3, 11, 23, 0)  # 10:00 on 12 March in Melbourne: the 09:00 lesson has started
    assert event_pages.event_page(db, a["staff"], a["lesson"], now=later, settings=SETTINGS)["can_record"] is True
    mine = event_pages.event_page(db, a["as_instructor"], a["lesson"], now=later, settings=SETTINGS)
    assert mine["can_record"] is True and mine["can_change"] is False and mine["instructors"] == []
    student = event_pages.event_page(db, a["as_student"], a["lesson"], now=later, settings=SETTINGS)
    assert student["can_record"] is False and student["can_change"] is False

    db.execute("UPDATE schedules SET status = 'cancelled' WHERE id = :id", {"id": a["lesson"]})
    cancelled = event_pages.event_page(db, a["staff"], a["lesson"], now=later, settings=SETTINGS)
    assert cancelled["can_change"] is False and cancelled["can_record"] is False


def test_times_are_shown_in_the_branchs_zone(db, world):
    b = world["b"]
    db.execute("UPDATE schedules SET event_type = 'exam' WHERE id = :id", {"id": b["lesson"]})
    page = event_pages.event_page(db, world.admin, b["lesson"], now=NOW, settings=SETTINGS)
    assert (page["event"]["zone"], page["event"]["zone_label"]) == ("Australia/Perth", "AWST")
    assert page["event"]["heading"] == "Exam with Sam StudentB" and page["event"]["label"] == "VicRoads Exam"


def test_flash_wording_helpers():
    assert event_pages.label("exam") == "VicRoads Exam" and event_pages.label(None) == "Lesson"
    assert event_pages.noun("assessment") == "Assessment" and event_pages.noun(["x"]) == "Lesson"
    assert event_pages.when("2030-03-13", "09:00", time(10, 0)) == "Wed 13 Mar 2030, 09:00–10:00"
    assert event_pages.when("2030-02-30", "09:00", "10:00") == ""
