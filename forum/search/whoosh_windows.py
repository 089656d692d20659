"""Ranking a Whoosh query's matches within windows of the newest documents (windows.py).

Two plans give the same answers. A query that can match only a few documents (a member's
posts, a rare word) takes all its matches in one pass and sorts them into windows by age. Any
other walks the windows, newest first, looking only at each window's documents, until a window
holds enough matches: the work follows the window, not the matches, so a word found in half
the forum is ranked among a few hundred recent uses. Each window adds only the documents the
one before it did not hold (its ring), so no document is looked at twice.
"""
import heapq
from array import array
from bisect import bisect_left
from itertools import islice, takewhile

from whoosh.collectors import TopCollector, UnlimitedCollector, UnsortedCollector

from . import windows

# A query that can match at most this many documents is ranked from all its matches at once.
FEW_MATCHES = 2_000


def rank(searcher, query, keep, created_of, order_key, needed, enough, relevance):
    """Document numbers of the best `needed` matches that `keep` keeps, in the first window
    holding `enough` of them (every match when `enough` is None). Relevance ranks by score,
    otherwise by `order_key(docnum)`, highest first."""
    if relevance:
        # Best score first, then the lower document number, as Whoosh's top-N collector.
        def best(entries):
            return [-docnum for _, docnum in heapq.nlargest(needed, entries)]
    else:
        def best(entries):
            return heapq.nlargest(needed, entries, key=order_key)
    sizes = tuple(windows.SIZES) if enough is not None else ()
    if query.estimate_size(searcher.reader()) <= FEW_MATCHES:
        found = _gather(searcher, query, keep, relevance)
        created = (lambda entry: created_of[-entry[1]]) if relevance else created_of.__getitem__
        for size in sizes:
            window = newest(searcher, size)
            if window is not None:
                inside = [entry for entry in found if created(entry) >= window.cut]
                if len(inside) >= enough:
                    return best(inside)
        return best(found)
    found = []
    for size in sizes:
        window = newest(searcher, size)
        if window is None:
            continue  # no more documents than that: look at them all
        found += _gather(searcher, query, keep, relevance, window.ring)
        if len(found) >= enough:
            return best(found)
    if relevance:  # every document: the top N, skipping blocks that cannot reach it
        collector = _KeepingTopCollector(needed, keep)
        searcher.search_with_collector(query, collector)
        return [docnum for _, docnum in collector.results().top_n]
    return best(_gather(searcher, query, keep, relevance))


def _gather(searcher, query, keep, relevance, window=None):
    """Every match `keep` keeps (in `window`, if given): (score, -docnum) for relevance, else
    document numbers."""
    if relevance:
        collector = _ScoredGatherer(keep, window)
        searcher.search_with_collector(query, collector)
        return [(score, -docnum) for score, docnum in collector.items]
    gatherer = _Gatherer(keep, window)
    searcher.search_with_collector(query, gatherer)
    return gatherer.found


class Window:
    """The newest `size` documents: `cut`, the creation time of the oldest of them; `docs` and
    `ring`, {leaf offset: ascending local document numbers} of all of them and of those the
    next smaller window does not hold."""

    __slots__ = ("cut", "docs", "ring")

    def __init__(self, cut, docs, ring):
        self.cut, self.docs, self.ring = cut, docs, ring


_newest_cache = {}
_window_cache = {}


def newest(searcher, size):
    """The Window of the newest `size` documents, or None when the index holds no more than
    that. Each segment's documents, newest first, are listed once per process, and each window
    once per set of segments: segments never change."""
    leaves = []
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        key = (reader.segment().segment_id(), reader.doc_count_all())
        leaves.append((offset, key, reader))
    window_key = (tuple(key for _, key, _ in leaves), size)
    if window_key in _window_cache:
        return _window_cache[window_key]
    newest_of = []
    for offset, key, reader in leaves:
        listed = _newest_cache.get(key)
        if listed is None:
            # Two compact arrays, newest first: creation times and document numbers.
            pairs = sorted(((created, local) for local, created in
                            enumerate(reader.column_reader("created"))), reverse=True)
            listed = (array("q", (created for created, _ in pairs)),
                      array("i", (local for _, local in pairs)))
            if len(_newest_cache) > 64:
                _newest_cache.clear()
            _newest_cache[key] = listed
        newest_of.append((offset, listed))
    window = None
    if sum(len(created) for _, (created, _) in newest_of) > size:
        cut = next(islice(heapq.merge(*(created for _, (created, _) in newest_of),
                                      reverse=True), size - 1, None))
        docs = {}
        for offset, (created, local) in newest_of:
            inside = sum(1 for _ in takewhile(lambda c: c >= cut, created))
            if inside:
                docs[offset] = array("i", sorted(local[:inside]))
        smaller = [s for s in windows.SIZES if s < size]
        before = newest(searcher, max(smaller)) if smaller else None
        ring = docs if before is None else {
            offset: array("i", sorted(set(leaf) - set(before.docs.get(offset, ()))))
            for offset, leaf in docs.items()}
        window = Window(cut, docs, ring)
    if len(_window_cache) > 4 * len(windows.SIZES):
        _window_cache.clear()
    _window_cache[window_key] = window
    return window


class _KeepingTopCollector(TopCollector):
    """Whoosh's top-N collector, with block-max skipping intact, over the documents a predicate
    keeps (a filter=/mask= search walks every match instead)."""

    def __init__(self, limit, keep):
        TopCollector.__init__(self, limit=limit, usequality=True)
        self.keep = keep

    def collect(self, sub_docnum):
        if not self.keep(self.offset + sub_docnum):
            return 0
        return TopCollector.collect(self, sub_docnum)


class _InWindow:
    """With `window` ({leaf offset: ascending document numbers}), a collector looks only at
    those documents: the matcher skips to the next window document, and the walk through the
    window jumps to the matcher's next match, whichever is further ahead."""

    window = None

    def collect_matches(self):
        if self.window is None:
            for sub_docnum in self.matches():
                self.collect(sub_docnum)
            return
        matcher = self.matcher
        docs = self.window.get(self.offset, ())
        at, end = 0, len(docs)
        while at < end and matcher.is_active():
            local, found = docs[at], matcher.id()
            if found < local:
                matcher.skip_to(local)
                if not matcher.is_active():
                    return
                found = matcher.id()
            if found == local:
                self.collect(local)
                at += 1
            else:
                at = bisect_left(docs, found, at + 1)


class _ScoredGatherer(_InWindow, UnlimitedCollector):
    """Every matching document a predicate keeps, with its score, in `items`."""

    def __init__(self, keep, window=None):
        UnlimitedCollector.__init__(self)
        self.keep, self.window = keep, window

    def collect(self, sub_docnum):
        if not self.keep(self.offset + sub_docnum):
            return 0
        return UnlimitedCollector.collect(self, sub_docnum)


class _Gatherer(_InWindow, UnsortedCollector):
    """Every matching document a predicate keeps, unscored, in `found`."""

    def __init__(self, keep, window=None):
        UnsortedCollector.__init__(self)
        self.keep, self.window, self.found = keep, window, []

    def collect(self, sub_docnum):
        if self.keep(self.offset + sub_docnum):
            self.found.append(self.offset + sub_docnum)
