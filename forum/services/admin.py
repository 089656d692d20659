"""Administration: categories, nations and groups, sections and their leads, roles, members.

API keys live in services/api_keys.py."""
import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import permissions
from ..db import write_transaction
from ..errors import Conflict, NotFound, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..models import Category, Group, Nation, Section, SectionMembership, User, utcnow
from ..models.forum import TOPIC_CREATORS
from ..models.users import ROLES
from ..texts import as_line, visible_length
from . import accounts, audit
from .posts import slugify

COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NATION_CODE_RE = re.compile(r"^[a-z]+(?:-[a-z]+)*$")
DESCRIPTION_MAX = 2000
POSITION_MAX = 10000


# -- shared checks -----------------------------------------------------------------------------

def clean(value):
    return str(value if value is not None else "").strip()


def _check_name(name, errors, max_len, what):
    if not visible_length(name):
        errors.setdefault("name", []).append(f"Give the {what} a name.")
    elif len(name) > max_len:
        errors.setdefault("name", []).append(f"Names are at most {max_len} characters.")


def _check_slug(slug, errors, max_len):
    if not SLUG_RE.match(slug) or len(slug) > max_len:
        errors.setdefault("slug", []).append(
            f"Slugs are lower-case letters, digits and single hyphens, at most {max_len} "
            "characters.")


def _taken(model, column, value, except_id=None):
    stmt = select(model.id).where(func.lower(column) == value.lower())
    if except_id is not None:
        stmt = stmt.where(model.id != except_id)
    return db.session.scalar(stmt.limit(1)) is not None


def row_id(value):
    """A primary key from input, or None: ids past 32 bits would make PostgreSQL raise."""
    return as_id(value)


def lookup(model, object_id, what, *options):
    obj = db.session.get(model, row_id(object_id), options=options) if row_id(object_id) \
        else None
    if obj is None:
        raise NotFound(f"There is no such {what}.")
    return obj


def _changes(obj, values):
    """Apply values to obj; return {field: [before, after]} for the audit event."""
    changed = {}
    for field, value in values.items():
        before = getattr(obj, field)
        if before != value:
            changed[field] = [before, value]
            setattr(obj, field, value)
    return changed


def _duplicate(field, what):
    # Two admins saving the same name at once: the unique index decides, the loser reads this.
    return ValidationFailed(field_errors={field: [f"Another {what} already uses that {field}."]})


# -- categories --------------------------------------------------------------------------------

def _category_values(name, slug, color, description, position, topic_creators, except_id=None):
    name, slug, color = as_line(name), clean(slug).lower(), clean(color).lower()
    description, creators = clean(description), clean(topic_creators)
    errors = {}
    _check_name(name, errors, 50, "category")
    slug = slug or slugify(name)[:50].strip("-")
    _check_slug(slug, errors, 50)
    if not errors.get("name") and _taken(Category, Category.name, name, except_id):
        errors.setdefault("name", []).append("Another category already has that name.")
    if not errors.get("slug") and _taken(Category, Category.slug, slug, except_id):
        errors.setdefault("slug", []).append("Another category already uses that slug.")
    if not COLOUR_RE.match(color):
        errors["color"] = ["Give the colour as # and six hex digits, like #0f766e."]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"Keep the description under {DESCRIPTION_MAX} characters."]
    if creators not in TOPIC_CREATORS:
        errors["topic_creators"] = ["Choose everyone, moderators or admins."]
    if position in (None, ""):
        position = None
    elif not re.fullmatch(r"-?[0-9]{1,6}", clean(position)) or \
            not 0 <= int(position) <= POSITION_MAX:
        errors["position"] = [f"Position is a whole number from 0 to {POSITION_MAX}."]
    else:
        position = int(position)
    if errors:
        raise ValidationFailed(field_errors=errors)
    return {"name": name, "slug": slug, "color": color, "description": description,
            "position": position, "topic_creators": creators}


def create_category(actor, name, slug="", color="#0f766e", description="", position=None,
                    topic_creators="everyone"):
    require(permissions.can_administer(actor))
    values = _category_values(name, slug, color, description, position, topic_creators)
    try:
        with write_transaction():
            if values["position"] is None:
                values["position"] = (db.session.scalar(
                    select(func.max(Category.position))) or 0) + 1
            category = Category(**values)
            db.session.add(category)
            db.session.flush()
            audit.record(actor, "create_category", "category", category.id,
                         name=category.name)
    except IntegrityError:
        raise _duplicate("name", "category") from None
    return category


def update_category(actor, category_id, name, slug, color, description, position,
                    topic_creators):
    require(permissions.can_administer(actor))
    category = lookup(Category, category_id, "category")
    values = _category_values(name, slug, color, description, position, topic_creators,
                              except_id=category.id)
    if values["position"] is None:
        values["position"] = category.position
    try:
        with write_transaction():
            category = db.session.get(Category, category.id)
            changed = _changes(category, values)
            if changed:
                audit.record(actor, "update_category", "category", category.id,
                             changes=changed)
    except IntegrityError:
        raise _duplicate("name", "category") from None
    return category


# -- nations and groups ------------------------------------------------------------------------

def create_nation(actor, code, name):
    require(permissions.can_administer(actor))
    code, name = clean(code).lower(), as_line(name)
    errors = {}
    if not NATION_CODE_RE.match(code) or len(code) > 32:
        errors["code"] = ["Codes are lower-case letters and single hyphens, like "
                          "'northern-ireland'."]
    elif db.session.get(Nation, code) is not None:
        errors["code"] = ["That nation exists already."]
    _check_name(name, errors, 80, "nation")
    if errors:
        raise ValidationFailed(field_errors=errors)
    try:
        with write_transaction():
            nation = Nation(code=code, name=name)
            db.session.add(nation)
            # Nations are keyed by code and audit targets by number, so the code rides along.
            audit.record(actor, "create_nation", "nation", 0, code=code, name=name)
    except IntegrityError:
        raise _duplicate("code", "nation") from None
    return nation


def _group_values(name, nation_code, except_id=None):
    name, nation_code = as_line(name), clean(nation_code)
    errors = {}
    _check_name(name, errors, 80, "group")
    slug = slugify(name)
    if not errors and (_taken(Group, Group.name, name, except_id)
                       or _taken(Group, Group.slug, slug, except_id)):
        errors["name"] = ["Another group already has that name."]
    if not nation_code or db.session.get(Nation, nation_code) is None:
        errors["nation"] = ["Choose one of the listed nations."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    return {"name": name, "slug": slug, "nation_code": nation_code}


def create_group(actor, name, nation_code):
    require(permissions.can_administer(actor))
    values = _group_values(name, nation_code)
    try:
        with write_transaction():
            group = Group(**values)
            db.session.add(group)
            db.session.flush()
            audit.record(actor, "create_group", "group", group.id, name=group.name,
                         nation=group.nation_code)
    except IntegrityError:
        raise _duplicate("name", "group") from None
    return group


def update_group(actor, group_id, name, nation_code):
    require(permissions.can_administer(actor))
    group = lookup(Group, group_id, "group")
    values = _group_values(name, nation_code, except_id=group.id)
    try:
        with write_transaction():
            group = db.session.get(Group, group.id)
            changed = _changes(group, values)
            if changed:
                audit.record(actor, "update_group", "group", group.id, changes=changed)
    except IntegrityError:
        raise _duplicate("name", "group") from None
    return group


# -- sections, members and leads ---------------------------------------------------------------

def _section_values(name, description, except_id=None):
    name, description = as_line(name), clean(description)
    errors = {}
    _check_name(name, errors, 80, "section")
    slug = slugify(name)
    if not errors and (_taken(Section, Section.name, name, except_id)
                       or _taken(Section, Section.slug, slug, except_id)):
        errors["name"] = ["Another section already has that name."]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [f"Keep the description under {DESCRIPTION_MAX} characters."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    return {"name": name, "slug": slug, "description": description}


def create_section(actor, name, description=""):
    require(permissions.can_administer(actor))
    values = _section_values(name, description)
    try:
        with write_transaction():
            section = Section(**values)
            db.session.add(section)
            db.session.flush()
            audit.record(actor, "create_section", "section", section.id, name=section.name)
    except IntegrityError:
        raise _duplicate("name", "section") from None
    return section


def update_section(actor, section_id, name, description):
    require(permissions.can_administer(actor))
    section = lookup(Section, section_id, "section")
    values = _section_values(name, description, except_id=section.id)
    try:
        with write_transaction():
            section = db.session.get(Section, section.id)
            changed = _changes(section, values)
            if changed:
                audit.record(actor, "update_section", "section", section.id, changes=changed)
    except IntegrityError:
        raise _duplicate("name", "section") from None
    return section


def member_named(username):
    username = clean(username)
    user = db.session.scalar(select(User).where(User.username_lower == username.lower())) \
        if username else None
    if user is None:
        raise ValidationFailed(field_errors={"username": [
            f"No member is called {username}." if username else "Name a member."]})
    return user


def add_section_member(actor, section_id, username, lead=False):
    """Add a member to a section, as a lead if asked; appointing an existing member as lead
    goes through set_section_lead."""
    require(permissions.can_administer(actor))
    section = lookup(Section, section_id, "section")
    user = member_named(username)
    try:
        with write_transaction():
            if db.session.get(SectionMembership, (section.id, user.id)) is not None:
                raise Conflict(f"{user.username} is already in {section.name}.")
            db.session.add(SectionMembership(section_id=section.id, user_id=user.id,
                                             is_lead=bool(lead)))
            audit.record(actor, "add_section_member", "section", section.id,
                         user_id=user.id, username=user.username, lead=bool(lead))
    except IntegrityError:
        raise Conflict(f"{user.username} is already in {section.name}.") from None
    return section


def remove_section_member(actor, section_id, user_id):
    require(permissions.can_administer(actor))
    section = lookup(Section, section_id, "section")
    user = lookup(User, user_id, "member")
    with write_transaction():
        membership = db.session.get(SectionMembership, (section.id, user.id))
        if membership is None:
            raise Conflict(f"{user.username} is not in {section.name}.")
        db.session.delete(membership)
        audit.record(actor, "remove_section_member", "section", section.id,
                     user_id=user.id, username=user.username, was_lead=membership.is_lead)
    return section


def set_section_lead(actor, section_id, user_id, lead):
    """Appoint (lead=True) or stand down (lead=False) a lead; a lead stays a member after."""
    require(permissions.can_administer(actor))
    section = lookup(Section, section_id, "section")
    user = lookup(User, user_id, "member")
    lead = bool(lead)
    with write_transaction():
        membership = db.session.get(SectionMembership, (section.id, user.id))
        if membership is None:
            raise Conflict(f"{user.username} is not in {section.name}: add them first.")
        if membership.is_lead == lead:
            state = "already" if lead else "not"
            raise Conflict(f"{user.username} is {state} a lead of {section.name}.")
        membership.is_lead = lead
        audit.record(actor, "appoint_section_lead" if lead else "remove_section_lead",
                     "section", section.id, user_id=user.id, username=user.username)
    return section


# -- roles and members -------------------------------------------------------------------------

def set_role(actor, user_id, role, reason=""):
    require(permissions.can_administer(actor))
    target = lookup(User, user_id, "member")
    role = clean(role)
    require(permissions.can_change_role(actor, target, role))
    errors = {}
    if role not in ROLES:
        errors["role"] = ["Choose member, moderator or admin."]
    if len(clean(reason)) > 500:
        errors["reason"] = ["Keep the reason under 500 characters."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        target = db.session.get(User, target.id)
        if target.role == role:
            raise Conflict(f"{target.username} is already a {role}.")
        before, target.role = target.role, role
        audit.record(actor, "change_role", "user", target.id, clean(reason),
                     before=before, after=role)
    return target


def create_member(actor, username, email, password, name="", group_id=None):
    """An active, verified member made by an admin (POST /users.json); no email is sent."""
    require(permissions.can_create_users_via_api(actor))
    username, name = clean(username), as_line(name)
    errors = {}
    accounts.check_username(username, errors)
    try:
        email = accounts.normalise_email(clean(email))
        if db.session.scalar(select(User.id).where(User.email_lower == email.lower())):
            errors.setdefault("email", []).append("An account already uses that email.")
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
    accounts.check_password(password if isinstance(password, str) else "", errors,
                            (username, email, name))
    group = db.session.get(Group, row_id(group_id)) if row_id(group_id) else None
    if group is None:
        errors["group"] = ["Choose one of the groups (its id, from /groups.json)."]
    if len(name) > 80:
        errors["name"] = ["Names are at most 80 characters."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    try:
        with write_transaction():
            user = User(username=username, username_lower=username.lower(), email=email,
                        email_lower=email.lower(), name=name, group_id=group.id,
                        email_verified_at=utcnow())
            user.set_password(password)
            db.session.add(user)
            db.session.flush()
            audit.record(actor, "create_member", "user", user.id, username=user.username)
    except IntegrityError:
        raise ValidationFailed("That username or email was taken a moment ago.") from None
    return user


# -- what the admin pages and the API list -----------------------------------------------------

def nations():
    return db.session.scalars(select(Nation).order_by(Nation.name)).all()


def groups():
    """Groups by nation, each with its member count (one query)."""
    members = select(func.count(User.id)).where(User.group_id == Group.id).scalar_subquery()
    return db.session.execute(
        select(Group, members).order_by(Group.nation_code, Group.name)).all()


WITH_MEMBERS = selectinload(Section.memberships).joinedload(SectionMembership.user)


def sections():
    return db.session.scalars(select(Section).options(WITH_MEMBERS).order_by(Section.name)).all()
