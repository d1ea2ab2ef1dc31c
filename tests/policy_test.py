"""The branch booking policy (services/policy.py, PolicyDAO) on both databases: defaults without a row,
admin-only updates validated field by field (422 naming the field, nothing written) and audited, a
second update changes the stored row, and the notice, horizon and cancellation cut-off helpers at
their boundary minute and across both Australia/Melbourne daylight-saving changes (local wall-clock
arithmetic: 24 h before 10:00 on Sunday is 10:00 on Saturday, 23 or 25 real hours)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.services import policy
from app.services.scope import Actor
from tests import factories as f

MEL = ZoneInfo("Australia/Melbourne")
NOW = datetime(2026, 3, 1, 0, 0)
MINUTE = timedelta(minutes=1)


def admin(db):
    return Actor(user_id=f.make_user(db, role="admin"), role="admin")


def count(db, sql, params=None):
    return int(db.fetch_value(sql, params or {}) or 0)


def test_a_branch_without_a_row_has_the_defaults(db):
    branch = f.make_branch(db)
    got = policy.for_branch(db, branch)
    assert (got.branch_id, got.stored) == (branch, False)
    assert got.as_dict() == {"min_notice_minutes": 720, "horizon_days": 56, "max_lessons_per_week": 3,
                             "cancel_cutoff_minutes": 1440, "students_any_instructor": False,
                             "slot_grid_minutes": 15, "buffer_minutes": 0}
    assert policy.for_branch(db, None) == policy.DEFAULTS
    with pytest.raises(AttributeError):
        got.horizon_days = 3  # frozen


def test_an_admin_update_is_stored_merged_and_audited(db):
    branch, actor = f.make_branch(db), admin(db)
    new = policy.update(db, actor, branch, {"min_notice_minutes": "60", "slot_grid_minutes": 30,
                                            "students_any_instructor": True}, now=NOW)
    assert (new.min_notice_minutes, new.slot_grid_minutes, new.students_any_instructor) == (60, 30, True)
    again = policy.for_branch(db, branch)
    assert again.stored and again.as_dict() == new.as_dict() and again.horizon_days == 56
    policy.update(db, actor, branch, {"buffer_minutes": 10}, now=NOW)
    last = policy.for_branch(db, branch)
    assert (last.buffer_minutes, last.min_notice_minutes) == (10, 60)
    assert count(db, "SELECT COUNT(*) FROM branch_booking_policies WHERE branch_id = :b", {"b": branch}) == 1
    row = db.fetch_one("SELECT updated_by FROM branch_booking_policies WHERE branch_id = :b", {"b": branch})
    assert row["updated_by"] == actor.user_id
    assert count(db, "SELECT COUNT(*) FROM audit_trail WHERE action = 'branch_policy_updated'"
                     " AND entity_type = 'branch' AND entity_id = :b", {"b": branch}) == 2


@pytest.mark.parametrize("field, value", [
    ("min_notice_minutes", -1), ("min_notice_minutes", 10081), ("horizon_days", 0), ("horizon_days", 366),
    ("max_lessons_per_week", 0), ("max_lessons_per_week", 22), ("cancel_cutoff_minutes", 10081),
    ("slot_grid_minutes", 20), ("slot_grid_minutes", "abc"), ("buffer_minutes", 121), ("buffer_minutes", 1.5),
    ("students_any_instructor", "maybe"), ("horizon_days", True), ("colour", 1),
])
def test_bad_values_are_422_naming_the_field_and_write_nothing(db, field, value):
    branch = f.make_branch(db)
    with pytest.raises(ValidationFailed) as caught:
        policy.update(db, admin(db), branch, {field: value}, now=NOW)
    assert caught.value.field == field
    assert count(db, "SELECT COUNT(*) FROM branch_booking_policies") == 0
    assert count(db, "SELECT COUNT(*) FROM audit_trail WHERE action = 'branch_policy_updated'") == 0


def test_boundary_values_are_accepted(db):
    branch = f.make_branch(db)
    got = policy.update(db, admin(db), branch, {"min_notice_minutes": 10080, "horizon_days": 1,
                                                "max_lessons_per_week": 21, "cancel_cutoff_minutes": 0,
                                                "slot_grid_minutes": 5, "buffer_minutes": 120}, now=NOW)
    assert (got.min_notice_minutes, got.horizon_days, got.buffer_minutes) == (10080, 1, 120)


@pytest.mark.parametrize("role", ["staff", "instructor", "student"])
def test_only_admins_may_update(db, role):
    branch = f.make_branch(db)
    actor = Actor(user_id=f.make_user(db, role=role, branch_id=branch), role=role, branch_id=branch)
    with pytest.raises(PermissionDenied):
        policy.update(db, actor, branch, {"horizon_days": 10}, now=NOW)
    assert count(db, "SELECT COUNT(*) FROM branch_booking_policies") == 0


def test_an_unknown_branch_is_404(db):
    with pytest.raises(NotFound):
        policy.update(db, admin(db), 999999, {"horizon_days": 10}, now=NOW)
    with pytest.raises(NotFound):
        policy.update(db, admin(db), "x", {"horizon_days": 10}, now=NOW)


def test_the_policy_row_goes_with_its_branch(db):
    branch = f.make_branch(db)
    policy.update(db, admin(db), branch, {"horizon_days": 10}, now=NOW)
    db.execute("DELETE FROM branches WHERE id = :b", {"b": branch})
    assert count(db, "SELECT COUNT(*) FROM branch_booking_policies") == 0


# ------------------------------------------------------------------------------------------ helpers

def utc(*args):
    return datetime(*args)


def test_notice_at_the_boundary_minute():
    p = policy.DEFAULTS  # 12 h
    start = utc(2026, 3, 11, 22, 0)     # 09:00 on 12 Mar (+11)
    assert policy.notice_ok(p, start, utc(2026, 3, 11, 10, 0), MEL)
    assert not policy.notice_ok(p, start, utc(2026, 3, 11, 10, 0) + MINUTE, MEL)


def test_horizon_at_the_boundary_day():
    p = policy.DEFAULTS  # 56 days, local dates
    now = utc(2026, 3, 1, 0, 0)         # 11:00 on 1 Mar in Melbourne
    last = utc(2026, 4, 26, 13, 59)     # 23:59 on 26 Apr (+10) = 1 Mar + 56 days
    assert policy.within_horizon(p, last, now, MEL)
    assert not policy.within_horizon(p, last + MINUTE, now, MEL)   # 00:00 on 27 Apr
    assert policy.horizon_end(p, now, MEL).isoformat() == "2026-04-26"


def test_cut_off_across_the_april_change_keeps_the_local_clock_time():
    """Sun 5 Apr 2026 10:00 (+10); 24 h earlier on the wall clock is Sat 4 Apr 10:00 (+11), 25 real
    hours before: 23:00 UTC on 3 Apr is the last minute to cancel."""
    p = policy.DEFAULTS
    start = utc(2026, 4, 5, 0, 0)
    assert policy.cancel_allowed(p, start, utc(2026, 4, 3, 23, 0), MEL)
    assert not policy.cancel_allowed(p, start, utc(2026, 4, 3, 23, 1), MEL)
    assert not policy.cancel_allowed(p, start, utc(2026, 4, 3, 23, 30), MEL)  # 24.5 real hours before


def test_cut_off_across_the_october_change_keeps_the_local_clock_time():
    """Sun 4 Oct 2026 10:00 (+11); the wall-clock day before is Sat 3 Oct 10:00 (+10), 23 real hours
    before: 00:00 UTC on 3 Oct is the last minute; 23.5 real hours before is still allowed."""
    p = policy.DEFAULTS
    start = utc(2026, 10, 3, 23, 0)
    assert policy.cancel_allowed(p, start, utc(2026, 10, 3, 0, 0), MEL)
    assert not policy.cancel_allowed(p, start, utc(2026, 10, 3, 0, 1), MEL)
    assert policy.cancel_allowed(p, start, utc(2026, 10, 2, 23, 30), MEL)


@pytest.mark.parametrize("start, last", [
    (utc(2026, 4, 5, 0, 0), utc(2026, 4, 4, 11, 0)),     # Sun 5 Apr 10:00 (+10) -> Sat 4 Apr 22:00 (+11): 13 real h
    (utc(2026, 10, 3, 23, 0), utc(2026, 10, 3, 12, 0)),  # Sun 4 Oct 10:00 (+11) -> Sat 3 Oct 22:00 (+10): 11 real h
])
def test_notice_across_both_changes_is_wall_clock(start, last):
    p = policy.DEFAULTS
    assert policy.notice_ok(p, start, last, MEL)
    assert not policy.notice_ok(p, start, last + MINUTE, MEL)
