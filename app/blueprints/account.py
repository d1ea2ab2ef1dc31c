"""The signed-in user's own account: the profile page (name, e-mail and how we may contact them about
reminders and broadcasts: services.contact), change e-mail and change password (both after a fresh
re-authentication: app.core.reauth), and the list of their signed-in sessions (services.account_security)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from flask import session

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.reauth import kept_values, reauth_required
from app.core.web import action_refused, form_failure, see_other
from app.dao.user import UserDAO
from app.forms.accounts import EmailChangeForm, SessionsForm
from app.forms.auth import ChangePasswordForm
from app.forms.reminders import ContactPreferencesForm
from app.services import account_security, auth as auth_service, contact

bp = Blueprint("account", __name__, url_prefix="/account")


def _render_profile(form: ContactPreferencesForm, status: int = 200):
    user = UserDAO(get_db()).find_by_id(current_user.id) or {}
    return render_template("account/profile.html", form=form, user=user), status


@bp.route("/", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
def profile():
    """GET: the account and its contact preferences; POST: save them (303 back with a flash)."""
    db = get_db()
    if request.method in ("GET", "HEAD"):
        form = ContactPreferencesForm(formdata=None, data=contact.preferences(db, current_user.id))
        return _render_profile(form)
    form = ContactPreferencesForm()
    if not form.validate():
        return _render_profile(form, 422)
    try:
        contact.set_preferences(db, current_actor(), email=bool(form.email.data), sms=bool(form.sms.data),
                                in_app=bool(form.in_app.data), now=clock.now())
    except AppError as exc:
        return _render_profile(form, form_failure(form, exc))
    flash("Your contact preferences were saved.", "success")
    return see_other(url_for(".profile"))


def _render_email(form: EmailChangeForm, status: int = 200):
    return render_template("account/email.html", form=form), status


@bp.route("/email", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
@reauth_required(keep=("new_email",))
def email():
    """GET: the form (filled in again after a re-authentication); POST: move the sign-in address, then
    tell the old address (after the commit, like the activation mail)."""
    if request.method in ("GET", "HEAD"):
        return _render_email(EmailChangeForm(formdata=None, data=kept_values("new_email")))
    form = EmailChangeForm()
    if not form.validate():
        return _render_email(form, 422)
    try:
        change = account_security.change_email(get_db(), current_actor(), form.new_email.data, now=clock.now())
    except AppError as exc:
        return _render_email(form, form_failure(form, exc))
    delivery = account_security.send_email_changed_notice(current_app.config, change)
    told = f" A notice went to {change.old_email}." if delivery.sent else ""
    flash(f"Your e-mail address is now {change.new_email}: sign in with it from now on.{told}", "success")
    return see_other(url_for(".profile"))


def _render_sessions(status: int = 200, **context):
    sessions = account_security.active_sessions(get_db(), current_actor(), current_user.session_id,
                                                now=clock.now(), settings=current_app.config)
    return render_template("account/sessions.html", sessions=sessions, form=SessionsForm(), **context), status


@bp.get("/sessions")
@roles_required(*ANY_ROLE)
def sessions():
    return _render_sessions()


def _sessions_page(**_) -> str:
    return url_for(".sessions")


# Signing sessions out asks for the password again (ASVS 3.3.4): a stolen session cannot sign its owner out.
@bp.post("/sessions/others")
@roles_required(*ANY_ROLE)
@reauth_required(form_page=_sessions_page)
def end_other_sessions():
    SessionsForm()  # CSRF is checked globally; the form documents the intent
    ended = account_security.end_other_sessions(get_db(), current_actor(), current_user.session_id, now=clock.now())
    flash("You are signed out everywhere else." if ended else "You were not signed in anywhere else.", "success")
    return see_other(url_for(".sessions"))


@bp.post("/sessions/<int:session_id>/end")
@roles_required(*ANY_ROLE)
@reauth_required(form_page=_sessions_page)
def end_session(session_id: int):
    SessionsForm()
    try:
        account_security.end_session(get_db(), current_actor(), session_id, current_user.session_id, now=clock.now())
    except AppError as exc:
        context, status = action_refused(exc, url_for(".sessions"))
        return _render_sessions(status, **context)
    flash("That session is signed out.", "success")
    return see_other(url_for(".sessions"))


@bp.route("/password", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
@reauth_required
def password():
    form = ChangePasswordForm()
    if not form.is_submitted():
        return render_template("account/password.html", form=form)
    if not form.validate():
        return render_template("account/password.html", form=form), 422
    try:
        auth_service.change_password(
            get_db(),
            current_user.id,
            form.current_password.data,
            form.new_password.data,
            now=clock.now(),
            settings=current_app.config,
            ip=request.remote_addr,
        )
    except AppError as exc:
        status = form_failure(form, exc)
        return render_template("account/password.html", form=form), status
    account_security.send_security_notice(get_db(), current_user.id, "password", current_app.config)
    logout_user()
    session.clear()
    flash("Password changed. Every session was signed out; please sign in with the new password.", "success")
    return redirect(url_for("auth.login"))
