"""Batched notifications: many likes of a post, or votes on an amendment, make one unread
notification whose count grows ("5 likes on your post") until the member reads it."""
import hashlib
import hmac
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import Notification
from . import notification_levels as levels

# The kinds that gather into one unread notification, by the row they gather on.
BATCHED = {"liked": "post_id", "amendment_votes": "amendment_id"}


def unread_batch(user_id, kind, batch_field, batch_id, respects_mute):
    """The member's unread notification this event adds to; none once they muted its topic
    (the event then goes the whole way, and is silenced there)."""
    return db.session.scalar(_unread_batch_statement(batch_field, respects_mute), {
        "user_id": user_id, "kind": kind, "batch_id": batch_id})


@lru_cache(maxsize=None)
def _unread_batch_statement(batch_field, respects_mute):
    """Built once per shape: every like and vote asks it."""
    stmt = select(Notification).where(
        Notification.user_id == bindparam("user_id"), Notification.kind == bindparam("kind"),
        getattr(Notification, batch_field) == bindparam("batch_id"),
        Notification.read_at.is_(None))
    if respects_mute:
        stmt = stmt.where(~levels.is_muted(Notification.user_id, Notification.topic_id))
    return stmt.order_by(Notification.id.desc()).limit(1)


# A batch counts each member once, as what they did last: liking again after taking a like back,
# or turning a +1 into a -1, is no new like or vote. It knows whom it counted by a keyed tag,
# not their id: the list's JSON carries `data`, and who voted which way is not shown, not even
# to the item's author. It remembers at most BATCH_MEMORY members; past that, one it cannot
# place counts again.
BATCH_MEMORY = 100


def tag(user_id, actor):
    """Who acted, as the batch of `user_id`'s notification knows them: a keyed hash."""
    message = f"{user_id}:{actor.id if actor is not None else ''}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message,
                    hashlib.sha256).hexdigest()[:12]


def _side(event):
    """1 for a like or an up vote, -1 for a down vote."""
    return -1 if event.get("down") else 1


def first_seen(user_id, actor, event):
    """The `seen` of a new batch: its first member."""
    return {tag(user_id, actor): _side(event)}


def add(data, member, event):
    """A batch's data with one more event counted, as a new dict (so the JSON column saves)."""
    data, seen = dict(data), dict(data.get("seen", {}))
    side = _side(event)
    if member not in seen:
        for key in ("count", "up", "down"):
            if key in event:
                data[key] = data.get(key, 0) + event[key]
        if len(seen) < BATCH_MEMORY:
            seen[member] = side
    elif seen[member] != side:  # a changed vote: the same voter, now on the other side
        data["up"], data["down"] = data["up"] + side, data["down"] - side
        seen[member] = side
    data["seen"] = seen
    return data
