"""Fleet pages: access per role and branch, create/edit with audit, duplicate plates, servicing log and
downtime windows (ownership, validation: 422 and nothing written), flags, bounded list queries."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from app.core import clock
from app.core.database import count_queries
from tests import factories as f
from tests.conftest import login, post_form

ADMIN = "admin@origin.com"
STAFF_CBD = "operations@origin.com"
AMELIA = "amelia.ward@origin.com"
STUDENT = "jack.mason@student.com"


def vehicle_id(db, plate):
    return db.fetch_value("SELECT id FROM vehicles WHERE plate_number = :p", {"p": plate})


def branch_id(db, name):
    return db.fetch_value("SELECT id FROM branches WHERE name = :n", {"n": name})


def count(db, table, where="1 = 1", params=None):
    return db.fetch_value(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params or {})


def audit_rows(db, action):
    return db.fetch_all("SELECT entity_type, entity_id, before_json, after_json FROM audit_trail"
                        " WHERE action = :a ORDER BY id", {"a": action})


def field_error(html, name):
    match = re.search(rf'id="{name}-feedback">([^<]*)<', html)
    return match.group(1) if match else ""


def vehicle_form(db, **overrides):
    data = {"name": "Kia Cerato", "type": "Sedan", "transmission": "Automatic", "plate_number": " ori-999 ",
            "vin": "KNAFX411", "branch_id": str(branch_id(db, "CBD Headquarters")), "status": "available",
            "odometer_km": "12500", "last_service_date": "", "next_service_due": "", "notes": ""}
    data.update(overrides)
    return data


# --------------------------------------------------------------------------- access

@pytest.mark.parametrize("email,status", [(ADMIN, 200), (STAFF_CBD, 200), (AMELIA, 403), (STUDENT, 403)])
def test_list_access_by_role(seeded, client, email, status):
    login(client, email)
    assert client.get("/fleet/").status_code == status


def test_admin_sees_the_whole_fleet_with_service_flags(seeded, client):
    login(client, ADMIN)
    html = client.get("/fleet/").get_data(as_text=True)
    for plate in ("ORI-123", "ORI-456", "ORI-789", "ORI-321"):
        assert plate in html
    assert "Service due within 14 days" in html  # the Mazda is due in five days
    due = client.get("/fleet/?service=attention").get_data(as_text=True)
    assert "ORI-456" in due and "ORI-123" not in due


def test_staff_see_and_change_only_their_branch(seeded, client, db):
    login(client, STAFF_CBD)
    html = client.get("/fleet/").get_data(as_text=True)
    assert "ORI-456" in html and "ORI-789" in html
    assert "ORI-123" not in html and "ORI-321" not in html
    assert client.get(f"/fleet/{vehicle_id(db, 'ORI-456')}").status_code == 200
    foreign = vehicle_id(db, "ORI-123")  # Bayside
    logs, windows = count(db, "vehicle_service_logs"), count(db, "vehicle_downtime") + 1
    window = db.insert("vehicle_downtime", {"vehicle_id": foreign, "start_datetime": datetime(2030, 1, 1, 9),
                                            "end_datetime": datetime(2030, 1, 1, 12)})
    assert client.get(f"/fleet/{foreign}").status_code == 404
    assert client.get(f"/fleet/{foreign}/edit").status_code == 404
    assert post_form(client, f"/fleet/{foreign}/edit", vehicle_form(db)).status_code == 404
    assert post_form(client, f"/fleet/{foreign}/service", {"service_date": "2026-01-01"}).status_code == 404
    assert post_form(client, f"/fleet/{foreign}/downtime", _downtime()).status_code == 404
    assert post_form(client, f"/fleet/{foreign}/downtime/{window}/delete", {}).status_code == 404
    assert count(db, "vehicle_service_logs") == logs and count(db, "vehicle_downtime") == windows


def test_instructors_and_students_are_refused(seeded, db):
    corolla = vehicle_id(db, "ORI-123")
    logs = count(db, "vehicle_service_logs")
    for email in (AMELIA, STUDENT):
        client = seeded.test_client()
        login(client, email)
        for path in ("/fleet/", "/fleet/new", f"/fleet/{corolla}", f"/fleet/{corolla}/edit"):
            assert client.get(path).status_code == 403, (email, path)
        assert post_form(client, f"/fleet/{corolla}/service", {"service_date": "2026-01-01"}).status_code == 403
    assert count(db, "vehicle_service_logs") == logs


def test_unknown_vehicle_is_404(seeded, client, db):
    login(client, ADMIN)
    assert client.get("/fleet/999999").status_code == 404
    assert post_form(client, "/fleet/999999/downtime", _downtime()).status_code == 404
    huge = "9" * 25  # beyond INT UNSIGNED (and beyond what SQLite can bind)
    assert client.get(f"/fleet/{huge}").status_code == 404
    assert post_form(client, f"/fleet/{vehicle_id(db, 'ORI-123')}/downtime/{huge}/delete", {}).status_code == 404
    response = client.get(f"/fleet/?branch={huge}")
    assert response.status_code == 200
    assert "The branch filter was ignored" in response.get_data(as_text=True)  # dropped, and the page says so


# --------------------------------------------------------------------------- create and edit

def test_create_normalises_the_plate_and_stores_blank_dates_as_null(seeded, client, db):
    login(client, ADMIN)
    response = post_form(client, "/fleet/new", vehicle_form(db))
    assert response.status_code == 302
    new_id = vehicle_id(db, "ORI-999")
    assert response.headers["Location"].endswith(f"/fleet/{new_id}")
    row = db.fetch_one("SELECT plate_number, last_service_date, next_service_due, odometer_km, notes, status"
                       " FROM vehicles WHERE id = :id", {"id": new_id})
    assert row == {"plate_number": "ORI-999", "last_service_date": None, "next_service_due": None,
                   "odometer_km": 12500, "notes": None, "status": "available"}
    [entry] = audit_rows(db, "vehicle_created")
    assert (entry["entity_type"], entry["entity_id"]) == ("vehicle", new_id) and "ORI-999" in entry["after_json"]


def test_duplicate_plate_is_a_form_error_naming_plate_number(seeded, client, db):
    login(client, ADMIN)
    before = count(db, "vehicles")
    response = post_form(client, "/fleet/new", vehicle_form(db, plate_number=" ori-123"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "ORI-123" in field_error(html, "plate_number") and 'value="Kia Cerato"' in html
    assert count(db, "vehicles") == before and audit_rows(db, "vehicle_created") == []
    # editing a vehicle onto another's plate is refused too; keeping its own plate is fine
    i30 = vehicle_id(db, "ORI-789")
    response = post_form(client, f"/fleet/{i30}/edit", vehicle_form(db, plate_number="ORI-456"))
    assert response.status_code == 409 and field_error(response.get_data(as_text=True), "plate_number")
    assert post_form(client, f"/fleet/{i30}/edit", vehicle_form(db, plate_number="ori-789")).status_code == 302


@pytest.mark.parametrize("field,value", [
    ("name", ""), ("name", "n" * 121), ("plate_number", ""), ("plate_number", "P" * 21), ("vin", "V" * 51),
    ("type", "t" * 81), ("status", "scrapped"), ("transmission", "CVT"), ("odometer_km", "-1"),
    ("odometer_km", "12.5"), ("odometer_km", "99999999999"), ("last_service_date", "2026-02-30"),
    ("next_service_due", "31/12/2026"), ("next_service_due", "0202-01-01"), ("branch_id", "999999"),
    ("branch_id", "x"), ("notes", "n" * 5001),
])
def test_invalid_vehicle_input_is_422_and_nothing_written(seeded, client, db, field, value):
    login(client, ADMIN)
    before, audits = count(db, "vehicles"), count(db, "audit_trail")
    response = post_form(client, "/fleet/new", vehicle_form(db, **{field: value}))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field), field
    assert count(db, "vehicles") == before and count(db, "audit_trail") == audits


def test_staff_create_in_their_own_branch_only(seeded, client, db):
    login(client, STAFF_CBD)
    assert "Bayside Training Hub" not in client.get("/fleet/new").get_data(as_text=True)
    response = post_form(client, "/fleet/new", vehicle_form(db, branch_id=str(branch_id(db, "Bayside Training Hub"))))
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "branch_id")
    response = post_form(client, "/fleet/new", vehicle_form(db, branch_id=""))
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "branch_id")
    assert vehicle_id(db, "ORI-999") is None
    assert post_form(client, "/fleet/new", vehicle_form(db)).status_code == 302


def test_edit_and_retire_record_before_and_after(seeded, client, db):
    login(client, STAFF_CBD)
    i30 = vehicle_id(db, "ORI-789")
    page = client.get(f"/fleet/{i30}/edit").get_data(as_text=True)
    assert 'value="Hyundai i30"' in page and 'value="ORI-789"' in page
    response = post_form(client, f"/fleet/{i30}/edit", vehicle_form(
        db, name="Hyundai i30", plate_number="ORI-789", status="maintenance", next_service_due="2026-12-01"))
    assert response.status_code == 302
    row = db.fetch_one("SELECT status, next_service_due, vin FROM vehicles WHERE id = :id", {"id": i30})
    assert row["status"] == "maintenance" and str(row["next_service_due"]) == "2026-12-01" and row["vin"] == "KNAFX411"
    [entry] = audit_rows(db, "vehicle_updated")
    assert '"status":"available"' in entry["before_json"] and '"status":"maintenance"' in entry["after_json"]
    assert count(db, "vehicles", "id = :id", {"id": i30}) == 1  # retired, never deleted


# --------------------------------------------------------------------------- servicing log

def test_service_log_updates_the_vehicle_in_the_same_transaction(seeded, client, db):
    login(client, STAFF_CBD)
    i30 = vehicle_id(db, "ORI-789")
    db.execute("UPDATE vehicles SET odometer_km = 20000 WHERE id = :id", {"id": i30})
    today = clock.today()
    response = post_form(client, f"/fleet/{i30}/service", {
        "service_date": today.isoformat(), "odometer_km": "21500", "cost": "349.95", "notes": "Major service"})
    assert response.status_code == 303
    log = db.fetch_one("SELECT service_date, odometer_km, cost, notes, recorded_by FROM vehicle_service_logs"
                       " WHERE vehicle_id = :id", {"id": i30})
    assert log["odometer_km"] == 21500 and Decimal(str(log["cost"])) == Decimal("349.95")
    assert log["recorded_by"] == db.fetch_value("SELECT id FROM users WHERE email = :e", {"e": STAFF_CBD})
    vehicle = db.fetch_one("SELECT last_service_date, odometer_km FROM vehicles WHERE id = :id", {"id": i30})
    assert (vehicle["last_service_date"], vehicle["odometer_km"]) == (today, 21500)
    # an older entry is logged but moves nothing back
    older = (today - timedelta(days=400)).isoformat()
    assert post_form(client, f"/fleet/{i30}/service", {"service_date": older, "odometer_km": "9000"}).status_code == 303
    vehicle = db.fetch_one("SELECT last_service_date, odometer_km FROM vehicles WHERE id = :id", {"id": i30})
    assert (vehicle["last_service_date"], vehicle["odometer_km"]) == (today, 21500)
    html = client.get(f"/fleet/{i30}").get_data(as_text=True)
    assert "$349.95" in html and "Major service" in html and "21,500 km" in html
    assert len(audit_rows(db, "vehicle_service_logged")) == 2


@pytest.mark.parametrize("change,field", [
    ({"cost": "-1"}, "cost"), ({"cost": "abc"}, "cost"), ({"cost": "12.345"}, "cost"), ({"cost": "NaN"}, "cost"),
    ({"odometer_km": "-5"}, "odometer_km"), ({"service_date": ""}, "service_date"),
    ({"service_date": "2026-02-30"}, "service_date"), ({"service_date": "future"}, "service_date"),
    ({"notes": "n" * 2001}, "notes"),
])
def test_bad_service_entries_are_422_and_nothing_written(seeded, client, db, change, field):
    login(client, ADMIN)
    i30 = vehicle_id(db, "ORI-789")
    before = db.fetch_one("SELECT last_service_date, odometer_km FROM vehicles WHERE id = :id", {"id": i30})
    logs = count(db, "vehicle_service_logs")
    data = {"service_date": clock.today().isoformat(), "odometer_km": "30000", "cost": "100.00", "notes": ""}
    data.update(change)
    if data["service_date"] == "future":
        data["service_date"] = (clock.today() + timedelta(days=1)).isoformat()
    response = post_form(client, f"/fleet/{i30}/service", data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert count(db, "vehicle_service_logs") == logs
    assert db.fetch_one("SELECT last_service_date, odometer_km FROM vehicles WHERE id = :id", {"id": i30}) == before


# --------------------------------------------------------------------------- downtime

def _downtime(days=2, hours=3, reason="Windscreen replacement"):
    start = datetime.combine(clock.today() + timedelta(days=days), time(8, 0))
    return {"start_datetime": start.strftime("%Y-%m-%dT%H:%M"),
            "end_datetime": (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M"), "reason": reason}


def test_downtime_add_show_and_delete(seeded, client, db):
    login(client, ADMIN)
    corolla = vehicle_id(db, "ORI-123")
    windows = count(db, "vehicle_downtime")
    assert post_form(client, f"/fleet/{corolla}/downtime", _downtime()).status_code == 303
    window = db.fetch_one("SELECT id, start_datetime FROM vehicle_downtime WHERE vehicle_id = :v"
                          " ORDER BY id DESC LIMIT 1", {"v": corolla})
    assert window["start_datetime"].hour == 8  # wall-clock time, stored as typed
    html = client.get(f"/fleet/{corolla}").get_data(as_text=True)
    assert "Windscreen replacement" in html and "08:00" in html
    assert post_form(client, f"/fleet/{corolla}/downtime/{window['id']}/delete", {}).status_code == 303
    assert count(db, "vehicle_downtime") == windows
    assert len(audit_rows(db, "vehicle_downtime_added")) == 1
    assert len(audit_rows(db, "vehicle_downtime_deleted")) == 1


@pytest.mark.parametrize("change,field", [
    ({"hours": 0}, "end_datetime"), ({"hours": -1}, "end_datetime"), ({"reason": "r" * 161}, "reason"),
    ({"end_datetime": "tomorrow"}, "end_datetime"), ({"start_datetime": ""}, "start_datetime"),
])
def test_bad_downtime_is_422_and_nothing_written(seeded, client, db, change, field):
    login(client, ADMIN)
    change = dict(change)  # shared by both backends
    data = _downtime(hours=change.pop("hours", 3))
    data.update(change)
    windows = count(db, "vehicle_downtime")
    response = post_form(client, f"/fleet/{vehicle_id(db, 'ORI-123')}/downtime", data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert count(db, "vehicle_downtime") == windows


def test_a_window_of_another_vehicle_is_404(seeded, client, db):
    login(client, ADMIN)
    corolla, mazda = vehicle_id(db, "ORI-123"), vehicle_id(db, "ORI-456")
    windows = count(db, "vehicle_downtime") + 1
    post_form(client, f"/fleet/{mazda}/downtime", _downtime())
    mazdas = db.fetch_value("SELECT id FROM vehicle_downtime WHERE vehicle_id = :v", {"v": mazda})
    assert post_form(client, f"/fleet/{corolla}/downtime/{mazdas}/delete", {}).status_code == 404
    assert post_form(client, f"/fleet/{corolla}/downtime/999999/delete", {}).status_code == 404
    assert count(db, "vehicle_downtime") == windows


# --------------------------------------------------------------------------- GET never writes; query counts

def test_pages_do_not_write(seeded, client, db):
    login(client, ADMIN)
    corolla = vehicle_id(db, "ORI-123")
    before = count(db, "audit_trail")
    for path in ("/fleet/", "/fleet/new", f"/fleet/{corolla}", f"/fleet/{corolla}/edit",
                 "/fleet/?q=toyota&sort=next_service&dir=desc&status=available&transmission=Automatic&page=9"):
        assert client.get(path).status_code == 200, path
    assert count(db, "audit_trail") == before


def test_list_page_query_count_does_not_grow_with_rows(seeded, client, db):
    login(client, ADMIN)
    branch = branch_id(db, "CBD Headquarters")
    db.execute("DELETE FROM vehicles WHERE plate_number = 'ORI-321'")
    assert count(db, "vehicles") == 3
    with count_queries() as few:
        assert client.get("/fleet/").status_code == 200
    for n in range(27):
        vehicle = f.make_vehicle(db, branch_id=branch, next_service_due=clock.today() + timedelta(days=n - 5))
        f.make_schedule(db, vehicle_id=vehicle, scheduled_date=clock.today() + timedelta(days=1))
    with count_queries() as many:
        html = client.get("/fleet/?per_page=50").get_data(as_text=True)
    assert html.count('data-label="Plate"') == 30
    assert many.count == few.count, many.statements


# --------------------------------------------------------------------------- forms inside the vehicle page

@pytest.mark.parametrize("section,path,data,field,alert", [
    ("servicing", "service", {"service_date": "today", "odometer_km": "-5", "cost": "12.50", "notes": "Tyres"},
     "odometer_km", "The service was not logged: Enter a distance from 0 to 2,000,000 km."),
    ("downtime", "downtime", {"hours": -2, "reason": "Panel beater"},
     "end_datetime", "The downtime window was not added: "),
])
def test_a_failed_section_form_names_the_problem_and_leaves_a_get_address(seeded, client, db, section, path,
                                                                         data, field, alert):
    """422 re-render: the alert at the top names the problem and links to the section, <main> carries the
    section's GET URL for app.js (address bar) and the form whose first invalid field gets focus."""
    login(client, ADMIN)
    corolla = vehicle_id(db, "ORI-123")
    data = dict(data)
    if data.get("service_date") == "today":
        data["service_date"] = clock.today().isoformat()
    if "hours" in data:
        data = {**_downtime(hours=data.pop("hours")), **data}
    response = post_form(client, f"/fleet/{corolla}/{path}", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-location="/fleet/{corolla}#{section}"' in html
    assert f'data-focus-form="{section}-form"' in html
    alert_html = re.search(r'<div class="alert alert-danger page-alert"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert alert in alert_html and f'href="#{section}"' in alert_html
    form = re.search(rf'<form method="post" action="/fleet/{corolla}/{path}#{section}" id="{section}-form"[^>]*>'
                     r'(.*?)</form>', html, re.S).group(1)
    assert re.search(rf'<[^>]*aria-invalid="true"[^>]*id="{field}"|<[^>]*id="{field}"[^>]*aria-invalid="true"',
                     form)
    for name, typed in data.items():  # what was typed is kept
        assert f'value="{typed}"' in form or re.search(rf">\s*{re.escape(str(typed))}</textarea>", form), name


def test_section_form_success_and_window_delete_redirect_303_to_the_section(seeded, client, db):
    login(client, ADMIN)
    corolla = vehicle_id(db, "ORI-123")
    added = post_form(client, f"/fleet/{corolla}/downtime", _downtime())
    assert added.status_code == 303 and added.headers["Location"].endswith(f"/fleet/{corolla}#downtime")
    window = db.fetch_value("SELECT id FROM vehicle_downtime WHERE vehicle_id = :v ORDER BY id DESC LIMIT 1",
                            {"v": corolla})
    removed = post_form(client, f"/fleet/{corolla}/downtime/{window}/delete", {})
    assert removed.status_code == 303 and removed.headers["Location"].endswith(f"/fleet/{corolla}#downtime")
    logged = post_form(client, f"/fleet/{corolla}/service", {"service_date": clock.today().isoformat()})
    assert logged.status_code == 303 and logged.headers["Location"].endswith(f"/fleet/{corolla}#servicing")
    assert post_form(client, f"/fleet/{corolla}/downtime/{window}/delete", {}).status_code == 404  # gone
