"""Cross-site scripting vectors, and a checker for HTML that must carry none of them.

Shared by the server-side suite (tests/views/test_xss.py: every user-text field, stored and
served) and the browser suite, which renders the same pages in Chromium:

    from tests.xss_vectors import VECTORS, find_dangers

Each vector is Markdown or HTML a member might type. Markdown-specific shapes are among them:
javascript: and data: links and images, entity-encoded and whitespace-split schemes, reference
links, autolinks, attribute lists, quote breakouts in titles and alt text, and mXSS shapes that
change meaning when parsed twice.
"""
import re
from html.parser import HTMLParser

VECTORS = [
    # raw HTML: the classics
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\"//",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<button formaction=\"javascript:alert(1)\">go</button>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">entity</a>",
    "<a href=\"jav&#x0A;ascript:alert(1)\">newline</a>",
    "<a href=\" javascript:alert(1)\">space</a>",
    "<a href=\"jAvAsCrIpT&colon;alert&lpar;1&rpar;\">named entities</a>",
    "<a href=\"vbscript:msgbox(1)\">vb</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">data</a>",
    "<IMG \"\"\"><SCRIPT>alert(1)</SCRIPT>\">",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text y=\"20\">x</text></a></svg>",
    "<math href=\"javascript:alert(1)\">x</math>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<![CDATA[<script>alert(1)</script>]]>",
    # mXSS: markup that means something else once it is parsed and serialised again
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>"
    "</table></mtext></math>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<table><td><svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg></table>",
    # breaking out of the page's own markup: titles, attributes, text areas
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "\" onmouseover=\"alert(1)\" x=\"",
    # Markdown links and images
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](<javascript:alert(1)>)",
    "[click](javascript://%0aalert(1))",
    "[click](java&#x09;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pic](javascript:alert(1))",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![pic](x \"onerror=alert(1)\")",
    "![a\" onerror=\"alert(1)](https://example.org/a.png)",
    "[t](https://example.org \"title\\\" onmouseover=\\\"alert(1)\")",
    "[t](https://example.org 'x' onmouseover='alert(1)')",
    # reference links and autolinks
    "[click][1]\n\n[1]: javascript:alert(1)",
    "![pic][logo]\n\n[logo]: javascript:alert(1) \"t\"",
    "[click][x]\n\n[x]: <data:text/html,<script>alert(1)</script>>",
    "<javascript:alert(1)>",
    "<https://example.org\" onmouseover=\"alert(1)>",
    "www.example.org\" onmouseover=\"alert(1)",
    "https://example.org/<script>alert(1)</script>",
    # attribute lists (not enabled; they must stay text)
    "[click](https://example.org){: onclick=\"alert(1)\" }",
    "# Heading {: onmouseover=\"alert(1)\" }",
    "paragraph\n{: style=\"background:url(javascript:alert(1))\" }",
    # tables, code, mentions
    "| a | b |\n|:-- onmouseover=alert(1) | --- |\n| <img src=x onerror=alert(1)> | c |",
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    "@\"><script>alert(1)</script>",
    "<a href=\"https://example.org\" target=\"_blank\" rel=\"opener\" onclick=\"alert(1)\">x</a>",
    "\uFF1Cscript\uFF1Ealert(1)\uFF1C/script\uFF1E",
]

# Attributes whose value is a URL a browser may follow or load.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster",
                  "background", "lowsrc", "dynsrc", "srcset", "ping", "codebase", "cite"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
# Never in member content; on our pages only where the templates put them (not at all).
DANGEROUS_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
                  "style", "svg", "math", "link", "meta", "noscript", "template"}


def _scheme_of(value):
    """The URL as a browser reads its scheme: the parser has decoded entities once (as a
    browser does); whitespace and control characters inside the scheme are dropped."""
    value = re.sub(r"[\x00-\x20\x7f-\x9f]", "", value)
    return value.lower()


# The page's own <head> holds these; member text never reaches the head but its <title>.
HEAD_TAGS = {"meta", "link"}
# Our templates draw icons and charts in inline SVG; member text never becomes an element, so
# on a whole page an <svg> is ours (its attributes and URLs are still checked).
PAGE_TAGS = {"svg"}


class _Finder(HTMLParser):
    def __init__(self, site_scripts, page):
        super().__init__(convert_charrefs=True)
        self.site_scripts = site_scripts
        self.page = page
        self.dangers = []
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "head":
            self.in_head = True
        elif tag == "body":
            self.in_head = False
        site_own = (tag == "script" and names.get("src") in self.site_scripts) or \
            (tag in HEAD_TAGS and self.in_head) or (self.page and tag in PAGE_TAGS)
        if tag in DANGEROUS_TAGS and not site_own:
            self.dangers.append(f"<{tag}>")
        if tag == "meta" and "refresh" in (names.get("http-equiv") or "").lower():
            self.dangers.append("<meta refresh>")
        for name, value in attrs:
            if name.startswith("on"):
                self.dangers.append(f"{name}= on <{tag}>")
            if name == "style":
                self.dangers.append(f"style= on <{tag}>")
            if name in URL_ATTRIBUTES and value and \
                    _scheme_of(value).startswith(DANGEROUS_SCHEMES):
                self.dangers.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def find_dangers(text, site_scripts=("/static/forum.js",), page=False):
    """What in this HTML could run script: script elements (but the site's own), event
    handler and style attributes, dangerous tags, and javascript:/vbscript:/data: URLs.

    `page=True` for a whole page from our templates, which may draw inline SVG icons; leave it
    False for member content (cooked HTML), where no <svg> may appear at all."""
    finder = _Finder(set(site_scripts), page)
    finder.feed(text)
    finder.close()
    return finder.dangers
