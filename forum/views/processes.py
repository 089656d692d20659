"""Processes: the list, one process with its proposals, and creating one (admins)."""
from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import permissions, proposal_queries, serializers
from ..errors import ServiceError
from ..extensions import db
from ..models import Process, Section
from ..services import deliberation
from ..web import sign_in_first
from . import page_arg, params

bp = Blueprint("processes", __name__)

PROPOSAL_SORTS = ("supports", "activity", "newest")


def _ballot_id(process):
    from ..services.ballots import ballot_for

    ballot = ballot_for(process)
    return ballot.id if ballot else None


def _submitted(verdict, write):
    """(errors, status, written) of a page with a plain form: the write when it was posted,
    its refusal as field errors, or 403 for a page its viewer may not use."""
    if request.method == "POST":
        try:
            return {}, 200, write()
        except ServiceError as exc:
            return exc.field_errors or {"form": exc.errors}, exc.status, None
    return {}, 200 if verdict else 403, None


@bp.route("/processes", defaults={"fmt": "html"})
@bp.route("/processes.json", defaults={"fmt": "json"}, endpoint="index_json")
def index(fmt):
    processes = db.session.scalars(select(Process).order_by(Process.created_at.desc())).all()
    if fmt == "json":
        return jsonify({"processes": [serializers.process(p, _ballot_id(p)) for p in processes]})
    return render_template("processes/index.html", processes=processes)


@bp.route("/processes.json", methods=["POST"])
def create_json():
    process = deliberation.create_process(current_user, params())
    return jsonify({"process": serializers.process(process, _ballot_id(process))}), 201


@bp.route("/processes/new", methods=["GET", "POST"])
def new():
    if not current_user.is_authenticated:
        return sign_in_first(request.path)
    verdict = permissions.can_create_process(current_user)
    data = params()
    errors, status, process = _submitted(
        verdict, lambda: deliberation.create_process(current_user, data))
    if process is not None:
        return redirect(url_for("processes.show", process_id=process.id))
    return render_template("processes/new.html", form=data, errors=errors,
                           verdict=verdict), status


@bp.route("/processes/<int:process_id>.json", methods=["PUT"])
def update_json(process_id):
    process = deliberation.update_process(current_user, process_id, params())
    return jsonify({"process": serializers.process(process, _ballot_id(process))})


@bp.route("/processes/<int:process_id>/edit", methods=["GET", "POST"])
def edit(process_id):
    process = deliberation.get_process(process_id)
    if not current_user.is_authenticated:
        return sign_in_first(request.path)
    verdict = permissions.can_edit_process(current_user, process)
    form = {f: getattr(process, f) for f in ("title", "description", *deliberation.EDITABLE)}
    form.update({f: form[f].strftime("%Y-%m-%dT%H:%M") for f in form if f.endswith("_at")})
    form.update(params())
    errors, status, edited = _submitted(
        verdict, lambda: deliberation.update_process(current_user, process_id, params()))
    if edited is not None:
        return redirect(url_for("processes.show", process_id=process_id))
    return render_template(
        "processes/edit.html", process=process, form=form, errors=errors, verdict=verdict,
        editable=lambda field: deliberation.still_editable(process, field),
        phase_words=deliberation.PHASE_WORDS.get(process.phase, "")), status


@bp.route("/processes/<int:process_id>", defaults={"fmt": "html"})
@bp.route("/processes/<int:process_id>.json", defaults={"fmt": "json"}, endpoint="show_json")
def show(process_id, fmt):
    process = deliberation.get_process(process_id)
    sort = request.args.get("sort", "supports")
    if sort not in PROPOSAL_SORTS:
        sort = "supports"
    page = proposal_queries.proposal_list(current_user, process=process, sort=sort, page=page_arg())
    supported = proposal_queries.supported(current_user, [p.id for p in page.items])
    if fmt == "json":
        return jsonify({"process": serializers.process(process, _ballot_id(process)),
                        "proposals": [serializers.proposal_summary(p, p.id in supported)
                                      for p in page.items],
                        "page": page.page, "has_next": page.has_next})
    return render_template("processes/show.html", process=process, page=page, sort=sort,
                           supported=supported,
                           can_propose=permissions.can_create_proposal(current_user, process),
                           eligible=permissions.is_eligible(current_user, process),
                           ballot_id=_ballot_id(process),
                           can_advance=permissions.can_advance_process(current_user),
                           can_edit=permissions.can_edit_process(current_user, process))


@bp.route("/processes/<int:process_id>/proposals/new", methods=["GET", "POST"])
def new_proposal(process_id):
    process = deliberation.get_process(process_id)
    if not current_user.is_authenticated:
        return sign_in_first(request.path)
    verdict = permissions.can_create_proposal(current_user, process)
    data = params()
    form = {k: data.get(k, "") for k in ("title", "summary", "body", "section")}
    errors, status, proposal = _submitted(verdict, lambda: deliberation.create_proposal(
        current_user, process.id, form["title"], form["summary"], form["body"],
        form["section"] or None))
    if proposal is not None:
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    sections = db.session.scalars(select(Section).order_by(Section.name)).all()
    return render_template("processes/new_proposal.html", process=process, form=form,
                           errors=errors, verdict=verdict, sections=sections), status
