"""/search and /search.json: results, highlighting, pagination links, and malformed queries
answered with a message (never a 500), on both backends."""
import pytest

from forum.extensions import db
from forum.models import Post
from forum.services import deliberation, posts, voting
from tests.conftest import login
from tests.openapi_check import assert_documented
from tests.search_helpers import search_backend  # noqa: F401


@pytest.fixture
def topics(make, search_backend):  # noqa: F811
    author = make.user("carys")
    return [make.topic(user=author, title=f"Allotments in ward {n}",
                       raw=f"Growing food <together> in ward {n}.") for n in range(3)]


def test_search_json(client, topics):
    response = client.get("/search.json?q=allotments+order:latest")
    assert_documented(response, "GET", "/search.json")
    data = response.get_json()
    assert [r["id"] for r in data["results"]] == [t.id for t in reversed(topics)]
    first = data["results"][0]
    assert first["type"] == "topic" and first["url"] == f"/t/{topics[2].slug}/{topics[2].id}"
    assert first["title_html"] == "<mark>Allotments</mark> in ward 2"
    assert first["username"] == "carys" and data["more_url"] is None


def test_search_page_shows_escaped_snippets(client, topics):
    page = client.get("/search?q=growing").get_data(as_text=True)
    assert page.count('class="search-result"') == 3
    assert "<mark>Growing</mark> food" in page
    assert "<together>" not in page


def test_pages_link_to_the_next(client, make, topics, app):
    app.config["SEARCH_PER_PAGE"] = 2
    data = client.get("/search.json?q=allotments").get_json()
    assert len(data["results"]) == 2 and data["more_url"].startswith("/search.json?")
    rest = client.get(data["more_url"]).get_json()
    assert len(rest["results"]) == 1 and rest["more_url"] is None
    page = client.get("/search?q=allotments").get_data(as_text=True)
    assert 'rel="next"' in page


@pytest.mark.parametrize("q", ['"unclosed', "colour:red", "x" * 5000, "type:poem",
                               "before:someday", "#no-such-category"])
def test_malformed_queries_get_a_message(client, topics, q):
    response = client.get("/search.json", query_string={"q": q})
    assert response.status_code == 422
    assert_documented(response, "GET", "/search.json")
    assert response.get_json()["errors"][0]
    page = client.get("/search", query_string={"q": q})
    assert page.status_code == 422 and 'role="alert"' in page.get_data(as_text=True)


def test_odd_input_is_never_a_500(client, topics):
    for q in ["\x00", "@", "#", ":", "type:,,,", '""', "in:", "order:", "🙂 allotments",
              "a" * 300, "%s%s", "' OR 1=1 --", "\\", "after:2026-02-30"]:
        response = client.get("/search.json", query_string={"q": q})
        assert response.status_code in (200, 400, 422), (q, response.status_code)
        if response.status_code != 200:
            assert response.get_json()["errors"][0], q
    assert client.get("/search.json?page=abc").status_code == 200
    assert client.get("/search.json?q=allotments&page=99").status_code == 422


def test_the_page_without_a_query_explains_the_filters(client, app):
    page = client.get("/search").get_data(as_text=True)
    assert "How to search" in page and "order:latest" in page


def test_signed_in_members_see_the_same_public_results(client, make, topics):
    login(client, make.user())
    data = client.get("/search.json?q=allotments").get_json()
    assert len(data["results"]) == 3


def test_results_count_likes_supports_and_net_votes_by_their_names(client, make, topics):
    first = db.session.scalar(db.select(Post).where(Post.topic_id == topics[0].id))
    posts.like_post(make.user(), first.id)
    proposal = make.proposal(title="Allotments for every ward")
    deliberation.support_proposal(make.user(), proposal.id)
    deliberation.support_proposal(make.user(), proposal.id)
    item = make.amendment(proposal, text="Allotments, and orchards too.")
    for value in (1, 1, 1, -1):
        voting.cast_vote(make.user(), item.id, value)
    page = client.get("/search?q=allotments").get_data(as_text=True)
    assert " · 1 like</div>" in page and " · 2 supports</div>" in page
    assert " · net +2 in votes</div>" in page and " vote</div>" not in page


def test_a_one_word_search_lists_the_members_it_names(client, make, topics):
    make.user("carysdavies")
    make.user("dafydd")
    response = client.get("/search.json?q=carys")
    assert_documented(response, "GET", "/search.json")
    assert [u["username"] for u in response.get_json()["users"]] == ["carys", "carysdavies"]
    page = client.get("/search?q=CARYS").get_data(as_text=True)
    assert '<h2 id="search-members-title">Members</h2>' in page
    assert 'href="/u/carysdavies"' in page and 'href="/u/dafydd"' not in page
    # Not with a filter, or past the first page: those ask for posts.
    for q in ("carys type:topic", "carys @carys", '"carys"'):
        assert client.get("/search.json", query_string={"q": q}).get_json()["users"] == []
