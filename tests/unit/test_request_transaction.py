"""How a request's transaction ends (forum/db.py, end_request): what it wrote and did not
commit never lands, and on PostgreSQL a request that only read keeps the statements psycopg
prepared, so the next requests on that connection are not planned afresh."""
import pytest
from sqlalchemy import select, text, update

from forum.db import end_request
from forum.extensions import db
from forum.models import Category, Topic


def prepared_on_this_connection():
    return db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))


def test_a_read_only_request_keeps_its_prepared_statements(app, make, engine_name):
    if engine_name != "postgresql":
        pytest.skip("psycopg's prepared statements are PostgreSQL's")
    make.topic(title="Bus fares in the valleys")
    db.session.commit()
    db.session.remove()
    connection = db.session.connection().connection.dbapi_connection
    for _ in range(connection.prepare_threshold + 1):  # psycopg prepares on the sixth run
        db.session.scalars(select(Topic.title).where(Topic.id > 0)).all()
    assert prepared_on_this_connection() >= 1
    end_request()  # the request read and is over: its connection goes back to the pool
    assert db.session.connection().connection.dbapi_connection is connection  # the same one
    assert prepared_on_this_connection() >= 1
    db.session.rollback()  # what every request did before: psycopg forgets them all
    assert prepared_on_this_connection() == 0
    # What is prepared is planned once (config DATABASE_PLAN_CACHE_MODE).
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"


def test_a_change_written_but_not_committed_is_rolled_back(app, make):
    topic_id = make.topic(title="Bus fares in the valleys").id
    category_id = make.category(name="Transport").id
    db.session.commit()
    db.session.execute(update(Topic).where(Topic.id == topic_id).values(title="Changed"))
    end_request()
    assert db.session.scalar(select(Topic.title).where(Topic.id == topic_id)) == \
        "Bus fares in the valleys"
    db.session.get(Category, category_id).name = "Renamed"
    db.session.flush()
    end_request()
    assert db.session.get(Category, category_id).name == "Transport"


def test_an_object_changed_and_not_flushed_is_not_saved(app, make):
    category_id = make.category(name="Transport").id
    db.session.commit()
    db.session.get(Category, category_id).name = "Changed on a page, never saved"
    end_request()
    assert db.session.get(Category, category_id).name == "Transport"
