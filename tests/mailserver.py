"""A real SMTP server on loopback for tests: the app's mail goes out through smtplib to it.

Use the `mailbox` fixture; it points the app's MAIL_URL at the server and starts empty:

    def test_sign_up_mails_a_link(client, mailbox):
        client.post("/signup", data={...})
        message = mailbox.wait_for(to="ann@example.org", subject_contains="Confirm")
        client.get(link_path(first_link(message)))

`wait_for` returns the newest matching message (an `email.message.EmailMessage`), waiting a
little for mail sent from another thread, and fails the test with a list of what did arrive.
`with mailbox.refusing():` makes the server answer every message with a permanent failure.
A server in another process reaches the same mailbox through MAIL_URL=mailbox.url.
The `mail_log` fixture captures the "forum.mail" log, where undelivered mail is reported.
"""
import email
import email.policy
import logging
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

LINK_RE = re.compile(r"https?://[^\s<>\"']+")


@dataclass
class Delivery:
    """One SMTP transaction as the server saw it: envelope and parsed message."""

    mail_from: str
    rcpt_tos: list
    message: EmailMessage
    raw: bytes


def body_text(message):
    """The plain-text body (or the HTML one when there is no plain part)."""
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part is not None else ""


def first_link(message):
    """The first http(s) link in a message's body; fails the test when there is none."""
    found = LINK_RE.search(body_text(message))
    assert found, f"no link in the mail {message['Subject']!r}:\n{body_text(message)}"
    return found.group(0)


def link_path(url):
    """A link's path and query, to follow it with the Flask test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Mailbox:
    """The server's handler (aiosmtpd calls handle_DATA) and the tests' view of what arrived."""

    def __init__(self):
        self.url = None  # smtp://127.0.0.1:PORT once the server runs, for MAIL_URL
        self._deliveries = []
        self._arrived = threading.Condition()
        self._refusal = None

    async def handle_DATA(self, server, session, envelope):
        if self._refusal:
            return self._refusal
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self._deliveries.append(Delivery(envelope.mail_from, list(envelope.rcpt_tos),
                                              message, envelope.content))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    @property
    def deliveries(self):
        with self._arrived:
            return list(self._deliveries)

    @property
    def messages(self):
        return [d.message for d in self.deliveries]

    def messages_to(self, address):
        address = address.lower()
        return [d.message for d in self.deliveries if address in (r.lower() for r in d.rcpt_tos)]

    def clear(self):
        with self._arrived:
            self._deliveries.clear()

    @contextmanager
    def refusing(self, reply="554 5.7.1 Refused for this test"):
        """Answer every message with `reply` inside the block."""
        self._refusal = reply
        try:
            yield self
        finally:
            self._refusal = None

    def wait_for(self, to=None, subject_contains=None, timeout=5.0):
        """The newest message to `to` whose subject contains `subject_contains`."""
        def matching():
            found = [d.message for d in self._deliveries
                     if (to is None or to.lower() in (r.lower() for r in d.rcpt_tos))
                     and (subject_contains is None
                          or subject_contains.lower() in str(d.message["Subject"]).lower())]
            return found[-1] if found else None

        deadline = time.monotonic() + timeout
        with self._arrived:
            while (message := matching()) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    arrived = "\n".join(f"  to {d.rcpt_tos}: {d.message['Subject']}"
                                        for d in self._deliveries) or "  nothing"
                    raise AssertionError(f"no mail to {to!r} with {subject_contains!r} in its "
                                         f"subject within {timeout}s; arrived:\n{arrived}")
                self._arrived.wait(left)
        return message

    def assert_nothing_to(self, address):
        sent = self.messages_to(address)
        assert not sent, f"expected no mail to {address}, got {[m['Subject'] for m in sent]}"


class LoopbackController(Controller):
    """aiosmtpd's Controller on a port the system picks (port=0), so runs never collide."""

    def _trigger_server(self):
        # Called once the server listens and before start() first connects to it: the
        # moment to learn which port was given.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture(scope="session")
def smtp_server():
    """One SMTP server for the whole run; `mailbox` empties it for each test."""
    mailbox = Mailbox()
    controller = LoopbackController(mailbox, hostname="127.0.0.1", port=0)
    controller.start()
    mailbox.url = f"smtp://{controller.hostname}:{controller.port}"
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def mailbox(app, smtp_server):
    """An empty mailbox, with the app sending mail to it over SMTP."""
    box = smtp_server.handler
    box.clear()
    app.config["MAIL_URL"] = box.url
    yield box
    box.clear()


@pytest.fixture
def mail_log(caplog, monkeypatch):
    """pytest's caplog, capturing the "forum.mail" log (where undelivered mail is reported)."""
    logger = logging.getLogger("forum.mail")
    # logging.config.fileConfig() (Alembic's env.py calls it) disables every logger that
    # exists already, so one migration test earlier in the run would silence this one.
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.INFO, logger="forum.mail")
    return caplog
