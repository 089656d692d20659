"""The ballot: promotion of final texts, publication with provenance, outcomes."""
import hashlib

from sqlalchemy import select

from .. import exports, permissions, search
from ..db import write_transaction
from ..errors import Conflict, NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..models import (Amendment, Ballot, BallotItem, IntakeEntry, LabDecision, PolicyLab,
                      Proposal, ProposalVersion, utcnow)
from ..texts import counted
from . import audit, notifications


def get_ballot(ballot_id):
    ballot = db.session.get(Ballot, as_id(ballot_id)) if as_id(ballot_id) else None
    if ballot is None:
        raise NotFound("That ballot does not exist.")
    return ballot


def ballot_for(process):
    return db.session.scalar(select(Ballot).where(Ballot.process_id == process.id))


def _locked(ballot_id):
    return db.session.scalar(select(Ballot).where(Ballot.id == ballot_id)
                             .with_for_update(of=Ballot))


def promote(actor, ballot_id):
    """Final proposals with enough supports go on the ballot; the rest are not qualified."""
    require(permissions.can_manage_ballot(actor))
    ballot = get_ballot(ballot_id)
    with write_transaction():
        ballot = _locked(ballot.id)
        process = ballot.process
        if ballot.status != "draft":
            raise Conflict(f"This ballot is {ballot.status}: promotion has been done.")
        if process.phase != "ballot":
            raise Conflict(f"The process is in its {process.phase} phase: promotion comes "
                           "once the labs have closed (run advance).")
        proposals = db.session.scalars(select(Proposal).where(
            Proposal.process_id == process.id,
            Proposal.status.in_(("open", "in_lab", "final")))
            .order_by(Proposal.support_count.desc(), Proposal.created_at, Proposal.id)).all()
        position = 0
        now = utcnow()
        for proposal in proposals:
            proposal.updated_at = now
            search.enqueue("proposal", proposal.id)  # on_ballot or not_qualified
            if proposal.status != "final":
                proposal.status = "not_qualified"
                proposal.status_reason = "Its lab did not finalise a text before the ballot."
            elif proposal.support_count < process.support_threshold:
                proposal.status = "not_qualified"
                proposal.status_reason = (
                    f"Not on the ballot: it had {counted(proposal.support_count, 'support')} "
                    f"and needed {process.support_threshold}.")
            else:
                position += 1
                proposal.status = "on_ballot"
                proposal.status_reason = f"On the ballot as item {position}."
                db.session.add(BallotItem(ballot_id=ballot.id, proposal_id=proposal.id,
                                          position=position, title=proposal.title))
            audit.record(actor, f"promote_{proposal.status}", "proposal", proposal.id,
                         proposal.status_reason, ballot_id=ballot.id)
            # No actor: the author hears of the outcome even if they ran the promotion.
            notifications.notify(proposal.user_id, "proposal_promoted"
                                 if proposal.status == "on_ballot" else "proposal_not_qualified",
                                 proposal=proposal, reason=proposal.status_reason)
        ballot.status = "promoted"
        ballot.promoted_at = now
        audit.record(actor, "promote_ballot", "ballot", ballot.id, f"{position} items")
    return ballot


def provenance(proposal):
    """Where the final text came from: versions, lab decisions, merged amendments with their
    authors and their votes and rank at intake."""
    versions = db.session.scalars(select(ProposalVersion).where(
        ProposalVersion.proposal_id == proposal.id).order_by(ProposalVersion.number)).all()
    lab = db.session.scalar(select(PolicyLab).where(PolicyLab.proposal_id == proposal.id))
    decisions, intake = [], []
    if lab is not None:
        decisions = db.session.scalars(select(LabDecision).where(LabDecision.lab_id == lab.id)
                                       .order_by(LabDecision.id)).all()
        intake = db.session.scalars(select(IntakeEntry).where(IntakeEntry.lab_id == lab.id)
                                    .order_by(IntakeEntry.kind, IntakeEntry.rank)).all()
    at_intake = {e.amendment_id: e for e in intake}
    merged_ids = sorted({i.amendment_id for d in decisions if d.changes_text for i in d.items})
    merged = db.session.scalars(select(Amendment).where(Amendment.id.in_(merged_ids))
                                .order_by(Amendment.id)).all() if merged_ids else []
    by_version = {}
    for d in decisions:
        by_version.setdefault(d.version_number, []).append(d.id)
    return {
        "proposal_id": proposal.id,
        "author": proposal.user.username,
        "supports": proposal.support_count,
        "versions": [{"number": v.number, "sha256": v.sha256, "note": v.note,
                      "created_at": v.created_at.isoformat(),
                      "decision_ids": by_version.get(v.number, [])} for v in versions],
        "lab": None if lab is None else {
            "id": lab.id, "base_version": lab.base_version_number,
            "intake": [{"amendment_id": e.amendment_id, "kind": e.kind, "up": e.up,
                        "down": e.down, "score": round(e.score, 6), "rank": e.rank,
                        "taken": e.taken} for e in intake]},
        "decisions": [{"id": d.id, "decision": d.decision, "amendment_ids":
                       [i.amendment_id for i in d.items], "start": d.start, "end": d.end,
                       "text": d.text, "note": d.note, "by": d.user.username,
                       "version": d.version_number} for d in decisions],
        "amendments": [{"id": a.id, "kind": a.kind, "author": a.user.username,
                        "start": a.start, "end": a.end, "text": a.text,
                        "rationale": a.rationale, "status": a.status,
                        "up": at_intake[a.id].up, "down": at_intake[a.id].down,
                        "score": round(at_intake[a.id].score, 6),
                        "rank": at_intake[a.id].rank} for a in merged],
    }


def final_version(item):
    """The version of an item's proposal that the ballot carries: its current one."""
    return db.session.scalar(select(ProposalVersion).where(
        ProposalVersion.proposal_id == item.proposal_id,
        ProposalVersion.number == item.proposal.current_version_number))


def review(ballot):
    """What the ballot page shows for checking before and after publication: each item's final
    version (its cooked paragraphs, and the text that is or will be hashed) with its provenance
    ({item id: (version, provenance)}), and the process's proposals left off the ballot, with
    why. Before publication the provenance is worked out afresh; after, it is the snapshot."""
    # Every item's final version in one statement, not one (and its proposal) per item.
    versions = dict(db.session.execute(
        select(BallotItem.id, ProposalVersion)
        .join(Proposal, Proposal.id == BallotItem.proposal_id)
        .join(ProposalVersion, (ProposalVersion.proposal_id == Proposal.id)
              & (ProposalVersion.number == Proposal.current_version_number))
        .where(BallotItem.ballot_id == ballot.id)).all())
    # A published item carries its provenance; before publication it is worked out for each
    # item, a few statements each, on a page that only admins look at for those days.
    finals = {item.id: (versions[item.id], item.provenance if item.sha256
                        else provenance(item.proposal)) for item in ballot.items}
    left_off = db.session.scalars(select(Proposal).where(
        Proposal.process_id == ballot.process_id, Proposal.status == "not_qualified")
        .order_by(Proposal.support_count.desc(), Proposal.id)).all() \
        if ballot.status != "draft" else []
    return finals, left_off


def publish(actor, ballot_id):
    """Snapshot every item and fix the export's bytes; after this the ballot never changes."""
    require(permissions.can_manage_ballot(actor))
    ballot = get_ballot(ballot_id)
    with write_transaction():
        ballot = _locked(ballot.id)
        if ballot.status == "published":
            raise Conflict("This ballot is published: it cannot change.")
        if ballot.status != "promoted":
            raise Conflict(f"This ballot is {ballot.status}: promote the final texts first.")
        if not ballot.items:
            raise Conflict("No proposal qualified: there is nothing to put on the ballot.")
        now = utcnow()
        for item in ballot.items:
            final = final_version(item)
            item.title = item.proposal.title
            item.text = final.body
            item.sha256 = hashlib.sha256(final.body.encode()).hexdigest()
            item.provenance = provenance(item.proposal)
        ballot.status = "published"
        ballot.published_at = now
        ballot.published_by_id = actor.id
        ballot.export_json = exports.ballot_json(ballot)
        ballot.export_sha256 = hashlib.sha256(ballot.export_json.encode()).hexdigest()
        audit.record(actor, "publish_ballot", "ballot", ballot.id, ballot.export_sha256)
    return ballot


def record_outcome(actor, item_id, outcome, ballot_id=None):
    require(permissions.can_manage_ballot(actor))
    if not isinstance(outcome, str) or outcome not in ("adopted", "not_adopted"):
        raise ValidationFailed(field_errors={"outcome": ["Choose adopted or not_adopted."]})
    item = db.session.get(BallotItem, as_id(item_id)) if as_id(item_id) else None
    if item is None or (ballot_id is not None and item.ballot_id != ballot_id):
        raise NotFound("That ballot item does not exist.")
    with write_transaction():
        ballot = _locked(item.ballot_id)
        if ballot.status != "published":
            raise Conflict(f"This ballot is {ballot.status}: outcomes follow publication.")
        seats = ballot.process.seats
        adopted = [i for i in ballot.items if i.outcome == "adopted" and i.id != item.id]
        if outcome == "adopted" and len(adopted) >= seats:
            winners = ", ".join(f"“{i.proposal.title}”" for i in adopted)
            raise Conflict(f"This ballot adopts {'one proposal' if seats == 1 else f'{seats} proposals'}"
                           f", and {winners} {'is' if len(adopted) == 1 else 'are'} adopted "
                           "already: record one of them as not adopted first.")
        item.outcome = outcome
        item.outcome_at = utcnow()
        item.proposal.status = outcome
        search.enqueue("proposal", item.proposal_id)
        item.proposal.status_reason = ("Adopted by the members' ballot." if outcome == "adopted"
                                       else "Not adopted by the members' ballot.")
        if all(i.outcome for i in ballot.items):
            ballot.process.phase = "closed"
        audit.record(actor, f"record_{outcome}", "proposal", item.proposal_id,
                     ballot_id=ballot.id)
        notifications.notify(item.proposal.user_id, f"proposal_{outcome}",
                             proposal=item.proposal)
    return item
