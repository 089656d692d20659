"""Amendments and clarifications: propose with a redline preview, vote, edit, withdraw, answer."""
from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions, proposal_queries, ratelimits, serializers
from ..errors import ServiceError, require
from ..ids import as_id
from ..paragraphs import split
from ..services import amendments, deliberation, labs, voting
from ..web import sign_in_first
from . import page_arg, params
from .fragments import amendment_item

bp = Blueprint("amendments", __name__)
bp.add_app_template_global(amendment_item, "amendment_item")


def _rank(item):
    return proposal_queries.item_rank(item)


@bp.route("/proposals/<int:proposal_id>/amendments.json")
def index_json(proposal_id):
    proposal = deliberation.get_proposal(proposal_id)
    paragraph = request.args.get("paragraph", "")
    page = proposal_queries.amendment_list(
        current_user, proposal, sort=request.args.get("sort", "top"),
        kind=request.args.get("kind") or None,
        paragraph=as_id(paragraph), page=page_arg(),
        per_page=100)
    votes = voting.my_votes(current_user, [item.id for item, _ in page.items])
    return jsonify({"amendments": [serializers.amendment(item, rank, votes.get(item.id),
                                                         current_user)
                                   for item, rank in page.items],
                    "page": page.page, "has_next": page.has_next})


@bp.route("/proposals/<int:proposal_id>/amendments.json", methods=["POST"])
@ratelimits.posts
def create_json(proposal_id):
    data = params()
    item = amendments.propose_item(current_user, proposal_id, data.get("kind", "amendment"),
                                   data.get("start"), data.get("end"), data.get("text"),
                                   data.get("rationale"))
    return jsonify({"amendment": serializers.amendment(item, _rank(item), 0, current_user)}), 201


@bp.route("/proposals/<int:proposal_id>/amend", methods=["GET", "POST"])
@ratelimits.posts
def new(proposal_id):
    """The amendment form: choose a range, write, preview the redline, submit."""
    proposal = deliberation.get_proposal(proposal_id)
    if not current_user.is_authenticated:
        return sign_in_first(request.full_path)
    version = deliberation.current_version(proposal)
    blocks = split(version.body)
    data = params()
    start = data.get("start", request.args.get("start", "1"))
    kind = data.get("kind", request.args.get("kind", "amendment"))
    if kind not in ("amendment", "clarification"):
        kind = "amendment"
    form = {"kind": kind, "start": start, "end": data.get("end", request.args.get("end", start)),
            "rationale": data.get("rationale", "")}
    if "text" in data:
        form["text"] = data["text"]
    elif kind == "amendment" and as_id(form["start"]) and as_id(form["end"]):
        s, e = as_id(form["start"]), as_id(form["end"])
        form["text"] = "\n\n".join(blocks[s - 1:e]) if 1 <= s <= e <= len(blocks) else ""
    else:
        form["text"] = ""
    errors, preview, status = {}, None, 200
    verdict = permissions.can_propose_amendment(current_user, proposal)
    # The range the member has seen their text against: the one the box was filled from,
    # then the one of their last preview. Submitting a different range previews it first, so
    # widening the range never deletes paragraphs unseen.
    chosen = f"{form['start']}:{form['end']}"
    seen = data.get("checked", chosen) if request.method == "POST" else chosen
    form["checked"] = seen
    widened = kind == "amendment" and seen != chosen and "preview" not in data
    if request.method == "POST":
        try:
            if "preview" in data or widened:
                preview = amendments.preview_item(current_user, proposal.id, kind, form["start"],
                                                  form["end"], form["text"], form["rationale"])
                preview["range_changed_from"] = seen.split(":") if widened else None
                form["checked"] = chosen
            else:
                item = amendments.propose_item(current_user, proposal.id, kind, form["start"],
                                               form["end"], form["text"], form["rationale"])
                return redirect(url_for("proposals.show", proposal_id=proposal.id)
                                + f"#item-{item.id}")
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
    elif not verdict:
        status = 403
    return render_template("amendments/new.html", proposal=proposal, version=version,
                           paragraphs=list(enumerate(version.paragraphs_cooked, start=1)),
                           form=form, errors=errors, preview=preview, verdict=verdict), status


@bp.route("/amendments/<int:item_id>", defaults={"fmt": "html"})
@bp.route("/amendments/<int:item_id>.json", defaults={"fmt": "json"}, endpoint="show_json")
def show(item_id, fmt):
    item = amendments.get_item(item_id)
    my_vote = voting.my_votes(current_user, [item.id]).get(item.id, 0)
    rank = _rank(item)
    if fmt == "json":
        return jsonify({"amendment": serializers.amendment(item, rank, my_vote, current_user)})
    return render_template("amendments/show.html", item=item, rank=rank, my_vote=my_vote,
                           proposal=item.proposal, lab_decisions=labs.decisions_on(item),
                           decided=labs.DECIDED,
                           can_vote=permissions.can_vote_on(current_user, item),
                           can_edit=permissions.can_edit_amendment(current_user, item),
                           can_withdraw=permissions.can_withdraw_amendment(current_user, item),
                           can_answer=permissions.can_answer_clarification(current_user, item))


@bp.route("/amendments/<int:item_id>/vote.json", methods=["PUT", "POST"])
@ratelimits.votes
def vote_json(item_id):
    data = params()
    item, value = voting.cast_vote(current_user, item_id, data.get("value"))
    return jsonify({"amendment": serializers.amendment(item, _rank(item), value, current_user)})


@bp.route("/amendments/<int:item_id>/vote", methods=["POST"])
@ratelimits.votes
def vote(item_id):
    """The no-JavaScript vote: a plain form post; pressing your current vote again clears it."""
    data = params()
    if not current_user.is_authenticated:
        item = amendments.get_item(item_id)
        return redirect(url_for("auth.login", next=url_for("proposals.show",
                                                           proposal_id=item.proposal_id)))
    value = data.get("value")
    current = voting.my_votes(current_user, [item_id]).get(item_id, 0)
    if str(value) == str(current):
        value = 0
    item, value = voting.cast_vote(current_user, item_id, value)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"amendment": serializers.amendment(item, _rank(item), value,
                                                           current_user)})
    if data.get("back") == "item":  # cast on the item's own page: back to it
        return redirect(url_for("amendments.show", item_id=item.id) + f"#item-{item.id}")
    return redirect(url_for("proposals.show", proposal_id=item.proposal_id,
                            **_panel_args(data)) + f"#item-{item.id}")


def _panel_args(data):
    """The panel's view (sort, filter, page) the vote was cast from, to come back to it."""
    return {k: data[k] for k in ("sort", "kind", "paragraph", "apage")
            if isinstance(data.get(k), str) and data[k]}


@bp.route("/amendments/<int:item_id>/withdraw", methods=["POST"])
def withdraw(item_id):
    item = amendments.withdraw_item(current_user, item_id)
    return redirect(url_for("proposals.show", proposal_id=item.proposal_id) + "#amendments")


@bp.route("/amendments/<int:item_id>.json", methods=["DELETE"])
def withdraw_json(item_id):
    item = amendments.withdraw_item(current_user, item_id)
    return jsonify({"amendment": serializers.amendment(item, None, 0, current_user)})


@bp.route("/amendments/<int:item_id>.json", methods=["PUT"])
def edit_json(item_id):
    data = params()
    item = amendments.edit_item(current_user, item_id, data.get("start"), data.get("end"),
                                data.get("text"), data.get("rationale"))
    return jsonify({"amendment": serializers.amendment(item, _rank(item), 0, current_user)})


@bp.route("/amendments/<int:item_id>/edit", methods=["GET", "POST"])
def edit(item_id):
    item = amendments.get_item(item_id)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    require(permissions.can_read_words(current_user, item.kind, item))
    verdict = permissions.can_edit_amendment(current_user, item)
    if request.method == "GET":
        require(verdict)
    data = params()
    form = {"start": data.get("start", item.start), "end": data.get("end", item.end),
            "text": data.get("text", item.text), "rationale": data.get("rationale",
                                                                       item.rationale)}
    errors, status = {}, 200
    if request.method == "POST":
        try:
            item = amendments.edit_item(current_user, item.id, form["start"], form["end"],
                                        form["text"], form["rationale"])
            return redirect(url_for("amendments.show", item_id=item.id))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
    return render_template("amendments/edit.html", item=item, form=form, errors=errors,
                           verdict=verdict), status


@bp.route("/amendments/<int:item_id>/answer", methods=["POST"])
def answer(item_id):
    item = amendments.answer_clarification(current_user, item_id, params().get("answer"))
    return redirect(url_for("proposals.show", proposal_id=item.proposal_id) + f"#item-{item.id}")


@bp.route("/amendments/<int:item_id>/answer.json", methods=["POST"])
def answer_json(item_id):
    item = amendments.answer_clarification(current_user, item_id, params().get("answer"))
    return jsonify({"amendment": serializers.amendment(item, None, 0, current_user)})
