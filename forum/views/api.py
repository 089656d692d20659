"""API-only endpoints: creating members, and the lists of groups and sections."""
from flask import Blueprint, jsonify, url_for
from flask_login import current_user

from .. import serializers
from ..services import admin
from . import params

bp = Blueprint("api", __name__)


@bp.route("/users.json", methods=["POST"])
def create_user():
    """Discourse's POST /users.json, for admins' scripts: the member is active and verified."""
    data = params()
    group = data.get("group_id", data.get("group"))
    user = admin.create_member(current_user, data.get("username"), data.get("email"),
                               data.get("password"), data.get("name", ""), group)
    return jsonify({"success": True, "active": True, "user_id": user.id,
                    "message": f"{user.username} can sign in now.",
                    "user": serializers.basic_user(user)})


@bp.route("/groups.json")
def groups():
    return jsonify({"groups": [
        {"id": group.id, "name": group.name, "slug": group.slug, "user_count": members,
         "nation": {"code": group.nation.code, "name": group.nation.name}}
        for group, members in admin.groups()]})


@bp.route("/sections.json")
def sections():
    return jsonify({"sections": [_section(section) for section in admin.sections()]})


def _section(section):
    leads = sorted((m.user for m in section.memberships if m.is_lead),
                   key=lambda user: user.username_lower)
    return {"id": section.id, "name": section.name, "slug": section.slug,
            "description": section.description, "user_count": len(section.memberships),
            "leads": [{"id": u.id, "username": u.username, "name": u.name,
                       "avatar_template": url_for("users.avatar", username=u.username_lower)}
                      for u in leads]}
