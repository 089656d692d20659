"""Moderators' acts on words and threads: hide and unhide; lock, pin, unlist, move and split
topics. Each checks permissions, runs one transaction and records one audit event; the person
concerned is notified.

Flags and the review queue, which call into hiding here, are in services/review.py; silencing
and suspending members in services/member_moderation.py.
"""
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import func, select, update

from .. import permissions, search
from ..db import write_transaction
from ..errors import Conflict, NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..models import Amendment, Category, Post, Topic, utcnow
from . import audit, notifications
from .posts import (_check_title, get_topic, refresh_category_topic_count, refresh_topic_stats,
                    slugify)

REASON_MAX = 500
# Silences and suspensions end on a date; "for ever" is a long time, not a missing date.
LONGEST = timedelta(days=365 * 100)


# -- ids, reasons and dates ---------------------------------------------------------------------------

def check_reason(reason, required=True, field="reason"):
    reason = reason.strip() if isinstance(reason, str) else ""
    if required and not reason:
        raise ValidationFailed(field_errors={field: ["Give a reason: it is shown to the member "
                                                     "and in the public moderation log."]})
    if len(reason) > REASON_MAX:
        raise ValidationFailed(field_errors={field: [
            f"Keep the reason under {REASON_MAX} characters."]})
    return reason


def parse_until(value, field="until", now=None):
    """An end date in the future: ISO 8601 date or date and time (a bare date means the end of
    that day, UTC; a time without a zone is UTC)."""
    now = now or utcnow()
    text = value.strip() if isinstance(value, str) else ""
    until = None
    if isinstance(value, datetime):
        until = value
    elif text:
        try:
            if len(text) == 10:
                until = datetime.combine(datetime.fromisoformat(text).date(), time(23, 59, 59))
            else:
                until = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            until = None
    if until is None:
        raise ValidationFailed(field_errors={field: [
            "Give an end date, e.g. 2027-03-01 or 2027-03-01T18:00:00Z."]})
    if until.tzinfo is None:
        until = until.replace(tzinfo=timezone.utc)
    if until <= now:
        raise ValidationFailed(field_errors={field: ["The end date must be in the future."]})
    if until - now > LONGEST:
        raise ValidationFailed(field_errors={field: ["Choose an end date within 100 years."]})
    return until


# -- the things moderators act on ------------------------------------------------------------------

def load_target(kind, target_id, lock=False):
    """The post, topic, amendment or clarification `kind` names, or NotFound."""
    model = {"post": Post, "topic": Topic, "amendment": Amendment,
             "clarification": Amendment}.get(kind)
    if model is None or as_id(target_id) is None:
        raise NotFound("There is nothing like that to moderate.")
    stmt = select(model).where(model.id == as_id(target_id))
    if lock:
        stmt = stmt.with_for_update(of=model)
    target = db.session.scalar(stmt)
    if target is None or (model is Amendment and target.kind != kind):
        raise NotFound(f"That {kind} does not exist.")
    return target


def check_hideable(kind, target):
    """Proposal and lab threads are read on their own pages, which a hidden topic would not
    cover: their posts, amendments and clarifications are flagged and hidden one by one."""
    if kind == "topic" and target.kind != "regular":
        raise Conflict(f"This is a {target.kind} thread: flag or hide its posts, amendments or "
                       "clarifications instead.")


def is_gone(kind, target):
    """Withdrawn by its author or removed: nothing left to flag or hide."""
    if kind in ("post", "topic"):
        return target.deleted_at is not None
    return target.status == "withdrawn"


def _after_hiding(kind, target):
    # A hidden topic hides its posts from search too.
    if kind == "topic":
        search.enqueue_topic(target.id)
    else:
        search.enqueue("amendment" if kind == "clarification" else kind, target.id)
    if kind in ("amendment", "clarification"):
        from .amendments import refresh_item_counts

        refresh_item_counts(target.proposal_id)


def set_hidden(kind, target, reason, now=None):
    """Hide inside the caller's transaction. Only hidden_at and hidden_reason change, so
    unhiding restores the thing exactly as it was."""
    target.hidden_at = now or utcnow()
    target.hidden_reason = reason
    _after_hiding(kind, target)


def clear_hidden(kind, target):
    target.hidden_at = None
    target.hidden_reason = None
    _after_hiding(kind, target)


def hide(actor, kind, target_id, reason):
    """A moderator hides a post, topic, amendment or clarification, with a reason readers see."""
    require(permissions.can_moderate(actor))
    reason = check_reason(reason)
    with write_transaction():
        target = load_target(kind, target_id, lock=True)
        check_hideable(kind, target)
        if is_gone(kind, target):
            raise Conflict(f"This {kind} was withdrawn: there is nothing to hide.")
        if target.hidden_at is not None:
            raise Conflict(f"This {kind} is already hidden.")
        set_hidden(kind, target, reason)
        audit.record(actor, f"hide_{kind}", kind, target.id, reason)
        notify_hidden(kind, target, reason, actor)
    return target


def unhide(actor, kind, target_id, reason=""):
    """Show it again, exactly as it was."""
    require(permissions.can_moderate(actor))
    reason = check_reason(reason, required=False)
    with write_transaction():
        target = load_target(kind, target_id, lock=True)
        if target.hidden_at is None:
            raise Conflict(f"This {kind} is not hidden.")
        clear_hidden(kind, target)
        audit.record(actor, f"unhide_{kind}", kind, target.id, reason)
    return target


def notify_hidden(kind, target, reason, actor=None):
    """Tell the author why their words are hidden and how to put them right: a notification
    (the bell, and mail as they chose), written in the hiding's own transaction.

    `actor` is the moderator, or None when enough members' flags hid it.
    """
    if kind == "post":
        fix = "You can still see it: edit it to address the concern, and a moderator will " \
              "look at it again."
    elif kind == "topic":
        fix = "You can still see it: edit its title or first post to address the concern, " \
              "and a moderator will look at it again."
    else:
        fix = "You can still see it. If it has no votes yet you can edit it to address the " \
              "concern; otherwise withdraw it and propose it again."
    about = {"post": {"post": target}, "topic": {"topic": target}}.get(kind,
                                                                      {"amendment": target})
    notifications.notify(target.user_id, "moderated" if actor is not None else "flagged_hidden",
                         actor=actor, action="hid", target=kind, reason=reason, fix=fix,
                         **about)


# -- topics ----------------------------------------------------------------------------------

def _moderated_topic(actor, topic_id):
    topic = get_topic(topic_id)
    require(permissions.can_moderate_topic(actor, topic))
    return topic


def _topic_change(actor, topic_id, action, reason, changed, change):
    """Apply `change` to the locked topic unless `changed(topic)` says it is already so.

    Setting a topic to the state it is in changes nothing and records nothing.
    """
    _moderated_topic(actor, topic_id)
    reason = check_reason(reason, required=False)
    with write_transaction():
        topic = db.session.scalar(select(Topic).where(Topic.id == int(topic_id))
                                  .with_for_update(of=Topic))
        if changed(topic):
            return topic
        details = change(topic) or {}
        search.enqueue_topic(topic.id)  # open or closed, listed or not
        audit.record(actor, action, "topic", topic.id, reason, **details)
    return topic


def lock_topic(actor, topic_id, reason=""):
    """No new replies, except from moderators."""
    def lock(topic):
        topic.closed, topic.closed_reason = True, check_reason(reason, required=False) or None

    return _topic_change(actor, topic_id, "lock_topic", reason, lambda t: t.closed, lock)


def unlock_topic(actor, topic_id, reason=""):
    def unlock(topic):
        topic.closed, topic.closed_reason = False, None

    return _topic_change(actor, topic_id, "unlock_topic", reason, lambda t: not t.closed,
                         unlock)


def pin_topic(actor, topic_id, globally=False, reason=""):
    """Pin at the top of its category, or (globally) at the top of Latest too."""
    def pin(topic):
        topic.pinned_at = utcnow()
        topic.pinned_globally = bool(globally)
        return {"globally": bool(globally)}

    return _topic_change(actor, topic_id, "pin_topic_globally" if globally else "pin_topic",
                         reason, lambda t: t.pinned_at is not None
                         and t.pinned_globally == bool(globally), pin)


def unpin_topic(actor, topic_id, reason=""):
    def unpin(topic):
        topic.pinned_at = None
        topic.pinned_globally = False

    return _topic_change(actor, topic_id, "unpin_topic", reason, lambda t: t.pinned_at is None,
                         unpin)


def unlist_topic(actor, topic_id, reason=""):
    """Out of every topic list; still there for anyone with its link."""
    return _topic_change(actor, topic_id, "unlist_topic", reason, lambda t: not t.visible,
                         lambda t: setattr(t, "visible", False))


def list_topic(actor, topic_id, reason=""):
    return _topic_change(actor, topic_id, "list_topic", reason, lambda t: t.visible,
                         lambda t: setattr(t, "visible", True))


def _category(category_id, field="category_id"):
    category = db.session.get(Category, as_id(category_id)) \
        if as_id(category_id) is not None else None
    if category is None:
        raise ValidationFailed(field_errors={field: ["Choose one of the categories."]})
    return category


def move_topic(actor, topic_id, category_id, reason=""):
    topic = _moderated_topic(actor, topic_id)
    category = _category(category_id)
    reason = check_reason(reason, required=False)
    if topic.kind != "regular":
        raise Conflict(f"This is a {topic.kind} thread: it stays in its process's category.")
    if category.id == topic.category_id:
        return topic
    with write_transaction():
        topic = db.session.scalar(select(Topic).where(Topic.id == topic.id)
                                  .with_for_update(of=Topic))
        before = topic.category_id
        topic.category_id = category.id
        db.session.flush()
        refresh_category_topic_count(before)
        refresh_category_topic_count(category.id)
        search.enqueue_topic(topic.id)
        audit.record(actor, "move_topic", "topic", topic.id, reason, from_category_id=before,
                     to_category_id=category.id)
    db.session.expire(topic)
    return topic


def _post_ids(values):
    if isinstance(values, (str, int)):
        values = str(values).replace(",", " ").split()
    if not isinstance(values, (list, tuple)):
        values = ()
    ids = [as_id(value) for value in values]
    if None in ids:
        raise ValidationFailed(field_errors={"post_ids": ["Choose posts by their ids."]})
    if not ids:
        raise ValidationFailed(field_errors={"post_ids": ["Choose the posts to move."]})
    return sorted(set(ids))


def split_topic(actor, topic_id, post_ids, title, category_id=None, reason=""):
    """Move chosen replies into a new topic, in their order, renumbered from 1.

    A moved reply keeps pointing at the post it answered if that post moved too; the first post
    opens the topic and stays.
    """
    source = _moderated_topic(actor, topic_id)
    errors = {}
    title = _check_title(title, errors)
    if errors:
        raise ValidationFailed(field_errors=errors)
    ids = _post_ids(post_ids)
    category = _category(category_id) if category_id not in (None, "") else source.category
    reason = check_reason(reason, required=False)
    with write_transaction():
        source = db.session.scalar(select(Topic).where(Topic.id == source.id)
                                   .with_for_update(of=Topic))
        posts = db.session.scalars(select(Post).where(Post.id.in_(ids))
                                   .order_by(Post.post_number)).all()
        if len(posts) != len(ids) or any(p.topic_id != source.id for p in posts):
            raise ValidationFailed(field_errors={"post_ids": [
                "Choose posts of this topic only."]})
        if any(p.post_number == 1 for p in posts):
            raise ValidationFailed(field_errors={"post_ids": [
                "The first post opens the topic and stays; choose replies."]})
        if any(p.deleted_at is not None for p in posts):
            raise ValidationFailed(field_errors={"post_ids": [
                "Withdrawn posts stay where they were."]})
        topic = Topic(title=title, slug=slugify(title), category_id=category.id,
                      user_id=posts[0].user_id, kind="regular", created_at=posts[0].created_at,
                      bumped_at=posts[-1].created_at, highest_post_number=len(posts))
        db.session.add(topic)
        db.session.flush()
        numbers = {p.post_number: n for n, p in enumerate(posts, start=1)}
        for post in posts:
            post.reply_to_post_number = numbers.get(post.reply_to_post_number)
            post.topic_id, post.post_number = topic.id, numbers[post.post_number]
        db.session.flush()
        # Replies left behind that answered a moved post no longer have it in their topic.
        db.session.execute(update(Post).where(
            Post.topic_id == source.id, Post.reply_to_post_number.in_(list(numbers)))
            .values(reply_to_post_number=None))
        for topic_id in (source.id, topic.id):
            _refresh_reply_counts(topic_id)
            refresh_topic_stats(topic_id)
            search.enqueue_topic(topic_id)
        refresh_category_topic_count(category.id)
        audit.record(actor, "split_topic", "topic", source.id, reason, new_topic_id=topic.id,
                     post_ids=[p.id for p in posts])
    return topic


def _refresh_reply_counts(topic_id):
    replies = Post.__table__.alias("replies")
    db.session.execute(update(Post).where(Post.topic_id == topic_id).values(
        reply_count=select(func.count(replies.c.id)).where(
            replies.c.topic_id == topic_id,
            replies.c.reply_to_post_number == Post.post_number,
            replies.c.deleted_at.is_(None)).scalar_subquery()))
