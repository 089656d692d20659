"""Write endpoints of the admin pages and the admin API: admins only, every one of them."""
from forum.services import admin as admin_service
from forum.services import api_keys
from tests.conftest import PASSWORD

from . import ADMINS, Case, api, form


def _section(ctx, with_other=False, lead=False):
    section = admin_service.create_section(ctx.admin, "Transport", "Buses and trains.")
    if with_other:
        admin_service.add_section_member(ctx.admin, section.id, ctx.other.username, lead=lead)
    return section


def create_category(ctx):
    return form("/admin/categories", name="Transport", slug="", color="#123456",
                description="Getting around.", position="3", topic_creators="everyone")


def update_category(ctx):
    return form(f"/admin/categories/{ctx.category.id}", name="Renamed category",
                slug=ctx.category.slug, color="#654321", description="New words.",
                position="1", topic_creators="moderators")


def create_group(ctx):
    return form("/admin/groups", name="Cardiff North", nation="wales")


def update_group(ctx):
    group = ctx.other.group
    return form(f"/admin/groups/{group.id}", name="Renamed group", nation="scotland")


def create_nation(ctx):
    return form("/admin/nations", code="cornwall", name="Cornwall")


def create_section(ctx):
    return form("/admin/sections", name="Health", description="Hospitals and care.")


def update_section(ctx):
    return form(f"/admin/sections/{_section(ctx).id}", name="Transport and travel",
                description="Buses, trains and bikes.")


def add_member(ctx):
    return form(f"/admin/sections/{_section(ctx).id}/members", username=ctx.other.username,
                lead="1")


def remove_member(ctx):
    section = _section(ctx, with_other=True)
    return form(f"/admin/sections/{section.id}/members/{ctx.other.id}/remove")


def set_lead(ctx):
    section = _section(ctx, with_other=True)
    return form(f"/admin/sections/{section.id}/members/{ctx.other.id}/lead", lead="1")


def change_role(ctx):
    return form(f"/admin/users/{ctx.other.id}/role", role="moderator", reason="Helps out.")


def issue_key(ctx):
    return form("/admin/api-keys", username=ctx.other.username, description="A script.")


def revoke_key(ctx):
    key, _ = api_keys.issue_api_key(ctx.admin, ctx.other.username, "An old script.")
    return form(f"/admin/api-keys/{key.id}/revoke", reason="Not used any more.")


def create_user_json(ctx):
    return api("/users.json", {"username": "scripted", "email": "scripted@example.org",
                               "password": PASSWORD, "name": "Made by a script",
                               "group_id": ctx.other.group_id})


CASES = [
    Case("admin.categories", "POST", create_category, ADMINS),
    Case("admin.category", "POST", update_category, ADMINS),
    Case("admin.groups", "POST", create_group, ADMINS),
    Case("admin.group", "POST", update_group, ADMINS),
    Case("admin.nations", "POST", create_nation, ADMINS),
    Case("admin.sections", "POST", create_section, ADMINS),
    Case("admin.section", "POST", update_section, ADMINS),
    Case("admin.add_member", "POST", add_member, ADMINS),
    Case("admin.remove_member", "POST", remove_member, ADMINS),
    Case("admin.set_lead", "POST", set_lead, ADMINS),
    Case("admin.change_role", "POST", change_role, ADMINS),
    Case("admin.keys", "POST", issue_key, ADMINS),
    Case("admin.revoke_key", "POST", revoke_key, ADMINS),
    Case("api.create_user", "POST", create_user_json, ADMINS),
]
