"""Browser-facing hardening: security headers on every page, no inline script or style in the
templates or the rendered pages, CSRF tokens in every form, and the session cookie's flags."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from werkzeug.routing import IntegerConverter

from tests.conftest import login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


# -- headers on every page -----------------------------------------------------------------------

def csp_directives(header):
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_hardened(response, label):
    headers = response.headers
    csp = headers.get("Content-Security-Policy")
    assert csp, f"{label}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{label}: {csp}"
    directives = csp_directives(csp)
    assert directives.get("default-src") == ["'self'"], csp
    assert directives.get("script-src") == ["'self'"], csp
    assert directives.get("style-src") == ["'self'"], csp
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert directives.get("object-src") == ["'none'"], csp
    assert directives.get("base-uri") == ["'none'"], csp
    assert directives.get("form-action") == ["'self'"], csp
    assert headers.get("X-Content-Type-Options") == "nosniff", label
    assert headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "no-referrer",
                                              "same-origin"), label
    assert headers.get("X-Frame-Options") == "DENY", label


class InlineFinder(HTMLParser):
    """Collects what the CSP would block or what an HTML page must not carry."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.forms = []        # (method, has a csrf_token input) per form
        self._form = None

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append("an inline <script>")
        if tag == "style":
            self.problems.append("a <style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"a style attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"an {name} handler on <{tag}>")
            if name in ("href", "src", "action", "formaction") and value and \
                    re.sub(r"\s", "", value).lower().startswith("javascript:"):
                self.problems.append(f"a javascript: URL on <{tag}>")
        if tag == "form":
            self._form = [(names.get("method") or "get").lower(), False]
            self.forms.append(self._form)
        if tag == "input" and self._form is not None and names.get("name") == "csrf_token" \
                and names.get("value"):
            self._form[1] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def scan_html(text):
    finder = InlineFinder()
    finder.feed(text)
    unprotected = sum(1 for method, has_token in finder.forms if method == "post" and not has_token)
    if unprotected:
        finder.problems.append(f"{unprotected} POST form(s) without a csrf_token")
    return finder.problems


@pytest.fixture
def sample_values(make):
    """Real values for the url_map's arguments, so that pages render rather than 404."""
    member = make.user(username="hedd")
    topic = make.topic(user=member, title="Trains across the north")
    post = make.reply(topic, user=member)
    return {"topic_id": topic.id, "slug": topic.slug, "post_id": post.id, "post_number": 2,
            "username": member.username_lower, "category_id": topic.category_id,
            "filename": "forum.css", "token": "not-a-real-token"}


def page_urls(app, values):
    """A URL for every GET rule; arguments nobody gave a value get a placeholder."""
    adapter = app.url_map.bind("localhost")
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = {name: values.get(name, 1 if isinstance(conv, IntegerConverter) else "x")
                for name, conv in rule._converters.items()}
        urls.add(adapter.build(rule.endpoint, args))
    return sorted(urls)


@pytest.mark.parametrize("who", ["visitor", "member", "admin"])
def test_every_page_is_hardened(app, client, make, sample_values, who):
    if who != "visitor":
        login(client, make.user(role=who))
    urls = page_urls(app, sample_values) + ["/no-such-page", "/t/999999"]
    html_pages = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} as {who}: {response.status_code}"
        assert_hardened(response, f"GET {url}")
        if response.mimetype == "text/html":
            html_pages += 1
            problems = scan_html(response.get_data(as_text=True))
            assert not problems, f"GET {url} as {who}: {problems}"
    assert html_pages > 10


def test_error_and_json_answers_are_hardened(client):
    assert_hardened(client.post("/posts.json", json={}), "POST /posts.json")
    assert_hardened(client.get("/posts/999999.json"), "GET /posts/999999.json")
    assert_hardened(client.open("/latest", method="DELETE"), "DELETE /latest")


# -- templates -----------------------------------------------------------------------------------

TEMPLATE_RULES = [
    (re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I), "an inline <script> (no src)"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on*= event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


# Templates that are never served as pages, so the CSP does not apply to them: mail clients
# need inline styles and ignore stylesheets.
NOT_PAGES = ("mail/",)


def template_files():
    files = sorted(p for p in TEMPLATES.rglob("*.html")
                   if not p.relative_to(TEMPLATES).as_posix().startswith(NOT_PAGES))
    assert files, f"no templates under {TEMPLATES}"
    return files


def test_templates_have_no_inline_script_style_or_handlers():
    problems = []
    for path in template_files():
        text = path.read_text(encoding="utf-8")
        for pattern, what in TEMPLATE_RULES:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert not problems, "the CSP blocks these; use static/forum.js and forum.css:\n" + \
        "\n".join(problems)


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.I | re.S)
TOKEN = re.compile(r"csrf\(\)|csrf_token\(\)|name=\"csrf_token\"")


def test_every_post_form_in_the_templates_sends_the_csrf_token():
    problems = []
    for path in template_files():
        text = path.read_text(encoding="utf-8")
        for match in FORM.finditer(text):
            if re.search(r"method\s*=\s*[\"']?post", match.group(1), re.I) and \
                    not TOKEN.search(match.group(2)):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(TEMPLATES)}:{line}")
    assert not problems, "POST forms without {{ csrf() }} (or a csrf_token input): " + \
        ", ".join(problems)


@pytest.mark.parametrize("text, found", [
    ('<script>alert(1)</script>', True),
    ('<script src="/static/forum.js" defer></script>', False),
    ('<p style="color:red">x</p>', True),
    ('<img src="a.png" onerror="x()">', True),
    ('<a href=" javascript:alert(1)">x</a>', True),
    ('<form method="post"><input name="csrf_token" value="t"></form>', False),
    ('<form method="post"><input name="raw"></form>', True),
    ('<form method="get"><input name="q"></form>', False),
])
def test_the_page_scanner_finds_what_it_should(text, found):
    assert bool(scan_html(text)) is found


# -- cookies -------------------------------------------------------------------------------------

def cookie_flags(response, name):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            parts = [p.strip() for p in header.split(";")]
            return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else True)
                    for p in parts[1:]}
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


def test_session_cookie_is_httponly_and_samesite_lax(app, client, make):
    member = make.user()
    response = client.post("/login", data={"login": member.username,
                                           "password": "correct horse battery staple",
                                           "remember": "1"})
    assert response.status_code == 302
    session = cookie_flags(response, app.config["SESSION_COOKIE_NAME"])
    assert session.get("httponly") is True
    assert session.get("samesite") == "Lax"
    assert session.get("path") == "/"
    assert "domain" not in session
    remember = cookie_flags(response, app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    assert remember.get("httponly") is True
    assert remember.get("samesite") == "Lax"
