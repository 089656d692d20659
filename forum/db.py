"""Engine tuning and the write-transaction helper every service uses."""
import logging
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

log = logging.getLogger("forum.db")
_WROTE = "forum_wrote"  # Connection.info: its open transaction ran more than SELECTs


def configure_sqlite(engine: Engine):
    """WAL, a busy timeout, and transactions we begin ourselves.

    pysqlite's own transaction handling begins lazily and DEFERRED; a deferred transaction that
    read a snapshot and then writes fails at once with "database is locked" when another worker
    wrote in between. We take over BEGIN so write transactions can start IMMEDIATE.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        if conn.get_execution_options().get("forum_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def configure_postgresql(engine: Engine, plan_cache_mode):
    """Note which transactions write (see end_request), and set `plan_cache_mode`.

    psycopg prepares a statement once a connection has run it five times. PostgreSQL then
    plans it afresh on every run while it judges a plan for the values at hand worth it
    ("auto", its default); it did so for the topic list, whose LIMIT a kept plan could not see
    (1.1 ms of planning to run it in 0.5 ms), until the page size was written into the
    statement (queries.page_bound). "force_generic_plan" (config DATABASE_PLAN_CACHE_MODE)
    keeps one plan for every statement; it cannot see any parameter, which on a forum far
    larger than the benchmark's could mean walking a table where an index would do, so it is
    not the default. It applies to every parameterised statement, prepared or not; set it for
    the database role instead where a pooler shares server connections.
    """
    if engine.dialect.name != "postgresql":
        return

    # A statement that does not start with SELECT counts as a write. That errs towards rolling
    # back (SAVEPOINT, SHOW, WITH ... SELECT cost a prepared statement or two, nothing more);
    # the forum runs no SELECT that writes (the search's advisory locks end with the
    # transaction either way).
    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(conn, _cursor, statement, *_rest):
        if statement.lstrip()[:6].upper() != "SELECT":
            conn.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _forget_write(conn):
        conn.info.pop(_WROTE, None)

    if plan_cache_mode in (None, "", "auto"):
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT set_config('plan_cache_mode', %s, false)",
                           (plan_cache_mode,))
        dbapi_connection.commit()


def end_request():
    """End the request's transaction and hand its connection back to the pool.

    On PostgreSQL a transaction that only read is committed, not rolled back. To the database
    the two are the same, but psycopg forgets every statement it has prepared on a ROLLBACK
    (in case the transaction had dropped what they refer to), so with each request rolled back
    no statement was ever prepared, and PostgreSQL parsed and planned every statement of every
    request afresh. A transaction that ran anything but SELECTs, a session holding changes
    not yet flushed, or a request that failed (the caller's choice) is rolled back as before.
    """
    session = db.session()
    try:
        if (session.in_transaction() and session.get_bind().dialect.name == "postgresql"
                and not (session.new or session.dirty or session.deleted)
                and not session.info.get("forum_after_commit")
                and not session.connection().info.get(_WROTE)):
            session.commit()
    except Exception:  # noqa: BLE001 - the page is sent; the rollback below tidies up
        log.warning("could not end a read-only transaction", exc_info=True)
    finally:
        db.session.remove()


def begin_write():
    """Begin the write transaction of a service.

    On SQLite, ends any read transaction the request opened (views only read), then starts one
    that holds the write lock from its first statement. On PostgreSQL, whose statements each
    read what is committed when they run, the request's read transaction simply carries on as
    the write one: ending it and beginning another cost two round trips on every write. What
    the session loaded is expired as the commit would have expired it, so the service reads it
    afresh.
    """
    session = db.session()
    if session.in_transaction():
        if session.get_bind().dialect.name != "sqlite":
            session.flush()
            if session.expire_on_commit:
                session.expire_all()
            return
        session.commit()
    session.connection(execution_options={"forum_write": True})


@contextmanager
def write_transaction(keep_loaded=False):
    """`with write_transaction():` runs the block in one transaction and commits it.

    Committing expires every object the session holds, so a page that writes after loading
    would reload each of them, one query per object. `keep_loaded=True` is for writes that
    change none of them (marking a topic read); the caller expires what the write did change.
    """
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = not keep_loaded
    try:
        begin_write()
        try:
            yield db.session
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    finally:
        session.expire_on_commit = expire_on_commit
