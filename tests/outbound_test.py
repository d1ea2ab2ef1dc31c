"""OutboundMessageService against real servers that the test starts on 127.0.0.1 (issue 10). Nothing is mocked:
smtplib talks to aiosmtpd and urllib talks to a stdlib ThreadingHTTPServer.

- SMTP: plain delivery (headers, the Message-ID kept as the provider's id, CR/LF in a subject adds no
  header); STARTTLS with a throwaway certificate (openssl) and AUTH: the message arrives only over TLS,
  only with the right password, and only when the certificate is trusted; 550 is permanent, 451 and a
  server that is not listening or never greets are transient.
- sms-http: success (payload placeholders filled as JSON strings, the Bearer token and the Idempotency-Key
  arrive), 5xx/4xx, a hang or a trickle longer than SMS_HTTP_TIMEOUT, garbage, a JSON list, an error
  object, an invalid number that never reaches the server.
- The dispatcher (both databases) over the same servers: a failing gateway (HTTP 500, a hang) backs off,
  then falls back to e-mail; one request per reminder from a working gateway; a refused e-mail becomes an
  in-app warning. The log-backend paths of the dispatcher are in tests/reminder_test.py."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.dao.reminder import ReminderDAO
from app.services import reminders
from app.services.outbound import OutboundMessageService
from tests.factories import make_invoice, make_user

NOW = datetime(2026, 3, 10, 2, 30)  # 13:30 in Melbourne: outside the SMS quiet hours
PAYLOAD = ('{"to": "{to}", "from": "{sender}", "text": "{message}", "reference": "{key}",'
           ' "meta": {"tags": ["reminder", "{to}"], "priority": 1}}')
TOKEN = "gw-token-123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ============================================================================================ SMTP server

@dataclass
class Received:
    rcpt_tos: list
    message: object  # email.message.EmailMessage
    tls: bool
    login: bytes | None


class Inbox:
    """aiosmtpd handler: refuses some recipients; keeps each message with whether it came over TLS and
    who logged in."""
    REFUSE = {"refused@example.com": "550 5.1.1 No such user here", "busy@example.com": "451 4.3.0 Try again later"}

    def __init__(self):
        self.messages: list[Received] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.REFUSE:
            return self.REFUSE[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(Received(list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default),
                                      session.ssl is not None, session.auth_data))
        return "250 Message accepted"


def _start_smtp(inbox: Inbox, **kwargs):
    from aiosmtpd.controller import Controller

    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture(scope="module")
def smtp_server():
    inbox = Inbox()
    controller, port = _start_smtp(inbox)
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail(smtp_server):
    inbox, port = smtp_server
    inbox.messages.clear()
    return inbox, port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A throwaway self-signed certificate for 127.0.0.1 (EC: generated in milliseconds)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    return cert, key


@pytest.fixture(scope="module")
def tls_smtp(certificate):
    """STARTTLS required, AUTH required (and only offered over TLS): login office / s3cret."""
    from aiosmtpd.smtp import AuthResult

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"office" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

    inbox = Inbox()
    controller, port = _start_smtp(inbox, tls_context=context, require_starttls=True, authenticator=authenticator,
                                   auth_required=True, auth_require_tls=True)
    yield inbox, port, cert
    controller.stop()


# ============================================================================================ HTTP gateway

@dataclass
class Request:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class Gateway:
    """What the fake SMS gateway answers next: ``answer`` (status, body bytes), ``hang`` (seconds to wait
    before answering) or ``trickle`` (send the headers, then one byte every 0.15 s)."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/v1/messages"
        self.requests: list[Request] = []
        self.release = threading.Event()
        self.reset()

    def reset(self):
        self.release.set()  # frees a handler still hanging from the last test
        self.release = threading.Event()
        self.requests = []
        self.answer = (200, b'{"id": "gw-1"}')
        self.hang = 0.0
        self.trickle = False


class _GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's naming
        gateway: Gateway = self.server.gateway
        release = gateway.release
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        gateway.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        try:
            if gateway.hang and release.wait(gateway.hang):
                return
            status, payload = gateway.answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            if gateway.trickle:
                for byte in payload:
                    if release.wait(0.15):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            else:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def gateway_server():
    port = _free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _GatewayHandler)
    server.gateway = Gateway(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.gateway
    server.gateway.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway(gateway_server):
    gateway_server.reset()
    yield gateway_server
    gateway_server.release.set()


# ============================================================================================ settings

@pytest.fixture
def settings(tmp_path, mail, gateway):
    """tests/reminder_test.py's settings with the real backends pointing at this module's servers."""
    _inbox, port = mail
    return {"APP_TIMEZONE": "Australia/Melbourne", "APP_NAME": "Origin Driving School", "LOG_DIR": str(tmp_path),
            "MAIL_ENABLED": True, "SMS_ENABLED": True,
            "SMS_QUIET_HOURS": "21:00-08:00", "REMINDER_BATCH_SIZE": 3, "REMINDER_MAX_ATTEMPTS": 3,
            "REMINDER_BACKOFF_SECONDS": 60, "REMINDER_BACKOFF_CAP_SECONDS": 3600, "REMINDER_LEASE_SECONDS": 900,
            "EMAIL_BACKEND": "smtp", "SMS_BACKEND": "sms-http", "SMS_HTTP_URL": gateway.url, "SMS_HTTP_TOKEN": TOKEN,
            "SMS_HTTP_PAYLOAD": PAYLOAD, "SMS_HTTP_TIMEOUT": 0.5, "SMS_SENDER": "Origin", "SMS_COUNTRY_CODE": "61",
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_FROM": "office@origin.example",
            "MAIL_USE_TLS": False, "MAIL_TIMEOUT": 2, "MAIL_CA_FILE": "", "MAIL_USERNAME": "", "MAIL_PASSWORD": ""}


def service(settings, **overrides) -> OutboundMessageService:
    return OutboundMessageService({**settings, **overrides})


# ============================================================================================ SMTP

def test_smtp_delivers_with_its_headers_and_a_crlf_in_the_subject_adds_no_header(settings, mail):
    inbox, _port = mail
    outcome = service(settings).send_email("jack@student.com", "Lesson moved\r\nBcc: evil@attacker.example",
                                           "Hello Jack,\n\nYour lesson is now at 10:00.", key="reminder-1-email-1")
    assert outcome.sent and (outcome.backend, outcome.address, outcome.error) == ("smtp", "jack@student.com", "")
    [got] = inbox.messages
    assert got.rcpt_tos == ["jack@student.com"] and not got.tls and got.login is None
    message = got.message
    assert message["From"] == "office@origin.example" and message["To"] == "jack@student.com"
    assert message["Subject"] == "Lesson moved Bcc: evil@attacker.example"
    assert "Bcc" not in message and "evil@attacker.example" not in got.rcpt_tos
    assert outcome.provider_message_id == message["Message-ID"] and message["Message-ID"].endswith("@origin.example>")
    assert "Your lesson is now at 10:00." in message.get_content()


def test_an_invalid_address_or_a_disabled_backend_never_reaches_the_server(settings, mail):
    inbox, _port = mail
    bad = service(settings).send_email("jack@student.com\r\nRCPT TO:<evil@x.com>", "s", "b", key="k")
    assert (bad.sent, bad.backend, bad.permanent, bad.error) == (False, "validation", True, "invalid e-mail address")
    off = service(settings, EMAIL_BACKEND="disabled").send_email("jack@student.com", "s", "b", key="k")
    assert not off.sent and off.permanent and off.error == "e-mail sending is disabled"
    assert inbox.messages == []


def test_starttls_and_login_deliver_only_over_tls_with_the_right_password(settings, tls_smtp):
    inbox, port, cert = tls_smtp
    inbox.messages.clear()
    secure = {**settings, "MAIL_PORT": port, "MAIL_USE_TLS": True, "MAIL_CA_FILE": str(cert),
              "MAIL_USERNAME": "office", "MAIL_PASSWORD": "s3cret"}
    outcome = service(secure).send_email("amy@student.com", "Invoice issued", "INV-1 is ready.", key="k1")
    assert outcome.sent, outcome.error
    [got] = inbox.messages
    assert got.tls and got.login == b"office" and got.rcpt_tos == ["amy@student.com"]
    assert outcome.provider_message_id == got.message["Message-ID"]


@pytest.mark.parametrize("overrides, reason", [
    # no STARTTLS: the server offers no AUTH in the clear, so the password never leaves
    ({"MAIL_USE_TLS": False}, "SMTP AUTH extension not supported"),
    # no STARTTLS and no login: MAIL FROM is refused
    ({"MAIL_USE_TLS": False, "MAIL_USERNAME": ""}, "SMTP 530"),
    # STARTTLS, but the self-signed certificate is not trusted (MAIL_CA_FILE unset: the system store)
    ({"MAIL_CA_FILE": ""}, "CERTIFICATE_VERIFY_FAILED"),
    ({"MAIL_PASSWORD": "wrong"}, "SMTP 535"),
    ({"MAIL_USERNAME": ""}, "SMTP 530"),  # TLS but no login: authentication required
])
def test_starttls_server_refuses_without_tls_trust_or_the_right_login(settings, tls_smtp, overrides, reason):
    inbox, port, cert = tls_smtp
    inbox.messages.clear()
    secure = {**settings, "MAIL_PORT": port, "MAIL_USE_TLS": True, "MAIL_CA_FILE": str(cert),
              "MAIL_USERNAME": "office", "MAIL_PASSWORD": "s3cret", **overrides}
    outcome = service(secure).send_email("amy@student.com", "Invoice issued", "INV-1 is ready.", key="k1")
    assert not outcome.sent and reason in outcome.error, outcome.error
    assert not outcome.permanent  # a configuration problem: fixed, the next attempt can go
    assert "b'" not in outcome.error  # the server's text, not a bytes repr
    assert inbox.messages == []


def test_a_refused_recipient_is_permanent_with_550_and_transient_with_451(settings, mail):
    inbox, _port = mail
    refused = service(settings).send_email("refused@example.com", "s", "b", key="k")
    assert not refused.sent and refused.permanent and "550" in refused.error
    busy = service(settings).send_email("busy@example.com", "s", "b", key="k")
    assert not busy.sent and not busy.permanent and "451" in busy.error
    assert inbox.messages == []


def test_a_server_that_is_not_listening_or_never_greets_is_transient(settings):
    closed = service(settings, MAIL_PORT=_free_port()).send_email("jack@student.com", "s", "b", key="k")
    assert not closed.sent and not closed.permanent and "refused" in closed.error.lower()
    with socket.socket() as silent:  # accepts connections (the backlog) but never says 220
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        started = time.monotonic()
        mute = service(settings, MAIL_PORT=silent.getsockname()[1], MAIL_TIMEOUT=0.3).send_email(
            "jack@student.com", "s", "b", key="k")
        elapsed = time.monotonic() - started
    assert not mute.sent and not mute.permanent and "timed out" in mute.error.lower(), mute.error
    assert elapsed < 2


# ============================================================================================ sms-http

def test_sms_http_posts_the_filled_payload_with_token_and_idempotency_key(settings, gateway):
    gateway.answer = (201, b'{"id": "gw-abc-1", "status": "queued"}')
    text = 'He said "see you at 9"\nBring your licence \\ {"x": 1} \u2713 {key} {sender}'
    outcome = service(settings).send_sms("0400 111 222", text, key="reminder-7-sms-1")
    assert outcome.sent, outcome.error
    assert (outcome.backend, outcome.address, outcome.provider_message_id) == ("sms-http", "+61400111222", "gw-abc-1")
    [request] = gateway.requests
    assert request.path == "/v1/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["idempotency-key"] == "reminder-7-sms-1"
    assert request.headers["content-type"] == "application/json"
    # every placeholder filled as a JSON string; the quotes, newline, backslash and the "{key}" typed in the
    # message arrive exactly as written; non-string values of the template stay as they were
    assert request.json == {"to": "+61400111222", "from": "Origin", "text": text, "reference": "reminder-7-sms-1",
                            "meta": {"tags": ["reminder", "+61400111222"], "priority": 1}}


def test_sms_http_message_id_field_and_no_id_are_accepted(settings, gateway):
    gateway.answer = (200, b'{"message_id": 4711}')
    assert service(settings).send_sms("+61400111222", "hi", key="k").provider_message_id == "4711"
    gateway.answer = (202, b'{"status": "accepted"}')
    quiet = service(settings).send_sms("+61400111222", "hi", key="k")
    assert quiet.sent and quiet.provider_message_id is None


@pytest.mark.parametrize("status, body, permanent, reason", [
    (500, b'{"error": "internal"}', False, "gateway answered HTTP 500"),
    (503, b"", False, "gateway answered HTTP 503"),
    (429, b'{"error": "slow down"}', False, "gateway answered HTTP 429"),
    (400, b'{"error": "bad number"}', True, "gateway answered HTTP 400"),
    (401, b"", True, "gateway answered HTTP 401"),
    (200, b"<html>Service Unavailable</html>", False, "not a JSON object"),
    (200, b'["queued"]', False, "not a JSON object"),
    (200, b"\xff\xfe garbage", False, "not a JSON object"),
    (200, b'{"error": "number is blacklisted"}', True, "gateway refused: number is blacklisted"),
    (200, b'{"status": "rejected"}', True, "gateway refused: rejected"),
])
def test_sms_http_failures_are_failed_with_their_reason(settings, gateway, status, body, permanent, reason):
    gateway.answer = (status, body)
    outcome = service(settings).send_sms("+61400111222", "hi", key="k")
    assert (outcome.sent, outcome.permanent) == (False, permanent)
    assert reason in outcome.error, outcome.error
    assert len(gateway.requests) == 1


def test_a_gateway_that_hangs_is_failed_after_its_timeout(settings, gateway):
    gateway.hang = 5
    started = time.monotonic()
    outcome = service(settings).send_sms("+61400111222", "hi", key="k")
    elapsed = time.monotonic() - started
    assert not outcome.sent and not outcome.permanent
    assert outcome.error == "gateway timed out after 0.5 s"
    assert 0.45 <= elapsed < 1.5, elapsed


def test_a_gateway_that_trickles_its_answer_is_cut_off_at_the_timeout(settings, gateway):
    """One byte every 0.15 s never trips a per-read socket timeout of 0.5 s: the whole call has a deadline."""
    gateway.answer = (200, b'{"id": "' + b"x" * 40 + b'"}')  # ~7 s at that pace
    gateway.trickle = True
    started = time.monotonic()
    outcome = service(settings).send_sms("+61400111222", "hi", key="k")
    elapsed = time.monotonic() - started
    assert not outcome.sent and outcome.error == "gateway timed out after 0.5 s"
    assert elapsed < 1.5, elapsed


def test_a_gateway_that_is_not_listening_is_transient(settings, gateway):
    outcome = service(settings, SMS_HTTP_URL=f"http://127.0.0.1:{_free_port()}/v1").send_sms("+61400111222", "hi",
                                                                                              key="k")
    assert not outcome.sent and not outcome.permanent and "gateway unreachable" in outcome.error


@pytest.mark.parametrize("number, reason", [("12ab", "invalid phone number"), ("", "no phone number"),
                                            ("+61 400 111 222\r\nX-Evil: 1", "invalid phone number")])
def test_an_invalid_number_never_reaches_the_gateway(settings, gateway, number, reason):
    outcome = service(settings).send_sms(number, "hi", key="k")
    assert (outcome.sent, outcome.backend, outcome.permanent, outcome.error) == (False, "validation", True, reason)
    assert gateway.requests == []


def test_a_broken_payload_template_fails_without_a_request(settings, gateway):
    outcome = service(settings, SMS_HTTP_PAYLOAD='{"to": "{to}",').send_sms("+61400111222", "hi", key="k")
    assert not outcome.sent and outcome.permanent and "SMS_HTTP_PAYLOAD" in outcome.error
    assert gateway.requests == []


# ============================================================================================ the dispatcher

def person(db, **overrides) -> int:
    return make_user(db, **{"phone": "0400 111 222", "email": "jack@student.com", "first_name": "Jack", **overrides})


def queue(db, user_id, channel):
    return reminders.queue(db, related_type="invoice", related_id=make_invoice(db), recipient_user_id=user_id,
                           channel=channel, reminder_type="Invoice Due", message="Your invoice INV-1 is due.",
                           send_at=NOW, now=NOW, key=None)


def row(db, reminder_id) -> dict:
    return db.fetch_one("SELECT * FROM reminders WHERE id = :id", {"id": reminder_id})


def log_of(db, reminder_id) -> list[tuple]:
    return [(d["attempt"], d["channel"], d["backend"], d["state"]) for d in ReminderDAO(db).deliveries(reminder_id)]


@pytest.mark.parametrize("failure", ["http-500", "hang"])
def test_a_failing_gateway_backs_off_then_the_reminder_goes_by_email(db, settings, mail, gateway, failure):
    inbox, _port = mail
    if failure == "hang":
        gateway.hang, settings["SMS_HTTP_TIMEOUT"], reason = 5, 0.3, "gateway timed out after 0.3 s"
    else:
        gateway.answer, reason = (500, b'{"error": "down"}'), "gateway answered HTTP 500"
    rid = queue(db, person(db), "sms")

    first = reminders.process_due(db, NOW, settings)
    assert (first.claimed, first.retrying, first.sent) == (1, 1, 0)
    got = row(db, rid)
    assert (got["status"], got["attempts"], got["delivery_channel"]) == ("pending", 1, "sms")
    gap1 = (got["next_attempt_at"] - NOW).total_seconds()
    assert 60 <= gap1 <= 75 and reason in got["last_error"] and "attempt 1 of 3" in got["last_error"]
    t1 = got["next_attempt_at"]
    assert reminders.process_due(db, t1 - timedelta(seconds=1), settings).claimed == 0  # not before its time

    assert reminders.process_due(db, t1, settings).retrying == 1
    got = row(db, rid)
    assert (got["status"], got["attempts"]) == ("pending", 2)
    gap2 = (got["next_attempt_at"] - t1).total_seconds()
    assert 120 <= gap2 <= 150  # base x 2, with at most 25 % jitter
    assert inbox.messages == []

    last = reminders.process_due(db, got["next_attempt_at"], settings)
    assert (last.sent, last.by_channel) == (1, {"email": 1})
    got = row(db, rid)
    assert (got["status"], got["attempts"], got["delivery_channel"]) == ("sent", 3, "email")
    assert reason in got["last_error"]  # why it did not go by SMS stays on the row
    assert log_of(db, rid) == [(1, "sms", "sms-http", "failed"), (2, "sms", "sms-http", "failed"),
                               (3, "sms", "sms-http", "failed"), (3, "email", "smtp", "sent")]
    log = ReminderDAO(db).deliveries(rid)
    assert all(d["error"] == reason and d["address"] == "+61400111222" for d in log[:3])
    assert log[3]["provider_message_id"] == inbox.messages[0].message["Message-ID"]
    assert len(gateway.requests) == 3 and len(inbox.messages) == 1
    [mail_got] = inbox.messages
    assert mail_got.rcpt_tos == ["jack@student.com"] and mail_got.message["Subject"] == "Reminder: Invoice Due"
    assert "Hello Jack" in mail_got.message.get_content()
    assert db.fetch_value("SELECT COUNT(*) FROM notifications") == 0


def test_a_working_gateway_gets_exactly_one_request_per_reminder(db, settings, mail, gateway):
    gateway.answer = (200, b'{"id": "gw-77"}')
    user = person(db)
    ids = [queue(db, user, "sms") for _ in range(4)]  # batches of 3: two claims
    result = reminders.process_due(db, NOW, settings)
    assert (result.sent, result.by_channel) == (4, {"sms": 4})
    assert len(gateway.requests) == 4
    keys = [r.headers["idempotency-key"] for r in gateway.requests]
    assert sorted(keys) == sorted(f"reminder-{rid}-sms" for rid in ids)
    assert all(r.json["text"] == "Origin Driving School: Your invoice INV-1 is due." for r in gateway.requests)
    for rid in ids:
        assert row(db, rid)["status"] == "sent" and row(db, rid)["delivery_channel"] == "sms"
        [delivery] = ReminderDAO(db).deliveries(rid)
        assert (delivery["state"], delivery["provider_message_id"], delivery["error"]) == ("sent", "gw-77", None)
    assert reminders.process_due(db, NOW + timedelta(hours=1), settings).claimed == 0
    assert len(gateway.requests) == 4 and mail[0].messages == []


def test_an_email_the_server_refuses_falls_back_to_an_in_app_warning(db, settings, mail, gateway):
    inbox, _port = mail
    rid = queue(db, person(db, email="refused@example.com"), "email")
    result = reminders.process_due(db, NOW, settings)
    assert (result.sent, result.by_channel, result.retrying) == (1, {"in-app": 1}, 0)
    got = row(db, rid)
    assert (got["status"], got["delivery_channel"], got["attempts"]) == ("sent", "in-app", 1)
    assert "550" in got["last_error"]
    assert log_of(db, rid) == [(1, "email", "smtp", "failed"), (1, "in-app", "in-app", "sent")]
    assert "550" in ReminderDAO(db).deliveries(rid)[0]["error"]
    note = db.fetch_one("SELECT level, message FROM notifications WHERE reminder_id = :id", {"id": rid})
    assert note["level"] == "warning" and "could not reach you by E-mail" in note["message"]
    assert inbox.messages == [] and gateway.requests == []


def test_a_retried_sms_keeps_its_idempotency_key(db, settings, gateway):
    gateway.answer = (500, b'{"error": "down"}')
    rid = queue(db, person(db), "sms")
    reminders.process_due(db, NOW, settings)
    gateway.answer = (200, b'{"id": "gw-2"}')
    assert reminders.process_due(db, row(db, rid)["next_attempt_at"], settings).sent == 1
    keys = [r.headers["idempotency-key"] for r in gateway.requests]
    assert len(keys) == 2 and keys[0] == keys[1]
