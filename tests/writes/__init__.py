"""Every state-changing endpoint in one table: how to call it, and which roles may.

The table is read by three tests: the authorisation matrix (each role against each case), CSRF
(each case without its token), and malformed input (each case with its body mangled). Each area
keeps its cases in its own module in this package (core.py, admin.py, proposals.py ...) as a
list named CASES; a new module is picked up by itself. A url_map rule that takes POST, PUT or
DELETE and has no case here fails test_every_write_endpoint_has_a_case.

A case is an endpoint, a method, a builder and the roles that may. The builder receives a Ctx
after the acting member has signed in (still unrestricted, so it can create things in their
name) and returns the Call to make; the role's restriction (unverified, silenced, suspended) is
applied after it. For a visitor, ctx.actor is a member who simply is not signed in.

    Case("posts.update", "PUT", own_post_edit, PARTICIPANTS, state="own post")
"""
import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property, partial
from typing import Callable
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ApiKey, utcnow

ROLES = ("visitor", "member", "unverified", "silenced", "suspended", "moderator", "admin")
EVERYONE = frozenset(ROLES)
# Anyone with a live session: a suspension ends the member's sessions at once.
SIGNED_IN = EVERYONE - {"visitor", "suspended"}
# May write: verified, neither silenced nor suspended.
PARTICIPANTS = frozenset({"member", "moderator", "admin"})
STAFF = frozenset({"moderator", "admin"})
ADMINS = frozenset({"admin"})
NOBODY = frozenset()

WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}


@dataclass(frozen=True)
class Call:
    """One request: a path and a body, sent as an HTML form or as JSON."""

    path: str
    body: dict = field(default_factory=dict)
    json: bool = False


def form(path, **fields):
    return Call(path, fields, json=False)


def api(path, body=None):
    return Call(path, dict(body or {}), json=True)


@dataclass(frozen=True)
class Case:
    endpoint: str                      # the url_map endpoint, e.g. "posts.update"
    method: str                        # POST, PUT or DELETE
    build: Callable                    # Ctx -> Call
    allowed: frozenset                 # the roles that may
    state: str = ""                    # the situation the builder sets up
    # An allowed call must change the database (True), must not (False), or may (None).
    writes: bool | None = True
    # Success itself ends on the sign-in page (a password reset), so going there is no refusal.
    done_at_login: bool = False
    # role -> why the code does not yet do what `allowed` says: the cell is a strict xfail, so
    # it fails loudly once fixed and the entry can go.
    gaps: dict = field(default_factory=dict)
    # Why the URL itself is the proof, so no CSRF token is asked for (a signed one-click
    # unsubscribe link, which mail clients POST to). The CSRF test then checks that a tampered
    # URL is refused instead.
    csrf_exempt: str = ""

    @property
    def id(self):
        return f"{self.method} {self.endpoint}" + (f" [{self.state}]" if self.state else "")


def all_cases():
    """Every CASES list of every module in this package, in module order."""
    cases = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", ()))
    return cases


def write_rules(app):
    """(endpoint, method) for every state-changing method of every url_map rule."""
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules()
            for method in rule.methods & WRITE_METHODS}


# -- acting as a role ---------------------------------------------------------------------------

class Ctx:
    """What a builder works with: the factories, the acting member, and helpers."""

    def __init__(self, make, actor, role, client):
        self.make = make
        self.actor = actor
        self.role = role
        self.client = client

    @cached_property
    def other(self):
        """Another verified member, the owner of things the actor does not own."""
        return self.make.user()

    @cached_property
    def category(self):
        return self.make.category()

    @cached_property
    def topic(self):
        """A topic by another member."""
        return self.make.topic(user=self.other, category=self.category)

    def reply(self, user):
        return self.make.reply(self.topic, user=user)

    @cached_property
    def admin(self):
        """An admin other than the actor, to set things up through the admin services."""
        return self.make.user(role="admin")


def _unverify(user):
    user.email_verified_at = None


def _silence(user):
    user.silenced_until = utcnow() + timedelta(days=7)
    user.silence_reason = "cooling off"


def _suspend(user):
    user.suspended_until = utcnow() + timedelta(days=7)
    user.suspend_reason = "repeated abuse"


# role -> (the member's role column, what is done to the member after the builder ran)
ROLE_SETUP = {
    "visitor": ("member", None),
    "member": ("member", None),
    "unverified": ("member", _unverify),
    "silenced": ("member", _silence),
    "suspended": ("member", _suspend),
    "moderator": ("moderator", None),
    "admin": ("admin", None),
}


def act_as(role, make, client, login):
    """Sign a fresh member in for `role`; returns (actor, restrict) where restrict() applies the
    role's restriction once the builder has run."""
    column_role, restriction = ROLE_SETUP[role]
    actor = make.user(role=column_role)
    if role != "visitor":
        login(client, actor)

    def restrict():
        if restriction is not None:
            restriction(actor)
            db.session.commit()

    return actor, restrict


def empty_database():
    """Every row gone and the fixed rows back, as the `app` fixture leaves a fresh database:
    cheaper than a new app for each role of a case."""
    from tests.conftest import _database_ready

    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:  # rows cannot simply be deleted: audit events refuse it
        db.drop_all()
        db.create_all()
    _database_ready()


def send(client, method, call, headers=None, csrf_token=None):
    headers = dict(headers or {})
    if call.json:
        if csrf_token:
            headers["X-CSRFToken"] = csrf_token
        return client.open(call.path, method=method, json=call.body, headers=headers)
    body = dict(call.body)
    if csrf_token:
        body["csrf_token"] = csrf_token
    return client.open(call.path, method=method, data=body, headers=headers)


def is_refused(case, call, response):
    """401/403, or (for an HTML form) a redirect to the sign-in page."""
    if response.status_code in (401, 403):
        return True
    if not call.json and not case.done_at_login and response.status_code in (301, 302, 303):
        return urlparse(response.headers.get("Location", "")).path == "/login"
    return False


def is_allowed(case, call, response):
    return 200 <= response.status_code < 400 and not is_refused(case, call, response)


# Read tracking is not a change of state a refusal must avoid: a refused reply re-renders the
# topic page, and showing a member a page records how far they have read.
READ_TRACKING = {"topic_users": None, "topics": {"views"}}  # table -> columns (None: all)


def snapshot(ignore=READ_TRACKING):
    """Every row of every table, to show that a refused request changed nothing."""
    db.session.rollback()
    state = {}
    for table in db.metadata.sorted_tables:
        skipped = ignore.get(table.name, ())
        if skipped is None:
            continue
        columns = [c for c in table.columns if c.name not in skipped]
        rows = db.session.execute(select(*columns)).all()
        state[table.name] = sorted(repr(tuple(row)) for row in rows)
    db.session.rollback()
    return state


def changed_tables(before, after):
    return sorted(name for name in before if before[name] != after.get(name))


def issue_api_key(user):
    """A key for one member; the raw key to send as Api-Key."""
    import secrets

    key = secrets.token_hex(32)
    db.session.add(ApiKey(key_hash=ApiKey.hash(key), truncated=key[:4], user_id=user.id,
                          description="test"))
    db.session.commit()
    return key


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path="/login"):
    """The token a browser would find on a page (the sign-in form, or the meta tag)."""
    page = client.get(path).get_data(as_text=True)
    found = CSRF_FIELD.search(page) or CSRF_META.search(page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def fast_password_hashing(monkeypatch):
    """Hash test passwords cheaply, and skip rating their strength: these tests make and sign
    in many members, and scrypt is slow on purpose. Used as a fixture by the modules that
    drive the table; the password rules have their own tests."""
    import zxcvbn
    from werkzeug.security import generate_password_hash

    from forum.models import users

    monkeypatch.setattr(users, "generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1000"))
    monkeypatch.setattr(zxcvbn, "zxcvbn", lambda password, user_inputs=(): {
        "score": 4, "feedback": {}})


@pytest.fixture
def fast_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)
