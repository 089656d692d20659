"""Write endpoints of policy labs and ballots.

A lab is led by the leads of its proposal's section: "as the section's lead" cases make the
acting member a lead of that section, so every role is tried as a lead too.
"""
from datetime import timedelta

from forum.extensions import db
from forum.models import Process, Section, SectionMembership, utcnow
from forum.services import ballots, cycle, deliberation, intake, lab_members, labs, voting
from tests.conftest import PROPOSAL_BODY

from . import ADMINS, PARTICIPANTS, STAFF, Case, api, form


def _section(ctx, lead):
    ctx.make.n += 1
    section = Section(name=f"Housing {ctx.make.n}", slug=f"housing-{ctx.make.n}")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionMembership(section_id=section.id, user_id=lead.id, is_lead=True))
    db.session.commit()
    return section


def _proposal(ctx, lead=None, **settings):
    """An open proposal by another member, in a section `lead` leads (if given)."""
    process = ctx.make.process(**settings)
    section = _section(ctx, lead) if lead is not None else None
    return deliberation.create_proposal(
        ctx.other, process.id, f"Homes people can afford {ctx.make.n}",
        "More council homes, paid for by land value capture.", PROPOSAL_BODY,
        section.id if section else None)


def _lab(ctx, lead=None, items=1):
    """An open lab whose intake took `items` amendments, each with one up vote."""
    proposal = _proposal(ctx, lead, lab_min_votes=1)
    for n in range(items):
        item = ctx.make.amendment(proposal, start=2 + n, end=2 + n)
        voting.cast_vote(ctx.make.user(), item.id, 1)
    return intake.close_amendment_window(ctx.admin, proposal.id, "Ready")


def _taken(lab):
    return [e.amendment_id for e in db.session.scalars(
        db.select(labs.IntakeEntry).where(labs.IntakeEntry.lab_id == lab.id,
                                          labs.IntakeEntry.taken.is_(True)))]


def lead(ctx):
    return ctx.actor


def nobody(ctx):
    return None


# -- labs --------------------------------------------------------------------------------------

def close_window(fmt, who):
    def build(ctx):
        proposal = _proposal(ctx, who(ctx))
        if fmt == "json":
            return api(f"/proposals/{proposal.id}/close.json", {"reason": "Enough said."})
        return form(f"/proposals/{proposal.id}/close", reason="Enough said.")
    return build


def invite(fmt, who):
    def build(ctx):
        lab = _lab(ctx, who(ctx), items=0)
        if fmt == "json":
            return api(f"/labs/{lab.id}/members.json", {"username": ctx.other.username,
                                                         "role": "expert"})
        return form(f"/labs/{lab.id}/members", username=ctx.other.username, role="expert")
    return build


def remove_member(who):
    def build(ctx):
        lab = _lab(ctx, who(ctx), items=0)
        lab_members.invite(ctx.admin, lab.id, ctx.other.username, "expert")
        return api(f"/labs/{lab.id}/members.json", {"username": ctx.other.username})
    return build


def decide(fmt, who):
    def build(ctx):
        lab = _lab(ctx, who(ctx))
        fields = {"decision": "reject", "amendment_id": _taken(lab)[0],
                  "note": "Out of scope for this text."}
        if fmt == "json":
            return api(f"/labs/{lab.id}/decisions.json", fields)
        return form(f"/labs/{lab.id}/decisions", **{k: str(v) for k, v in fields.items()})
    return build


def undo(fmt, who):
    def build(ctx):
        lab = _lab(ctx, who(ctx))
        decision = labs.decide(ctx.admin, lab.id, {"decision": "accept",
                                                   "amendment_id": _taken(lab)[0]})
        path = f"/labs/{lab.id}/decisions/{decision.id}"
        return api(path + ".json") if fmt == "json" else form(path + "/undo")
    return build


def publish(fmt, who):
    def build(ctx):
        lab = _lab(ctx, who(ctx))
        labs.decide(ctx.admin, lab.id, {"decision": "accept", "amendment_id": _taken(lab)[0]})
        if fmt == "json":
            return api(f"/labs/{lab.id}/publish.json", {"note": "First lab version."})
        return form(f"/labs/{lab.id}/publish", note="First lab version.")
    return build


def finalise(fmt, who):
    def build(ctx):
        lab = _lab(ctx, who(ctx), items=0)
        return api(f"/labs/{lab.id}/finalize.json") if fmt == "json" else \
            form(f"/labs/{lab.id}/finalize")
    return build


# -- ballots -------------------------------------------------------------------------------------

def _past_deadlines(process_id):
    process = db.session.get(Process, process_id)
    past = utcnow() - timedelta(minutes=1)
    process.proposals_close_at = process.amendments_close_at = process.labs_close_at = past
    db.session.commit()


def advance(fmt):
    def build(ctx):
        process = ctx.make.process()
        _past_deadlines(process.id)
        return api(f"/processes/{process.id}/advance.json") if fmt == "json" else \
            form(f"/processes/{process.id}/advance")
    return build


def _ballot(ctx, stage):
    """A process's ballot at `stage`: ready to promote, promoted, or published."""
    proposal = _proposal(ctx, support_threshold=0)
    lab = intake.close_amendment_window(ctx.admin, proposal.id, "Ready")
    labs.finalise(ctx.admin, lab.id)
    _past_deadlines(proposal.process_id)
    cycle.advance(proposal.process_id)
    ballot = ballots.ballot_for(db.session.get(Process, proposal.process_id))
    if stage in ("promoted", "published"):
        ballots.promote(ctx.admin, ballot.id)
    if stage == "published":
        ballots.publish(ctx.admin, ballot.id)
    return ballot


def promote(fmt):
    def build(ctx):
        ballot = _ballot(ctx, "ready")
        return api(f"/ballots/{ballot.id}/promote.json") if fmt == "json" else \
            form(f"/ballots/{ballot.id}/promote")
    return build


def publish_ballot(fmt):
    def build(ctx):
        ballot = _ballot(ctx, "promoted")
        return api(f"/ballots/{ballot.id}/publish.json") if fmt == "json" else \
            form(f"/ballots/{ballot.id}/publish")
    return build


def outcome(fmt):
    def build(ctx):
        ballot = _ballot(ctx, "published")
        path = f"/ballots/{ballot.id}/items/{ballot.items[0].id}/outcome"
        return api(path + ".json", {"outcome": "adopted"}) if fmt == "json" else \
            form(path, outcome="adopted")
    return build


LEAD, NOT_LEAD = "as the section's lead", "not a lead"

CASES = [
    # Moderators and the section's leads close a window early; read-only leads may not.
    Case("labs.close_json", "POST", close_window("json", lead), PARTICIPANTS, state=LEAD),
    Case("labs.close_json", "POST", close_window("json", nobody), STAFF, state=NOT_LEAD),
    Case("labs.close_form", "POST", close_window("form", lead), PARTICIPANTS, state=LEAD),
    Case("labs.close_form", "POST", close_window("form", nobody), STAFF, state=NOT_LEAD),
    # A lab is run by its section's leads, and by admins.
    Case("labs.members_json", "POST", invite("json", lead), PARTICIPANTS, state=LEAD),
    Case("labs.members_json", "POST", invite("json", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.members_json", "DELETE", remove_member(lead), PARTICIPANTS, state=LEAD),
    Case("labs.members_json", "DELETE", remove_member(nobody), ADMINS, state=NOT_LEAD),
    Case("labs.members_form", "POST", invite("form", lead), PARTICIPANTS, state=LEAD),
    Case("labs.members_form", "POST", invite("form", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.decisions_json", "POST", decide("json", lead), PARTICIPANTS, state=LEAD),
    Case("labs.decisions_json", "POST", decide("json", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.decisions_form", "POST", decide("form", lead), PARTICIPANTS, state=LEAD),
    Case("labs.decisions_form", "POST", decide("form", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.decision_json", "DELETE", undo("json", lead), PARTICIPANTS, state=LEAD),
    Case("labs.decision_json", "DELETE", undo("json", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.undo_form", "POST", undo("form", lead), PARTICIPANTS, state=LEAD),
    Case("labs.undo_form", "POST", undo("form", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.publish_json", "POST", publish("json", lead), PARTICIPANTS, state=LEAD),
    Case("labs.publish_json", "POST", publish("json", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.publish_form", "POST", publish("form", lead), PARTICIPANTS, state=LEAD),
    Case("labs.publish_form", "POST", publish("form", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.finalize_json", "POST", finalise("json", lead), PARTICIPANTS, state=LEAD),
    Case("labs.finalize_json", "POST", finalise("json", nobody), ADMINS, state=NOT_LEAD),
    Case("labs.finalize_form", "POST", finalise("form", lead), PARTICIPANTS, state=LEAD),
    Case("labs.finalize_form", "POST", finalise("form", nobody), ADMINS, state=NOT_LEAD),

    Case("ballots.advance_json", "POST", advance("json"), ADMINS),
    Case("ballots.advance_form", "POST", advance("form"), ADMINS),
    Case("ballots.promote_json", "POST", promote("json"), ADMINS),
    Case("ballots.promote_form", "POST", promote("form"), ADMINS),
    Case("ballots.publish_json", "POST", publish_ballot("json"), ADMINS),
    Case("ballots.publish_form", "POST", publish_ballot("form"), ADMINS),
    Case("ballots.outcome_json", "POST", outcome("json"), ADMINS),
    Case("ballots.outcome_form", "POST", outcome("form"), ADMINS),
]
