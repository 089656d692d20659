"""Notifications: what each member hears about, and marking it read; how closely they follow a
topic or process is notification_levels.py.

Other services call these inside their own transaction:

    notifications.post_created(post)             replies, quotes, mentions, watchers
    notifications.post_edited(post, raw_before)   mentions and quotes the edit added
    notifications.post_liked(post, liker)         likes, batched per post while unread
    notifications.item_proposed(item)             a new amendment or clarification
    notifications.item_voted(item, voter, value, previous) votes, batched per item while unread
    notifications.proposal_created(proposal)      members watching the process
    notifications.notify(user_id, kind, ...)      anything else: the kinds are in KINDS

Labs, ballots and moderation call `notify` with their kinds, for example

    notify(item.user_id, "amendment_in_lab", amendment=item)
    notify(item.user_id, "amendment_decided", amendment=item, actor=lead, decision="accepted")
    notify(member.id, "lab_invitation", topic=lab.topic, proposal=lab.proposal, actor=lead)
    notify(proposal.user_id, "proposal_promoted", proposal=proposal)
    notify(post.user_id, "moderated", post=post, actor=moderator, action="hid", reason=why)

Mail follows each member's choice per kind (services.mailing). Each member's unread count is
kept on their user row, recounted from the rows after commit, so the bell costs no query.
"""
import html
import re
from dataclasses import dataclass

import nh3

from flask import current_app
from sqlalchemy import func, select, update

from .. import permissions
from ..db import write_transaction
from ..errors import NotFound, require
from ..extensions import db
from ..ids import as_id
from ..markup import mentioned_usernames
from ..models import Notification, Post, ProcessNotificationLevel, Topic, User, utcnow
from . import hooks
from . import notification_batches as batches
from . import notification_levels as levels

MAX_MENTIONS = 20
PER_PAGE = 30


@dataclass(frozen=True)
class Kind:
    name: str
    label: str          # what the preferences page calls it
    email: str          # the default: immediately, daily or never
    text: str           # the line in the list; {actor} {title} {item} and the data's keys
    # Outcomes about a member's own contribution are heard even in a muted topic.
    respects_mute: bool = True


KINDS = {k.name: k for k in (
    Kind("replied", "Replies to your posts", "immediately", "{actor} replied to your post in {title}"),
    Kind("mentioned", "Mentions of you", "immediately", "{actor} mentioned you in {title}"),
    Kind("quoted", "Quotes of your posts", "immediately", "{actor} quoted your post in {title}"),
    Kind("liked", "Likes on your posts", "never", "{count} like{s} on your post in {title}"),
    Kind("posted", "New posts in topics you watch", "daily", "{actor} posted in {title}"),
    Kind("proposal_created", "New proposals in processes you watch", "daily",
         "{actor} put forward a proposal: {title}"),
    Kind("amendment_proposed", "New amendments to proposals you wrote or watch", "immediately",
         "{actor} proposed an amendment to {title}"),
    Kind("clarification_asked", "New clarifications on proposals you wrote or watch",
         "immediately", "{actor} asked for a clarification of {title}"),
    Kind("clarification_answered", "Answers to your clarifications", "immediately",
         "{actor} answered your clarification of {title}", respects_mute=False),
    Kind("amendment_votes", "Votes on your amendments and clarifications", "daily",
         "{count} new vote{s} (+{up} / -{down}) on your {item} to {title}"),
    Kind("proposal_in_lab", "Proposals you follow going into their policy lab", "daily",
         "The amendment window of {title} closed: its policy lab is open"),
    Kind("version_published", "New versions of proposals you follow", "daily",
         "Version {version} of {title} is published"),
    Kind("amendment_in_lab", "Your amendment taken into a policy lab", "immediately",
         "Your {item} to {title} was taken into the policy lab", respects_mute=False),
    Kind("amendment_not_selected", "Your amendment not selected for a lab", "immediately",
         "Your {item} to {title} was not selected for the policy lab", respects_mute=False),
    Kind("amendment_decided", "Lab decisions on your amendments", "immediately",
         "The policy lab {decision} your {item} to {title}", respects_mute=False),
    Kind("lab_invitation", "Invitations to policy labs", "immediately",
         "{actor} invited you to the policy lab on {title}", respects_mute=False),
    Kind("proposal_promoted", "Your proposal put on the ballot", "immediately",
         "Your proposal {title} is on the ballot", respects_mute=False),
    Kind("proposal_not_qualified", "Your proposal not qualifying for the ballot", "immediately",
         "Your proposal {title} did not qualify for the ballot", respects_mute=False),
    Kind("proposal_adopted", "Your proposal adopted", "immediately",
         "Your proposal {title} was adopted", respects_mute=False),
    Kind("proposal_not_adopted", "Your proposal not adopted", "immediately",
         "Your proposal {title} was not adopted", respects_mute=False),
    Kind("moderated", "Moderation of what you wrote", "immediately",
         "A moderator {action} your {target} in {title}", respects_mute=False),
    Kind("flagged_hidden", "Your words hidden by members' flags", "immediately",
         "Your {target} in {title} is hidden pending review: members flagged it",
         respects_mute=False),
)}
# One notification gathers these while it is unread, instead of one per event.
# Most specific first: a member hears of a post once, as the first of these that applies.
POST_KINDS = ("replied", "quoted", "mentioned", "posted")


class _Blank(dict):
    def __missing__(self, key):
        return ""


def describe(notification):
    """The notification's line of text, from the data stored with it."""
    data = _Blank(notification.data or {})
    count = data.get("count", 1)
    data.setdefault("s", "" if count == 1 else "s")
    return KINDS[notification.kind].text.format_map(data) if notification.kind in KINDS \
        else notification.kind.replace("_", " ")


# -- writing notifications --------------------------------------------------------------------------

def _context(topic=None, post=None, proposal=None, amendment=None):
    """Fill in the related rows from the most specific one given."""
    if amendment is not None and proposal is None:
        proposal = amendment.proposal
    if post is not None and topic is None:
        topic = post.topic
    if proposal is not None and topic is None:
        topic = proposal.topic
    return topic, post, proposal, amendment


def _link(topic, post, proposal, amendment):
    if amendment is not None:
        return f"/amendments/{amendment.id}"
    if post is not None:
        # A post in a proposal's thread redirects to the proposal page, at the post.
        return f"/t/{topic.slug}/{topic.id}/{post.post_number}#post-{post.post_number}"
    if proposal is not None:
        return f"/proposals/{proposal.id}"
    if topic is not None:
        return f"/t/{topic.slug}/{topic.id}"
    return "/notifications"


def _excerpt(post, length=160):
    text = " ".join(html.unescape(nh3.clean(post.cooked or "", tags=set())).split())
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


def notify(user_id, kind, *, actor=None, topic=None, post=None, proposal=None, amendment=None,
           **data):
    """Tell one member about one thing, inside the caller's transaction. Returns the
    Notification, or None when it is the actor's own doing or the member muted the topic.

    `data` is kept with it and fills the kind's text ({decision}, {action}, {reason} ...).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; add it to KINDS")
    if actor is not None and actor.id == user_id:
        return None
    batch_field = batches.BATCHED.get(kind)
    if batch_field is not None:
        # Before anything else: most events of a batched kind (votes, likes) only add to the
        # unread notification the member already has.
        batch_of = {"post_id": post, "amendment_id": amendment}[batch_field]
        existing = batches.unread_batch(user_id, kind, batch_field, batch_of.id,
                                 KINDS[kind].respects_mute)
        if existing is not None:
            merged = batches.add(existing.data, batches.tag(user_id, actor), data)
            if merged != existing.data:  # a like given again after an unlike is no news
                merged["actor"] = actor.username if actor is not None else ""
                existing.data = merged
                existing.updated_at = utcnow()
            return existing
    topic, post, proposal, amendment = _context(topic, post, proposal, amendment)
    if KINDS[kind].respects_mute and topic is not None \
            and levels.levels_for(topic, [user_id])[user_id] == "muted":
        return None
    title = proposal.title if proposal is not None else \
        topic.title if topic is not None else data.pop("title", "")
    data = {"title": title, "url": _link(topic, post, proposal, amendment),
            "actor": actor.username if actor is not None else "",
            **({"item": amendment.kind} if amendment is not None else {}),
            **({"excerpt": _excerpt(post)} if post is not None else {}), **data}
    if batch_field is not None:
        data["seen"] = batches.first_seen(user_id, actor, data)
    if kind == "lab_invitation" and topic is not None:
        levels.default_level(user_id, topic.id, "watching", "invited")
    ids = {"topic_id": topic.id if topic is not None else None,
           "post_id": post.id if post is not None else None,
           "proposal_id": proposal.id if proposal is not None else None,
           "amendment_id": amendment.id if amendment is not None else None}
    now = utcnow()
    notification = Notification(user_id=user_id, kind=kind, actor_id=getattr(actor, "id", None),
                                data=data, created_at=now, updated_at=now, **ids)
    db.session.add(notification)
    db.session.flush()
    from . import mailing

    mailing.route(notification)
    _count_after_commit(user_id)
    return notification


def _count_after_commit(user_id, mail_id=None):
    """Recount this member's unread notifications (and send a queued mail) after commit."""
    for fn, args, _ in db.session.info.get(hooks._KEY, []):
        if fn is _after_commit:
            args[1].add(user_id)
            if mail_id:
                args[2].append(mail_id)
            return
    hooks.after_commit(_after_commit, current_app._get_current_object(), {user_id},
                       [mail_id] if mail_id else [])


def _after_commit(app, user_ids, mail_ids):
    from . import mailing

    mailing.after_commit(app, sorted(user_ids), mail_ids)


def recount_unread(session, user_id):
    """Store a member's unread count, recounted from the rows. The row lock comes first, so the
    count that follows sees every notification committed before it (READ COMMITTED)."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    session.execute(update(User).where(User.id == user_id).values(
        unread_notification_count=select(func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()))


# -- events ---------------------------------------------------------------------------------------

QUOTE_RE = re.compile(r"^> \[@([A-Za-z0-9][A-Za-z0-9_.-]*) wrote\]\(/t/[^/\s)]+/(\d+)/(\d+)\):",
                      re.M)


def _quoted_authors(raw):
    """User ids of the posts a Markdown text quotes (Discourse's quote line)."""
    ids = []
    for name, topic_id, post_number in QUOTE_RE.findall(raw or ""):
        author = db.session.scalar(select(Post.user_id).where(
            Post.topic_id == int(topic_id), Post.post_number == int(post_number)))
        if author is None:
            author = db.session.scalar(select(User.id).where(User.username_lower == name.lower()))
        if author is not None and author not in ids:
            ids.append(author)
    return ids


def _mentioned(raw, topic):
    names = mentioned_usernames(raw)[:MAX_MENTIONS]
    if not names:
        return []
    users = db.session.scalars(select(User).where(User.username_lower.in_(names))).all()
    return [u.id for u in users if permissions.can_see_topic(u, topic)]


def _reply_target(post):
    number = post.reply_to_post_number or (1 if post.post_number > 1 else None)
    if number is None:
        return None
    return db.session.scalar(select(Post.user_id).where(
        Post.topic_id == post.topic_id, Post.post_number == number, Post.deleted_at.is_(None)))


def _send_post_notifications(post, candidates):
    """candidates: {user_id: kind}; each member hears once, as the most specific kind."""
    for user_id, kind in candidates.items():
        if user_id != post.user_id:
            notify(user_id, kind, actor=post.user, post=post)


def post_created(post):
    """A new post: the member replied to, quoted or mentioned hears of it, and so does everyone
    watching the topic. The author starts watching a topic they open, tracking one they reply
    in."""
    topic = post.topic
    candidates = {}
    if post.post_number == 1:
        levels.default_level(post.user_id, topic.id, "watching", "created")
    else:
        levels.default_level(post.user_id, topic.id, "tracking", "replied")
        target = _reply_target(post)
        if target is not None:
            candidates[target] = "replied"
    for user_id in _quoted_authors(post.raw):
        candidates.setdefault(user_id, "quoted")
    for user_id in _mentioned(post.raw, topic):
        candidates.setdefault(user_id, "mentioned")
    if post.post_number > 1:
        for user_id in levels.members_at(topic, ("watching",)):
            candidates.setdefault(user_id, "posted")
    _send_post_notifications(post, candidates)


def post_edited(post, raw_before):
    """Members newly quoted or mentioned by an edit hear of it; nobody hears twice. The text
    before says who is new to this edit; the notifications say who already heard of the post
    (replied to, or mentioned by an edit that was undone and done again)."""
    before = set(_quoted_authors(raw_before)) | set(_mentioned(raw_before, post.topic))
    candidates = {}
    for user_id in _quoted_authors(post.raw):
        candidates.setdefault(user_id, "quoted")
    for user_id in _mentioned(post.raw, post.topic):
        candidates.setdefault(user_id, "mentioned")
    candidates = {u: k for u, k in candidates.items() if u not in before and u != post.user_id}
    if candidates:
        heard = set(db.session.scalars(select(Notification.user_id).where(
            Notification.post_id == post.id, Notification.kind.in_(POST_KINDS),
            Notification.user_id.in_(candidates))))
        candidates = {u: k for u, k in candidates.items() if u not in heard}
    _send_post_notifications(post, candidates)


def post_liked(post, liker):
    notify(post.user_id, "liked", actor=liker, post=post, count=1)


def item_proposed(item):
    """A new amendment or clarification: the proposal's author hears of it, and so do members
    watching or tracking the proposal's thread. Its author starts watching that thread."""
    proposal = item.proposal
    kind = "amendment_proposed" if item.kind == "amendment" else "clarification_asked"
    recipients = [proposal.user_id] + [u for u in levels.members_at(proposal.topic,
                                                              ("watching", "tracking"))
                                       if u != proposal.user_id]
    for user_id in recipients:
        notify(user_id, kind, actor=item.user, amendment=item)
    levels.default_level(item.user_id, proposal.topic_id, "watching", "amended")


def item_voted(item, voter, value, previous):
    """Votes gather into one notification per item until its author reads it. `previous` is
    the voter's vote before this one: withdrawing a vote, or casting the same one again, is no
    news."""
    if value not in (1, -1) or previous == value:
        return
    notify(item.user_id, "amendment_votes", actor=voter, amendment=item, count=1,
           up=int(value == 1), down=int(value == -1))


def proposal_created(proposal):
    """Members watching the process hear of each new proposal in it."""
    rows = db.session.scalars(select(ProcessNotificationLevel.user_id).where(
        ProcessNotificationLevel.process_id == proposal.process_id,
        ProcessNotificationLevel.level == "watching")).all()
    for user_id in rows:
        notify(user_id, "proposal_created", actor=proposal.user, proposal=proposal)


# -- reading --------------------------------------------------------------------------------------

def listed(session, stmt):
    """The notifications `stmt` selects, each marked `withheld` when its post (or topic) has
    been hidden or withdrawn since: a list or digest then shows no words of it."""
    gone = (Post.hidden_at.is_not(None) | Post.deleted_at.is_not(None)
            | Topic.hidden_at.is_not(None) | Topic.deleted_at.is_not(None))
    rows = session.execute(stmt.add_columns(gone)
                           .outerjoin(Post, Post.id == Notification.post_id)
                           .outerjoin(Topic, Topic.id == Notification.topic_id)).all()
    for notification, withheld in rows:
        notification.withheld = bool(withheld)
    return [notification for notification, _ in rows]


def page_for(user, page=1, unread_only=False):
    require(permissions.can_read_notifications(user))
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = listed(db.session, stmt.order_by(Notification.updated_at.desc(),
                                            Notification.id.desc())
                  .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1))
    return rows[:PER_PAGE], len(rows) > PER_PAGE


def get_own(user, notification_id):
    require(permissions.can_read_notifications(user))
    notification = db.session.get(Notification, as_id(notification_id)) \
        if as_id(notification_id) else None
    if notification is None or notification.user_id != user.id:
        raise NotFound("That notification does not exist.")
    return notification


def mark_read(user, notification_id=None):
    """Mark one notification, or all of them, read; returns the member's unread count."""
    require(permissions.can_read_notifications(user))
    if notification_id is not None:
        get_own(user, notification_id)
    with write_transaction():
        stmt = update(Notification).where(Notification.user_id == user.id,
                                          Notification.read_at.is_(None))
        if notification_id is not None:
            stmt = stmt.where(Notification.id == int(notification_id))
        db.session.execute(stmt.values(read_at=utcnow()))
        recount_unread(db.session, user.id)
    db.session.refresh(user)
    return user.unread_notification_count


def unread_count(user):
    return user.unread_notification_count if user.is_authenticated else 0
