"""Closing an amendment window: the intake rule, the stored ranking, and opening the lab."""
from sqlalchemy import select

from .. import permissions, search
from ..db import write_transaction
from ..errors import Conflict, NotFound, require
from ..extensions import db
from ..models import Amendment, IntakeEntry, PolicyLab, Proposal, utcnow
from ..ranking import sort_key
from . import audit, notifications, proposal_news
from .amendments import refresh_item_counts
from .posts import open_thread


def rank_open_items(proposal_id):
    """The proposal's open, visible items per kind, best first, with their 1-based rank."""
    items = db.session.scalars(select(Amendment).where(
        Amendment.proposal_id == proposal_id, Amendment.status == "open",
        Amendment.hidden_at.is_(None))).all()
    ranked = {"amendment": [], "clarification": []}
    for item in sorted(items, key=lambda i: sort_key(i.score, i.up_count, i.down_count,
                                                     i.created_at, i.id)):
        ranked[item.kind].append(item)
    return ranked


def apply_intake_rule(ranked, process):
    """[(item, rank, taken, reason)] exactly as designed, deterministic for the same votes.

    An item is taken in when it has at least lab_min_votes votes and more up than down votes,
    best first, until the kind's cap (lab_intake_max or lab_clarifications_max) is reached.
    """
    caps = {"amendment": process.lab_intake_max,
            "clarification": process.lab_clarifications_max}
    out = []
    for kind in ("amendment", "clarification"):
        taken = 0
        for rank, item in enumerate(ranked[kind], start=1):
            if item.up_count + item.down_count < process.lab_min_votes:
                reason = f"fewer than {process.lab_min_votes} votes"
            elif item.up_count <= item.down_count:
                reason = "no more up than down votes"
            elif taken >= caps[kind]:
                reason = f"below the cut: {caps[kind]} {kind}s taken"
            else:
                reason = "taken in"
                taken += 1
            out.append((item, rank, reason == "taken in", reason))
    return out


def close_amendment_window(actor, proposal_id, reason=""):
    """Close one proposal's window: store the ranking, take the best items in, open its lab.

    `actor` None means the scheduled phase change (flask forum advance); otherwise a moderator
    or the section's lead closing it early.
    """
    with write_transaction():
        proposal = db.session.scalar(select(Proposal).where(Proposal.id == int(proposal_id))
                                     .with_for_update(of=Proposal))
        if proposal is None:
            raise NotFound("That proposal does not exist.")
        if actor is not None:
            require(permissions.can_close_window(actor, proposal))
        elif proposal.status != "open":
            raise Conflict(f"This proposal is {proposal.status.replace('_', ' ')}: "
                           "its window is not open.")
        lab = open_lab(proposal, actor)
        audit.record(actor, "close_window", "proposal", proposal.id,
                     reason or ("closed early" if actor else "amendment deadline passed"),
                     lab_id=lab.id)
    return lab


def open_lab(proposal, actor):
    now = utcnow()
    process = proposal.process
    proposal.window_closed_at = now
    proposal.status = "in_lab"
    proposal.updated_at = now
    search.enqueue("proposal", proposal.id)  # status: filters and shows it
    host = actor or proposal.user
    room = open_thread(host, process.category, f"Policy lab: {proposal.title}"[:200],
                       f"The policy lab for “{proposal.title}”. Everyone can read here; "
                       "the section's leads and invited members post.", kind="lab")
    lab = PolicyLab(proposal_id=proposal.id, topic_id=room.topic_id,
                    base_version_number=proposal.current_version_number, opened_at=now)
    db.session.add(lab)
    db.session.flush()
    for item, rank, taken, why in apply_intake_rule(rank_open_items(proposal.id), process):
        db.session.add(IntakeEntry(lab_id=lab.id, amendment_id=item.id, kind=item.kind,
                                   up=item.up_count, down=item.down_count, score=item.score,
                                   rank=rank, taken=taken, reason=why))
        item.status = "in_lab" if taken else "not_selected"
        item.updated_at = now
        search.enqueue("amendment", item.id)
        notifications.notify(item.user_id, "amendment_in_lab" if taken else
                             "amendment_not_selected", amendment=item, proposal=proposal,
                             reason=why, url=f"/labs/{lab.id}")
    refresh_item_counts(proposal.id)
    proposal_news.lab_opened(proposal, lab, actor)
    return lab
