"""The `search_backend` fixture: each search test runs once per backend, Whoosh (on every engine)
and PostgreSQL full-text (on PostgreSQL), with an index of its own that catches up after each
commit as in production. Import it into a test module:

    from tests.search_helpers import search_backend  # noqa: F401
"""
from contextlib import contextmanager

import pytest

from forum import search
from forum.extensions import db

BACKENDS = ("whoosh", "postgres")


def use_backend(app, name, directory):
    app.config.update(SEARCH_BACKEND=name, SEARCH_INDEX_DIR=str(directory),
                      SEARCH_CATCH_UP_AFTER_COMMIT=True)
    app.extensions.pop("forum_search", None)


@pytest.fixture(params=BACKENDS)
def search_backend(request, app, engine_name, tmp_path):
    if request.param == "postgres" and engine_name != "postgresql":
        pytest.skip("the PostgreSQL backend needs PostgreSQL (TEST_DATABASE_URL)")
    use_backend(app, request.param, tmp_path / "search_index")
    yield request.param
    app.extensions.pop("forum_search", None)


def titles(page):
    return [r["title"] for r in page.results]


def found(text, viewer, **kwargs):
    """(type, id) of every result on the first page."""
    return [(r["type"], r["id"]) for r in search.query(text, viewer, **kwargs).results]


@contextmanager
def worker_session():
    """A session of its own, as the after-commit work and the CLI use. The test's session ends
    its transaction first: on in-memory SQLite both share one connection."""
    db.session.rollback()
    with search.own_session() as session:
        yield session


def assert_consistent():
    """The index holds exactly what the database says, and nothing waits in the outbox."""
    with worker_session() as session:
        assert search.pending_count(session) == 0
        indexed = search.indexed_doc_ids(session)
        expected = search.expected_doc_ids(session)
    db.session.rollback()
    assert indexed == expected, (f"missing {sorted(expected - indexed)}, "
                                 f"extra {sorted(indexed - expected)}")
