"""Votes on amendments and clarifications: one function for every transition."""
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import permissions
from .. import search
from ..db import write_transaction
from ..errors import ValidationFailed, require
from ..extensions import db
from ..models import Amendment, AmendmentVote, utcnow
from ..ranking import controversy, wilson_lower_bound
from ..upsert import upsert
from . import notifications
from .amendments import get_item


def cast_vote(user, item_id, value):
    """Set the member's vote on an item to +1, -1 or 0 (no vote).

        before    value   effect
        none      +1/-1   insert the vote row
        +1        -1      update the row to -1          (and -1 -> +1 likewise)
        +1/-1     0       delete the row
        none      0       nothing
        v         v       nothing (the row already says so)

    The item row is locked first, so concurrent votes on it queue up; each then recounts
    up and down from the vote rows (never +1 in Python) and stores the Wilson score, all in
    one transaction. The primary key (amendment_id, user_id) keeps one vote per member.

    A vote is the busiest write there is, so it keeps its statements few: the lock loads the
    item with its proposal, process and author (get_item(lock=True)), and the objects stay
    loaded after the commit (the recount's values are set on the item), so answering needs no
    reloads.
    """
    if isinstance(value, bool) or value not in (1, -1, 0, "1", "-1", "0"):
        raise ValidationFailed(field_errors={"value": ["Vote 1 (up), -1 (down) or 0 (none)."]})
    value = int(value)
    with write_transaction(keep_loaded=True):
        item = get_item(item_id, lock=True)
        require(permissions.can_vote_on(user, item))
        mine = {"amendment_id": item.id, "user_id": user.id}
        previous = db.session.scalar(_MY_VOTE, mine)
        if previous == (value or None):
            return item, value  # nothing changes; the transaction ends with nothing written
        notifications.item_voted(item, user, value, previous)
        now = utcnow()
        if value == 0:
            db.session.execute(_DELETE_MY_VOTE, mine)
        else:
            db.session.execute(upsert(
                AmendmentVote, ("amendment_id", "user_id"),
                {"amendment_id": item.id, "user_id": user.id, "value": value,
                 "created_at": now, "updated_at": now},
                update={"value": value, "updated_at": now}))
        counts = recount(item.id)
        # Votes only order results (order:votes): applied with the next catch-up.
        search.enqueue("amendment", item.id, soon=False)
    for name, stored in counts.items():
        set_committed_value(item, name, stored)
    return item, value


def _tally(value):
    return select(func.count()).select_from(AmendmentVote).where(
        AmendmentVote.amendment_id == bindparam("item_id"),
        AmendmentVote.value == value).scalar_subquery()


# Built once: a vote is the busiest write, and building and keying these statements on every
# vote cost more than running them.
_MY_VOTE = select(AmendmentVote.value).where(
    AmendmentVote.amendment_id == bindparam("amendment_id"),
    AmendmentVote.user_id == bindparam("user_id"))
_DELETE_MY_VOTE = AmendmentVote.__table__.delete().where(
    AmendmentVote.amendment_id == bindparam("amendment_id"),
    AmendmentVote.user_id == bindparam("user_id"))
_RECOUNT = (update(Amendment).where(Amendment.id == bindparam("item_id"))
            .values(up_count=_tally(1), down_count=_tally(-1))
            .returning(Amendment.up_count, Amendment.down_count))
_RESCORE = (update(Amendment).where(Amendment.id == bindparam("item_id"))
            .values(score=bindparam("score"), controversy=bindparam("controversy")))


def recount(item_id):
    """Recompute up, down and score of one item from its vote rows; returns what it stored."""
    up, down = db.session.execute(_RECOUNT, {"item_id": item_id}).one()
    counts = {"up_count": up, "down_count": down, "score": wilson_lower_bound(up, down),
              "controversy": controversy(up, down)}
    db.session.execute(_RESCORE, {"item_id": item_id, "score": counts["score"],
                                  "controversy": counts["controversy"]})
    return counts


def my_votes(user, item_ids):
    if not user.is_authenticated or not item_ids:
        return {}
    return dict(db.session.execute(select(AmendmentVote.amendment_id, AmendmentVote.value).where(
        AmendmentVote.user_id == user.id, AmendmentVote.amendment_id.in_(list(item_ids)))).all())
