"""Sign in and sign out."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import clock
from app.core.auth import ANY_ROLE, end_session, public, roles_required, safe_next, start_session
from app.core.errors import AuthenticationFailed, TooManyAttempts
from app.core.flask_db import get_db
from app.forms.auth import LoginForm, LogoutForm
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
    if request.method == "GET":
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
    flash(f"Welcome back, {result.user.first_name}.", "success")
    return redirect(next_url or url_for("dashboard.index"))


@bp.post("/logout")
@roles_required(*ANY_ROLE)
def logout():
    LogoutForm()  # CSRF is checked globally; the form documents the intent
    end_session()
    flash("You have been signed out.", "success")
    return redirect(url_for("auth.login"))
