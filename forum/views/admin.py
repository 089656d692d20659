"""Admin pages: categories, nations and groups, sections and leads, roles, API keys."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions, queries
from ..errors import ServiceError, require
from ..extensions import db
from ..models import Category, Group, Section
from ..services import admin, api_keys
from . import params

bp = Blueprint("admin", __name__, url_prefix="/admin")

CATEGORY_FIELDS = ("name", "slug", "color", "description", "position", "topic_creators")


@bp.before_request
def admins_only():
    if not current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("auth.login", next=request.full_path))
    require(permissions.can_administer(current_user))
    return None


def _refused(exc):
    """Errors to show on the re-rendered form, and its status; the failed write is undone."""
    db.session.rollback()
    return exc.field_errors or {"form": exc.errors}, exc.status


@bp.route("/")
def index():
    return render_template("admin/index.html")


# -- categories --------------------------------------------------------------------------------

def _category_form(data, category=None):
    if category is None:
        defaults = {"name": "", "slug": "", "color": "#0f766e", "description": "",
                    "position": "", "topic_creators": "everyone"}
    else:
        defaults = {field: getattr(category, field) for field in CATEGORY_FIELDS}
    return {field: data.get(field, defaults[field]) for field in CATEGORY_FIELDS}


@bp.route("/categories", methods=["GET", "POST"])
def categories():
    form, errors, status = _category_form(params() if request.method == "POST" else {}), {}, 200
    if request.method == "POST":
        try:
            category = admin.create_category(current_user, **form)
            flash(f"Category {category.name} created.")
            return redirect(url_for("admin.categories"))
        except ServiceError as exc:
            errors, status = _refused(exc)
    return render_template("admin/categories.html", categories=queries.categories(),
                           form=form, errors=errors), status


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def category(category_id):
    category = admin.lookup(Category, category_id, "category")
    form = _category_form(params() if request.method == "POST" else {}, category)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            category = admin.update_category(current_user, category.id, **form)
            flash(f"Category {category.name} saved.")
            return redirect(url_for("admin.categories"))
        except ServiceError as exc:
            errors, status = _refused(exc)
    return render_template("admin/category.html", category=category, form=form,
                           errors=errors), status


# -- nations and groups ------------------------------------------------------------------------

def _groups_page(group_form=None, group_errors=None, nation_form=None, nation_errors=None,
                 status=200):
    return render_template("admin/groups.html", groups=admin.groups(), nations=admin.nations(),
                           form=group_form or {"name": "", "nation": ""},
                           errors=group_errors or {},
                           nation_form=nation_form or {"code": "", "name": ""},
                           nation_errors=nation_errors or {}), status


@bp.route("/groups", methods=["GET", "POST"])
def groups():
    if request.method == "GET":
        return _groups_page()
    data = params()
    form = {"name": data.get("name", ""), "nation": data.get("nation", "")}
    try:
        group = admin.create_group(current_user, form["name"], form["nation"])
    except ServiceError as exc:
        errors, status = _refused(exc)
        return _groups_page(group_form=form, group_errors=errors, status=status)
    flash(f"Group {group.name} created.")
    return redirect(url_for("admin.groups"))


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
def group(group_id):
    group = admin.lookup(Group, group_id, "group")
    data = params() if request.method == "POST" else {}
    form = {"name": data.get("name", group.name), "nation": data.get("nation", group.nation_code)}
    errors, status = {}, 200
    if request.method == "POST":
        try:
            group = admin.update_group(current_user, group.id, form["name"], form["nation"])
            flash(f"Group {group.name} saved.")
            return redirect(url_for("admin.groups"))
        except ServiceError as exc:
            errors, status = _refused(exc)
    return render_template("admin/group.html", group=group, nations=admin.nations(),
                           form=form, errors=errors), status


@bp.route("/nations", methods=["POST"])
def nations():
    data = params()
    form = {"code": data.get("code", ""), "name": data.get("name", "")}
    try:
        nation = admin.create_nation(current_user, form["code"], form["name"])
    except ServiceError as exc:
        errors, status = _refused(exc)
        return _groups_page(nation_form=form, nation_errors=errors, status=status)
    flash(f"Nation {nation.name} added: groups can belong to it now.")
    return redirect(url_for("admin.groups"))


# -- sections ----------------------------------------------------------------------------------

@bp.route("/sections", methods=["GET", "POST"])
def sections():
    data = params() if request.method == "POST" else {}
    form = {"name": data.get("name", ""), "description": data.get("description", "")}
    errors, status = {}, 200
    if request.method == "POST":
        try:
            section = admin.create_section(current_user, form["name"], form["description"])
            flash(f"Section {section.name} created: add its members and leads below.")
            return redirect(url_for("admin.section", section_id=section.id))
        except ServiceError as exc:
            errors, status = _refused(exc)
    return render_template("admin/sections.html", sections=admin.sections(), form=form,
                           errors=errors), status


def _section(section_id):
    return admin.lookup(Section, section_id, "section", admin.WITH_MEMBERS)


def _section_page(section, form=None, errors=None, member_form=None, member_errors=None,
                  status=200):
    memberships = sorted(section.memberships,
                         key=lambda m: (not m.is_lead, m.user.username_lower))
    return render_template(
        "admin/section.html", section=section, memberships=memberships,
        form=form or {"name": section.name, "description": section.description},
        errors=errors or {}, member_form=member_form or {"username": "", "lead": ""},
        member_errors=member_errors or {}), status


@bp.route("/sections/<int:section_id>", methods=["GET", "POST"])
def section(section_id):
    section = _section(section_id)
    if request.method == "GET":
        return _section_page(section)
    data = params()
    form = {"name": data.get("name", ""), "description": data.get("description", "")}
    try:
        section = admin.update_section(current_user, section.id, form["name"],
                                       form["description"])
    except ServiceError as exc:
        errors, status = _refused(exc)
        return _section_page(section, form=form, errors=errors, status=status)
    flash(f"Section {section.name} saved.")
    return redirect(url_for("admin.section", section_id=section.id))


@bp.route("/sections/<int:section_id>/members", methods=["POST"])
def add_member(section_id):
    data = params()
    form = {"username": data.get("username", ""), "lead": data.get("lead", "")}
    try:
        section = admin.add_section_member(current_user, section_id, form["username"],
                                           lead=bool(form["lead"]))
    except ServiceError as exc:
        errors, status = _refused(exc)
        return _section_page(_section(section_id), member_form=form,
                             member_errors=errors, status=status)
    role = "lead" if form["lead"] else "member"
    flash(f"{form['username'].strip()} added to {section.name} as a {role}.")
    return redirect(url_for("admin.section", section_id=section.id))


def _member_change(section_id, change, message):
    try:
        section = change()
    except ServiceError as exc:
        errors, status = _refused(exc)
        return _section_page(_section(section_id),
                             member_errors=errors, status=status)
    flash(message)
    return redirect(url_for("admin.section", section_id=section.id))


@bp.route("/sections/<int:section_id>/members/<int:user_id>/remove", methods=["POST"])
def remove_member(section_id, user_id):
    return _member_change(section_id, lambda: admin.remove_section_member(
        current_user, section_id, user_id), "Member removed from the section.")


@bp.route("/sections/<int:section_id>/members/<int:user_id>/lead", methods=["POST"])
def set_lead(section_id, user_id):
    lead = params().get("lead") == "1"
    return _member_change(section_id, lambda: admin.set_section_lead(
        current_user, section_id, user_id, lead),
        "Lead appointed." if lead else "Lead stood down; they stay a member.")


# -- members and roles -------------------------------------------------------------------------

def _users_page(q, errors=None, failed_user_id=None, form=None, status=200):
    return render_template("admin/users.html", q=q, users=queries.search_users(q, limit=50),
                           errors=errors or {}, failed_user_id=failed_user_id,
                           form=form or {}, roles=("member", "moderator", "admin")), status


@bp.route("/users")
def users():
    return _users_page(request.args.get("q", "").strip())


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def change_role(user_id):
    data = params()
    form = {"role": data.get("role", ""), "reason": data.get("reason", "")}
    q = data.get("q", "").strip()
    try:
        user = admin.set_role(current_user, user_id, form["role"], form["reason"])
    except ServiceError as exc:
        errors, status = _refused(exc)
        return _users_page(q, errors, user_id, form, status)
    flash(f"{user.username} is now a {user.role}.")
    return redirect(url_for("admin.users", q=q or None))


# -- API keys ----------------------------------------------------------------------------------

@bp.route("/api-keys", methods=["GET", "POST"])
def keys():
    data = params() if request.method == "POST" else {}
    form = {"username": data.get("username", ""), "description": data.get("description", "")}
    errors, status, issued = {}, 200, None
    if request.method == "POST":
        try:
            # Rendered, not redirected: the plaintext must never sit in a cookie or a URL.
            issued = api_keys.issue_api_key(current_user, form["username"], form["description"])
            form = {"username": "", "description": ""}
        except ServiceError as exc:
            errors, status = _refused(exc)
    response = render_template("admin/api_keys.html", keys=api_keys.api_keys(), form=form,
                               errors=errors, issued=issued)
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
def revoke_key(key_id):
    try:
        key = api_keys.revoke_api_key(current_user, key_id, params().get("reason", ""))
    except ServiceError as exc:
        errors, status = _refused(exc)
        return render_template("admin/api_keys.html", keys=api_keys.api_keys(),
                               form={"username": "", "description": ""}, errors=errors,
                               issued=None), status
    flash(f"Key {key.truncated}… revoked: scripts using it are refused from now on.")
    return redirect(url_for("admin.keys"))
