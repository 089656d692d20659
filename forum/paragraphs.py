"""Numbered paragraphs of Markdown, range replacement, and word-level diffs."""
import difflib
import re

# Words (with their apostrophes: "don't", "members'"), single punctuation marks and runs of
# space: "standard." becoming "standard, with gardens." inserts ", with gardens" and leaves the
# word and its full stop alone.
_TOKEN = re.compile(r"\s+|\w+(?:['’]\w+)*|[^\w\s]")


def word_diff(before, after):
    """Word-level diff as a list of (op, text), op being '=', '-' or '+'; whitespace kept."""
    a, b = _TOKEN.findall(before or ""), _TOKEN.findall(after or "")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", "".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(("-", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(("+", "".join(b[j1:j2])))
    return out


def paragraph_diff(before, after):
    """Two texts compared paragraph by paragraph, every paragraph of either once, in order:
    [(its number before or None, its number after or None, word_diff of it)]. A paragraph
    changed in place keeps both numbers; one deleted has no number after, one inserted none
    before."""
    a, b = split(before), split(after)
    rows = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [(i + 1, j + 1, [("=", a[i])]) for i, j in zip(range(i1, i2), range(j1, j2))]
            continue
        paired = min(i2 - i1, j2 - j1) if op == "replace" else 0
        rows += [(i1 + k + 1, j1 + k + 1, word_diff(a[i1 + k], b[j1 + k])) for k in range(paired)]
        rows += [(i + 1, None, [("-", a[i])]) for i in range(i1 + paired, i2)]
        rows += [(None, j + 1, [("+", b[j])]) for j in range(j1 + paired, j2)]
    return rows


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^ {0,3}([-*+]|\d{1,9}[.)])\s")
_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_RULE = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")
_INDENTED = re.compile(r"^( {4}|\t)")


def _blocks(markdown):
    """(blocks, whether a code fence was left open at the end)."""
    lines = (markdown or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks, current = [], []
    fence = None
    in_list = False

    def flush():
        nonlocal current, in_list
        text = "\n".join(current).strip("\n")
        if text.strip():
            blocks.append(text.rstrip())
        current, in_list = [], False

    def next_text(i):
        """The index of the next line with text after line i (or len(lines))."""
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        return j

    i = 0
    while i < len(lines):
        line = lines[i]
        if fence:
            current.append(line)
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]} \
                    and len(line.strip()) >= len(fence):
                fence = None
                if not in_list:  # a fence inside a list item leaves the list going on
                    flush()
            i += 1
            continue
        match = _FENCE.match(line)
        if match:
            if not in_list:
                flush()
            fence = match.group(1)
            current.append(line)
            i += 1
            continue
        if not line.strip():
            j = next_text(i)
            # A list goes on past a blank line if the next text is an item or indented; an
            # indented code block goes on if the next text is indented too.
            if j < len(lines) and (
                    (in_list and not _RULE.match(lines[j])
                     and (_LIST_ITEM.match(lines[j]) or lines[j].startswith(("  ", "\t"))))
                    or (current and all(_INDENTED.match(c) or not c.strip() for c in current)
                        and _INDENTED.match(lines[j]))):
                current.extend(lines[i:j])
                i = j
                continue
            flush()
            i += 1
            continue
        rule = _RULE.match(line)
        if (_HEADING.match(line) and not in_list) or (
                rule and not _INDENTED.match(line)
                # Under a line of text, a row of dashes underlines it as a heading.
                and not (rule.group(1) == "-" and current and not in_list)):
            # A heading or a rule stands alone, even without blank lines around it.
            flush()
            current.append(line)
            flush()
            i += 1
            continue
        if _LIST_ITEM.match(line) and not current:
            in_list = True
        current.append(line)
        i += 1
    flush()
    return blocks, fence is not None


def split(markdown):
    """Split Markdown into its top-level blocks: the numbered paragraphs of a proposal.

    Blocks are separated by blank lines; a fenced code block is one block whatever it holds,
    a list (items and their indented continuations, across blank lines, fenced code in its
    items included) is one block, so is an indented code block across blank lines, and an ATX
    heading or a thematic break stands alone even without blank lines around it.
    """
    return _blocks(markdown)[0]


def unclosed_fence(markdown):
    """Whether the text opens a code fence it never closes (which would swallow every
    paragraph after it)."""
    return _blocks(markdown)[1]


UNCLOSED_FENCE = ("A code block opened with ``` (or ~~~) is not closed: close it with the same "
                  "marks on a line of their own.")


_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:[ \t]*\S.*$")


def cook_blocks(blocks, cook):
    """Each block cooked on its own, as the page numbers them, but with the reference-link
    definitions of the whole text ("[1]: https://..."), which may stand in another block."""
    definitions = "\n".join(line for block in blocks for line in block.split("\n")
                            if _DEFINITION.match(line))
    return [cook(f"{block}\n\n{definitions}" if definitions else block) for block in blocks]


def join(blocks):
    return "\n\n".join(block.strip("\n") for block in blocks) + ("\n" if blocks else "")


def check_range(count, start, end):
    """The reason a range is invalid for a text of `count` paragraphs, or None.

    start..end is inclusive; an insertion is the empty range start = end + 1 (insert before
    paragraph start, or at the end when start = count + 1).
    """
    if not isinstance(start, int) or not isinstance(end, int):
        return "Paragraph numbers must be whole numbers."
    if start < 1 or start > count + 1:
        return f"Paragraph {start} does not exist: this text has paragraphs 1 to {count}."
    if end < start - 1:
        return "The range ends before it starts."
    if end > count:
        return f"Paragraph {end} does not exist: this text has paragraphs 1 to {count}."
    return None


def replace_range(blocks, start, end, text):
    """The blocks with start..end replaced by the blocks of `text` (empty text deletes)."""
    return blocks[: start - 1] + split(text) + blocks[end:]


def normalise(text):
    return re.sub(r"\s+", " ", text or "").strip()


def range_words(start, end):
    """Where an amendment or clarification applies, in the same words on every page and in
    feeds and search: "paragraph 3", "paragraphs 3–5", "new text after paragraph 2"."""
    if end < start:
        return f"new text after paragraph {end}" if end else "new text before paragraph 1"
    return f"paragraph {start}" if start == end else f"paragraphs {start}–{end}"


def item_heading(kind, start, end, number=None):
    """ "Amendment to paragraphs 3–5", "Amendment inserting new text after paragraph 2",
    "Clarification of paragraph 3"; with the item's number, "Amendment #12 to paragraphs 3–5".
    (An item's number is its id, which never changes; its rank does.)"""
    name = f"{kind.capitalize()} #{number}" if number is not None else kind.capitalize()
    if kind == "clarification":
        return f"{name} of {range_words(start, end)}"
    return f"{name} {'inserting' if end < start else 'to'} {range_words(start, end)}"
