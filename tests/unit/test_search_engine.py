"""The search engine's repairs to Whoosh (forum/search/whoosh_patches.py) and the snippets'
own word matching (forum/search/snippets.py) give the answers Whoosh itself gives."""
import random

import pytest
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.fields import ID, TEXT, Schema

from forum.search import snippets, whoosh_patches
from forum.search.whoosh_backend import ANALYZER

DOCS = 6_000


def words_of(n):
    """Every document has "common"; "half" is in the even ones; "rare" in every 97th; "late" only
    in the last few hundred, as a word of this week's posts would be."""
    words = ["common", f"number{n}"]
    if n % 2 == 0:
        words.append("half")
    if n % 97 == 0:
        words.append("rare")
    if n >= DOCS - 300:
        words.append("late")
    return " ".join(words)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    path = tmp_path_factory.mktemp("whoosh")
    ix = whoosh_index.create_in(str(path), Schema(doc=ID(stored=True),
                                                  body=TEXT(analyzer=ANALYZER)))
    writer = ix.writer()
    for n in range(DOCS):
        writer.add_document(doc=str(n), body=words_of(n))
    writer.commit()
    with ix.searcher() as found:
        yield found


def postings(searcher, word):
    return searcher.reader().postings("body", word)


def test_the_posting_lists_span_many_blocks(searcher):
    matcher = postings(searcher, "common")
    blocks = 1
    while matcher.is_active():
        matcher.skip_to(matcher.block_max_id() + 1)
        blocks += matcher.is_active()
    assert blocks > 20  # else the test below would not exercise the block table


@pytest.mark.parametrize("word", ["common", "half", "rare", "late"])
def test_skip_to_lands_where_a_walk_through_every_posting_would(searcher, word):
    ids = [n for n in range(DOCS) if word in words_of(n).split()]
    assert list(postings(searcher, word).all_ids()) == ids
    rng = random.Random(word)
    targets = sorted({0, 1, ids[-1], ids[-1] + 1, DOCS + 5}
                     | {rng.randrange(DOCS + 10) for _ in range(300)}
                     | {i + d for i in ids[::128] for d in (-1, 0, 1)})
    # From a fresh matcher to each target, and one matcher stepping through them all.
    stepping = postings(searcher, word)
    for target in targets:
        expected = next((i for i in ids if i >= target), None)
        fresh = postings(searcher, word)
        fresh.skip_to(target)
        if stepping.is_active():
            stepping.skip_to(target)
        for matcher in (fresh, stepping):
            if expected is None:
                assert not matcher.is_active(), target
            else:
                assert matcher.is_active() and matcher.id() == expected, target
        if expected is not None:  # the rest of the list follows, posting by posting
            following = []
            while fresh.is_active() and len(following) < 3:
                following.append(fresh.id())
                fresh.next()
            assert following == ids[ids.index(expected):ids.index(expected) + 3]


def test_searches_find_exactly_the_matching_documents(searcher):
    def found(query):
        return {int(hit["doc"]) for hit in searcher.search(query, limit=None)}

    every = [words_of(n).split() for n in range(DOCS)]
    for words in (["half", "rare"], ["late", "half"], ["common", "late", "rare"], ["rare"]):
        query = wq.And([wq.Term("body", w) for w in words])
        assert found(query) == {n for n, have in enumerate(every) if set(words) <= set(have)}
    query = wq.Or([wq.Term("body", "rare"), wq.Term("body", "late")])
    assert found(query) == {n for n, have in enumerate(every) if {"rare", "late"} & set(have)}


def test_with_few_blocks_kept_or_none_searches_find_the_same(searcher, monkeypatch):
    for kept in (0, 3):
        monkeypatch.setattr(whoosh_patches, "DECODED_BLOCKS", kept)
        whoosh_patches._decoded.clear()
        test_searches_find_exactly_the_matching_documents(searcher)
        for word in ("common", "half", "rare", "late"):
            test_skip_to_lands_where_a_walk_through_every_posting_would(searcher, word)
        assert len(whoosh_patches._decoded) <= kept


def test_a_smaller_setting_shrinks_the_blocks_kept(searcher, monkeypatch, tmp_path):
    from forum.search.whoosh_backend import WhooshBackend

    monkeypatch.setattr(whoosh_patches, "DECODED_BLOCKS", whoosh_patches.DECODED_BLOCKS)
    test_searches_find_exactly_the_matching_documents(searcher)
    assert len(whoosh_patches._decoded) > 2
    WhooshBackend(str(tmp_path), decoded_blocks=2)
    assert len(whoosh_patches._decoded) == 2
    WhooshBackend(str(tmp_path), decoded_blocks=0)
    assert not whoosh_patches._decoded


def test_a_block_read_again_is_not_decoded_again(searcher):
    query = wq.And([wq.Term("body", "half"), wq.Term("body", "late")])
    first = [hit["doc"] for hit in searcher.search(query, limit=None)]
    decoded = []
    reader_class = type(postings(searcher, "half"))
    whoosh_read_data = reader_class._read_data
    reader_class._read_data = lambda self: (decoded.append(self), whoosh_read_data(self))[1]
    try:
        again = [hit["doc"] for hit in searcher.search(query, limit=None)]
    finally:
        reader_class._read_data = whoosh_read_data
    assert again == first and decoded == []


def test_skipping_to_the_newest_documents_reads_only_the_block_it_lands_in(searcher):
    postings(searcher, "common").skip_to(DOCS - 1)  # the list's table of blocks, made once
    matcher = postings(searcher, "common")
    read = []
    whoosh_goto = matcher._goto
    matcher._goto = lambda position: (read.append(position), whoosh_goto(position))
    matcher.skip_to(DOCS - 1)
    assert matcher.id() == DOCS - 1
    assert len(read) == 1


@pytest.mark.parametrize("stems", [{"librari"}, {"run", "cardiff"}, {"be", "2026", "être"},
                                   {"rent", "cap", "e.g"}, {"x"}, set()])
def test_snippets_mark_the_words_the_index_would_match(stems):
    words = ("The libraries' running runners ran Cardiff's rent-cap e.g. a.b.c is at BE being "
             "Être naïve 2026 x y IS").split()
    rng = random.Random(1)
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(30))
        expected = [(t.startchar, t.endchar) for t in ANALYZER(text, chars=True, positions=False)
                    if t.text in stems]
        assert snippets._matches(text, stems) == expected
