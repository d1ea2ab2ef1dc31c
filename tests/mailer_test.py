"""Outbound e-mail against a real SMTP server started by the test (aiosmtpd on 127.0.0.1)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
import socket

import pytest

from app.core import clock
from app.core.flask_db import get_db
from app.services import mailer
from tests.conftest import app_overrides, csrf_token, login


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_send_email_delivers_and_logs(smtp, tmp_path):
    inbox, port = smtp
    settings = {"MAIL_ENABLED": True, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                "MAIL_USERNAME": "", "MAIL_PASSWORD": "", "MAIL_FROM": "office@origin.com", "LOG_DIR": str(tmp_path)}
    delivery = mailer.send_email(settings, "jack@student.com", "Hello\r\nBcc: evil@x.com", "Body text")
    assert delivery.sent and delivery.status == "sent"
    assert len(inbox.messages) == 1
    recipients, content = inbox.messages[0]
    assert recipients == ["jack@student.com"]  # the CR/LF in the subject added no recipient
    assert "Subject: Hello Bcc: evil@x.com" in content
    assert '"status": "sent"' in (tmp_path / "outbound.log").read_text()


def test_disabled_or_unreachable_mail_is_skipped_or_failed_not_raised(tmp_path):
    base = {"MAIL_PORT": _free_port(), "MAIL_USE_TLS": False, "MAIL_USERNAME": "", "MAIL_PASSWORD": "",
            "MAIL_FROM": "office@origin.com", "LOG_DIR": str(tmp_path)}
    assert mailer.send_email({**base, "MAIL_ENABLED": False, "MAIL_SERVER": "127.0.0.1"}, "a@b.com", "s", "b").status == "skipped"
    failed = mailer.send_email({**base, "MAIL_ENABLED": True, "MAIL_SERVER": "127.0.0.1"}, "a@b.com", "s", "b")
    assert failed.status == "failed" and not failed.sent


def test_new_staff_account_gets_its_activation_link_by_email(smtp, db_url, tmp_path):
    from app.services.seed import seed_demo
    from app.bootstrap import create_app

    inbox, port = smtp
    app = create_app(app_overrides(db_url, tmp_path, MAIL_ENABLED=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                                   SERVER_NAME="origin.test"))
    with app.app_context():
        seed_demo(get_db(), clock.now(), clock.today())
        branch = get_db().fetch_value("SELECT MIN(id) AS id FROM branches")
    client = app.test_client()
    login(client, "admin@origin.com")
    response = client.post("/staff/new", data={
        "csrf_token": csrf_token(client, "/staff/new"), "first_name": "Nina", "last_name": "Park",
        "email": "nina.park@origin.com", "branch_id": str(branch), "employment_type": "Full-time"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert [m[0] for m in inbox.messages] == [["nina.park@origin.com"]]
    link = re.search(r"https?://\S+/auth/activate/\S+", inbox.messages[0][1]).group(0)
    path = link.split("origin.test", 1)[1]
    page = app.test_client().get(path)
    assert page.status_code == 200 and "Welcome, Nina" in page.get_data(as_text=True)
