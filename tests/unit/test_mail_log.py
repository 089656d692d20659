"""Without MAIL_URL, mail is written to the log, and the log shows it: `make run` has no mail
server, and a new member's verification link must be somewhere the operator can read it."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
from forum import create_app
from forum.extensions import db
from forum.models import Group, Nation
app = create_app({"WTF_CSRF_ENABLED": False})
with app.app_context():
    db.create_all()
    db.session.add(Nation(code="wales", name="Wales"))
    db.session.add(Group(name="Cardiff", slug="cardiff", nation_code="wales"))
    db.session.commit()
    group_id = db.session.scalar(db.select(Group.id))
response = app.test_client().post("/signup", data={
    "username": "newcomer", "email": "newcomer@example.org",
    "password": "a long and unusual passphrase 2026", "group": str(group_id)})
assert response.status_code == 302, response.status_code
"""


def test_a_verification_mail_reaches_the_log_without_a_mail_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MAIL_URL", "LOG_LEVEL")}
    env.update({"FORUM_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}",
                "PYTHONPATH": str(ROOT)})
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mail to newcomer@example.org" in result.stderr, result.stderr[-3000:]
