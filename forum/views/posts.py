"""Single posts: the JSON API for creating and editing, withdrawal, likes, edit history."""
from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions, ratelimits, serializers
from ..errors import NotFound, PermissionDenied, ServiceError, ValidationFailed, require
from ..extensions import db
from ..markup import cook
from ..models import PostLike, PostRevision
from ..paragraphs import word_diff
from ..services import posts as post_service
from ..services import review
from ..texts import as_text
from ..web import sign_in_first
from . import params
from .moderation import hidden_topic

bp = Blueprint("posts", __name__)

LIKE = 2  # Discourse's post_action_type_id for a like


def _post_limit():
    from flask import current_app
    return current_app.config["RATELIMIT_POST"]


def _liked(post):
    return current_user.is_authenticated and db.session.get(
        PostLike, (post.id, current_user.id)) is not None


@bp.route("/posts/<int:post_id>.json")
def show(post_id):
    post = post_service.get_post(post_id)
    if not permissions.can_see_topic(current_user, post.topic):
        raise NotFound("That post does not exist.")
    topic = post.topic
    if topic.hidden_at is not None and not permissions.sees_hidden(current_user, topic.user_id):
        return hidden_topic(topic, "json")  # as /t/{id}.json answers: the notice, no words
    return jsonify(serializers.post(post, current_user, _liked(post), include_raw=True))


@bp.route("/posts.json", methods=["POST"])
@ratelimits.posts
@ratelimits.topics_via_posts_json
def create():
    data = params()
    if not current_user.is_authenticated:
        raise PermissionDenied(permissions.SIGN_IN)
    if data.get("topic_id") not in (None, ""):
        post = post_service.create_post(current_user, data.get("topic_id"), data.get("raw"),
                                        data.get("reply_to_post_number"))
    else:
        post = post_service.create_topic(current_user, data.get("category"), data.get("title"),
                                         data.get("raw"))
    return jsonify(serializers.post(post, current_user, include_raw=True)), 200


@bp.route("/posts/<int:post_id>.json", methods=["PUT"])
def update(post_id):
    data = params()
    body = data.get("post") if isinstance(data.get("post"), dict) else data
    post = post_service.edit_post(current_user, post_id, body.get("raw"),
                                  body.get("edit_reason", ""), body.get("title"))
    return jsonify({"post": serializers.post(post, current_user, _liked(post),
                                             include_raw=True)})


@bp.route("/posts/<int:post_id>.json", methods=["DELETE"])
def delete(post_id):
    post = post_service.delete_post(current_user, post_id)
    return jsonify(serializers.post(post, current_user))


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
def edit(post_id):
    post = post_service.get_post(post_id)
    if not current_user.is_authenticated:
        return sign_in_first(request.path)
    # The form quotes the post: only to those who may read it, and who may edit it (a refused
    # edit keeps what its author sent).
    require(permissions.can_read_words(current_user, "post", post))
    verdict = permissions.can_edit_post(current_user, post)
    if request.method == "GET":
        require(verdict)
    data = params()
    form = {"raw": data.get("raw", post.raw), "reason": data.get("reason", ""),
            "title": data.get("title", post.topic.title)}
    errors, status, preview = {}, 200, None
    if request.method == "POST" and "preview" in data:
        preview = cook(as_text(form["raw"]))
    elif request.method == "POST":
        try:
            post = post_service.edit_post(current_user, post.id, form["raw"], form["reason"],
                                          form["title"] if post.is_first else None)
            return redirect(_permalink(post))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
    return render_template("edit_post.html", post=post, form=form, errors=errors,
                           verdict=verdict, preview=preview), status


def _permalink(post):
    return url_for("topics.show_post", slug=post.topic.slug, topic_id=post.topic_id,
                   post_number=post.post_number) + f"#post-{post.post_number}"


@bp.route("/posts/<int:post_id>/delete", methods=["POST"])
def withdraw(post_id):
    post = post_service.delete_post(current_user, post_id)
    return redirect(_permalink(post))


@bp.route("/posts/<int:post_id>/like", methods=["POST"])
@ratelimits.votes
def like(post_id):
    post = _toggle_like(post_id, params().get("undo") in ("1", "true", True))
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"id": post.id, "like_count": post.like_count, "liked": _liked(post)})
    return redirect(_permalink(post))


def _toggle_like(post_id, undo):
    if undo:
        return post_service.unlike_post(current_user, post_id)
    return post_service.like_post(current_user, post_id)


@bp.route("/post_actions.json", methods=["POST"])
@ratelimits.votes_via_post_actions
@ratelimits.flags_via_post_actions
def create_action():
    """Discourse's post actions: 2 likes; 3, 4, 8 and 7 (with a message) flag the post, or
    its topic when `flag_topic` is true."""
    data = params()
    action = str(data.get("post_action_type_id"))
    if action == str(LIKE):
        post = post_service.like_post(current_user, data.get("id"))
        return jsonify(serializers.post(post, current_user, True))
    flag_type = review.flag_type_for(action)
    if flag_type is None:
        raise ValidationFailed("Unknown post_action_type_id.")
    post = post_service.get_post(data.get("id"))
    if data.get("flag_topic") in (True, "true", "1", 1):
        review.flag(current_user, "topic", post.topic_id, flag_type, data.get("message"))
    else:
        review.flag(current_user, "post", post.id, flag_type, data.get("message"))
    return jsonify(serializers.post(post, current_user, _liked(post)))


@bp.route("/post_actions/<int:post_id>.json", methods=["DELETE"])
def delete_action(post_id):
    data = params()
    if str(data.get("post_action_type_id", request.args.get("post_action_type_id"))) != str(LIKE):
        raise ValidationFailed("Unknown post_action_type_id.")
    post = post_service.unlike_post(current_user, post_id)
    return jsonify(serializers.post(post, current_user, False))


@bp.route("/posts/<int:post_id>/revisions", defaults={"fmt": "html"})
@bp.route("/posts/<int:post_id>/revisions.json", defaults={"fmt": "json"}, endpoint="revisions_json")
def revisions(post_id, fmt):
    post = post_service.get_post(post_id)
    require(permissions.can_read_words(current_user, "post", post))
    revs = db.session.scalars(db.select(PostRevision).where(PostRevision.post_id == post.id)
                              .order_by(PostRevision.number.desc())).all()
    if fmt == "json":
        return jsonify({"post_id": post.id, "revisions": [
            {"number": r.number, "username": r.user.username, "reason": r.reason,
             "created_at": serializers.iso(r.created_at), "raw_before": r.raw_before,
             "raw_after": r.raw_after, "title_before": r.title_before,
             "title_after": r.title_after} for r in revs]})
    return render_template("revisions.html", post=post, revisions=revs, word_diff=word_diff)
