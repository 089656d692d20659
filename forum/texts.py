"""Text from input: a form field or a JSON value."""
import re
import unicodedata

# Characters that show nothing though they are not spaces nor format characters: Hangul fillers,
# the blank braille pattern, the combining grapheme joiner and variation selectors.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f") | frozenset(
    chr(c) for c in (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)))
# Characters that reorder the rest of a line when a title is shown among others: the
# bidirectional embeddings, overrides and isolates. A title cannot close what it opens.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def as_text(value):
    """The value as text, trimmed, with line breaks as "\\n" whatever the browser sent
    (forms send "\\r\\n"); anything that is not a string (a number, a list, an object, null)
    reads as empty, so a field's own check says what is missing rather than storing "['x']"."""
    if not isinstance(value, str):
        return ""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def as_line(value):
    """A title or name: as_text on one line (every run of whitespace, line breaks among it, one
    space), without bidirectional controls. Mail subjects, exports and page titles take it as
    it is."""
    return " ".join(_BIDI_CONTROLS.sub("", as_text(value)).split())


def visible_length(text):
    """How many characters of `text` show: not spaces, nor invisible format characters such
    as zero-width spaces and soft hyphens, nor blank fillers, which would let a title or a reply
    look empty."""
    return sum(1 for ch in text if not ch.isspace() and ch not in _BLANK
               and unicodedata.category(ch) != "Cf")


def counted(number, word, plural=None):
    """ "1 support", "3 supports", "0 supports": a number with its noun agreeing."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"
