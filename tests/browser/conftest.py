"""Browser fixtures: Debian's Chromium driven by Playwright against the app on loopback.

Each module gets one server: the app under werkzeug's threaded server on 127.0.0.1, in this
process, on a database of its own. In this process, because mail carries absolute links on
BASE_URL, which must name the server's port, and that port is known only once the server
listens; the mail goes to the real SMTP server of tests/mailserver.py. CSRF protection is on,
as in production.

The browser tests run on SQLite only. They check what people see and do, which the engine does
not change, and the view and service tests already run on both engines; a second pass costs
about as much again as the first (on PostgreSQL they took 6 minutes against 4 on SQLite on a
loaded 2-core machine), and the rest of the suite on both engines already uses most of CI's
20-minute budget. FORUM_BROWSER_POSTGRESQL=1 runs them on PostgreSQL too (they pass there).

Chromium starts once per run; people are browser contexts of their own (cookies, colour
scheme, viewport), closed with their module. Without /usr/bin/chromium the tests skip, unless
FORUM_REQUIRE_BROWSER=1 (CI sets it), when they fail.
"""
import logging
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from forum import create_app
from forum.extensions import db
from tests.conftest import ENGINES, PASSWORD, PG_URL, Factory, _database_ready

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}



def required_or_skip(why):
    if os.environ.get("FORUM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{why}, and FORUM_REQUIRE_BROWSER=1", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        required_or_skip(f"Debian's Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    # A 2-core machine shared with other test runs is slow at times; waiting longer costs
    # nothing when the page is right.
    expect.set_options(timeout=TIMEOUT_MS)

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


# -- the server ------------------------------------------------------------------------------

class Site:
    """The app as served to the browser, and a way to set up data through its services."""

    def __init__(self, app, url, mailbox):
        self.app, self.url, self.mailbox = app, url, mailbox
        self.made = 0  # the factories' counter, carried on so names stay unique in the module

    @contextmanager
    def data(self):
        """An app context and the test factories, for setting up what a journey starts from.

        The search index catches up once at the end rather than after every commit, as
        `flask forum reindex --catch-up` would: the same result, in a fraction of the time.
        """
        from forum import search

        config = self.app.config
        with self.app.app_context():
            factory = Factory(self.app)
            factory.n = self.made
            config["SEARCH_CATCH_UP_AFTER_COMMIT"] = False
            try:
                yield factory
            finally:
                config["SEARCH_CATCH_UP_AFTER_COMMIT"] = True
                self.made = factory.n
                db.session.remove()
            with search.own_session(self.app) as session:
                search.catch_up(session, app=self.app)


BROWSER_ENGINES = ENGINES if os.environ.get("FORUM_BROWSER_POSTGRESQL") == "1" else ["sqlite"]


@pytest.fixture(scope="module", params=BROWSER_ENGINES)
def site(request, smtp_server, tmp_path_factory):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    scratch = tmp_path_factory.mktemp("browser")
    if request.param == "sqlite":
        database = f"sqlite:///{scratch / 'forum.db'}"
    else:
        request.getfixturevalue("_pg_schema")
        database = PG_URL
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SERVER_NAME": None,
                      "WTF_CSRF_ENABLED": True, "MAIL_URL": smtp_server.handler.url,
                      "SEARCH_INDEX_DIR": str(scratch / "search_index"),
                      "SEARCH_CATCH_UP_AFTER_COMMIT": True})
    with app.app_context():
        if request.param == "sqlite":
            db.create_all()
        else:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _database_ready()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="browser-site", daemon=True)
    thread.start()
    smtp_server.handler.clear()
    try:
        yield Site(app, url, smtp_server.handler)
    finally:
        server.shutdown()
        thread.join(10)
        with app.app_context():
            db.engine.dispose()


# -- people in the browser -------------------------------------------------------------------

class Person:
    """One person's tab: a page in a browser context of its own, watched for breakage.

    Every JavaScript error, console error (a Content-Security-Policy refusal is one) and
    server error on the way is kept, and `check()` fails the test with the list.
    """

    def __init__(self, site, context, name=""):
        self.site, self.context, self.name = site, context, name
        self.page = context.new_page()
        self.problems = []
        self.expected_statuses = set()
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")

    def _response(self, response):
        if response.status >= 400 and response.status not in self.expected_statuses:
            self.problems.append(f"{response.status} from {response.request.method} "
                                 f"{response.url}")

    def go(self, path):
        response = self.page.goto(self.site.url + path)
        assert response is not None
        return response

    def sign_in(self, username, password=PASSWORD):
        """Through the sign-in form, as a person does."""
        page = self.page
        self.go("/login")
        page.get_by_label("Username or email").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^(?!.*/login)"))
        self.check()
        return self

    def check(self):
        problems, self.problems = self.problems, []
        assert not problems, f"{self.name or 'the page'} broke:\n" + "\n".join(problems)


class People:
    """Opens a person per name and closes them all with the module."""

    def __init__(self, browser, site):
        self.browser, self.site, self.people = browser, site, []

    def open(self, name="", signed_in_as=None, **options):
        options.setdefault("viewport", DESKTOP)
        options.setdefault("reduced_motion", "reduce")
        context = self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        person = Person(self.site, context, name or signed_in_as or "visitor")
        self.people.append(person)
        if signed_in_as:
            person.sign_in(signed_in_as)
        return person

    def close(self):
        for person in self.people:
            person.context.close()
        self.people = []


@pytest.fixture(scope="module")
def people(chromium, site):
    crowd = People(chromium, site)
    yield crowd
    crowd.close()


def screenshot_path(name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{re.sub(r'[^a-z0-9_.-]+', '-', name.lower())}.png"


class Viewers:
    """A person per (who, browser options), signed in once and reused for every page."""

    def __init__(self, people):
        self.people, self.cache = people, {}

    def __call__(self, username, **options):
        key = (username, repr(sorted(options.items())))
        if key not in self.cache:
            self.cache[key] = self.people.open(f"{username or 'a visitor'} {options}",
                                               signed_in_as=username, **options)
        return self.cache[key]


@pytest.fixture(scope="module")
def viewers(people):
    return Viewers(people)


@pytest.fixture(scope="module")
def main_pages(site):
    """{name: (path, who looks at it)} for one of each main page (tests/browser/scenarios.py)."""
    from tests.browser import scenarios

    with site.data() as make:
        return scenarios.main_pages(make)


MAIN_PAGES = ["topic-list", "topic", "proposal", "amendment-form", "lab", "ballot",
              "review-queue", "moderation-log", "search", "profile", "sign-in", "sign-up",
              "settings"]
