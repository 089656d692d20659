"""Processes, proposals, supports, amendments and clarifications through the services."""
from datetime import timedelta

import pytest

from forum.errors import PermissionDenied, ValidationFailed
from forum.extensions import db
from forum.models import Amendment, AuditEvent, Proposal, utcnow
from forum.services import amendments, deliberation, voting


def test_create_process_validates_and_gets_a_category(make):
    admin = make.admin()
    with pytest.raises(ValidationFailed) as exc:
        deliberation.create_process(admin, {"kind": "referendum", "scope": "england",
                                            "title": "x", "proposals_close_at": "soon"})
    assert set(exc.value.field_errors) >= {"kind", "scope", "title", "proposals_close_at"}
    process = make.process(scope="wales", kind="priority_campaign")
    assert process.seats == 1
    assert process.category.topic_count == 0
    assert process.phase == "proposals"


def test_deadlines_must_run_in_order(make):
    now = utcnow()
    with pytest.raises(ValidationFailed) as exc:
        deliberation.create_process(make.admin(), {
            "kind": "policy_priorities", "scope": "uk", "title": "Out of order",
            "proposals_close_at": now + timedelta(days=5),
            "amendments_close_at": now + timedelta(days=2), "labs_close_at": now})
    assert "in order" in exc.value.errors[0]


def test_only_admins_create_processes(make):
    with pytest.raises(PermissionDenied):
        deliberation.create_process(make.user(role="moderator"), {})


def test_eligibility_by_scope(make):
    welsh = make.user(nation="wales")
    scot = make.user(nation="scotland")
    uk, wales, scotland = make.process("uk"), make.process("wales"), make.process("scotland")
    assert deliberation.create_proposal(welsh, uk.id, "A UK-wide idea", "Summary here ok.",
                                        "Text.")
    assert deliberation.create_proposal(welsh, wales.id, "A Welsh idea", "Summary here ok.",
                                        "Text.")
    with pytest.raises(PermissionDenied, match="Only members in Scotland"):
        deliberation.create_proposal(welsh, scotland.id, "Not mine", "Summary here ok.", "Text.")
    proposal = make.proposal(scotland, user=scot)
    with pytest.raises(PermissionDenied, match="Scotland"):
        make.amendment(proposal, user=welsh)


def test_proposal_is_a_thread_with_a_first_version(make):
    proposal = make.proposal()
    assert proposal.status == "open"
    assert proposal.topic.kind == "proposal"
    version = deliberation.current_version(proposal)
    assert version.number == 1
    assert len(version.paragraphs_cooked) == 4
    assert version.paragraphs_cooked[0] == "<h3>Homes</h3>"


def test_proposal_validation_keeps_every_message(make):
    process = make.process()
    with pytest.raises(ValidationFailed) as exc:
        deliberation.create_proposal(make.user(), process.id, "", "", "")
    assert set(exc.value.field_errors) == {"title", "summary", "body"}


def test_no_new_proposals_after_the_deadline(make):
    process = make.process(days=(-1, 5, 10))
    with pytest.raises(PermissionDenied, match="closed"):
        make.proposal(process)


def test_support_and_take_back(make):
    proposal = make.proposal()
    member = make.user()
    deliberation.support_proposal(member, proposal.id)
    deliberation.support_proposal(member, proposal.id)  # idempotent
    assert db.session.get(Proposal, proposal.id).support_count == 1
    deliberation.unsupport_proposal(member, proposal.id)
    assert db.session.get(Proposal, proposal.id).support_count == 0
    with pytest.raises(PermissionDenied, match="own proposal"):
        deliberation.support_proposal(proposal.user, proposal.id)


def test_withdraw_only_by_author_while_open(make):
    proposal = make.proposal()
    with pytest.raises(PermissionDenied):
        deliberation.withdraw_proposal(make.user(), proposal.id)
    deliberation.withdraw_proposal(proposal.user, proposal.id, "Merged into another")
    assert db.session.get(Proposal, proposal.id).status == "withdrawn"
    assert db.session.scalar(db.select(AuditEvent.action).where(
        AuditEvent.target_kind == "proposal", AuditEvent.target_id == proposal.id,
        AuditEvent.action == "withdraw_proposal"))
    with pytest.raises(PermissionDenied, match="withdrawn"):
        deliberation.withdraw_proposal(proposal.user, proposal.id)
    with pytest.raises(PermissionDenied, match="withdrawn"):
        make.amendment(proposal)


def test_amendment_validation(make):
    proposal = make.proposal()
    member = make.user()

    def refused(field, **kw):
        args = {"kind": "amendment", "start": 2, "end": 2, "text": "New text entirely.",
                "rationale": "A good reason for it."}
        args.update(kw)
        with pytest.raises(ValidationFailed) as exc:
            amendments.propose_item(member, proposal.id, args["kind"], args["start"],
                                    args["end"], args["text"], args["rationale"])
        assert field in exc.value.field_errors, exc.value.field_errors
        return exc.value.field_errors[field][0]

    assert "does not exist" in refused("start", start=9, end=9)
    assert "ends before" in refused("start", start=3, end=1)
    assert "whole numbers" in refused("start", start="two")
    assert "as it stands" in refused("text", text="We will build   council homes at scale.")
    assert "To insert" in refused("text", start=3, end=2, text="")
    assert "Explain why" in refused("rationale", rationale="")
    assert "characters" in refused("text", text="x" * 20001)
    assert "not closed" in refused("text", text="New text.\n\n```\ncode that never ends")
    # null is not "" (which deletes the range): a script's missing value deletes nothing.
    assert "empty string deletes" in refused("text", text=None)
    assert "Choose amendment" in refused("kind", kind="opinion")
    assert "a gap" in refused("start", kind="clarification", start=3, end=2,
                              text="What does this mean exactly?")


def test_one_open_amendment_per_member_per_identical_change(make):
    proposal = make.proposal()
    member = make.user()
    make.amendment(proposal, user=member, text="Same change here.")
    with pytest.raises(ValidationFailed, match="already"):
        make.amendment(proposal, user=member, text="Same   change here.")
    make.amendment(proposal, text="Same change here.")  # someone else may
    make.amendment(proposal, user=member, start=3, end=3, text="Same change here.")
    # The same change to another proposal is another change.
    other = make.proposal(process=proposal.process)
    make.amendment(other, user=member, text="Same change here.")
    make.amendment(other, user=member, start=2, end=2, text="", kind="amendment")
    make.amendment(proposal, user=member, start=2, end=2, text="")


def test_text_from_a_form_or_json_is_text(make):
    """Browsers send line breaks as CRLF: stored and compared as LF, or every line of the
    redline shows as changed. A JSON object or list where text belongs is no text at all."""
    proposal = make.proposal()
    item = make.amendment(proposal, text="First line,\r\nsecond line.")
    assert item.text == "First line,\nsecond line."
    assert all("\r" not in part for _, part in item.redline)
    for bad in ({"a": 1}, ["x"], 12):
        with pytest.raises(ValidationFailed) as exc:
            amendments.propose_item(make.user(), proposal.id, "amendment", 2, 2, "New words.",
                                    bad)
        assert "Explain why" in exc.value.field_errors["rationale"][0]
        with pytest.raises(ValidationFailed) as exc:
            deliberation.create_proposal(make.user(), proposal.process_id, ["A title"],
                                         "A summary of it.", "A body of text.")
        assert "title" in exc.value.field_errors


def test_delete_and_insert_amendments_store_a_redline(make):
    proposal = make.proposal()
    deletion = make.amendment(proposal, start=3, end=3, text="")
    assert deletion.redline == [["-", "Rents are capped at a third of income."]]
    insertion = make.amendment(proposal, start=3, end=2, text="A new paragraph.")
    assert insertion.redline == [["+", "A new paragraph."]]
    change = make.amendment(proposal, start=3, end=3,
                            text="Rents are capped at a quarter of income.")
    assert ["-", "third"] in change.redline and ["+", "quarter"] in change.redline


def test_edit_only_without_votes_and_withdraw(make):
    proposal = make.proposal()
    author = make.user()
    item = make.amendment(proposal, user=author)
    amendments.edit_item(author, item.id, 2, 2, "An edited paragraph.", "Still a good reason.")
    assert db.session.get(Amendment, item.id).text == "An edited paragraph."
    voting.cast_vote(make.user(), item.id, 1)
    with pytest.raises(PermissionDenied, match="has votes"):
        amendments.edit_item(author, item.id, 2, 2, "Again edited.", "Still a good reason.")
    with pytest.raises(PermissionDenied):
        amendments.withdraw_item(make.user(), item.id)
    amendments.withdraw_item(author, item.id)
    assert db.session.get(Amendment, item.id).status == "withdrawn"
    with pytest.raises(PermissionDenied, match="withdrawn"):
        voting.cast_vote(make.user(), item.id, 1)


def test_clarification_answered_by_the_proposal_author(make):
    proposal = make.proposal()
    item = make.amendment(proposal, kind="clarification", start=3, end=3,
                          text="Is that a third of gross or net income?", rationale="")
    with pytest.raises(PermissionDenied, match="author answers"):
        amendments.answer_clarification(make.user(), item.id, "Net.")
    amendments.answer_clarification(proposal.user, item.id, "Of **net** income.")
    item = db.session.get(Amendment, item.id)
    assert item.answer_cooked == "<p>Of <strong>net</strong> income.</p>"
    assert db.session.get(Proposal, proposal.id).clarification_count == 1


def test_unverified_silenced_and_ineligible_read_only(make):
    proposal = make.proposal()
    unverified = make.user(verified=False)
    with pytest.raises(PermissionDenied, match="Confirm your email"):
        make.amendment(proposal, user=unverified)
    silenced = make.user()
    silenced.silenced_until = utcnow() + timedelta(days=1)
    db.session.commit()
    with pytest.raises(PermissionDenied, match="silenced"):
        deliberation.support_proposal(silenced, proposal.id)


def test_nothing_is_withdrawn_once_the_window_has_closed(make):
    """What goes to the lab is settled by the deadline, even before `flask forum advance`
    moves the proposal on."""
    proposal = make.proposal()
    item = make.amendment(proposal)
    process = db.session.get(Proposal, proposal.id).process
    process.amendments_close_at = utcnow() - timedelta(seconds=1)
    process.proposals_close_at = process.amendments_close_at - timedelta(days=1)
    db.session.commit()
    with pytest.raises(PermissionDenied, match="window has closed"):
        amendments.withdraw_item(item.user, item.id)
    with pytest.raises(PermissionDenied, match="window has closed"):
        deliberation.withdraw_proposal(proposal.user, proposal.id)
    assert db.session.get(Amendment, item.id).status == "open"
    assert db.session.get(Proposal, proposal.id).status == "open"
