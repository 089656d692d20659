"""Side effects deferred until the surrounding transaction has committed."""
import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

_KEY = "forum_after_commit"
log = logging.getLogger("forum.hooks")


def after_commit(fn, *args, **kwargs):
    """Run fn(*args, **kwargs) once the current transaction commits; dropped on rollback."""
    db.session.info.setdefault(_KEY, []).append((fn, args, kwargs))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session):
    callbacks = session.info.pop(_KEY, [])
    for fn, args, kwargs in callbacks:
        # The transaction has committed: one failing side effect (mail, search) must neither
        # stop the others nor turn the member's successful request into an error.
        try:
            fn(*args, **kwargs)
        except Exception:
            log.exception("after-commit %s failed", getattr(fn, "__qualname__", fn))


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
