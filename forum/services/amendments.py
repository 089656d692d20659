"""Amendments and clarifications: propose, preview, edit, withdraw, answer."""
import hashlib

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import permissions
from ..db import write_transaction
from ..errors import NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..markup import COOK_VERSION, cook
from ..models import Amendment, Proposal, Topic, utcnow
from ..paragraphs import (UNCLOSED_FENCE, check_range, cook_blocks, join, normalise,
                          replace_range, split, unclosed_fence, word_diff)
from ..texts import as_text, visible_length
from .. import search
from . import audit, notifications
from .deliberation import current_version, get_proposal

TEXT_MAX = 20000
RATIONALE_MIN, RATIONALE_MAX = 10, 5000
QUESTION_MIN, QUESTION_MAX = 10, 2000
COUNTED = ("open", "in_lab", "accepted", "composited", "rejected", "answered", "not_selected")


def _as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isascii():
        try:
            return int(value)
        except ValueError:
            return None
    return None


def check_item(proposal, kind, start, end, text, rationale, preview=False):
    """Validate an amendment or clarification against the proposal's current version. A
    `preview` may come before the reason for an amendment is written; submitting needs it.

    Returns (version, blocks, start, end, text, rationale) or raises ValidationFailed.
    """
    errors = {}
    if kind not in ("amendment", "clarification"):
        raise ValidationFailed(field_errors={"kind": ["Choose amendment or clarification."]})
    version = current_version(proposal)
    blocks = split(version.body)
    start, end = _as_int(start), _as_int(end)
    if not isinstance(text, str):
        # Not "": an empty string deletes the range, and null must not mean that by accident.
        errors["text"] = ["Give the new text as a string (an empty string deletes the range)."
                          if kind == "amendment" else "Ask your question as text."]
    text, rationale = as_text(text), as_text(rationale)
    if start is None or end is None:
        errors["start"] = ["Give the paragraph numbers as whole numbers."]
    elif reason := check_range(len(blocks), start, end):
        errors["start"] = [reason]
    if kind == "clarification":
        if start is not None and end is not None and end < start:
            errors.setdefault("start", []).append("A clarification is about one or more "
                                                  "paragraphs: choose a range, not a gap.")
        if not (visible_length(text) >= QUESTION_MIN and len(text) <= QUESTION_MAX):
            errors["text"] = [f"Ask your question in {QUESTION_MIN} to {QUESTION_MAX:,} "
                              "characters."]
        if len(rationale) > RATIONALE_MAX:
            errors["rationale"] = [f"Keep it under {RATIONALE_MAX:,} characters."]
        if "start" not in errors and "text" not in errors \
                and normalise(join(blocks[start - 1:end])) == normalise(text):
            errors["text"] = ["Write your question here: this box still holds the "
                              "paragraph's own text."]
    else:
        if len(text) > TEXT_MAX:
            errors["text"] = [f"The new text is at most {TEXT_MAX:,} characters."]
        elif text and not visible_length(text):
            errors["text"] = ["The new text shows nothing: write the text, or leave the box "
                              "empty to delete the paragraphs."]
        elif unclosed_fence(text):
            errors["text"] = [UNCLOSED_FENCE]
        if (rationale or not preview) and not (visible_length(rationale) >= RATIONALE_MIN
                                               and len(rationale) <= RATIONALE_MAX):
            errors["rationale"] = [f"Explain why in {RATIONALE_MIN} to {RATIONALE_MAX:,} "
                                   "characters."]
        if "start" not in errors:
            if end < start and not text:
                errors["text"] = ["To insert, write the text to insert."]
            elif normalise(join(blocks[start - 1:end])) == normalise(text):
                errors["text"] = ["That is the text as it stands: change something."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    return version, blocks, start, end, text, rationale


def redline(blocks, start, end, text):
    """What a reader sees before submitting: the word diff of the range and the result."""
    before = join(blocks[start - 1:end]).strip()
    return {"before": before, "after": text, "diff": word_diff(before, text),
            "result": join(replace_range(blocks, start, end, text))}


def _stored_redline(kind, blocks, start, end, text):
    if kind != "amendment":
        return []
    return [list(pair) for pair in redline(blocks, start, end, text)["diff"]]


def preview_item(user, proposal_id, kind, start, end, text, rationale):
    """What the member sees before submitting, cooked as the page will show it: for an
    amendment the word diff and the whole text after the change, numbered, with the new
    paragraphs marked; for a clarification the question. Refuses what submitting would."""
    proposal = get_proposal(proposal_id)
    require(permissions.can_propose_amendment(user, proposal))
    version, blocks, start, end, text, rationale = check_item(proposal, kind, start, end, text,
                                                              rationale, preview=True)
    shown = {"rationale_html": cook(rationale) if rationale else ""}
    if kind != "amendment":
        return shown | {"question_html": cook(text)}
    after = replace_range(blocks, start, end, text)
    return shown | redline(blocks, start, end, text) | {
        "paragraphs": list(enumerate(cook_blocks(after, cook), start=1)),
        "changed": range(start, start + len(split(text)))}


def _change_key(version_number, kind, start, end, text):
    key = f"{version_number}:{kind}:{start}:{end}:{normalise(text)}"
    return hashlib.sha256(key.encode()).hexdigest()


def refresh_item_counts(proposal_id):
    def count(kind):
        return select(func.count(Amendment.id)).where(
            Amendment.proposal_id == proposal_id, Amendment.kind == kind,
            Amendment.status.in_(COUNTED), Amendment.hidden_at.is_(None)).scalar_subquery()

    db.session.execute(update(Proposal).where(Proposal.id == proposal_id).values(
        amendment_count=count("amendment"), clarification_count=count("clarification")))


def _duplicate():
    return ValidationFailed(field_errors={"text": [
        "You already have this exact change open on this proposal."]})


def propose_item(user, proposal_id, kind, start, end, text, rationale):
    """Put forward an amendment or a clarification on the proposal's current version."""
    proposal = get_proposal(proposal_id)
    require(permissions.can_propose_amendment(user, proposal))
    version, blocks, start, end, text, rationale = check_item(proposal, kind, start, end, text,
                                                              rationale)
    key = _change_key(version.number, kind, start, end, text)
    try:
        with write_transaction():
            proposal = db.session.scalar(select(Proposal).where(Proposal.id == proposal.id)
                                         .with_for_update(of=Proposal))
            require(permissions.can_propose_amendment(user, proposal))
            if db.session.scalar(select(Amendment.id).where(
                    Amendment.user_id == user.id, Amendment.proposal_id == proposal.id,
                    Amendment.change_key == key, Amendment.status == "open")):
                raise _duplicate()
            item = Amendment(proposal_id=proposal.id, version_number=version.number, kind=kind,
                             user_id=user.id, start=start, end=end, text=text,
                             text_cooked=cook(text), rationale=rationale,
                             redline=_stored_redline(kind, blocks, start, end, text),
                             rationale_cooked=cook(rationale), cook_version=COOK_VERSION,
                             change_key=key, status="open")
            db.session.add(item)
            db.session.flush()
            search.enqueue("amendment", item.id)
            notifications.item_proposed(item)
            refresh_item_counts(proposal.id)
            # A new amendment is activity on the proposal's thread, like a reply.
            db.session.execute(update(Topic).where(Topic.id == proposal.topic_id)
                               .values(bumped_at=utcnow()))
    except IntegrityError:
        raise _duplicate() from None
    return item


# Built once: every vote locks its item this way.
_LOCKED_ITEM = (
    select(Amendment).where(Amendment.id == bindparam("item_id"))
    .options(joinedload(Amendment.proposal).joinedload(Proposal.process),
             joinedload(Amendment.user))
    .with_for_update(of=Amendment).execution_options(populate_existing=True))


def get_item(item_id, lock=False):
    """The item, or NotFound. With `lock`, inside a write transaction: the row locked for it,
    read anew (what the request read before may be stale), with its proposal, process and
    author, which deciding and answering a vote read."""
    if as_id(item_id) is None:
        item = None
    elif lock:
        item = db.session.scalar(_LOCKED_ITEM, {"item_id": as_id(item_id)})
    else:
        item = db.session.get(Amendment, as_id(item_id))
    if item is None:
        raise NotFound("That amendment or clarification does not exist.")
    return item


def edit_item(user, item_id, start, end, text, rationale):
    """Authors may edit their own open item until it has its first vote."""
    item = get_item(item_id)
    require(permissions.can_edit_amendment(user, item))
    version, blocks, start, end, text, rationale = check_item(item.proposal, item.kind, start,
                                                              end, text, rationale)
    key = _change_key(version.number, item.kind, start, end, text)
    try:
        with write_transaction():
            item = db.session.scalar(select(Amendment).where(Amendment.id == item.id)
                                     .with_for_update(of=Amendment))
            require(permissions.can_edit_amendment(user, item))
            item.start, item.end, item.text, item.rationale = start, end, text, rationale
            item.text_cooked, item.rationale_cooked = cook(text), cook(rationale)
            item.cook_version = COOK_VERSION
            item.redline = _stored_redline(item.kind, blocks, start, end, text)
            item.version_number = version.number
            item.change_key = key
            item.updated_at = utcnow()
            search.enqueue("amendment", item.id)
            from .review import request_another_look

            request_another_look(item.kind, item)  # hidden and put right: back to review
    except IntegrityError:
        raise _duplicate() from None
    return item


def withdraw_item(user, item_id):
    item = get_item(item_id)
    with write_transaction():
        item = db.session.scalar(select(Amendment).where(Amendment.id == item.id)
                                 .with_for_update(of=Amendment))
        require(permissions.can_withdraw_amendment(user, item))
        item.status = "withdrawn"
        item.updated_at = utcnow()
        search.enqueue("amendment", item.id)
        refresh_item_counts(item.proposal_id)
        audit.record(user, f"withdraw_{item.kind}", item.kind, item.id)
    return item


def answer_clarification(user, item_id, answer):
    item = get_item(item_id)
    require(permissions.can_answer_clarification(user, item))
    answer = as_text(answer)
    if not 2 <= len(answer) <= QUESTION_MAX * 2:
        raise ValidationFailed(field_errors={"answer": [
            f"Write an answer of 2 to {QUESTION_MAX * 2:,} characters."]})
    with write_transaction():
        item = db.session.get(Amendment, item.id)
        changed = normalise(item.answer or "") != normalise(answer)
        item.answer, item.answer_cooked = answer, cook(answer)
        item.answered_by_id, item.answered_at = user.id, utcnow()
        search.enqueue("amendment", item.id)
        if changed:  # a first answer, or a changed one; not the same words saved again
            notifications.notify(item.user_id, "clarification_answered", actor=user,
                                 amendment=item)
    return item
