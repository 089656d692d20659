"""API keys for scripts: issue one (for one member, or for all), revoke it, list them."""
import secrets

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import permissions
from ..db import write_transaction
from ..errors import Conflict, ValidationFailed, require
from ..extensions import db
from ..models import ApiKey, utcnow
from . import audit
from .admin import clean, lookup, member_named


def issue_api_key(actor, username="", description=""):
    """Issue a key for one member, or, with no username, one that acts as whichever member
    the Api-Username header names. Returns (key row, plaintext): only the hash is stored, so
    the plaintext can be shown this once."""
    require(permissions.can_administer(actor))
    description = clean(description)
    user = member_named(username) if clean(username) else None
    if len(description) > 200:
        raise ValidationFailed(field_errors={"description": [
            "Keep the description under 200 characters."]})
    plaintext = secrets.token_hex(32)
    with write_transaction():
        key = ApiKey(key_hash=ApiKey.hash(plaintext), truncated=plaintext[:4],
                     user_id=user.id if user else None, description=description,
                     created_by_id=actor.id)
        db.session.add(key)
        db.session.flush()
        audit.record(actor, "issue_api_key", "api_key", key.id, description,
                     user_id=key.user_id, username=user.username if user else None)
    return key, plaintext


def revoke_api_key(actor, key_id, reason=""):
    require(permissions.can_administer(actor))
    key = lookup(ApiKey, key_id, "API key")
    with write_transaction():
        key = db.session.get(ApiKey, key.id)
        if key.revoked_at is not None:
            raise Conflict(f"Key {key.truncated}… was already revoked.")
        key.revoked_at = utcnow()
        audit.record(actor, "revoke_api_key", "api_key", key.id, clean(reason))
    return key


def api_keys():
    """Live keys first, newest first."""
    return db.session.scalars(
        select(ApiKey).options(selectinload(ApiKey.user))
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())).all()
