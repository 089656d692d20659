"""Votes on amendments and clarifications: one function for every transition."""
from sqlalchemy import func, select, update

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
    """
    if isinstance(value, bool) or value not in (1, -1, 0, "1", "-1", "0"):
        raise ValidationFailed(field_errors={"value": ["Vote 1 (up), -1 (down) or 0 (none)."]})
    value = int(value)
    item = get_item(item_id)
    with write_transaction():
        item = db.session.scalar(select(Amendment).where(Amendment.id == item.id)
                                 .with_for_update(of=Amendment))
        require(permissions.can_vote_on(user, item))
        notifications.item_voted(item, user, value)  # before the change: it compares
        now = utcnow()
        if value == 0:
            db.session.execute(AmendmentVote.__table__.delete().where(
                AmendmentVote.amendment_id == item.id, AmendmentVote.user_id == user.id))
        else:
            db.session.execute(upsert(
                AmendmentVote, ("amendment_id", "user_id"),
                {"amendment_id": item.id, "user_id": user.id, "value": value,
                 "created_at": now, "updated_at": now},
                update={"value": value, "updated_at": now}))
        recount(item.id)
        # Votes only order results (order:votes): applied with the next catch-up.
        search.enqueue("amendment", item.id, soon=False)
    db.session.refresh(item)
    return item, value


def recount(item_id):
    """Recompute up, down and score of one item from its vote rows."""
    def tally(v):
        return select(func.count()).select_from(AmendmentVote).where(
            AmendmentVote.amendment_id == item_id, AmendmentVote.value == v).scalar_subquery()

    up, down = db.session.execute(
        update(Amendment).where(Amendment.id == item_id)
        .values(up_count=tally(1), down_count=tally(-1))
        .returning(Amendment.up_count, Amendment.down_count)).one()
    db.session.execute(update(Amendment).where(Amendment.id == item_id)
                       .values(score=wilson_lower_bound(up, down),
                               controversy=controversy(up, down)))
    return up, down


def my_votes(user, item_ids):
    if not user.is_authenticated or not item_ids:
        return {}
    return dict(db.session.execute(select(AmendmentVote.amendment_id, AmendmentVote.value).where(
        AmendmentVote.user_id == user.id, AmendmentVote.amendment_id.in_(list(item_ids)))).all())
