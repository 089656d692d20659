"""Admin pages: only admins get in, and each page does what an admin expects of it."""
import pytest

from forum.extensions import db
from forum.models import ApiKey, AuditEvent, Category, Group, Section, SectionMembership, User
from forum.permissions import CONSOLE
from forum.services import admin, api_keys
from tests.conftest import login


@pytest.fixture
def world(make):
    """One of each thing the admin pages change, and a member to act on."""
    target = make.user("target")
    category = make.category("Housing news")
    section = admin.create_section(CONSOLE, "Transport", "Buses and trains.")
    admin.add_section_member(CONSOLE, section.id, "target")
    key, _ = api_keys.issue_api_key(CONSOLE, "target", "a script")
    return {"target": target, "category": category, "group": target.group,
            "section": section, "key": key}


def _writes(w):
    """Every state-changing admin endpoint, with input an admin would send."""
    s, t = w["section"].id, w["target"].id
    return [
        ("/admin/categories", {"name": "Elections", "color": "#123456",
                               "topic_creators": "everyone"}),
        (f"/admin/categories/{w['category'].id}", {"name": "Renamed", "color": "#654321",
                                                   "topic_creators": "admins"}),
        ("/admin/groups", {"name": "Aberdeen", "nation": "scotland"}),
        (f"/admin/groups/{w['group'].id}", {"name": "Renamed group", "nation": "wales"}),
        ("/admin/nations", {"code": "cornwall", "name": "Cornwall"}),
        ("/admin/sections", {"name": "Energy", "description": "Power."}),
        (f"/admin/sections/{s}", {"name": "Transport and roads", "description": ""}),
        (f"/admin/sections/{s}/members/{t}/lead", {"lead": "1"}),
        (f"/admin/users/{t}/role", {"role": "moderator"}),
        ("/admin/api-keys", {"username": "target", "description": "another script"}),
        (f"/admin/api-keys/{w['key'].id}/revoke", {}),
        (f"/admin/sections/{s}/members/{t}/remove", {}),
        (f"/admin/sections/{s}/members", {"username": "target"}),
    ]


PAGES = ["/admin/", "/admin/categories", "/admin/groups", "/admin/sections", "/admin/users",
         "/admin/api-keys"]


def _snapshot():
    return (db.session.scalar(db.select(db.func.count(AuditEvent.id))),
            sorted(db.session.scalars(db.select(Category.name))),
            sorted(db.session.scalars(db.select(Group.name))),
            sorted(db.session.scalars(db.select(Section.name))),
            sorted(db.session.scalars(db.select(User.role))))


@pytest.mark.parametrize("role", ["visitor", "member", "moderator"])
def test_only_admins_reach_admin_pages(client, make, world, role):
    if role != "visitor":
        login(client, make.user(role=role))
    for url in PAGES + [f"/admin/categories/{world['category'].id}",
                        f"/admin/groups/{world['group'].id}",
                        f"/admin/sections/{world['section'].id}"]:
        response = client.get(url)
        if role == "visitor":
            assert response.status_code == 302 and "/login" in response.location, url
        else:
            assert response.status_code == 403, url
            assert "Only admins can do that." in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["visitor", "member", "moderator"])
def test_non_admins_change_nothing(client, make, world, role):
    if role != "visitor":
        login(client, make.user(role=role))
    db.session.expire_all()
    before = _snapshot()
    for url, data in _writes(world):
        assert client.post(url, data=data).status_code == 403, url
    db.session.expire_all()
    assert _snapshot() == before
    assert db.session.get(ApiKey, world["key"].id).revoked_at is None


def test_admin_reaches_every_page_and_every_write_is_audited(client, make, world):
    login(client, make.user("boss", role="admin"))
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    for url, data in _writes(world):
        events = db.session.scalar(db.select(db.func.count(AuditEvent.id)))
        response = client.post(url, data=data)
        assert response.status_code in (200, 302), (url, response.get_data(as_text=True))
        db.session.expire_all()
        assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == events + 1, url


def test_admin_index_links_to_each_page(client, make):
    login(client, make.user(role="admin"))
    page = client.get("/admin/").get_data(as_text=True)
    for url in PAGES[1:]:
        assert f'href="{url}"' in page


# -- categories ----------------------------------------------------------------------------------

def test_create_category_shows_in_the_category_list(client, make):
    login(client, make.user(role="admin"))
    response = client.post("/admin/categories", data={
        "name": "Local Elections", "slug": "", "color": "#AA3300", "description": "Who stands.",
        "position": "7", "topic_creators": "moderators"}, follow_redirects=True)
    assert "Category Local Elections created." in response.get_data(as_text=True)
    cats = client.get("/categories.json").get_json()["category_list"]["categories"]
    [cat] = [c for c in cats if c["name"] == "Local Elections"]
    assert (cat["slug"], cat["color"], cat["position"], cat["topic_creators"],
            cat["description"]) == ("local-elections", "aa3300", 7, "moderators", "Who stands.")


@pytest.mark.parametrize("field, value, message", [
    ("color", "red", "Give the colour as # and six hex digits"),
    ("color", "#12345", "Give the colour as # and six hex digits"),
    ("slug", "Not A Slug", "Slugs are lower-case letters"),
    ("position", "first", "Position is a whole number"),
    ("topic_creators", "anyone", "Choose everyone, moderators or admins."),
    ("name", "", "Give the category a name."),
])
def test_bad_category_input_is_explained_and_kept(client, make, field, value, message):
    login(client, make.user(role="admin"))
    data = {"name": "Campaign news", "slug": "", "color": "#0f766e",
            "description": "Kept text", "position": "", "topic_creators": "everyone"}
    data[field] = value
    response = client.post("/admin/categories", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert "Kept text</textarea>" in page
    assert db.session.scalar(db.select(db.func.count(Category.id))) == 0


def test_duplicate_category_name_refused(client, make):
    make.category("General")
    login(client, make.user(role="admin"))
    response = client.post("/admin/categories", data={"name": "general", "color": "#000000",
                                                      "topic_creators": "everyone"})
    assert response.status_code == 422
    assert "Another category already has that name." in response.get_data(as_text=True)


def test_restricting_a_category_stops_members_starting_topics(client, make):
    category = make.category("Notices")
    member = make.user("rita")
    login(client, make.user(role="admin"))
    response = client.get(f"/admin/categories/{category.id}")
    assert 'value="Notices"' in response.get_data(as_text=True)
    client.post(f"/admin/categories/{category.id}", data={
        "name": "Notices", "slug": "notices", "color": "#0f766e", "description": "",
        "position": "0", "topic_creators": "admins"})
    client.post("/logout")
    login(client, member)
    response = client.post("/posts.json", json={"category": category.id, "raw": "Hello all.",
                                                 "title": "A notice from a member"})
    assert response.status_code == 403
    assert response.get_json()["errors"] == ["Only admins start topics in Notices."]


# -- groups and nations --------------------------------------------------------------------------

def test_create_group_in_a_new_nation(client, make):
    login(client, make.user(role="admin"))
    response = client.post("/admin/nations", data={"code": "northern-ireland",
                                                    "name": "Northern Ireland"},
                           follow_redirects=True)
    assert "Nation Northern Ireland added" in response.get_data(as_text=True)
    client.post("/admin/groups", data={"name": "Belfast", "nation": "northern-ireland"})
    groups = client.get("/groups.json").get_json()["groups"]
    assert {"code": "northern-ireland", "name": "Northern Ireland"} in \
        [g["nation"] for g in groups if g["name"] == "Belfast"]


def test_group_needs_a_known_nation_and_keeps_input(client, make):
    login(client, make.user(role="admin"))
    response = client.post("/admin/groups", data={"name": "Atlantis", "nation": "atlantis"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose one of the listed nations." in page
    assert 'value="Atlantis"' in page


def test_duplicate_nation_refused(client, make):
    login(client, make.user(role="admin"))
    response = client.post("/admin/nations", data={"code": "wales", "name": "Cymru"})
    assert response.status_code == 422
    assert "That nation exists already." in response.get_data(as_text=True)


def test_rename_group(client, make):
    group = make.group("Cardif", nation="wales")
    login(client, make.user(role="admin"))
    client.post(f"/admin/groups/{group.id}", data={"name": "Cardiff", "nation": "wales"})
    assert "Cardiff" in [g["name"] for g in client.get("/groups.json").get_json()["groups"]]


# -- sections, members and leads -----------------------------------------------------------------

def _profile_sections(client, username):
    return client.get(f"/u/{username}.json").get_json()["user"]["sections"]


def test_section_members_and_leads(client, make):
    fiona = make.user("fiona")
    login(client, make.user(role="admin"))
    response = client.post("/admin/sections", data={"name": "Housing",
                                                     "description": "Homes."})
    section_url = response.location
    section_id = int(section_url.rsplit("/", 1)[1])
    client.post(f"{section_url}/members", data={"username": "Fiona"})
    assert _profile_sections(client, "fiona") == [
        {"id": section_id, "name": "Housing", "lead": False}]

    client.post(f"{section_url}/members/{fiona.id}/lead", data={"lead": "1"})
    page = client.get(section_url).get_data(as_text=True)
    assert "Stand down as lead" in page
    [housing] = client.get("/sections.json").get_json()["sections"]
    assert [lead["username"] for lead in housing["leads"]] == ["fiona"]
    assert "Housing" in client.get("/admin/sections").get_data(as_text=True)

    client.post(f"{section_url}/members/{fiona.id}/lead", data={"lead": "0"})
    assert client.get("/sections.json").get_json()["sections"][0]["leads"] == []
    assert _profile_sections(client, "fiona")[0]["lead"] is False

    client.post(f"{section_url}/members/{fiona.id}/remove")
    assert _profile_sections(client, "fiona") == []


def test_section_page_queries_do_not_grow_with_members(client, make, count_queries):
    section_id = admin.create_section(CONSOLE, "Housing").id
    login(client, make.user(role="admin"))
    counts = []
    for size in (2, 12):
        while len(db.session.get(Section, section_id).memberships) < size:
            admin.add_section_member(CONSOLE, section_id, make.user().username)
        db.session.expire_all()
        with count_queries() as queries:
            page = client.get(f"/admin/sections/{section_id}").get_data(as_text=True)
        assert page.count("Appoint as lead") == size
        counts.append(queries)
    assert len(counts[0]) == len(counts[1]), counts[1].report()


def test_add_member_as_lead_at_once(client, make):
    make.user("dylan")
    section = admin.create_section(CONSOLE, "Climate")
    login(client, make.user(role="admin"))
    client.post(f"/admin/sections/{section.id}/members", data={"username": "dylan",
                                                               "lead": "1"})
    assert _profile_sections(client, "dylan")[0]["lead"] is True


def test_add_unknown_member_is_explained_and_kept(client, make):
    section = admin.create_section(CONSOLE, "Climate")
    login(client, make.user(role="admin"))
    response = client.post(f"/admin/sections/{section.id}/members",
                           data={"username": "nobody-here", "lead": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No member is called nobody-here." in page
    assert 'value="nobody-here"' in page
    assert 'name="lead" type="checkbox" value="1" checked' in page


def test_adding_a_member_twice_names_the_state(client, make):
    make.user("dylan")
    section = admin.create_section(CONSOLE, "Climate")
    admin.add_section_member(CONSOLE, section.id, "dylan")
    login(client, make.user(role="admin"))
    response = client.post(f"/admin/sections/{section.id}/members", data={"username": "dylan"})
    assert response.status_code == 409
    assert "dylan is already in Climate." in response.get_data(as_text=True)


def test_duplicate_section_refused_and_missing_section_404(client, make):
    admin.create_section(CONSOLE, "Climate")
    login(client, make.user(role="admin"))
    response = client.post("/admin/sections", data={"name": "Climate"})
    assert response.status_code == 422
    assert "Another section already has that name." in response.get_data(as_text=True)
    for missing in (999, 2 ** 40):
        assert client.get(f"/admin/sections/{missing}").status_code == 404
        assert client.post(f"/admin/categories/{missing}", data={}).status_code == 404


# -- members and roles ---------------------------------------------------------------------------

def test_search_members_by_username(client, make):
    make.user("alice")
    make.user("albert")
    make.user("bob")
    login(client, make.user("zed", role="admin"))
    page = client.get("/admin/users?q=al").get_data(as_text=True)
    assert ">alice<" in page and ">albert<" in page
    assert ">bob<" not in page
    make.user("al_bo")
    make.user("alxbo")
    # "_" and "%" are the characters typed, not wildcards.
    page = client.get("/admin/users?q=al_").get_data(as_text=True)
    assert ">al_bo<" in page and ">alxbo<" not in page and ">alice<" not in page
    assert ">alice<" not in client.get("/admin/users?q=%25ice").get_data(as_text=True)
    # A query longer than any username finds nobody, however long (SQLite refused a LIKE
    # pattern of 50,000 characters with a 500).
    for q in ("a" * 31, "a" * 60000):
        long = client.get("/admin/users", query_string={"q": q})
        assert long.status_code == 200 and ">alice<" not in long.get_data(as_text=True)
    role = client.post(f"/admin/users/{make.user('cyd').id}/role",
                       data={"role": "nonsense", "reason": "", "q": "a" * 60000})
    assert role.status_code == 422


def test_change_role_makes_a_moderator(client, make):
    sam = make.user("sam")
    boss = make.user("boss", role="admin")
    login(client, boss)
    response = client.post(f"/admin/users/{sam.id}/role",
                           data={"role": "moderator", "reason": "elected", "q": "sa"})
    assert response.status_code == 302 and response.location.endswith("/admin/users?q=sa")
    assert "sam is now a moderator." in client.get("/admin/users?q=sa").get_data(as_text=True)
    assert client.get("/u/sam.json").get_json()["user"]["role"] == "moderator"
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "change_role")).one()
    assert (event.actor_id, event.target_kind, event.target_id, event.reason,
            event.details) == (boss.id, "user", sam.id, "elected",
                               {"before": "member", "after": "moderator"})


def test_admin_cannot_demote_themselves(client, make):
    boss = make.user("boss", role="admin")
    login(client, boss)
    response = client.post(f"/admin/users/{boss.id}/role", data={"role": "member"})
    assert response.status_code == 403
    assert "You cannot remove your own admin role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, boss.id).role == "admin"


def test_unknown_role_is_explained(client, make):
    sam = make.user("sam")
    login(client, make.user(role="admin"))
    response = client.post(f"/admin/users/{sam.id}/role",
                           data={"role": "overlord", "reason": "kept reason", "q": "sam"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose member, moderator or admin." in page
    assert 'value="kept reason"' in page


def test_same_role_again_names_the_state(client, make):
    sam = make.user("sam", role="moderator")
    login(client, make.user(role="admin"))
    response = client.post(f"/admin/users/{sam.id}/role", data={"role": "moderator"})
    assert response.status_code == 409
    assert "sam is already a moderator." in response.get_data(as_text=True)


def test_demoted_admin_loses_the_admin_pages(client, make):
    other = make.user("other", role="admin")
    login(client, make.user(role="admin"))
    client.post(f"/admin/users/{other.id}/role", data={"role": "member"})
    client.post("/logout")
    login(client, other)
    assert client.get("/admin/").status_code == 403


def test_section_membership_is_one_row_per_member(make):
    make.user("dylan")
    section = admin.create_section(CONSOLE, "Climate")
    admin.add_section_member(CONSOLE, section.id, "dylan", lead=True)
    rows = db.session.scalars(db.select(SectionMembership)).all()
    assert [(r.user.username, r.is_lead) for r in rows] == [("dylan", True)]
