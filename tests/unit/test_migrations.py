"""Migrations: `flask db upgrade` builds an empty database into exactly what the models say.

On SQLite (a fresh file) always, and on PostgreSQL when TEST_DATABASE_URL is set, in a fresh
database created for the test and dropped after it.
"""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from forum import create_app
from forum.extensions import db
from tests.conftest import ENGINES, PG_URL


@pytest.fixture
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    url = make_url(PG_URL)
    name = f"{url.database}_migrations_{uuid.uuid4().hex[:8]}"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def flask_db(app, *args):
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, f"flask db {' '.join(args)}:\n{result.output}\n" \
                                  f"{result.exception!r}"
    return result


def schema_differences(app):
    """What Alembic's autogenerate would still write: empty when migrations match models."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names(app):
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


@pytest.mark.parametrize("empty_database", ENGINES, indirect=True)
def test_upgrade_from_empty_builds_the_models_schema(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database})
    assert table_names(app) == set()
    flask_db(app, "upgrade")
    assert table_names(app) == {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
    differences = schema_differences(app)
    assert differences == [], "the migrations and the models disagree; write a migration:\n" + \
        "\n".join(map(repr, differences))
    with app.app_context():
        heads = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
        assert len(list(heads)) == 1
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("empty_database", ENGINES, indirect=True)
def test_downgrade_to_base_and_upgrade_again(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database})
    flask_db(app, "upgrade")
    flask_db(app, "downgrade", "base")
    assert table_names(app) <= {"alembic_version"}
    flask_db(app, "upgrade")
    assert schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


def test_the_migrations_have_one_head():
    """Two engineers adding a migration each from the same parent leave two heads, and
    `flask db upgrade` then refuses to run: one of them must be rebased onto the other."""
    from alembic.script import ScriptDirectory

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"migration heads: {heads}"
