"""The search query language, parsed without a database or an index."""
from datetime import datetime, timezone

import pytest

from forum.errors import ValidationFailed
from forum.search.parse import parse
from forum.search.snippets import highlight, snippet


def test_words_phrases_and_every_filter():
    q = parse('council homes "rent cap"  @Carys #housing type:amendment,clarification '
              "status:open scope:wales in:title after:2026-01-31 before:2026-03-01 order:votes")
    assert q.words == ["council", "homes"] and q.phrases == ["rent cap"]
    assert q.username == "carys" and q.category_slug == "housing"
    assert q.types == ("amendment", "clarification")
    assert q.statuses == ("open",) and q.scopes == ("wales",) and q.in_title
    assert q.after == datetime(2026, 1, 31, tzinfo=timezone.utc)
    assert q.before == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert q.order == "votes" and q.has_text and not q.is_empty


def test_filters_alone_and_nothing():
    assert not parse("@carys").has_text and not parse("@carys").is_empty
    assert parse("").is_empty and parse("   ").is_empty
    assert parse('""').is_empty  # an empty phrase is nothing to look for


def test_values_are_normalised():
    q = parse("TYPE:Post,post ORDER:Latest Scope:UK")
    assert q.types == ("post",) and q.order == "latest" and q.scopes == ("uk",)


def test_links_and_lone_symbols_are_words():
    assert parse("https://example.org/x").words == ["https://example.org/x"]
    assert parse("@ # 10:30").words == ["@", "#", "10:30"]


@pytest.mark.parametrize("text", ['"open', 'a "b" "c', "colour:red", "type:poem", "type:",
                                  "status:sleeping", "scope:mars", "in:body", "order:random",
                                  "after:tomorrow", "before:2026-02-30", "type:post type:topic",
                                  "@" + "x" * 61, "#Not_A_Slug", "z" * 301,
                                  "after:2026-03-02 before:2026-03-01",
                                  " ".join(["w"] * 13)])
def test_malformed(text):
    with pytest.raises(ValidationFailed) as refused:
        parse(text)
    assert refused.value.field_errors["q"][0]


def test_highlight_marks_stems_and_escapes():
    from forum.search.snippets import query_stems

    stems = query_stems(parse("housing"))
    assert str(highlight("New <houses> & homes", stems)) == \
        "New &lt;<mark>houses</mark>&gt; &amp; homes"


def test_snippet_is_a_window_around_the_matches():
    from forum.search.snippets import query_stems

    text = "Filler words. " * 50 + "The bus fare matters. " + "More filler. " * 50
    out = str(snippet(text, query_stems(parse("fare"))))
    assert "<mark>fare</mark>" in out and out.startswith("…") and out.endswith("…")
    assert len(out) < 300
    assert str(snippet("short text", set())) == "short text"
