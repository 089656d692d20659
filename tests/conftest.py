"""Fixtures: an app per database engine (SQLite always, PostgreSQL when TEST_DATABASE_URL is
set), a client, a CLI runner, factories that go through the real services, query counting."""
import os
import re
from contextlib import contextmanager

import pytest
from flask import g, request_started
from sqlalchemy import event, text

os.environ.setdefault("FORUM_ENV", "testing")

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from tests.live import live_server  # noqa: E402,F401



def _worker_database(url):
    """Under pytest-xdist each worker gets a database of its own, named after TEST_DATABASE_URL's
    with the worker's id appended, created on first use and dropped at the end."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url

    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


BASE_PG_URL = os.environ.get("TEST_DATABASE_URL")
PG_URL = _worker_database(BASE_PG_URL)
ENGINES = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery staple"
PROPOSAL_BODY = ("# Homes\n\nWe will build council homes at scale.\n\n"
                 "Rents are capped at a third of income.\n\n- secure tenancies\n- repairs\n")
NATIONS = [("england", "England"), ("scotland", "Scotland"), ("wales", "Wales")]


def _database_ready():
    from forum.models import Nation

    db.session.add_all(Nation(code=c, name=n) for c, n in NATIONS)
    db.session.commit()


@pytest.fixture(scope="session")
def _pg_schema():
    """Create the PostgreSQL schema once per run; each test then truncates it."""
    own_database = PG_URL != BASE_PG_URL
    if own_database:
        _create_or_drop_database(PG_URL, create=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": PG_URL})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        db.engine.dispose()
    yield
    if own_database:
        _create_or_drop_database(PG_URL, create=False)


def _create_or_drop_database(url, create):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def make_app(engine, request, extra=None):
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://" if engine == "sqlite" else PG_URL,
              "SERVER_NAME": None}
    config.update(extra or {})
    app = create_app(config)
    request_started.connect(_fresh_request_globals, app)
    return app


# Building the app costs a few tenths of a second (werkzeug compiles a URL builder for each of
# ~170 routes), more than most tests take. A test with default settings therefore gets the
# app its engine's earlier tests had, with its configuration and caches put back as they were
# built and an empty database; a test with its own settings (app_config, a database file) gets
# an app of its own. Flask-Limiter keeps its settings and storage on the one Limiter object,
# which every app's init_app overwrites, so they are put back too.
_SHARED_APPS = {}


def _shared_app(engine, request):
    from forum.extensions import limiter

    found = _SHARED_APPS.get(engine)
    if found is None:
        app = make_app(engine, request)
        found = _SHARED_APPS[engine] = (app, dict(app.config), dict(vars(limiter)))
    app, settings, limiter_state = found
    app.config.clear()
    app.config.update(settings)
    app.extensions.pop("forum_search", None)
    vars(limiter).clear()
    vars(limiter).update(limiter_state)
    if limiter_state.get("_storage") is not None:  # (an empty MemoryStorage is falsy)
        limiter_state["_storage"].reset()
    return app


def _fresh_request_globals(sender, **extra):
    # The `app` fixture keeps one app context open, which every test request reuses; without
    # this, `g` (and Flask-Login's cached user in it) would carry over from one request to the
    # next, so a member suspended or signed out mid-test would still look signed in.
    for name in list(vars(g)):
        delattr(g, name)


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**settings): settings for the app fixture, "
                            "e.g. @pytest.mark.app_config(RATELIMIT_ENABLED=True)")


def pytest_collection_modifyitems(config, items):
    # Under pytest-xdist (`make test` runs `pytest -n auto --dist loadgroup`), tests are shared
    # out one by one, except that the browser tests stay together on one worker, where their
    # module-scoped servers and browsers are started once.
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(params=ENGINES)
def engine_name(request):
    return request.param


@pytest.fixture
def app(engine_name, request):
    if engine_name == "postgresql":
        request.getfixturevalue("_pg_schema")
    extra = {}
    if (settings := request.node.get_closest_marker("app_config")) is not None:
        extra.update(settings.kwargs)
    if engine_name == "sqlite" and request.node.get_closest_marker("live"):
        # A server in other processes needs the database in a file, not in this process.
        path = request.getfixturevalue("tmp_path") / "live.db"
        extra["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app = make_app(engine_name, request, extra) if extra else _shared_app(engine_name, request)
    with app.app_context():
        if engine_name == "sqlite":
            db.create_all()
        else:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _database_ready()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def csrf_on(app):
    """The app with CSRF protection on, as in production (the test config turns it off)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- factories, through the real services ------------------------------------------------------

class Factory:
    def __init__(self, app):
        self.app = app
        self.n = 0

    def group(self, name=None, nation="england"):
        from forum.models import Group
        from forum.services.posts import slugify

        self.n += 1
        name = name or f"Group {self.n}"
        group = Group(name=name, slug=slugify(name), nation_code=nation)
        db.session.add(group)
        db.session.commit()
        return group

    def user(self, username=None, role="member", verified=True, nation="england", group=None):
        from forum.models import Group, User
        from forum.services import accounts

        self.n += 1
        username = username or f"member{self.n}"
        if group is None:
            group = db.session.scalar(db.select(Group).where(Group.nation_code == nation)) \
                or self.group(nation=nation)
        user = accounts.sign_up(username, f"{username}@example.org", PASSWORD,
                                group_id=group.id, verified=verified)
        if role != "member":
            user = db.session.get(User, user.id)
            user.role = role
            db.session.commit()
        return db.session.get(User, user.id)

    def category(self, name=None, topic_creators="everyone"):
        from forum.models import Category
        from forum.services.posts import slugify

        self.n += 1
        name = name or f"Category {self.n}"
        cat = Category(name=name, slug=slugify(name), topic_creators=topic_creators)
        db.session.add(cat)
        db.session.commit()
        return cat

    def topic(self, user=None, category=None, title=None, raw="The first post of a topic."):
        from forum.services import posts

        self.n += 1
        return posts.create_topic(user or self.user(), (category or self.category()).id,
                                  title or f"A topic about things {self.n}", raw).topic

    def reply(self, topic, user=None, raw=None, reply_to=None):
        from forum.services import posts

        self.n += 1
        raw = f"A reply that says something, number {self.n}." if raw is None else raw
        return posts.create_post(user or self.user(), topic.id, raw, reply_to)

    def admin(self):
        return self.user(role="admin")

    def process(self, scope="uk", kind="policy_priorities", days=(10, 20, 30), **settings):
        from datetime import timedelta

        from forum.models import utcnow
        from forum.services import deliberation

        self.n += 1
        now = utcnow()
        data = {"kind": kind, "scope": scope, "title": f"Policy Priorities {2026 + self.n}",
                "seats": 3, "proposals_close_at": now + timedelta(days=days[0]),
                "amendments_close_at": now + timedelta(days=days[1]),
                "labs_close_at": now + timedelta(days=days[2])}
        data.update(settings)
        return deliberation.create_process(self.admin(), data)

    def proposal(self, process=None, user=None, body=PROPOSAL_BODY, title=None):
        from forum.services import deliberation

        process = process or self.process()
        self.n += 1
        return deliberation.create_proposal(
            user or self.user(nation=process.scope if process.scope != "uk" else "england"),
            process.id, title or f"Build homes people can afford {self.n}",
            "More council homes, paid for by land value capture.", body)

    def amendment(self, proposal, user=None, start=2, end=2, text=None, kind="amendment",
                  rationale="Because it makes the text clearer."):
        from forum.services import amendments

        self.n += 1
        return amendments.propose_item(user or self.user(), proposal.id, kind, start, end,
                                       f"A better paragraph, take {self.n}." if text is None else text,
                                       rationale)


@pytest.fixture
def make(app):
    return Factory(app)


def login(client, user, password=PASSWORD):
    response = client.post("/login", data={"login": user.username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def auth():
    return login


# -- query counting --------------------------------------------------------------------------

class QueryCounter:
    def __init__(self):
        self.statements = []

    def __len__(self):
        return len(self.statements)

    def report(self):
        return "\n".join(f"{i + 1}. {s}" for i, s in enumerate(self.statements))


@pytest.fixture
def count_queries(app):
    @contextmanager
    def counting():
        # A real request starts with an empty session; the test's may hold loaded rows.
        db.session.expunge_all()
        counter = QueryCounter()

        def before(conn, cursor, statement, parameters, context, executemany):
            if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.I):
                counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


# -- mail ------------------------------------------------------------------------------------

# `mailbox`: a real SMTP server on loopback that the app's mail goes through (tests/mailserver.py).
pytest_plugins = ["tests.mailserver"]
