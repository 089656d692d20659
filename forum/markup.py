"""Markdown to safe HTML, once at write time: cook(raw) -> sanitised HTML."""
import re
import xml.etree.ElementTree as etree
from functools import lru_cache

# Bump when cooking changes; `flask forum recook` re-renders rows with an older version.
COOK_VERSION = 6

HEADING_LEVELS = {f"h{n}": f"h{min(n + 2, 6)}" for n in range(1, 7)}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
ALLOWED_PROTOCOLS = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"
ALLOWED_CLASSES = {"mention"}

MENTION_RE = r"(?<![\w@/])@([A-Za-z0-9][A-Za-z0-9_.-]{1,29})\b"


@lru_cache(maxsize=1)
def _machinery():
    """Markdown, bleach and nh3, imported when something is first cooked: they take about
    5 MB, and a worker that only serves pages never needs them."""
    import bleach
    import markdown
    import nh3
    from bleach import linkifier
    from bleach.linkifier import Linker, LinkifyFilter
    from markdown.inlinepatterns import InlineProcessor
    from markdown.treeprocessors import Treeprocessor

    class MentionProcessor(InlineProcessor):
        # A mention in a link's text (a quote's "@name wrote" line) stays text: a link in a
        # link is two broken ones. Mentions are looked for after links (priority below the
        # link pattern's 160), so that a link's text is searched as the link's.
        ANCESTOR_EXCLUDES = ("a",)

        def handleMatch(self, m, data):
            known = getattr(self.md, "known_mentions", None)
            if known is not None and m.group(1).lower() not in known:
                return None, None, None  # no member of that name: the text stays text
            el = etree.Element("a")
            el.set("href", f"/u/{m.group(1).lower()}")
            el.set("class", "mention")
            el.text = "@" + m.group(1)
            return el, m.start(0), m.end(0)

    class HeadingLevels(Treeprocessor):
        """A member's headings sit under the page's own: the page's title is its h1 and its
        sections h2 (a proposal's "Text"), so "# Heading" in a post or a proposal is an h3, and
        each level below it one further, h6 at most."""

        def run(self, root):
            for el in root.iter():
                if el.tag in HEADING_LEVELS:
                    el.tag = HEADING_LEVELS[el.tag]

    class ForumExtension(markdown.Extension):
        """Mentions, and headings under the page's own."""

        def extendMarkdown(self, md):
            md.inlinePatterns.register(MentionProcessor(MENTION_RE, md), "mention", 105)
            md.treeprocessors.register(HeadingLevels(md), "heading_levels", 5)

    def new_markdown():
        # No attr_list, md_in_html or raw HTML: nothing a member types becomes an attribute.
        return markdown.Markdown(
            extensions=["fenced_code", "tables", "sane_lists", "pymdownx.tilde",
                        ForumExtension()],
            # ~~struck~~ as in Discourse; a single ~ stays a tilde ("~5 people"), not subscript.
            extension_configs={"tables": {"use_align_attribute": True},
                               "pymdownx.tilde": {"subscript": False}},
            output_format="html",
        )

    class CodeSafeLinkifyFilter(LinkifyFilter):
        """bleach 6.4's filter passes the text inside skip_tags on with its entities unparsed,
        so the serializer escapes their "&" again: `<b>` in code showed as "&lt;b&gt;"."""

        def __iter__(self):
            skipping = None
            for token in super().__iter__():
                kind = token["type"]
                if kind in ("StartTag", "EmptyTag") and skipping is None \
                        and token["name"] in self.skip_tags:
                    skipping = token["name"]
                elif kind == "EndTag" and token["name"] == skipping:
                    skipping = None
                elif skipping and kind == "Characters":
                    yield from self.extract_entities(token)
                    continue
                yield token

    class CodeSafeLinker(Linker):
        def linkify(self, text):
            filtered = CodeSafeLinkifyFilter(
                source=self.walker(self.parser.parseFragment(text)), callbacks=self.callbacks,
                skip_tags=self.skip_tags, parse_email=self.parse_email, url_re=self.url_re,
                email_re=self.email_re)
            return self.serializer.render(filtered)

    # bleach's URL pattern begins with "\(*" and so tries every paren of a run as the start of
    # a URL: "(" * 30000 took 17 s. Starting only at the first paren of a run finds the same
    # URLs in linear time.
    url_re = linkifier.build_url_re()
    if not url_re.pattern.startswith(r"\(*"):
        raise RuntimeError("bleach's URL pattern no longer starts with \\(*: review markup.py")
    url_re = re.compile(r"(?<!\()" + url_re.pattern, url_re.flags)
    linker = CodeSafeLinker(callbacks=[_linkify_callback], skip_tags={"pre", "code"},
                            parse_email=False, url_re=url_re)
    return bleach, nh3, linker, new_markdown


def _bleach_attrs(tag, name, value):
    if name == "class":
        return tag == "a" and value in ALLOWED_CLASSES
    return name in ALLOWED_ATTRIBUTES.get(tag, ())


_SCHEME_OR_WWW = re.compile(r"[a-z][a-z0-9+.-]*:|www\.", re.I)


def _linkify_callback(attrs, new=False):
    if new and not _SCHEME_OR_WWW.match(text := attrs.get("_text", "")):
        # A bare domain is a link only if its last part is in lower case: "there.It was" is
        # a missing space after a full stop, not the Italian site "there.it".
        top = re.split(r"[/?#:]", text, maxsplit=1)[0].rsplit(".", 1)[-1]
        if top != top.lower():
            return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


def sanitise(html):
    """Two independent gates with the same allowlist: bleach, then nh3."""
    bleach, nh3, linker, _new_markdown = _machinery()
    html = bleach.clean(html, tags=ALLOWED_TAGS, attributes=_bleach_attrs,
                        protocols=ALLOWED_PROTOCOLS, strip=True, strip_comments=True)
    html = linker.linkify(html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={tag: set(attrs) - {"class"} for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=ALLOWED_PROTOCOLS,
        link_rel=LINK_REL,
        allowed_classes={"a": ALLOWED_CLASSES},
        strip_comments=True,
    )


_member_lookup = None


def set_member_lookup(lookup):
    """`lookup(names)` says which of these lower-case usernames are members (None: unknown).
    The app sets it, so that an @name links to a profile only where there is one."""
    global _member_lookup
    _member_lookup = lookup


# Python-Markdown looks for the end of a link from every "[" through the rest of its paragraph,
# a character at a time: "[" * 30000 took three minutes to cook, and 500 brackets before 29,500
# letters four seconds. A paragraph whose brackets times its length pass this budget (about a
# third of a second, for the whole text) shows its brackets as typed instead of as links, the
# costliest first; code keeps them anyway.
LINK_SCAN_BUDGET = 1_500_000
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s")


def defuse_brackets(raw):
    """The text with "[" escaped outside code in the paragraphs too costly to cook."""
    if raw.count("[") * len(raw) <= LINK_SCAN_BUDGET:
        return raw
    lines = raw.split("\n")
    in_code = _fenced_lines(lines)
    paragraphs, current = [], []
    for n, line in enumerate(lines + [""]):
        # A list item is cooked on its own, like a paragraph.
        if n in in_code or not line.strip() or _LIST_ITEM.match(line):
            text = [lines[i] for i in current]
            paragraphs.append((sum(map(len, text)) * sum(t.count("[") for t in text), current))
            current = [] if n in in_code or not line.strip() else [n]
        else:
            current.append(n)
    # The costliest paragraphs first, until what is left fits the budget.
    total, costly = sum(cost for cost, _ in paragraphs), set()
    for cost, numbers in sorted(paragraphs, key=lambda p: -p[0]):
        if total <= LINK_SCAN_BUDGET:
            break
        costly.update(numbers)
        total -= cost
    return "\n".join(_escape_outside_spans(line) if n in costly else line
                     for n, line in enumerate(lines))


def _escape_outside_spans(line):
    # As a character reference, not a backslash escape, which a backslash before it would undo.
    parts, end = [], 0
    for span in _CODE_SPAN.finditer(line):
        parts += [line[end:span.start()].replace("[", "&#91;"), span.group(0)]
        end = span.end()
    return "".join(parts) + line[end:].replace("[", "&#91;")


def _fenced_lines(lines):
    """Indexes of the lines of fenced code blocks, fences included, as Python-Markdown finds
    them: from a fence to the next line that starts with the same fence. A fence never closed
    opens no block. Linear in the number of lines, whatever the fences."""
    fences = [(m.group(1) if (m := _FENCE.match(line)) else None) for line in lines]
    following, next_same = {}, [None] * len(lines)
    for n in range(len(lines) - 1, -1, -1):
        if fences[n]:
            next_same[n] = following.get(fences[n])
            following[fences[n]] = n
    inside, n = set(), 0
    while n < len(lines):
        if fences[n] and next_same[n] is not None:
            inside.update(range(n, next_same[n] + 1))
            n = next_same[n]
        n += 1
    return inside


def cook(raw):
    """Render member Markdown to sanitised HTML."""
    md = _machinery()[3]()
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    names = mentioned_usernames(raw) if _member_lookup is not None else []
    md.known_mentions = _member_lookup(names) if names else None
    return sanitise(md.convert(defuse_brackets(raw or "")))


_MENTION_SCAN = re.compile(MENTION_RE)


def mentioned_usernames(raw):
    """Usernames @mentioned in raw Markdown (outside code), lower-cased, in order, unique."""
    text = re.sub(r"```.*?```|`[^`]*`", "", raw or "", flags=re.S)
    seen = []
    for match in _MENTION_SCAN.finditer(text):
        name = match.group(1).lower()
        if name not in seen:
            seen.append(name)
    return seen


def excerpt(raw, length=200):
    """Plain-text excerpt of Markdown for lists and previews."""
    text = _machinery()[1].clean(cook(raw), tags=set())
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
