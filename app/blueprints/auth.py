"""Sign in, sign out and confirm the password again (re-authentication before sensitive changes)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import clock
from app.core.auth import ANY_ROLE, end_session, public, roles_required, safe_next, start_session
from app.core.errors import AppError, AuthenticationFailed, TooManyAttempts
from app.core.flask_db import get_db
from app.core.web import form_failure, see_other
from app.forms.auth import ConfirmForm, LoginForm, LogoutForm
from app.services import auth as auth_service

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The one exception to web.form_failure: a refused sign-in (401) or a lock (429, with Retry-After)
    is answered on the sign-in form itself, because that form is how the user tries again."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    next_url = safe_next(request.args.get("next"))
    if request.method in ("GET", "HEAD"):
        return render_template("auth/login.html", form=form, next_url=next_url)
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form, next_url=next_url), 422
    try:
        result = auth_service.login(
            get_db(),
            form.email.data,
            form.password.data,
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
            now=clock.now(),
            settings=current_app.config,
        )
    except AuthenticationFailed as exc:
        return render_template("auth/login.html", form=form, next_url=next_url, login_error=exc.message), 401
    except TooManyAttempts as exc:
        response = current_app.make_response(
            (render_template("auth/login.html", form=form, next_url=next_url, login_error=exc.message), 429)
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    start_session(result.user)
    if result.user.second_factor_done:  # else the second step welcomes them (blueprints/second_factor.py)
        flash(f"Welcome back, {result.user.first_name}.", "success")
    return redirect(next_url or url_for("dashboard.index"))


@bp.route("/confirm", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
def confirm():
    """Confirm the password (and the code, when a second factor is enrolled) for REAUTH_MINUTES; then
    back to ``next`` (app.core.reauth sends people here). A wrong password counts toward the account
    lock exactly like a failed sign-in; like sign-in, a refusal is answered on this form itself."""
    form = ConfirmForm()
    next_url = safe_next(request.args.get("next"))
    enrolled = current_user.second_factor_enrolled
    form.code.flags.required = enrolled  # the required mark; reauthenticate names a missing code

    def render(status: int = 200, error: str | None = None):
        return render_template("auth/confirm.html", form=form, next_url=next_url, enrolled=enrolled,
                               confirm_error=error), status

    if request.method in ("GET", "HEAD"):
        return render()
    if not form.validate_on_submit():
        return render(422)
    try:
        auth_service.reauthenticate(get_db(), current_user._get_current_object(), form.password.data,
                                    form.code.data if enrolled else None, now=clock.now(),
                                    settings=current_app.config, ip=request.remote_addr)
    except AuthenticationFailed as exc:
        form.password.errors = [exc.message]  # on the field itself (aria-invalid, described by it)
        return render(401)
    except TooManyAttempts as exc:
        response = current_app.make_response(render(429, exc.message))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AppError as exc:
        return render(form_failure(form, exc))
    flash(f"Thank you. You can make changes for the next {current_app.config['REAUTH_MINUTES']} minutes.",
          "success")
    return see_other(next_url or url_for("dashboard.index"))


@bp.post("/logout")
@roles_required(*ANY_ROLE)
def logout():
    LogoutForm()  # CSRF is checked globally; the form documents the intent
    end_session()
    flash("You have been signed out.", "success")
    return redirect(url_for("auth.login"))
