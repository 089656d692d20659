"""Accounts: sign up, email verification, password reset, profile and credentials."""
import functools
import hashlib
import hmac
import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import mail, permissions
from ..db import write_transaction
from ..errors import Conflict, NotFound, ServiceError, ValidationFailed, require
from ..extensions import db
from ..ids import as_id
from ..texts import as_line
from ..markup import COOK_VERSION, cook
from ..models import Group, User, utcnow
from . import audit
from .sessions import end_all_sessions

USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,28}[A-Za-z0-9]")
# Pages live at /u/{username} and /u/{username}.json, avatars at {username}.svg: a name with
# one of these endings would be unreachable or would look like a file.
CONFUSING_SUFFIX = re.compile(r"\.(json|js|css|html?|xml|rss|svg|png|gif|jpe?g|ico|txt)$",
                              re.IGNORECASE)
RESERVED = {"admin", "administrator", "moderator", "moderators", "system", "forum", "staff",
            "support", "root", "api", "new", "latest", "top", "unread", "me", "everyone",
            "here", "anonymous", "nobody", "login", "logout", "signup", "settings", "my"}
NAME_MAX = 80
BIO_MAX = 3000


class MailUnavailable(ServiceError):
    status = 503


def _text(value):
    """A form or JSON value as text; anything else (a number, a list, null) reads as empty."""
    return value if isinstance(value, str) else ""


def _serializer(salt):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _loads(salt, token, max_age):
    """The payload of a token we signed, or None if it is not one; SignatureExpired passes."""
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    return data


def _duration(seconds):
    """How long a link works, in words: "2 days", "1 hour", "90 minutes"."""
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def _link(endpoint, **values):
    """An absolute link for a mail, on BASE_URL, so it is right behind a proxy or from the CLI."""
    base = urlsplit(current_app.config["BASE_URL"].rstrip("/"))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def normalise_email(email):
    try:
        return validate_email(_text(email).strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationFailed(field_errors={"email": [str(exc)]}) from None


def check_username(username, errors):
    def refuse(message):
        errors.setdefault("username", []).append(message)

    if not username:
        refuse("Choose a username.")
    elif not USERNAME_RE.fullmatch(username) or ".." in username:
        refuse("Usernames are 3 to 30 letters, digits, '_', '.' or '-', "
               "starting and ending with a letter or digit.")
    elif username.lower() in RESERVED:
        refuse("That username is reserved.")
    elif CONFUSING_SUFFIX.search(username):
        refuse("Usernames cannot end like a file name (such as .json or .png).")
    elif db.session.scalar(select(User.id).where(User.username_lower == username.lower())):
        refuse("That username is taken.")


def check_password(password, errors, user_inputs=()):
    password = _text(password)
    if len(password) < 10:
        errors.setdefault("password", []).append("Use at least 10 characters.")
        return
    if len(password) > 200:
        errors.setdefault("password", []).append("Use at most 200 characters.")
        return
    # Imported here: its dictionaries take 13 MB, wanted only when a password is chosen.
    from zxcvbn import zxcvbn

    result = zxcvbn(password, user_inputs=[u for u in user_inputs if u])
    if result["score"] < current_app.config["MIN_PASSWORD_SCORE"]:
        hint = result["feedback"].get("warning") or "It is too easy to guess."
        errors.setdefault("password", []).append(
            f"Choose a stronger password. {hint}".strip())


def _email_taken(email, except_user=None):
    stmt = select(User.id).where(User.email_lower == email.lower())
    if except_user is not None:
        stmt = stmt.where(User.id != except_user.id)
    return db.session.scalar(stmt) is not None


def _find_group(group_id):
    """The group a form or JSON body names by id, or None when it names none that exists."""
    group_id = as_id(group_id)
    return db.session.get(Group, group_id) if group_id is not None else None


def sign_up(username, email, password, name="", group_id=None, verified=False, role="member",
            group_required=True):
    """Create an account. Unverified accounts read only until they follow the emailed link."""
    username, password, name = _text(username).strip(), _text(password), as_line(name)
    errors = {}
    check_username(username, errors)
    try:
        email = normalise_email(email)
        if _email_taken(email):
            errors.setdefault("email", []).append("An account already uses that email.")
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
        email = ""
    check_password(password, errors, (username, email, name))
    group = None
    if group_id in (None, ""):
        if group_required:
            errors.setdefault("group", []).append("Choose your local group.")
    elif (group := _find_group(group_id)) is None:
        errors.setdefault("group", []).append("Choose one of the listed groups.")
    if len(name) > NAME_MAX:
        errors.setdefault("name", []).append(f"Names are at most {NAME_MAX} characters.")
    if errors:
        raise ValidationFailed(field_errors=errors)

    try:
        with write_transaction():
            user = User(username=username, username_lower=username.lower(), email=email,
                        email_lower=email.lower(), name=name, role=role,
                        group_id=group.id if group else None,
                        email_verified_at=utcnow() if verified else None)
            user.set_password(password)
            db.session.add(user)
            db.session.flush()
            if not verified:
                _mail_verification(user)
    except IntegrityError:
        # Another sign-up took the name or the address between our check and our insert.
        errors = {}
        check_username(username, errors)
        if _email_taken(email):
            errors["email"] = ["An account already uses that email."]
        raise ValidationFailed(field_errors=errors or {"username": ["That username is taken."]}
                               ) from None
    return user


def create_admin(username, email, password, group_id=None):
    user = sign_up(username, email, password, group_id=group_id, verified=True,
                   group_required=False)
    with write_transaction():
        user = db.session.get(User, user.id)
        user.role = "admin"
        audit.record(None, "grant_admin", "user", user.id, "created with flask forum create-admin")
    return user


def _verification_mail(user):
    token = _serializer("verify-email").dumps({"id": user.id, "email": user.email_lower})
    link = _link("auth.verify_email", token=token)
    max_age = _duration(current_app.config["EMAIL_TOKEN_MAX_AGE"])
    return (user.email, "Confirm your email address",
            f"Hello {user.display_name},\n\nConfirm your email address to start posting:\n\n"
            f"{link}\n\nThe link works for {max_age}. If you did not sign up, ignore this mail.\n")


def _mail_verification(user):
    """Inside a transaction: mail the link once it commits (a rollback sends nothing)."""
    mail.send_after_commit(*_verification_mail(user))


def verify_email(token):
    try:
        data = _loads("verify-email", token, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    except SignatureExpired:
        raise ValidationFailed("That link has expired: sign in and ask for a new one.") from None
    if data is None:
        raise ValidationFailed("That link is not valid.")
    with write_transaction():
        user = db.session.get(User, data["id"])
        if user is None or user.email_lower != data.get("email"):
            raise ValidationFailed("That link is not valid for this account any more.")
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
    return user


def resend_verification(user):
    if user.is_verified:
        raise Conflict("Your email address is already confirmed.")
    if not mail.deliver(*_verification_mail(user)):
        raise MailUnavailable("We could not send mail just now. Try again in a few minutes.")


@functools.cache
def _no_such_user_hash():
    # Checked when no account matches, so a wrong username takes as long as a wrong password
    # and the time taken does not tell which accounts exist.
    return generate_password_hash("no account has this password")


def authenticate(login, password):
    """The member for these credentials, or a ValidationFailed that does not say which was wrong."""
    login, password = _text(login).strip().lower(), _text(password)
    user = db.session.scalar(select(User).where(
        (User.username_lower == login) | (User.email_lower == login))) if login else None
    if user is None:
        check_password_hash(_no_such_user_hash(), password)
        raise ValidationFailed("Wrong username, email or password.")
    if not user.check_password(password):
        raise ValidationFailed("Wrong username, email or password.")
    if user.is_suspended():
        until = user.suspended_until.strftime("%-d %B %Y")
        raise ValidationFailed(f"This account is suspended until {until}: {user.suspend_reason}")
    return user


def _reset_fingerprint(user):
    """Changes with the password and the address, so a reset link works once, and only while
    the account still has the address it was sent to."""
    return hashlib.sha256(f"{user.password_hash}\0{user.email_lower}".encode()).hexdigest()[:20]


def request_password_reset(email):
    """Mail a reset link if an account has this email; say nothing either way."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        return
    user = db.session.scalar(select(User).where(User.email_lower == email.lower()))
    if user is None:
        return
    token = _serializer("reset-password").dumps({"id": user.id, "f": _reset_fingerprint(user)})
    link = _link("auth.reset_password", token=token)
    max_age = _duration(current_app.config["PASSWORD_RESET_MAX_AGE"])
    # A failure is logged, not shown: showing it would tell that this address has an account.
    mail.deliver(user.email, "Reset your password",
                 f"Hello {user.display_name},\n\nSomeone asked to reset the password of "
                 f"{user.username}. To choose a new one, open:\n\n{link}\n\n"
                 f"The link works for {max_age} and once only. "
                 "If it was not you, ignore this mail.\n")


def _reset_token_is_current(user, data):
    return user is not None and hmac.compare_digest(_reset_fingerprint(user),
                                                    str(data.get("f", "")))


def _reset_token(token):
    """The member a reset link is for and its payload, or a ValidationFailed saying why not."""
    try:
        data = _loads("reset-password", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise ValidationFailed("That reset link has expired: ask for a new one.") from None
    if data is None:
        raise ValidationFailed("That reset link is not valid.")
    user = db.session.get(User, data["id"])
    if not _reset_token_is_current(user, data):
        raise ValidationFailed("That reset link has been used already: ask for a new one.")
    return user, data


def user_for_reset_token(token):
    return _reset_token(token)[0]


def reset_password(token, password):
    user, data = _reset_token(token)
    password = _text(password)
    errors = {}
    check_password(password, errors, (user.username, user.email, user.name))
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        # Locked and checked again, so two requests racing with one link cannot both use it.
        user = db.session.scalar(select(User).where(User.id == user.id)
                                 .with_for_update(of=User)
                                 .execution_options(populate_existing=True))
        if not _reset_token_is_current(user, data):
            raise ValidationFailed("That reset link has been used already: ask for a new one.")
        user.set_password(password)
        user.session_version += 1
        end_all_sessions(user.id)
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()  # they proved they read this inbox
    return user


def change_password(user, current, new):
    if not user.check_password(_text(current)):
        raise ValidationFailed(field_errors={"current_password": ["That is not your password."]})
    new = _text(new)
    errors = {}
    check_password(new, errors, (user.username, user.email, user.name))
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        user = db.session.get(User, user.id)
        user.set_password(new)
        user.session_version += 1
        end_all_sessions(user.id)
    return user


def change_email(user, password, new_email):
    """Move the account to a new address; it reads only until the new address is confirmed."""
    if not user.check_password(_text(password)):
        raise ValidationFailed(field_errors={"password": ["That is not your password."]})
    email = normalise_email(new_email)
    if email.lower() == user.email_lower:
        raise ValidationFailed(field_errors={"email": ["That is already your email address."]})
    if _email_taken(email, except_user=user):
        raise ValidationFailed(field_errors={"email": ["An account already uses that email."]})
    try:
        with write_transaction():
            user = db.session.get(User, user.id)
            old_email = user.email
            user.email = email
            user.email_lower = email.lower()
            user.email_verified_at = None
            _mail_verification(user)
            mail.send_after_commit(
                old_email, "Your email address was changed",
                f"Hello {user.display_name},\n\nThe email address of {user.username} was "
                f"changed from this one to {email}. If you did not do this, tell the forum's "
                "admins at once.\n")
    except IntegrityError:
        raise ValidationFailed(field_errors={"email": ["An account already uses that email."]}
                               ) from None
    return user


def update_profile(actor, target, name=None, bio=None, group_id=None):
    require(permissions.can_edit_profile(actor, target))
    name = None if name is None else as_line(name)
    bio = None if bio is None else _text(bio)
    errors = {}
    if name is not None and len(name) > NAME_MAX:
        errors["name"] = [f"Names are at most {NAME_MAX} characters."]
    if bio is not None and len(bio) > BIO_MAX:
        errors["bio"] = [f"Keep your bio under {BIO_MAX:,} characters."]
    group = None
    if group_id not in (None, ""):
        group = _find_group(group_id)
        if group is None:
            errors["group"] = ["Choose one of the listed groups."]
    if errors:
        raise ValidationFailed(field_errors=errors)
    with write_transaction():
        target = db.session.get(User, target.id)
        if name is not None:
            target.name = name
        if bio is not None:
            target.bio_raw = bio
            target.bio_cooked = cook(bio)
            target.cook_version = COOK_VERSION
        if group is not None:
            target.group_id = group.id
    return target


def get_user(username):
    user = db.session.scalar(select(User).where(User.username_lower == (username or "").lower()))
    if user is None:
        raise NotFound(f"No member is called {username}.")
    return user


def count_users():
    return db.session.scalar(select(func.count(User.id)))
