"""Writes audit events: one per act of power, inside the act's own transaction."""
from ..extensions import db
from ..models import AuditEvent


def record(actor, action, target_kind, target_id, reason="", **details):
    event = AuditEvent(actor_id=getattr(actor, "id", None), action=action,
                       target_kind=target_kind, target_id=target_id, reason=reason or "",
                       details=details)
    db.session.add(event)
    return event
