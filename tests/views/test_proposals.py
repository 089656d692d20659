"""Proposals, amendments and votes over HTTP: the JSON API and the plain-form pages."""
from types import SimpleNamespace

import pytest

from forum.extensions import db
from forum.models import AmendmentVote
from tests.conftest import login


def api_process(client, admin):
    login(client, admin)
    response = client.post("/processes.json", json={
        "kind": "priority_campaign", "scope": "uk", "title": "Priority Campaign 2027",
        "proposals_close_at": "2099-01-01T00:00:00Z", "amendments_close_at": "2099-02-01T00:00:00Z",
        "labs_close_at": "2099-03-01T00:00:00+00:00", "support_threshold": 2})
    assert response.status_code == 201, response.json
    client.post("/logout")
    return response.json["process"]


def test_json_flow_create_amend_vote_rank(app, make):
    client = app.test_client()
    process = api_process(client, make.admin())
    assert process["seats"] == 1 and process["phase"] == "proposals"
    assert process["amendments_close_at"] == "2099-02-01T00:00:00+00:00"

    author, a, b, c = make.user(), make.user(), make.user(), make.user()
    login(client, author)
    created = client.post("/proposals.json", json={
        "process_id": process["id"], "title": "Free buses for under 25s",
        "summary": "Young people ride buses free.",
        "body": "Buses are free for everyone under 25.\n\nCouncils are paid the fares.\n"})
    assert created.status_code == 201, created.json
    proposal = created.json["proposal"]
    assert [p["number"] for p in proposal["paragraphs"]] == [1, 2]
    assert proposal["status"] == "open" and proposal["supports"] == 0

    client.post("/logout")
    login(client, a)
    first = client.post(f"/proposals/{proposal['id']}/amendments.json", json={
        "kind": "amendment", "start": 1, "end": 1,
        "text": "Buses are free for everyone under 30.", "rationale": "Wider reach."})
    assert first.status_code == 201, first.json
    first = first.json["amendment"]
    assert {k: first[k] for k in ("kind", "status", "start", "end", "up", "down", "my_vote")} \
        == {"kind": "amendment", "status": "open", "start": 1, "end": 1, "up": 0, "down": 0,
            "my_vote": 0}
    question = client.post(f"/proposals/{proposal['id']}/amendments.json", json={
        "kind": "clarification", "start": 2, "end": 2, "text": "Which fares: average or full?"})
    assert question.status_code == 201
    own = client.put(f"/amendments/{first['id']}/vote.json", json={"value": 1})
    assert own.status_code == 403 and "own" in own.json["errors"][0]
    assert client.post(f"/proposals/{proposal['id']}/support.json").json["supports"] == 1

    client.post("/logout")
    login(client, b)
    second = client.post(f"/proposals/{proposal['id']}/amendments.json", json={
        "kind": "amendment", "start": 2, "end": 2, "text": "Councils are paid in full.",
        "rationale": "Councils must not lose out."}).json["amendment"]
    voted = client.put(f"/amendments/{first['id']}/vote.json", json={"value": 1})
    assert voted.status_code == 200
    assert (voted.json["amendment"]["up"], voted.json["amendment"]["my_vote"]) == (1, 1)
    assert voted.json["amendment"]["rank"] == 1

    client.post("/logout")
    login(client, c)
    client.put(f"/amendments/{second['id']}/vote.json", json={"value": 1})
    client.put(f"/amendments/{first['id']}/vote.json", json={"value": -1})
    ranking = client.get(f"/proposals/{proposal['id']}/amendments.json?kind=amendment").json
    order = [(i["id"], i["up"], i["down"], i["rank"], i["my_vote"]) for i in ranking["amendments"]]
    assert order == [(second["id"], 1, 0, 1, 1), (first["id"], 1, 1, 2, -1)]
    by_paragraph = client.get(f"/proposals/{proposal['id']}/amendments.json?paragraph=2").json
    assert {i["kind"] for i in by_paragraph["amendments"]} == {"amendment", "clarification"}
    flipped = client.put(f"/amendments/{first['id']}/vote.json", json={"value": 0}).json
    assert (flipped["amendment"]["down"], flipped["amendment"]["my_vote"]) == (0, 0)

    shown = client.get(f"/proposals/{proposal['id']}.json").json["proposal"]
    assert shown["paragraphs"][1]["amendments"] == 1
    assert shown["paragraphs"][1]["clarifications"] == 1
    assert shown["supports"] == 1
    listed = client.get(f"/proposals.json?process_id={process['id']}").json["proposals"]
    assert [p["id"] for p in listed] == [proposal["id"]]
    assert client.get("/processes.json").json["processes"][0]["id"] == process["id"]
    # Now both stand at +1 / -0: the earlier one ranks first.
    assert client.get(f"/amendments/{first['id']}.json").json["amendment"]["rank"] == 1
    assert client.get(f"/amendments/{second['id']}.json").json["amendment"]["rank"] == 2


def test_refusals_say_why_and_change_nothing(client, make):
    proposal = make.proposal()
    item = make.amendment(proposal)
    anon = client.put(f"/amendments/{item.id}/vote.json", json={"value": 1})
    assert anon.status_code == 403 and anon.json["errors"] == ["Sign in to do that."]
    login(client, make.user())
    bad = client.post(f"/proposals/{proposal.id}/amendments.json",
                      json={"kind": "amendment", "start": 40, "end": 41, "text": "x",
                            "rationale": "Long enough reason."})
    assert bad.status_code == 422 and "does not exist" in bad.json["errors"][0]
    assert client.put(f"/amendments/{item.id}/vote.json", json={"value": 5}).status_code == 422
    assert client.put("/amendments/999999/vote.json", json={"value": 1}).status_code == 404
    assert client.get(f"/amendments/{item.id}.json").json["amendment"]["up"] == 0


@pytest.mark.parametrize("field, value", [
    ("proposals_close_at", "0001-01-01T00:00:00+05:00"),  # before the first day a date holds
    ("labs_close_at", "9999-12-31T23:59:59-05:00"),       # after the last
    ("amendments_close_at", "1999-06-01T00:00:00Z")])
def test_a_deadline_out_of_any_sensible_range_is_refused_by_name(client, make, field, value):
    login(client, make.user(role="admin"))
    fields = {"kind": "priority_campaign", "scope": "uk", "title": "Priority Campaign 2027",
              "description": "What we campaign on next year.",
              "proposals_close_at": "2099-01-01T00:00:00Z",
              "amendments_close_at": "2099-02-01T00:00:00Z",
              "labs_close_at": "2099-03-01T00:00:00Z", field: value}
    response = client.post("/processes.json", json=fields)
    assert response.status_code == 422
    assert response.json["errors"] == ["Give a date between the years 2000 and 2999."]
    page = client.post("/processes/new", data=fields)
    assert page.status_code == 422
    assert "What we campaign on next year.</textarea>" in page.get_data(as_text=True)
    assert client.get("/processes.json").json["processes"] == []


def test_plain_form_flow_without_javascript(client, make):
    proposal = make.proposal()
    member = make.user()
    login(client, member)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert 'id="p-3"' in page and "Rents are capped at a third of income." in page
    form = client.get(f"/proposals/{proposal.id}/amend?start=3&end=3").get_data(as_text=True)
    assert "Rents are capped at a third of income.</textarea>" in form
    preview = client.post(f"/proposals/{proposal.id}/amend", data={
        "kind": "amendment", "start": "3", "end": "3", "preview": "1",
        "text": "Rents are capped at a quarter of income.", "rationale": "Fairer for tenants."})
    html = preview.get_data(as_text=True)
    assert "<del>third</del>" in html and "<ins>quarter</ins>" in html
    assert "Fairer for tenants.</textarea>" in html  # nothing lost
    # The redline can be seen before the reason is written; submitting needs the reason.
    early = client.post(f"/proposals/{proposal.id}/amend", data={
        "kind": "amendment", "start": "3", "end": "3", "preview": "1",
        "text": "Rents are capped at a quarter of income.", "rationale": ""})
    assert early.status_code == 200 and "<ins>quarter</ins>" in early.get_data(as_text=True)
    failed = client.post(f"/proposals/{proposal.id}/amend", data={
        "kind": "amendment", "start": "3", "end": "3",
        "text": "Rents are capped at a quarter of income.", "rationale": ""})
    assert failed.status_code == 422
    assert "Explain why" in failed.get_data(as_text=True)
    assert "Rents are capped at a quarter of income.</textarea>" in failed.get_data(as_text=True)
    done = client.post(f"/proposals/{proposal.id}/amend", data={
        "kind": "amendment", "start": "3", "end": "3",
        "text": "Rents are capped at a quarter of income.", "rationale": "Fairer for tenants."})
    assert done.status_code == 302
    client.post("/logout")
    login(client, make.user())
    item_id = int(done.location.rsplit("item-", 1)[1])
    client.post(f"/amendments/{item_id}/vote", data={"value": "1"})
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert '<span class="up-count">+1</span>' in page
    assert 'aria-pressed="true"' in page and "You voted up" in page
    client.post(f"/amendments/{item_id}/vote", data={"value": "1"})  # pressing again clears
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert '<span class="up-count">+0</span>' in page
    # A vote cast on the item's own page comes back to that page.
    own_page = client.get(f"/amendments/{item_id}").get_data(as_text=True)
    assert '<input type="hidden" name="back" value="item">' in own_page
    back = client.post(f"/amendments/{item_id}/vote", data={"value": "-1", "back": "item"})
    assert back.location.endswith(f"/amendments/{item_id}#item-{item_id}")
    assert "You voted down" in client.get(back.location).get_data(as_text=True)
    client.post(f"/proposals/{proposal.id}/support", data={})
    assert "Supported ✓" in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)


def test_the_preview_shows_the_text_after_the_change_as_it_will_read(client, make):
    """From a paragraph's "Insert after", the member previews new paragraphs and reads the
    resulting text cooked and numbered as the proposal page will show it, with the new
    paragraphs marked, and their reasons cooked."""
    import re

    proposal = make.proposal()
    login(client, make.user())
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    insert = re.search(r'href="([^"]+)">Insert after<span class="visually-hidden"> paragraph 2<',
                       page).group(1).replace("&amp;", "&")
    form = client.get(insert).get_data(as_text=True)
    assert 'name="start" type="number" min="1" max="5" value="3"' in form
    assert 'name="end" type="number" min="0" max="4" value="2"' in form
    assert '></textarea>' in form  # an insertion starts from empty text
    html = client.post(f"/proposals/{proposal.id}/amend", data={
        "kind": "amendment", "start": "3", "end": "2", "preview": "1",
        "text": "Homes are **insulated** to a high standard.\n\n- heat pumps\n- solar",
        "rationale": "Bills fall _for good_."}).get_data(as_text=True)
    assert "What changes: new text after paragraph 2" in html
    result = html.split("The text after the change", 1)[1]
    numbered = re.findall(r'<li value="(\d+)" class="paragraph( is-new)?">',
                          result.split("</ol>", 1)[0])
    assert numbered == [("1", ""), ("2", ""), ("3", " is-new"), ("4", " is-new"), ("5", ""),
                        ("6", "")]
    assert "<strong>insulated</strong>" in result and "<li>heat pumps</li>" in result
    assert "**insulated**" not in result  # cooked, not the raw Markdown
    assert "Rents are capped at a third of income." in result  # what follows is renumbered
    assert "<em>for good</em>" in result

    html = client.post(f"/proposals/{proposal.id}/amend", data={
        "kind": "clarification", "start": "3", "end": "3", "preview": "1",
        "text": "Which **income**: gross or net?"}).get_data(as_text=True)
    assert "Your question about paragraph 3:" in html
    assert "<strong>income</strong>" in html.split('id="preview"', 1)[1]


def test_widening_the_range_after_the_box_was_filled_is_previewed_before_it_counts(client,
                                                                                   make):
    """Amend on paragraph 2, then change "To" to 3: the text in the box would delete paragraph
    3 unseen, so submitting shows the change first and only the next submit counts."""
    import re

    from forum.models import Amendment

    proposal = make.proposal()
    login(client, make.user())
    form = client.get(f"/proposals/{proposal.id}/amend?start=2&end=2").get_data(as_text=True)
    checked = re.search(r'name="checked" value="([^"]*)"', form).group(1)
    assert checked == "2:2"
    fields = {"kind": "amendment", "start": "2", "end": "3", "checked": checked,
              "text": "We will build council homes at scale, fast.",
              "rationale": "Speed matters for families waiting."}
    held = client.post(f"/proposals/{proposal.id}/amend", data=fields)
    html = held.get_data(as_text=True)
    assert held.status_code == 200 and db.session.query(Amendment).count() == 0
    assert "Not submitted yet: you changed the range to paragraphs 2–3" in html
    redline = re.search(r'<div class="redline">(.*?)</div>', html, re.S).group(1)
    assert "<del>" in redline and "Rents" in redline  # paragraph 3's words, struck out
    assert "We will build council homes at scale, fast.</textarea>" in html  # nothing lost
    assert re.search(r'name="checked" value="([^"]*)"', html).group(1) == "2:3"
    done = client.post(f"/proposals/{proposal.id}/amend", data=dict(fields, checked="2:3"))
    assert done.status_code == 302 and db.session.query(Amendment).count() == 1
    # The range the box was filled from submits at once.
    again = client.post(f"/proposals/{proposal.id}/amend", data=dict(
        fields, start="3", end="3", checked="3:3", text="Rents are capped at a quarter."))
    assert again.status_code == 302 and db.session.query(Amendment).count() == 2


def test_a_clarification_must_ask_something_other_than_the_paragraph(client, make):
    """Switching the form to a clarification leaves the paragraph in the box: submitting it
    as the question is refused, with the box kept."""
    proposal = make.proposal()
    login(client, make.user())
    refused = client.post(f"/proposals/{proposal.id}/amend", data={
        "kind": "clarification", "start": "3", "end": "3", "checked": "3:3",
        "text": "Rents are capped at a third of income.", "rationale": "Who decides income?"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "this box still holds the paragraph&#39;s own text" in html
    assert "Who decides income?</textarea>" in html
    response = client.post(f"/proposals/{proposal.id}/amendments.json", json={
        "kind": "clarification", "start": 3, "end": 3,
        "text": "Rents are capped at a third of income."})
    assert response.status_code == 422
    assert "this box still holds the paragraph's own text" in response.get_json()["errors"][0]


def test_ineligible_members_read_and_see_why(client, make):
    process = make.process(scope="scotland")
    proposal = make.proposal(process)
    login(client, make.user(nation="wales"))
    page = client.get(f"/processes/{process.id}").get_data(as_text=True)
    assert "Only members in Scotland take part" in page
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Only members in Scotland take part" in page
    assert proposal.title in page
    # The proposal form says why at once instead of offering fields to fill in for nothing.
    form = client.get(f"/processes/{process.id}/proposals/new")
    assert form.status_code == 403 and "Only members in Scotland take part" in \
        form.get_data(as_text=True)
    assert 'name="summary"' not in form.get_data(as_text=True)
    refused = client.post(f"/processes/{process.id}/proposals/new", data={
        "title": "Free buses", "summary": "Buses free for all under 25.", "body": "One."})
    assert refused.status_code == 403 and "Buses free for all under 25.</textarea>" in \
        refused.get_data(as_text=True)
    # Signed out meanwhile (on another device, say): the text is shown back, not dropped on
    # the way to the sign-in page.
    client.post("/logout")
    gone = client.post(f"/processes/{process.id}/proposals/new", data={
        "title": "Free buses", "summary": "Buses free for all under 25.", "body": "One."})
    assert gone.status_code == 401 and "Buses free for all under 25." in \
        gone.get_data(as_text=True)
    assert client.get(f"/processes/{process.id}/proposals/new").status_code == 302


def test_discussion_replies_live_on_the_proposal_page(client, make):
    proposal = make.proposal()
    login(client, make.user())
    response = client.post(f"/t/{proposal.topic_id}/reply", data={"raw": "I back this fully."})
    follow = client.get(response.location)
    assert follow.status_code == 302 and f"/proposals/{proposal.id}" in follow.location
    assert "I back this fully." in client.get(follow.location).get_data(as_text=True)


def test_proposal_page_queries_do_not_grow_with_amendments(app, client, make, count_queries):
    from tests.views.bulk import add_amendments

    proposal = make.proposal()
    member = make.user()
    login(client, member)
    url = f"/proposals/{proposal.id}"

    def queries_for_page():
        client.get(url)  # warm: read state written once
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter

    add_amendments(make, proposal, 10, voter=member)
    small = queries_for_page()
    add_amendments(make, proposal, 490, voter=member)
    large = queries_for_page()
    assert len(small) == len(large), small.report() + "\n----\n" + large.report()


def _nested_scans(plan):
    """Steps of a SQLite query plan that read a whole table or subquery once per row of an
    outer loop: a SCAN after the first loop at its level of the plan."""
    loops = {}
    for step_id, parent, _, detail in plan:
        if detail.startswith(("SCAN ", "SEARCH ")) and not detail.startswith("SCAN CONSTANT"):
            loops.setdefault(parent, []).append(detail)
    return [detail for steps in loops.values() for detail in steps[1:]
            if detail.startswith("SCAN ")]


def test_the_amendments_panel_reads_each_item_once(app, client, make, engine_name):
    """The panel ranks every item of the proposal; with 500 of them, ranking must not pair
    each item with every other one (which took 16 ms a page on SQLite)."""
    from sqlalchemy import event

    from tests.views.bulk import add_amendments

    if engine_name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    proposal = make.proposal()
    member = make.user()
    add_amendments(make, proposal, 500, voter=member)
    login(client, member)
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if "amendments" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        for query in ("", "?sort=new", "?sort=controversial&kind=amendment", "?paragraph=1"):
            assert client.get(f"/proposals/{proposal.id}{query}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    conn = db.session.connection()
    nested = {statement: _nested_scans(conn.exec_driver_sql(
        "EXPLAIN QUERY PLAN " + statement, parameters).all()) for statement, parameters in seen}
    assert seen and not any(nested.values()), {s: n for s, n in nested.items() if n}


# Statements of one vote through the JSON API, signed in. The usual case, a vote adding to the
# author's unread vote notification: the item locked with its proposal, process and author, the
# member with their session, the member's previous vote, the notification and its update, the
# vote row, the two-step recount, the search outbox row, and the item's rank for the answer.
# The first vote since the author last read their notifications writes a new one (its topic,
# the author's mute setting, email preference and unread count: six more); a vote the member
# already holds writes nothing.
VOTE_STATEMENTS = {"first vote, new notification": 16, "later vote, batched": 10,
                   "the same vote again": 4}


def test_a_vote_runs_few_statements_however_many_votes_the_item_has(app, client, make,
                                                                    count_queries):
    from tests.views.bulk import add_amendments

    proposal = make.proposal()
    item = make.amendment(proposal)
    item_id = item.id
    voters = [make.user() for _ in range(2)]
    add_amendments(make, proposal, 50, voter=voters[1])
    for _ in range(40):  # many earlier votes on the item
        db.session.add(AmendmentVote(amendment_id=item_id, user_id=make.user().id, value=1))
    db.session.commit()

    voters = [SimpleNamespace(username=voter.username) for voter in voters]  # for login()

    def statements(voter, value):
        login(client, voter)
        with count_queries() as counter:
            response = client.put(f"/amendments/{item_id}/vote.json", json={"value": value})
        assert response.status_code == 200, response.get_json()
        client.post("/logout")
        return counter

    first = statements(voters[0], 1)
    later, again = statements(voters[1], -1), statements(voters[1], -1)
    counted = {"first vote, new notification": first, "later vote, batched": later,
               "the same vote again": again}
    assert {case: len(c) for case, c in counted.items()} == VOTE_STATEMENTS, \
        "\n----\n".join(c.report() for c in counted.values())
    body = client.get(f"/amendments/{item_id}.json").get_json()["amendment"]
    assert (body["up"], body["down"]) == (41, 1)


def test_the_amendments_panel_pages_in_rank_order(client, make):
    import re

    from tests.views.bulk import add_amendments

    proposal = make.proposal()
    add_amendments(make, proposal, 30)
    ranked = [item["id"] for item in client.get(
        f"/proposals/{proposal.id}/amendments.json?sort=top").get_json()["amendments"]]
    assert len(ranked) == 30
    shown, url = [], f"/proposals/{proposal.id}"
    for expected in (20, 10):
        html = client.get(url).get_data(as_text=True)
        page = [int(n) for n in re.findall(r'<article class="item[^"]*" id="item-(\d+)"', html)]
        assert len(page) == expected
        shown += page
        more = re.search(r'href="([^"]*apage=2[^"]*)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert url is None  # the last page offers no further one
    assert shown == ranked  # every item once, in the order of the ranking

    # A vote without JavaScript from the second page comes back to the second page.
    login(client, make.user())
    html = client.get(f"/proposals/{proposal.id}?apage=2").get_data(as_text=True)
    assert '<input type="hidden" name="apage" value="2">' in html
    voted = client.post(f"/amendments/{shown[-1]}/vote", data={"value": "1", "apage": "2"})
    assert voted.location == f"/proposals/{proposal.id}?apage=2#item-{shown[-1]}"


def test_process_page_sorts_proposals(client, make):
    from forum.services import deliberation

    process = make.process()
    older, newer = make.proposal(process, title="Older proposal here"), make.proposal(
        process, title="Newer proposal here")
    deliberation.support_proposal(make.user(), older.id)
    make.amendment(older)  # activity on the older one

    def order(sort):
        data = client.get(f"/processes/{process.id}.json?sort={sort}").get_json()
        return [p["id"] for p in data["proposals"]]

    assert order("supports") == [older.id, newer.id]
    assert order("newest") == [newer.id, older.id]
    assert order("activity") == [older.id, newer.id]
    page = client.get(f"/processes/{process.id}").get_data(as_text=True)
    assert "left)" in page and "Amendments and votes until" in page


def test_a_withdrawn_proposal_shows_no_deadlines_it_no_longer_has(client, make):
    from forum.services import deliberation

    proposal = make.proposal()
    assert "Amendments and votes until" in client.get(f"/proposals/{proposal.id}").get_data(
        as_text=True)
    deliberation.withdraw_proposal(proposal.user, proposal.id, "Merged into another")
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Merged into another" in page
    assert "Amendments and votes until" not in page and "days left" not in page


def test_an_insertion_is_labelled_by_where_it_goes(client, make):
    proposal = make.proposal()  # four paragraphs
    closing = make.amendment(proposal, start=5, end=4, text="A new closing paragraph.")
    opening = make.amendment(proposal, start=1, end=0, text="A new opening paragraph.")
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f"Amendment #{closing.id} inserting new text after paragraph 4" in page
    assert f"Amendment #{opening.id} inserting new text before paragraph 1" in page
    assert "paragraphs 5–4" not in page
    # The feed words it the same way (it said "to paragraph 5").
    feed = client.get(f"/proposals/{proposal.id}/amendments.atom").get_data(as_text=True)
    assert f"Amendment #{closing.id} inserting new text after paragraph 4 by" in feed


def test_paragraph_numbers_are_read_out_and_an_item_page_has_its_heading(client, make):
    proposal = make.proposal()
    item = make.amendment(proposal)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert '<span class="pnum"><span class="visually-hidden">Paragraph </span>3</span>' in page
    # Each vote button says which item it is for, not only "Vote up".
    assert page.count(f'aria-describedby="item-{item.id}-title"') == 2
    single = client.get(f"/amendments/{item.id}").get_data(as_text=True)
    assert single.count("<h1") == 1 and f'<h1 class="item-title" id="item-{item.id}-title">' \
        in single


def test_after_a_new_version_old_items_count_against_no_paragraph_of_it(client, make):
    """Items name paragraphs of the version they were written on; once the lab publishes
    version 2, its paragraph 2 is another paragraph, so they are not counted against it and
    say which version they concern."""
    from forum.models import Proposal, ProposalVersion
    from forum.services.deliberation import version_fields
    from tests.conftest import PROPOSAL_BODY

    proposal = make.proposal()
    item = make.amendment(proposal, start=2, end=2, text="Homes at scale, now.")
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "1 amendment<span class=\"visually-hidden\"> on paragraph 2" in page
    row = db.session.get(Proposal, proposal.id)
    body = "A new first paragraph.\n\n" + PROPOSAL_BODY
    db.session.add(ProposalVersion(proposal_id=row.id, number=2, note="From the lab.",
                                   **version_fields(body)))
    row.current_version_number = 2
    db.session.commit()
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "on paragraph 2" not in page
    assert f"Amendment #{item.id} to paragraph 2 of version 1" in page
    filtered = client.get(f"/proposals/{proposal.id}?paragraph=2").get_data(as_text=True)
    assert f'id="item-{item.id}"' not in filtered


def test_a_visitor_reads_why_the_arrows_are_grey_and_where_to_sign_in(client, make):
    proposal = make.proposal()
    item = make.amendment(proposal)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert (f'<a class="muted small" href="/login?next=/amendments/{item.id}">Sign in to '
            'vote</a>') in page
    login(client, make.user())
    assert "Sign in to vote" not in client.get(f"/proposals/{proposal.id}").get_data(
        as_text=True)
