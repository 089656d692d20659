"""Moderation pages and their JSON: flags, the review queue, hiding, topic controls.

Members and the public moderation log are in views/moderation_members.py.
"""
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions, queries, ratelimits, serializers
from ..errors import PermissionDenied, ServiceError, ValidationFailed, require
from ..extensions import db
from ..models import Post
from ..models.moderation import FLAG_LABELS, FLAG_TYPES
from ..services import moderation, review
from ..services.posts import get_post, get_topic
from ..web import kept_text
from . import page_arg, params

bp = Blueprint("moderation", __name__)

# The words for each kind of target in URLs: /posts/1, /t/1, /amendments/1.
AREAS = {"posts": "post", "t": "topic", "amendments": "amendment"}


def _signed_in_or_login():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def _target(kind, target_id):
    """Load by URL kind; an amendment URL also serves clarifications."""
    if kind == "amendment":
        from ..services.amendments import get_item

        item = get_item(target_id)
        return item.kind, item
    return kind, moderation.load_target(kind, target_id)


def target_url(kind, target):
    if kind == "post":
        return url_for("moderation.post_link", post_id=target.id)
    if kind == "topic":
        return url_for("topics.show", slug=target.slug, topic_id=target.id)
    return url_for("amendments.show", item_id=target.id)


@bp.route("/p/<int:post_id>")
def post_link(post_id):
    """A post by its id, as Discourse's /p/{id}: to its place in its topic."""
    post = get_post(post_id)
    return redirect(url_for("topics.show_post", slug=post.topic.slug, topic_id=post.topic_id,
                            post_number=post.post_number) + f"#post-{post.post_number}")


# -- flags ---------------------------------------------------------------------------------------

@bp.route("/posts/<int:target_id>/flag", methods=["GET", "POST"], defaults={"area": "posts"})
@bp.route("/t/<int:target_id>/flag", methods=["GET", "POST"], defaults={"area": "t"})
@bp.route("/amendments/<int:target_id>/flag", methods=["GET", "POST"],
          defaults={"area": "amendments"})
@ratelimits.flags
def flag(area, target_id):
    """The no-JavaScript flag form: choose why, optionally say more, send."""
    kind, target = _target(AREAS[area], target_id)
    if (login := _signed_in_or_login()) is not None:
        return login
    require(permissions.can_read_words(current_user, kind, target))  # the form quotes it
    data = params()
    form = {"flag_type": data.get("flag_type", ""), "message": data.get("message", "")}
    errors, status, done = {}, 200, False
    verdict = review.can_flag(current_user, kind, target)
    if request.method == "POST":
        try:
            review.flag(current_user, kind, target.id, form["flag_type"], form["message"])
            done = True
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
    elif not verdict:
        status = 403
    return render_template("moderation/flag.html", kind=kind, target=target, form=form,
                           errors=errors, verdict=verdict, done=done, labels=FLAG_LABELS,
                           back=target_url(kind, target)), status


@bp.route("/amendments/<int:item_id>/flags.json", methods=["POST"])
@ratelimits.flags
def flag_item_json(item_id):
    """Flag an amendment or clarification: `flag_type` by name, or Discourse's
    `post_action_type_id` (3, 4, 8, 7)."""
    from ..services.amendments import get_item

    data = params()
    item = get_item(item_id)
    flag_type = data.get("flag_type") or review.flag_type_for(data.get("post_action_type_id"))
    created = review.flag(current_user, item.kind, item.id, flag_type, data.get("message"))
    return jsonify({"flag": _flag_json(created)}), 201


def _flag_json(item):
    return {"id": item.id, "target_kind": item.target_kind, "target_id": item.target_id,
            "flag_type": item.flag_type, "post_action_type_id": FLAG_TYPES[item.flag_type],
            "review_id": item.review_item_id, "created_at": serializers.iso(item.created_at)}


# -- the review queue -----------------------------------------------------------------------------

def _queue_page():
    status = request.args.get("status", "pending")
    return review.queue(current_user, status=status, page=page_arg()), status


@bp.route("/review")
def review_queue():
    if (login := _signed_in_or_login()) is not None:
        return login
    page, status = _queue_page()
    return render_template("moderation/review.html", page=page, status=page_status(status),
                           labels=FLAG_LABELS, target_url=target_url)


def page_status(status):
    return status if status in ("pending", "agreed", "disagreed", "ignored") else "pending"


@bp.route("/review.json")
def review_queue_json():
    page, status = _queue_page()
    return jsonify({"reviewables": [_review_json(r, target, flags)
                                    for r, target, flags in page.items],
                    "page": page.page, "has_next": page.has_next})


def _review_json(item, target, flags):
    data = {"id": item.id, "status": item.status, "target_kind": item.target_kind,
            "target_id": item.target_id, "flag_count": item.flag_count,
            "created_at": serializers.iso(item.created_at),
            "hidden_by_flags_at": serializers.iso(item.hidden_by_flags_at),
            "reviewed_at": serializers.iso(item.reviewed_at),
            "reviewed_by": item.reviewed_by.username if item.reviewed_by else None,
            "review_reason": item.review_reason,
            "target_user": serializers.basic_user(item.target_user),
            "target_url": target_url(item.target_kind, target) if target is not None else None,
            "target_hidden": bool(target is not None and target.hidden_at is not None),
            "flags": [{"id": f.id, "flag_type": f.flag_type,
                       "post_action_type_id": FLAG_TYPES[f.flag_type], "message": f.message,
                       "username": f.user.username, "created_at": serializers.iso(f.created_at)}
                      for f in flags]}
    if target is not None:
        data["target"] = _target_text(item.target_kind, target)
    return data


def _target_text(kind, target):
    """What the moderator judges: the words as they stand now."""
    if kind == "post":
        return {"raw": target.raw, "cooked": target.cooked}
    if kind == "topic":
        return {"title": target.title}
    return {"text": target.text, "rationale": target.rationale}


REVIEW_ACTIONS = {"agree": review.agree, "disagree": review.disagree, "ignore": review.ignore}


def _act(review_id, action, data):
    if action == "agree":
        return review.agree(current_user, review_id, data.get("reason", ""),
                            data.get("silence_until") or None, data.get("silence_reason", ""))
    return REVIEW_ACTIONS[action](current_user, review_id, data.get("reason", ""))


@bp.route("/review/<int:review_id>/agree.json", methods=["POST"], defaults={"action": "agree"})
@bp.route("/review/<int:review_id>/disagree.json", methods=["POST"],
          defaults={"action": "disagree"})
@bp.route("/review/<int:review_id>/ignore.json", methods=["POST"], defaults={"action": "ignore"})
def review_act_json(review_id, action):
    item = _act(review_id, action, params())
    target = review.targets_for([item]).get((item.target_kind, item.target_id))
    return jsonify({"reviewable": _review_json(item, target, item.flags)})


@bp.route("/review/<int:review_id>/agree", methods=["POST"], defaults={"action": "agree"})
@bp.route("/review/<int:review_id>/disagree", methods=["POST"], defaults={"action": "disagree"})
@bp.route("/review/<int:review_id>/ignore", methods=["POST"], defaults={"action": "ignore"})
def review_act(review_id, action):
    if (login := _signed_in_or_login()) is not None:
        return login
    item = _act(review_id, action, params())
    flash(REVIEW_DONE[action].format(kind=item.target_kind))
    return redirect(url_for("moderation.review_queue") + f"#review-{review_id}")


# What each review act did, said above the queue.
REVIEW_DONE = {"agree": "Agreed with the flags: the {kind} stays off others' screens, and its "
                         "author is told why.",
               "disagree": "Disagreed with the flags: they are cleared, and the {kind} shows as "
                           "it was.",
               "ignore": "Flags set aside: the {kind} is as it was."}


# -- hiding --------------------------------------------------------------------------------------

def _hide_or_unhide(kind, target, action, reason):
    if action == "hide":
        return moderation.hide(current_user, kind, target.id, reason)
    return moderation.unhide(current_user, kind, target.id, reason)


@bp.route("/posts/<int:target_id>/hide", methods=["GET", "POST"],
          defaults={"area": "posts", "action": "hide"})
@bp.route("/posts/<int:target_id>/unhide", methods=["GET", "POST"],
          defaults={"area": "posts", "action": "unhide"})
@bp.route("/t/<int:target_id>/hide", methods=["GET", "POST"],
          defaults={"area": "t", "action": "hide"})
@bp.route("/t/<int:target_id>/unhide", methods=["GET", "POST"],
          defaults={"area": "t", "action": "unhide"})
@bp.route("/amendments/<int:target_id>/hide", methods=["GET", "POST"],
          defaults={"area": "amendments", "action": "hide"})
@bp.route("/amendments/<int:target_id>/unhide", methods=["GET", "POST"],
          defaults={"area": "amendments", "action": "unhide"})
def hide(area, target_id, action):
    """Hide with a reason readers will see, or show again exactly as it was."""
    kind, target = _target(AREAS[area], target_id)
    if (login := _signed_in_or_login()) is not None:
        return login
    verdict = permissions.can_moderate(current_user)
    require(verdict)  # the form quotes what it hides, hidden or not
    form = {"reason": params().get("reason", "")}
    errors, status = {}, 200
    if request.method == "POST":
        try:
            _hide_or_unhide(kind, target, action, form["reason"])
            flash(f"Hidden: readers see your reason instead of this {kind}." if action == "hide"
                  else f"Shown again: this {kind} is back exactly as it was.")
            return redirect(target_url(kind, target))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
    return render_template("moderation/hide.html", kind=kind, target=target, action=action,
                           form=form, errors=errors, verdict=verdict,
                           back=target_url(kind, target)), status


@bp.route("/posts/<int:post_id>/hidden.json", methods=["PUT"], defaults={"area": "posts"})
@bp.route("/t/<int:topic_id>/hidden.json", methods=["PUT"], defaults={"area": "t"})
@bp.route("/amendments/<int:item_id>/hidden.json", methods=["PUT"],
          defaults={"area": "amendments"})
def hide_json(area, post_id=None, topic_id=None, item_id=None):
    """`hidden`: true hides (with a `reason`), false shows it again."""
    kind, target = _target(AREAS[area], post_id or topic_id or item_id)
    data = params()
    hidden = data.get("hidden")
    if hidden not in (True, False, "true", "false"):
        raise ValidationFailed(field_errors={"hidden": ["Send hidden: true or false."]})
    action = "hide" if hidden in (True, "true") else "unhide"
    target = _hide_or_unhide(kind, target, action, data.get("reason", ""))
    return jsonify({"target_kind": kind, "target_id": target.id,
                    "hidden": target.hidden_at is not None,
                    "hidden_at": serializers.iso(target.hidden_at),
                    "hidden_reason": target.hidden_reason})


def hidden_topic(topic, fmt):
    """What a reader gets instead of a hidden topic: the notice, with the reason."""
    reason = topic.hidden_reason or "it was flagged by members of the community"
    if fmt == "json":
        return jsonify({"errors": [f"This topic is hidden: {reason}."],
                        "extras": {"hidden": True, "hidden_reason": reason}}), 403
    # A reply sent after the topic was hidden: its words are shown back to copy.
    return render_template("moderation/hidden_topic.html", topic=topic, reason=reason,
                           kept=kept_text()), 403


# -- topics --------------------------------------------------------------------------------------

TOPIC_STATUS = {  # status -> (when enabled, when disabled)
    "closed": (moderation.lock_topic, moderation.unlock_topic),
    "visible": (moderation.list_topic, moderation.unlist_topic),
    "pinned": (lambda actor, tid, reason: moderation.pin_topic(actor, tid, False, reason),
               moderation.unpin_topic),
    "pinned_globally": (lambda actor, tid, reason: moderation.pin_topic(actor, tid, True, reason),
                        moderation.unpin_topic),
}


def _enabled(value):
    if value in (True, "true", "1", 1):
        return True
    if value in (False, "false", "0", 0):
        return False
    raise ValidationFailed(field_errors={"enabled": ["Send enabled: true or false."]})


def set_topic_status(topic_id, data):
    status = data.get("status")
    if not isinstance(status, str) or status not in TOPIC_STATUS:
        raise ValidationFailed(field_errors={"status": [
            "Choose closed, pinned, pinned_globally or visible."]})
    on, off = TOPIC_STATUS[status]
    change = on if _enabled(data.get("enabled")) else off
    return change(current_user, topic_id, data.get("reason", ""))


@bp.route("/t/<int:topic_id>/status.json", methods=["PUT"])
def topic_status_json(topic_id):
    """Discourse's topic status: `status` closed, pinned, pinned_globally or visible, and
    `enabled` true or false."""
    topic = set_topic_status(topic_id, params())
    return jsonify({"success": "OK", "topic_status_update": None,
                    "topic": _topic_state(topic)})


def _topic_state(topic):
    return {"id": topic.id, "category_id": topic.category_id, "closed": topic.closed,
            "visible": topic.visible, "pinned": topic.pinned_at is not None,
            "pinned_globally": topic.pinned_globally, "hidden": topic.hidden_at is not None}


@bp.route("/t/<int:topic_id>.json", methods=["PUT"])
def update_topic_json(topic_id):
    """Discourse's topic update; moderators move a topic with `category_id`."""
    data = params()
    if data.get("category_id") in (None, ""):
        raise ValidationFailed(field_errors={"category_id": ["Send the category_id to move to."]})
    topic = moderation.move_topic(current_user, topic_id, data.get("category_id"),
                                  data.get("reason", ""))
    return jsonify({"basic_topic": {"id": topic.id, "title": topic.title, "slug": topic.slug,
                                    "category_id": topic.category_id}})


@bp.route("/t/<int:topic_id>/move-posts.json", methods=["POST"])
def split_json(topic_id):
    """Discourse's move-posts: `post_ids` into a new topic called `title`."""
    data = params()
    post_ids = data.get("post_ids") or data.get("post_ids[]")
    topic = moderation.split_topic(current_user, topic_id, post_ids, data.get("title"),
                                   data.get("category_id"), data.get("reason", ""))
    return jsonify({"success": "OK", "url": url_for("topics.show", slug=topic.slug,
                                                    topic_id=topic.id),
                    "topic": {"id": topic.id, "title": topic.title, "slug": topic.slug,
                              "category_id": topic.category_id,
                              "posts_count": topic.posts_count}})


@bp.route("/t/<int:topic_id>/moderate", methods=["GET", "POST"])
def topic_controls(topic_id):
    """A topic's moderation page: status, moving, splitting, hiding, all as plain forms."""
    topic = get_topic(topic_id)
    if (login := _signed_in_or_login()) is not None:
        return login
    verdict = permissions.can_moderate_topic(current_user, topic)
    if not verdict:
        raise PermissionDenied(verdict.reason)
    data = params()
    errors, status, form = {}, 200, {}
    if request.method == "POST":
        form = data
        try:
            topic = _topic_form_action(topic, data)
            return redirect(url_for("topics.show", slug=topic.slug, topic_id=topic.id))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
            db.session.rollback()
    posts = db.session.scalars(db.select(Post).where(
        Post.topic_id == topic.id, Post.post_number > 1, Post.deleted_at.is_(None))
        .order_by(Post.post_number).limit(500)).all()
    chosen = request.form.getlist("post_ids") if request.method == "POST" else []
    return render_template("moderation/topic.html", topic=topic, posts=posts, form=form,
                           chosen=chosen, errors=errors,
                           categories=queries.categories()), status


def _topic_form_action(topic, data):
    action = data.get("action")
    if action == "status":
        return set_topic_status(topic.id, data)
    if action == "move":
        return moderation.move_topic(current_user, topic.id, data.get("category_id"),
                                     data.get("reason", ""))
    if action == "split":
        return moderation.split_topic(current_user, topic.id, request.form.getlist("post_ids"),
                                      data.get("title"), data.get("category_id"),
                                      data.get("reason", ""))
    raise ValidationFailed("Choose what to do.")
