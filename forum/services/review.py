"""Flags and the review queue: members flag, moderators agree, disagree or ignore.

An item flagged by `FLAGS_TO_HIDE` distinct members (a setting, default 3) is hidden at once,
pending review, and its author is told why and how to put it right.
"""
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import permissions
from ..db import write_transaction
from ..errors import Conflict, NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..models import Amendment, Flag, Post, ReviewItem, Topic, utcnow
from ..models.moderation import FLAG_LABELS, FLAG_TYPES
from ..queries import Page
from . import audit
from .member_moderation import get_member, locked_member, tell_member
from .moderation import (check_hideable, check_reason, clear_hidden, is_gone, load_target,
                         notify_hidden, parse_until, set_hidden)

MESSAGE_MAX = 1000
HIDDEN_BY_FLAGS = "members flagged it and it is waiting for a moderator to review it"
FLAG_TYPE_BY_ID = {number: name for name, number in FLAG_TYPES.items()}


def flag_type_for(post_action_type_id):
    """Discourse's post_action_type_id (3, 4, 7, 8) as our flag type, or None."""
    try:
        return FLAG_TYPE_BY_ID.get(int(post_action_type_id))
    except (TypeError, ValueError):
        return None


def _check_flag(flag_type, message):
    message = message.strip() if isinstance(message, str) else ""
    if not isinstance(flag_type, str) or flag_type not in FLAG_TYPES:
        raise ValidationFailed(field_errors={"flag_type": [
            "Choose why: off-topic, inappropriate, spam or something else."]})
    if flag_type == "other" and len(message) < 5:
        raise ValidationFailed(field_errors={"message": [
            "Tell the moderators what is wrong (at least 5 characters)."]})
    if len(message) > MESSAGE_MAX:
        raise ValidationFailed(field_errors={"message": [
            f"Keep the message under {MESSAGE_MAX:,} characters."]})
    return message


def can_flag(user, kind, target):
    if not (verdict := permissions.can_read_words(user, kind, target)):
        return verdict
    return permissions.can_flag(user, target.user_id, target.hidden_at, is_gone(kind, target))


def flag(user, kind, target_id, flag_type, message=""):
    """Flag a post, topic, amendment or clarification; one flag per member per item.

    The target row is locked first, so concurrent flags queue up: each joins the target's
    pending review item (or opens one), then the flags are counted from the rows.
    """
    target = load_target(kind, target_id)
    require(can_flag(user, kind, target))
    check_hideable(kind, target)
    message = _check_flag(flag_type, message)
    try:
        with write_transaction():
            target = load_target(kind, target.id, lock=True)
            require(can_flag(user, kind, target))
            if db.session.scalar(select(Flag.id).where(
                    Flag.target_kind == kind, Flag.target_id == target.id,
                    Flag.user_id == user.id)):
                raise _already()
            review = _pending_review(kind, target) or _open_review(kind, target)
            item = Flag(review_item_id=review.id, target_kind=kind, target_id=target.id,
                        user_id=user.id, flag_type=flag_type, message=message)
            db.session.add(item)
            db.session.flush()
            review.flag_count = db.session.scalar(select(func.count(Flag.id)).where(
                Flag.review_item_id == review.id))
            if review.flag_count >= current_app.config["FLAGS_TO_HIDE"] \
                    and target.hidden_at is None:
                now = utcnow()
                set_hidden(kind, target, HIDDEN_BY_FLAGS, now)
                review.hidden_by_flags_at = now
                # Not a moderator's act, but an act of power over someone's words all the same.
                audit.record(None, f"hide_{kind}", kind, target.id,
                             f"Hidden after {review.flag_count} flags, pending review.",
                             review_id=review.id)
                notify_hidden(kind, target, f"{review.flag_count} members flagged it "
                              f"({_labels(review)}); it is hidden until a moderator reviews it.")
    except IntegrityError:
        raise _already() from None
    return item


def _already():
    return Conflict("You have already flagged this.")


def _labels(review):
    kinds = db.session.scalars(select(Flag.flag_type).where(Flag.review_item_id == review.id)
                               .distinct()).all()
    return ", ".join(FLAG_LABELS[k].lower() for k in sorted(kinds))


def pending_count():
    """How many items wait for a moderator: the staff's header shows it on every page."""
    return db.session.scalar(select(func.count(ReviewItem.id)).where(
        ReviewItem.status == "pending"))


def _pending_review(kind, target):
    return db.session.scalar(select(ReviewItem).where(
        ReviewItem.target_kind == kind, ReviewItem.target_id == target.id,
        ReviewItem.status == "pending"))


def request_another_look(kind, target):
    """Its author edited hidden words: unless a review is already waiting, open one, inside the
    edit's transaction, so a moderator looks again (agree keeps it hidden, disagree shows it)."""
    if target.hidden_at is None or _pending_review(kind, target) is not None:
        return None
    review = _open_review(kind, target)
    review.hidden_by_flags_at = target.hidden_at
    review.review_reason = ""
    return review


def _open_review(kind, target):
    review = ReviewItem(target_kind=kind, target_id=target.id, target_user_id=target.user_id,
                        status="pending", flag_count=0, created_at=utcnow())
    db.session.add(review)
    db.session.flush()
    return review


# -- the queue -----------------------------------------------------------------------------------

def get_review(review_id):
    review = db.session.get(ReviewItem, as_id(review_id)) if as_id(review_id) is not None \
        else None
    if review is None:
        raise NotFound("That review item does not exist.")
    return review


def queue(viewer, status="pending", page=1, per_page=30):
    """Review items, oldest first, with their flags and targets loaded in a few queries."""
    require(permissions.can_moderate(viewer))
    if status not in ("pending", "agreed", "disagreed", "ignored"):
        status = "pending"
    order = [ReviewItem.created_at, ReviewItem.id]
    if status != "pending":
        order = [ReviewItem.reviewed_at.desc(), ReviewItem.id.desc()]
    page = max(int(page), 1)
    rows = db.session.scalars(select(ReviewItem).where(ReviewItem.status == status)
                              .options(joinedload(ReviewItem.target_user),
                                       joinedload(ReviewItem.reviewed_by))
                              .order_by(*order).limit(per_page + 1)
                              .offset((page - 1) * per_page)).all()
    reviews = rows[:per_page]
    targets = targets_for(reviews)
    flags = {}
    if reviews:
        for item in db.session.scalars(select(Flag).where(
                Flag.review_item_id.in_([r.id for r in reviews]))
                .options(joinedload(Flag.user)).order_by(Flag.id)):
            flags.setdefault(item.review_item_id, []).append(item)
    items = [(review, targets.get((review.target_kind, review.target_id)),
              flags.get(review.id, [])) for review in reviews]
    return Page(items, page, per_page, len(rows) > per_page)


def of_member(viewer, user_id, limit=30):
    """[(review item, its target)] for a member's words that were flagged, newest first: what
    a moderator weighs before silencing them, beside the acts on the member themselves."""
    require(permissions.can_moderate(viewer))
    reviews = db.session.scalars(select(ReviewItem).where(ReviewItem.target_user_id == user_id)
                                 .options(joinedload(ReviewItem.reviewed_by))
                                 .order_by(ReviewItem.created_at.desc(), ReviewItem.id.desc())
                                 .limit(limit)).all()
    targets = targets_for(reviews)
    return [(item, targets.get((item.target_kind, item.target_id))) for item in reviews]


def targets_for(reviews):
    """{(kind, id): target} for the review items, one query per kind of target, with what the
    queue shows of it (its author; a post's topic)."""
    wanted = {}
    for review in reviews:
        wanted.setdefault(review.target_kind, set()).add(review.target_id)
    found = {}
    for kind, ids in wanted.items():
        model = {"post": Post, "topic": Topic}.get(kind, Amendment)
        shown = [joinedload(model.user)] + ([joinedload(Post.topic)] if model is Post else [])
        for target in db.session.scalars(select(model).where(model.id.in_(ids))
                                         .options(*shown)):
            found[(kind, target.id)] = target
    return found


def _locked_pending(review_id):
    review = db.session.scalar(select(ReviewItem).where(ReviewItem.id == int(review_id))
                               .with_for_update(of=ReviewItem))
    if review is None:
        raise NotFound("That review item does not exist.")
    if review.status != "pending":
        raise Conflict(f"This review item is already {review.status}.")
    return review


def _close(actor, review, status, reason):
    review.status = status
    review.reviewed_by_id = getattr(actor, "id", None)
    review.reviewed_at = utcnow()
    review.review_reason = reason


def agree(actor, review_id, reason="", silence_until=None, silence_reason=""):
    """The flags were right: hide the item (if it is not already), and optionally silence its
    author until a date. Two acts, two audit events."""
    require(permissions.can_moderate(actor))
    review = get_review(review_id)
    reason = check_reason(reason, required=False)
    until = None
    if silence_until not in (None, ""):
        require(permissions.can_moderate_member(actor, get_member(review.target_user_id)))
        until = parse_until(silence_until, field="silence_until")
        silence_reason = check_reason(silence_reason or reason, field="silence_reason")
    with write_transaction():
        review = _locked_pending(review.id)
        target = load_target(review.target_kind, review.target_id, lock=True)
        kind = review.target_kind
        hid = target.hidden_at is None and not is_gone(kind, target)
        why = reason or f"a moderator agreed with members' flags ({_labels(review)})"
        if hid:
            set_hidden(kind, target, why)
            notify_hidden(kind, target, why, actor)
        elif target.hidden_at is not None:
            # The flags had hidden it pending review: the author hears the verdict, and why.
            if reason:
                target.hidden_reason = reason
            notify_hidden(kind, target, why, actor)
        _close(actor, review, "agreed", reason)
        audit.record(actor, "agree_flags", kind, target.id, reason, review_id=review.id,
                     flags=review.flag_count, hidden_now=hid)
        if until is not None:
            author = locked_member(actor, review.target_user_id)
            author.silenced_until, author.silence_reason = until, silence_reason
            audit.record(actor, "silence_user", "user", author.id, silence_reason,
                         until=until.isoformat(), review_id=review.id)
            tell_member(author, "silenced", "You can still sign in and read, but not post, "
                         "vote, amend or flag", until, silence_reason)
    return review


def disagree(actor, review_id, reason=""):
    """The flags were wrong: clear them, and show the item again if flags had hidden it."""
    require(permissions.can_moderate(actor))
    review = get_review(review_id)
    reason = check_reason(reason, required=False)
    with write_transaction():
        review = _locked_pending(review.id)
        target = load_target(review.target_kind, review.target_id, lock=True)
        # Hidden pending this review (by flags, or waiting since its author edited it).
        restored = review.hidden_by_flags_at is not None and target.hidden_at is not None
        if restored:
            clear_hidden(review.target_kind, target)
        _close(actor, review, "disagreed", reason)
        audit.record(actor, "disagree_flags", review.target_kind, target.id, reason,
                     review_id=review.id, flags=review.flag_count, unhidden=restored)
    return review


def ignore(actor, review_id, reason=""):
    """Take it off the queue and change nothing: a hidden item stays hidden."""
    require(permissions.can_moderate(actor))
    review = get_review(review_id)
    reason = check_reason(reason, required=False)
    with write_transaction():
        review = _locked_pending(review.id)
        _close(actor, review, "ignored", reason)
        audit.record(actor, "ignore_flags", review.target_kind, review.target_id, reason,
                     review_id=review.id, flags=review.flag_count)
    return review
