"""Search, on both backends: each filter, order, pagination, what is never found, and the
index agreeing with the database after every kind of write."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum import search
from forum.search import whoosh_windows, windows
from forum.db import write_transaction
from forum.errors import ValidationFailed
from forum.extensions import db
from forum.models import Category, Post, SearchOutbox, Topic, utcnow
from forum.permissions import Anonymous
from forum.services import amendments, deliberation, posts, voting
from tests.search_helpers import (assert_consistent, found, search_backend,  # noqa: F401
                                  worker_session)

VISITOR = Anonymous()


@pytest.fixture
def corpus(make, search_backend):  # noqa: F811
    """A small forum: two categories, a proposal in a UK process with an amendment and a
    clarification, and a Welsh process with a proposal of its own."""
    carys = make.user("carys", nation="wales")
    dafydd = make.user("dafydd")
    housing = make.category("Housing")
    transport = make.category("Transport")
    homes = make.topic(user=carys, category=housing, title="Council homes for Wales",
                       raw="We should build council homes at scale.")
    reply = make.reply(homes, user=dafydd, raw="Rent caps matter as much as new homes.")
    buses = make.topic(user=dafydd, category=transport, title="Free buses for the young",
                       raw="Buses should be free for everyone under twenty-five.")
    uk = make.process(scope="uk")
    proposal = make.proposal(uk, user=carys, title="Build homes people can afford")
    amendment = make.amendment(proposal, user=dafydd, start=2, end=2,
                               text="We will build council homes in every town.")
    clarification = make.amendment(proposal, user=make.user("eira"), kind="clarification",
                                   start=3, end=3,
                                   text="What does a third of income mean for pensioners?")
    wales = make.process(scope="wales")
    welsh = make.proposal(wales, user=carys, title="Warm homes for Welsh tenants")
    return {"carys": carys, "dafydd": dafydd, "housing": housing, "transport": transport,
            "homes": homes, "reply": reply, "buses": buses, "proposal": proposal,
            "amendment": amendment, "clarification": clarification, "welsh": welsh,
            "uk": uk, "wales": wales}


def test_words_find_every_kind_of_thing(corpus):
    c = corpus
    assert found("buses", VISITOR) == [("topic", c["buses"].id)]
    assert set(found("homes", VISITOR)) == {
        ("topic", c["homes"].id), ("post", c["reply"].id), ("proposal", c["proposal"].id),
        ("amendment", c["amendment"].id), ("proposal", c["welsh"].id)}
    assert found("pensioners", VISITOR) == [("clarification", c["clarification"].id)]
    # Stemmed: "cap" finds "caps", "building" finds "build".
    assert found("cap", VISITOR) == [("post", c["reply"].id)] or \
        ("post", c["reply"].id) in found("cap", VISITOR)
    assert ("topic", c["homes"].id) in found("building", VISITOR)
    assert_consistent()


def test_every_word_must_match(corpus):
    assert found("council towns", VISITOR) == [("amendment", corpus["amendment"].id)]
    assert found("buses pensioners", VISITOR) == []


def test_phrases_keep_their_words_together(corpus):
    c = corpus
    hits = set(found('"council homes"', VISITOR))
    assert ("topic", c["homes"].id) in hits and ("amendment", c["amendment"].id) in hits
    assert ("post", c["reply"].id) not in hits
    assert found('"homes council"', VISITOR) == []


def test_user_filter(corpus):
    c = corpus
    assert set(found("homes @dafydd", VISITOR)) == {("post", c["reply"].id),
                                                     ("amendment", c["amendment"].id)}
    assert set(found("@CARYS", VISITOR)) == {("topic", c["homes"].id),
                                              ("proposal", c["proposal"].id),
                                              ("proposal", c["welsh"].id)}
    with pytest.raises(ValidationFailed, match="no member @nobody-here"):
        found("@nobody-here", VISITOR)


def test_category_filter(corpus):
    c = corpus
    assert found("#transport", VISITOR) == [("topic", c["buses"].id)]
    assert set(found("homes #housing", VISITOR)) == {("topic", c["homes"].id),
                                                      ("post", c["reply"].id)}
    with pytest.raises(ValidationFailed, match="no category #nowhere"):
        search.query("homes #nowhere", VISITOR)


@pytest.mark.parametrize("kind, expected", [
    ("topic", {"homes"}), ("post", {"reply"}), ("proposal", {"proposal", "welsh"}),
    ("amendment", {"amendment"}), ("clarification", set()),
    ("amendment,clarification", {"amendment"}),
])
def test_type_filter(corpus, kind, expected):
    want = {(corpus[name].kind if name in ("amendment",) else
             "topic" if name == "homes" else "post" if name == "reply" else "proposal",
             corpus[name].id) for name in expected}
    assert set(found(f"homes type:{kind}", VISITOR)) == want


def test_type_clarification_and_lab(corpus, make):
    c = corpus
    assert found("type:clarification", VISITOR) == [("clarification", c["clarification"].id)]
    lab = make.topic(user=c["dafydd"], title="Lab room for warm homes",
                     raw="Drafting the homes paragraph together.")
    with write_transaction():
        db.session.get(Topic, lab.id).kind = "lab"
        search.enqueue("topic", lab.id)
    assert found("homes type:lab", VISITOR) == [("topic", lab.id)]


def test_status_filter(corpus, make):
    c = corpus
    assert found("status:open type:amendment", VISITOR) == [("amendment", c["amendment"].id)]
    closed = make.topic(title="A closed thread about homes", raw="Nothing more on homes.")
    with write_transaction():
        db.session.get(Topic, closed.id).closed = True
        search.enqueue("topic", closed.id)
    assert found("homes status:closed", VISITOR) == [("topic", closed.id)]
    assert found("homes status:in_lab", VISITOR) == []


def test_scope_filter(corpus):
    c = corpus
    assert found("homes scope:wales", VISITOR) == [("proposal", c["welsh"].id)]
    assert set(found("homes scope:uk", VISITOR)) == {("proposal", c["proposal"].id),
                                                      ("amendment", c["amendment"].id)}
    assert set(found("homes scope:uk,wales type:proposal", VISITOR)) == {
        ("proposal", c["proposal"].id), ("proposal", c["welsh"].id)}


def test_in_title_searches_titles_only(corpus):
    c = corpus
    assert set(found("homes in:title", VISITOR)) == {
        ("topic", c["homes"].id), ("proposal", c["proposal"].id), ("proposal", c["welsh"].id)}
    assert found("scale in:title", VISITOR) == []  # only in the first post's text


def test_before_and_after(corpus, monkeypatch):
    c = corpus
    long_ago = utcnow() - timedelta(days=400)
    monkeypatch.setattr(posts, "utcnow", lambda: long_ago)
    old = posts.create_post(c["dafydd"], c["homes"].id, "An old reply about homes.")
    monkeypatch.undo()
    day = long_ago.date()
    assert found(f"homes type:post before:{day + timedelta(days=1)}", VISITOR) == \
        [("post", old.id)]
    assert found(f"homes type:post before:{day}", VISITOR) == []
    assert set(found(f"homes type:post after:{day}", VISITOR)) == \
        {("post", c["reply"].id), ("post", old.id)}
    assert found(f"homes type:post after:{day + timedelta(days=1)}", VISITOR) == \
        [("post", c["reply"].id)]
    assert found(f"homes after:{day} before:{day + timedelta(days=1)}", VISITOR) == \
        [("post", old.id)]


def catch_up():
    with worker_session() as session:
        search.catch_up(session)


def test_order_latest_and_votes(corpus, make):
    c = corpus
    first = make.reply(c["buses"], raw="Buses, buses, buses: they are the answer.")
    second = make.reply(c["buses"], raw="And buses at night too.")
    latest = found("buses type:post order:latest", VISITOR)
    assert latest == [("post", second.id), ("post", first.id)]
    posts.like_post(c["carys"], first.id)
    catch_up()  # likes and votes wait for the next catch-up: they only change the order
    assert found("buses type:post order:votes", VISITOR) == \
        [("post", first.id), ("post", second.id)]
    # Votes on amendments count too: up minus down.
    other = make.amendment(c["proposal"], user=c["carys"], start=4, end=4,
                           text="Homes for every town and village.")
    voting.cast_vote(c["dafydd"], other.id, 1)
    catch_up()
    assert found("homes type:amendment order:votes", VISITOR)[0] == ("amendment", other.id)


# Whoosh ranks a query that can match only a few documents from all its matches at once, and
# any other by walking the windows one by one: both must give the same answers.
@pytest.mark.parametrize("plan,sizes", [("all matches at once", (2,)),
                                        ("all matches at once", (1, 2, 3)),
                                        ("window by window", (2,)),
                                        ("window by window", (1, 2, 3))])
def test_the_newest_matches_come_first_when_a_word_is_everywhere(corpus, app, monkeypatch, plan,
                                                                  sizes):
    """order:latest is exact across the windows of recent days; relevance and votes rank the
    newest window holding SEARCH_RECENT_MATCHES matches (0: every match)."""
    c = corpus
    when = {"now": utcnow() - timedelta(days=400)}
    monkeypatch.setattr(posts, "utcnow", lambda: when["now"])
    old = posts.create_post(c["dafydd"], c["buses"].id, "Kayak, kayak, kayak and kayak.")
    when["now"] = utcnow() - timedelta(days=20)
    middle = posts.create_post(c["dafydd"], c["buses"].id, "A kayak club by the river.")
    monkeypatch.undo()
    if plan == "window by window":
        monkeypatch.setattr(whoosh_windows, "FEW_MATCHES", -1)
    new = [posts.create_post(c["carys"], c["buses"].id, f"Kayak hire, shop {n}.")
           for n in range(2)]
    pages = [found("kayak order:latest", VISITOR, page=n, per_page=1) for n in (1, 2, 3, 4)]
    assert pages == [[("post", new[1].id)], [("post", new[0].id)], [("post", middle.id)],
                     [("post", old.id)]]
    # Windows of the newest two documents (or one, two, three), for a forum this small.
    monkeypatch.setattr(windows, "SIZES", sizes)
    assert [found("kayak order:latest", VISITOR, page=n, per_page=1) for n in (1, 2, 3, 4)] \
        == pages
    app.config["SEARCH_RECENT_MATCHES"] = 2
    assert set(found("kayak", VISITOR, per_page=1)) <= {("post", p.id) for p in new}
    app.config["SEARCH_RECENT_MATCHES"] = 0
    assert found("kayak", VISITOR, per_page=1) == [("post", old.id)]


def test_relevance_puts_titles_first(corpus, make):
    c = corpus
    make.reply(c["homes"], raw="I came by tram today. It was late, and the rain came in, "
                               "and we talked about homes and rents all the way to town.")
    tram = make.topic(title="Trams in Edinburgh", raw="Should the trams run to Leith?")
    assert found("tram", VISITOR)[0] == ("topic", tram.id)


def test_pagination(corpus, make, app):
    topic = corpus["buses"]
    made = [make.reply(topic, raw=f"Cycling lanes, take {n}.") for n in range(23)]
    seen, page = [], 1
    while True:
        result = search.query("cycling order:latest", VISITOR, page=page, per_page=10)
        seen += [r["id"] for r in result.results]
        assert len(result.results) == (10 if page < 3 else 3)
        assert result.has_next == (page < 3)
        if not result.has_next:
            break
        page += 1
    assert seen == [p.id for p in reversed(made)]


def test_snippets_highlight_and_escape(corpus, make):
    post = make.reply(corpus["buses"], raw="If 5 < 6 & the fare is <b>free</b>, buses win. "
                                           + "Other words. " * 40)
    result = search.query("buses type:post", VISITOR).results[0]
    assert result["id"] == post.id
    snippet = str(result["snippet"])
    assert "<mark>buses</mark>" in snippet
    assert "5 &lt; 6 &amp; the fare" in snippet and "<b>" not in snippet
    assert len(snippet) < 400
    assert str(search.query("free buses", VISITOR).results[0]["title_html"]) == \
        "<mark>Free</mark> <mark>buses</mark> for the young"


# -- never found -------------------------------------------------------------------------------

def test_withdrawn_posts_proposals_and_amendments_are_not_found(corpus, make):
    c = corpus
    talk = make.reply(db.session.get(Topic, c["welsh"].topic_id),
                      raw="Warm homes would help my street.")
    assert ("post", talk.id) in found("homes street", VISITOR)
    posts.delete_post(c["dafydd"], c["reply"].id)
    amendments.withdraw_item(c["dafydd"], c["amendment"].id)
    deliberation.withdraw_proposal(c["carys"], c["welsh"].id)
    hits = set(found("homes", VISITOR))
    assert hits == {("topic", c["homes"].id), ("proposal", c["proposal"].id)}
    # Nobody finds them: not their authors, not staff.
    for viewer in (c["dafydd"], c["carys"], make.admin()):
        assert set(found("homes", viewer)) == hits
    assert found("homes status:withdrawn", VISITOR) == []
    # The discussion of a withdrawn proposal goes with it.
    assert found("homes street", VISITOR) == []
    assert_consistent()


def test_hidden_deleted_and_unlisted_things_are_not_found(corpus, make):
    """Moderation sets these columns and enqueues the change (services.moderation)."""
    c = corpus
    with write_transaction():
        db.session.get(Post, c["reply"].id).hidden_at = utcnow()
        search.enqueue("post", c["reply"].id)
        item = db.session.get(type(c["amendment"]), c["amendment"].id)
        item.hidden_at = utcnow()
        search.enqueue("amendment", item.id)
        db.session.get(Topic, c["buses"].id).visible = False
        search.enqueue("topic", c["buses"].id)
    deleted = make.topic(title="Deleted homes thread", raw="Homes homes homes.")
    with write_transaction():
        db.session.get(Topic, deleted.id).deleted_at = utcnow()
        search.enqueue("topic", deleted.id)
    hits = set(found("homes", make.admin())) | set(found("buses", VISITOR))
    assert hits == {("topic", c["homes"].id), ("proposal", c["proposal"].id),
                    ("proposal", c["welsh"].id)}
    assert_consistent()


def test_the_database_decides_even_when_the_index_lags(corpus, app):
    """A result the index still holds is dropped if the database says it may not be found."""
    c = corpus
    app.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = False
    posts.delete_post(c["dafydd"], c["reply"].id)
    assert db.session.scalar(select(SearchOutbox.id)) is not None  # not applied yet
    assert ("post", c["reply"].id) not in found("homes", VISITOR)
    with worker_session() as session:
        assert search.catch_up(session) >= 1
    assert_consistent()


# -- the index follows the database ----------------------------------------------------------------

def test_edits_reach_the_index(corpus):
    c = corpus
    posts.edit_post(c["dafydd"], c["reply"].id, "Rent caps matter more than trams.")
    assert found("trams", VISITOR) == [("post", c["reply"].id)]
    assert ("post", c["reply"].id) not in found("homes", VISITOR)
    first = db.session.scalar(select(Post).where(Post.topic_id == c["buses"].id,
                                                 Post.post_number == 1))
    posts.edit_post(c["dafydd"], first.id, "Buses should be free.", title="Free ferries too")
    assert found("ferries in:title", VISITOR) == [("topic", c["buses"].id)]
    amendments.edit_item(c["dafydd"], c["amendment"].id, 2, 2,
                         "We will build cooperative housing in every town.",
                         "Because it makes the text clearer.")
    assert found("cooperative", VISITOR) == [("amendment", c["amendment"].id)]
    assert_consistent()


def test_a_proposal_is_found_by_every_version_of_its_text(corpus):
    """Later versions are published by the lab; each version's text stays findable."""
    from forum.models import ProposalVersion
    from forum.services.deliberation import version_fields

    proposal = corpus["proposal"]
    with write_transaction():
        db.session.add(ProposalVersion(proposal_id=proposal.id, number=2,
                                       **version_fields("# Homes\n\nSolar roofs on every home.")))
        db.session.get(type(proposal), proposal.id).current_version_number = 2
        search.enqueue("proposal", proposal.id)
    assert ("proposal", proposal.id) in found("solar", VISITOR)
    assert ("proposal", proposal.id) in found("tenancies", VISITOR)  # only in version 1


def test_reindex_rebuilds_from_the_database(corpus, app):
    c = corpus
    before = found("homes", VISITOR)
    app.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = False
    posts.create_post(c["carys"], c["buses"].id, "Homes near bus routes.")
    with worker_session() as session:
        progress = []
        search.reindex(session, progress=progress.append)
        assert sum(progress) == len(search.expected_doc_ids(session))
    after = found("homes", VISITOR)
    assert set(before) < set(after)
    assert_consistent()


def test_catch_up_is_one_writer_at_a_time(corpus, app, search_backend):  # noqa: F811
    """While another writer holds the lock, a catch-up leaves the outbox alone."""
    app.config["SEARCH_CATCH_UP_AFTER_COMMIT"] = False
    posts.create_post(corpus["carys"], corpus["buses"].id, "Trolleybuses, anyone?")
    engine = search.backend()
    with worker_session() as holder, search.own_session() as session:
        if search_backend == "whoosh":
            with engine.lock() as locked:
                assert locked
                assert search.catch_up(session) == 0
        else:
            holder.connection(execution_options={"forum_write": True})
            assert engine.try_lock(holder)
            assert search.catch_up(session) == 0
            holder.rollback()
        assert search.pending_count(session) > 0
        assert search.catch_up(session) > 0
    assert found("trolleybuses", VISITOR) == [("post", db.session.scalar(
        select(Post.id).order_by(Post.id.desc())))]
    assert_consistent()


@pytest.mark.parametrize("text, message", [
    ('"council homes', "quotation mark is not closed"),
    ("homes colour:red", "colour: is not a filter"),
    ("homes type:poem", "type:poem is not something to search for"),
    ("homes status:sleeping", "status:sleeping"),
    ("homes scope:mars", "scope:mars"),
    ("homes in:body", "in:body is not a place"),
    ("homes before:yesterday", "before: takes a date"),
    ("homes after:2026-13-01", "after: takes a date"),
    ("homes after:2026-03-01 before:2026-02-01", "after: must be earlier"),
    ("homes order:random", "order:random is not an order"),
    ("homes type:", "type: needs a value"),
    ("homes type:post type:topic", "Use type: once"),
    ("homes @", None),
    ("x" * 301, "at most 300 characters"),
    (" ".join(f"w{n}" for n in range(13)), "at most 12 words"),
    ("#Bad_Slug!", "is not a category"),
])
def test_malformed_queries_are_refused_with_a_message(app, text, message):
    if message is None:
        search.parse(text)  # a lone "@" is just a word
        return
    with pytest.raises(ValidationFailed) as refused:
        search.query(text, VISITOR)
    assert message in refused.value.errors[0]


def test_pages_are_bounded(corpus):
    with pytest.raises(ValidationFailed, match="up to page 50"):
        search.query("homes", VISITOR, page=51)


def test_filters_alone_list_newest_first_and_empty_finds_nothing(corpus):
    c = corpus
    assert found("@carys type:proposal", VISITOR) == [("proposal", c["welsh"].id),
                                                     ("proposal", c["proposal"].id)]
    assert search.query("", VISITOR).results == []
    assert search.query("the", VISITOR).results == []
    # What would find nothing for a reason the member can put right says so.
    for text, message in (("order:latest", "Add words"), ("in:title", "Add words")):
        with pytest.raises(ValidationFailed, match=message):
            search.query(text, VISITOR)


def test_a_category_of_a_process_is_searchable_by_its_slug(corpus):
    slug = db.session.scalar(select(Category.slug).where(
        Category.id == corpus["uk"].category_id))
    assert set(found(f"#{slug}", VISITOR)) >= {("proposal", corpus["proposal"].id),
                                              ("amendment", corpus["amendment"].id)}


def test_status_filters_follow_a_proposal_through_its_cycle(make, search_backend):  # noqa: F811
    """Intake, lab decisions, a new version, finalising, promotion and the outcome each
    change a status that `status:` filters on, so each reaches the index."""
    from forum.models import Ballot, Proposal, Section, SectionMembership
    from forum.services import ballots, intake, labs
    from tests.services.test_ballots import to_ballot_phase

    lead = make.user("lead")
    section = Section(name="Housing", slug="housing")
    db.session.add(section)
    db.session.flush()
    db.session.add(SectionMembership(section_id=section.id, user_id=lead.id, is_lead=True))
    process = make.process(lab_min_votes=1, lab_intake_max=1, support_threshold=1)
    proposal = make.proposal(process, title="Warm homes for everyone")
    other = make.proposal(process, title="Warm libraries in winter")
    db.session.get(Proposal, proposal.id).section_id = section.id
    db.session.commit()
    taken = make.amendment(proposal, start=2, end=2, text="Insulate every home by 2030.")
    left = make.amendment(proposal, start=3, end=3, text="Insulate every school by 2030.")
    voting.cast_vote(make.user(), taken.id, 1)
    deliberation.support_proposal(make.user(), proposal.id)

    def statuses(words):
        return {status: found(f"{words} status:{status}", VISITOR)
                for status in ("open", "in_lab", "not_selected", "accepted", "final",
                               "on_ballot", "not_qualified", "adopted")}

    lab = intake.close_amendment_window(lead, proposal.id, "Ready")
    assert statuses("insulate") == {
        "open": [], "in_lab": [("amendment", taken.id)],
        "not_selected": [("amendment", left.id)], "accepted": [], "final": [],
        "on_ballot": [], "not_qualified": [], "adopted": []}
    assert found("warm homes status:in_lab", VISITOR) == [("proposal", proposal.id)]
    labs.decide(lead, lab.id, {"decision": "accept", "amendment_id": taken.id, "note": "Yes."})
    assert found("insulate status:accepted", VISITOR) == [("amendment", taken.id)]
    labs.publish(lead, lab.id, "With the accepted amendment")
    assert found("insulate type:proposal", VISITOR) == [("proposal", proposal.id)]
    labs.finalise(lead, lab.id)
    assert found("warm homes status:final", VISITOR) == [("proposal", proposal.id)]

    to_ballot_phase(process)
    admin = make.admin()
    ballot = db.session.scalar(select(Ballot).where(Ballot.process_id == process.id))
    ballots.promote(admin, ballot.id)
    assert found("warm status:on_ballot", VISITOR) == [("proposal", proposal.id)]
    assert found("warm status:not_qualified", VISITOR) == [("proposal", other.id)]
    published = ballots.publish(admin, ballot.id)
    ballots.record_outcome(admin, published.items[0].id, "adopted")
    assert found("warm status:adopted", VISITOR) == [("proposal", proposal.id)]
    assert_consistent()
