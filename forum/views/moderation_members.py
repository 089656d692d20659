"""Silencing and suspending members (pages and Discourse's admin JSON), and the public
moderation log with its filters."""
from datetime import datetime, timedelta, timezone

from flask import (Blueprint, current_app, jsonify, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from sqlalchemy import select

from .. import permissions, queries, serializers
from ..errors import PermissionDenied, ServiceError, ValidationFailed
from ..extensions import db
from ..models import AuditEvent, User
from ..services import accounts, member_moderation, review
from . import page_arg, params
from .moderation import target_url

bp = Blueprint("moderation_members", __name__)

MEMBER_ACTIONS = {
    "silence": lambda actor, uid, data: member_moderation.silence_member(
        actor, uid, data.get("reason"), data.get("until")),
    "unsilence": lambda actor, uid, data: member_moderation.unsilence_member(
        actor, uid, data.get("reason", "")),
    "suspend": lambda actor, uid, data: member_moderation.suspend_member(
        actor, uid, data.get("reason"), data.get("until")),
    "unsuspend": lambda actor, uid, data: member_moderation.unsuspend_member(
        actor, uid, data.get("reason", "")),
}


def member_state(user):
    silenced, suspended = user.is_silenced(), user.is_suspended()
    return {"id": user.id, "username": user.username, "silenced": silenced,
            "silenced_till": serializers.iso(user.silenced_until) if silenced else None,
            "silence_reason": user.silence_reason if silenced else None,
            "suspended": suspended,
            "suspended_till": serializers.iso(user.suspended_until) if suspended else None,
            "suspend_reason": user.suspend_reason if suspended else None}


@bp.route("/admin/users/<int:user_id>/silence.json", methods=["PUT"],
          defaults={"action": "silence"})
@bp.route("/admin/users/<int:user_id>/unsilence.json", methods=["PUT"],
          defaults={"action": "unsilence"})
@bp.route("/admin/users/<int:user_id>/suspend.json", methods=["PUT"],
          defaults={"action": "suspend"})
@bp.route("/admin/users/<int:user_id>/unsuspend.json", methods=["PUT"],
          defaults={"action": "unsuspend"})
def member_json(user_id, action):
    """Discourse's PUT /admin/users/{id}/silence (and unsilence, suspend, unsuspend), with
    `reason` and `until` (Discourse's `silenced_till` and `suspend_until` are read too)."""
    data = dict(params())
    data.setdefault("until", data.get("silenced_till") or data.get("suspend_until"))
    user = MEMBER_ACTIONS[action](current_user, user_id, data)
    return jsonify({"user": member_state(user)})


@bp.route("/u/<username>/moderation", methods=["GET", "POST"])
def member_page(username):
    """Silence or suspend a member with a reason and an end date, or lift it; their record."""
    user = accounts.get_user(username)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.path))
    verdict = permissions.can_moderate(current_user)
    if not verdict:
        raise PermissionDenied(verdict.reason)
    data = params()
    errors, status, form = {}, 200, {}
    if request.method == "POST":
        action = data.get("action")
        form = data
        try:
            if action not in MEMBER_ACTIONS:
                raise ValidationFailed("Choose what to do.")
            MEMBER_ACTIONS[action](current_user, user.id, data)
            return redirect(url_for("moderation_members.member_page",
                                    username=user.username_lower))
        except ServiceError as exc:
            errors, status = exc.field_errors or {"form": exc.errors}, exc.status
            db.session.rollback()
    history = db.session.scalars(select(AuditEvent).where(
        AuditEvent.target_kind == "user", AuditEvent.target_id == user.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(50)).all()
    default_until = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%d")
    return render_template("moderation/member.html", user=user, errors=errors, form=form,
                           history=history, flagged=review.of_member(current_user, user.id),
                           target_url=target_url, default_until=default_until,
                           can_act=permissions.can_moderate_member(current_user, user),
                           action_label=action_label), status


# -- the moderation log ----------------------------------------------------------------------

ACTION_LABELS = {
    "hide_post": "hid a post", "unhide_post": "showed a post again",
    "hide_topic": "hid a topic", "unhide_topic": "showed a topic again",
    "hide_amendment": "hid an amendment", "unhide_amendment": "showed an amendment again",
    "hide_clarification": "hid a clarification",
    "unhide_clarification": "showed a clarification again",
    "agree_flags": "agreed with flags on", "disagree_flags": "disagreed with flags on",
    "ignore_flags": "ignored flags on",
    "lock_topic": "locked a topic", "unlock_topic": "unlocked a topic",
    "pin_topic": "pinned a topic", "pin_topic_globally": "pinned a topic globally",
    "unpin_topic": "unpinned a topic", "unlist_topic": "unlisted a topic",
    "list_topic": "listed a topic", "move_topic": "moved a topic",
    "split_topic": "split posts out of a topic", "edit_post": "edited a post",
    "delete_post": "removed a post",
    "silence_user": "silenced", "unsilence_user": "lifted the silence of",
    "suspend_user": "suspended", "unsuspend_user": "lifted the suspension of",
    "close_window": "closed the amendment window of",
    # the cycle, labs and the ballot
    "phase_labs": "moved into the lab phase", "phase_ballot": "moved into the ballot phase",
    "phase_closed": "closed", "create_process": "opened", "edit_process": "edited",
    "create_proposal": "proposed",
    "withdraw_proposal": "withdrew", "withdraw_amendment": "withdrew an amendment",
    "withdraw_clarification": "withdrew a clarification",
    "invite_to_lab": "invited a member to", "remove_from_lab": "removed a member from",
    "lab_accept": "accepted an amendment in", "lab_composite": "composited amendments in",
    "lab_reject": "rejected an amendment in", "lab_answer": "answered a clarification in",
    "lab_undo": "took back a decision in",
    "publish_version": "published a new version of", "finalise_lab": "finalised the text of",
    "promote_on_ballot": "put on the ballot", "promote_not_qualified": "found not qualified",
    "promote_ballot": "promoted the final texts to", "publish_ballot": "published",
    "record_adopted": "recorded as adopted", "record_not_adopted": "recorded as not adopted",
    # administration
    "create_category": "created", "update_category": "changed",
    "create_group": "created", "update_group": "changed",
    "create_nation": "added a nation", "create_section": "created",
    "update_section": "changed", "add_section_member": "added a member to",
    "remove_section_member": "removed a member from",
    "appoint_section_lead": "appointed a lead of", "remove_section_lead": "removed a lead of",
    "change_role": "changed the role of",
    "grant_admin": "made an admin of", "create_member": "created the account of",
    "issue_api_key": "issued an API key", "revoke_api_key": "revoked an API key",
}


def action_label(action):
    return ACTION_LABELS.get(action, action.replace("_", " "))


# target kind -> (endpoint, URL argument); a kind without an entry is named, not linked.
TARGET_LINKS = {"post": ("moderation.post_link", "post_id"),
                "topic": ("topics.show_by_id", "topic_id"),
                "amendment": ("amendments.show", "item_id"),
                "clarification": ("amendments.show", "item_id"),
                "proposal": ("proposals.show", "proposal_id"),
                "process": ("processes.show", "process_id"),
                "lab": ("labs.show", "lab_id"),
                "ballot": ("ballots.show", "ballot_id")}


def _date(name, errors, end_of_day=False):
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        errors[name] = ["Give a date as YYYY-MM-DD."]
        return None
    return day + timedelta(days=1) if end_of_day else day


def _log_filters():
    errors = {}
    filters = {"action": request.args.get("action") or None,
               "target_kind": request.args.get("target_kind") or None,
               "since": _date("from", errors), "until": _date("to", errors, end_of_day=True)}
    if filters["action"] is not None and filters["action"] not in ACTION_LABELS:
        errors["action"] = ["There is no such action: choose one from the list."]
        filters["action"] = None
    moderator = (request.args.get("moderator") or "").strip()
    if moderator.lower() == "system":
        filters["actor_id"] = 0
    elif moderator:
        found = db.session.scalar(select(User.id).where(User.username_lower == moderator.lower()))
        # An unknown name matches nothing rather than everything.
        filters["actor_id"] = found if found is not None else -1
    return filters, errors


def _targets(events):
    """event id -> (label, url) of its target, for the events of one page: one query for the
    members among them."""
    users = {e.target_id for e in events if e.target_kind == "user"}
    names = dict(db.session.execute(select(User.id, User.username).where(
        User.id.in_(users))).all()) if users else {}
    links = {}
    for event in events:
        key = event.id
        if event.target_kind == "user" and event.target_id in names:
            links[key] = (names[event.target_id],
                          url_for("users.profile", username=names[event.target_id].lower()))
            continue
        if event.target_kind == "nation":  # nations are known by their code, not a number
            details = event.details or {}
            links[key] = (f"nation {details.get('name') or details.get('code') or ''}".strip(),
                          None)
            continue
        label = f"{event.target_kind} #{event.target_id}"
        endpoint, arg = TARGET_LINKS.get(event.target_kind, (None, None))
        url = url_for(endpoint, **{arg: event.target_id}) \
            if endpoint in current_app.view_functions else None
        links[key] = (label, url)
    return links


def _event_json(event, links):
    label, url = links.get(event.id, (None, None))
    return {"id": event.id, "action": event.action, "action_label": action_label(event.action),
            "actor": ({"id": event.actor.id, "username": event.actor.username}
                      if event.actor else None),
            "target_kind": event.target_kind, "target_id": event.target_id,
            "target_label": label, "target_url": url, "reason": event.reason,
            "details": event.details or {}, "created_at": serializers.iso(event.created_at)}


@bp.route("/moderation-log", defaults={"fmt": "html"})
@bp.route("/moderation-log.json", defaults={"fmt": "json"}, endpoint="log_json")
def log(fmt):
    """Every act of power, newest first, for anyone to read."""
    filters, errors = _log_filters()
    if errors and fmt == "json":
        raise ValidationFailed(field_errors=errors)
    page = queries.moderation_log(page=page_arg(), **filters)
    links = _targets(page.items)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    endpoint = "moderation_members.log_json" if fmt == "json" else "moderation_members.log"
    more = url_for(endpoint, page=page.page + 1, **args) if page.has_next else None
    if fmt == "json":
        return jsonify({"events": [_event_json(e, links) for e in page.items],
                        "page": page.page, "has_next": page.has_next, "more_url": more})
    actions, kinds = queries.moderation_log_choices()
    return render_template("moderation/log.html", page=page, links=links, errors=errors,
                           args=args, actions=actions, kinds=kinds, action_label=action_label,
                           more_url=more, prev_url=url_for(endpoint, page=page.page - 1, **args)
                           if page.has_prev else None)
