"""Ranking a Whoosh query's matches within windows of the newest documents (windows.py).

Two plans give the same answers. A query that can match only a few documents (a member's
posts, a rare word) takes all its matches in one pass and sorts them into windows by age. Any
other walks the windows one by one, newest first, looking only at each window's documents,
until a window holds enough matches: the work follows the window, not the matches, so a word
found in half the forum is ranked among a few hundred recent uses.
"""
import heapq
from array import array
from itertools import islice, takewhile

from whoosh.collectors import TopCollector, UnlimitedCollector, UnsortedCollector

from . import windows

# A query that can match at most this many documents is ranked from all its matches at once.
FEW_MATCHES = 2_000


def rank(searcher, query, keep, created_of, order_key, needed, enough, relevance):
    """Document numbers of the best `needed` matches that `keep` keeps, in the first window
    holding `enough` of them (every match when `enough` is None). Relevance ranks by score,
    otherwise by `order_key(docnum)`, highest first."""
    if query.estimate_size(searcher.reader()) <= FEW_MATCHES:
        return _from_all_matches(searcher, query, keep, created_of, order_key, needed, enough,
                                 relevance)
    for size in (tuple(windows.SIZES) if enough is not None else ()) + (None,):
        found = newest(searcher, size) if size else None
        if size and found is None:
            continue  # no more documents than that: look at them all
        window = found[1] if found else None
        if relevance:
            collector = _KeepingTopCollector(needed, keep, window)
            searcher.search_with_collector(query, collector)
            if window is not None and collector.kept < enough:
                continue
            return [docnum for _, docnum in collector.results().top_n]
        gatherer = _Gatherer(keep, window)
        searcher.search_with_collector(query, gatherer)
        if window is not None and len(gatherer.found) < enough:
            continue
        return heapq.nlargest(needed, gatherer.found, key=order_key)


def _from_all_matches(searcher, query, keep, created_of, order_key, needed, enough, relevance):
    if relevance:
        collector = _ScoredGatherer(keep)
        searcher.search_with_collector(query, collector)
        # Best score first, then the lower document number, as Whoosh's top-N collector.
        found = [(score, -docnum) for score, docnum in collector.items]
        created = lambda entry: created_of[-entry[1]]  # noqa: E731
        best = lambda entries: [-docnum for _, docnum in heapq.nlargest(needed, entries)]  # noqa: E731,E501
    else:
        gatherer = _Gatherer(keep)
        searcher.search_with_collector(query, gatherer)
        found, created = gatherer.found, created_of.__getitem__
        best = lambda entries: heapq.nlargest(needed, entries, key=order_key)  # noqa: E731
    for size in (tuple(windows.SIZES) if enough is not None else ()):
        window = newest(searcher, size)
        if window is None:
            continue
        cut = window[0]
        inside = [entry for entry in found if created(entry) >= cut]
        if len(inside) >= enough:
            return best(inside)
    return best(found)


_newest_cache = {}
_window_cache = {}


def newest(searcher, size):
    """The newest `size` documents: (cut, {leaf offset: ascending local document numbers}),
    where cut is the creation time of the oldest of them, or None when the index holds no
    more than that. Each segment's documents, newest first, are listed once per process,
    and each window once per set of segments: segments never change."""
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
        chosen = {}
        for offset, (created, local) in newest_of:
            inside = sum(1 for _ in takewhile(lambda c: c >= cut, created))
            if inside:
                chosen[offset] = array("i", sorted(local[:inside]))
        window = (cut, chosen)
    if len(_window_cache) > 4 * len(windows.SIZES):
        _window_cache.clear()
    _window_cache[window_key] = window
    return window


class _KeepingTopCollector(TopCollector):
    """Whoosh's top-N collector, with block-max skipping intact, over the documents a predicate
    keeps (a filter=/mask= search walks every match instead). With `window` ({leaf offset:
    ascending document numbers}) it looks only at those documents, skipping straight to each."""

    def __init__(self, limit, keep, window=None):
        TopCollector.__init__(self, limit=limit, usequality=window is None)
        self.keep, self.window = keep, window
        self.kept = 0  # exact only in a window (no block skipping there)

    def collect_matches(self):
        if self.window is None:
            TopCollector.collect_matches(self)
        else:
            _walk_window(self, self.collect)

    def collect(self, sub_docnum):
        if not self.keep(self.offset + sub_docnum):
            return 0
        self.kept += 1
        return TopCollector.collect(self, sub_docnum)


class _ScoredGatherer(UnlimitedCollector):
    """Every matching document a predicate keeps, with its score, in `items`."""

    def __init__(self, keep):
        UnlimitedCollector.__init__(self)
        self.keep = keep

    def collect(self, sub_docnum):
        if not self.keep(self.offset + sub_docnum):
            return 0
        return UnlimitedCollector.collect(self, sub_docnum)


class _Gatherer(UnsortedCollector):
    """Every matching document a predicate keeps (in `window`, if given), unscored."""

    def __init__(self, keep, window=None):
        UnsortedCollector.__init__(self)
        self.keep, self.window, self.found = keep, window, []

    def collect_matches(self):
        if self.window is None:
            for sub_docnum in self.matches():
                self.collect(sub_docnum)
        else:
            _walk_window(self, self.collect)

    def collect(self, sub_docnum):
        if self.keep(self.offset + sub_docnum):
            self.found.append(self.offset + sub_docnum)


def _walk_window(collector, collect):
    """Call collect(docnum) for each window document of this leaf that the query matches: the
    matcher skips to each in turn, so the work follows the window, not the matches."""
    matcher = collector.matcher
    for local in collector.window.get(collector.offset, ()):
        if not matcher.is_active():
            return
        if matcher.id() < local:
            matcher.skip_to(local)
            if not matcher.is_active():
                return
        if matcher.id() == local:
            collect(local)
