"""Queries of proposals and their amendments that take the viewer: the amendments panel with
each item's rank, the paragraph counts, proposal lists and supports."""
from functools import lru_cache

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .extensions import db
from .models import Amendment, Process, Proposal, ProposalSupport, Topic
from .queries import Page, page_bound

AMENDMENT_SORTS = ("top", "new", "controversial")
RANKED = ("open", "in_lab", "accepted", "composited", "rejected", "answered", "not_selected")


def _rank_column(counted):
    """Each counted item's place among its proposal's counted items of the same kind."""
    return func.row_number().over(
        partition_by=(Amendment.proposal_id, Amendment.kind, case((counted, 1), else_=0)),
        order_by=(Amendment.score.desc(), (Amendment.up_count + Amendment.down_count).desc(),
                  Amendment.created_at, Amendment.id)).label("rank")


def amendment_list(viewer, proposal, sort="top", kind=None, paragraph=None, page=1,
                   per_page=50, include_withdrawn=False):
    """A page of a proposal's items with their rank among items of the same kind.

    Rank is by the Wilson lower bound, ties broken by more votes then earlier creation; it is
    computed over every ranked item of the proposal whatever the filter or sort of the page.
    """
    if sort not in AMENDMENT_SORTS:
        sort = "top"
    kind = kind if kind in ("amendment", "clarification") else None
    page = max(int(page), 1)
    stmt = _amendment_list_statement(sort, bool(kind), bool(paragraph), include_withdrawn,
                                     bool(viewer.is_staff))
    rows = db.session.execute(stmt, {
        "proposal_id": proposal.id, "kind": kind, "paragraph": paragraph,
        "version_number": proposal.current_version_number,
        "viewer_id": viewer.id if viewer.is_authenticated else None,
        "limit": per_page + 1, "offset": (page - 1) * per_page}).all()
    for item, _rank in rows:
        # Each item's proposal is the one given: no lazy load per item to find it.
        set_committed_value(item, "proposal", proposal)
    return Page([(item, rank) for item, rank in rows[:per_page]], page, per_page,
                len(rows) > per_page)


@lru_cache(maxsize=None)
def _amendment_list_statement(sort, by_kind, by_paragraph, include_withdrawn, staff):
    """The statement for one shape of amendments panel, built once per process with its values
    as bound parameters (as queries._topic_list_statement)."""
    # One pass over the proposal's items numbers the ranked ones; filters apply afterwards, so
    # that a filtered page still shows each item's rank among all of them.
    counted = Amendment.status.in_(RANKED) & Amendment.hidden_at.is_(None)
    every = (select(Amendment.id, Amendment.kind, Amendment.status, Amendment.hidden_at,
                    Amendment.user_id, Amendment.start, Amendment.end, Amendment.created_at,
                    Amendment.controversy, Amendment.version_number,
                    case((counted, _rank_column(counted)), else_=None).label("rank"))
             .where(Amendment.proposal_id == bindparam("proposal_id")).subquery())
    keys = select(every.c.id, every.c.rank)
    if not include_withdrawn:
        shown = every.c.status.in_(RANKED)
        if not staff:
            shown = shown & (every.c.hidden_at.is_(None)
                             | (every.c.user_id == bindparam("viewer_id")))
        keys = keys.where(shown)
    if by_kind:
        keys = keys.where(every.c.kind == bindparam("kind"))
    if by_paragraph:
        # An item concerns paragraph p if its range covers p, or it inserts just before p.
        paragraph = bindparam("paragraph")
        keys = keys.where(every.c.version_number == bindparam("version_number"),
                          every.c.start <= paragraph,
                          (every.c.end >= paragraph) | (every.c.start == paragraph))
    if sort == "new":
        order = [every.c.created_at.desc(), every.c.id.desc()]
    elif sort == "controversial":
        order = [every.c.controversy.desc(), every.c.created_at, every.c.id]
    else:
        order = [every.c.kind, every.c.rank.is_(None), every.c.rank]
    # The page is chosen on narrow rows; only its own items are read whole, with their authors.
    chosen = (keys.add_columns(func.row_number().over(order_by=order).label("position"))
              .order_by(*order).limit(page_bound("limit")).offset(page_bound("offset"))
              .subquery())
    return (select(Amendment, chosen.c.rank).join(chosen, chosen.c.id == Amendment.id)
            .options(joinedload(Amendment.user)).order_by(chosen.c.position))


def paragraph_counts(proposal, paragraph_count):
    """How many amendments and clarifications concern each paragraph of the current version:
    {n: (amend, clarify)}."""
    ranges = db.session.execute(_paragraph_ranges_statement(), {
        "proposal_id": proposal.id, "version_number": proposal.current_version_number}).all()
    counts = {n: [0, 0] for n in range(1, paragraph_count + 2)}
    for kind, start, end, items in ranges:
        slot = 0 if kind == "amendment" else 1
        for n in range(start, min(max(end, start), paragraph_count + 1) + 1):
            counts[n][slot] += items
    return counts


@lru_cache(maxsize=1)
def _paragraph_ranges_statement():
    return (select(Amendment.kind, Amendment.start, Amendment.end, func.count())
            .where(Amendment.proposal_id == bindparam("proposal_id"),
                   Amendment.status.in_(RANKED), Amendment.hidden_at.is_(None),
                   # Numbers of an earlier version name other paragraphs of this one.
                   Amendment.version_number == bindparam("version_number"))
            .group_by(Amendment.kind, Amendment.start, Amendment.end))


PROPOSAL_SORTS = ("supports", "activity", "newest")


def proposal_list(viewer, process=None, status=None, scope=None, sort="supports", page=1,
                  per_page=30):
    stmt = select(Proposal).options(joinedload(Proposal.user))
    if process is not None:
        stmt = stmt.where(Proposal.process_id == process.id)
    if status:
        stmt = stmt.where(Proposal.status == status)
    if scope:
        stmt = stmt.join(Process, Process.id == Proposal.process_id).where(Process.scope == scope)
    if sort == "activity":
        stmt = stmt.join(Topic, Topic.id == Proposal.topic_id)
    order = {"supports": [Proposal.support_count.desc(), Proposal.created_at],
             "activity": [Topic.bumped_at.desc(), Proposal.id.desc()] if sort == "activity"
             else [],
             "newest": [Proposal.created_at.desc(), Proposal.id.desc()]}.get(
        sort, [Proposal.support_count.desc(), Proposal.created_at])
    page = max(int(page), 1)
    rows = db.session.scalars(stmt.order_by(*order).limit(per_page + 1)
                              .offset((page - 1) * per_page)).all()
    return Page(rows[:per_page], page, per_page, len(rows) > per_page)


def supported(viewer, proposal_ids):
    if not viewer.is_authenticated or not proposal_ids:
        return set()
    return set(db.session.scalars(select(ProposalSupport.proposal_id).where(
        ProposalSupport.user_id == viewer.id,
        ProposalSupport.proposal_id.in_(list(proposal_ids)))))


def item_rank(item):
    """One item's rank among its proposal's ranked items of the same kind, by one COUNT."""
    if item.status not in RANKED or item.hidden_at is not None:
        return None
    ahead = db.session.scalar(_items_ahead_statement(), {
        "proposal_id": item.proposal_id, "kind": item.kind, "score": item.score,
        "votes": item.up_count + item.down_count, "created_at": item.created_at,
        "id": item.id})
    return ahead + 1


@lru_cache(maxsize=1)
def _items_ahead_statement():
    """How many ranked items of a proposal and kind come before one, built once (a vote
    answers with its item's rank)."""
    votes, score = Amendment.up_count + Amendment.down_count, bindparam("score")
    mine, created_at = bindparam("votes"), bindparam("created_at")
    better = (
        (Amendment.score > score)
        | ((Amendment.score == score) & (votes > mine))
        | ((Amendment.score == score) & (votes == mine) & (Amendment.created_at < created_at))
        | ((Amendment.score == score) & (votes == mine) & (Amendment.created_at == created_at)
           & (Amendment.id < bindparam("id"))))
    return select(func.count(Amendment.id)).where(
        Amendment.proposal_id == bindparam("proposal_id"), Amendment.kind == bindparam("kind"),
        Amendment.status.in_(RANKED), Amendment.hidden_at.is_(None), better)
