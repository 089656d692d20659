"""Policy labs: the room, the intake table and chart, decisions, draft, versions, diffs."""
from typing import NamedTuple

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from sqlalchemy import select

from .. import permissions, queries, serializers
from ..errors import ServiceError, ValidationFailed
from ..extensions import db
from ..ids import as_id
from ..models import IntakeEntry, PolicyLab, ProposalVersion
from ..paragraphs import join, paragraph_diff, word_diff
from ..ranking import wilson_interval
from ..services import intake, lab_members, labs
from ..web import error_page
from . import page_arg, params

bp = Blueprint("labs", __name__)


def intake_rows(lab):
    return db.session.scalars(select(IntakeEntry).where(IntakeEntry.lab_id == lab.id)
                              .order_by(IntakeEntry.kind, IntakeEntry.rank)).all()


def lab_json(lab):
    members = labs.members(lab)
    _, blocks, decisions = labs.draft(lab)
    return {"lab": {
        "id": lab.id, "proposal_id": lab.proposal_id, "topic_id": lab.topic_id,
        "status": lab.status, "base_version": lab.base_version_number,
        "current_version": lab.proposal.current_version_number,
        "opened_at": serializers.iso(lab.opened_at),
        "finalised_at": serializers.iso(lab.finalised_at),
        "intake": [{"amendment_id": e.amendment_id, "kind": e.kind, "up": e.up, "down": e.down,
                    "score": round(e.score, 6), "rank": e.rank, "taken": e.taken,
                    "reason": e.reason} for e in intake_rows(lab)],
        "members": [{"username": m.user.username, "role": m.role} for m in members],
        "decisions": [{"id": d.id, "decision": d.decision,
                       "amendment_ids": [i.amendment_id for i in d.items], "start": d.start,
                       "end": d.end, "text": d.text, "note": d.note, "by": d.user.username,
                       "version": d.version_number,
                       "created_at": serializers.iso(d.created_at)} for d in decisions],
        "draft": join(blocks),
    }}


def chart(entries, width=640, row=26):
    """Geometry for the server-drawn SVG: each item's score with its interval, and the cut."""
    rows = []
    for n, e in enumerate(entries):
        low, high = wilson_interval(e.up, e.down)
        rows.append({"entry": e, "y": 20 + n * row, "x_low": 160 + low * (width - 180),
                     "x_high": 160 + high * (width - 180),
                     "x_score": 160 + e.score * (width - 180)})
    cut = None
    taken = [r for r in rows if r["entry"].taken]
    if taken and len(taken) < len(rows):
        cut = taken[-1]["y"] + row / 2
    return {"rows": rows, "height": 40 + len(rows) * row, "width": width, "cut": cut,
            "scale": [(160 + f * (width - 180), f) for f in (0, 0.25, 0.5, 0.75, 1)]}


@bp.route("/labs/<int:lab_id>", defaults={"fmt": "html"})
@bp.route("/labs/<int:lab_id>.json", defaults={"fmt": "json"}, endpoint="show_json")
def show(lab_id, fmt):
    lab = labs.get_lab(lab_id)
    if fmt == "json":
        return jsonify(lab_json(lab))
    return _lab_page(lab)


class Refused(NamedTuple):
    """A lab form that was refused: which form (its id on the page), why, the fields the
    refusal names, and what it sent, to show in the form again."""
    form: str
    errors: list
    fields: frozenset
    sent: dict

    def marks(self, form, *names):
        """aria-invalid, and the message as the description, for a field the refusal names."""
        if form != self.form or not self.fields.intersection(names):
            return ""
        return Markup(' aria-invalid="true" aria-describedby="refused-message"')

    def kept(self, form, name, default=""):
        return self.sent.get(name, default) if form == self.form else default

    def kept_list(self, form, name):
        return self.sent.getlist(name) if form == self.form else []


NOTHING_REFUSED = Refused(None, [], frozenset(), MultiDict())


def _lab_page(lab, refused=None):
    members = labs.members(lab)
    _, blocks, decisions = labs.draft(lab)
    entries = intake_rows(lab)
    versions = db.session.scalars(select(ProposalVersion).where(
        ProposalVersion.proposal_id == lab.proposal_id).order_by(ProposalVersion.number)).all()
    decided = {i.amendment_id: d for d in decisions for i in d.items}
    topic = lab.topic
    per_page = 20
    last_page = max((topic.highest_post_number - 1) // per_page + 1, 1)
    page = min(page_arg(), last_page)
    posts, liked = queries.topic_posts(current_user, topic, page, per_page)
    from .topics import _composer_defaults

    return render_template(
        "labs/show.html", lab=lab, proposal=lab.proposal, members=members, entries=entries,
        chart=chart([e for e in entries if e.kind == "amendment"]),
        clar_chart=chart([e for e in entries if e.kind == "clarification"]),
        decisions=decisions, decided=decided,
        draft_diff=paragraph_diff(labs.current_body(lab), join(blocks)),
        draft_changed=join(blocks) != labs.current_body(lab), versions=versions,
        can_lead=permissions.can_lead_lab(current_user, lab, members),
        leaderless=lab.status == "open" and not labs.has_leads(lab, members),
        decide_check=lambda item: permissions.can_decide_items(current_user, lab, [item],
                                                               members),
        topic=topic, posts=posts, liked=liked, page=page, last_page=last_page,
        target_post_number=None, composer=_composer_defaults(topic),
        can_reply=permissions.can_reply(current_user, topic),
        refused=refused or NOTHING_REFUSED)


def _html_action(lab_id, action, anchor, said=None, form=None):
    """Run a lab action from a plain form; on success say what was done (`said` of the
    action's result) above the lab page. On refusal, the lab page again with the message at
    the form (`form`, its id), which keeps what was typed. A refusal of the act itself (not
    allowed, or no longer possible) gets the error page: the form may no longer be shown."""
    try:
        result = action()
    except ServiceError as exc:
        db.session.rollback()
        lab = db.session.get(PolicyLab, lab_id) if as_id(lab_id) else None
        if form is not None and lab is not None and isinstance(exc, ValidationFailed):
            return _lab_page(lab, Refused(form, exc.errors, frozenset(exc.field_errors),
                                          request.form)), exc.status
        return error_page(exc.errors, exc.status,
                          back=(url_for("labs.show", lab_id=lab_id) + anchor, "Back to the lab"))
    if said is not None:
        flash(said(result))
    return redirect(url_for("labs.show", lab_id=lab_id) + anchor)


@bp.route("/labs/<int:lab_id>/members.json", methods=["POST", "DELETE"])
def members_json(lab_id):
    data = params()
    if request.method == "DELETE":
        lab_members.remove(current_user, lab_id, data.get("username"))
    else:
        lab_members.invite(current_user, lab_id, data.get("username"), data.get("role", "expert"))
    return jsonify(lab_json(labs.get_lab(lab_id)))


@bp.route("/labs/<int:lab_id>/members", methods=["POST"])
def members_form(lab_id):
    data = params()
    if data.get("remove"):
        return _html_action(lab_id, lambda: lab_members.remove(current_user, lab_id, data["remove"]),
                            "#members")
    return _html_action(lab_id, lambda: lab_members.invite(current_user, lab_id, data.get("username"),
                                                    data.get("role", "expert")), "#members",
                        form="invite-form")


@bp.route("/labs/<int:lab_id>/decisions.json", methods=["POST"])
def decisions_json(lab_id):
    decision = labs.decide(current_user, lab_id, params())
    return jsonify({"decision": {"id": decision.id, "decision": decision.decision},
                    **lab_json(labs.get_lab(lab_id))}), 201


@bp.route("/labs/<int:lab_id>/decisions", methods=["POST"])
def decisions_form(lab_id):
    data = params()
    if "amendment_ids" in request.form:
        data["amendment_ids"] = request.form.getlist("amendment_ids")
    return _html_action(lab_id, lambda: labs.decide(current_user, lab_id, data), "#intake",
                        lambda row: f"Done: {labs.decision_words(row)}.",
                        form=_decision_form(data))


def _decision_form(data):
    """The id of the form on the lab page a decision came from."""
    if data.get("decision") == "composite":
        return "composite-form"
    if data.get("decision") in ("answer", "reject") and as_id(data.get("amendment_id")):
        return f"{data['decision']}-form-{as_id(data['amendment_id'])}"
    return None


@bp.route("/labs/<int:lab_id>/decisions/<int:decision_id>.json", methods=["DELETE"])
def decision_json(lab_id, decision_id):
    labs.undo(current_user, lab_id, decision_id)
    return jsonify(lab_json(labs.get_lab(lab_id)))


@bp.route("/labs/<int:lab_id>/decisions/<int:decision_id>/undo", methods=["POST"])
def undo_form(lab_id, decision_id):
    return _html_action(
        lab_id, lambda: labs.undo(current_user, lab_id, decision_id), "#intake",
        lambda items: f"Taken back: {labs.named_items(i.id for i in items)} "
                      f"{'is' if len(items) == 1 else 'are'} to decide again.")


@bp.route("/labs/<int:lab_id>/publish.json", methods=["POST"])
def publish_json(lab_id):
    version = labs.publish(current_user, lab_id, params().get("note", ""))
    return jsonify({"version": {"number": version.number, "sha256": version.sha256},
                    **lab_json(labs.get_lab(lab_id))}), 201


@bp.route("/labs/<int:lab_id>/publish", methods=["POST"])
def publish_form(lab_id):
    return _html_action(lab_id, lambda: labs.publish(current_user, lab_id,
                                                     params().get("note", "")), "#versions",
                        lambda version: f"Version {version.number} is published.",
                        form="publish-form")


@bp.route("/labs/<int:lab_id>/finalize.json", methods=["POST"])
def finalize_json(lab_id):
    labs.finalise(current_user, lab_id)
    return jsonify(lab_json(labs.get_lab(lab_id)))


@bp.route("/labs/<int:lab_id>/finalize", methods=["POST"])
def finalize_form(lab_id):
    return _html_action(lab_id, lambda: labs.finalise(current_user, lab_id), "",
                        lambda lab: "The lab is finalised: its last version is the final text.")


@bp.route("/proposals/<int:proposal_id>/close.json", methods=["POST"])
def close_json(proposal_id):
    lab = intake.close_amendment_window(current_user, proposal_id, params().get("reason", ""))
    return jsonify(lab_json(lab)), 201


@bp.route("/proposals/<int:proposal_id>/close", methods=["POST"])
def close_form(proposal_id):
    try:
        lab = intake.close_amendment_window(current_user, proposal_id,
                                            params().get("reason", ""))
    except ServiceError as exc:
        return error_page(exc.errors, exc.status, back=(
            url_for("proposals.show", proposal_id=proposal_id), "Back to the proposal"))
    return redirect(url_for("labs.show", lab_id=lab.id))


@bp.route("/proposals/<int:proposal_id>/versions/diff", defaults={"fmt": "html"})
@bp.route("/proposals/<int:proposal_id>/versions/diff.json", defaults={"fmt": "json"},
          endpoint="diff_json")
def diff(proposal_id, fmt):
    """Any two versions of a proposal, word by word."""
    from ..services.deliberation import get_proposal

    proposal = get_proposal(proposal_id)
    versions = {v.number: v for v in db.session.scalars(select(ProposalVersion).where(
        ProposalVersion.proposal_id == proposal.id))}
    try:
        old = int(request.args.get("from", 1))
        new = int(request.args.get("to", proposal.current_version_number))
    except ValueError:
        raise ValidationFailed("Give version numbers, e.g. ?from=1&to=2.") from None
    if old not in versions or new not in versions:
        raise ValidationFailed(f"This proposal has versions 1 to {max(versions)}.")
    if fmt == "json":
        changes = word_diff(versions[old].body, versions[new].body)
        return jsonify({"proposal_id": proposal.id, "from": old, "to": new,
                        "diff": [list(c) for c in changes]})
    return render_template("labs/diff.html", proposal=proposal, versions=versions, old=old,
                           new=new, rows=paragraph_diff(versions[old].body, versions[new].body))


def lab_for(proposal):
    return db.session.scalar(select(PolicyLab).where(PolicyLab.proposal_id == proposal.id))
