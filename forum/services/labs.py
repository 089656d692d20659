"""Running a policy lab: members, decisions on intake items, the working draft, versions,
finalising."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions, search
from ..db import write_transaction
from ..errors import Conflict, NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..models import (Amendment, IntakeEntry, LabDecision, LabDecisionItem, LabMember,
                      PolicyLab, ProposalVersion, SectionMembership, utcnow)
from ..paragraphs import UNCLOSED_FENCE, check_range, join, replace_range, split, unclosed_fence
from ..texts import as_text
from . import audit, notifications, proposal_news
from .amendments import QUESTION_MAX, TEXT_MAX, _as_int
from .deliberation import BODY_MAX, PARAGRAPHS_MAX, version_fields

DECIDED = {"accept": "accepted", "composite": "composited", "reject": "rejected",
           "answer": "answered"}
NOTE_MAX = 5000


def get_lab(lab_id):
    lab = db.session.get(PolicyLab, as_id(lab_id)) if as_id(lab_id) else None
    if lab is None:
        raise NotFound("That lab does not exist.")
    return lab


def members(lab):
    return db.session.scalars(select(LabMember).where(LabMember.lab_id == lab.id)
                              .order_by(LabMember.created_at)).all()


def has_leads(lab, lab_members):
    """Does anyone but an admin lead the lab: a lead of its proposal's section, or a member an
    admin named its lead? Without one, only admins can run it."""
    if any(m.role == "lead" for m in lab_members):
        return True
    section_id = lab.proposal.section_id
    return section_id is not None and db.session.scalar(select(SectionMembership.user_id).where(
        SectionMembership.section_id == section_id, SectionMembership.is_lead.is_(True))
        .limit(1)) is not None


def _locked_lab(lab_id):
    lab = db.session.scalar(select(PolicyLab).where(PolicyLab.id == int(lab_id))
                            .with_for_update(of=PolicyLab))
    if lab is None:
        raise NotFound("That lab does not exist.")
    return lab


# -- decisions and the working draft -----------------------------------------------------------

def decisions(lab):
    return db.session.scalars(select(LabDecision).where(LabDecision.lab_id == lab.id)
                              .order_by(LabDecision.id)).all()


def decisions_on(item):
    """The lab's decisions on one amendment or clarification, oldest first, with who made
    them: the item's own page shows what became of it in the lab."""
    return db.session.scalars(
        select(LabDecision).join(LabDecisionItem)
        .where(LabDecisionItem.amendment_id == item.id)
        .options(joinedload(LabDecision.user), selectinload(LabDecision.items))
        .order_by(LabDecision.created_at, LabDecision.id)).all()


def overlaps(a_start, a_end, b_start, b_end):
    """Do two ranges of the base version collide? Insertions are empty ranges (end = start-1).

    They collide when they share a paragraph, insert at the same point, or one inserts inside
    the other's replaced paragraphs.
    """
    a_insert, b_insert = a_end < a_start, b_end < b_start
    if a_insert and b_insert:
        return a_start == b_start
    if a_insert:
        return b_start < a_start <= b_end
    if b_insert:
        return a_start < b_start <= a_end
    return max(a_start, b_start) <= min(a_end, b_end)


def draft_blocks(lab, base_blocks, lab_decisions):
    """The base version with every accept and composite applied, from the bottom up."""
    blocks = list(base_blocks)
    changes = sorted((d for d in lab_decisions if d.changes_text),
                     key=lambda d: (d.start, d.end >= d.start), reverse=True)
    for d in changes:
        blocks = replace_range(blocks, d.start, d.end, d.text)
    return blocks


def base_version(lab):
    return db.session.scalar(select(ProposalVersion).where(
        ProposalVersion.proposal_id == lab.proposal_id,
        ProposalVersion.number == lab.base_version_number))


def _intake_items(lab, ids):
    entries = {e.amendment_id: e for e in db.session.scalars(select(IntakeEntry).where(
        IntakeEntry.lab_id == lab.id, IntakeEntry.amendment_id.in_(ids)))}
    items = []
    for item_id in ids:
        entry = entries.get(item_id)
        if entry is None or not entry.taken:
            raise ValidationFailed(field_errors={"amendment_id": [
                f"#{item_id} was not taken into this lab."]})
        item = db.session.get(Amendment, item_id)
        if item.status != "in_lab":
            raise Conflict(f"#{item_id} is already decided: it is {item.status}.")
        items.append(item)
    return items


def _ids(data):
    raw = data.get("amendment_ids")
    if raw is None:
        raw = [data.get("amendment_id")]
    if isinstance(raw, str):
        raw = [part for part in raw.replace(",", " ").split() if part]
    ids = [_as_int(v) for v in (raw if isinstance(raw, list) else [raw])]
    if not ids or any(i is None for i in ids):
        raise ValidationFailed(field_errors={"amendment_id": ["Name the intake items."]})
    return sorted(set(ids))




def decide(actor, lab_id, data):
    """accept | composite | reject | answer, on items taken into the lab."""
    lab = get_lab(lab_id)
    require(permissions.can_lead_lab(actor, lab, members(lab)))
    decision = data.get("decision")
    if not isinstance(decision, str) or decision not in DECIDED:
        raise ValidationFailed(field_errors={"decision": [
            "Choose accept, composite, reject or answer."]})
    note = as_text(data.get("note"))
    if len(note) > NOTE_MAX:
        raise ValidationFailed(field_errors={"note": [f"Keep it under {NOTE_MAX:,} characters."]})
    ids = _ids(data)
    with write_transaction():
        lab = _locked_lab(lab.id)
        require(permissions.can_lead_lab(actor, lab, members(lab)))
        items = _intake_items(lab, ids)
        require(permissions.can_decide_items(actor, lab, items, members(lab)))
        start, end, text = _decision_range(lab, decision, items, data, note)
        if decision in ("accept", "composite"):
            for other in decisions(lab):
                if other.changes_text and overlaps(start, end, other.start, other.end):
                    credited = ", ".join(f"#{i.amendment_id}" for i in other.items)
                    raise Conflict(
                        f"This overlaps paragraphs {other.start}–{other.end}, already changed "
                        f"by the {other.decision} of {credited}: composite them into one text "
                        "instead.")
        row = LabDecision(lab_id=lab.id, decision=decision, start=start, end=end, text=text,
                          note=note, user_id=actor.id)
        row.items = [LabDecisionItem(amendment_id=item.id) for item in items]
        db.session.add(row)
        now = utcnow()
        for item in items:
            item.status = DECIDED[decision]
            item.status_reason = note if decision == "reject" else ""
            item.updated_at = now
            search.enqueue("amendment", item.id)
        db.session.flush()
        audit.record(actor, f"lab_{decision}", "lab", lab.id, note,
                     decision_id=row.id, amendment_ids=[i.id for i in items])
        for item in items:
            notifications.notify(item.user_id, "amendment_decided", actor=actor, amendment=item,
                                 decision=DECIDED[decision], reason=note)
    return row


def undo(actor, lab_id, decision_id):
    """Take back a decision that no published version carries yet: its items are to decide
    again and the draft loses its change. A published version never changes, so a decision
    it carries stays; a later decision in the same lab can change the text again."""
    lab = get_lab(lab_id)
    require(permissions.can_lead_lab(actor, lab, members(lab)))
    decision_id = as_id(decision_id)
    with write_transaction():
        lab = _locked_lab(lab.id)
        require(permissions.can_lead_lab(actor, lab, members(lab)))
        row = db.session.get(LabDecision, decision_id) if decision_id else None
        if row is None or row.lab_id != lab.id:
            raise NotFound("That decision is not one of this lab's.")
        if row.version_number is not None:
            raise Conflict(f"Version {row.version_number} carries this decision, and a published "
                           "version does not change: decide again on the next version instead.")
        items = [db.session.get(Amendment, i.amendment_id) for i in row.items]
        require(permissions.can_decide_items(actor, lab, items, members(lab)))
        now = utcnow()
        for item in items:
            item.status = "in_lab"
            item.status_reason = ""
            item.updated_at = now
            search.enqueue("amendment", item.id)
        what = f"the {row.decision} of " + ", ".join(f"#{item.id}" for item in items)
        audit.record(actor, "lab_undo", "lab", lab.id, f"Took back {what}.",
                     decision_id=row.id, amendment_ids=[item.id for item in items])
        db.session.delete(row)
        for item in items:
            notifications.notify(item.user_id, "amendment_decided", actor=actor, amendment=item,
                                 decision="took back its decision on", reason="")
    return items


def _decision_range(lab, decision, items, data, note):
    kinds = {item.kind for item in items}
    if decision == "accept":
        if len(items) != 1 or kinds != {"amendment"}:
            raise ValidationFailed(field_errors={"amendment_id": [
                "Accept one amendment at a time; to combine several, composite them."]})
        return items[0].start, items[0].end, items[0].text
    if decision == "reject":
        if not note:
            raise ValidationFailed(field_errors={"note": ["Give the reason for rejecting."]})
        return None, None, ""
    text = as_text(data.get("text"))
    if decision == "answer":
        if kinds != {"clarification"}:
            raise ValidationFailed(field_errors={"amendment_id": [
                "Only clarifications are answered."]})
        if not 2 <= len(text) <= QUESTION_MAX * 2:
            raise ValidationFailed(field_errors={"text": [
                f"Write an answer of 2 to {QUESTION_MAX * 2:,} characters."]})
        return items[0].start, items[0].end, text
    if kinds != {"amendment"}:
        raise ValidationFailed(field_errors={"amendment_id": [
            "A composite combines amendments."]})
    start, end = _as_int(data.get("start")), _as_int(data.get("end"))
    if start is None or end is None:
        reason = "Give the range of paragraphs the composite replaces."
    else:
        reason = check_range(len(split(base_version(lab).body)), start, end)
    if reason:
        raise ValidationFailed(field_errors={"start": [reason]})
    if len(text) > TEXT_MAX:
        raise ValidationFailed(field_errors={"text": [f"At most {TEXT_MAX:,} characters."]})
    if unclosed_fence(text):
        raise ValidationFailed(field_errors={"text": [UNCLOSED_FENCE]})
    if end < start and not text:
        raise ValidationFailed(field_errors={"text": ["Write the text to insert."]})
    return start, end, text


def draft(lab):
    """(base blocks, draft blocks, decisions) of the lab's working draft."""
    lab_decisions = decisions(lab)
    base = split(base_version(lab).body)
    return base, draft_blocks(lab, base, lab_decisions), lab_decisions


def named_items(amendment_ids):
    """Items as the lab's intake names them: "#5", "#6 and #7", "#1, #2 and #3"."""
    ids = [f"#{n}" for n in amendment_ids]
    return ids[0] if len(ids) == 1 else f"{', '.join(ids[:-1])} and {ids[-1]}"


def decision_words(decision):
    """What a decision did, in words: "composited #6 and #7"."""
    return f"{DECIDED[decision.decision]} {named_items(i.amendment_id for i in decision.items)}"


def _what_the_lab_did(new_decisions):
    """A version's note when its lead writes none ("From the lab: accepted #5; composited #6
    and #7.")."""
    acts = [decision_words(d) for d in new_decisions]
    return f"From the lab: {'; '.join(acts)}." if acts else "From the lab."


def current_body(lab):
    return db.session.scalar(select(ProposalVersion.body).where(
        ProposalVersion.proposal_id == lab.proposal_id,
        ProposalVersion.number == lab.proposal.current_version_number))


def publish(actor, lab_id, note=""):
    """Turn the working draft into the next immutable version, listing its new decisions."""
    lab = get_lab(lab_id)
    require(permissions.can_lead_lab(actor, lab, members(lab)))
    with write_transaction():
        lab = _locked_lab(lab.id)
        version = _publish_draft(actor, lab, note)
    return version


def _publish_draft(actor, lab, note):
    _, blocks, lab_decisions = draft(lab)
    body = join(blocks)
    if body == current_body(lab):
        raise Conflict("The draft is the same as version "
                       f"{lab.proposal.current_version_number}: decide something first.")
    # The limits of a proposal's text hold for every version of it, however it was made.
    if len(blocks) > PARAGRAPHS_MAX:
        raise Conflict(f"The draft has {len(blocks)} paragraphs; a text has at most "
                       f"{PARAGRAPHS_MAX}: composite some of the changes into fewer.")
    if len(body) > BODY_MAX:
        raise Conflict(f"The draft has {len(body):,} characters; a text has at most "
                       f"{BODY_MAX:,}.")
    proposal = lab.proposal
    number = proposal.current_version_number + 1
    new = [d for d in lab_decisions if d.version_number is None]
    version = ProposalVersion(proposal_id=proposal.id, number=number,
                              created_by_id=getattr(actor, "id", None),
                              note=as_text(note)[:2000] or _what_the_lab_did(new),
                              **version_fields(body))
    db.session.add(version)
    for d in new:
        d.version_number = number
    proposal.current_version_number = number
    proposal.updated_at = utcnow()
    search.enqueue("proposal", proposal.id)  # every version's text is searchable
    db.session.flush()
    audit.record(actor, "publish_version", "lab", lab.id, version.note, version=number,
                 decision_ids=[d.id for d in new])
    proposal_news.version_published(proposal, version, actor)
    return version


def finalise(actor, lab_id):
    """Freeze the last published version as the proposal's final text."""
    lab = get_lab(lab_id)
    require(permissions.can_lead_lab(actor, lab, members(lab)))
    with write_transaction():
        lab = _locked_lab(lab.id)
        _, blocks, lab_decisions = draft(lab)
        if join(blocks) != current_body(lab):
            raise Conflict("The draft has decisions not yet published: publish a version "
                           "first, so the final text is one everyone has seen.")
        undecided = db.session.scalars(select(Amendment.id).join(
            IntakeEntry, IntakeEntry.amendment_id == Amendment.id).where(
            IntakeEntry.lab_id == lab.id, IntakeEntry.taken.is_(True),
            Amendment.status == "in_lab")).all()
        if undecided:
            raise Conflict("Decide every intake item first: "
                           + ", ".join(f"#{i}" for i in undecided) + " still open.")
        _finalise(actor, lab)
    return lab


def _finalise(actor, lab, reason=""):
    now = utcnow()
    lab.status = "finalised"
    lab.finalised_at = now
    lab.proposal.status = "final"
    lab.proposal.updated_at = now
    search.enqueue("proposal", lab.proposal_id)
    audit.record(actor, "finalise_lab", "lab", lab.id, reason,
                 version=lab.proposal.current_version_number)


def close_at_deadline(lab):
    """At labs_close_at: publish what was decided, leave undecided items where they are,
    and freeze the text (the scheduled phase change, no actor)."""
    with write_transaction():
        lab = _locked_lab(lab.id)
        if lab.status != "open":
            return lab
        _, blocks, _ = draft(lab)
        if join(blocks) != current_body(lab):
            _publish_draft(None, lab, "Published when the lab deadline passed.")
        _finalise(None, lab, "lab deadline passed")
    return lab

