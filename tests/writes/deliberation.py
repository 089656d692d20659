"""Write endpoints of processes, proposals, amendments, clarifications, votes and supports.

Every acting member is in England, so a Scottish process is one nobody here is eligible for.
"""
from datetime import timedelta

from forum.extensions import db
from forum.models import utcnow
from forum.services import deliberation, voting

from . import ADMINS, NOBODY, PARTICIPANTS, SIGNED_IN, Case, api, form

PROPOSAL = {"title": "Free buses for under-25s",
            "summary": "Every young person rides the bus for free.",
            "body": "# Buses\n\nFree for everyone under 25.\n\nPaid for by a levy."}
AMENDMENT = {"kind": "amendment", "start": 2, "end": 2,
             "text": "Free for everyone under 26.", "rationale": "Students need it too."}


def _process_fields():
    now = utcnow()
    return {"kind": "policy_priorities", "scope": "uk", "title": "Policy Priorities 2031",
            "seats": "3", "proposals_close_at": (now + timedelta(days=5)).isoformat(),
            "amendments_close_at": (now + timedelta(days=9)).isoformat(),
            "labs_close_at": (now + timedelta(days=20)).isoformat()}


def _proposal(ctx, author, scope="uk"):
    return ctx.make.proposal(ctx.make.process(scope=scope), user=author)


def _others_item(ctx, kind="amendment"):
    proposal = _proposal(ctx, ctx.other)
    return ctx.make.amendment(proposal, user=ctx.make.user(), kind=kind,
                              text="What does a levy mean here?" if kind == "clarification"
                              else None)


def _own_item(ctx):
    return ctx.make.amendment(_proposal(ctx, ctx.other), user=ctx.actor)


def _question_on(ctx, author):
    proposal = _proposal(ctx, author)
    return ctx.make.amendment(proposal, user=ctx.make.user(), kind="clarification",
                              text="How is the levy collected?", rationale="")


# -- processes and proposals ---------------------------------------------------------------------

def create_process_json(ctx):
    return api("/processes.json", _process_fields())


def create_process_form(ctx):
    return form("/processes/new", **_process_fields())


def edit_process_json(ctx):
    return api(f"/processes/{ctx.make.process().id}.json",
               {"title": "Policy Priorities, corrected", "reason": "A typo in the title."})


def edit_process_form(ctx):
    return form(f"/processes/{ctx.make.process().id}/edit", title="Policy Priorities, corrected",
                reason="A typo in the title.")


def new_proposal_form(scope):
    def build(ctx):
        return form(f"/processes/{ctx.make.process(scope=scope).id}/proposals/new", **PROPOSAL)
    return build


def create_proposal_json(scope):
    def build(ctx):
        return api("/proposals.json", {"process_id": ctx.make.process(scope=scope).id,
                                       **PROPOSAL})
    return build


def support_form(ctx):
    return form(f"/proposals/{_proposal(ctx, ctx.other).id}/support")


def support_own_form(ctx):
    return form(f"/proposals/{_proposal(ctx, ctx.actor).id}/support")


def _supported(ctx):
    proposal = _proposal(ctx, ctx.other)
    deliberation.support_proposal(ctx.actor, proposal.id)
    return proposal


def unsupport_form(ctx):
    return form(f"/proposals/{_supported(ctx).id}/support", undo="1")


def support_json(ctx):
    return api(f"/proposals/{_proposal(ctx, ctx.other).id}/support.json")


def unsupport_json(ctx):
    return api(f"/proposals/{_supported(ctx).id}/support.json")


def withdraw_form(author):
    def build(ctx):
        return form(f"/proposals/{_proposal(ctx, author(ctx)).id}/withdraw", reason="Merged.")
    return build


def withdraw_json(author):
    def build(ctx):
        return api(f"/proposals/{_proposal(ctx, author(ctx)).id}/withdraw.json",
                   {"reason": "Merged."})
    return build


def actor(ctx):
    return ctx.actor


def other(ctx):
    return ctx.other


# -- amendments, clarifications, votes ---------------------------------------------------------

def amend_json(ctx):
    return api(f"/proposals/{_proposal(ctx, ctx.other).id}/amendments.json", AMENDMENT)


def amend_form(ctx):
    return form(f"/proposals/{_proposal(ctx, ctx.other).id}/amend", **AMENDMENT)


def amend_preview(ctx):
    return form(f"/proposals/{_proposal(ctx, ctx.other).id}/amend", preview="1", **AMENDMENT)


def vote_json(ctx):
    return api(f"/amendments/{_others_item(ctx).id}/vote.json", {"value": 1})


def vote_own_json(ctx):
    return api(f"/amendments/{_own_item(ctx).id}/vote.json", {"value": 1})


def vote_after_window(ctx):
    item = _others_item(ctx)
    process = item.proposal.process
    past = utcnow() - timedelta(minutes=1)
    process.proposals_close_at = process.amendments_close_at = past
    db.session.commit()
    return api(f"/amendments/{item.id}/vote.json", {"value": 1})


def revote_json(ctx):
    item = _others_item(ctx)
    voting.cast_vote(ctx.actor, item.id, 1)
    return api(f"/amendments/{item.id}/vote.json", {"value": -1})


def vote_form(ctx):
    return form(f"/amendments/{_others_item(ctx).id}/vote", value="1")


def item_form(path, pick, **fields):
    def build(ctx):
        return form(path.format(id=pick(ctx).id), **fields)
    return build


def item_json(path, pick, body=None):
    def build(ctx):
        return api(path.format(id=pick(ctx).id), body)
    return build


EDIT = {"start": "2", "end": "2", "text": "Free for everyone under 30.",
        "rationale": "Young workers need it too."}
ANSWER = {"answer": "Through the council tax bill."}


def own_question(ctx):
    return _question_on(ctx, ctx.actor)


def others_question(ctx):
    return _question_on(ctx, ctx.other)


CASES = [
    Case("processes.create_json", "POST", create_process_json, ADMINS),
    Case("processes.new", "POST", create_process_form, ADMINS),
    Case("processes.update_json", "PUT", edit_process_json, ADMINS),
    Case("processes.edit", "POST", edit_process_form, ADMINS),
    Case("processes.new_proposal", "POST", new_proposal_form("uk"), PARTICIPANTS,
         state="UK process"),
    Case("processes.new_proposal", "POST", new_proposal_form("scotland"), NOBODY,
         state="another nation's process"),
    Case("proposals.create_json", "POST", create_proposal_json("uk"), PARTICIPANTS,
         state="UK process"),
    Case("proposals.create_json", "POST", create_proposal_json("scotland"), NOBODY,
         state="another nation's process"),
    Case("proposals.support", "POST", support_form, PARTICIPANTS, state="another's proposal"),
    Case("proposals.support", "POST", support_own_form, NOBODY, state="own proposal"),
    Case("proposals.support", "POST", unsupport_form, PARTICIPANTS, state="undo"),
    Case("proposals.support_json", "POST", support_json, PARTICIPANTS),
    Case("proposals.support_json", "DELETE", unsupport_json, PARTICIPANTS),
    # An author may withdraw their own open proposal even while read-only; nobody else may.
    Case("proposals.withdraw", "POST", withdraw_form(actor), SIGNED_IN, state="own proposal"),
    Case("proposals.withdraw", "POST", withdraw_form(other), NOBODY,
         state="another's proposal"),
    Case("proposals.withdraw_json", "POST", withdraw_json(actor), SIGNED_IN,
         state="own proposal"),
    Case("proposals.withdraw_json", "POST", withdraw_json(other), NOBODY,
         state="another's proposal"),

    Case("amendments.create_json", "POST", amend_json, PARTICIPANTS),
    Case("amendments.new", "POST", amend_form, PARTICIPANTS),
    Case("amendments.new", "POST", amend_preview, PARTICIPANTS, state="preview", writes=False),
    Case("amendments.vote_json", "POST", vote_json, PARTICIPANTS, state="another's item"),
    Case("amendments.vote_json", "POST", vote_own_json, NOBODY, state="own item"),
    Case("amendments.vote_json", "POST", vote_after_window, NOBODY, state="window closed"),
    Case("amendments.vote_json", "PUT", revote_json, PARTICIPANTS, state="change of vote"),
    Case("amendments.vote", "POST", vote_form, PARTICIPANTS),
    Case("amendments.edit_json", "PUT", item_json("/amendments/{id}.json", _own_item, EDIT),
         PARTICIPANTS, state="own item"),
    Case("amendments.edit_json", "PUT", item_json("/amendments/{id}.json", _others_item, EDIT),
         NOBODY, state="another's item"),
    Case("amendments.edit", "POST", item_form("/amendments/{id}/edit", _own_item, **EDIT),
         PARTICIPANTS, state="own item"),
    Case("amendments.edit", "POST", item_form("/amendments/{id}/edit", _others_item, **EDIT),
         NOBODY, state="another's item"),
    Case("amendments.withdraw", "POST", item_form("/amendments/{id}/withdraw", _own_item),
         SIGNED_IN, state="own item"),
    Case("amendments.withdraw", "POST", item_form("/amendments/{id}/withdraw", _others_item),
         NOBODY, state="another's item"),
    Case("amendments.withdraw_json", "DELETE", item_json("/amendments/{id}.json", _own_item),
         SIGNED_IN, state="own item"),
    Case("amendments.withdraw_json", "DELETE",
         item_json("/amendments/{id}.json", _others_item), NOBODY, state="another's item"),
    # The proposal's author answers the clarifications on it.
    Case("amendments.answer", "POST", item_form("/amendments/{id}/answer", own_question,
                                                **ANSWER), PARTICIPANTS, state="own proposal"),
    Case("amendments.answer", "POST", item_form("/amendments/{id}/answer", others_question,
                                                **ANSWER), NOBODY, state="another's proposal"),
    Case("amendments.answer_json", "POST",
         item_json("/amendments/{id}/answer.json", own_question, ANSWER), PARTICIPANTS,
         state="own proposal"),
    Case("amendments.answer_json", "POST",
         item_json("/amendments/{id}/answer.json", others_question, ANSWER), NOBODY,
         state="another's proposal"),
]
