"""The signed-in user's own account: change password."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, logout_user
from flask import session

from app.core import clock
from app.core.auth import ANY_ROLE, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.web import form_failure
from app.forms.auth import ChangePasswordForm
from app.services import auth as auth_service

bp = Blueprint("account", __name__, url_prefix="/account")


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
