"""Topic lists, categories, a topic's post stream, starting topics and replying."""
from flask import (Blueprint, abort, jsonify, make_response, redirect, render_template,
                   request, url_for)
from flask_login import current_user

from .. import permissions, queries, ratelimits, serializers
from ..errors import NotFound, ServiceError, ValidationFailed
from ..extensions import db
from ..ids import as_id
from ..markup import cook
from ..models import Category, Post, Topic
from ..services import posts as post_service
from ..web import sign_in_first
from . import page_arg, params
from .moderation import hidden_topic
from .fragments import topic_rows
from .post_stream import PostStream

bp = Blueprint("topics", __name__)
bp.add_app_template_global(PostStream, "post_stream")
bp.add_app_template_global(topic_rows, "topic_rows")

LIST_TITLES = {"latest": "Latest", "top": "Top", "new": "New", "unread": "Unread"}


def _list_response(list_filter, fmt, category=None):
    period = request.args.get("period", "all")
    if period not in queries.TOP_PERIODS:
        period = "all"
    page = queries.topic_list(current_user, list_filter, category=category, period=period,
                              page=page_arg(), per_page=30, posters=fmt == "json")
    if category is not None:
        endpoint, values = "topics.category", {"slug": category.slug, "category_id": category.id}
    else:
        endpoint, values = f"topics.{list_filter}", {}
    if list_filter == "top":
        values["period"] = period
    more = url_for(endpoint, page=page.page + 1, **values) if page.has_next else None
    # Offered only to those who may: in a category, by its rule of who starts topics.
    can_create = bool(permissions.can_create_topic(current_user, category)
                      if category is not None else permissions.can_participate(current_user))
    if fmt == "json":
        return jsonify(serializers.topic_list(page, more, can_create))
    return render_template("topic_list.html", page=page, list_filter=list_filter,
                           can_create=can_create,
                           category=category, period=period, more_url=more,
                           prev_url=url_for(endpoint, page=page.page - 1, **values)
                           if page.has_prev else None,
                           title=category.name if category else LIST_TITLES[list_filter])


@bp.route("/")
def home():
    return _list_response("latest", "html")


@bp.route("/latest", defaults={"fmt": "html"})
@bp.route("/latest.json", defaults={"fmt": "json"}, endpoint="latest_json")
def latest(fmt):
    return _list_response("latest", fmt)


@bp.route("/top", defaults={"fmt": "html"})
@bp.route("/top.json", defaults={"fmt": "json"}, endpoint="top_json")
def top(fmt):
    return _list_response("top", fmt)


@bp.route("/new", defaults={"fmt": "html"})
@bp.route("/new.json", defaults={"fmt": "json"}, endpoint="new_json")
def new(fmt):
    return _list_response("new", fmt)


@bp.route("/unread", defaults={"fmt": "html"})
@bp.route("/unread.json", defaults={"fmt": "json"}, endpoint="unread_json")
def unread(fmt):
    return _list_response("unread", fmt)


@bp.route("/c/<slug>/<int:category_id>", defaults={"fmt": "html"})
@bp.route("/c/<slug>/<int:category_id>.json", defaults={"fmt": "json"}, endpoint="category_json")
def category(slug, category_id, fmt):
    cat = db.session.get(Category, category_id)
    if cat is None:
        abort(404)
    if cat.slug != slug and fmt == "html":
        return redirect(url_for("topics.category", slug=cat.slug, category_id=cat.id), 301)
    return _list_response("category", fmt, category=cat)


@bp.route("/categories", defaults={"fmt": "html"})
@bp.route("/categories.json", defaults={"fmt": "json"}, endpoint="categories_json")
def categories(fmt):
    cats = queries.categories()
    if fmt == "json":
        return jsonify({"category_list": {"categories": [serializers.category(c) for c in cats]}})
    return render_template("categories.html", categories=cats)


@bp.route("/categories.css")
def categories_css():
    # Category colours are data, and the CSP forbids style attributes, so they come as a sheet.
    css = "\n".join(f".cat-{c.id}{{--cat:{c.color}}}" for c in queries.categories()
                    if _is_hex(c.color))
    response = make_response(css)
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _is_hex(value):
    return len(value) == 7 and value[0] == "#" and all(ch in "0123456789abcdefABCDEF"
                                                      for ch in value[1:])


def _thread_page(topic, page, anchor=""):
    """Proposal threads are read on their proposal's page, with the text and amendments."""
    if topic.kind == "proposal":
        from .proposals import proposal_for_topic

        proposal = proposal_for_topic(topic)
        if proposal is not None:
            args = {k: v for k, v in request.args.items() if k in ("quote", "reply_to")}
            return redirect(url_for("proposals.show", proposal_id=proposal.id, page=page,
                                    **args) + (anchor or "#discussion"))
    return None


def _unreadable(topic, fmt):
    """The answer for a reader who may not read the topic's posts, or None: 404 where they may
    not know it exists, the hidden-topic notice where it is hidden from them."""
    if not permissions.can_see_topic(current_user, topic):
        abort(404)
    if topic.hidden_at is not None and not permissions.sees_hidden(current_user, topic.user_id):
        return hidden_topic(topic, fmt)
    return None


_LOOK_UP = object()  # the reader's read state, when the caller has not read it with the topic


def _topic_page(topic, page, fmt, target_post_number=None, composer=None, status=200,
                state=_LOOK_UP):
    if (refused := _unreadable(topic, fmt)) is not None:
        return refused
    if fmt == "html" and composer is None and (elsewhere := _thread_page(
            topic, page, f"#post-{target_post_number}" if target_post_number else "")):
        return elsewhere
    per_page = 20
    last_page = max((topic.highest_post_number - 1) // per_page + 1, 1)
    if fmt == "html":
        page = min(page, last_page)  # a page past the end (JSON: no posts, so paging stops)
    if state is _LOOK_UP:
        state = queries.read_state(current_user, topic)
    posts, liked = queries.topic_posts(current_user, topic, page, per_page)
    if posts and fmt == "html" and current_user.is_authenticated:
        post_service.record_read(current_user, topic, posts[-1].post_number, known=state)
    if fmt == "json":
        return jsonify({
            "id": topic.id, "title": topic.title, "slug": topic.slug, "kind": topic.kind,
            "category_id": topic.category_id, "posts_count": topic.posts_count,
            "reply_count": topic.reply_count, "highest_post_number": topic.highest_post_number,
            "views": topic.views, "like_count": topic.like_count,
            "created_at": serializers.iso(topic.created_at),
            "last_posted_at": serializers.iso(topic.last_posted_at),
            "closed": topic.closed, "visible": topic.visible,
            "pinned": topic.pinned_at is not None, "pinned_globally": topic.pinned_globally,
            "hidden": topic.hidden_at is not None, "hidden_reason": topic.hidden_reason,
            "page": page, "per_page": per_page,
            "last_page": last_page,
            "details": {"created_by": serializers.basic_user(topic.user),
                        "can_create_post": bool(permissions.can_reply(current_user, topic))},
            "post_stream": {"posts": [serializers.post(p, current_user, p.id in liked)
                                      for p in posts],
                            "stream": queries.topic_stream(topic)},
        })
    return render_template("topic.html", topic=topic, posts=posts, liked=liked, page=page,
                           last_page=last_page, per_page=per_page, state=state,
                           target_post_number=target_post_number,
                           composer=composer or _composer_defaults(topic),
                           can_reply=permissions.can_reply(current_user, topic)), status


def _composer_defaults(topic):
    """Reply and quote links work without JavaScript: they pre-fill the composer."""
    composer = {"raw": "", "reply_to_post_number": "", "errors": {}, "preview": None}
    quote = request.args.get("quote", type=int)
    reply_to = request.args.get("reply_to", type=int)
    if quote:
        post = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id,
                                                       Post.post_number == quote))
        if post is not None and post.deleted_at is None and post.hidden_at is None:
            composer["raw"] = quote_markdown(post) + "\n\n"
            composer["reply_to_post_number"] = post.post_number
    elif reply_to:
        composer["reply_to_post_number"] = reply_to
    return composer


def quote_markdown(post):
    link = url_for("topics.show_post", slug=post.topic.slug, topic_id=post.topic_id,
                   post_number=post.post_number) + f"#post-{post.post_number}"
    lines = post.raw.strip().splitlines() or [""]
    quoted = "\n".join("> " + line if line else ">" for line in lines)
    return f"> [@{post.user.username} wrote]({link}):\n>\n{quoted}"


@bp.route("/t/<slug>/<int:topic_id>", defaults={"fmt": "html"})
@bp.route("/t/<slug>/<int:topic_id>.json", defaults={"fmt": "json"}, endpoint="show_json")
def show(slug, topic_id, fmt):
    topic, state = _topic_and_read_state(topic_id)
    if topic.slug != slug and fmt == "html":
        return redirect(url_for("topics.show", slug=topic.slug, topic_id=topic.id,
                                **request.args), 301)
    return _topic_page(topic, page_arg(), fmt, state=state)


def _topic_and_read_state(topic_id):
    topic, state = (queries.topic_and_read_state(current_user, as_id(topic_id))
                    if as_id(topic_id) else (None, None))
    if topic is None:
        raise NotFound("That topic does not exist.")
    return topic, state


@bp.route("/t/<int:topic_id>.json")
def show_by_id_json(topic_id):
    return _topic_page(post_service.get_topic(topic_id), page_arg(), "json")


MAX_POST_IDS = 100


@bp.route("/t/<int:topic_id>/posts.json")
def posts_json(topic_id):
    """Discourse's way to read a long topic: the ids from post_stream.stream, a batch at a
    time, as `post_ids[]=…`."""
    topic = post_service.get_topic(topic_id)
    if (refused := _unreadable(topic, "json")) is not None:
        return refused
    given = request.args.getlist("post_ids[]") + request.args.getlist("post_ids")
    post_ids = [as_id(value) for value in given]
    if not given or None in post_ids:
        raise ValidationFailed(field_errors={"post_ids": [
            "Give the posts as post_ids[]=…, each a whole number from the topic's stream."]})
    if len(post_ids) > MAX_POST_IDS:
        raise ValidationFailed(field_errors={"post_ids": [
            f"Ask for at most {MAX_POST_IDS} posts at a time."]})
    posts, liked = queries.topic_posts_by_id(current_user, topic, post_ids)
    return jsonify({"id": topic.id, "post_stream": {
        "posts": [serializers.post(p, current_user, p.id in liked) for p in posts]}})


@bp.route("/t/<int:topic_id>")
def show_by_id(topic_id):
    topic = post_service.get_topic(topic_id)
    return redirect(url_for("topics.show", slug=topic.slug, topic_id=topic.id, **request.args))


@bp.route("/t/<int:topic_id>/<int:post_number>", defaults={"fmt": "html"})
@bp.route("/t/<int:topic_id>/<int:post_number>.json", defaults={"fmt": "json"},
          endpoint="show_by_id_post_json")
def show_by_id_post(topic_id, post_number, fmt):
    """Discourse's short permalink /t/{id}/{post_number}. Werkzeug prefers it to
    /t/{slug}/{id} for two numbers, so a topic whose slug is a number (slugify no longer makes
    one) is looked for first."""
    by_slug = db.session.get(Topic, post_number)
    if by_slug is not None and by_slug.slug == str(topic_id):
        return show(by_slug.slug, by_slug.id, fmt)
    topic = post_service.get_topic(topic_id)
    if fmt == "json":
        return _topic_page(topic, _page_of(post_number), "json")
    return redirect(url_for("topics.show_post", slug=topic.slug, topic_id=topic.id,
                            post_number=post_number) + f"#post-{post_number}")


def _page_of(post_number):
    return (max(post_number, 1) - 1) // 20 + 1


@bp.route("/t/<slug>/<int:topic_id>/<int:post_number>")
def show_post(slug, topic_id, post_number):
    topic, state = _topic_and_read_state(topic_id)
    return _topic_page(topic, _page_of(post_number), "html", target_post_number=post_number,
                       state=state)


@bp.route("/t/<int:topic_id>/reply", methods=["POST"])
@ratelimits.posts
def reply(topic_id):
    topic = post_service.get_topic(topic_id)
    data = params()
    composer = {"raw": data.get("raw", ""),
                "reply_to_post_number": data.get("reply_to_post_number", ""),
                "errors": {}, "preview": None}
    if "preview" in data:
        composer["preview"] = cook(composer["raw"])
        return _topic_page(topic, _last_page(topic), "html", composer=composer)
    try:
        post = post_service.create_post(current_user, topic.id, data.get("raw"),
                                        data.get("reply_to_post_number") or None)
    except ServiceError as exc:
        if not current_user.is_authenticated:
            return sign_in_first(request.referrer or request.path)
        composer["errors"] = exc.field_errors or {"raw": exc.errors}
        db.session.rollback()
        return _topic_page(topic, _last_page(topic), "html", composer=composer,
                           status=exc.status)
    return redirect(url_for("topics.show_post", slug=topic.slug, topic_id=topic.id,
                            post_number=post.post_number) + f"#post-{post.post_number}")


@bp.route("/t/<int:topic_id>/reply")
def reply_page(topic_id):
    """The reply form's address, opened again (a failed reply is shown there): the composer at
    the end of the topic."""
    topic, _state = _topic_and_read_state(topic_id)
    return redirect(url_for("topics.show", slug=topic.slug, topic_id=topic.id,
                            page=_last_page(topic)) + "#composer")


def _last_page(topic):
    return max((topic.highest_post_number - 1) // 20 + 1, 1)


@bp.route("/new-topic", methods=["GET", "POST"])
@ratelimits.topics
@ratelimits.posts
def new_topic():
    if not current_user.is_authenticated:
        return sign_in_first(request.full_path)
    cats = [c for c in queries.categories() if permissions.can_create_topic(current_user, c)]
    data = params()
    form = {"title": data.get("title", ""), "raw": data.get("raw", ""),
            "category": data.get("category", request.args.get("category", ""))}
    errors, preview, status = {}, None, 200
    if request.method == "POST":
        if "preview" in data:
            preview = cook(form["raw"])
        else:
            try:
                post = post_service.create_topic(current_user, form["category"], form["title"],
                                                 form["raw"])
                return redirect(url_for("topics.show", slug=post.topic.slug,
                                        topic_id=post.topic_id))
            except ServiceError as exc:
                errors = exc.field_errors or {"form": exc.errors}
                status = exc.status
    verdict = permissions.can_participate(current_user)
    return render_template("new_topic.html", form=form, errors=errors, preview=preview,
                           categories=cats, verdict=verdict), status


@bp.route("/preview.json", methods=["POST"])
@ratelimits.previews
def preview():
    raw = params().get("raw", "")
    if not isinstance(raw, str):
        raise ValidationFailed(field_errors={"raw": ["Send the Markdown as text."]})
    return jsonify({"cooked": cook(raw[:post_service.BODY_MAX])})
