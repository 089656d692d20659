"""What members' Markdown becomes: cooked once at write time, sanitised, links marked."""
from forum.markup import cook


def test_code_shows_what_was_typed_escaped_once():
    assert cook("Use `<b>` & `a && b`") == (
        "<p>Use <code>&lt;b&gt;</code> &amp; <code>a &amp;&amp; b</code></p>")
    assert cook("```\nif a < b && c > d:\n    go('https://example.org')\n```") == (
        "<pre><code>if a &lt; b &amp;&amp; c &gt; d:\n"
        "    go('https://example.org')\n</code></pre>")


def test_text_that_looks_like_an_entity_stays_as_typed():
    assert cook("Write &amp;lt; for a less-than sign") == (
        "<p>Write &amp;lt; for a less-than sign</p>")
    assert cook("`&amp;`") == "<p><code>&amp;amp;</code></p>"


def test_bare_web_addresses_become_links_marked_as_members_own_but_not_in_code():
    assert cook("See https://example.org/a?b=1&c=2 now") == (
        '<p>See <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">'
        "https://example.org/a?b=1&amp;c=2</a> now</p>")
    assert "<a" not in cook("`https://example.org`")
    assert "<a" not in cook("Mail ann@example.org")


def test_links_keep_only_web_and_mail_addresses():
    assert cook("[site](https://example.org)") == (
        '<p><a href="https://example.org" rel="nofollow ugc noopener">site</a></p>')
    assert 'href' not in cook("[bad](javascript:alert(1))")
    assert cook("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_tables_and_mentions():
    table = cook("| a | b |\n|:--|--:|\n| 1 | 2 |")
    assert table.startswith("<table>") and '<td align="right">2</td>' in table
    assert cook("Thanks @Ann_B.") == (
        '<p>Thanks <a class="mention" href="/u/ann_b" rel="nofollow ugc noopener">@Ann_B</a>.</p>')


def test_only_members_names_become_links(make):
    """Within the app, an @name links to a profile only where there is one."""
    make.user("ann_b")
    cooked = cook("Thanks @Ann_B and @nobodyhere, see `@ann_b`.")
    assert '<a class="mention" href="/u/ann_b" rel="nofollow ugc noopener">@Ann_B</a>' in cooked
    assert "@nobodyhere" in cooked and "/u/nobodyhere" not in cooked
    assert "<code>@ann_b</code>" in cooked


def test_strikethrough_as_in_discourse_and_a_lone_tilde_stays():
    assert cook("~~old~~ new, about ~5 people") == (
        "<p><del>old</del> new, about ~5 people</p>")
