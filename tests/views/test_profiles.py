"""Profiles at /u/{username} and /u/{username}.json, and the settings page that edits them."""
import re

import pytest

from forum.extensions import db
from forum.models import Section, SectionMembership
from forum.services import accounts, posts
from tests.conftest import login


@pytest.fixture
def ann(make):
    """A member with a profile filled in, a section or two, and posts."""
    home = make.group("Cardiff North", nation="wales")
    ann = make.user("Ann", group=home)
    accounts.update_profile(ann, ann, name="Ann Jones", bio=(
        "I campaign for **buses**.\n\n<script>alert('x')</script>"
        "<img src=x onerror=alert(1)> [click](javascript:alert(1))"))
    # Sections are appointed in the admin pages; rows stand in for them here.
    transport, housing = Section(name="Transport", slug="transport"), \
        Section(name="Housing", slug="housing")
    db.session.add_all([transport, housing])
    db.session.flush()
    db.session.add_all([SectionMembership(section_id=transport.id, user_id=ann.id, is_lead=True),
                        SectionMembership(section_id=housing.id, user_id=ann.id)])
    db.session.commit()
    topic = make.topic(user=ann, title="Free buses for the under 25s")
    make.reply(topic, user=ann, raw="And trains too, while we are at it.")
    return accounts.get_user("ann")


def test_a_profile_shows_who_the_member_is(client, ann):
    response = client.get("/u/ann")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ">Ann<" in page
    assert "Ann Jones" in page
    assert "<strong>buses</strong>" in page
    assert "Cardiff North" in page
    assert "Wales" in page
    assert "Transport (lead)" in page and "Housing" in page
    assert "Free buses for the under 25s" in page
    assert "/t/free-buses-for-the-under-25s/" in page


def test_a_bio_cannot_carry_script(client, ann):
    page = client.get("/u/ann").get_data(as_text=True)
    bio = page.split('class="bio cooked">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in bio
    assert "<img" not in bio
    assert not re.search(r"<[^>]*\son\w+=", bio)
    assert "javascript:" not in bio
    assert "&lt;script&gt;" in bio  # shown as text, harmless


@pytest.mark.parametrize("viewer", [None, "bea", "mod"])
def test_a_profile_never_shows_the_email_to_others(client, make, ann, viewer):
    if viewer:
        login(client, make.user(viewer, role="moderator" if viewer == "mod" else "member"))
    page = client.get("/u/ann").get_data(as_text=True)
    data = client.get("/u/ann.json").get_json()
    assert "ann@example.org" not in page.lower()
    assert "email" not in data["user"]
    assert "ann@example.org" not in str(data).lower()


@pytest.mark.parametrize("viewer", ["ann", "chair"])
def test_the_member_and_admins_see_the_email_in_json(client, make, ann, viewer):
    login(client, ann if viewer == "ann" else make.user(viewer, role="admin"))
    assert client.get("/u/ann.json").get_json()["user"]["email"] == "Ann@example.org"


def test_the_json_twin_carries_the_profile(client, ann):
    user = client.get("/u/ANN.json").get_json()["user"]
    assert user["username"] == "Ann"
    assert user["name"] == "Ann Jones"
    assert user["group"] == "Cardiff North"
    assert user["nation"] == "wales"
    assert "<strong>buses</strong>" in user["bio_cooked"]
    assert "<script" not in user["bio_cooked"]
    assert {(s["name"], s["lead"]) for s in user["sections"]} == {("Transport", True),
                                                                  ("Housing", False)}
    assert [p["post_number"] for p in user["recent_posts"]] == [2, 1]
    assert user["recent_posts"][0]["topic_title"] == "Free buses for the under 25s"
    assert (user["role"], user["admin"], user["moderator"]) == ("member", False, False)


def test_withdrawn_posts_leave_the_recent_list(client, ann):
    reply = next(p for p in posts_of(client) if p["post_number"] == 2)
    posts.delete_post(ann, reply["id"])
    assert [p["post_number"] for p in posts_of(client)] == [1]


def posts_of(client):
    return client.get("/u/ann.json").get_json()["user"]["recent_posts"]


def test_profiles_are_found_whatever_the_case_and_unknown_ones_are_404(client, ann):
    assert client.get("/u/ANN").status_code == 200
    missing = client.get("/u/nobody-here.json")
    assert missing.status_code == 404
    assert missing.get_json() == {"errors": ["No member is called nobody-here."]}
    assert client.get("/u/nobody-here").status_code == 404


# -- settings --------------------------------------------------------------------------------

def test_the_settings_page_edits_the_profile(client, make, ann):
    glasgow = make.group("Glasgow South", nation="scotland")
    login(client, ann)
    form = client.get("/my/settings").get_data(as_text=True)
    assert 'value="Ann Jones"' in form and "I campaign for **buses**." in form

    saved = client.post("/my/settings", data={"action": "profile", "name": "Ann J.",
                                              "bio": "Now about *trams*.",
                                              "group": str(glasgow.id)}, follow_redirects=True)
    assert "Your profile is saved." in saved.get_data(as_text=True)
    page = client.get("/u/ann").get_data(as_text=True)
    assert "Ann J." in page and "<em>trams</em>" in page
    assert "Glasgow South" in page and "Scotland" in page


def test_a_refused_profile_edit_keeps_the_text_and_says_why(client, ann):
    login(client, ann)
    long_bio = "word " * 700
    response = client.post("/my/settings", data={"action": "profile", "name": "Ann",
                                                 "bio": long_bio, "group": "9" * 25})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Keep your bio under 3,000 characters." in page
    assert "Choose one of the listed groups." in page
    assert long_bio.strip() in page
    assert "I campaign for" in client.get("/u/ann").get_data(as_text=True)


def test_each_settings_form_shows_only_its_own_errors(client, ann):
    login(client, ann)
    response = client.post("/my/settings", data={"action": "password",
                                                 "current_password": "correct horse battery staple",
                                                 "password": "ann12345678"})
    page = response.get_data(as_text=True)
    email_form = page.split('id="email-title"', 1)[1]
    password_form = page.split('id="password-title"', 1)[1].split('id="email-title"', 1)[0]
    assert "Choose a stronger password." in password_form
    assert "Choose a stronger password." not in email_form
    assert 'aria-invalid' not in email_form


def test_the_header_links_to_the_members_own_profile_and_settings(client, ann):
    login(client, ann)
    page = client.get("/latest").get_data(as_text=True)
    assert 'href="/u/ann"' in page
    assert 'href="/my/settings"' in page
