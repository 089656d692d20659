"""The public moderation log: anyone reads it; filters by moderator, action, target kind and
date; pages of 50, newest first; each entry names one target, with its reason."""
from datetime import datetime, timedelta, timezone

import pytest

from forum.extensions import db
from forum.models import AuditEvent
from forum.permissions import CONSOLE
from forum.services import member_moderation, moderation, review
from tests.conftest import login
from tests.openapi_check import assert_documented

UNTIL = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%d")


@pytest.fixture
def history(make):
    """Two moderators' acts, and one hide by flags."""
    alice, bob = make.user("alice", role="moderator"), make.user("bob", role="moderator")
    member = make.user("carol")
    topic = make.topic()
    post = make.reply(topic, user=member)
    other = make.reply(topic)
    moderation.lock_topic(alice, topic.id, "too heated")
    member_moderation.silence_member(bob, member.id, "insults", UNTIL)
    moderation.hide(bob, "post", post.id, "an insult")
    for _ in range(3):
        review.flag(make.user(), "post", other.id, "spam")
    return {"alice": alice, "bob": bob, "carol": member, "topic": topic, "post": post,
            "other": other}


def log(client, **args):
    response = client.get("/moderation-log.json", query_string=args)
    assert response.status_code == 200, response.get_json()
    assert_documented(response, "GET", "/moderation-log.json")
    return response.get_json()


def test_anyone_can_read_it_newest_first(client, history):
    events = log(client)["events"]
    assert [e["action"] for e in events] == ["hide_post", "hide_post", "silence_user",
                                             "lock_topic"]
    system, hidden, silenced, locked = events
    assert system["actor"] is None and system["target_id"] == history["other"].id
    assert hidden["actor"]["username"] == "bob" and hidden["reason"] == "an insult"
    assert hidden["target_url"] == f"/p/{history['post'].id}"
    assert silenced["target_kind"] == "user" and silenced["target_label"] == "carol"
    assert silenced["details"]["until"].startswith(UNTIL)
    assert locked["target_url"] == f"/t/{history['topic'].id}"
    page = client.get("/moderation-log").get_data(as_text=True)
    for words in ("too heated", "insults", "an insult", "system", "locked a topic", "silenced"):
        assert words in page


def test_filters(client, history):
    assert [e["action"] for e in log(client, moderator="alice")["events"]] == ["lock_topic"]
    assert len(log(client, moderator="BOB")["events"]) == 2
    assert [e["actor"] for e in log(client, moderator="system")["events"]] == [None]
    assert log(client, moderator="nobody-called-this")["events"] == []
    assert [e["target_kind"] for e in log(client, target_kind="user")["events"]] == ["user"]
    assert len(log(client, action="hide_post")["events"]) == 2
    assert len(log(client, action="hide_post", moderator="bob")["events"]) == 1
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert len(log(client, **{"from": today, "to": today})["events"]) == 4
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert log(client, **{"from": tomorrow})["events"] == []
    bad = client.get("/moderation-log.json?from=last-week")
    assert bad.status_code == 422
    bad = client.get("/moderation-log.json?action=hide_everything")
    assert bad.status_code == 422 and "no such action" in bad.get_json()["errors"][0]
    page = client.get("/moderation-log?action=hide_everything").get_data(as_text=True)
    assert "There is no such action: choose one from the list." in page
    page = client.get("/moderation-log?moderator=alice").get_data(as_text=True)
    assert "too heated" in page and "an insult" not in page


def test_dates_filter_on_when_it_happened(client, make):
    long_ago = datetime(2025, 3, 14, 12, 0, tzinfo=timezone.utc)
    db.session.add(AuditEvent(action="lock_topic", target_kind="topic", target_id=1,
                              reason="an old act", created_at=long_ago))
    db.session.commit()
    moderation.lock_topic(CONSOLE, make.topic().id, "a new act")
    assert [e["reason"] for e in log(client, **{"from": "2025-03-14", "to": "2025-03-14"})[
        "events"]] == ["an old act"]
    assert [e["reason"] for e in log(client, **{"to": "2025-03-13"})["events"]] == []
    assert [e["reason"] for e in log(client, **{"from": "2025-03-15"})["events"]] == [
        "a new act"]


def test_pages_of_fifty(client, make):
    mod = make.user(role="moderator")
    topic = make.topic()
    for n in range(31):
        moderation.lock_topic(mod, topic.id, f"lock {n}")
        moderation.unlock_topic(mod, topic.id, f"unlock {n}")
    first = log(client)
    assert len(first["events"]) == 50 and first["has_next"]
    assert first["events"][0]["reason"] == "unlock 30"
    assert "page=2" in first["more_url"]
    second = log(client, page=2)
    assert len(second["events"]) == 12 and not second["has_next"]
    assert second["more_url"] is None
    assert second["events"][-1]["reason"] == "lock 0"
    html = client.get("/moderation-log?page=2&moderator=" + mod.username).get_data(as_text=True)
    assert "lock 0" in html and 'rel="prev"' in html


def test_nothing_on_the_page_edits_or_removes_events(client, make, history):
    login(client, history["alice"])
    for method in ("post", "put", "delete"):
        response = client.open("/moderation-log.json", method=method.upper())
        assert response.status_code == 405
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == 4


def _recorded_actions():
    """Every action the services write to the log: the literal ones, read from the source, and
    the families built from a state (hide_{kind}, lab_{decision}, phase_{phase} ...)."""
    import re
    from pathlib import Path

    from forum.models.deliberation import PHASES
    from forum.models.labs import DECISIONS

    source = "\n".join(p.read_text() for p in Path("forum").rglob("*.py"))
    literal = set(re.findall(r'audit\.record\([^,]+,\s*"([a-z_]+)"', source))
    literal |= set(re.findall(r'audit\.record\([^,]+,\s*"([a-z_]+)" if \w+ else "([a-z_]+)"',
                              source)[0])
    kinds = ("post", "topic", "amendment", "clarification")
    families = {f"{verb}_{k}" for verb in ("hide", "unhide") for k in kinds}
    families |= {f"withdraw_{k}" for k in ("amendment", "clarification")}
    families |= {f"lab_{d}" for d in DECISIONS} | {f"phase_{p}" for p in PHASES[1:]}
    families |= {"promote_on_ballot", "promote_not_qualified", "record_adopted",
                 "record_not_adopted"}
    return literal | families


def test_every_logged_action_reads_as_words(client, make):
    from forum.views.moderation_members import ACTION_LABELS

    actions = _recorded_actions()
    assert len(actions) > 50
    assert sorted(actions - set(ACTION_LABELS)) == []


def test_lab_and_ballot_actions_are_labelled_on_the_page(client, make):
    from forum.services import audit

    lab_lead = make.user("lena")
    with db.session.begin_nested():
        audit.record(lab_lead, "lab_reject", "lab", 7, "duplicates amendment 3")
        audit.record(lab_lead, "publish_ballot", "ballot", 2)
    db.session.commit()
    page = client.get("/moderation-log").get_data(as_text=True)
    assert "rejected an amendment in" in page and ">lab_reject<" not in page
    assert "published" in page and 'data-label="Reason"' in page
    assert 'href="/ballots/2"' in page
    assert '<option value="lab_reject">rejected an amendment in</option>' in page


def test_nations_are_named_by_their_name_not_a_number(client, make):
    from forum.services import admin

    chief = make.admin()
    admin.create_nation(chief, "northern-ireland", "Northern Ireland")
    admin.create_nation(chief, "cornwall", "Kernow")
    page = client.get("/moderation-log").get_data(as_text=True)
    assert "nation Northern Ireland" in page and "nation Kernow" in page
    assert "nation #0" not in page
    events = client.get("/moderation-log.json").get_json()
    named = [e for e in events["events"] if e["target_kind"] == "nation"]
    assert sorted(e["target_label"] for e in named) == ["nation Kernow",
                                                        "nation Northern Ireland"]
