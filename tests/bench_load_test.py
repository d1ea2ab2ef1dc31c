"""bench/load.py, the load driver, run briefly against a tiny seeded database served by its own gunicorn.

The demo seed (without its lived-in fortnight, so seeding stays fast) with the demo's second factors on,
so the admin and the staff sign in with a TOTP code read from the database, as `flask demo-code` does.
Two clients, one timed round, one URL per endpoint. No timing assertions: the test checks that every role
signed in, that every GET endpoint a role may open was either walked or listed with a reason, that every
route kind was walked (lists, detail pages, forms, calendars, dashboards, the JSON APIs, PDFs, CSV and
JSON exports), and that the figures and the markdown are well formed.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import clock
from app.core.flask_db import get_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def backend() -> str:
    """SQLite only: what is tested is the driver (sign-in, discovery, the report), not the database; the
    MariaDB runs are the benchmark itself (bench/README.md)."""
    return "sqlite"


def _run(seeded, db_url, tmp_path):
    from app.services.seed import enrol_demo_second_factors

    with seeded.app_context():
        enrolled = enrol_demo_second_factors(get_db(), clock.now(), seeded.config)
    assert "admin@origin.com" in enrolled
    out_json, out_md = tmp_path / "load.json", tmp_path / "load.md"
    env = {**os.environ, "SECRET_KEY": seeded.config["SECRET_KEY"], "LOG_DIR": str(tmp_path / "driver-logs"),
           "UPLOAD_DIR": seeded.config["UPLOAD_DIR"]}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--database-url", db_url, "--clients", "2", "--rounds", "1",
         "--warmup", "0", "--samples", "1", "--workers", "2", "--overhead-seconds", "0.3", "--exports",
         "--page-budget", "200", "--extra-pages", "10", "--json", str(out_json), "--markdown", str(out_md), "--quiet"],
        cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=240)
    assert out_json.exists(), done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(out_json.read_text()), out_md.read_text(), done, seeded


def test_the_driver_walks_every_route_kind_of_every_role_and_reports_sane_figures(seeded, db_url, tmp_path):
    """One driver run per database (about 40 s): the three checks below share it."""
    run = _run(seeded, db_url, tmp_path)
    _signs_in_and_walks_every_route_kind(run)
    _every_declared_endpoint_is_walked_or_listed_with_a_reason(run)
    _the_figures_and_the_report_are_well_formed(run)


def _signs_in_and_walks_every_route_kind(run):
    result, _, done, _ = run
    assert not [e for e in result["errors"] if "sign" in e or "client" in e], result["errors"]
    for role in ("admin", "staff", "instructor", "student", "anonymous"):
        assert result["roles"][role]["requests"] >= 1, role
    kinds = result["route_kinds"]
    assert {"dashboard", "list", "detail", "form", "calendar", "api", "pdf", "csv"} <= set(kinds["admin"])
    assert {"dashboard", "list", "detail", "form", "calendar", "api", "pdf"} <= set(kinds["staff"])
    assert {"dashboard", "detail", "calendar", "api"} <= set(kinds["instructor"])
    assert {"dashboard", "detail", "calendar", "api", "pdf", "json"} <= set(kinds["student"])
    walked = {(r["role"], r["endpoint"]) for r in result["routes"]}
    for endpoint in ("api_schedules.events", "api_schedules.conflicts", "api_availability.slots",
                     "schedules.week", "schedules.day", "students.view", "invoices.pdf", "audit.export"):
        assert ("admin", endpoint) in walked, endpoint
    assert ("student", "api_portal.slots") in walked and ("student", "privacy.my_data_json") in walked
    assert ("anonymous", "main.healthz") in walked
    # a 5xx would fail the run (exit 1) and be flagged; the seeded demo has none of its own
    assert done.returncode in (0, 1)
    for row in result["routes"]:
        if any(int(status) >= 500 for status in row["statuses"]):
            assert "5xx" in row["flags"] and done.returncode == 1


def _every_declared_endpoint_is_walked_or_listed_with_a_reason(run):
    result, _, _, app = run
    for role, plan in result["plans"].items():
        declared = set()
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if "GET" in rule.methods and role in (getattr(view, "_access_roles", None) or ()):
                declared.add(rule.endpoint)
        if role == "anonymous":
            continue
        assert declared == set(plan["samples"]) | set(plan["unreached"]), role
        assert not set(plan["samples"]) & set(plan["unreached"])
        assert all(why.strip() for why in plan["unreached"].values())
        assert len(plan["samples"]) > len(plan["unreached"]), (role, plan["unreached"])
    # ids come from the role's own pages: the student's detail pages are their own
    student_urls = [u for urls in result["plans"]["student"]["samples"].values() for u in urls]
    assert any(u.startswith("/my/invoices/") for u in student_urls)


def _the_figures_and_the_report_are_well_formed(run):
    result, text, _, _ = run
    assert result["run"]["requests"] == sum(r["requests"] for r in result["routes"]) > 0
    for row in result["routes"]:
        assert 0 < row["median_ms"] <= row["p95_ms"] <= row["max_ms"], row
        assert row["requests"] >= 1 and row["max_bytes"] >= row["median_bytes"] >= 0
        if row["statuses"] == {"200": row["requests"]}:
            assert row["max_bytes"] > 0, row
        assert "over 250 KB" not in row["flags"] or row["max_bytes"] > 250_000
    p95s = [r["p95_ms"] for r in result["routes"]]
    assert p95s == sorted(p95s, reverse=True)
    overall = result["roles"]["all signed-in roles"]
    assert overall["median_ms"] <= overall["p95_ms"] <= overall["max_ms"]
    for check in ("/healthz", "static file"):
        assert result["overhead"][check]["requests"] > 0
        assert result["overhead"][check]["driver_cpu_ms_per_request"] > 0
    assert result["run"]["driver_cpu_ms_per_request"] > 0 and result["run"]["clients"] == 2
    assert result["machine"]["cores"] >= 1 and result["machine"]["cpu"] and result["machine"]["ram_gib"] > 0
    assert result["versions"]["gunicorn"] and result["versions"]["python"]
    assert result["data"]["students"] > 0 and result["data"]["schedules"] > 0
    assert "sync workers" in result["run"]["server"]
    assert "| role | route | kind | requests | median ms | p95 ms | max ms | KB (max) | status | flags |" in text
    assert "`/dashboard/`" in text and "Driver check, /healthz" in text and "Machine: " in text
