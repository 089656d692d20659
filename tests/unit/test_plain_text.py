"""The search's plain text of cooked HTML (search/documents.py, plain_text) is what nh3 would
leave of it, for Markdown that puts tag-like text in code, quotes, titles and links."""
import html
import re

import nh3
import pytest

from forum.markup import cook
from forum.search.documents import plain_text

MARKDOWN = [
    "a > b < c & d",
    '[a link](https://example.org/a?b=1&c=2 "a title with > and <")',
    '![a picture](https://example.org/i.png "x>y")',
    "<script>alert(1)</script> and after",
    "`<b>not bold</b>` in code",
    "```\n<div class=\"x\">a block</div>\n```",
    "| a | b |\n|---|---|\n| <i> | > |",
    "&amp; &lt; &#x3e; &nbsp; &quot;",
    "https://example.org/<x>?q=\"y\"",
    "> a quote\n>\n> > nested > deeper",
    "<a href='https://example.org' title='x>y'>raw link</a>",
    '<abbr title="q>r">Q</abbr> and <span data-x=">">s</span>',
    "before<!-- a comment -->after",
    "**bold**_italic_ ~~gone~~\n\n- one\n- two\n\n1. first\n2. second",
    "a\u00a0b\u2003c\n\n\tindented",
    "@member1 said: 'it's > 5 < 10'",
    "",
]


def nh3_plain_text(cooked):
    return re.sub(r"\s+", " ", html.unescape(nh3.clean(cooked, tags=set()))).strip()


@pytest.mark.parametrize("markdown", MARKDOWN)
def test_plain_text_is_what_nh3_leaves(markdown):
    cooked = cook(markdown)
    assert plain_text(cooked) == nh3_plain_text(cooked)


def test_no_markup_is_left_and_text_is_unescaped():
    cooked = cook('Fares <b>up</b> & [buses](https://example.org "a > b") `<i>`')
    assert plain_text(cooked) == "Fares <b>up</b> & buses <i>"  # raw HTML is text here
    assert plain_text(None) == "" and plain_text("") == ""


def test_a_quoted_angle_bracket_does_not_end_a_tag():
    # Today's sanitiser writes &gt; in attribute values; other serialisers need not.
    cooked = '<p><a href="https://example.org" title="a>b">the link</a> and <img alt=">"></p>'
    assert plain_text(cooked) == nh3_plain_text(cooked) == "the link and"
