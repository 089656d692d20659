"""Who works in a policy lab beside its leads: leads invite experts and participants by
username, admins may also name a lead, and either removes them again."""
from sqlalchemy import select

from .. import permissions
from ..db import write_transaction
from ..errors import ValidationFailed, require
from ..extensions import db
from ..models import LabMember, User
from ..texts import as_line
from . import audit, notifications
from .labs import get_lab, members


def _named(username):
    """The username a form or script gave, or a refusal that asks for one."""
    username = as_line(username)
    if not username:
        raise ValidationFailed(field_errors={"username": ["Name a member."]})
    return username


def invite(actor, lab_id, username, role="expert"):
    """Leads invite experts and participants by username; admins may also name a lead."""
    lab = get_lab(lab_id)
    require(permissions.can_lead_lab(actor, lab, members(lab)))
    if role not in ("expert", "participant", "lead"):
        raise ValidationFailed(field_errors={"role": ["Choose expert or participant."]})
    if role == "lead" and not actor.is_admin:
        raise ValidationFailed(field_errors={"role": ["Only admins name a lab's leads."]})
    username = _named(username)
    user = db.session.scalar(select(User).where(User.username_lower == username.lower()))
    if user is None:
        raise ValidationFailed(field_errors={"username": [f"No member is called {username}."]})
    with write_transaction():
        member = db.session.get(LabMember, (lab.id, user.id))
        if member is None:
            member = LabMember(lab_id=lab.id, user_id=user.id, invited_by_id=actor.id)
            db.session.add(member)
        member.role = role
        audit.record(actor, "invite_to_lab", "lab", lab.id, f"{user.username} as {role}",
                     user_id=user.id, role=role)
        notifications.notify(user.id, "lab_invitation", actor=actor, topic=lab.topic,
                             proposal=lab.proposal, role=role, url=f"/labs/{lab.id}")
    return member


def remove(actor, lab_id, username):
    lab = get_lab(lab_id)
    require(permissions.can_lead_lab(actor, lab, members(lab)))
    username = _named(username)
    user = db.session.scalar(select(User).where(User.username_lower == username.lower()))
    member = db.session.get(LabMember, (lab.id, user.id)) if user else None
    if member is None:
        raise ValidationFailed(field_errors={"username": [f"{username} is not in this lab."]})
    with write_transaction():
        db.session.delete(db.session.get(LabMember, (lab.id, user.id)))
        audit.record(actor, "remove_from_lab", "lab", lab.id, user.username, user_id=user.id)
