"""INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db


def insert_ignore(model, **values):
    """The result's rowcount says whether the row went in (1) or was there already (0)."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    # With psycopg 3, SQLAlchemy reports -1 for an INSERT's rowcount unless asked to keep it
    # (sqlalchemy/sqlalchemy#10974); callers branch on it, e.g. read tracking in services.posts.
    return module.insert(model).values(**values).on_conflict_do_nothing().execution_options(
        preserve_rowcount=True)


def upsert(model, keys, values, update):
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).values(**values).on_conflict_do_update(
        index_elements=list(keys), set_=update)
