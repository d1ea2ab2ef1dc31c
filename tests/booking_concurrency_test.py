"""The booking race on a real MariaDB, through a real multi-worker server: 20 signed-in sessions POST
one instructor slot at the same moment (a Barrier), each over its own connection to a 4-worker gunicorn
started here; exactly one booking succeeds (201) and the nineteen others are 409s naming ``instructor``,
and the database holds exactly one event. Each request books a different student, so the instructor lock
is the only thing that serialises them. Bounded (the server is stopped in ``finally``)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from app.core import passwords
from app.core.database import Database
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, FAST_HASH, _empty_mysql

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 20
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Session:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""

    def open(self, path, data=None, headers=None, method=None):
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {}, method=method)
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def token_from(self, path):
        status, html = self.open(path)
        match = _TOKEN.search(html)
        assert status == 200 and match, (path, status)
        return match.group(1) or match.group(2)

    def sign_in(self, email):
        token = self.token_from("/auth/login")
        form = urllib.parse.urlencode({"email": email, "password": DEMO_PASSWORD, "csrf_token": token}).encode()
        self.open("/auth/login", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.token = self.token_from("/dashboard/")  # 200 only when signed in

    def book(self, body):
        return self.open("/api/schedules", data=json.dumps(body).encode(), method="POST",
                         headers={"Content-Type": "application/json", "X-CSRFToken": self.token})


def _wait_until_up(base, server, log_path, deadline):
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("gunicorn exited: " + log_path.read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not start in time")


@pytest.mark.mysql_only
def test_twenty_concurrent_bookings_of_one_slot_give_one_201_and_nineteen_409(mysql_schema, tmp_path):
    url = mysql_schema
    _empty_mysql(url)
    db = Database.from_url(url)
    passwords.configure(FAST_HASH)
    try:
        branch = f.make_branch(db, name="Race branch")
        course = f.make_course(db)
        instructor = f.make_instructor(db, branch_id=branch)
        f.allocate(db, course, instructor)
        students = []
        for _ in range(REQUESTS):
            student = f.make_student(db, branch_id=branch)
            f.make_enrollment(db, student, course)
            students.append(student)
        f.make_user(db, role="staff", branch_id=branch, email="race.staff@origin.com",
                    password_hash=passwords.hash_password(DEMO_PASSWORD))
    finally:
        db.close()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "APP_ENV": "local", "DATABASE_URL": url, "SECRET_KEY": "race-test-secret-key-long-enough-123456",
           "LOG_DIR": str(tmp_path / "logs"), "UPLOAD_DIR": str(tmp_path / "uploads"), "MAIL_ENABLED": "false",
           "LOGIN_MAX_FAILURES_PER_IP": "1000", "SECOND_FACTOR_ROLES": "",  # password-only sign-in, as conftest
           **{k: str(v) for k, v in FAST_HASH.items()}}
    log_path = tmp_path / "gunicorn.log"
    log = log_path.open("wb")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}",
                               "--timeout", "30", "app.bootstrap:create_app()"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(base, server, log_path, time.monotonic() + 20)
        sessions = [Session(base) for _ in range(REQUESTS)]
        for session in sessions:
            session.sign_in("race.staff@origin.com")
        barrier = threading.Barrier(REQUESTS)
        results: list = [None] * REQUESTS

        def fire(i):
            barrier.wait(timeout=10)
            results[i] = sessions[i].book({"student_id": students[i], "instructor_id": instructor,
                                           "event_type": "lesson", "date": "2030-05-15",
                                           "start_time": "09:00", "end_time": "10:00"})

        threads = [threading.Thread(target=fire, args=(i,)) for i in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=25)
        assert all(r is not None for r in results), "a request did not finish"
        statuses = sorted(status for status, _ in results)
        assert statuses == [201] + [409] * (REQUESTS - 1), [r for r in results if r[0] not in (201, 409)][:3]
        for status, body in results:
            if status == 409:
                payload = json.loads(body)
                assert payload["error"] == "conflict"
                assert [c["kind"] for c in payload["conflicts"]] == ["instructor"], payload
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()
    check = Database.from_url(url)
    try:
        assert check.fetch_value("SELECT COUNT(*) AS n FROM schedules WHERE instructor_id = :i",
                                 {"i": instructor}) == 1
        assert check.fetch_value("SELECT COUNT(*) AS n FROM reminders") == 1
    finally:
        check.close()
