"""Ballots: promotion, publication, exports and outcomes."""
from flask import Blueprint, Response, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from .. import exports, permissions, serializers
from ..errors import Conflict, NotFound, ServiceError
from ..services import ballots, cycle, deliberation
from ..web import error_page
from . import params

bp = Blueprint("ballots", __name__)


def ballot_json(ballot):
    return {"ballot": {
        "id": ballot.id, "process_id": ballot.process_id, "status": ballot.status,
        "promoted_at": serializers.iso(ballot.promoted_at),
        "published_at": serializers.iso(ballot.published_at),
        "export_sha256": ballot.export_sha256,
        "items": [{"id": i.id, "position": i.position, "proposal_id": i.proposal_id,
                   "title": i.title, "sha256": i.sha256, "outcome": i.outcome}
                  for i in ballot.items]}}


@bp.route("/ballots/<int:ballot_id>", defaults={"fmt": "html"})
@bp.route("/ballots/<int:ballot_id>.json", defaults={"fmt": "json"}, endpoint="show_json")
def show(ballot_id, fmt):
    ballot = ballots.get_ballot(ballot_id)
    if fmt == "json":
        return jsonify(ballot_json(ballot))
    finals, left_off = ballots.review(ballot)
    return render_template("ballots/show.html", ballot=ballot, process=ballot.process,
                           finals=finals, left_off=left_off,
                           can_manage=permissions.can_manage_ballot(current_user))


@bp.route("/ballots/<int:ballot_id>/export.<fmt>")
def export(ballot_id, fmt):
    ballot = ballots.get_ballot(ballot_id)
    if fmt not in exports.FORMATS:
        raise NotFound("There is no such export: exports come as .json, .csv, .md or .blt.")
    if ballot.status != "published":
        raise Conflict(f"This ballot is {ballot.status}: exports exist once it is published.")
    mimetype, render = exports.FORMATS[fmt]
    body = render(ballot)
    return Response(body, mimetype=mimetype.split(";")[0], headers={
        "Content-Type": mimetype,
        "Content-Disposition": f'attachment; filename="ballot-{ballot.id}.{fmt}"',
        "Cache-Control": "public, max-age=300"})


def _form(ballot_id, action):
    try:
        action()
    except ServiceError as exc:
        return error_page(exc.errors, exc.status,
                          back=(url_for("ballots.show", ballot_id=ballot_id), "Back to the ballot"))
    return redirect(url_for("ballots.show", ballot_id=ballot_id))


@bp.route("/ballots/<int:ballot_id>/promote.json", methods=["POST"])
def promote_json(ballot_id):
    return jsonify(ballot_json(ballots.promote(current_user, ballot_id)))


@bp.route("/ballots/<int:ballot_id>/promote", methods=["POST"])
def promote_form(ballot_id):
    return _form(ballot_id, lambda: ballots.promote(current_user, ballot_id))


@bp.route("/ballots/<int:ballot_id>/publish.json", methods=["POST"])
def publish_json(ballot_id):
    return jsonify(ballot_json(ballots.publish(current_user, ballot_id)))


@bp.route("/ballots/<int:ballot_id>/publish", methods=["POST"])
def publish_form(ballot_id):
    return _form(ballot_id, lambda: ballots.publish(current_user, ballot_id))


@bp.route("/ballots/<int:ballot_id>/items/<int:item_id>/outcome.json", methods=["POST"])
def outcome_json(ballot_id, item_id):
    item = ballots.record_outcome(current_user, item_id, params().get("outcome"), ballot_id)
    return jsonify(ballot_json(item.ballot))


@bp.route("/ballots/<int:ballot_id>/items/<int:item_id>/outcome", methods=["POST"])
def outcome_form(ballot_id, item_id):
    return _form(ballot_id, lambda: ballots.record_outcome(current_user, item_id,
                                                           params().get("outcome"), ballot_id))


@bp.route("/processes/<int:process_id>/advance.json", methods=["POST"])
def advance_json(process_id):
    done = cycle.advance_process(current_user, process_id)
    from ..services.deliberation import get_process

    return jsonify({"done": done, "process": serializers.process(
        get_process(process_id), ballots.ballot_for(get_process(process_id)).id)})


@bp.route("/processes/<int:process_id>/advance", methods=["POST"])
def advance_form(process_id):
    try:
        done = cycle.advance_process(current_user, process_id)
    except ServiceError as exc:
        return error_page(exc.errors, exc.status, back=(
            url_for("processes.show", process_id=process_id), "Back to the process"))
    flash(_advanced(deliberation.get_process(process_id), done))
    return redirect(url_for("processes.show", process_id=process_id))


def _advanced(process, done):
    """What pressing "Advance the phase" did, or why it did nothing yet."""
    if done:
        return f"The process is now in its {process.phase} phase."
    deadline = {"proposals": ("the amendment windows close", process.amendments_close_at),
                "labs": ("the labs close", process.labs_close_at)}.get(process.phase)
    if deadline:
        what, when = deadline
        return (f"Nothing to move on yet: the {process.phase} phase ends when {what}, "
                f"{when.strftime('%-d %b %Y %H:%M UTC')}.")
    return (f"The process is in its {process.phase} phase, which deadlines do not end: "
            "the ballot moves on when it is promoted, published and every outcome recorded.")
