"""Flask extensions, created once here and bound to the app in create_app().

Flask-Migrate is the exception: create_app() sets it up only for commands (see there).
"""
from flask import has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so that Alembic migrations are reproducible on every engine.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class KeyFirstLoginManager(LoginManager):
    """A request that sends Api-Key is judged by its key alone. Flask-Login would look at the
    session and remember cookies first and, finding an anonymous session that fails its
    "strong" protection (a script with a cookie jar that once fetched a page), answer as a
    visitor without ever asking the request loader."""

    def _load_user(self):
        if has_request_context() and request.headers.get("Api-Key") and self._request_callback:
            return self._update_request_context_with_user(self._request_callback(request))
        return super()._load_user()


db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
login_manager = KeyFirstLoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
