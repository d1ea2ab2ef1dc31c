"""VehicleDAO on both backends: vehicles, the list page, servicing log and downtime windows,
including the original's vehicle_test scenarios (spec §5)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from app.core.database import count_queries
from app.core.errors import Conflict
from app.core.pagination import ListQuery
from app.dao.vehicle import SORTS, VehicleDAO, normalize_plate, service_flag
from app.services import stats
from tests import factories as f

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 2, 30, 0)
DAY = timedelta(days=1)


def _query(**args):
    return ListQuery.from_args(args, list(SORTS), "name", filters=("branch", "status", "transmission", "service"))


def _vehicle(**overrides):
    row = {"name": "Toyota Corolla Hybrid", "type": "Hatchback", "transmission": "Automatic",
           "plate_number": "ORI-123", "vin": None, "branch_id": None, "status": "available", "odometer_km": None,
           "last_service_date": None, "next_service_due": None, "notes": None}
    row.update(overrides)
    return row


def test_original_vehicle_test_scenarios(db):
    """vehicle_test.php: at least two vehicles; vehicle 1 is available."""
    dao = VehicleDAO(db)
    first = dao.insert(_vehicle(status=None), NOW)  # the default status is available
    dao.insert(_vehicle(name="Mazda 3 Sport", plate_number="ORI-456", status="maintenance"), NOW)
    assert len(dao.all()) >= 2
    assert dao.find(first)["status"] == "available"


def test_insert_normalises_the_plate_and_stores_nulls(db):
    branch = f.make_branch(db, name="Bayside")
    dao = VehicleDAO(db)
    vehicle_id = dao.insert(_vehicle(plate_number="  ori-777 ", branch_id=branch, odometer_km=1200,
                                     next_service_due=date(2026, 9, 1)), NOW)
    found = dao.find(vehicle_id)
    assert found["plate_number"] == "ORI-777" and found["branch_name"] == "Bayside"
    assert found["last_service_date"] is None and found["next_service_due"] == date(2026, 9, 1)
    assert found["odometer_km"] == 1200 and found["vin"] is None
    assert dao.id_for_plate("ori-777") == vehicle_id and dao.id_for_plate("ORI-000") is None
    assert normalize_plate(None) == ""


def test_duplicate_plate_is_a_conflict_naming_the_field(db):
    dao = VehicleDAO(db)
    dao.insert(_vehicle(plate_number="ORI-123"), NOW)
    with pytest.raises(Conflict) as caught:
        dao.insert(_vehicle(plate_number=" ori-123"), NOW)
    assert caught.value.field == "plate_number"
    assert len(dao.all()) == 1


def test_update_writes_every_field(db):
    dao = VehicleDAO(db)
    vehicle_id = dao.insert(_vehicle(vin="JTNK43BE503456789", notes="Hybrid"), NOW)
    assert dao.update(vehicle_id, _vehicle(name="Corolla", plate_number="ori-124", status="maintenance"), NOW) == 1
    found = dao.find(vehicle_id)
    assert (found["name"], found["plate_number"], found["status"], found["vin"], found["notes"]) == (
        "Corolla", "ORI-124", "maintenance", None, None)
    assert dao.update(vehicle_id + 1000, _vehicle(plate_number="X"), NOW) == 0


def test_service_flag_boundaries():
    assert service_flag(None, TODAY) is None
    assert service_flag(TODAY - DAY, TODAY) == "overdue"
    assert service_flag(TODAY, TODAY) == "due"
    assert service_flag(TODAY + 14 * DAY, TODAY) == "due"
    assert service_flag(TODAY + 15 * DAY, TODAY) is None


def test_list_flags_filters_and_upcoming_lessons(db):
    north, south = f.make_branch(db), f.make_branch(db)
    overdue = f.make_vehicle(db, name="Overdue", branch_id=north, next_service_due=TODAY - DAY, transmission="Manual")
    due = f.make_vehicle(db, name="Due", branch_id=north, next_service_due=TODAY + 14 * DAY)
    fine = f.make_vehicle(db, name="Fine", branch_id=south, next_service_due=TODAY + 15 * DAY, status="maintenance")
    unknown = f.make_vehicle(db, name="Unknown", branch_id=south)
    for day, status in ((TODAY, "scheduled"), (TODAY + DAY, "scheduled"), (TODAY + DAY, "cancelled"),
                        (TODAY - DAY, "scheduled")):
        f.make_schedule(db, vehicle_id=due, scheduled_date=day, status=status)
    dao = VehicleDAO(db)
    assert {r["id"]: r["upcoming_count"] for r in dao.list_page(_query(), TODAY).items}[due] == 0  # not counted yet
    stats.refresh(db, NOW)  # the counts are the maintained aggregate's (flask refresh-stats)
    rows = {r["id"]: r for r in dao.list_page(_query(), TODAY).items}
    assert [rows[v]["service_flag"] for v in (overdue, due, fine, unknown)] == ["overdue", "due", None, None]
    assert rows[due]["upcoming_count"] == 2 and rows[fine]["upcoming_count"] == 0  # scheduled, today or later
    assert rows[due]["lesson_count"] == 4 and rows[unknown]["lesson_count"] == 0  # every lesson with the car

    def ids(only_branch=None, **args):
        return sorted(r["id"] for r in dao.list_page(_query(**args), TODAY, only_branch=only_branch).items)

    assert ids(service="overdue") == [overdue]
    assert ids(service="due") == [due]
    assert ids(service="attention") == sorted([overdue, due])
    assert ids(status="maintenance") == [fine]
    assert ids(status="scrapped") == sorted([overdue, due, fine, unknown])  # unknown values are ignored
    assert ids(transmission="Manual") == [overdue]
    assert ids(branch=str(south)) == sorted([fine, unknown])
    assert ids(only_branch=north) == sorted([overdue, due])
    assert ids(only_branch=north, branch=str(south)) == []


def test_search_name_plate_vin_and_sorts(db):
    dao = VehicleDAO(db)
    corolla = f.make_vehicle(db, name="Toyota Corolla", plate_number="ORI-123", vin="JTNK43",
                             next_service_due=TODAY + 30 * DAY, status="available")
    mazda = f.make_vehicle(db, name="Mazda 3", plate_number="ABC_1%", vin="JM0BN4", next_service_due=TODAY,
                           status="maintenance")
    yaris = f.make_vehicle(db, name="Toyota Yaris", plate_number="ZZZ-999", vin=None, status="in_service")
    assert [r["id"] for r in dao.list_page(_query(q="toyota yaris"), TODAY).items] == [yaris]
    assert [r["id"] for r in dao.list_page(_query(q="ori-1"), TODAY).items] == [corolla]
    assert [r["id"] for r in dao.list_page(_query(q="jm0b"), TODAY).items] == [mazda]
    assert [r["id"] for r in dao.list_page(_query(q="_1%"), TODAY).items] == [mazda]  # wildcards escaped

    def order(**args):
        return [r["id"] for r in dao.list_page(_query(**args), TODAY).items]

    assert order() == [mazda, corolla, yaris]
    assert order(sort="plate") == [mazda, corolla, yaris]
    assert order(sort="plate", dir="desc") == [yaris, corolla, mazda]
    assert order(sort="status") == [corolla, yaris, mazda]
    assert order(sort="next_service") == [yaris, mazda, corolla]  # no date first (NULLs sort first on both)


def test_list_is_two_queries_however_many_rows(db):
    dao = VehicleDAO(db)
    for _ in range(3):
        f.make_schedule(db, vehicle_id=f.make_vehicle(db), scheduled_date=TODAY + DAY)
    with count_queries() as few:
        assert dao.list_page(_query(), TODAY).total == 3
    for _ in range(27):
        f.make_schedule(db, vehicle_id=f.make_vehicle(db), scheduled_date=TODAY + DAY)
    stats.refresh(db, NOW)
    with count_queries() as many:
        page = dao.list_page(_query(per_page="50"), TODAY)
    assert page.total == 30 and len(page.items) == 30
    assert all(r["upcoming_count"] == 1 for r in page.items)
    assert not any("schedules" in sql for sql in many.statements)  # never counted over the lessons
    assert few.count == many.count == 2


def test_service_log_moves_the_vehicle_forward_only(db):
    user = f.make_user(db, role="staff", first_name="Oliver", last_name="Grant")
    dao = VehicleDAO(db)
    vehicle = dao.insert(_vehicle(last_service_date=date(2026, 1, 10), odometer_km=15000), NOW)
    first = dao.add_service_log(vehicle, {"service_date": date(2026, 3, 1), "odometer_km": 16000,
                                          "cost": Decimal("289.50"), "notes": "Oil and filter"}, user, NOW)
    assert dao.apply_service(vehicle, date(2026, 3, 1), 16000, NOW) == 1
    found = dao.find(vehicle)
    assert (found["last_service_date"], found["odometer_km"]) == (date(2026, 3, 1), 16000)
    # an older entry, logged late, neither moves the date back nor winds the odometer down
    second = dao.add_service_log(vehicle, {"service_date": date(2025, 12, 1), "odometer_km": 14000}, None, NOW)
    dao.apply_service(vehicle, date(2025, 12, 1), 14000, NOW)
    dao.apply_service(vehicle, date(2026, 2, 1), None, NOW)
    found = dao.find(vehicle)
    assert (found["last_service_date"], found["odometer_km"]) == (date(2026, 3, 1), 16000)
    logs = dao.service_logs(vehicle)
    assert [r["id"] for r in logs] == [first, second]  # newest service first
    assert logs[0]["cost"] == Decimal("289.50") and isinstance(logs[0]["cost"], Decimal)
    assert logs[0]["recorded_by_first_name"] == "Oliver" and logs[1]["cost"] is None
    assert logs[1]["recorded_by"] is None


def test_service_on_a_vehicle_with_nothing_recorded(db):
    dao = VehicleDAO(db)
    vehicle = dao.insert(_vehicle(), NOW)
    dao.apply_service(vehicle, date(2026, 3, 1), None, NOW)
    found = dao.find(vehicle)
    assert (found["last_service_date"], found["odometer_km"]) == (date(2026, 3, 1), None)
    dao.apply_service(vehicle, date(2026, 3, 1), 0, NOW)
    assert dao.find(vehicle)["odometer_km"] == 0


def test_downtime_windows_belong_to_their_vehicle(db):
    dao = VehicleDAO(db)
    mine, other = dao.insert(_vehicle(plate_number="A-1"), NOW), dao.insert(_vehicle(plate_number="B-2"), NOW)
    past = dao.add_downtime(mine, datetime(2026, 2, 1, 8), datetime(2026, 2, 3, 17), "Panel repair", NOW)
    future = dao.add_downtime(mine, datetime(2026, 3, 20, 8), datetime(2026, 3, 20, 12), None, NOW)
    theirs = dao.add_downtime(other, datetime(2026, 3, 20, 8), datetime(2026, 3, 20, 12), None, NOW)
    assert [w["id"] for w in dao.downtime(mine)] == [past, future]
    assert [w["id"] for w in dao.downtime(mine, ending_after=datetime(2026, 3, 10, 9))] == [future]
    assert dao.find_downtime(mine, past)["reason"] == "Panel repair"
    assert dao.find_downtime(mine, theirs) is None
    assert dao.delete_downtime(mine, theirs) == 0
    assert dao.delete_downtime(mine, past) == 1
    assert [w["id"] for w in dao.downtime(mine)] == [future]
    assert [w["id"] for w in dao.downtime(other)] == [theirs]
