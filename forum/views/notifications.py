"""Notifications: the list, marking read, levels per topic and process, email preferences,
and one-click unsubscribe."""
from flask import (Blueprint, abort, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_login import current_user

from .. import permissions
from ..errors import PermissionDenied, ServiceError, require
from ..extensions import db
from ..models.notifications import EMAIL_MODES, LEVELS
from ..serializers import iso
from ..services import mailing, notification_levels, notifications
from ..services.deliberation import get_process
from ..services.posts import get_topic
from . import page_arg, params

bp = Blueprint("notifications", __name__)

LEVEL_HELP = {
    "watching": "Hear of every new post (and, on a proposal, every amendment and clarification).",
    "tracking": "Hear when someone replies to you, quotes or mentions you, and, on a proposal, "
                "of new amendments and clarifications.",
    "normal": "Hear when someone replies to you, quotes or mentions you.",
    "muted": "Hear nothing from here.",
}


def _signed_in():
    if not current_user.is_authenticated:
        raise PermissionDenied(permissions.SIGN_IN)


def _item(n):
    return {"id": n.id, "kind": n.kind, "text": notifications.describe(n),
            "url": n.data.get("url"), "read": n.read_at is not None,
            "actor": n.data.get("actor") or None, "excerpt": n.shown_data.get("excerpt"),
            "data": n.shown_data, "topic_id": n.topic_id, "post_id": n.post_id,
            "proposal_id": n.proposal_id, "amendment_id": n.amendment_id,
            "created_at": iso(n.created_at), "updated_at": iso(n.updated_at)}


@bp.route("/notifications", defaults={"fmt": "html"})
@bp.route("/notifications.json", defaults={"fmt": "json"}, endpoint="index_json")
def index(fmt):
    if fmt == "html" and not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    unread_only = request.args.get("filter") == "unread"
    page = page_arg()
    rows, has_next = notifications.page_for(current_user, page, unread_only)
    more = url_for(request.endpoint, page=page + 1, **({"filter": "unread"} if unread_only
                                                       else {})) if has_next else None
    if fmt == "json":
        return jsonify({"unread": current_user.unread_notification_count, "page": page,
                        "more_url": more, "notifications": [_item(n) for n in rows]})
    return render_template("notifications/index.html", rows=rows, describe=notifications.describe,
                           unread_only=unread_only, more_url=more, page=page,
                           prev_url=url_for(request.endpoint, page=page - 1) if page > 1 else None)


@bp.route("/notifications/<int:notification_id>")
def open_one(notification_id):
    """Follow a notification: it is read once opened."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    notification = notifications.get_own(current_user, notification_id)
    if notification.read_at is None:
        notifications.mark_read(current_user, notification.id)
    target = notification.data.get("url") or ""
    # Stored links are paths on this site; anything else goes to the list.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("notifications.index")
    return redirect(target)


@bp.route("/notifications/mark-read", methods=["POST"])
def mark_read():
    _signed_in()
    notification_id = params().get("id") or None
    notifications.mark_read(current_user, notification_id)
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/mark-read.json", methods=["POST", "PUT"])
def mark_read_json():
    _signed_in()
    notification_id = params().get("id")
    unread = notifications.mark_read(current_user, notification_id)
    return jsonify({"unread": unread})


# -- levels -----------------------------------------------------------------------------------------

@bp.route("/t/<int:topic_id>/notifications", methods=["GET", "POST"])
def topic_level(topic_id):
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    topic = get_topic(topic_id)
    if not permissions.can_see_topic(current_user, topic):
        abort(404)
    require(permissions.can_read_words(current_user, "topic", topic))  # the page names it
    errors, status = [], 200
    if request.method == "POST":
        try:
            notification_levels.set_topic_level(current_user, topic.id, params().get("level"))
            flash("Your notification level for this topic is saved.")
            return redirect(url_for("notifications.topic_level", topic_id=topic.id))
        except ServiceError as exc:
            errors, status = exc.errors, exc.status
            db.session.rollback()
    level, reason = notification_levels.topic_level(current_user, topic)
    return render_template("notifications/level.html", title=topic.title,
                           back=url_for("topics.show", slug=topic.slug, topic_id=topic.id),
                           level=level, reason=reason, levels=LEVELS, help=LEVEL_HELP,
                           errors=errors, what="topic"), status


@bp.route("/t/<int:topic_id>/notifications.json", methods=["POST", "PUT"])
def topic_level_json(topic_id):
    _signed_in()
    topic, level = notification_levels.set_topic_level(current_user, topic_id, params().get("level"))
    return jsonify({"topic_id": topic.id, "level": level})


@bp.route("/processes/<int:process_id>/notifications", methods=["GET", "POST"])
def process_level(process_id):
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    process = get_process(process_id)
    errors, status = [], 200
    if request.method == "POST":
        try:
            notification_levels.set_process_level(current_user, process.id, params().get("level"))
            flash("Your notification level for this process is saved.")
            return redirect(url_for("notifications.process_level", process_id=process.id))
        except ServiceError as exc:
            errors, status = exc.errors, exc.status
            db.session.rollback()
    return render_template("notifications/level.html", title=process.title,
                           back=url_for("processes.show", process_id=process.id),
                           level=notification_levels.process_level(current_user, process),
                           reason="", levels=LEVELS, help=LEVEL_HELP, errors=errors,
                           what="process"), status


@bp.route("/processes/<int:process_id>/notifications.json", methods=["POST", "PUT"])
def process_level_json(process_id):
    _signed_in()
    process, level = notification_levels.set_process_level(current_user, process_id,
                                                     params().get("level"))
    return jsonify({"process_id": process.id, "level": level})


# -- email preferences ------------------------------------------------------------------------------

@bp.route("/notifications/preferences", methods=["GET", "POST"])
def preferences():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    errors, status = {}, 200
    if request.method == "POST":
        data = params()
        try:
            mailing.set_preferences(current_user, {k: data[k] for k in notifications.KINDS
                                                   if k in data})
            flash("Your email preferences are saved.")
            return redirect(url_for("notifications.preferences"))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
            db.session.rollback()
    return render_template("notifications/preferences.html", kinds=notifications.KINDS,
                           modes=EMAIL_MODES, chosen=mailing.preferences(current_user.id),
                           errors=errors), status


@bp.route("/notifications/preferences.json", defaults={"write": False})
@bp.route("/notifications/preferences.json", methods=["PUT"], defaults={"write": True},
          endpoint="preferences_update")
def preferences_json(write):
    _signed_in()
    if write:
        data = params()
        chosen = mailing.set_preferences(current_user, data.get("email", data))
    else:
        chosen = mailing.preferences(current_user.id)
    return jsonify({"email": chosen, "kinds": {k: v.label for k, v in
                                               notifications.KINDS.items()}})


# -- unsubscribing from a mail ----------------------------------------------------------------------

@bp.route("/email/unsubscribe/<token>")
def unsubscribe(token):
    """The page a link in a mail opens: it asks first, since mail scanners follow links."""
    found = mailing.read_unsubscribe_token(token)
    if found is None:
        return render_template("error.html", status=400, errors=[
            "This unsubscribe link is not valid. Change what we send you under "
            "Notifications, Email preferences."]), 400
    user_id, scope = found
    return render_template("notifications/unsubscribe.html", token=token,
                           what=mailing.describe_scope(scope), done=False)


@bp.route("/email/unsubscribe/<token>", methods=["POST"])
def unsubscribe_post(token):
    """The confirmation, and RFC 8058's one-click POST from a mail client. The signed token is
    the proof, so it takes no CSRF token (see auth_loader.protect_from_csrf)."""
    try:
        user, what = mailing.unsubscribe(token)
    except ServiceError as exc:
        return render_template("error.html", status=400, errors=exc.errors), 400
    if request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    return render_template("notifications/unsubscribe.html", token=token, what=what, done=True)


unsubscribe_post.csrf_exempt = True
