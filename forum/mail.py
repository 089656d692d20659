"""Sends mail through SMTP when MAIL_URL is set, and writes it to the log otherwise."""
import logging
import smtplib
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from .texts import as_line

log = logging.getLogger("forum.mail")

# Headers fold at 998 characters (RFC 5322's limit), not 78: folding a List-Unsubscribe URL
# longer than 78 makes Python write it as encoded words, which mail clients do not read as a
# URL, so they offered no unsubscribe button.
POLICY = policy.default.clone(max_line_length=998)


class MailNotSent(Exception):
    """The SMTP server could not be reached, or it refused the message."""


def build_message(to, subject, text, html=None, headers=None):
    msg = EmailMessage(policy=POLICY)
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = as_line(subject)  # a header is one line, whatever a title held
    msg["Date"] = formatdate(usegmt=True)
    # Without a Message-ID and Date, receiving servers score mail as spam.
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send(to, subject, text, html=None, headers=None):
    """Send one message now; raise MailNotSent when the SMTP server fails or refuses it, or
    the message cannot be written (a header Python will not write), so the outbox counts it
    as a failed attempt instead of leaving it claimed."""
    try:
        msg = build_message(to, subject, text, html, headers)
    except (ValueError, TypeError) as exc:
        raise MailNotSent(f"mail to {to} ({subject!r}) could not be written: {exc}") from exc
    url = current_app.config.get("MAIL_URL")
    if not url:
        log.info("mail to %s: %s\n%s", to, subject, text)
        return msg
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    smtp_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    timeout = current_app.config.get("MAIL_TIMEOUT", 10)
    try:
        with smtp_class(parts.hostname, parts.port or (465 if secure else 25),
                        timeout=timeout) as smtp:
            if "starttls" in parse_qs(parts.query, keep_blank_values=True):
                smtp.starttls()
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailNotSent(f"mail to {to} ({subject!r}) was not sent: {exc}") from exc
    return msg


def deliver(to, subject, text, html=None, headers=None):
    """Send, and log a failure instead of raising: True when the message went out.

    For mail a request must not fail over (a sign-up is done even if its link did not go
    out; the member can ask for it again).
    """
    try:
        send(to, subject, text, html, headers)
    except MailNotSent as exc:
        log.error("%s", exc)
        return False
    return True


def send_after_commit(to, subject, text, html=None, headers=None):
    """Deliver once the current transaction commits; nothing is sent if it rolls back."""
    from .services.hooks import after_commit

    after_commit(deliver, to, subject, text, html, headers)
