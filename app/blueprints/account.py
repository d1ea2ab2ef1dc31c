"""The signed-in user's own account: the profile page (name, e-mail and how we may contact them about
reminders and broadcasts: services.contact) and change password."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from flask import session

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.web import form_failure, see_other
from app.dao.user import UserDAO
from app.forms.auth import ChangePasswordForm
from app.forms.reminders import ContactPreferencesForm
from app.services import auth as auth_service, contact

bp = Blueprint("account", __name__, url_prefix="/account")


def _render_profile(form: ContactPreferencesForm, status: int = 200):
    user = UserDAO(get_db()).find_by_id(current_user.id) or {}
    return render_template("account/profile.html", form=form, user=user), status


@bp.route("/", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
def profile():
    """GET: the account and its contact preferences; POST: save them (303 back with a flash)."""
    db = get_db()
    if request.method == "GET":
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


@bp.route("/password", methods=["GET", "POST"])
@roles_required(*ANY_ROLE)
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
        )
    except AppError as exc:
        status = form_failure(form, exc)
        return render_template("account/password.html", form=form), status
    logout_user()
    session.clear()
    flash("Password changed. Every session was signed out; please sign in with the new password.", "success")
    return redirect(url_for("auth.login"))
