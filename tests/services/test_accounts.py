"""Accounts service: the sign-up rules, tokens in mail, credentials and profiles."""
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from forum.errors import Conflict, PermissionDenied, ValidationFailed
from forum.extensions import db
from forum.models import User
from forum.services import accounts
from tests.conftest import PASSWORD
from tests.mailserver import first_link

STRONG = "plum tractor lantern oddly"


def errors_of(call, *args, **kwargs):
    with pytest.raises(ValidationFailed) as caught:
        call(*args, **kwargs)
    return caught.value.field_errors or {"form": caught.value.errors}


def token_of(message):
    return first_link(message).rsplit("/", 1)[1]


@pytest.fixture
def group(make):
    return make.group("Cardiff", nation="wales")


@pytest.fixture
def later(monkeypatch):
    """Move the clock of signed tokens forward by `seconds`."""
    def move(seconds):
        now = TimestampSigner.get_timestamp
        monkeypatch.setattr(TimestampSigner, "get_timestamp",
                            lambda self: now(self) + seconds)
    return move


# -- sign-up rules --------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["ann", "Ann_B.c-d", "x" * 30, "r2d2", "jo-ann"])
def test_usernames_that_follow_the_rules_are_accepted(group, username):
    user = accounts.sign_up(username, f"{len(username)}@example.org", STRONG, group_id=group.id)
    assert user.username == username
    assert user.username_lower == username.lower()


@pytest.mark.parametrize("username, message", [
    ("", "Choose a username."),
    ("ab", "3 to 30"),
    ("x" * 31, "3 to 30"),
    ("_ann", "starting and ending with a letter or digit"),
    ("ann.", "starting and ending with a letter or digit"),
    ("an..n", "3 to 30"),
    ("ann smith", "3 to 30"),
    ("émile", "3 to 30"),
    ("an\nn", "3 to 30"),
    ("admin", "reserved"),
    ("Admin", "reserved"),
    ("STAFF", "reserved"),
    ("bob.json", "file name"),
    ("ann.PNG", "file name"),
])
def test_usernames_that_break_the_rules_are_refused(group, username, message):
    errors = errors_of(accounts.sign_up, username, "someone@example.org", STRONG,
                       group_id=group.id)
    assert message in " ".join(errors["username"])
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_usernames_are_unique_whatever_their_case(group):
    accounts.sign_up("Ann", "ann@example.org", STRONG, group_id=group.id)
    for taken in ("ann", "ANN", "aNn"):
        errors = errors_of(accounts.sign_up, taken, f"{taken}2@example.org", STRONG,
                           group_id=group.id)
        assert errors["username"] == ["That username is taken."]


def test_email_addresses_are_unique_whatever_their_case(group):
    accounts.sign_up("ann", "ann@example.org", STRONG, group_id=group.id)
    errors = errors_of(accounts.sign_up, "bea", "  ANN@Example.ORG ", STRONG, group_id=group.id)
    assert errors["email"] == ["An account already uses that email."]


def test_an_invalid_email_address_is_refused(group):
    errors = errors_of(accounts.sign_up, "ann", "ann@", STRONG, group_id=group.id)
    assert errors["email"]


@pytest.mark.parametrize("password, message", [
    ("short", "at least 10 characters"),
    ("password1234", "stronger password"),
    ("qwertyuiop", "stronger password"),
    ("annabelle1", "stronger password"),  # the username with a digit
    ("x" * 201, "at most 200"),
])
def test_weak_passwords_are_refused(group, password, message):
    errors = errors_of(accounts.sign_up, "annabelle", "annabelle@example.org", password,
                       group_id=group.id)
    assert message in errors["password"][0]


def test_a_member_chooses_one_of_the_listed_groups(make, group):
    errors = errors_of(accounts.sign_up, "ann", "ann@example.org", STRONG)
    assert errors["group"] == ["Choose your local group."]
    for wrong in (group.id + 100, "cardiff", "99999999999999999999", "-1", "²"):
        errors = errors_of(accounts.sign_up, "ann", "ann@example.org", STRONG, group_id=wrong)
        assert errors["group"] == ["Choose one of the listed groups."], wrong

    user = accounts.sign_up("ann", "ann@example.org", STRONG, group_id=str(group.id))
    assert user.group.name == "Cardiff"
    assert user.nation == "wales"


def test_every_broken_rule_is_reported_at_once(group):
    errors = errors_of(accounts.sign_up, "a", "not an address", "short", name="n" * 81)
    assert set(errors) == {"username", "email", "password", "group", "name"}


def test_input_of_the_wrong_type_is_refused_with_messages(group):
    errors = errors_of(accounts.sign_up, ["ann"], 42, None, name={"a": 1}, group_id=[1])
    assert {"username", "email", "password", "group"} <= set(errors)


def test_an_admin_made_from_the_command_line_needs_no_group(app):
    admin = accounts.create_admin("chair", "chair@example.org", STRONG)
    assert admin.role == "admin"
    assert admin.is_verified


def test_a_sign_up_that_loses_a_race_gets_a_message_and_no_mail(group, mailbox, monkeypatch):
    accounts.sign_up("ann", "ann@example.org", STRONG, group_id=group.id)
    mailbox.clear()
    # As if another request inserted the address between the check and the insert: the
    # first check finds it free.
    checks = []
    real_check = accounts._email_taken
    monkeypatch.setattr(accounts, "_email_taken", lambda email, except_user=None: bool(
        checks.append(email) or len(checks) > 1 and real_check(email, except_user)))
    errors = errors_of(accounts.sign_up, "bea", "ann@example.org", STRONG, group_id=group.id)
    assert errors["email"] == ["An account already uses that email."]
    assert mailbox.messages == []
    assert accounts.count_users() == 1


# -- verification ----------------------------------------------------------------------------

def test_sign_up_mails_a_link_that_confirms_the_address(app, group, mailbox):
    user = accounts.sign_up("ann", "Ann@example.org", STRONG, group_id=group.id)
    assert not user.is_verified
    message = mailbox.wait_for(to="Ann@example.org", subject_contains="Confirm your email")
    assert message["From"] == app.config["MAIL_FROM"]
    assert message["Message-ID"] and message["Date"]
    assert first_link(message).startswith(app.config["BASE_URL"] + "/verify/")
    assert "2 days" in message.get_body().get_content()

    assert accounts.verify_email(token_of(message)).id == user.id
    assert db.session.get(User, user.id).is_verified


def test_a_verified_sign_up_sends_no_mail(group, mailbox):
    accounts.sign_up("ann", "ann@example.org", STRONG, group_id=group.id, verified=True)
    assert mailbox.messages == []


def test_a_forged_verification_link_is_refused(app, group, mailbox):
    user = accounts.sign_up("ann", "ann@example.org", STRONG, group_id=group.id)
    token = token_of(mailbox.wait_for(to="ann@example.org"))
    payload, stamp, signature = token.split(".")
    forged_for_another = URLSafeTimedSerializer("not our secret", salt="verify-email").dumps(
        {"id": user.id, "email": "ann@example.org"})
    for bad in (f"{payload}.{stamp}.{signature[:-2]}xx", forged_for_another, "nonsense", ""):
        with pytest.raises(ValidationFailed, match="not valid"):
            accounts.verify_email(bad)
    assert not db.session.get(User, user.id).is_verified


def test_a_password_reset_link_does_not_confirm_an_address(group, mailbox):
    accounts.sign_up("ann", "ann@example.org", STRONG, group_id=group.id)
    accounts.request_password_reset("ann@example.org")
    reset = token_of(mailbox.wait_for(to="ann@example.org", subject_contains="Reset"))
    with pytest.raises(ValidationFailed, match="not valid"):
        accounts.verify_email(reset)


def test_a_verification_link_expires(app, group, mailbox, later):
    user = accounts.sign_up("ann", "ann@example.org", STRONG, group_id=group.id)
    token = token_of(mailbox.wait_for(to="ann@example.org"))
    later(app.config["EMAIL_TOKEN_MAX_AGE"] + 1)
    with pytest.raises(ValidationFailed, match="expired"):
        accounts.verify_email(token)
    assert not db.session.get(User, user.id).is_verified


def test_a_link_for_an_old_address_does_not_confirm_the_new_one(make, mailbox):
    user = make.user("ann", verified=False)
    old_link = token_of(mailbox.wait_for(to="ann@example.org", subject_contains="Confirm"))
    accounts.change_email(user, PASSWORD, "ann@elsewhere.example")
    new_link = token_of(mailbox.wait_for(to="ann@elsewhere.example", subject_contains="Confirm"))
    with pytest.raises(ValidationFailed, match="not valid for this account"):
        accounts.verify_email(old_link)
    assert not db.session.get(User, user.id).is_verified
    assert accounts.verify_email(new_link).is_verified


def test_resending_the_link_to_a_confirmed_address_is_refused(make, mailbox):
    with pytest.raises(Conflict, match="already confirmed"):
        accounts.resend_verification(make.user())
    assert mailbox.messages == []


# -- mail failures ---------------------------------------------------------------------------

def test_a_refused_mail_does_not_undo_the_sign_up(group, mailbox, mail_log):
    with mailbox.refusing():
        user = accounts.sign_up("ann", "ann@example.org", STRONG, group_id=group.id)
    assert db.session.get(User, user.id) is not None
    assert "ann@example.org" in mail_log.text and "not sent" in mail_log.text

    accounts.resend_verification(db.session.get(User, user.id))
    assert mailbox.wait_for(to="ann@example.org", subject_contains="Confirm")


def test_an_unreachable_mail_server_does_not_undo_the_sign_up(app, group, mail_log):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    user = accounts.sign_up("ann", "ann@example.org", STRONG, group_id=group.id)
    assert accounts.get_user("ann").id == user.id
    assert "not sent" in mail_log.text
    with pytest.raises(accounts.MailUnavailable, match="could not send mail"):
        accounts.resend_verification(user)


# -- signing in ------------------------------------------------------------------------------

def test_members_sign_in_by_username_or_email_in_any_case(make):
    ann = make.user("Ann")
    for login in ("Ann", "ann", "ANN@EXAMPLE.ORG", " ann@example.org "):
        assert accounts.authenticate(login, PASSWORD).id == ann.id


def test_a_wrong_password_and_an_unknown_member_get_the_same_answer(make):
    make.user("ann")
    wrong_password = errors_of(accounts.authenticate, "ann", "not the password")
    unknown = errors_of(accounts.authenticate, "nobody-here", PASSWORD)
    assert wrong_password == unknown == {"form": ["Wrong username, email or password."]}


def test_a_suspended_member_cannot_sign_in(make):
    from datetime import timedelta

    from forum.models import utcnow

    ann = make.user("ann")
    ann.suspended_until = utcnow() + timedelta(days=3)
    ann.suspend_reason = "spam"
    db.session.commit()
    assert "suspended" in errors_of(accounts.authenticate, "ann", PASSWORD)["form"][0]


# -- password reset --------------------------------------------------------------------------

def test_a_reset_link_works_once(make, mailbox):
    ann = make.user("ann")
    version = ann.session_version
    accounts.request_password_reset("ANN@example.org")
    message = mailbox.wait_for(to="ann@example.org", subject_contains="Reset your password")
    assert "1 hour" in message.get_body().get_content()
    token = token_of(message)

    assert accounts.user_for_reset_token(token).id == ann.id
    accounts.reset_password(token, STRONG)
    assert accounts.authenticate("ann", STRONG).id == ann.id
    assert "Wrong" in errors_of(accounts.authenticate, "ann", PASSWORD)["form"][0]
    assert db.session.get(User, ann.id).session_version == version + 1

    with pytest.raises(ValidationFailed, match="used already"):
        accounts.reset_password(token, "another fine passphrase")
    assert accounts.authenticate("ann", STRONG).id == ann.id


def test_a_weak_new_password_leaves_the_reset_link_usable(make, mailbox):
    make.user("ann")
    accounts.request_password_reset("ann@example.org")
    token = token_of(mailbox.wait_for(to="ann@example.org"))
    assert "password" in errors_of(accounts.reset_password, token, "password1")
    accounts.reset_password(token, STRONG)
    assert accounts.authenticate("ann", STRONG)


def test_a_reset_link_expires(app, make, mailbox, later):
    make.user("ann")
    accounts.request_password_reset("ann@example.org")
    token = token_of(mailbox.wait_for(to="ann@example.org"))
    later(app.config["PASSWORD_RESET_MAX_AGE"] + 1)
    with pytest.raises(ValidationFailed, match="expired"):
        accounts.reset_password(token, STRONG)
    assert accounts.authenticate("ann", PASSWORD)


def test_a_reset_link_stops_working_when_the_address_changes(make, mailbox):
    ann = make.user("ann")
    accounts.request_password_reset("ann@example.org")
    token = token_of(mailbox.wait_for(to="ann@example.org", subject_contains="Reset"))
    accounts.change_email(ann, PASSWORD, "ann@elsewhere.example")
    with pytest.raises(ValidationFailed, match="used already"):
        accounts.user_for_reset_token(token)


@pytest.mark.parametrize("email", ["nobody@example.org", "not an address", "", None, 7])
def test_asking_to_reset_an_unknown_address_sends_nothing(make, mailbox, email):
    make.user("ann")
    assert accounts.request_password_reset(email) is None
    assert mailbox.messages == []


def test_a_reset_confirms_an_unconfirmed_address(make, mailbox):
    ann = make.user("ann", verified=False)
    mailbox.clear()
    accounts.request_password_reset("ann@example.org")
    accounts.reset_password(token_of(mailbox.wait_for(subject_contains="Reset")), STRONG)
    assert db.session.get(User, ann.id).is_verified


def test_the_reset_link_reveals_nothing_of_the_password_hash(make, mailbox):
    ann = make.user("ann")
    accounts.request_password_reset("ann@example.org")
    token = token_of(mailbox.wait_for(to="ann@example.org"))
    payload = URLSafeTimedSerializer("test-secret", salt="reset-password").loads(token)
    hash_hex = ann.password_hash.rsplit("$", 1)[-1]
    assert all(str(value) not in hash_hex for value in payload.values() if len(str(value)) > 4)


# -- changing credentials --------------------------------------------------------------------

def test_changing_the_password_needs_the_current_one_and_a_strong_new_one(make):
    ann = make.user("ann")
    assert "current_password" in errors_of(accounts.change_password, ann, "wrong", STRONG)
    assert "password" in errors_of(accounts.change_password, ann, PASSWORD, "ann12345678")
    version = ann.session_version
    accounts.change_password(ann, PASSWORD, STRONG)
    assert accounts.authenticate("ann", STRONG)
    assert db.session.get(User, ann.id).session_version == version + 1


def test_changing_the_email_needs_the_password_and_a_free_address(make):
    ann = make.user("ann")
    make.user("bea")
    assert "password" in errors_of(accounts.change_email, ann, "wrong", "ann@new.example")
    assert errors_of(accounts.change_email, ann, PASSWORD, "BEA@example.org") == {
        "email": ["An account already uses that email."]}
    assert errors_of(accounts.change_email, ann, PASSWORD, "Ann@Example.org") == {
        "email": ["That is already your email address."]}
    assert "email" in errors_of(accounts.change_email, ann, PASSWORD, "nope")
    assert db.session.get(User, ann.id).email == "ann@example.org"


def test_a_new_email_address_is_confirmed_again_and_the_old_one_told(make, mailbox):
    ann = make.user("ann")
    accounts.change_email(ann, PASSWORD, "Ann@New.example")
    ann = db.session.get(User, ann.id)
    assert ann.email_lower == "ann@new.example"
    assert not ann.is_verified
    assert "changed" in mailbox.wait_for(to="ann@example.org").get_body().get_content()
    confirm = mailbox.wait_for(to="Ann@new.example", subject_contains="Confirm")
    accounts.verify_email(token_of(confirm))
    assert db.session.get(User, ann.id).is_verified


# -- profile ---------------------------------------------------------------------------------

def test_a_bio_is_stored_cooked_and_sanitised(make):
    ann = make.user("ann")
    accounts.update_profile(ann, ann, name=" Ann Jones ", bio=(
        "I like **buses**.\n\n<script>alert(1)</script> [x](javascript:alert(1))"))
    ann = db.session.get(User, ann.id)
    assert ann.name == "Ann Jones"
    assert "<strong>buses</strong>" in ann.bio_cooked
    assert "<script" not in ann.bio_cooked
    assert "javascript:" not in ann.bio_cooked


def test_profile_limits_and_groups(make, group):
    ann = make.user("ann")
    assert "name" in errors_of(accounts.update_profile, ann, ann, name="n" * 81)
    assert "bio" in errors_of(accounts.update_profile, ann, ann, bio="b" * 3001)
    assert "group" in errors_of(accounts.update_profile, ann, ann, group_id="9" * 30)
    accounts.update_profile(ann, ann, group_id=group.id)
    assert db.session.get(User, ann.id).nation == "wales"


def test_only_the_member_or_an_admin_edits_a_profile(make):
    ann, bea, admin = make.user("ann"), make.user("bea"), make.user("chair", role="admin")
    with pytest.raises(PermissionDenied):
        accounts.update_profile(bea, ann, name="Not Ann")
    accounts.update_profile(admin, ann, name="Ann by the chair")
    assert db.session.get(User, ann.id).name == "Ann by the chair"
