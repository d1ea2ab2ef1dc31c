"""Public: set the first password through a single-use activation link."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from app.core import clock
from app.core.auth import public
from app.core.errors import ValidationFailed
from app.core.flask_db import get_db
from app.forms.accounts import ActivateForm
from app.services import accounts

bp = Blueprint("activation", __name__, url_prefix="/auth/activate")


@bp.route("/<token>", methods=["GET", "POST"])
@public
def activate(token: str):
    target = accounts.activation_target(get_db(), token, clock.now())  # NotFound -> 404 page
    form = ActivateForm()
    if not form.is_submitted():
        return render_template("auth/activate.html", form=form, first_name=target["first_name"])
    if not form.validate():
        return render_template("auth/activate.html", form=form, first_name=target["first_name"]), 422
    try:
        accounts.activate(get_db(), token, form.password.data, form.confirm_password.data, clock.now(),
                          current_app.config)
    except ValidationFailed as exc:
        getattr(form, exc.field).errors.append(exc.message)
        return render_template("auth/activate.html", form=form, first_name=target["first_name"]), 422
    flash("Your password is set. Sign in with your e-mail address and new password.", "success")
    return redirect(url_for("auth.login"))
