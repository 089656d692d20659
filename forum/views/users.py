"""Member profiles, letter avatars, and a member's own settings."""
import hashlib

from flask import Blueprint, current_app, flash, jsonify, make_response, redirect, \
    render_template, request, url_for
from flask_login import current_user
from flask_login.config import COOKIE_NAME
from markupsafe import escape

from .. import permissions, queries, serializers
from ..errors import ServiceError
from ..extensions import db
from ..models import Group, UserSession
from ..services import accounts, sessions
from . import params
from .auth import sign_in

bp = Blueprint("users", __name__)

AVATAR_COLOURS = ("#0f766e", "#1d4ed8", "#7c3aed", "#be185d", "#b45309", "#15803d",
                  "#0369a1", "#9333ea", "#c2410c", "#4d7c0f", "#a21caf", "#334155")


@bp.route("/u/<username>", defaults={"fmt": "html"})
@bp.route("/u/<username>.json", defaults={"fmt": "json"}, endpoint="profile_json")
def profile(username, fmt):
    user = accounts.get_user(username)
    posts = queries.recent_posts(user)
    if fmt == "json":
        mine = bool(permissions.can_manage_sessions(current_user, user))
        return jsonify(serializers.user_profile(
            user, current_user, posts, devices=sessions.list_sessions(user) if mine else None,
            this_device=_this_device()))
    return render_template("users/profile.html", user=user, posts=posts)


def _this_device():
    return UserSession.hash(getattr(current_user, "session_secret", None) or "")


@bp.route("/u/<username>/preferences/revoke-auth-token.json", methods=["POST"])
def revoke_auth_token(username):
    """Sign out of one device (`token_id`, an id from user_auth_tokens), or of every device but
    this one (no token_id): Discourse's call for the same thing."""
    user = accounts.get_user(username)
    token_id = params().get("token_id")
    if token_id in (None, ""):
        count = sessions.end_other_sessions(current_user, user,
                                            getattr(current_user, "session_secret", None))
    else:
        sessions.end_device(current_user, user, token_id)
        count = 1
    return jsonify({"success": "OK", "signed_out": count})


@bp.route("/letter_avatar/<username>.svg")
def avatar(username):
    """A letter avatar drawn here, so no request leaves the site."""
    name = username.lower()
    colour = AVATAR_COLOURS[int(hashlib.md5(name.encode()).hexdigest(), 16) % 12]
    letter = escape(name[:1].upper() or "?")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">'
           f'<rect width="40" height="40" rx="20" fill="{colour}"/>'
           f'<text x="20" y="26" font-family="sans-serif" font-size="18" fill="#fff" '
           f'text-anchor="middle">{letter}</text></svg>')
    response = make_response(svg)
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/my/settings", methods=["GET", "POST"])
def settings():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    data = params()
    errors, status = {}, 200
    form = {"name": data.get("name", current_user.name),
            "bio": data.get("bio", current_user.bio_raw),
            "group": data.get("group", str(current_user.group_id or "")),
            "email": data.get("email", current_user.email)}
    action = data.get("action", "profile")
    if request.method == "POST":
        try:
            if action == "password":
                user = accounts.change_password(current_user, data.get("current_password"),
                                                data.get("password"))
                # Every device is signed out; this one signs in again, with the new session
                # version. A remember cookie is reissued too, or it would end this session later.
                cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
                sign_in(user, remember=cookie in request.cookies)
                flash("Your password is changed. Other sessions have been signed out.")
            elif action == "devices":
                count = sessions.end_other_sessions(current_user, current_user,
                                                    current_user.session_secret)
                flash("You are signed out of every other device." if count else
                      "You were not signed in on any other device.")
            elif action == "device":
                sessions.end_device(current_user, current_user, data.get("token_id"))
                flash("You are signed out of that device.")
            elif action == "email":
                accounts.change_email(current_user, data.get("email_password"), form["email"])
                flash("Your email address is changed: follow the link we sent to confirm it.")
            else:
                accounts.update_profile(current_user, current_user, form["name"], form["bio"],
                                        form["group"] or None)
                flash("Your profile is saved.")
            return redirect(url_for("users.settings"))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
            db.session.rollback()
    groups = db.session.scalars(db.select(Group).order_by(Group.nation_code, Group.name)).all()
    return render_template("users/settings.html", form=form, errors=errors, action=action,
                           groups=groups, devices=sessions.list_sessions(current_user),
                           this_device=_this_device()), status
