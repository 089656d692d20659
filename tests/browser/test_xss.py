"""The browser half of the XSS suite: every vector of tests/xss_vectors.py, in every kind of
member text that a page shows, rendered in Chromium, and no script runs.

The content is made through the services (fast); a moderator then opens each page holding it.
The browser context ignores the Content-Security-Policy (bypass_csp), so what is proved is that
the sanitising holds, not that the policy caught what slipped through. Before any page loads,
an init script replaces alert, confirm and prompt (what the vectors' payloads call) with a trap
that reports to the test; a dialog, a script loaded from another site, or an event-handler
attribute or javascript:/vbscript:/data: URL anywhere in the rendered DOM fails the test too.
A control feeds a few vectors to the same browser unsanitised and checks that the trap fires
and the DOM check sees them, so a quiet run means something.

The server-side half (tests/views/test_xss.py) checks the stored HTML and the JSON.
"""
import time

import pytest

from tests.writes import fast_password_hashing
from tests.xss_vectors import VECTORS

pytestmark = [pytest.mark.browser, pytest.mark.live]

TRAP = """
(() => {
  window.__xss = [];
  const trap = (name) => function (...args) {
    const note = "#" + window.__xss.length + " " + name + "(" + args.map(String).join(", ")
      + ") on " + location.pathname + location.search;
    window.__xss.push(note);
    if (typeof window.__xssReport === "function") window.__xssReport(note);
  };
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    Object.defineProperty(window, name, {value: trap(name), writable: false,
                                         configurable: false});
  }
})();
"""

# What in the rendered DOM could run script: event-handler attributes, script-bearing URL
# schemes in URL attributes (after the browser decoded entities; spaces and control characters
# dropped as a browser drops them), and elements that load or run code. The site's own script
# (/static/forum.js) and the head's own <link>s are ours.
DOM_DANGERS = """
() => {
  const bad = [];
  const urlAttributes = new Set(["href", "src", "action", "formaction", "xlink:href", "data",
    "poster", "background", "lowsrc", "dynsrc", "srcset", "ping", "codebase", "cite"]);
  const schemes = /^(javascript|vbscript|data|livescript):/i;
  const codeTags = new Set(["script", "iframe", "frame", "frameset", "object", "embed",
    "applet", "base", "template", "noscript"]);
  for (const el of document.querySelectorAll("*")) {
    const tag = el.localName;
    if (tag === "script" && el.getAttribute("src") === "/static/forum.js") continue;
    if (codeTags.has(tag)) bad.push("<" + tag + ">");
    if ((tag === "style" || tag === "link" || tag === "meta") && !el.closest("head")) {
      bad.push("<" + tag + "> in the body");
    }
    if (tag === "meta" && /refresh/i.test(el.getAttribute("http-equiv") || "")) {
      bad.push("<meta refresh>");
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) bad.push(name + "= on <" + tag + ">");
      if (urlAttributes.has(name)
          && schemes.test(attr.value.replace(/[\\u0000-\\u0020\\u007f-\\u009f]/g, ""))) {
        bad.push(name + "=" + JSON.stringify(attr.value) + " on <" + tag + ">");
      }
    }
  }
  return bad;
}
"""


class Watch:
    """One browser context armed with the trap; collects whatever fires, on any page."""

    def __init__(self, person, site_url):
        self.person, self.page, self.site_url = person, person.page, site_url
        self.fired, self.dialogs, self.foreign, self.dangers = [], [], [], []
        context = person.context
        context.expose_function("__xssReport", lambda note: self.fired.append(note))
        context.add_init_script(TRAP)
        context.route("**/*", self._route)
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message} on {self.page.url}")
        dialog.dismiss()

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.site_url) or url.startswith(("data:", "about:")):
            route.continue_()
            return
        # Nothing on our pages loads from another site; member images may point elsewhere,
        # but a script from elsewhere is an injection.
        if route.request.resource_type in ("script", "document", "stylesheet"):
            self.foreign.append(f"{route.request.resource_type} {url} from {self.page.url}")
        route.abort()

    def settle(self):
        """Let handlers queued during parsing (ontoggle, onfocus, onerror) run."""
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                           "requestAnimationFrame(() => setTimeout(r, 30))))")

    def visit(self, path):
        response = self.page.goto(self.site_url + path, wait_until="load")
        assert response is not None and response.status == 200, \
            f"{path}: {response and response.status}"
        self.settle()
        self.inspect(path)

    def inspect(self, where):
        self.fired.extend(n for n in self.page.evaluate("() => window.__xss || []")
                          if n not in self.fired)
        self.dangers.extend(f"{where}: {d}" for d in self.page.evaluate(DOM_DANGERS))

    def problems(self):
        return ([f"script ran: {f}" for f in self.fired] +
                [f"dialog: {d}" for d in self.dialogs] +
                [f"loaded from another site: {f}" for f in self.foreign] + self.dangers)


def _chunks(items, count):
    """`items` in `count` runs of about equal length, in order."""
    size = -(-len(items) // count)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _pack(items, limit, separator=" "):
    """`items` packed greedily into texts of at most `limit` characters (a longer item is cut
    to fit alone): as few rows as the field's length allows, every vector in one of them."""
    texts, current = [], ""
    for item in items:
        item = item[:limit]
        joined = f"{current}{separator}{item}" if current else item
        if len(joined) <= limit:
            current = joined
        else:
            texts.append(current)
            current = item
    return texts + [current]


def make_content(make):
    """Every vector in every kind of member text a page shows; returns what to visit.

    Vectors share a field where its length allows (several to a title, a dozen to a body):
    each field is still sanitised as a whole, and far fewer rows keep the setup quick.
    """
    from forum.services import accounts, amendments, deliberation, posts, review

    moderator = make.user("xss_mod", role="moderator")
    category = make.category("Vectors")
    host = make.topic(make.user("xss_host"), category, title="Where every vector replies",
                      raw="Replies below carry the vectors.")
    process = make.process(title="Vector Priorities 2031")
    author = make.user("xss_author")
    group = make.group("Vector group")
    body = "\n\n".join(["# Every vector"] + [v.replace("\n\n", "\n") for v in VECTORS] +
                       ["A closing paragraph."])
    big = deliberation.create_proposal(author, process.id, "Every vector in one text",
                                       "Each paragraph is a vector.", body)

    # Display names (80 characters): a member per name, each replying with a share of the
    # vectors, so the topic pages show every name beside every body.
    names = _pack(VECTORS, accounts.NAME_MAX)
    members = [accounts.sign_up(f"xss{n}", f"xss{n}@example.org", "x" * 12, name=name,
                                group_id=group.id, verified=True)
               for n, name in enumerate(names)]
    replies = [posts.create_post(member, host.id, "\n\n".join(chunk) + f"\n\nreply {n}")
               for n, (member, chunk) in enumerate(zip(members, _chunks(VECTORS,
                                                                         len(members))))]
    # Flag messages, a dozen vectors to each, on the review queue.
    for reply, chunk in zip(replies, _chunks(VECTORS, 6)):
        review.flag(author, "post", reply.id, "other", " ".join(chunk)[:1000])
    # Topic titles.
    titled = [posts.create_topic(members[n % len(members)], category.id, f"T{n} {title}",
                                 "A body.").topic
              for n, title in enumerate(_pack(VECTORS, 190))]
    # Proposal titles and summaries, each proposal by a member of its own.
    titles, summaries = _pack(VECTORS, 190), _pack(VECTORS, 480)
    proposals = [deliberation.create_proposal(members[n], process.id, f"P{n} {title}",
                                              f"Summary {n}: {summaries[n]}"
                                              if n < len(summaries) else "A plan to try.",
                                              f"# Plan {n}\n\nA first paragraph.")
                 for n, title in enumerate(titles)]
    # Amendment text and rationale, clarifications and their answers.
    items = []
    for n, chunk in enumerate(_chunks(VECTORS, 6)):
        text = "\n".join(chunk)
        items.append(amendments.propose_item(members[n], big.id, "amendment", 2, 2,
                                             f"{text}\ntake {n}", f"Because {text}").id)
        question = amendments.propose_item(members[n], big.id, "clarification", 2, 2,
                                           f"What about {text}? ({n})"[:2000], "")
        amendments.answer_clarification(author, question.id, text)
        items.append(question.id)
    # Bios.
    bio_pages = []
    for n, bio in enumerate(_pack(VECTORS, accounts.BIO_MAX, "\n\n")):
        accounts.update_profile(members[n], members[n], bio=bio)
        bio_pages.append(f"/u/{members[n].username_lower}")

    pages = [f"/t/{host.slug}/{host.id}?page={p}" for p in range(1, len(replies) // 20 + 2)]
    pages += [f"/latest?page={p}" for p in (1, 2)]
    pages += [f"/t/{t.slug}/{t.id}" for t in titled]
    pages += bio_pages
    pages += [f"/processes/{process.id}", f"/proposals/{big.id}"]
    pages += [f"/proposals/{p.id}" for p in proposals]
    pages += [f"/amendments/{i}" for i in items]
    pages += ["/review"]
    # Text each page must show beside its vectors, so the visits are known to reach them.
    markers = ([f"reply {n}" for n in range(len(replies))] +
               [f"T{n} " for n in range(len(titled))] +
               [f"P{n} " for n in range(len(proposals))] +
               [f"take {n}" for n in range(6)] + [f"({n})" for n in range(6)] +
               [f"Summary {n}:" for n in range(len(summaries))] + ["Because ",
                                                                   "from xss_author"])
    return moderator.username, pages, markers


def test_no_vector_runs_script_on_any_page(site, people, monkeypatch):
    fast_password_hashing(monkeypatch)
    started = time.monotonic()
    with site.data() as make:
        moderator, pages, markers = make_content(make)
    print(f"content made in {time.monotonic() - started:.1f}s")
    person = people.open("a moderator reading every vector", signed_in_as=moderator,
                         bypass_csp=True)
    watch = Watch(person, site.url)
    started = time.monotonic()
    shown = []
    for path in pages:
        watch.visit(path)
        shown.append(person.page.inner_text("body"))
    print(f"{len(pages)} pages visited in {time.monotonic() - started:.1f}s")
    shown = "\n".join(shown)
    missing = [m for m in markers if m not in shown]
    assert not missing, f"the pages do not show {missing}"
    problems = watch.problems()
    assert not problems, f"{len(problems)} problems on {len(pages)} pages:\n" + \
        "\n".join(problems[:40])


CONTROL = [
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<script>alert(1)</script>",
    "<details open ontoggle=alert(1)>x</details>",
    "<a href=\"jav&#x0A;ascript:alert(1)\">newline</a>",
]


def test_the_trap_and_the_dom_check_catch_unsanitised_vectors(chromium, people, site):
    """The control: the same vectors, not sanitised, in the same armed browser."""
    assert all(v in VECTORS for v in CONTROL)
    person = people.open("the control", bypass_csp=True)
    watch = Watch(person, site.url)
    person.page.goto(site.url + "/login")
    # Each vector as it is, but calling alert with its own number, to tell which ran.
    person.page.set_content("<!doctype html><title>control</title><main>" + "".join(
        v.replace("alert(1)", f"alert({n + 10})") for n, v in enumerate(CONTROL)) + "</main>",
        wait_until="load")
    watch.settle()
    watch.inspect("control")
    fired = " ".join(watch.fired)
    for number in (10, 11, 12):  # onerror on <img>, onload on <svg>, <script>
        assert f"alert({number})" in fired, watch.fired
    dangers = " ".join(watch.dangers)
    for expected in ("onerror= on <img>", "onload= on <svg>", "<script>",
                     "ontoggle= on <details>", "href="):
        assert expected in dangers, (expected, watch.dangers)
