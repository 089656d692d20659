"""Highlighted snippets, made from the database's text at query time, so both backends show
the same thing and nothing unescaped reaches the page."""
from functools import lru_cache

from markupsafe import Markup, escape

from .whoosh_backend import ANALYZER

SNIPPET_CHARS = 240

# The parts of ANALYZER (tokenizer, lowercase, stop words, stemmer), to find the words of a text
# the index would have stemmed to one of the query's stems without running a whole text through
# Whoosh's chain of generators, one Token object per word.
_TOKENIZER, _, _STOP, _STEM = ANALYZER.items
_stem = lru_cache(maxsize=50_000)(_STEM.stemfn)


def query_stems(q):
    """The stems of the query's words and phrases, as the index analysed them."""
    return {t.text for words in q.words + q.phrases for t in ANALYZER(words)}


def _matches(text, stems):
    if not stems:
        return []
    found = []
    stops, shortest = _STOP.stops, _STOP.min
    for match in _TOKENIZER.expression.finditer(text):
        word = match.group().lower()
        if len(word) >= shortest and word not in stops and _stem(word) in stems:
            found.append(match.span())
    return found


def highlight(text, stems):
    """All of `text`, escaped, with matching words in <mark>."""
    return _marked(text, _matches(text, stems), 0, len(text))


def snippet(text, stems, length=SNIPPET_CHARS):
    """About `length` characters of `text` around the first cluster of matches, escaped, with
    matching words in <mark>; the start of the text when nothing matches."""
    matches = _matches(text, stems)
    if len(text) <= length:
        return _marked(text, matches, 0, len(text))
    start = 0
    if matches:
        # The window that holds the most matches, starting a little before its first.
        best, best_count = matches[0][0], 0
        for i, (first, _) in enumerate(matches):
            count = sum(1 for s, _ in matches[i:] if s < first + length - 40)
            if count > best_count:
                best, best_count = first, count
        start = max(0, best - 40)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < best else start
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return _marked(text, matches, start, end)


def _marked(text, matches, start, end):
    out = [Markup("…") if start > 0 else Markup("")]
    at = start
    for s, e in matches:
        if s < start or e > end:
            continue
        out.append(escape(text[at:s]))
        out.append(Markup("<mark>") + escape(text[s:e]) + Markup("</mark>"))
        at = e
    out.append(escape(text[at:end]))
    if end < len(text):
        out.append(Markup("…"))
    return Markup("").join(out)
