"""Side effects after commit: each runs once the transaction commits, none on rollback, and one
that fails neither stops the others nor undoes the commit."""
import logging

from forum.extensions import db
from forum.models import Category
from forum.services import hooks


def test_a_failing_side_effect_does_not_stop_the_others(app, caplog):
    ran = []

    def broken():
        raise RuntimeError("the mail server is down")

    db.session.add(Category(name="Allotments", slug="allotments"))
    hooks.after_commit(broken)
    hooks.after_commit(ran.append, "notified")
    with caplog.at_level(logging.ERROR, logger="forum.hooks"):
        db.session.commit()

    assert ran == ["notified"]
    assert "the mail server is down" in caplog.text
    assert db.session.scalar(db.select(Category.name).where(Category.slug == "allotments"))


def test_side_effects_are_dropped_on_rollback(app):
    ran = []
    db.session.add(Category(name="Allotments", slug="allotments"))
    hooks.after_commit(ran.append, "notified")
    db.session.rollback()
    db.session.commit()
    assert ran == []
