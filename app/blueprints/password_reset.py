"""Public: forgot password (``/auth/forgot``, linked from the sign-in page) and the e-mailed reset link.

Rules live in services/password_reset.py. ``/auth/forgot`` answers every valid request the same way,
with a 303 to ``/auth/forgot/sent``; the account lookup, the token and the e-mail run after the
response has been sent (a thread started by ``response.call_on_close``, see run_after_response), with
everything they need captured here, so the answer's wording, status and timing are the same whether or
not the address has an account.
``/auth/reset/<token>``: GET shows the form, POST sets the password; an unknown, used or expired link
is the 404 page auth/reset_invalid.html (as activation links are) and counts toward the per-address
throttle, which answers 429.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, Callable

from flask import Blueprint, Flask, current_app, flash, render_template, request, session, url_for
from flask_login import logout_user

from app.core import clock
from app.core.errors import AppError, NotFound, TooManyAttempts
from app.core.auth import public
from app.core.flask_db import get_db
from app.core.web import form_failure, see_other
from app.forms.password_reset import ForgotPasswordForm, ResetPasswordForm
from app.services import password_reset

log = logging.getLogger(__name__)

bp = Blueprint("password_reset", __name__, url_prefix="/auth")
LINK_PLACEHOLDER = "placeholder"  # the link is built in the request (host, scheme); the token replaces this


@bp.after_request
def never_cache(response):
    """A reset page's address carries its token: no browser or proxy cache keeps it."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_forgot(form: ForgotPasswordForm, status: int = 200, error: str | None = None):
    return render_template("auth/forgot.html", form=form, forgot_error=error), status


@bp.route("/forgot", methods=["GET", "POST"])
@public
def forgot():
    form = ForgotPasswordForm()
    if request.method in ("GET", "HEAD"):
        return _render_forgot(form)
    if not form.validate():
        return _render_forgot(form, 422)
    db, now, ip = get_db(), clock.now(), request.remote_addr
    try:
        password_reset.check_rate(db, ip, now, current_app.config)
    except TooManyAttempts as exc:
        response = current_app.make_response(_render_forgot(form, 429, exc.message))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = see_other(url_for(".sent"))
    run_after_response(response, after_response(current_app._get_current_object(), form.email.data, ip, now,
                                                url_for(".reset", token=LINK_PLACEHOLDER, _external=True)))
    return response


# The development server skips close() when the browser drops the connection first, so the deferred
# work also starts on its own after this many seconds (gunicorn always closes the response).
FALLBACK_SECONDS = 3.0
_pending: dict[threading.Thread, threading.Event] = {}
_pending_lock = threading.Lock()


def run_after_response(response, work: Callable[[], Any]) -> None:
    """Run ``work`` in a thread once ``response`` has been sent: when the server closes the response
    (``call_on_close``), or after FALLBACK_SECONDS if it never does. The request itself never waits."""
    sent = threading.Event()
    response.call_on_close(sent.set)

    def runner() -> None:
        try:
            sent.wait(FALLBACK_SECONDS)
            work()
        finally:
            with _pending_lock:
                _pending.pop(thread, None)

    thread = threading.Thread(target=runner, name="password-reset-after-response", daemon=True)
    with _pending_lock:
        _pending[thread] = sent
    thread.start()


def wait_for_deferred(timeout: float = 10.0, *, unclosed: bool = False) -> None:
    """Tests: wait until the deferred work of the responses already closed (``unclosed``: of every
    response, closed or not, which takes up to FALLBACK_SECONDS) has finished."""
    with _pending_lock:
        threads = [t for t, sent in _pending.items() if unclosed or sent.is_set()]
    for thread in threads:
        thread.join(timeout)


def after_response(app: Flask, email: str, ip: str | None, now: datetime, link_template: str) -> Callable[[], Any]:
    """The work of a forgot request, run once the answer has gone (its own app context and database
    connection). Never raises: nobody is waiting for it; a failure is logged."""
    base = link_template.rsplit("/", 1)[0]  # .../auth/reset

    def run() -> None:
        try:
            with app.app_context():
                mail = password_reset.request_reset(get_db(), email, ip=ip, now=now, settings=app.config)
                if mail is not None:
                    password_reset.send_reset_mail(app.config, mail, f"{base}/{mail.token}")
        except Exception:  # noqa: BLE001 - after the response there is nobody to tell but the log
            log.exception("password reset request could not be completed")
    return run


@bp.get("/forgot/sent")
@public
def sent():
    return render_template("auth/reset_sent.html", minutes=password_reset.minutes(current_app.config))


def _link_no_longer_works(db, ip: str | None):
    """Unknown, used, expired or revoked: one page (never says which); counts toward the throttle."""
    password_reset.record_bad_link(db, ip, clock.now())
    return render_template("auth/reset_invalid.html", minutes=password_reset.minutes(current_app.config)), 404


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str):
    db, ip = get_db(), request.remote_addr
    password_reset.throttled(db, ip, clock.now(), current_app.config)  # 429 before any token is looked up
    try:
        target = password_reset.reset_target(db, token, clock.now())
    except NotFound:
        return _link_no_longer_works(db, ip)
    form = ResetPasswordForm()

    def page(status: int = 200):
        return render_template("auth/reset.html", form=form, first_name=target["first_name"],
                               email=target["email"]), status

    if not form.is_submitted():
        return page()
    if not form.validate():
        return page(422)
    try:
        password_reset.reset_password(db, token, form.password.data, form.confirm_password.data, ip=ip,
                                      now=clock.now(), settings=current_app.config)
    except NotFound:  # used by another request in the meantime
        return _link_no_longer_works(db, ip)
    except AppError as exc:
        return page(form_failure(form, exc))
    logout_user()  # this browser's session (if any) ended with all the others
    session.clear()
    flash("Your password has been reset and every session was signed out. Sign in with your new password.",
          "success")
    response = see_other(url_for("auth.login"))
    run_after_response(response, _notice(current_app._get_current_object(), target["email"], target["first_name"]))
    return response


def _notice(app: Flask, email: str, first_name: str) -> Callable[[], None]:
    def run() -> None:
        try:
            password_reset.send_changed_notice(app.config, email, first_name)
        except Exception:  # noqa: BLE001 - after the response there is nobody to tell but the log
            log.exception("password reset notice could not be sent")
    return run
