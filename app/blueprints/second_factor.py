"""The second factor (services.second_factor): the sign-in challenge, the user's own set-up page (set up,
confirm, new recovery codes, switch off) and an administrator's reset of another user's factor.

Recovery codes are shown once, on the page the confirming POST redirects to, through a server-side
hand-off (services.handoffs: never the session cookie, deleted when shown or after 15 minutes).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, renew_session, roles_required, safe_next
from app.core.errors import AppError, TooManyAttempts
from app.core.flask_db import get_db
from app.core.reauth import reauth_required
from app.core.web import action_refused, form_failure, see_other
from app.forms.second_factor import ActionForm, CodeForm, ConfirmForm, ResetForm
from app.services import account_security, handoffs, second_factor

bp = Blueprint("second_factor", __name__)

CODES_HANDOFF = "recovery_codes"


def _status_page(**_):
    return url_for("second_factor.status")


def _with_retry_after(body: str, status: int, retry_after: int):
    response = current_app.make_response((body, status))
    if status == 429:
        response.headers["Retry-After"] = str(retry_after)
    return response


# --------------------------------------------------------------------------- sign-in challenge

def _render_challenge(form: CodeForm, next_url: str | None, status: int = 200, error: str | None = None):
    return render_template("second_factor/challenge.html", form=form, next_url=next_url, error=error), status


@bp.route("/auth/second-factor", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
def challenge():
    """The second sign-in step: a code from the app or a recovery code. A lock is a 429 with
    Retry-After on this form (nothing is checked while locked)."""
    next_url = safe_next(request.args.get("next"))
    if current_user.second_factor_done:
        return redirect(next_url or url_for("dashboard.index"))
    if not current_user.second_factor_enrolled:
        return redirect(url_for(".status"))
    form = CodeForm()
    if request.method in ("GET", "HEAD"):
        return _render_challenge(form, next_url)
    if not form.validate():
        return _render_challenge(form, next_url, 422)
    db, now = get_db(), clock.now()
    try:
        method = second_factor.verify(db, current_user.id, form.code.data, now=now, settings=current_app.config,
                                      ip=request.remote_addr)
    except TooManyAttempts as exc:
        body, status = _render_challenge(form, next_url, 429, error=exc.message)
        return _with_retry_after(body, status, exc.retry_after)
    except AppError as exc:
        return _render_challenge(form, next_url, form_failure(form, exc))
    second_factor.complete_login(db, current_user.session_id, now, actor=current_actor(), method=method,
                                 ip=request.remote_addr)
    renew_session()
    if method == "recovery":
        left = second_factor.status(db, current_user.id, current_user.role, current_app.config).codes_left
        flash(f"You signed in with a recovery code; it no longer works. {left} recovery code"
              f"{'' if left == 1 else 's'} left: make new ones on your second-factor page if you are running out.",
              "warning")
    flash(f"Welcome back, {current_user.first_name}.", "success")
    return see_other(next_url or url_for("dashboard.index"))


# --------------------------------------------------------------------------- the user's own page

def _render_status(status: int = 200, *, confirm_form: ConfirmForm | None = None, recovery_codes=None, **context):
    db, settings = get_db(), current_app.config
    state = second_factor.status(db, current_user.id, current_user.role, settings)
    pending = None
    if state.pending:
        secret, uri = second_factor.pending_enrolment(db, current_user.id, settings)
        pending = {"secret": secret, "grouped": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                   "qr": second_factor.qr_data_uri(uri)}
    template = "second_factor/status.html" if current_user.second_factor_done else "second_factor/enrol_required.html"
    return render_template(template, state=state, pending=pending, confirm_form=confirm_form or ConfirmForm(),
                           action_form=ActionForm(), recovery_codes=recovery_codes, **context), status


@bp.route("/account/second-factor", methods=["GET"])
@roles_required(*ANY_ROLE)
def status():
    """Whether the factor is on, the set-up (QR code and the key as text) and the codes shown once."""
    codes = None
    if request.args.get("handoff") is not None:
        payload = handoffs.take(get_db(), request.args.get("handoff"), current_user.id, CODES_HANDOFF, clock.now())
        codes = payload["codes"] if payload else []
        return _render_status(recovery_codes=codes, page_location=url_for(".status"))
    return _render_status()


@bp.post("/account/second-factor/enrol")
@roles_required(*ANY_ROLE)
@reauth_required(form_page=_status_page)
def enrol():
    """Start (or restart) a set-up: a new pending key, shown as a QR code on the page."""
    ActionForm()
    try:
        second_factor.begin_enrolment(get_db(), current_actor(), clock.now(), current_app.config)
    except AppError as exc:
        context, code = action_refused(exc, url_for(".status"))
        return _render_status(code, **context)
    return see_other(url_for(".status") + "#setup")


@bp.post("/account/second-factor/confirm")
@roles_required(*ANY_ROLE)
@reauth_required(form_page=_status_page)
def confirm():
    """The first code switches the factor on; the ten recovery codes are shown once."""
    form = ConfirmForm()
    if not form.validate():
        return _render_status(422, confirm_form=form, page_location=url_for(".status"))
    db, now = get_db(), clock.now()
    try:
        codes = second_factor.confirm_enrolment(db, current_actor(), form.code.data, now, current_app.config,
                                                session_id=current_user.session_id)
    except TooManyAttempts as exc:
        form.code.errors = [exc.message]
        body, status = _render_status(429, confirm_form=form, page_location=url_for(".status"))
        return _with_retry_after(body, status, exc.retry_after)
    except AppError as exc:
        return _render_status(form_failure(form, exc), confirm_form=form, page_location=url_for(".status"))
    if not current_user.second_factor_done:  # a forced enrolment was this session's second step
        renew_session()
    key = handoffs.create(db, current_user.id, CODES_HANDOFF, {"codes": codes}, now)
    account_security.send_security_notice(db, current_user.id, "second_factor_on", current_app.config)
    flash("Your second factor is on. From now on you sign in with your password and a code from your app.",
          "success")
    return see_other(url_for(".status", handoff=key))


@bp.post("/account/second-factor/cancel")
@roles_required(*ANY_ROLE)
def cancel():
    """Drop a set-up that was not confirmed (nothing had been switched on)."""
    ActionForm()
    second_factor.cancel_enrolment(get_db(), current_actor(), clock.now())
    flash("The set-up was cancelled.", "info")
    return see_other(url_for(".status"))


@bp.post("/account/second-factor/codes")
@roles_required(*ANY_ROLE)
@reauth_required(form_page=_status_page)
def codes():
    """Ten new recovery codes (the earlier ones stop working), shown once."""
    ActionForm()
    db, now = get_db(), clock.now()
    try:
        new_codes = second_factor.regenerate_codes(db, current_actor(), now, current_app.config)
    except AppError as exc:
        context, code = action_refused(exc, url_for(".status"))
        return _render_status(code, **context)
    key = handoffs.create(db, current_user.id, CODES_HANDOFF, {"codes": new_codes}, now)
    account_security.send_security_notice(db, current_user.id, "recovery_codes", current_app.config)
    flash("New recovery codes made; the earlier ones no longer work.", "success")
    return see_other(url_for(".status", handoff=key))


@bp.post("/account/second-factor/disable")
@roles_required(*ANY_ROLE)
@reauth_required(form_page=_status_page)
def disable():
    """Switch the factor off (instructors and students; admin and staff must keep theirs)."""
    ActionForm()
    try:
        second_factor.disable(get_db(), current_actor(), clock.now(), current_app.config)
    except AppError as exc:
        context, code = action_refused(exc, url_for(".status"))
        return _render_status(code, **context)
    account_security.send_security_notice(get_db(), current_user.id, "second_factor_off", current_app.config)
    flash("Your second factor is off. You sign in with your password only.", "success")
    return see_other(url_for(".status"))


# --------------------------------------------------------------------------- an administrator's reset

@bp.post("/account/second-factor/reset/<int:user_id>")
@roles_required("admin")
def reset(user_id: int):
    """Remove another user's factor (lost device). Audited; the user is told in-app and by e-mail and
    signed out everywhere. A refusal (own account, nothing to reset) is the 409 page."""
    form = ResetForm()
    back = safe_next(form.next.data) or url_for("dashboard.index")
    delivery = second_factor.admin_reset(get_db(), current_actor(), user_id, clock.now(), current_app.config)
    told = "in-app and by e-mail" if delivery.sent else "in-app (the e-mail could not be sent)"
    flash(f"The second factor was reset and the user was signed out. They were told {told} and set it up "
          "again at their next sign-in.", "success")
    return see_other(back)


@bp.app_context_processor
def _second_factor_helpers():
    def second_factor_state(user_id) -> str | None:
        """"on", "pending" or None for a user: the admin reset partial shows its button for the first two."""
        return second_factor.state(get_db(), int(user_id)) if user_id else None

    return {"second_factor_state": second_factor_state}
