"""OutcomeDAO on both databases: one event with every name joined, the locked outcome columns, the
outcome write that only happens while the event still has the status the service read, the stored
branch zones, the "awaiting an outcome" page (per-zone cut-offs, scope and filters ANDed, search, sorts,
pagination) and the instructor options of the list's filter."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time

import pytest

from app.core.pagination import ListQuery
from app.dao.outcome import AWAITING_SORTS, OutcomeDAO
from tests import factories as f

NOW = datetime(2026, 3, 11, 3, 0)
DAY = date(2026, 3, 11)


@pytest.fixture
def world(db):
    branch = f.make_branch(db, name="Bayside", timezone="Australia/Melbourne")
    perth = f.make_branch(db, name="Perth", timezone="Australia/Perth")
    teacher_user = f.make_user(db, role="instructor", first_name="Amelia", last_name="Ward", branch_id=branch)
    teacher = f.make_instructor(db, user_id=teacher_user, branch_id=branch)
    other_user = f.make_user(db, role="instructor", first_name="Tom", last_name="Nguyen", branch_id=perth)
    other = f.make_instructor(db, user_id=other_user, branch_id=perth)
    student = f.make_student(db, user_id=f.make_user(db, first_name="Jack", last_name="Mason", branch_id=branch),
                             branch_id=branch)
    course = f.make_course(db, title="Learner Essentials")
    enrollment = f.make_enrollment(db, student, course)
    vehicle = f.make_vehicle(db, name="Corolla", branch_id=branch)
    marker = f.make_user(db, role="staff", first_name="Sam", last_name="Desk", branch_id=branch)
    return {"db": db, "dao": OutcomeDAO(db), "branch": branch, "perth": perth, "teacher": teacher, "other": other,
            "student": student, "enrollment": enrollment, "vehicle": vehicle, "marker": marker, "course": course}


def _event(w, **overrides):
    row = {"branch_id": w["branch"], "scheduled_date": DAY, "start_time": time(9, 0), "end_time": time(10, 0)}
    row.update(overrides)
    return f.make_schedule(w["db"], w["enrollment"], overrides.pop("instructor_id", w["teacher"]),
                           **{k: v for k, v in row.items() if k != "instructor_id"})


def test_find_event_joins_every_name_in_one_row(world):
    sid = _event(world, vehicle_id=world["vehicle"], lesson_topic="Parking", status="completed", student_rating=4,
                 completion_marked_by=world["marker"], completion_marked_at=NOW)
    event = world["dao"].find_event(sid)
    assert (event["student_first_name"], event["student_last_name"], event["instructor_first_name"],
            event["marked_by_first_name"], event["branch_name"], event["branch_timezone"], event["vehicle_name"],
            event["course_title"]) == ("Jack", "Mason", "Amelia", "Sam", "Bayside", "Australia/Melbourne",
                                       "Corolla", "Learner Essentials")
    assert (event["student_id"], event["student_branch_id"], event["status"], event["student_rating"],
            event["completion_marked_at"], event["start_time"]) == (
        world["student"], world["branch"], "completed", 4, NOW, time(9, 0))
    assert world["dao"].find_event(999999) is None


def test_set_outcome_writes_only_while_the_status_is_the_one_expected(world):
    sid = _event(world)
    dao = world["dao"]
    with world["db"].transaction():
        locked = dao.lock_event(sid)
        assert (locked["status"], locked["completion_marked_at"]) == ("scheduled", None)
        assert dao.set_outcome(sid, expected_status="scheduled", status="no_show", rating=None, feedback="Absent",
                               notes=None, by_user_id=world["marker"], now=NOW) == 1
    assert dao.set_outcome(sid, expected_status="scheduled", status="completed", rating=5, feedback=None, notes=None,
                           by_user_id=None, now=NOW) == 0
    row = dao.lock_event(sid)
    assert (row["status"], row["student_feedback"], row["completion_marked_by"], row["completion_marked_at"]) == (
        "no_show", "Absent", world["marker"], NOW)
    assert dao.lock_event(999999) is None


def test_branch_zones_are_the_distinct_stored_values(world):
    f.make_branch(world["db"], name="Second Perth", timezone="Australia/Perth")
    f.make_branch(world["db"], name="No zone")
    assert world["dao"].branch_zones() == ["Australia/Melbourne", "Australia/Perth"]


def _query(**args):
    return ListQuery.from_args(args, list(AWAITING_SORTS), "date", "desc", filters={"instructor": "id",
                                                                                     "branch": "id"})


def _page(world, cutoffs=None, **kwargs):
    args = kwargs.pop("args", {})
    cutoffs = cutoffs or [(None, DAY, time(14, 0)), ("Australia/Melbourne", DAY, time(14, 0)),
                          ("Australia/Perth", DAY, time(11, 0))]
    return world["dao"].awaiting_page(_query(**args), cutoffs, **kwargs)


def test_awaiting_page_cuts_off_per_zone_and_ands_scope_and_filters(world):
    melbourne_done = _event(world, start_time=time(12, 0), end_time=time(13, 0))
    melbourne_running = _event(world, start_time=time(13, 0), end_time=time(14, 30))
    perth_done = _event(world, branch_id=world["perth"], instructor_id=world["other"], start_time=time(9, 0),
                        end_time=time(11, 0))
    perth_not_yet = _event(world, branch_id=world["perth"], instructor_id=world["other"], start_time=time(11, 0),
                           end_time=time(12, 0))
    earlier = _event(world, scheduled_date=date(2026, 3, 1), start_time=time(18, 0), end_time=time(19, 0))
    _event(world, scheduled_date=date(2026, 3, 1), status="completed")
    _event(world, scheduled_date=date(2026, 3, 12))
    ids = [r["id"] for r in _page(world).items]
    assert ids == [melbourne_done, perth_done, earlier]  # newest first: 12:00, 09:00 on the 11th, then the 1st
    assert melbourne_running not in ids and perth_not_yet not in ids
    assert [r["id"] for r in _page(world, scope_branch_id=world["perth"]).items] == [perth_done]
    assert [r["id"] for r in _page(world, scope_instructor_id=world["teacher"]).items] == [melbourne_done, earlier]
    assert _page(world, scope_instructor_id=world["teacher"], instructor_id=world["other"]).items == []
    assert _page(world, scope_branch_id=-1).total == 0
    assert [r["id"] for r in _page(world, branch_id=world["branch"], args={"sort": "date", "dir": "asc"}).items] == [
        earlier, melbourne_done]
    assert [r["id"] for r in _page(world, args={"q": "nguyen"}).items] == [perth_done]
    assert [r["id"] for r in _page(world, args={"sort": "instructor", "dir": "asc"}).items][0] == perth_done
    second = _page(world, args={"per_page": "2", "page": "2"})
    assert second.total == 3 and [r["id"] for r in second.items] == [earlier]
    row = _page(world).items[0]
    assert (row["student_first_name"], row["instructor_last_name"], row["branch_name"], row["branch_id"]) == (
        "Jack", "Ward", "Bayside", world["branch"])


def test_the_whole_chain_by_name_sorts_the_most_recent_capped_lessons(world, monkeypatch):
    """Whole chain, sorted by a name, backlog above the cap: the list is the AWAITING_COUNT_CAP + 1 most
    recent lessons (a capped list's rows, "N+"), sorted by that name; the oldest lie beyond it."""
    from app.dao import outcome

    monkeypatch.setattr(outcome, "AWAITING_COUNT_CAP", 2)
    other_user = f.make_user(world["db"], first_name="Ava", last_name="Adams", branch_id=world["perth"])
    ava = f.make_student(world["db"], user_id=other_user, branch_id=world["perth"])
    ava_enrolment = f.make_enrollment(world["db"], ava, world["course"])
    oldest_ava = f.make_schedule(world["db"], ava_enrolment, world["other"], branch_id=world["perth"],
                                 scheduled_date=date(2026, 2, 1), start_time=time(9, 0), end_time=time(10, 0))
    jack_1 = _event(world, scheduled_date=date(2026, 3, 2))
    jack_2 = _event(world, scheduled_date=date(2026, 3, 3))
    recent_ava = f.make_schedule(world["db"], ava_enrolment, world["other"], branch_id=world["perth"],
                                 scheduled_date=date(2026, 3, 4), start_time=time(9, 0), end_time=time(10, 0))
    page = _page(world, args={"sort": "student", "dir": "asc"})
    assert page.total == 3 and page.total > outcome.AWAITING_COUNT_CAP           # "2+"
    assert [r["id"] for r in page.items] == [recent_ava, jack_1, jack_2]         # Adams, then Mason (by id)
    assert oldest_ava not in [r["id"] for r in page.items]
    assert [r["id"] for r in _page(world, args={"sort": "student", "dir": "desc"}).items] == [jack_2, jack_1, recent_ava]
    # narrowed to a branch, or searched, the name sort covers every lesson of it
    assert [r["id"] for r in _page(world, branch_id=world["perth"], args={"sort": "student", "dir": "asc"}).items] == [
        oldest_ava, recent_ava]
    assert oldest_ava in [r["id"] for r in _page(world, args={"sort": "student", "q": "adams"}).items]


def test_an_event_without_a_branch_uses_the_default_cut_off_and_its_students_branch(world):
    sid = _event(world, start_time=time(12, 0), end_time=time(13, 0))
    world["db"].execute("UPDATE schedules SET branch_id = NULL WHERE id = :id", {"id": sid})
    assert [r["id"] for r in _page(world, scope_branch_id=world["branch"]).items] == [sid]
    early = [(None, DAY, time(12, 30)), ("Australia/Melbourne", DAY, time(14, 0))]
    assert _page(world, early).items == []


def test_instructor_options_per_branch(world):
    names = [(r["first_name"], r["last_name"]) for r in world["dao"].instructor_options()]
    assert names == [("Tom", "Nguyen"), ("Amelia", "Ward")]
    assert [r["id"] for r in world["dao"].instructor_options(world["perth"])] == [world["other"]]
