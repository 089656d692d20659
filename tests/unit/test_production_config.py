"""Production settings: no start without a real SECRET_KEY; __Host- session cookie, Secure.

Each check starts a fresh interpreter with the environment a server would have, because the
settings are read from the environment when config.py is imported.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "6f1c0e2b9a8d47f3b5e2c1a0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0"

PROBE = r"""
import json
from forum import create_app
app = create_app()
response = app.test_client().get("/login")
print(json.dumps({
    "cookie_name": app.config["SESSION_COOKIE_NAME"],
    "secure": app.config["SESSION_COOKIE_SECURE"],
    "remember_secure": app.config.get("REMEMBER_COOKIE_SECURE"),
    "remember_name": app.config.get("REMEMBER_COOKIE_NAME", ""),
    "remember_path": app.config.get("REMEMBER_COOKIE_PATH", "/"),
    "remember_domain": app.config.get("REMEMBER_COOKIE_DOMAIN"),
    "domain": app.config.get("SESSION_COOKIE_DOMAIN"),
    "secret_is_env": app.config["SECRET_KEY"] == __import__("os").environ["SECRET_KEY"],
    "set_cookie": response.headers.getlist("Set-Cookie"),
    "hsts": response.headers.get("Strict-Transport-Security"),
    "status": response.status_code,
}))
"""


def start(tmp_path, secret):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "TEST_DATABASE_URL")}
    env.update({"FORUM_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
                "PYTHONPATH": str(ROOT)})
    if secret is not None:
        env["SECRET_KEY"] = secret
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("secret", [None, "", "dev-only-not-secret", "short-but-set",
                                    "x" * 31])
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, secret):
    result = start(tmp_path, secret)
    assert result.returncode != 0, result.stdout
    assert "SECRET_KEY" in result.stderr, result.stderr[-2000:]


def test_production_starts_with_a_real_key_and_hardened_cookies(tmp_path):
    result = start(tmp_path, GOOD_KEY)
    assert result.returncode == 0, result.stderr[-3000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["secret_is_env"]
    assert probe["cookie_name"].startswith("__Host-")
    assert probe["secure"] is True and probe["remember_secure"] is True
    assert probe["domain"] in (None, False)
    # The remember-me cookie signs a member in as surely as the session does.
    assert probe["remember_name"].startswith("__Host-")
    assert probe["remember_path"] == "/" and probe["remember_domain"] in (None, False)
    assert probe["status"] == 200
    assert probe["hsts"] and "max-age=" in probe["hsts"]
    # The sign-in page stores its CSRF token in the session, so the cookie is set here.
    cookie = next(c for c in probe["set_cookie"] if c.startswith(probe["cookie_name"] + "="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= flags
    assert "domain" not in flags  # a __Host- cookie must have no Domain and Path=/
    assert "Path=/" in cookie and "SameSite=Lax" in cookie
