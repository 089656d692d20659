"""Write endpoints of notifications: marking read, levels, email preferences, unsubscribing.

Everything here is the member's own business, so anyone signed in may, whatever their state
(an unverified or silenced member still chooses what they hear). Unsubscribing needs no session
at all: the signed link is the proof.
"""
from forum.services import mailing, posts

from . import EVERYONE, SIGNED_IN, Case, api, form


def _unread(ctx):
    """A reply to the actor's topic: one unread notification for them."""
    topic = ctx.make.topic(user=ctx.actor, category=ctx.category)
    posts.create_post(ctx.other, topic.id, "A reply that notifies the author.")
    return topic


def mark_all_form(ctx):
    _unread(ctx)
    return form("/notifications/mark-read")


def mark_all_json(ctx):
    _unread(ctx)
    return api("/notifications/mark-read.json")


def topic_level_form(ctx):
    return form(f"/t/{ctx.topic.id}/notifications", level="muted")


def topic_level_json(ctx):
    return api(f"/t/{ctx.topic.id}/notifications.json", {"level": "watching"})


def process_level_form(ctx):
    return form(f"/processes/{ctx.make.process().id}/notifications", level="watching")


def process_level_json(ctx):
    return api(f"/processes/{ctx.make.process().id}/notifications.json", {"level": "muted"})


def preferences_form(ctx):
    return form("/notifications/preferences", replied="never", liked="daily")


def preferences_json(ctx):
    return api("/notifications/preferences.json", {"email": {"mentioned": "daily"}})


def unsubscribe(ctx):
    return form(f"/email/unsubscribe/{mailing.unsubscribe_token(ctx.actor.id, 'replied')}")


CASES = [
    Case("notifications.mark_read", "POST", mark_all_form, SIGNED_IN),
    Case("notifications.mark_read_json", "POST", mark_all_json, SIGNED_IN),
    Case("notifications.mark_read_json", "PUT", mark_all_json, SIGNED_IN),
    Case("notifications.topic_level", "POST", topic_level_form, SIGNED_IN),
    Case("notifications.topic_level_json", "POST", topic_level_json, SIGNED_IN),
    Case("notifications.topic_level_json", "PUT", topic_level_json, SIGNED_IN),
    Case("notifications.process_level", "POST", process_level_form, SIGNED_IN),
    Case("notifications.process_level_json", "POST", process_level_json, SIGNED_IN),
    Case("notifications.process_level_json", "PUT", process_level_json, SIGNED_IN),
    Case("notifications.preferences", "POST", preferences_form, SIGNED_IN),
    Case("notifications.preferences_update", "PUT", preferences_json, SIGNED_IN),
    Case("notifications.unsubscribe_post", "POST", unsubscribe, EVERYONE,
         csrf_exempt="the signed link is the proof; mail clients POST it (RFC 8058)"),
]
