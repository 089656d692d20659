"""Markdown to safe HTML, once at write time: cook(raw) -> sanitised HTML."""
import re
import xml.etree.ElementTree as etree
from functools import lru_cache

# Bump when cooking changes; `flask forum recook` re-renders rows with an older version.
COOK_VERSION = 3

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
    from bleach.linkifier import Linker, LinkifyFilter
    from markdown.inlinepatterns import InlineProcessor

    class MentionProcessor(InlineProcessor):
        def handleMatch(self, m, data):
            known = getattr(self.md, "known_mentions", None)
            if known is not None and m.group(1).lower() not in known:
                return None, None, None  # no member of that name: the text stays text
            el = etree.Element("a")
            el.set("href", f"/u/{m.group(1).lower()}")
            el.set("class", "mention")
            el.text = "@" + m.group(1)
            return el, m.start(0), m.end(0)

    class MentionExtension(markdown.Extension):
        def extendMarkdown(self, md):
            md.inlinePatterns.register(MentionProcessor(MENTION_RE, md), "mention", 175)

    def new_markdown():
        # No attr_list, md_in_html or raw HTML: nothing a member types becomes an attribute.
        return markdown.Markdown(
            extensions=["fenced_code", "tables", "sane_lists", "pymdownx.tilde",
                        MentionExtension()],
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

    linker = CodeSafeLinker(callbacks=[_linkify_callback], skip_tags={"pre", "code"},
                            parse_email=False)
    return bleach, nh3, linker, new_markdown


def _bleach_attrs(tag, name, value):
    if name == "class":
        return tag == "a" and value in ALLOWED_CLASSES
    return name in ALLOWED_ATTRIBUTES.get(tag, ())


def _linkify_callback(attrs, new=False):
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


def cook(raw):
    """Render member Markdown to sanitised HTML."""
    md = _machinery()[3]()
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    names = mentioned_usernames(raw) if _member_lookup is not None else []
    md.known_mentions = _member_lookup(names) if names else None
    return sanitise(md.convert(raw or ""))


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
