"""Which @names are members: an @mention links to a profile only where there is one."""
from flask import has_app_context
from sqlalchemy import select


def member_usernames(names):
    """The lower-case usernames among `names` that members have; None outside the app, where
    nobody can tell (every @name is then linked)."""
    if not has_app_context():
        return None
    from .extensions import db
    from .models import User

    return set(db.session.scalars(select(User.username_lower).where(
        User.username_lower.in_(list(names)))))
