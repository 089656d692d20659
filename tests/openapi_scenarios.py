"""Sample calls for every operation of the core, admin, deliberation and labs areas of the
OpenAPI document: each scenario makes its calls through a Recorder, which checks every answer
against the document. Used by tests/views/test_openapi.py."""
from tests.conftest import PASSWORD, login
from tests.openapi_check import assert_documented, assert_request_documented
from tests.writes import issue_api_key


class Recorder:
    """A test client that checks every answer against the document and notes what it saw."""

    def __init__(self, client):
        self.client = client
        self.seen = set()

    def call(self, method, path, expect, **kwargs):
        response = self.client.open(path, method=method, **kwargs)
        assert response.status_code == expect, \
            f"{method} {path}: {response.status_code} {response.get_data(as_text=True)[:300]}"
        template = assert_documented(response, method, path)
        if "json" in kwargs and response.status_code < 300:
            assert_request_documented(method, path, kwargs["json"])
        self.seen.add((method, template))
        return response.get_json()


def scenario_topic_lists(api, client, make):
    topic = make.topic(title="Buses for the valleys")
    make.reply(topic)
    cat = topic.category
    for path in ("/latest.json", "/new.json", "/unread.json", "/top.json",
                 "/top.json?period=weekly", f"/c/{cat.slug}/{cat.id}.json",
                 "/categories.json", "/latest.json?page=2"):
        api.call("GET", path, 200)
    member = make.user()
    login(client, member)
    client.get(f"/t/{topic.slug}/{topic.id}")  # read it, so it has a read state
    make.reply(topic)
    data = api.call("GET", "/unread.json", 200)
    assert data["topic_list"]["topics"][0]["unread_posts"] == 1
    api.call("GET", "/latest.json", 200)
    api.call("GET", f"/c/{cat.slug}/99999.json", 404)


def scenario_topic(api, client, make):
    topic = make.topic()
    for n in range(3):
        make.reply(topic, reply_to=1 if n == 0 else None)
    data = api.call("GET", f"/t/{topic.id}.json", 200)
    assert len(data["post_stream"]["posts"]) == 4
    api.call("GET", f"/t/{topic.slug}/{topic.id}.json?page=1", 200)
    assert api.call("GET", f"/t/{topic.id}/3.json", 200)["id"] == topic.id
    stream = data["post_stream"]["stream"]
    posts = api.call("GET", f"/t/{topic.id}/posts.json?post_ids[]={stream[2]}&post_ids[]="
                     f"{stream[3]}", 200)["post_stream"]["posts"]
    assert [p["post_number"] for p in posts] == [3, 4]
    api.call("GET", f"/t/{topic.id}/posts.json?post_ids[]=x", 422)
    api.call("GET", "/t/99999/posts.json?post_ids[]=1", 404)
    api.call("GET", "/t/99999.json", 404)
    api.call("GET", "/t/99999/2.json", 404)
    login(client, make.user())
    api.call("GET", f"/t/{topic.id}.json", 200)

    from forum.extensions import db
    from forum.models import Post, utcnow

    gone = make.topic()
    first = db.session.scalar(db.select(Post).where(Post.topic_id == gone.id))
    gone.deleted_at = utcnow()
    db.session.commit()
    api.call("GET", f"/t/{gone.id}.json", 404)
    api.call("GET", f"/posts/{first.id}.json", 404)  # a post of a deleted topic is gone too


def scenario_posts(api, client, make):
    member, other = make.user(), make.user()
    topic = make.topic(user=other)
    api.call("POST", "/posts.json", 403, json={"topic_id": topic.id, "raw": "Not signed in."})
    login(client, member)
    created = api.call("POST", "/posts.json", 200, json={
        "title": "A topic from the API", "raw": "Its **first** post.", "category":
        topic.category_id})
    assert created["post_number"] == 1 and created["raw"] == "Its **first** post."
    reply = api.call("POST", "/posts.json", 200,
                     json={"topic_id": topic.id, "raw": "A reply.", "reply_to_post_number": 1})
    api.call("POST", "/posts.json", 422, json={"topic_id": topic.id, "raw": ""})
    api.call("POST", "/posts.json", 422, json={"title": "x", "raw": "y"})
    api.call("POST", "/posts.json", 404, json={"topic_id": 99999, "raw": "Nowhere to go."})
    api.call("GET", f"/posts/{reply['id']}.json", 200)
    api.call("GET", "/posts/99999.json", 404)
    api.call("PUT", f"/posts/{reply['id']}.json", 200, json={"raw": "A better reply."})
    api.call("PUT", f"/posts/{reply['id']}.json", 200,
             json={"post": {"raw": "A better reply, again.", "edit_reason": "typo"}})
    api.call("PUT", f"/posts/{reply['id']}.json", 422, json={"raw": "A better reply, again."})
    api.call("PUT", f"/posts/{created['id']}.json", 200,
             json={"raw": "Its first post, edited.", "title": "A topic from the API, retitled"})
    others = make.reply(topic, user=other)
    api.call("PUT", f"/posts/{others.id}.json", 403, json={"raw": "Not mine to edit."})
    data = api.call("GET", f"/posts/{reply['id']}/revisions.json", 200)
    assert [r["number"] for r in data["revisions"]] == [3, 2]
    api.call("GET", "/posts/99999/revisions.json", 404)
    api.call("POST", "/post_actions.json", 200, json={"id": others.id, "post_action_type_id": 2})
    api.call("POST", "/post_actions.json", 422, json={"id": others.id, "post_action_type_id": 99})
    api.call("POST", "/post_actions.json", 403, json={"id": reply["id"], "post_action_type_id": 2})
    api.call("POST", "/post_actions.json", 404, json={"id": 99999, "post_action_type_id": 2})
    api.call("DELETE", f"/post_actions/{others.id}.json?post_action_type_id=2", 200)
    api.call("DELETE", f"/post_actions/{others.id}.json", 422)
    api.call("DELETE", "/post_actions/99999.json?post_action_type_id=2", 404)
    api.call("DELETE", f"/posts/{others.id}.json", 403)
    withdrawn = api.call("DELETE", f"/posts/{reply['id']}.json", 200)
    assert withdrawn["deleted_at"] and withdrawn["cooked"] == ""
    api.call("DELETE", f"/posts/{reply['id']}.json", 403)
    api.call("DELETE", "/posts/99999.json", 404)
    api.call("GET", f"/posts/{reply['id']}.json", 200)


def scenario_preview(api, client, make):
    data = api.call("POST", "/preview.json", 200, json={"raw": "Some *words*"})
    api.call("POST", "/preview.json", 422, json={"raw": ["not", "text"]})
    assert "<em>words</em>" in data["cooked"]


def scenario_users(api, client, make):
    member = make.user(username="carys")
    make.topic(user=member)
    data = api.call("GET", "/u/carys.json", 200)
    assert "email" not in data["user"]
    login(client, member)
    data = api.call("GET", "/u/CARYS.json", 200)
    assert data["user"]["email"] == "carys@example.org"
    api.call("GET", "/u/nobody-here.json", 404)
    # The member's own devices: this one, then a phone; signing the phone out by its id.
    assert [t["is_active"] for t in data["user"]["user_auth_tokens"]] == [True]
    phone = client.application.test_client()
    login(phone, member)
    tokens = api.call("GET", "/u/carys.json", 200)["user"]["user_auth_tokens"]
    other = next(t["id"] for t in tokens if not t["is_active"])
    assert api.call("POST", "/u/carys/preferences/revoke-auth-token.json", 200,
                    json={"token_id": other}) == {"success": "OK", "signed_out": 1}
    api.call("POST", "/u/carys/preferences/revoke-auth-token.json", 404, json={"token_id": other})
    assert api.call("POST", "/u/carys/preferences/revoke-auth-token.json", 200,
                    json={}) == {"success": "OK", "signed_out": 0}
    make.user(username="dafydd")
    api.call("POST", "/u/dafydd/preferences/revoke-auth-token.json", 403, json={})
    assert "user_auth_tokens" not in api.call("GET", "/u/dafydd.json", 200)["user"]


def scenario_sign_in(api, client, make):
    member = make.user()
    api.call("POST", "/login", 422, json={"login": member.username, "password": "wrong"})
    data = api.call("POST", "/login", 200, json={"login": member.username, "password": PASSWORD})
    assert data == {"username": member.username}


def scenario_openapi(api, client, make):
    api.call("GET", "/openapi.json", 200)


def scenario_api_keys(api, client, make):
    """The same answers through an API key as through a session."""
    member = make.user()
    topic = make.topic()
    key = issue_api_key(member)
    api.call("POST", "/posts.json", 200, json={"topic_id": topic.id, "raw": "From a script."},
             headers={"Api-Key": key, "Api-Username": member.username})
    api.call("POST", "/posts.json", 403, json={"topic_id": topic.id, "raw": "Wrong member."},
             headers={"Api-Key": key, "Api-Username": "someone-else"})


def scenario_admin_api(api, client, make):
    from forum.models import Section, SectionMembership
    from forum.extensions import db

    admin, member = make.user(role="admin"), make.user()
    group = member.group
    section = Section(name="Housing", slug="housing", description="Homes for all.")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionMembership(section_id=section.id, user_id=member.id, is_lead=True))
    db.session.commit()
    data = api.call("GET", "/groups.json", 200)
    assert any(g["id"] == group.id and g["user_count"] >= 1 for g in data["groups"])
    data = api.call("GET", "/sections.json", 200)
    assert data["sections"][0]["leads"][0]["username"] == member.username
    body = {"username": "scripted", "email": "scripted@example.org", "password": PASSWORD,
            "name": "Made by a script", "group_id": group.id}
    key = {"Api-Key": issue_api_key(admin)}
    api.call("POST", "/users.json", 403, json=body, headers={"Api-Key": issue_api_key(member)})
    created = api.call("POST", "/users.json", 200, json=body, headers=key)
    assert created["user"]["username"] == "scripted"
    api.call("POST", "/users.json", 422, json=body, headers=key)


def scenario_deliberation(api, client, make):
    from datetime import timedelta

    from forum.models import utcnow

    admin, author, member = make.user(role="admin"), make.user(), make.user()
    process = make.process()
    proposal = make.proposal(process, user=author)
    item = make.amendment(proposal, user=author)
    api.call("GET", "/processes.json", 200)
    api.call("GET", f"/processes/{process.id}.json?sort=newest", 200)
    api.call("GET", "/processes/99999.json", 404)
    api.call("GET", f"/proposals.json?process_id={process.id}&status=open&scope=uk", 200)
    api.call("GET", "/proposals.json?process_id=99999", 404)
    refused = api.call("GET", "/proposals.json?status=opne&sort=best&process_id=x", 422)
    assert len(refused["errors"]) == 3 and "Choose one of: supports" in " ".join(
        refused["errors"])
    data = api.call("GET", f"/proposals/{proposal.id}.json", 200)
    assert data["proposal"]["paragraphs"][0]["number"] == 1
    api.call("GET", "/proposals/99999.json", 404)
    api.call("GET", f"/proposals/{proposal.id}/amendments.json?sort=top&kind=amendment", 200)
    api.call("GET", "/proposals/99999/amendments.json", 404)
    api.call("GET", f"/amendments/{item.id}.json", 200)
    api.call("GET", "/amendments/99999.json", 404)

    now = utcnow()
    new_process = {"kind": "priority_campaign", "scope": "wales", "title": "Campaign 2030",
                   "proposals_close_at": (now + timedelta(days=5)).isoformat(),
                   "amendments_close_at": (now + timedelta(days=9)).isoformat(),
                   "labs_close_at": (now + timedelta(days=20)).isoformat()}
    api.call("POST", "/processes.json", 403, json=new_process)
    login(client, admin)
    opened = api.call("POST", "/processes.json", 201, json=new_process)["process"]
    api.call("POST", "/processes.json", 422, json={**new_process, "kind": "referendum"})
    later = (now + timedelta(days=12)).isoformat()
    edited = api.call("PUT", f"/processes/{opened['id']}.json", 200, json={
        "amendments_close_at": later, "reason": "A week more for amendments."})["process"]
    assert edited["amendments_close_at"] == later
    api.call("PUT", f"/processes/{opened['id']}.json", 422, json={
        "amendments_close_at": (now + timedelta(days=30)).isoformat()})  # after the labs
    api.call("PUT", "/processes/99999.json", 404, json={"title": "Nothing to edit"})

    login(client, member)
    api.call("POST", "/proposals.json", 201, json={
        "process_id": process.id, "title": "Free buses for under-25s",
        "summary": "Every young person rides the bus for free.", "body": "One.\n\nTwo."})
    api.call("POST", "/proposals.json", 422, json={"process_id": process.id, "title": "x"})
    api.call("POST", "/proposals.json", 404, json={"process_id": 99999})
    api.call("POST", f"/proposals/{proposal.id}/support.json", 200)
    api.call("DELETE", f"/proposals/{proposal.id}/support.json", 200)
    api.call("POST", "/proposals/99999/support.json", 404)
    api.call("POST", f"/proposals/{proposal.id}/withdraw.json", 403)
    created = api.call("POST", f"/proposals/{proposal.id}/amendments.json", 201, json={
        "start": 1, "end": 1, "text": "# Homes for everyone",
        "rationale": "A heading that says who it is for."})
    mine = created["amendment"]["id"]
    api.call("POST", f"/proposals/{proposal.id}/amendments.json", 422,
             json={"start": 40, "end": 41, "text": "x"})
    api.call("POST", "/proposals/99999/amendments.json", 404, json={})
    question = api.call("POST", f"/proposals/{proposal.id}/amendments.json", 201, json={
        "kind": "clarification", "start": 2, "end": 2,
        "text": "How high can rents go for a couple?"})["amendment"]["id"]
    api.call("PUT", f"/amendments/{mine}.json", 200, json={
        "start": 1, "end": 1, "text": "# Homes for everyone, now",
        "rationale": "A heading that says who it is for."})
    api.call("PUT", f"/amendments/{mine}.json", 422, json={"start": "one", "end": 1})
    api.call("PUT", f"/amendments/{item.id}.json", 403, json={"start": 1, "end": 1, "text": "x"})
    api.call("PUT", "/amendments/99999.json", 404, json={})
    api.call("POST", f"/amendments/{item.id}/vote.json", 200, json={"value": 1})
    api.call("PUT", f"/amendments/{item.id}/vote.json", 200, json={"value": -1})
    api.call("PUT", f"/amendments/{item.id}/vote.json", 422, json={"value": 5})
    api.call("POST", f"/amendments/{mine}/vote.json", 403, json={"value": 1})
    api.call("POST", "/amendments/99999/vote.json", 404, json={"value": 1})
    api.call("POST", f"/amendments/{question}/answer.json", 403, json={"answer": "Not mine."})
    api.call("POST", "/amendments/99999/answer.json", 404, json={"answer": "Nobody."})
    api.call("DELETE", f"/amendments/{mine}.json", 200)
    api.call("DELETE", f"/amendments/{item.id}.json", 403)
    api.call("DELETE", "/amendments/99999.json", 404)

    login(client, author)
    api.call("POST", f"/amendments/{question}/answer.json", 200,
             json={"answer": "A third of the household's income."})
    api.call("POST", f"/amendments/{question}/answer.json", 422, json={"answer": ""})
    api.call("POST", f"/proposals/{proposal.id}/withdraw.json", 200, json={"reason": "Merged."})
    api.call("POST", "/proposals/99999/withdraw.json", 404)


def scenario_labs_and_ballots(api, client, make):
    from datetime import timedelta

    from forum.models import Process, Section, SectionMembership, utcnow
    from forum.extensions import db
    from forum.services import voting

    admin, lead, expert = make.user(role="admin"), make.user(), make.user()
    section = Section(name="Lab housing", slug="lab-housing")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionMembership(section_id=section.id, user_id=lead.id, is_lead=True))
    db.session.commit()
    process = make.process(lab_min_votes=1, support_threshold=0)
    proposal = make.proposal(process)
    proposal.section_id = section.id
    db.session.commit()
    items = [make.amendment(proposal, start=n, end=n) for n in (2, 3)]
    question = make.amendment(proposal, kind="clarification", start=3, end=3,
                              text="Which income is meant here?")
    for item in (*items, question):
        voting.cast_vote(make.user(), item.id, 1)

    api.call("POST", f"/proposals/{proposal.id}/close.json", 403)
    login(client, lead)
    lab = api.call("POST", f"/proposals/{proposal.id}/close.json", 201,
                   json={"reason": "Ready to work."})["lab"]
    assert [e["taken"] for e in lab["intake"]] == [True, True, True]
    api.call("POST", f"/proposals/{proposal.id}/close.json", 403)
    api.call("POST", "/proposals/99999/close.json", 404)
    path = f"/labs/{lab['id']}"
    api.call("GET", f"{path}.json", 200)
    api.call("GET", "/labs/99999.json", 404)
    api.call("POST", f"{path}/members.json", 200, json={"username": expert.username})
    api.call("POST", f"{path}/members.json", 422, json={"username": "nobody-at-all"})
    api.call("DELETE", f"{path}/members.json", 200, json={"username": expert.username})
    api.call("DELETE", f"{path}/members.json", 422, json={"username": expert.username})
    api.call("POST", f"{path}/decisions.json", 201,
             json={"decision": "accept", "amendment_id": items[0].id})
    api.call("POST", f"{path}/decisions.json", 409,
             json={"decision": "accept", "amendment_id": items[0].id})
    api.call("POST", f"{path}/decisions.json", 422, json={"decision": "maybe"})
    rejected = api.call("POST", f"{path}/decisions.json", 201, json={
        "decision": "reject", "amendment_id": items[1].id, "note": "Out of scope."})
    api.call("DELETE", f"{path}/decisions/{rejected['decision']['id']}.json", 200)
    api.call("DELETE", f"{path}/decisions/{rejected['decision']['id']}.json", 404)
    api.call("POST", f"{path}/decisions.json", 201, json={
        "decision": "reject", "amendment_id": items[1].id, "note": "Out of scope."})
    api.call("POST", f"{path}/decisions.json", 201, json={
        "decision": "answer", "amendment_id": question.id, "text": "Household income."})
    api.call("POST", f"{path}/finalize.json", 409)
    data = api.call("POST", f"{path}/publish.json", 201, json={"note": "Version 2."})
    assert data["version"]["number"] == 2
    api.call("DELETE", f"{path}/decisions/{data['lab']['decisions'][0]['id']}.json", 409)
    api.call("POST", f"{path}/publish.json", 409)
    api.call("GET", f"/proposals/{proposal.id}/versions/diff.json?from=1&to=2", 200)
    api.call("GET", f"/proposals/{proposal.id}/versions/diff.json?from=1&to=9", 422)
    api.call("GET", "/proposals/99999/versions/diff.json", 404)
    api.call("POST", f"{path}/finalize.json", 200)

    ballot_id = api.call("GET", f"/processes/{process.id}.json", 200)["process"]["ballot_id"]
    api.call("POST", f"/processes/{process.id}/advance.json", 403)
    api.call("POST", f"/ballots/{ballot_id}/promote.json", 403)
    login(client, admin)
    api.call("GET", f"/ballots/{ballot_id}.json", 200)
    api.call("GET", "/ballots/99999.json", 404)
    api.call("POST", f"/ballots/{ballot_id}/promote.json", 409)
    row = db.session.get(Process, process.id)
    row.proposals_close_at = row.amendments_close_at = row.labs_close_at = \
        utcnow() - timedelta(minutes=1)
    db.session.commit()
    done = api.call("POST", f"/processes/{process.id}/advance.json", 200)["done"]
    assert done
    api.call("POST", "/processes/99999/advance.json", 404)
    api.call("POST", f"/ballots/{ballot_id}/publish.json", 409)
    ballot = api.call("POST", f"/ballots/{ballot_id}/promote.json", 200)["ballot"]
    api.call("POST", f"/ballots/{ballot_id}/publish.json", 200)
    api.call("POST", "/ballots/99999/publish.json", 404)
    outcome = f"/ballots/{ballot_id}/items/{ballot['items'][0]['id']}/outcome.json"
    api.call("POST", outcome, 422, json={"outcome": "maybe"})
    data = api.call("POST", outcome, 200, json={"outcome": "adopted"})
    assert data["ballot"]["items"][0]["outcome"] == "adopted"
    api.call("POST", f"/ballots/{ballot_id}/items/99999/outcome.json", 404,
             json={"outcome": "adopted"})


SCENARIOS = [scenario_topic_lists, scenario_topic, scenario_posts, scenario_preview,
             scenario_users, scenario_sign_in, scenario_openapi, scenario_api_keys,
             scenario_admin_api, scenario_deliberation, scenario_labs_and_ballots]
