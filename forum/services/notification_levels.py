"""Notification levels: how closely a member follows a topic or a process (docs/notifications.md).

    watching    every new post; on a proposal, every amendment and clarification too
    tracking    as normal, plus new amendments and clarifications on a proposal
    normal      replies, quotes and mentions
    muted       nothing

A member's effective level in a topic is the topic's own row, else the level they chose for the
process whose category holds the topic, else normal. Starting a topic, replying, amending and
being invited to a lab set a default level, which never overrides one the member chose and never
lowers what they hear (a topic row would shadow a higher level chosen for the process).
"""
from sqlalchemy import func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import permissions
from ..db import write_transaction
from ..errors import NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..models import (Process, ProcessNotificationLevel, Topic, TopicNotificationLevel,
                      utcnow)
from ..models.notifications import LEVELS
from ..upsert import upsert


def _process_id_for_topic(topic):
    return db.session.scalar(select(Process.id).where(Process.category_id == topic.category_id))


def levels_for(topic, user_ids):
    """{user_id: effective level} in one topic: the topic's own row, else the process's, else
    normal."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    found = dict(db.session.execute(select(
        TopicNotificationLevel.user_id, TopicNotificationLevel.level).where(
        TopicNotificationLevel.topic_id == topic.id,
        TopicNotificationLevel.user_id.in_(user_ids))).all())
    missing = [u for u in user_ids if u not in found]
    process_id = _process_id_for_topic(topic) if missing else None
    if process_id is not None:
        found.update(db.session.execute(select(
            ProcessNotificationLevel.user_id, ProcessNotificationLevel.level).where(
            ProcessNotificationLevel.process_id == process_id,
            ProcessNotificationLevel.user_id.in_(missing))).all())
    return {u: found.get(u, "normal") for u in user_ids}


def is_muted(user_id, topic_id):
    """A SQL condition: the member's effective level in the topic is muted (as levels_for
    decides it), for a query that must leave out what a muted topic silences."""
    own = select(TopicNotificationLevel.level).where(
        TopicNotificationLevel.user_id == user_id,
        TopicNotificationLevel.topic_id == topic_id).scalar_subquery()
    by_process = (select(ProcessNotificationLevel.level)
                  .join(Process, Process.id == ProcessNotificationLevel.process_id)
                  .join(Topic, Topic.category_id == Process.category_id)
                  .where(Topic.id == topic_id, ProcessNotificationLevel.user_id == user_id)
                  .limit(1).scalar_subquery())
    return func.coalesce(own, by_process, "normal") == "muted"


def members_at(topic, wanted):
    """{user_id: level} of the members whose effective level in the topic is in `wanted`."""
    found = dict(db.session.execute(select(
        TopicNotificationLevel.user_id, TopicNotificationLevel.level).where(
        TopicNotificationLevel.topic_id == topic.id)).all())
    process_id = _process_id_for_topic(topic)
    if process_id is not None:
        for user_id, level in db.session.execute(select(
                ProcessNotificationLevel.user_id, ProcessNotificationLevel.level).where(
                ProcessNotificationLevel.process_id == process_id,
                ProcessNotificationLevel.level.in_(wanted))):
            found.setdefault(user_id, level)
    return {u: level for u, level in found.items() if level in wanted}


# How much each level hears, for defaults, which only ever raise it. Muted is not on the scale:
# it is always the member's choice, and a default leaves it alone.
_HEARS = {"normal": 0, "tracking": 1, "watching": 2}


def default_level(user_id, topic_id, level, reason):
    """Start the member at `level` in the topic, unless that would override their choice or
    lower what they hear: a row of their own for the topic wins, and so does a process level
    that is muted or hears at least as much (a topic row would otherwise shadow it). One
    statement: INSERT ... SELECT ... WHERE NOT EXISTS, ignoring a conflict."""
    kept = ["muted"] + [name for name, hears in _HEARS.items() if hears >= _HEARS[level]]
    by_process = (select(ProcessNotificationLevel.user_id)
                  .join(Process, Process.id == ProcessNotificationLevel.process_id)
                  .join(Topic, Topic.category_id == Process.category_id)
                  .where(Topic.id == topic_id, ProcessNotificationLevel.user_id == user_id,
                         ProcessNotificationLevel.level.in_(kept)))
    row = select(literal(user_id), literal(topic_id), literal(level), literal(reason),
                 literal(utcnow(), TopicNotificationLevel.updated_at.type)) \
        .where(~by_process.exists())
    # forum.upsert.insert_ignore takes VALUES only; this is its INSERT ... SELECT twin.
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(TopicNotificationLevel).from_select(
        ["user_id", "topic_id", "level", "reason", "updated_at"], row).on_conflict_do_nothing())


def _check_level(level):
    if level not in LEVELS:
        raise ValidationFailed(field_errors={"level": [
            f"Choose {', '.join(LEVELS[:-1])} or {LEVELS[-1]}."]})


def set_topic_level(user, topic_id, level):
    require(permissions.can_read_notifications(user))
    topic = db.session.get(Topic, as_id(topic_id)) if as_id(topic_id) else None
    if topic is None or not permissions.can_see_topic(user, topic):
        raise NotFound("That topic does not exist.")
    require(permissions.can_read_words(user, "topic", topic))
    _check_level(level)
    with write_transaction():
        db.session.execute(upsert(
            TopicNotificationLevel, ("user_id", "topic_id"),
            {"user_id": user.id, "topic_id": topic.id, "level": level, "reason": "chosen",
             "updated_at": utcnow()},
            update={"level": level, "reason": "chosen", "updated_at": utcnow()}))
    return topic, level


def set_process_level(user, process_id, level):
    require(permissions.can_read_notifications(user))
    process = db.session.get(Process, as_id(process_id)) if as_id(process_id) else None
    if process is None:
        raise NotFound("That process does not exist.")
    _check_level(level)
    with write_transaction():
        db.session.execute(upsert(
            ProcessNotificationLevel, ("user_id", "process_id"),
            {"user_id": user.id, "process_id": process.id, "level": level,
             "updated_at": utcnow()},
            update={"level": level, "updated_at": utcnow()}))
    return process, level


def topic_level(user, topic):
    """(level, whether the member chose it) for the level page."""
    row = db.session.get(TopicNotificationLevel, (user.id, topic.id))
    if row is not None:
        return row.level, row.reason
    return levels_for(topic, [user.id])[user.id], "default"


def process_level(user, process):
    row = db.session.get(ProcessNotificationLevel, (user.id, process.id))
    return row.level if row is not None else "normal"
