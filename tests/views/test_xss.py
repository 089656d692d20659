"""Every field that takes member text holds against every vector in tests/xss_vectors.py:
the stored HTML and the pages and JSON that serve it carry no script, event handler, style
attribute, dangerous tag or javascript:/vbscript:/data: URL."""
from sqlalchemy import select

from forum.extensions import db
from forum.models import Amendment, Post, ProposalVersion, Topic, User
from forum.permissions import CONSOLE
from forum.services import moderation
from tests.conftest import login
from tests.xss_vectors import VECTORS, find_dangers


def test_there_are_enough_vectors_and_the_checker_sees_them():
    assert len(VECTORS) >= 60
    assert len(set(VECTORS)) == len(VECTORS)
    # The checker is what the suite relies on: unsanitised, most vectors must trip it.
    tripped = [v for v in VECTORS if find_dangers(v)]
    assert len(tripped) >= 45, len(tripped)
    assert find_dangers('<a href="java&#x0A;script:alert(1)">x</a>')
    assert find_dangers('<img src=x onerror=alert(1)>')
    assert not find_dangers('<p><a href="https://example.org" rel="nofollow">ok</a></p>')
    assert not find_dangers('<script src="/static/forum.js" defer></script>')


class Audit:
    """Collects what went wrong, per vector and place, so one run shows every hole."""

    def __init__(self):
        self.problems = []
        self.accepted = 0

    def html(self, where, text, page=False):
        dangers = find_dangers(text or "", page=page)
        if dangers:
            self.problems.append(f"{where}: {sorted(set(dangers))[:5]}")

    def page(self, client, path):
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        self.html(path, response.get_data(as_text=True), page=True)
        return response

    def check(self):
        assert not self.problems, f"{len(self.problems)} holes:\n" + "\n".join(self.problems[:40])


def _posted(audit, response, where):
    if response.status_code in (200, 201):
        audit.accepted += 1
        return response.get_json()
    assert response.status_code == 422, f"{where}: {response.status_code} " \
                                        f"{response.get_data(as_text=True)[:300]}"
    return None


def test_posts_titles_and_edit_forms(client, make):
    author = make.user()
    login(client, author)
    category = make.category()
    topic = make.topic(category=category)
    audit = Audit()
    for n, vector in enumerate(VECTORS):
        reply = _posted(audit, client.post("/posts.json", json={
            "topic_id": topic.id, "raw": vector}), f"post {n}")
        made = _posted(audit, client.post("/posts.json", json={
            "title": f"Topic {n} {vector}"[:200], "raw": f"Body {n} {vector}",
            "category": category.id}), f"title {n}")
        if reply:
            audit.html(f"POST /posts.json {n}", reply["cooked"])
            audit.page(client, f"/posts/{reply['id']}/edit")
        if made:
            page = client.get(f"/t/{made['topic_id']}", follow_redirects=True)
            audit.html(f"topic page {n}", page.get_data(as_text=True), page=True)
    assert audit.accepted >= 2 * len(VECTORS) - 4, audit.accepted
    for page in range(1, len(VECTORS) // 20 + 3):
        response = client.get(f"/t/{topic.slug}/{topic.id}?page={page}")
        audit.html(f"topic page {page}", response.get_data(as_text=True), page=True)
        for post in client.get(f"/t/{topic.id}.json?page={page}").get_json()[
                "post_stream"]["posts"]:
            audit.html(f"topic json post {post['id']}", post["cooked"])
    for page in (1, 2, 3):
        audit.page(client, f"/latest?page={page}")
        audit.page(client, f"/c/{category.slug}/{category.id}?page={page}")
    audit.page(client, f"/u/{author.username_lower}")
    for post in db.session.scalars(select(Post)):
        audit.html(f"stored post {post.id}", post.cooked)
    audit.check()


def _proposal_process(make):
    return make.process()


def test_proposals_amendments_rationales_clarifications_and_answers(client, make):
    process = _proposal_process(make)
    author = make.user()
    login(client, author)
    audit = Audit()
    proposals = []
    for n, vector in enumerate(VECTORS):
        made = _posted(audit, client.post("/proposals.json", json={
            "process_id": process.id, "title": f"Proposal {n} {vector}"[:200],
            "summary": f"A summary that says {vector}"[:500],
            "body": f"# Plan {n}\n\n{vector}\n\nA closing paragraph."}), f"proposal {n}")
        if made:
            proposals.append(made["proposal"]["id"])
            audit.html(f"proposal json {n}", " ".join(
                p["cooked"] for p in made["proposal"]["paragraphs"]))
    assert len(proposals) >= len(VECTORS) - 2
    for proposal_id in proposals[:10]:
        audit.page(client, f"/proposals/{proposal_id}")
    audit.page(client, f"/processes/{process.id}")

    # Amendments and clarifications on one proposal by another member; answers by its author.
    target = proposals[0]
    amender = make.user()
    client.post("/logout")
    login(client, amender)
    items = []
    for n, vector in enumerate(VECTORS):
        amendment = _posted(audit, client.post(f"/proposals/{target}/amendments.json", json={
            "kind": "amendment", "start": 2, "end": 2, "text": f"{vector} take {n}",
            "rationale": f"Because {vector}"}), f"amendment {n}")
        question = _posted(audit, client.post(f"/proposals/{target}/amendments.json", json={
            "kind": "clarification", "start": 2, "end": 2,
            "text": f"What about {vector}? ({n})"[:2000], "rationale": ""}),
            f"clarification {n}")
        for made in (amendment, question):
            if made:
                items.append(made["amendment"]["id"])
                audit.html(f"item json {made['amendment']['id']}",
                           made["amendment"]["text_cooked"])
    assert len(items) >= 2 * len(VECTORS) - 4
    client.post("/logout")
    login(client, author)
    answered = 0
    for n, item in enumerate(db.session.scalars(select(Amendment).where(
            Amendment.kind == "clarification"))):
        response = client.post(f"/amendments/{item.id}/answer.json",
                               json={"answer": VECTORS[n % len(VECTORS)]})
        answered += response.status_code == 200
    assert answered >= len(VECTORS) - 2
    for apage in (1, 2, 3):
        audit.page(client, f"/proposals/{target}?apage={apage}")
    for item_id in items[:20]:
        audit.page(client, f"/amendments/{item_id}")
    for item in db.session.scalars(select(Amendment)):
        for field in (item.text_cooked, item.rationale_cooked, item.answer_cooked):
            audit.html(f"stored item {item.id}", field)
    for version in db.session.scalars(select(ProposalVersion)):
        audit.html(f"stored version {version.id}", " ".join(version.paragraphs_cooked))
    audit.check()


def test_profiles(client, make):
    member = make.user()
    login(client, member)
    audit = Audit()
    for n, vector in enumerate(VECTORS):
        response = client.post("/my/settings", data={
            "action": "profile", "name": vector[:80], "bio": vector,
            "group": str(member.group_id)})
        assert response.status_code in (302, 422), (n, response.status_code)
        audit.accepted += response.status_code == 302
        audit.page(client, f"/u/{member.username_lower}")
        audit.html(f"profile json {n}",
                   client.get(f"/u/{member.username_lower}.json").get_json()["user"]
                   ["bio_cooked"])
        audit.page(client, "/my/settings")
        db.session.expire_all()
        audit.html(f"stored bio {n}", db.session.get(User, member.id).bio_cooked)
    assert audit.accepted >= len(VECTORS) - 2
    audit.check()


def test_flag_messages_and_moderators_reasons(client, make):
    topic = make.topic()
    posts = [make.reply(topic, raw=f"Reply number {n} here.") for n in range(len(VECTORS))]
    flagger = make.user()
    login(client, flagger)
    audit = Audit()
    for post, vector in zip(posts, VECTORS):
        _posted(audit, client.post("/post_actions.json", json={
            "id": post.id, "post_action_type_id": 7, "message": vector[:1000]}),
            f"flag {post.id}")
    assert audit.accepted >= len(VECTORS) - 2
    moderator = make.user(role="moderator")
    client.post("/logout")
    login(client, moderator)
    for page in (1, 2, 3):
        audit.page(client, f"/review?page={page}")
    for item in client.get("/review.json").get_json()["reviewables"]:
        for flag in item["flags"]:
            assert isinstance(flag["message"], str)
    # Moderators' reasons are shown to everyone, in notices and the log.
    for post, vector in zip(posts, VECTORS):
        response = client.put(f"/posts/{post.id}/hidden.json",
                              json={"hidden": True, "reason": vector[:500]})
        assert response.status_code in (200, 422), response.get_data(as_text=True)
    client.post("/logout")
    for page in (1, 2, 3, 4):
        audit.page(client, f"/moderation-log?page={page}")
        audit.page(client, f"/t/{topic.slug}/{topic.id}?page={page}")
    audit.check()


def test_a_hidden_topic_notice_carries_no_markup(client, make):
    topic = make.topic(title="An ordinary title for a topic")
    moderation.hide(CONSOLE, "topic", topic.id, VECTORS[0] + VECTORS[42])
    response = client.get(f"/t/{topic.slug}/{topic.id}")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert not find_dangers(page, page=True)
    assert "&lt;script&gt;" in page
    assert db.session.get(Topic, topic.id).hidden_at is not None
