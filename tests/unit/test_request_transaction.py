"""How a request's transaction ends (forum/db.py, end_request, called by the app's teardown):
what it wrote and did not commit never lands, and on PostgreSQL a request that only read keeps
the statements psycopg prepared, so the next requests on that connection are not parsed and
planned afresh."""
import pytest
from sqlalchemy import select, text, update

from forum.db import end_request
from forum.extensions import db
from forum.models import Category, Topic


def prepared_on(connection):
    """The statements prepared on a psycopg connection (back in the pool or not)."""
    count = connection.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
    connection.commit()
    return count


def read_until_prepared():
    """Read as a page does, often enough for psycopg to prepare the statement; returns the
    request's psycopg connection."""
    connection = db.session.connection().connection.dbapi_connection
    for _ in range(connection.prepare_threshold + 1):  # psycopg prepares on the sixth run
        db.session.scalars(select(Topic.title).where(Topic.id > 0)).all()
    return connection


@pytest.fixture
def postgresql_only(engine_name):
    if engine_name != "postgresql":
        pytest.skip("psycopg's prepared statements are PostgreSQL's")


def test_a_read_only_request_keeps_its_prepared_statements(app, make, postgresql_only):
    make.topic(title="Bus fares in the valleys")
    db.session.remove()
    connection = read_until_prepared()
    app.do_teardown_appcontext(None)  # the request read and is over
    assert prepared_on(connection) >= 1
    connection = read_until_prepared()
    db.session.rollback()  # what every request did before: psycopg forgets them all
    assert prepared_on(connection) == 0


def test_a_failed_request_is_rolled_back(app, make, postgresql_only):
    make.topic(title="Bus fares in the valleys")
    db.session.remove()
    connection = read_until_prepared()
    app.do_teardown_appcontext(RuntimeError("the view failed"))
    assert prepared_on(connection) == 0


def test_a_change_written_but_not_committed_is_rolled_back(app, make):
    topic_id = make.topic(title="Bus fares in the valleys").id
    category_id = make.category(name="Transport").id
    db.session.commit()
    db.session.execute(update(Topic).where(Topic.id == topic_id).values(title="Changed"))
    app.do_teardown_appcontext(None)
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


@pytest.mark.app_config(DATABASE_PLAN_CACHE_MODE="force_generic_plan")
def test_the_plan_cache_mode_can_be_set_per_connection(app, postgresql_only):
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "force_generic_plan"


def test_postgresql_chooses_its_plans_by_default(app, postgresql_only):
    assert db.session.scalar(text("SHOW plan_cache_mode")) == "auto"


def test_a_page_of_topics_is_planned_once(app, make, postgresql_only):
    """A page's LIMIT is written into the statement (queries.page_bound): PostgreSQL then keeps
    one plan for it instead of planning every run for the LIMIT it could not see."""
    from forum.permissions import Anonymous
    from forum.queries import topic_list

    make.topic(title="Bus fares in the valleys")
    db.session.remove()
    for _ in range(12):
        topic_list(Anonymous())
    plans = db.session.execute(text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE '%FROM topics%LIMIT 31%'")).all()
    assert plans and plans[0].generic_plans > 0, plans
