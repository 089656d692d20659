"""Search behind three functions: index, unindex and query (plus reindex and catch_up to run it).

The database is the source of truth and the index a rebuildable cache. A service that changes
something searchable calls `search.index(kind, id)` (alias `enqueue`) inside its transaction:
that writes a search_outbox row, so the change and the note of it commit together. After the
commit the index catches up from the outbox, one writer at a time (a file lock for Whoosh, an
advisory lock for PostgreSQL), and deletes the rows it has applied. A worker killed mid-write
leaves its rows in the outbox, and the next catch-up (another write, or `flask forum reindex`)
applies them; applying a row twice is harmless, since a document is rebuilt from the database.

Backends, chosen by SEARCH_BACKEND: "whoosh" (SEARCH_INDEX_DIR, one host) and "postgres"
(the search_documents table, several hosts sharing one database).
"""
import logging
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Category, SearchOutbox, User
from ..services import hooks
from . import documents
from .parse import HELP, Query, parse  # noqa: F401
from .pg_backend import PostgresBackend
from .snippets import highlight, query_stems, snippet
from .whoosh_backend import WhooshBackend

log = logging.getLogger("forum.search")

KINDS = documents.KINDS  # what index() takes: topic, post, proposal, amendment
BATCH = 500
MAX_PAGE = 50


def backend(app=None):
    """This app's backend, made once."""
    app = app or current_app
    found = app.extensions.get("forum_search")
    if found is None:
        name = app.config.get("SEARCH_BACKEND", "whoosh")
        if name == "postgres":
            found = PostgresBackend(app.config.get("SEARCH_PG_CONFIG", "english"))
        elif name == "whoosh":
            found = WhooshBackend(app.config["SEARCH_INDEX_DIR"],
                                  app.config.get("SEARCH_REBUILD_PROCS", 1),
                                  app.config.get("SEARCH_DECODED_BLOCKS"))
        else:
            raise RuntimeError(f"SEARCH_BACKEND must be whoosh or postgres, not {name!r}")
        app.extensions["forum_search"] = found
    return found


# -- writing: note the change now, apply it after commit ------------------------------------------

def index(kind, record_id, soon=True):
    """(Re)index a record once the current transaction commits. Call inside the transaction.

    soon=False only notes the change in the outbox, for changes that matter to ordering alone
    (votes, likes): they are applied with the next catch-up (another write, or `flask forum
    reindex --catch-up` from cron), so a burst of votes does not commit the index once each."""
    if kind not in KINDS:
        raise ValueError(f"search indexes {', '.join(KINDS)}, not {kind!r}")
    db.session.add(SearchOutbox(kind=kind, record_id=record_id))
    if not soon:
        return
    pending = db.session.info.get(hooks._KEY, [])
    if not any(fn is _catch_up_after_commit for fn, _, _ in pending):
        hooks.after_commit(_catch_up_after_commit, current_app._get_current_object())


def index_topic(topic_id):
    """(Re)index a topic and every post in it: for changes its posts' documents depend on
    (hidden, unlisted, moved, split). One INSERT ... SELECT, however long the topic."""
    from sqlalchemy import insert, literal

    from ..models import Post
    from ..models.types import UTCDateTime, utcnow

    db.session.execute(insert(SearchOutbox).from_select(
        ["kind", "record_id", "created_at"],
        select(literal("post"), Post.id, literal(utcnow(), UTCDateTime()))
        .where(Post.topic_id == topic_id)))
    index("topic", topic_id)


# The services say what changed; whether it is still findable is decided when it is applied
# (a withdrawn post's document is rebuilt as invisible, a deleted row's is removed).
enqueue = index
unindex = index
enqueue_topic = index_topic


def _catch_up_after_commit(app):
    if not app.config.get("SEARCH_CATCH_UP_AFTER_COMMIT", True):
        return
    try:
        with own_session(app) as session:
            catch_up(session, app=app, max_batches=4)
    except Exception:  # the outbox keeps the work; the request that caused it succeeded
        log.exception("search catch-up failed; the outbox keeps the changes")


@contextmanager
def own_session(app=None):
    """A session of its own on its own connection: the one that just committed cannot run SQL
    inside its after-commit event, and a rebuild needs one connection for its advisory lock."""
    app = app or current_app
    with app.app_context():
        with db.engine.connect() as connection:
            session = Session(bind=connection, expire_on_commit=False)
            try:
                yield session
            finally:
                session.close()


def _begin_write(session):
    # BEGIN IMMEDIATE on SQLite (see forum.db), an ordinary BEGIN elsewhere.
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"forum_write": True})


def pending_count(session):
    from sqlalchemy import func

    count = session.scalar(select(func.count()).select_from(SearchOutbox))
    session.commit()
    return count


def catch_up(session, app=None, max_batches=None, pause=None):
    """Apply outbox rows to the index until it is empty (or max_batches were applied); returns
    how many rows were applied. Does nothing when another writer holds the lock: that writer
    looks at the outbox again after letting go."""
    engine = backend(app)
    applied = 0
    for _ in range(3):
        done = (_catch_up_postgres if engine.name == "postgres" else _catch_up_whoosh)(
            engine, session, max_batches, pause)
        if done is None:  # someone else is writing
            break
        applied += done
        if not pending_count(session) or (max_batches and applied >= max_batches * BATCH):
            break
    return applied


def _outbox_batch(session):
    rows = session.execute(select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.record_id)
                           .order_by(SearchOutbox.id).limit(BATCH)).all()
    return [r.id for r in rows], {(r.kind, r.record_id) for r in rows}


def _catch_up_whoosh(engine, session, max_batches, pause):
    applied, batches = 0, 0
    with engine.lock(blocking=False) as locked:
        if not locked:
            return None
        while not max_batches or batches < max_batches:
            ids, keys = _outbox_batch(session)
            if not ids:
                break
            docs = documents.build(session, keys)
            session.commit()
            engine.apply(docs, pause=pause)
            # Only now that the index holds them: a crash before this line repeats the batch.
            _begin_write(session)
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(ids)))
            session.commit()
            applied += len(ids)
            batches += 1
    return applied


def _catch_up_postgres(engine, session, max_batches, pause):
    applied, batches = 0, 0
    while not max_batches or batches < max_batches:
        _begin_write(session)
        if not engine.try_lock(session):
            session.rollback()
            return None if not batches else applied
        ids, keys = _outbox_batch(session)
        if not ids:
            session.commit()
            break
        engine.apply(session, documents.build(session, keys), pause=pause)
        session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(ids)))
        session.commit()  # the documents and the outbox rows they clear, together
        applied += len(ids)
        batches += 1
    return applied


def reindex(session, app=None, progress=None):
    """Rebuild the whole index from the database, then apply what changed meanwhile.

    `progress(n)` is called after each batch of n documents. Searches keep working throughout:
    Whoosh fills a new generation and switches to it; PostgreSQL rewrites rows in place and then
    drops those the rebuild did not touch.
    """
    engine = backend(app)
    # Rows already in the outbox are covered by the rebuild, which reads the database after
    # this; rows written later stay for the catch-up at the end.
    covered = session.scalars(select(SearchOutbox.id)).all()
    session.commit()
    if engine.name == "postgres":
        engine.lock_session(session)
        session.commit()
        try:
            generation = engine.next_generation(session)
            session.commit()
            for batch in documents.iter_all(session):
                _begin_write(session)
                engine.apply_batch(session, batch, generation)
                session.commit()
                if progress:
                    progress(len(batch))
            _begin_write(session)
            engine.drop_older(session, generation)
            _delete_ids(session, covered)
            session.commit()
        finally:
            session.rollback()
            engine.unlock_session(session)
            session.commit()
    else:
        with engine.lock(blocking=True):
            engine.rebuild(documents.iter_all(session), progress=progress)
            _begin_write(session)
            _delete_ids(session, covered)
            session.commit()
    catch_up(session, app=app)


def _delete_ids(session, ids):
    for start in range(0, len(ids), 1000):
        session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(ids[start:start + 1000])))


def indexed_doc_ids(session, app=None):
    """Every doc_id the index holds (for checks and tests)."""
    engine = backend(app)
    return engine.doc_ids(session) if engine.name == "postgres" else engine.doc_ids()


def expected_doc_ids(session):
    """Every doc_id the database says the index should hold."""
    ids = set()
    for batch in documents.iter_all(session):
        ids.update(doc["doc_id"] for doc in batch)
    return ids


def parse_help():
    """(example, meaning) pairs for the search page."""
    return HELP


# -- reading ---------------------------------------------------------------------------------------

@dataclass
class SearchPage:
    query: Query
    text: str
    results: list
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self):
        return self.page > 1


def query(text, viewer, page=1, per_page=None):
    """A page of results for the search box's text, only what `viewer` may find, each with a
    highlighted title and snippet. Raises ValidationFailed for a malformed query."""
    per_page = per_page or current_app.config.get("SEARCH_PER_PAGE", 20)
    text = text if isinstance(text, str) else ""
    q = parse(text)
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(field_errors={"page": [
            f"Results go up to page {MAX_PAGE}: narrow the search with a filter instead."]})
    if q.category_slug:
        q.category_id = db.session.scalar(select(Category.id).where(
            Category.slug == q.category_slug))
        if q.category_id is None:
            raise ValidationFailed(field_errors={"q": [
                f"There is no category #{q.category_slug}."]})
    if q.username and db.session.scalar(select(User.id).where(
            User.username_lower == q.username)) is None:
        raise ValidationFailed(field_errors={"q": [f"There is no member @{q.username}."]})
    if q.is_empty and (q.in_title or q.order != "relevance"):
        raise ValidationFailed(field_errors={"q": [
            "Add words or a filter to search for: in:title and order: only shape a search."]})
    if q.is_empty:
        return SearchPage(q, text, [], page, per_page, False)
    engine = backend()
    offset = (page - 1) * per_page
    recent = current_app.config.get("SEARCH_RECENT_MATCHES", 200)
    if engine.name == "postgres":
        hits = engine.search(db.session, q, offset, per_page + 1, recent)
    else:
        hits = engine.search(q, offset, per_page + 1, recent)
    results = documents.load_results(db.session, viewer, hits[:per_page])
    stems = query_stems(q)
    for result in results:
        result["title_html"] = highlight(result["title"], stems)
        result["snippet"] = snippet(result.pop("text"), stems)
    return SearchPage(q, text, results, page, per_page, len(hits) > per_page)
