"""Proposals: the page (numbered text, amendments panel, discussion), supports, withdrawal."""
from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions, proposal_queries, queries, ratelimits, serializers
from ..errors import PermissionDenied, ValidationFailed
from ..ids import as_id
from ..models.deliberation import PROPOSAL_STATUSES, SCOPES
from ..proposal_queries import PROPOSAL_SORTS
from ..services import deliberation
from ..services.voting import my_votes
from . import page_arg, params
from .fragments import proposal_paragraphs

bp = Blueprint("proposals", __name__)
bp.add_app_template_global(proposal_paragraphs, "proposal_paragraphs")


def _lab_id(proposal):
    from .labs import lab_for

    lab = lab_for(proposal)
    return lab.id if lab else None


def _paragraph_arg():
    value = request.args.get("paragraph", "")
    return as_id(value)


def panel(proposal, per_page=20):
    """The amendments panel of a proposal page, as the request's sort and filters ask."""
    kind = request.args.get("kind") if request.args.get("kind") in (
        "amendment", "clarification") else None
    sort = request.args.get("sort", "top")
    page = proposal_queries.amendment_list(current_user, proposal, sort=sort, kind=kind,
                                  paragraph=_paragraph_arg(), page=page_arg("apage"),
                                  per_page=per_page)
    votes = my_votes(current_user, [item.id for item, _ in page.items])
    return page, votes, sort if sort in proposal_queries.AMENDMENT_SORTS else "top", kind


@bp.route("/proposals.json")
def index_json():
    data = request.args
    refused = {name: [f"Choose one of: {', '.join(allowed)}."]
               for name, allowed in (("status", PROPOSAL_STATUSES), ("scope", SCOPES),
                                     ("sort", PROPOSAL_SORTS))
               if data.get(name) and data[name] not in allowed}
    if data.get("process_id") and as_id(data["process_id"]) is None:
        refused["process_id"] = ["Give a process by its id, a whole number."]
    if refused:
        raise ValidationFailed(field_errors=refused)
    process = deliberation.get_process(data["process_id"]) if data.get("process_id") else None
    page = proposal_queries.proposal_list(current_user, process=process, status=data.get("status"),
                                 scope=data.get("scope"), sort=data.get("sort", "supports"),
                                 page=page_arg())
    supported = proposal_queries.supported(current_user, [p.id for p in page.items])
    return jsonify({"proposals": [serializers.proposal_summary(p, p.id in supported)
                                  for p in page.items],
                    "page": page.page, "has_next": page.has_next})


@bp.route("/proposals.json", methods=["POST"])
def create_json():
    data = params()
    proposal = deliberation.create_proposal(current_user, data.get("process_id"),
                                            data.get("title"), data.get("summary"),
                                            data.get("body"), data.get("section_id"))
    version = deliberation.current_version(proposal)
    return jsonify({"proposal": serializers.proposal(proposal, version)}), 201


@bp.route("/proposals/<int:proposal_id>", defaults={"fmt": "html"})
@bp.route("/proposals/<int:proposal_id>.json", defaults={"fmt": "json"}, endpoint="show_json")
def show(proposal_id, fmt):
    from ..services.posts import record_read

    proposal = deliberation.get_proposal(proposal_id)
    version = deliberation.current_version(proposal)
    numbered = len(version.paragraphs_cooked)
    counts = proposal_queries.paragraph_counts(proposal, numbered)
    is_supporter = bool(proposal_queries.supported(current_user, [proposal.id]))
    if fmt == "json":
        return jsonify({"proposal": serializers.proposal(proposal, version, is_supporter, counts,
                                                         _lab_id(proposal))})
    items, votes, sort, kind = panel(proposal)
    topic = proposal.topic
    per_page = 20
    last_page = max((topic.highest_post_number - 1) // per_page + 1, 1)
    page = min(page_arg(), last_page)
    state = queries.read_state(current_user, topic)
    posts, liked = queries.topic_posts(current_user, topic, page, per_page)
    if posts and current_user.is_authenticated:
        record_read(current_user, topic, posts[-1].post_number, known=state)
    from .topics import _composer_defaults

    return render_template(
        "proposals/show.html", proposal=proposal, process=proposal.process, version=version,
        paragraphs=list(zip(range(1, numbered + 1), version.paragraphs_cooked)),
        counts=counts, items=items, votes=votes, sort=sort, kind=kind,
        paragraph=_paragraph_arg(), is_supporter=is_supporter,
        can_support=permissions.can_support_proposal(current_user, proposal),
        can_amend=permissions.can_propose_amendment(current_user, proposal),
        can_withdraw=permissions.can_withdraw_proposal(current_user, proposal),
        window_open=permissions.window_open(proposal), lab_id=_lab_id(proposal),
        can_close=permissions.can_close_window(current_user, proposal),
        vote_check=permissions.vote_checker(current_user, proposal),
        topic=topic, posts=posts, liked=liked, page=page, last_page=last_page,
        target_post_number=None, composer=_composer_defaults(topic),
        can_reply=permissions.can_reply(current_user, topic))


@bp.route("/proposals/<int:proposal_id>/support.json", methods=["POST", "DELETE"])
@ratelimits.votes
def support_json(proposal_id):
    if request.method == "POST":
        proposal = deliberation.support_proposal(current_user, proposal_id)
    else:
        proposal = deliberation.unsupport_proposal(current_user, proposal_id)
    return jsonify({"id": proposal.id, "supports": proposal.support_count,
                    "supported": request.method == "POST"})


@bp.route("/proposals/<int:proposal_id>/support", methods=["POST"])
@ratelimits.votes
def support(proposal_id):
    try:
        if params().get("undo"):
            deliberation.unsupport_proposal(current_user, proposal_id)
        else:
            deliberation.support_proposal(current_user, proposal_id)
    except PermissionDenied:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=url_for("proposals.show",
                                                               proposal_id=proposal_id)))
        raise
    return redirect(url_for("proposals.show", proposal_id=proposal_id) + "#support")


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["POST"])
def withdraw(proposal_id):
    deliberation.withdraw_proposal(current_user, proposal_id, params().get("reason", ""))
    return redirect(url_for("proposals.show", proposal_id=proposal_id))


@bp.route("/proposals/<int:proposal_id>/withdraw.json", methods=["POST"])
def withdraw_json(proposal_id):
    proposal = deliberation.withdraw_proposal(current_user, proposal_id,
                                              params().get("reason", ""))
    return jsonify({"id": proposal.id, "status": proposal.status})


def proposal_for_topic(topic):
    from sqlalchemy import select

    from ..extensions import db
    from ..models import Proposal

    return db.session.scalar(select(Proposal).where(Proposal.topic_id == topic.id))

