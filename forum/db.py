"""Engine tuning and the write-transaction helper every service uses."""
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db


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
