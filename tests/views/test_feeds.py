"""Atom feeds: well-formed XML, escaped content, and only what a visitor may find."""
import xml.etree.ElementTree as ET

from forum.db import write_transaction
from forum.extensions import db
from forum.models import Topic
from forum.services import amendments, deliberation

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.data)  # raises on anything not well-formed
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None
    for entry in feed.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated", "link", "author"):
            assert entry.find(f"{ATOM}{required}") is not None, required
    return feed


def titles(feed):
    return [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]


def test_latest_topics_escape_titles_and_content(client, make):
    make.topic(title='Fares & "free" <buses>', raw="Buses **now**, and <script>x</script> 5 < 6.")
    make.topic(title="Control\x01characters in a title")
    feed = parse(client.get("/latest.atom"))
    assert titles(feed) == ["Controlcharacters in a title", 'Fares & "free" <buses>']
    content = feed.findall(f"{ATOM}entry")[-1].find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<strong>now</strong>" in content.text and "<script>" not in content.text


def test_a_category_feed_lists_only_its_topics_and_not_hidden_ones(client, make):
    cat, other = make.category("Energy"), make.category("Water")
    kept = make.topic(category=cat, title="Community solar schemes")
    make.topic(category=other, title="Reservoir levels this summer")
    gone = make.topic(category=cat, title="An unlisted topic here")
    with write_transaction():
        db.session.get(Topic, gone.id).visible = False
    feed = parse(client.get(f"/c/{cat.slug}/{cat.id}.atom"))
    assert titles(feed) == [kept.title]
    assert client.get("/c/x/9999.atom").status_code == 404


def test_a_process_feed_lists_its_proposals_but_not_withdrawn_ones(client, make):
    process = make.process()
    author = make.user()
    kept = make.proposal(process, user=author, title="Free school meals for all")
    withdrawn = make.proposal(process, user=author, title="A proposal taken back")
    deliberation.withdraw_proposal(author, withdrawn.id)
    make.proposal(make.process(), title="In another process")
    feed = parse(client.get(f"/processes/{process.id}/proposals.atom"))
    assert titles(feed) == [kept.title]
    # Nor its thread in the latest topics, though the thread is still read by its link.
    assert withdrawn.title not in titles(parse(client.get("/latest.atom")))
    assert kept.title in titles(parse(client.get("/latest.atom")))
    assert client.get(f"/proposals/{withdrawn.id}").status_code == 200
    assert feed.find(f"{ATOM}entry").findtext(f"{ATOM}content") == \
        "<p>More council homes, paid for by land value capture.</p>"


def test_a_proposal_feed_lists_its_amendments_but_not_withdrawn_ones(client, make):
    proposal = make.proposal()
    author = make.user("eira")
    kept = make.amendment(proposal, user=author, text="Rents capped at a quarter <of> income.")
    gone = make.amendment(proposal, user=author, start=3, end=3, text="Something withdrawn.")
    amendments.withdraw_item(author, gone.id)
    make.amendment(proposal, kind="clarification", start=4, end=4,
                   text="Which repairs are meant here?")
    feed = parse(client.get(f"/proposals/{proposal.id}/amendments.atom"))
    asker = db.session.get(type(kept), kept.id + 2).user.username
    assert titles(feed) == [f"Clarification #{kept.id + 2} of paragraph 4 by {asker}",
                            f"Amendment #{kept.id} to paragraph 2 by eira"]
    content = feed.findall(f"{ATOM}entry")[1].findtext(f"{ATOM}content")
    # The cooked HTML, escaped once in the XML: the member's "<of>" stays text.
    assert "Rents capped at a quarter &lt;of&gt; income." in content
    assert client.get("/proposals/9999/amendments.atom").status_code == 404


def test_each_feed_is_announced_by_the_page_it_follows(client, make):
    import re

    proposal = make.proposal()
    category = make.category()
    pages = {"/latest": "/latest.atom",
             f"/c/{category.slug}/{category.id}": f"/c/{category.slug}/{category.id}.atom",
             f"/processes/{proposal.process_id}":
                 f"/processes/{proposal.process_id}/proposals.atom",
             f"/proposals/{proposal.id}": f"/proposals/{proposal.id}/amendments.atom"}
    for page, feed in pages.items():
        html = client.get(page).get_data(as_text=True)
        announced = re.findall(
            r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="([^"]+)">',
            html)
        assert announced == [feed], page
        parse(client.get(feed))
