"""News of a proposal's progress for the members who follow it: those watching or tracking its
thread (its author, and whoever amended it, watch it by default) and its supporters."""
from sqlalchemy import select

from ..extensions import db
from ..models import ProposalSupport
from . import notification_levels as levels
from .notifications import notify


def followers(proposal):
    """Ids of the members who follow the proposal, its author first."""
    found = [proposal.user_id]
    found += [u for u in levels.members_at(proposal.topic, ("watching", "tracking"))
              if u not in found]
    found += [u for u in db.session.scalars(select(ProposalSupport.user_id).where(
        ProposalSupport.proposal_id == proposal.id).order_by(ProposalSupport.user_id))
        if u not in found]
    return found


def lab_opened(proposal, lab, actor=None):
    """The amendment window closed and the lab took what it took; a muted thread hears
    nothing."""
    for user_id in followers(proposal):
        notify(user_id, "proposal_in_lab", actor=actor, proposal=proposal, url=f"/labs/{lab.id}")


def version_published(proposal, version, actor=None):
    for user_id in followers(proposal):
        notify(user_id, "version_published", actor=actor, proposal=proposal,
               version=version.number)
