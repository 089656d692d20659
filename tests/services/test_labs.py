"""Intake, lab decisions, versions and finalising: the rules, per role and per state."""
from datetime import timedelta

import pytest

from forum.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from forum.extensions import db
from forum.models import (Amendment, AuditEvent, LabDecision, Notification, Process, Proposal,
                          Section, SectionMembership, utcnow)
from forum.services import cycle, intake, lab_members, labs, posts, voting


@pytest.fixture
def lead(make):
    user = make.user("lead")
    section = Section(name="Housing", slug="housing")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionMembership(section_id=section.id, user_id=user.id, is_lead=True))
    db.session.commit()
    return db.session.get(type(user), user.id)


def proposal_in_section(make, lead, **settings):
    proposal = make.proposal(make.process(**settings))
    row = db.session.get(Proposal, proposal.id)
    row.section_id = lead.section_memberships[0].section_id
    db.session.commit()
    return row


def vote(make, item, ups, downs):
    for _ in range(ups):
        voting.cast_vote(make.user(), item.id, 1)
    for _ in range(downs):
        voting.cast_vote(make.user(), item.id, -1)


def test_intake_rule_exactly_as_designed(make, lead):
    proposal = proposal_in_section(make, lead, lab_min_votes=3, lab_intake_max=2,
                                   lab_clarifications_max=1)
    strong = make.amendment(proposal)
    vote(make, strong, 9, 1)
    good = make.amendment(proposal)
    vote(make, good, 3, 0)
    also_good = make.amendment(proposal)
    vote(make, also_good, 3, 1)             # good enough, but below the cap of 2
    tied = make.amendment(proposal)
    vote(make, tied, 2, 2)                  # not more up than down
    few = make.amendment(proposal)
    vote(make, few, 2, 0)                   # fewer than 3 votes
    q1 = make.amendment(proposal, kind="clarification", start=3, end=3,
                        text="Which income is meant here?")
    vote(make, q1, 4, 0)
    q2 = make.amendment(proposal, kind="clarification", start=2, end=2,
                        text="Who pays for the building?")
    vote(make, q2, 3, 0)
    lab = intake.close_amendment_window(lead, proposal.id, "Ready to work")
    entries = {e.amendment_id: e for e in labs.db.session.scalars(
        db.select(labs.IntakeEntry).where(labs.IntakeEntry.lab_id == lab.id))}
    assert [i.id for i in (strong, good) if entries[i.id].taken] == [strong.id, good.id]
    assert entries[also_good.id].reason == "below the cut: 2 amendments taken"
    assert entries[tied.id].reason == "no more up than down votes"
    assert entries[few.id].reason == "fewer than 3 votes"
    assert entries[q1.id].taken and not entries[q2.id].taken
    # Wilson bounds: (9,1) .60 > (3,0) .44 > (2,0) .34 > (3,1) .30 > (2,2) .15
    ranks = [entries[i.id].rank for i in (strong, good, few, also_good, tied)]
    assert ranks == [1, 2, 3, 4, 5]
    statuses = {i.id: db.session.get(Amendment, i.id).status for i in (strong, few, q2)}
    assert statuses == {strong.id: "in_lab", few.id: "not_selected", q2.id: "not_selected"}
    assert db.session.get(Proposal, proposal.id).status == "in_lab"
    with pytest.raises(PermissionDenied, match="in lab: voting is closed"):
        voting.cast_vote(make.user(), strong.id, 1)


def test_who_may_close_a_window(make, lead):
    proposal = proposal_in_section(make, lead)
    for user in (make.user(), make.user("other_lead")):
        with pytest.raises(PermissionDenied, match="moderators and the section's leads"):
            intake.close_amendment_window(user, proposal.id)
    intake.close_amendment_window(make.user(role="moderator"), proposal.id, "Early")
    with pytest.raises(PermissionDenied, match="in lab: its window is not open"):
        intake.close_amendment_window(lead, proposal.id)
    # A lead who wrote the proposal does not cut short the amendments to it.
    own = proposal_in_section(make, lead)
    db.session.get(Proposal, own.id).user_id = lead.id
    db.session.commit()
    with pytest.raises(PermissionDenied, match="You wrote this proposal"):
        intake.close_amendment_window(lead, own.id)
    assert db.session.get(Proposal, own.id).status == "open"
    intake.close_amendment_window(make.admin(), own.id, "The timetable moved")


def test_nobody_decides_on_their_own_amendment_but_an_admin(client, make, lead):
    proposal = proposal_in_section(make, lead, lab_min_votes=1)
    own = make.amendment(proposal, user=lead, start=2, end=2, text="Homes at scale, now.")
    theirs = make.amendment(proposal, start=4, end=4, text="- secure tenancies for life")
    for item in (own, theirs):
        vote(make, item, 2, 0)
    lab = intake.close_amendment_window(make.user(role="moderator"), proposal.id)
    for decision in ({"decision": "accept", "amendment_id": own.id},
                     {"decision": "reject", "amendment_id": own.id, "note": "Not needed."},
                     {"decision": "composite", "amendment_ids": [own.id, theirs.id],
                      "start": 2, "end": 4, "text": "All of it.", "note": "Both."}):
        with pytest.raises(PermissionDenied, match=f"You wrote #{own.id}"):
            labs.decide(lead, lab.id, decision)
    assert db.session.get(Amendment, own.id).status == "in_lab"
    # The lab page says so where the buttons would be, and still offers the other item's.
    from tests.conftest import login

    login(client, lead)
    page = client.get(f"/labs/{lab.id}").get_data(as_text=True)
    assert f"You wrote #{own.id}: another of the lab&#39;s leads, or an admin" in page
    assert f"Accept #{own.id}<" not in page and f"Accept #{theirs.id}<" in page
    labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": theirs.id})
    labs.decide(make.admin(), lab.id, {"decision": "accept", "amendment_id": own.id})


@pytest.fixture
def lab_with_items(make, lead):
    proposal = proposal_in_section(make, lead, lab_min_votes=1)
    first = make.amendment(proposal, start=2, end=2, text="We will build homes at scale.")
    second = make.amendment(proposal, start=2, end=3, text="Homes, and fair rents.")
    third = make.amendment(proposal, start=4, end=4, text="- secure tenancies for life")
    question = make.amendment(proposal, kind="clarification", start=3, end=3,
                              text="A third of which income?")
    for item in (first, second, third, question):
        vote(make, item, 2, 0)
    lab = intake.close_amendment_window(lead, proposal.id)
    return lab, first, second, third, question


def test_only_leads_decide(make, lead, lab_with_items):
    lab, first, *_ = lab_with_items
    expert = make.user("expert")
    lab_members.invite(lead, lab.id, "expert", "expert")
    for user in (make.user(), make.user(role="moderator"), expert):
        with pytest.raises(PermissionDenied, match="lab's leads"):
            labs.decide(user, lab.id, {"decision": "accept", "amendment_id": first.id})
    labs.decide(make.admin(), lab.id, {"decision": "accept", "amendment_id": first.id})


def test_lab_room_only_for_lab_members(make, lead, lab_with_items):
    lab = lab_with_items[0]
    outsider, expert = make.user(), make.user("expert")
    with pytest.raises(PermissionDenied, match="invited members"):
        posts.create_post(outsider, lab.topic_id, "May I join in?")
    lab_members.invite(lead, lab.id, "expert", "expert")
    assert posts.create_post(expert, lab.topic_id, "Here is the evidence.")
    assert posts.create_post(lead, lab.topic_id, "Thank you.")
    lab_members.remove(lead, lab.id, "expert")
    with pytest.raises(PermissionDenied):
        posts.create_post(db.session.get(type(expert), expert.id), lab.topic_id, "Still here?")


def test_overlap_refused_with_pointer_to_composite(lead, lab_with_items):
    lab, first, second, third, _ = lab_with_items
    labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": first.id})
    with pytest.raises(Conflict, match="composite them"):
        labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": second.id})
    assert db.session.get(Amendment, second.id).status == "in_lab"
    labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": third.id})
    base, blocks, _ = labs.draft(lab)
    assert blocks[1] == "We will build homes at scale."
    assert blocks[3] == "- secure tenancies for life"


def test_composite_credits_every_amendment(lead, lab_with_items):
    lab, first, second, _, _ = lab_with_items
    decision = labs.decide(lead, lab.id, {
        "decision": "composite", "amendment_ids": [first.id, second.id], "start": 2, "end": 3,
        "text": "We build homes at scale, with fair rents.", "note": "Both said it."})
    assert sorted(i.amendment_id for i in decision.items) == [first.id, second.id]
    assert {db.session.get(Amendment, i).status for i in (first.id, second.id)} == {
        "composited"}
    _, blocks, _ = labs.draft(lab)
    assert blocks[1] == "We build homes at scale, with fair rents."
    assert len(blocks) == 3


def test_reject_needs_a_reason_and_answer_only_clarifications(lead, lab_with_items):
    lab, first, _, _, question = lab_with_items
    with pytest.raises(ValidationFailed, match="reason"):
        labs.decide(lead, lab.id, {"decision": "reject", "amendment_id": first.id})
    with pytest.raises(ValidationFailed, match="Only clarifications"):
        labs.decide(lead, lab.id, {"decision": "answer", "amendment_id": first.id,
                                   "text": "Yes."})
    labs.decide(lead, lab.id, {"decision": "reject", "amendment_id": first.id,
                               "note": "It weakens the commitment."})
    row = db.session.get(Amendment, first.id)
    assert (row.status, row.status_reason) == ("rejected", "It weakens the commitment.")
    with pytest.raises(Conflict, match="already decided"):
        labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": first.id})
    labs.decide(lead, lab.id, {"decision": "answer", "amendment_id": question.id,
                               "text": "Net income."})
    assert db.session.get(Amendment, question.id).status == "answered"


def test_an_items_page_says_what_the_lab_decided_and_shows_its_answer(client, lead,
                                                                      lab_with_items):
    lab, first, second, _, question = lab_with_items
    assert "In the policy lab" not in client.get(f"/amendments/{question.id}").get_data(
        as_text=True)
    labs.decide(lead, lab.id, {"decision": "answer", "amendment_id": question.id,
                               "text": "Net income,\nafter tax."})
    labs.decide(lead, lab.id, {"decision": "composite", "amendment_ids": [first.id, second.id],
                               "start": 2, "end": 3, "text": "Homes at scale, at fair rents.",
                               "note": "The two read better as one."})
    page = client.get(f"/amendments/{question.id}").get_data(as_text=True)
    assert "<strong>Answered</strong>" in page and ">lead</a>" in page
    assert "The lab's answer:</strong> <p class=\"plain-text\">Net income,\nafter tax.</p>" in page
    assert "in the lab's working draft" in page
    page = client.get(f"/amendments/{first.id}").get_data(as_text=True)
    assert f'<strong>Composited</strong> together with <a href="/amendments/{second.id}">' in page
    assert "The two read better as one." in page


def test_lab_texts_keep_the_limits_every_other_text_keeps(lead, lab_with_items):
    """A composite or an answer is text like any other: an unclosed code fence (which would
    swallow every later paragraph of the ballot text), or an answer of any length, is refused;
    and no version may pass the paragraph limit of a proposal."""
    lab, first, second, third, question = lab_with_items
    composite = {"decision": "composite", "amendment_ids": [first.id, second.id], "start": 2,
                 "end": 3, "note": "Both."}
    with pytest.raises(ValidationFailed, match="code block"):
        labs.decide(lead, lab.id, dict(composite, text="```\nunclosed code"))
    for answer in ("x", "y" * 4001):
        with pytest.raises(ValidationFailed, match="answer of 2 to 4,000"):
            labs.decide(lead, lab.id, {"decision": "answer", "amendment_id": question.id,
                                       "text": answer})
    assert db.session.get(Amendment, question.id).status == "in_lab"
    many = "\n\n".join(f"Paragraph {n}." for n in range(201))
    labs.decide(lead, lab.id, dict(composite, text=many))
    with pytest.raises(Conflict, match="draft has 203 paragraphs; a text has at most 200"):
        labs.publish(lead, lab.id)
    assert db.session.get(Proposal, lab.proposal_id).current_version_number == 1


def test_publish_versions_and_finalise(client, make, lead, lab_with_items):
    lab, first, second, third, question = lab_with_items
    with pytest.raises(Conflict, match="same as version 1"):
        labs.publish(lead, lab.id)
    labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": first.id})
    with pytest.raises(Conflict, match="not yet published"):
        labs.finalise(lead, lab.id)
    v2 = labs.publish(lead, lab.id, "First pass")
    assert (v2.number, v2.note) == (2, "First pass")
    with pytest.raises(Conflict, match=f"#{second.id}"):
        labs.finalise(lead, lab.id)
    labs.decide(lead, lab.id, {"decision": "reject", "amendment_id": second.id, "note": "No."})
    labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": third.id})
    labs.decide(lead, lab.id, {"decision": "answer", "amendment_id": question.id,
                               "text": "Net."})
    # The draft shows, paragraph by paragraph under its number, what the next version changes.
    draft = client.get(f"/labs/{lab.id}").get_data(as_text=True)
    draft = draft[draft.index('id="draft"'):draft.index('id="versions"')]
    assert '<li class="paragraph is-changed">' in draft and draft.count("is-same") == 3
    assert ('<span class="visually-hidden">Paragraph </span>4<span class="visually-hidden">, '
            'changed</span>') in draft
    assert "<ins>for life</ins>" in draft
    v3 = labs.publish(lead, lab.id)
    assert v3.number == 3 and "secure tenancies for life" in v3.body
    changes = client.get(f"/proposals/{lab.proposal_id}/versions/diff?from=2&to=3")
    assert changes.status_code == 200
    assert "<ins>for life</ins>" in changes.get_data(as_text=True)
    # Without a note of the lead's, the version names the items as the lab's intake does.
    assert v3.note == (f"From the lab: rejected #{second.id}; accepted #{third.id}; "
                       f"answered #{question.id}.")
    labs.finalise(lead, lab.id)
    assert db.session.get(Proposal, lab.proposal_id).status == "final"
    with pytest.raises(PermissionDenied, match="finalised"):
        labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": third.id})
    actions = set(db.session.scalars(db.select(AuditEvent.action).where(
        AuditEvent.target_kind == "lab", AuditEvent.target_id == lab.id)))
    assert {"lab_accept", "lab_reject", "lab_answer", "publish_version",
            "finalise_lab"} <= actions


def test_a_decision_is_taken_back_until_a_version_carries_it(client, make, lead,
                                                             lab_with_items):
    lab, first, second, _, _ = lab_with_items
    composite = labs.decide(lead, lab.id, {
        "decision": "composite", "amendment_ids": [first.id, second.id], "start": 2, "end": 3,
        "text": "We build homes at scale, with fair rents.", "note": "Both said it."})
    # Its amendments are decided; taken back, they are to decide again.
    with pytest.raises(Conflict, match="already decided"):
        labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": first.id})
    for outsider in (make.user(), make.user(role="moderator")):
        with pytest.raises(PermissionDenied, match="lab's leads"):
            labs.undo(outsider, lab.id, composite.id)
    from tests.conftest import login

    login(client, lead)
    page = client.get(f"/labs/{lab.id}").get_data(as_text=True)
    assert page.count(f"/labs/{lab.id}/decisions/{composite.id}/undo") == 2  # one per item
    assert client.post(f"/labs/{lab.id}/decisions/{composite.id}/undo").status_code == 302

    assert {db.session.get(Amendment, i).status for i in (first.id, second.id)} == {"in_lab"}
    base, blocks, decisions = labs.draft(lab)
    assert blocks == base and decisions == []
    for item in (first, second):
        told = db.session.scalars(db.select(Notification.data).where(
            Notification.user_id == item.user_id, Notification.amendment_id == item.id,
            Notification.kind == "amendment_decided")).all()
        assert [data["decision"] for data in told] == ["composited", "took back its decision on"]
    assert "Took back the composite of" in db.session.scalar(db.select(AuditEvent.reason).where(
        AuditEvent.action == "lab_undo", AuditEvent.target_id == lab.id))
    with pytest.raises(NotFound):
        labs.undo(lead, lab.id, composite.id)

    accepted = labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": first.id})
    labs.publish(lead, lab.id)
    with pytest.raises(Conflict, match="Version 2 carries this decision"):
        labs.undo(lead, lab.id, accepted.id)
    assert db.session.get(Amendment, first.id).status == "accepted"
    page = client.get(f"/labs/{lab.id}").get_data(as_text=True)
    assert "/undo" not in page and "(in version 2)" in page


def test_nobody_takes_back_a_decision_on_their_own_amendment(make, lead):
    proposal = proposal_in_section(make, lead, lab_min_votes=1)
    own = make.amendment(proposal, user=lead, start=2, end=2, text="Homes at scale, now.")
    vote(make, own, 2, 0)
    lab = intake.close_amendment_window(make.user(role="moderator"), proposal.id)
    decision = labs.decide(make.admin(), lab.id, {"decision": "reject", "amendment_id": own.id,
                                                  "note": "Not needed."})
    with pytest.raises(PermissionDenied, match=f"You wrote #{own.id}"):
        labs.undo(lead, lab.id, decision.id)
    assert db.session.get(Amendment, own.id).status == "rejected"
    labs.undo(make.admin(), lab.id, decision.id)
    assert db.session.get(Amendment, own.id).status == "in_lab"


def test_advance_is_idempotent_and_follows_deadlines(make, lead):
    proposal = proposal_in_section(make, lead, lab_min_votes=1)
    item = make.amendment(proposal)
    vote(make, item, 2, 0)
    process = db.session.get(Process, proposal.process_id)
    assert cycle.advance_all() == []
    now = utcnow()
    process.proposals_close_at = now - timedelta(hours=2)
    process.amendments_close_at = now - timedelta(hours=1)
    db.session.commit()
    done = cycle.advance_all()
    assert f"closed the window of proposal {proposal.id}" in done
    assert cycle.advance_all() == []
    assert db.session.get(Process, process.id).phase == "labs"
    assert db.session.get(Amendment, item.id).status == "in_lab"
    process = db.session.get(Process, process.id)
    process.labs_close_at = now - timedelta(minutes=1)
    db.session.commit()
    cycle.advance_all()
    assert db.session.get(Process, process.id).phase == "ballot"
    assert db.session.get(Proposal, proposal.id).status == "final"
    with pytest.raises(PermissionDenied):
        cycle.advance_process(make.user(role="moderator"), process.id)


def test_a_refused_lab_form_comes_back_filled_in_with_the_reason(client, make, lead,
                                                                 lab_with_items):
    from tests.conftest import login

    lab, first, second, third, *_ = lab_with_items
    login(client, lead)
    refused = client.post(f"/labs/{lab.id}/decisions", data={
        "decision": "composite", "amendment_ids": [first.id, second.id], "start": "5",
        "end": "2", "text": "Homes at scale with fair rents, in every town.",
        "note": "Both say the same."})
    html = refused.get_data(as_text=True)
    # The lab page again, the reason at its top with a link to the form, the form as it was.
    assert refused.status_code == 422 and "<h1>Policy lab:" in html
    alert = html[html.index('<div class="form-errors" role="alert">'):]
    assert "The range ends before it starts." in alert[:alert.index("</div>")]
    assert '<a href="#composite-form">Back to the form</a>' in alert
    form = html[html.index('id="composite-form"'):]
    form = form[:form.index("</form>")]
    for item, checked in ((first, True), (second, True), (third, False)):
        box = f'name="amendment_ids" value="{item.id}"' + (" checked" if checked else ">")
        assert box in form
    # The range the refusal is about is marked, and described by the reason.
    invalid = ' aria-invalid="true" aria-describedby="refused-message"'
    assert f'name="start" type="number" min="1" required value="5"{invalid}>' in form
    assert f'name="end" type="number" min="0" required value="2"{invalid}>' in form
    assert f'id="c-text" name="text" rows="5">' in form  # not what was refused
    assert '<p id="refused-message">Not done: The range ends before it starts.' in html
    assert ">Homes at scale with fair rents, in every town.</textarea>" in form
    assert 'name="note" value="Both say the same."' in form
    # Another item's reject form is as empty as ever; a refused one keeps its reason.
    assert f'id="reject-{third.id}" name="note" required value=""' in html
    refused = client.post(f"/labs/{lab.id}/decisions", data={
        "decision": "reject", "amendment_id": str(third.id), "note": "x" * (labs.NOTE_MAX + 1)})
    assert refused.status_code == 422
    assert f'id="reject-{third.id}" name="note" required value="{"x" * (labs.NOTE_MAX + 1)}"' in \
        refused.get_data(as_text=True)
    refused = client.post(f"/labs/{lab.id}/members", data={"username": "nobody-of-that-name",
                                                            "role": "participant"})
    html = refused.get_data(as_text=True)
    assert refused.status_code in (404, 422) and '<a href="#invite-form">' in html
    assert 'name="username" required value="nobody-of-that-name" aria-invalid="true"' in html
    assert '<option value="participant" selected>' in html
    closed = client.post(f"/proposals/{lab.proposal_id}/close", data={
        "reason": "The timetable moved forward."})
    html = closed.get_data(as_text=True)
    assert closed.status_code == 403 and "The timetable moved forward." in html
    assert f'href="/proposals/{lab.proposal_id}">Back to the proposal</a>' in html


def test_a_lab_nobody_leads_says_so_until_an_admin_names_a_lead(client, make):
    from tests.conftest import login

    proposal = make.proposal(make.process(lab_min_votes=1))  # in no section
    item = make.amendment(proposal)
    vote(make, item, 2, 0)
    admin = make.admin()
    lab = intake.close_amendment_window(admin, proposal.id)
    notice = "Nobody leads this lab yet: its proposal belongs to no section."
    assert notice in client.get(f"/labs/{lab.id}").get_data(as_text=True)
    lead = make.user("namedlead")
    lab_members.invite(admin, lab.id, "namedlead", "lead")
    login(client, lead)
    page = client.get(f"/labs/{lab.id}").get_data(as_text=True)
    assert "Nobody leads this lab" not in page and f"Accept #{item.id}<" in page


def test_a_lab_led_by_its_sections_leads_says_nothing_of_leads(client, make, lead,
                                                               lab_with_items):
    lab = lab_with_items[0]
    assert "Nobody leads this lab" not in client.get(f"/labs/{lab.id}").get_data(as_text=True)


def test_a_leads_forms_say_what_they_did(client, lead, lab_with_items):
    from tests.conftest import login

    lab, first, *_ = lab_with_items
    login(client, lead)
    done = client.post(f"/labs/{lab.id}/decisions", data={
        "decision": "accept", "amendment_id": first.id}, follow_redirects=True)
    assert f"Done: accepted #{first.id}." in done.get_data(as_text=True)
    decision = db.session.scalar(db.select(LabDecision).where(LabDecision.lab_id == lab.id))
    undone = client.post(f"/labs/{lab.id}/decisions/{decision.id}/undo", follow_redirects=True)
    assert f"Taken back: #{first.id} is to decide again." in undone.get_data(as_text=True)
    client.post(f"/labs/{lab.id}/decisions", data={"decision": "accept",
                                                   "amendment_id": first.id})
    published = client.post(f"/labs/{lab.id}/publish", follow_redirects=True)
    assert "Version 2 is published." in published.get_data(as_text=True)


def test_naming_nobody_to_invite_or_remove_asks_for_a_name(make, lead, lab_with_items):
    lab = lab_with_items[0]
    for username in (None, "", "   ", [1, 2], {"a": 1}, True):
        with pytest.raises(ValidationFailed, match="^Name a member.$"):
            lab_members.invite(lead, lab.id, username, "expert")
        with pytest.raises(ValidationFailed, match="^Name a member.$"):
            lab_members.remove(lead, lab.id, username)
    with pytest.raises(ValidationFailed, match="No member is called nobody-here."):
        lab_members.invite(lead, lab.id, " nobody-here ", "expert")
