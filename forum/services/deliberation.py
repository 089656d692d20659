"""Processes and proposals: create a process, put forward a proposal, support, withdraw."""
import hashlib
from datetime import datetime, timezone

from sqlalchemy import func, select, update

from .. import permissions
from ..db import write_transaction
from ..errors import Conflict, NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..markup import COOK_VERSION, cook
from ..models import (Ballot, Category, Process, Proposal, ProposalSupport, ProposalVersion,
                      Section, Topic, utcnow)
from ..models.deliberation import PROCESS_KINDS, SCOPES
from ..paragraphs import UNCLOSED_FENCE, cook_blocks, join, split, unclosed_fence
from ..texts import as_line, as_text, visible_length
from ..upsert import insert_ignore
from .. import search
from . import audit, notifications
from .posts import open_thread, slugify

SUMMARY_MAX = 500
BODY_MAX = 50000
PARAGRAPHS_MAX = 200
EARLIEST_YEAR, LATEST_YEAR = 2000, 2999


def parse_time(value, field, errors):
    """ISO 8601; a time without a zone (an HTML datetime-local field) is taken as UTC."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value or "").strip().replace("Z", "+00:00"))
        except ValueError:
            errors[field] = ["Give a date and time, e.g. 2027-03-01T18:00:00Z."]
            return None
    try:
        parsed = parsed.astimezone(timezone.utc) if parsed.tzinfo \
            else parsed.replace(tzinfo=timezone.utc)
    except OverflowError:  # the first or last day a datetime holds, moved by its zone
        parsed = None
    if parsed is None or not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        errors[field] = [f"Give a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}."]
        return None
    return parsed


def _int(data, field, errors, default, low=0, high=1_000_000):
    value = data.get(field, default)
    try:
        value = int(value)
    except (TypeError, ValueError):
        errors[field] = ["Give a whole number."]
        return default
    if not low <= value <= high:
        errors[field] = [f"Give a number from {low} to {high:,}."]
    return value


def create_process(user, data):
    """An admin opens a process; it gets its own category for its proposal threads."""
    require(permissions.can_create_process(user))
    errors = {}
    kind, scope = data.get("kind"), data.get("scope")
    title = as_line(data.get("title"))
    if kind not in PROCESS_KINDS:
        errors["kind"] = ["Choose priority_campaign or policy_priorities."]
    if scope not in SCOPES:
        errors["scope"] = ["Choose uk, scotland or wales."]
    if not (visible_length(title) >= 5 and len(title) <= 200):
        errors["title"] = ["Titles are 5 to 200 characters."]
    times = {f: parse_time(data.get(f), f, errors)
             for f in ("proposals_close_at", "amendments_close_at", "labs_close_at")}
    if all(times.values()) and not (times["proposals_close_at"] <= times["amendments_close_at"]
                                     <= times["labs_close_at"]):
        errors["amendments_close_at"] = [
            "Deadlines must run in order: proposals, then amendments, then labs."]
    seats = 1 if kind == "priority_campaign" else _int(data, "seats", errors, 3, 1, 100)
    numbers = {f: _int(data, f, errors, default, low)
               for f, default, low in (("support_threshold", 10, 0), ("lab_min_votes", 3, 0),
                                       ("lab_intake_max", 10, 1),
                                       ("lab_clarifications_max", 5, 0))}
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        category = Category(name=_free_category_name(title), slug=_free_category_slug(title),
                            description=f"Proposals and discussion for {title}.",
                            color="#1d4ed8" if scope == "uk" else "#7c3aed", position=100)
        db.session.add(category)
        db.session.flush()
        process = Process(kind=kind, scope=scope, title=title, slug=slugify(title),
                          description=as_text(data.get("description")), seats=seats,
                          category_id=category.id, created_by_id=user.id, **times, **numbers)
        db.session.add(process)
        db.session.flush()
        db.session.add(Ballot(process_id=process.id))
        audit.record(user, "create_process", "process", process.id)
    return process


# What an admin may still change, by the phase the process is in: a deadline or a setting
# that a phase change has already acted on stays as it was used.
EDITABLE = {
    "proposals_close_at": ("proposals",), "amendments_close_at": ("proposals",),
    "lab_min_votes": ("proposals",), "lab_intake_max": ("proposals",),
    "lab_clarifications_max": ("proposals",),
    "labs_close_at": ("proposals", "labs"), "support_threshold": ("proposals", "labs"),
    "seats": ("proposals", "labs"),
}
NUMBER_RANGES = {"support_threshold": (0, 1_000_000), "lab_min_votes": (0, 1_000_000),
                 "lab_intake_max": (1, 1_000_000), "lab_clarifications_max": (0, 1_000_000),
                 "seats": (1, 100)}
PHASE_WORDS = {"labs": "the labs are open", "ballot": "the ballot is being prepared",
               "closed": "the process is closed"}


def update_process(user, process_id, data):
    """An admin corrects or extends a process: its title, description, deadlines and settings,
    each only while no phase change has acted on it yet. Kind and scope stay as opened."""
    process = get_process(process_id)
    require(permissions.can_edit_process(user, process))
    errors, changes = {}, {}
    if "title" in data:
        title = as_line(data.get("title"))
        if not (visible_length(title) >= 5 and len(title) <= 200):
            errors["title"] = ["Titles are 5 to 200 characters."]
        changes["title"] = title
    if "description" in data:
        changes["description"] = as_text(data.get("description"))
    for field in ("proposals_close_at", "amendments_close_at", "labs_close_at"):
        if data.get(field) not in (None, ""):
            if (when := parse_time(data.get(field), field, errors)) is not None:
                changes[field] = when
    for field, (low, high) in NUMBER_RANGES.items():
        if data.get(field) not in (None, ""):
            changes[field] = _int(data, field, errors, getattr(process, field), low, high)
    if process.kind == "priority_campaign" and changes.get("seats", 1) != 1:
        errors["seats"] = ["A Priority Campaign has one winner."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        process = db.session.get(Process, process.id, with_for_update=True)
        require(permissions.can_edit_process(user, process))
        changes = {f: v for f, v in changes.items() if v != getattr(process, f)}
        _check_edit(process, changes)
        if not changes:
            return process
        before = {f: _plain(getattr(process, f)) for f in changes}
        for field, value in changes.items():
            setattr(process, field, value)
        audit.record(user, "edit_process", "process", process.id,
                     as_text(data.get("reason"))[:500],
                     before=before, after={f: _plain(v) for f, v in changes.items()})
    return process


def still_editable(process, field):
    """Whether no phase change has used this setting of the process yet."""
    return process.phase in EDITABLE.get(field, (process.phase,))


def _check_edit(process, changes):
    """Refuse what the process's phase has already used, and deadlines out of order."""
    errors = {}
    for field in changes:
        if not still_editable(process, field):
            errors[field] = [f"This can no longer change: {PHASE_WORDS[process.phase]}."]
    times = {f: changes.get(f, getattr(process, f))
             for f in ("proposals_close_at", "amendments_close_at", "labs_close_at")}
    if not times["proposals_close_at"] <= times["amendments_close_at"] <= times["labs_close_at"]:
        errors.setdefault("amendments_close_at", []).append(
            "Deadlines must run in order: proposals, then amendments, then labs.")
    if errors:
        raise ValidationFailed(field_errors=errors)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _free_category_name(title):
    base, n = title[:44], 1
    name = base
    while db.session.scalar(select(Category.id).where(Category.name == name)):
        n += 1
        name = f"{base} ({n})"
    return name


def _free_category_slug(title):
    base, n = slugify(title)[:44], 1
    slug = base
    while db.session.scalar(select(Category.id).where(Category.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def version_fields(body):
    blocks = split(body)
    text = join(blocks)
    return {"body": text, "paragraphs_cooked": cook_blocks(blocks, cook),
            "sha256": hashlib.sha256(text.encode()).hexdigest(), "cook_version": COOK_VERSION}


def create_proposal(user, process_id, title, summary, body, section_id=None):
    process = get_process(process_id)
    require(permissions.can_create_proposal(user, process))
    errors = {}
    title, summary, body = as_line(title), as_text(summary), as_text(body)
    if not (visible_length(title) >= 5 and len(title) <= 200):
        errors["title"] = ["Titles are 5 to 200 characters."]
    if visible_length(summary) < 10:
        errors["summary"] = ["Write a short, plain-language summary (at least 10 characters)."]
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = [f"Keep the summary under {SUMMARY_MAX} characters."]
    blocks = split(body)
    if not visible_length(body):
        errors["body"] = ["Write the text of the proposal."]
    elif len(body) > BODY_MAX:
        errors["body"] = [f"The text is at most {BODY_MAX:,} characters."]
    elif len(blocks) > PARAGRAPHS_MAX:
        errors["body"] = [f"The text has at most {PARAGRAPHS_MAX} paragraphs."]
    elif unclosed_fence(body):
        errors["body"] = [UNCLOSED_FENCE]
    section = None
    if section_id not in (None, ""):
        section = db.session.get(Section, as_id(section_id)) if as_id(section_id) else None
        if section is None:
            errors["section"] = ["Choose one of the listed sections."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        post = open_thread(user, process.category, title, summary, kind="proposal")
        proposal = Proposal(process_id=process.id, topic_id=post.topic_id, user_id=user.id,
                            section_id=section.id if section else None, title=title,
                            summary=summary, status="open")
        db.session.add(proposal)
        db.session.flush()
        db.session.add(ProposalVersion(proposal_id=proposal.id, number=1, created_by_id=user.id,
                                       note="As proposed.", **version_fields(body)))
        search.enqueue("proposal", proposal.id)
        notifications.proposal_created(proposal)
        audit.record(user, "create_proposal", "proposal", proposal.id)
    return proposal


def _locked_proposal(proposal_id):
    """The proposal row, locked until commit so concurrent changes queue behind each other."""
    proposal = db.session.scalar(select(Proposal).where(Proposal.id == proposal_id)
                                 .with_for_update(of=Proposal))
    if proposal is None:
        raise NotFound("That proposal does not exist.")
    return proposal


def _recount_supports(proposal_id):
    search.enqueue("proposal", proposal_id)  # supports order results by votes
    db.session.execute(update(Proposal).where(Proposal.id == proposal_id).values(
        support_count=select(func.count()).select_from(ProposalSupport)
        .where(ProposalSupport.proposal_id == proposal_id).scalar_subquery()))


def support_proposal(user, proposal_id):
    with write_transaction():
        proposal = _locked_proposal(proposal_id)
        require(permissions.can_support_proposal(user, proposal))
        db.session.execute(insert_ignore(ProposalSupport, proposal_id=proposal.id,
                                         user_id=user.id, created_at=utcnow()))
        _recount_supports(proposal.id)
    db.session.refresh(proposal)
    return proposal


def unsupport_proposal(user, proposal_id):
    with write_transaction():
        proposal = _locked_proposal(proposal_id)
        require(permissions.can_support_proposal(user, proposal))
        db.session.execute(ProposalSupport.__table__.delete().where(
            ProposalSupport.proposal_id == proposal.id, ProposalSupport.user_id == user.id))
        _recount_supports(proposal.id)
    db.session.refresh(proposal)
    return proposal


def withdraw_proposal(user, proposal_id, reason=""):
    with write_transaction():
        proposal = _locked_proposal(proposal_id)
        require(permissions.can_withdraw_proposal(user, proposal))
        proposal.status = "withdrawn"
        proposal.status_reason = as_text(reason)[:500] or "Withdrawn by its author."
        proposal.updated_at = utcnow()
        # Its discussion stays readable by link, but leaves the lists, feeds and search, as an
        # unlisted topic does.
        db.session.execute(update(Topic).where(Topic.id == proposal.topic_id)
                           .values(visible=False))
        search.enqueue("proposal", proposal.id)
        search.enqueue_topic(proposal.topic_id)
        audit.record(user, "withdraw_proposal", "proposal", proposal.id, proposal.status_reason)
    return proposal


def get_process(process_id):
    process = db.session.get(Process, as_id(process_id)) if as_id(process_id) else None
    if process is None:
        raise NotFound("That process does not exist.")
    return process


def get_proposal(proposal_id):
    proposal = db.session.get(Proposal, as_id(proposal_id)) \
        if as_id(proposal_id) else None
    if proposal is None:
        raise NotFound("That proposal does not exist.")
    return proposal


def current_version(proposal):
    return db.session.scalar(select(ProposalVersion).where(
        ProposalVersion.proposal_id == proposal.id,
        ProposalVersion.number == proposal.current_version_number))


def ensure_state(thing, allowed, action):
    if thing.status not in allowed:
        raise Conflict(f"Cannot {action}: it is {thing.status.replace('_', ' ')}.")
