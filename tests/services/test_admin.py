"""Admin services: each refuses non-admins on its own, validates, and leaves an audit event."""
import pytest

from forum.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from forum.extensions import db
from forum.models import ApiKey, AuditEvent, Category, Group
from forum.permissions import CONSOLE, Anonymous
from forum.services import admin, api_keys


def _events(action):
    return db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)).all()


def _calls(make):
    target = make.user("target")
    category = make.category("Existing")
    section = admin.create_section(CONSOLE, "Existing section")
    key, _ = api_keys.issue_api_key(CONSOLE, "target")
    return [
        lambda actor: admin.create_category(actor, "New one"),
        lambda actor: admin.update_category(actor, category.id, "Renamed", "", "#000000", "",
                                            0, "everyone"),
        lambda actor: admin.create_nation(actor, "cornwall", "Cornwall"),
        lambda actor: admin.create_group(actor, "Truro", "england"),
        lambda actor: admin.update_group(actor, target.group_id, "Renamed", "england"),
        lambda actor: admin.create_section(actor, "Energy"),
        lambda actor: admin.update_section(actor, section.id, "Renamed", ""),
        lambda actor: admin.add_section_member(actor, section.id, "target"),
        lambda actor: admin.set_section_lead(actor, section.id, target.id, True),
        lambda actor: admin.remove_section_member(actor, section.id, target.id),
        lambda actor: admin.set_role(actor, target.id, "moderator"),
        lambda actor: admin.create_member(actor, "newbie", "n@example.org",
                                          "tidal marmalade orbit 42", "", target.group_id),
        lambda actor: api_keys.issue_api_key(actor, ""),
        lambda actor: api_keys.revoke_api_key(actor, key.id),
    ]


@pytest.mark.parametrize("role", ["visitor", "member", "moderator"])
def test_every_admin_service_refuses_non_admins(make, role):
    actor = Anonymous() if role == "visitor" else make.user(role=role)
    calls = _calls(make)
    events = db.session.scalar(db.select(db.func.count(AuditEvent.id)))
    for call in calls:
        with pytest.raises(PermissionDenied) as refused:
            call(actor)
        expected = "Sign in to do that." if role == "visitor" else "Only admins can do that."
        assert refused.value.errors == [expected]
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == events


def test_every_admin_service_works_for_an_admin(make):
    boss = make.user("boss", role="admin")
    for call in _calls(make):
        call(boss)
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
        AuditEvent.actor_id == boss.id)) == 14


def test_category_defaults_and_normalising(make):
    make.category("First")
    boss = make.user(role="admin")
    cat = admin.create_category(boss, "  Élections locales ", color="#ABCDEF")
    assert (cat.slug, cat.color, cat.position, cat.topic_creators) == (
        "elections-locales", "#abcdef", 1, "everyone")


@pytest.mark.parametrize("colour", ["#abc", "abcdef", "#abcdeg", "#abcdef0", "", "#ABCDE "])
def test_category_colour_must_be_six_hex_digits(make, colour):
    with pytest.raises(ValidationFailed) as refused:
        admin.create_category(make.user(role="admin"), "Colourful", color=colour)
    assert list(refused.value.field_errors) == ["color"]


def test_category_update_records_what_changed(make):
    boss = make.user(role="admin")
    cat = admin.create_category(boss, "News", color="#111111")
    admin.update_category(boss, cat.id, "News", "news", "#222222", "", cat.position, "admins")
    [event] = _events("update_category")
    assert event.details == {"changes": {"color": ["#111111", "#222222"],
                                         "topic_creators": ["everyone", "admins"]}}
    assert db.session.get(Category, cat.id).topic_creators == "admins"


def test_category_slug_and_name_are_unique_ignoring_case(make):
    boss = make.user(role="admin")
    admin.create_category(boss, "News", slug="news")
    with pytest.raises(ValidationFailed) as refused:
        admin.create_category(boss, "NEWS", slug="NEWS")
    assert set(refused.value.field_errors) == {"name", "slug"}


def test_group_in_an_added_nation(make):
    boss = make.user(role="admin")
    admin.create_nation(boss, "Northern-Ireland", "Northern Ireland")
    group = admin.create_group(boss, "Belfast", "northern-ireland")
    assert db.session.get(Group, group.id).nation.name == "Northern Ireland"
    [event] = _events("create_nation")
    assert event.details == {"code": "northern-ireland", "name": "Northern Ireland"}


def test_lead_changes_name_the_current_state(make):
    boss = make.user(role="admin")
    dylan = make.user("dylan")
    section = admin.create_section(boss, "Climate")
    with pytest.raises(Conflict, match="dylan is not in Climate: add them first."):
        admin.set_section_lead(boss, section.id, dylan.id, True)
    admin.add_section_member(boss, section.id, "dylan")
    with pytest.raises(Conflict, match="dylan is not a lead of Climate."):
        admin.set_section_lead(boss, section.id, dylan.id, False)
    admin.set_section_lead(boss, section.id, dylan.id, True)
    with pytest.raises(Conflict, match="dylan is already a lead of Climate."):
        admin.set_section_lead(boss, section.id, dylan.id, True)
    assert [e.details["username"] for e in _events("appoint_section_lead")] == ["dylan"]


def test_missing_things_are_not_found(make):
    boss = make.user(role="admin")
    with pytest.raises(NotFound):
        admin.update_section(boss, 999, "Nothing", "")
    with pytest.raises(NotFound):
        admin.set_role(boss, 999, "admin")
    with pytest.raises(NotFound):
        api_keys.revoke_api_key(boss, "not-a-number")


def test_api_key_keeps_only_a_hash_and_revokes_once(make):
    boss = make.user(role="admin")
    key, plaintext = api_keys.issue_api_key(boss, "", "all members")
    stored = db.session.get(ApiKey, key.id)
    assert stored.key_hash == ApiKey.hash(plaintext) and stored.user_id is None
    assert stored.created_by_id == boss.id
    api_keys.revoke_api_key(boss, key.id, "leaked")
    with pytest.raises(Conflict, match="already revoked"):
        api_keys.revoke_api_key(boss, key.id)
    assert [e.reason for e in _events("revoke_api_key")] == ["leaked"]


def test_console_acts_as_admin_with_no_actor_recorded(make):
    make.user("ana")
    admin.set_role(CONSOLE, make.user("sam").id, "admin", "first admin")
    [event] = _events("change_role")
    assert event.actor_id is None and event.reason == "first admin"
