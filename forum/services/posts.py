"""Topics and posts: create, reply, edit with revisions, withdraw, like, read tracking."""
import re
import unicodedata
from datetime import timedelta

from sqlalchemy import func, select, update

from .. import permissions, search
from ..db import write_transaction
from ..errors import NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..markup import COOK_VERSION, cook
from ..models import Category, Post, PostLike, PostRevision, Topic, TopicUser, User, utcnow
from ..ratelimits import check_new_account_links
from ..texts import as_line, as_text, visible_length
from ..upsert import insert_ignore
from . import audit, notifications

TITLE_MIN, TITLE_MAX = 5, 200
BODY_MIN, BODY_MAX = 2, 32000
REASON_MAX = 500


def slugify(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].strip("-")
    # A number alone would read as an id in /t/{id}/{post_number}.
    return f"topic-{slug}" if slug.isdigit() else slug or "topic"


def _check_title(title, errors):
    title = as_line(title)
    if visible_length(title) < TITLE_MIN:
        errors["title"] = [f"Titles need at least {TITLE_MIN} characters."]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"Titles are at most {TITLE_MAX} characters."]
    return title


def _check_body(raw, errors, field="raw"):
    raw = as_text(raw)
    if not visible_length(raw):
        errors[field] = ["Write something first."]
    elif visible_length(raw) < BODY_MIN:
        errors[field] = [f"Posts need at least {BODY_MIN} characters."]
    elif len(raw) > BODY_MAX:
        errors[field] = [f"Posts are at most {BODY_MAX:,} characters; this one has {len(raw):,}."]
    return raw


def refresh_topic_stats(topic_id):
    """Recount a topic's counters from its post rows, inside the caller's transaction."""
    visible = (Post.topic_id == topic_id) & Post.deleted_at.is_(None)
    last = (select(Post.created_at, Post.user_id).where(visible)
            .order_by(Post.post_number.desc()).limit(1)).subquery()
    db.session.execute(update(Topic).where(Topic.id == topic_id).values(
        posts_count=select(func.count(Post.id)).where(visible).scalar_subquery(),
        like_count=select(func.count()).select_from(PostLike).join(Post)
        .where(Post.topic_id == topic_id).scalar_subquery(),
        last_posted_at=select(last.c.created_at).scalar_subquery(),
        last_post_user_id=select(last.c.user_id).scalar_subquery(),
    ))


def refresh_user_post_count(user_id):
    db.session.execute(update(User).where(User.id == user_id).values(
        post_count=select(func.count(Post.id))
        .where(Post.user_id == user_id, Post.deleted_at.is_(None)).scalar_subquery()))


def refresh_category_topic_count(category_id):
    db.session.execute(update(Category).where(Category.id == category_id).values(
        topic_count=select(func.count(Topic.id)).where(
            Topic.category_id == category_id, Topic.deleted_at.is_(None)).scalar_subquery()))


def _next_post_number(topic_id):
    # An allocator, not a count: one atomic UPDATE, so concurrent replies never share a number.
    return db.session.execute(
        update(Topic).where(Topic.id == topic_id)
        .values(highest_post_number=Topic.highest_post_number + 1)
        .returning(Topic.highest_post_number)).scalar_one()


def _add_post(topic, user, raw, reply_to_post_number=None):
    now = utcnow()
    post = Post(topic_id=topic.id, user_id=user.id, post_number=_next_post_number(topic.id),
                reply_to_post_number=reply_to_post_number, raw=raw, cooked=cook(raw),
                cook_version=COOK_VERSION, created_at=now, updated_at=now)
    db.session.add(post)
    db.session.flush()
    search.enqueue("post", post.id)
    if reply_to_post_number:
        db.session.execute(update(Post).where(
            Post.topic_id == topic.id, Post.post_number == reply_to_post_number).values(
            reply_count=select(func.count(Post.id)).where(
                Post.topic_id == topic.id, Post.reply_to_post_number == reply_to_post_number,
                Post.deleted_at.is_(None)).correlate(None).scalar_subquery()))
    refresh_topic_stats(topic.id)
    refresh_user_post_count(user.id)
    db.session.execute(update(Topic).where(Topic.id == topic.id).values(bumped_at=now))
    _mark_read(topic.id, user.id, post.post_number)
    notifications.post_created(post)
    return post


def create_topic(user, category_id, title, raw, kind="regular"):
    """Start a topic with its first post."""
    errors = {}
    title = _check_title(title, errors)
    raw = _check_body(raw, errors)
    check_new_account_links(user, raw, errors)
    category = db.session.get(Category, as_id(category_id)) if as_id(category_id) else None
    if category is None:
        errors["category"] = ["Choose a category."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    require(permissions.can_create_topic(user, category))
    with write_transaction():
        return open_thread(user, category, title, raw, kind)


def open_thread(user, category, title, raw, kind="regular"):
    """Create a topic and its first post inside the caller's transaction."""
    topic = Topic(title=title, slug=slugify(title), category_id=category.id, user_id=user.id,
                  kind=kind)
    db.session.add(topic)
    db.session.flush()
    post = _add_post(topic, user, raw)
    refresh_category_topic_count(category.id)
    return post


def create_post(user, topic_id, raw, reply_to_post_number=None):
    """Reply in a topic, optionally to one of its posts."""
    topic = get_topic(topic_id)
    require(permissions.can_reply(user, topic))
    errors = {}
    raw = _check_body(raw, errors)
    check_new_account_links(user, raw, errors)
    if reply_to_post_number not in (None, ""):
        try:
            reply_to_post_number = int(reply_to_post_number)
        except (TypeError, ValueError):
            reply_to_post_number = -1
        if not 1 <= reply_to_post_number <= topic.highest_post_number:
            errors["reply_to_post_number"] = ["That post is not in this topic."]
    else:
        reply_to_post_number = None
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        # The topic row locked first, so that of two identical replies at once (a double
        # click on a slow link) the second waits for the first, then sees it.
        db.session.execute(select(Topic.id).where(Topic.id == topic.id).with_for_update())
        _refuse_a_repeat(topic.id, user.id, raw)
        return _add_post(topic, user, raw, reply_to_post_number)


# As Discourse: the same member posting the same words in a topic again within this time is
# a repeat (a second press of the button), not a reply.
REPEAT_SECONDS = 5 * 60


def _refuse_a_repeat(topic_id, user_id, raw):
    repeat = db.session.scalar(select(Post.post_number).where(
        Post.topic_id == topic_id, Post.user_id == user_id, Post.deleted_at.is_(None),
        Post.raw == raw, Post.created_at >= utcnow() - timedelta(seconds=REPEAT_SECONDS))
        .order_by(Post.post_number.desc()).limit(1))
    if repeat is not None:
        raise ValidationFailed(field_errors={"raw": [
            f"You posted exactly this a moment ago, as post #{repeat}."]})


def edit_post(user, post_id, raw, reason="", title=None):
    """Edit a post; every edit keeps a revision with who, when, why, before and after."""
    post = get_post(post_id)
    require(permissions.can_edit_post(user, post))
    errors = {}
    raw = _check_body(raw, errors)
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) > REASON_MAX:
        errors["reason"] = [f"Keep the reason under {REASON_MAX} characters."]
    if user.id != post.user_id and not reason:
        errors["reason"] = ["Say why you are editing someone else's post."]
    new_title = None
    if title is not None and post.is_first:
        new_title = _check_title(title, errors)
    if errors:
        raise ValidationFailed(field_errors=errors)
    topic = post.topic
    title_changed = new_title is not None and new_title != topic.title
    if raw == post.raw and not title_changed:
        raise ValidationFailed(field_errors={"raw": ["Nothing changed."]})
    with write_transaction():
        post = db.session.get(Post, post.id)
        raw_before = post.raw
        number = db.session.scalar(select(func.coalesce(func.max(PostRevision.number), 1))
                                   .where(PostRevision.post_id == post.id)) + 1
        db.session.add(PostRevision(
            post_id=post.id, user_id=user.id, number=number, reason=reason,
            raw_before=post.raw, raw_after=raw,
            title_before=post.topic.title if title_changed else None,
            title_after=new_title if title_changed else None))
        post.raw, post.cooked, post.cook_version = raw, cook(raw), COOK_VERSION
        post.updated_at = utcnow()
        post.version = number
        if title_changed:
            post.topic.title = new_title
            post.topic.slug = slugify(new_title)
        search.enqueue("post", post.id)
        notifications.post_edited(post, raw_before)
        if user.id != post.user_id:
            audit.record(user, "edit_post", "post", post.id, reason)
        else:
            from .review import request_another_look

            # Hidden words put right by their author go back to the moderators.
            request_another_look("post", post)
            if post.is_first:
                request_another_look("topic", post.topic)
    return post


def delete_post(user, post_id):
    """Withdraw a post: it stays as a marker so replies to it still make sense."""
    post = get_post(post_id)
    require(permissions.can_delete_post(user, post))
    with write_transaction():
        post = db.session.get(Post, post.id)
        post.deleted_at = utcnow()
        post.deleted_by_id = user.id
        search.enqueue("post", post.id)
        refresh_topic_stats(post.topic_id)
        refresh_user_post_count(post.user_id)
        if user.id != post.user_id:
            audit.record(user, "delete_post", "post", post.id)
    return post


def _refresh_like_count(post):
    # Likes only order results (order:votes): applied with the next catch-up.
    search.enqueue("post", post.id, soon=False)
    db.session.execute(update(Post).where(Post.id == post.id).values(
        like_count=select(func.count()).select_from(PostLike)
        .where(PostLike.post_id == post.id).scalar_subquery()))
    refresh_topic_stats(post.topic_id)


def like_post(user, post_id):
    post = get_post(post_id)
    require(permissions.can_like_post(user, post))
    with write_transaction():
        liked = db.session.execute(insert_ignore(PostLike, post_id=post.id, user_id=user.id,
                                                 created_at=utcnow())).rowcount
        _refresh_like_count(post)
        if liked:
            notifications.post_liked(post, user)
    db.session.refresh(post)
    return post


def unlike_post(user, post_id):
    post = get_post(post_id)
    require(permissions.can_participate(user))
    with write_transaction():
        db.session.execute(PostLike.__table__.delete().where(
            PostLike.post_id == post.id, PostLike.user_id == user.id))
        _refresh_like_count(post)
    db.session.refresh(post)
    return post


def _mark_read(topic_id, user_id, post_number):
    now = utcnow()
    inserted = db.session.execute(insert_ignore(
        TopicUser, topic_id=topic_id, user_id=user_id, last_read_post_number=post_number,
        first_visited_at=now, last_visited_at=now)).rowcount
    if inserted:
        # Views count the members who opened the topic, from the rows.
        db.session.execute(update(Topic).where(Topic.id == topic_id).values(
            views=select(func.count()).select_from(TopicUser)
            .where(TopicUser.topic_id == topic_id).scalar_subquery()))
    else:
        db.session.execute(update(TopicUser).where(
            TopicUser.topic_id == topic_id, TopicUser.user_id == user_id,
            TopicUser.last_read_post_number < post_number).values(
            last_read_post_number=post_number, last_visited_at=now))
    return inserted


def record_read(user, topic, post_number, known=None):
    """Note how far a member has read. Writes only when they got further than `known`."""
    if not user.is_authenticated:
        return
    if known is not None and known.last_read_post_number >= post_number:
        return
    # The page being shown has loaded its posts and members; this write changes none of them.
    with write_transaction(keep_loaded=True):
        inserted = _mark_read(topic.id, user.id, post_number)
    if inserted:
        db.session.expire(topic, ["views"])
    if known is not None:
        db.session.expire(known)


def get_topic(topic_id):
    topic = db.session.get(Topic, as_id(topic_id)) if as_id(topic_id) else None
    if topic is None:
        raise NotFound("That topic does not exist.")
    return topic


def get_post(post_id):
    post = db.session.get(Post, as_id(post_id)) if as_id(post_id) else None
    if post is None:
        raise NotFound("That post does not exist.")
    return post
