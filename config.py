"""Settings read from the environment: Config for development, TestConfig, ProductionConfig."""
import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


DEV_SECRET_KEY = "dev-only-not-secret"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'forum.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # PostgreSQL's plan_cache_mode per connection (forum/db.py, configure_postgresql): "auto"
    # is PostgreSQL's own choice; "force_generic_plan" plans each prepared statement once.
    DATABASE_PLAN_CACHE_MODE = os.environ.get("DATABASE_PLAN_CACHE_MODE") or "auto"
    MAIL_URL = os.environ.get("MAIL_URL", "")  # smtp://user:pass@host:port; empty logs mail
    MAIL_FROM = os.environ.get("MAIL_FROM", "forum <noreply@localhost>")
    REDIS_URL = os.environ.get("REDIS_URL", "")
    SEARCH_INDEX_DIR = os.environ.get("SEARCH_INDEX_DIR", str(BASE_DIR / "search_index"))
    SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "whoosh")  # whoosh | postgres
    SEARCH_CATCH_UP_AFTER_COMMIT = True  # else only `flask forum reindex --catch-up` applies it
    SEARCH_PER_PAGE = 20
    # Relevance and votes rank the newest window of documents (search/windows.py) holding this
    # many matches, as Discourse's search_prefer_recent_posts; 0 ranks every match.
    SEARCH_RECENT_MATCHES = int(os.environ.get("SEARCH_RECENT_MATCHES") or 200)
    # Whoosh's posting blocks kept decoded per process, about 1.2 KB each (0 keeps none).
    SEARCH_DECODED_BLOCKS = int(os.environ.get("SEARCH_DECODED_BLOCKS") or 8192)
    # Processes a Whoosh rebuild indexes in (each writes a segment of its own).
    SEARCH_REBUILD_PROCS = int(os.environ.get("SEARCH_REBUILD_PROCS") or min(os.cpu_count() or 1, 2))
    # Notification mail goes out after the commit that queued it; `flask forum send-mail` retries.
    MAIL_SEND_AFTER_COMMIT = True
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    # Session and cookies
    SESSION_COOKIE_NAME = "forum_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    # Request size: the whole body, the form fields kept in memory, and how many parts a form has.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    MAX_FORM_PARTS = 500
    WTF_CSRF_TIME_LIMIT = None

    # The app's log (stderr; gunicorn's error log): INFO includes mail written to the log when
    # MAIL_URL is unset, such as the verification links of `make run`.
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Forum settings
    TOPICS_PER_PAGE = 30
    POSTS_PER_PAGE = 20
    EMAIL_TOKEN_MAX_AGE = 60 * 60 * 24 * 2
    PASSWORD_RESET_MAX_AGE = 60 * 60
    MIN_PASSWORD_SCORE = 2  # zxcvbn 0..4
    PASSWORD_HASH_METHOD = "scrypt"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # Prefixes every counter's key, so that several forums (or test runs) can share one Redis.
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "forum")
    # Rate limits (forum/ratelimits.py): per IP, and per account; an account in its first
    # NEW_ACCOUNT_HOURS gets the *_NEW limits. Several limits are separated by ";".
    RATELIMIT_SIGNIN = os.environ.get("RATELIMIT_SIGNIN", "10 per minute")
    RATELIMIT_SIGNIN_ACCOUNT = os.environ.get("RATELIMIT_SIGNIN_ACCOUNT",
                                              "5 per minute;20 per hour")  # failed, per name
    RATELIMIT_SIGNUP = os.environ.get("RATELIMIT_SIGNUP", "5 per hour")
    RATELIMIT_RESET = os.environ.get("RATELIMIT_RESET", "5 per hour")
    RATELIMIT_RESET_ACCOUNT = os.environ.get("RATELIMIT_RESET_ACCOUNT", "3 per hour")
    RATELIMIT_POST = os.environ.get("RATELIMIT_POST", "30 per minute;300 per day")
    RATELIMIT_POST_NEW = os.environ.get("RATELIMIT_POST_NEW", "5 per minute;30 per day")
    RATELIMIT_POST_IP = os.environ.get("RATELIMIT_POST_IP", "60 per minute")
    RATELIMIT_TOPIC = os.environ.get("RATELIMIT_TOPIC", "10 per hour;30 per day")
    RATELIMIT_TOPIC_NEW = os.environ.get("RATELIMIT_TOPIC_NEW", "3 per day")
    RATELIMIT_TOPIC_IP = os.environ.get("RATELIMIT_TOPIC_IP", "30 per hour")
    RATELIMIT_VOTE = os.environ.get("RATELIMIT_VOTE", "60 per minute;1000 per day")
    RATELIMIT_VOTE_NEW = os.environ.get("RATELIMIT_VOTE_NEW", "20 per minute;200 per day")
    RATELIMIT_VOTE_IP = os.environ.get("RATELIMIT_VOTE_IP", "120 per minute")
    RATELIMIT_FLAG = os.environ.get("RATELIMIT_FLAG", "20 per hour;50 per day")
    RATELIMIT_FLAG_NEW = os.environ.get("RATELIMIT_FLAG_NEW", "5 per hour;10 per day")
    RATELIMIT_FLAG_IP = os.environ.get("RATELIMIT_FLAG_IP", "40 per hour")
    RATELIMIT_SEARCH = os.environ.get("RATELIMIT_SEARCH", "30 per minute")
    RATELIMIT_SEARCH_NEW = os.environ.get("RATELIMIT_SEARCH_NEW", "15 per minute")
    RATELIMIT_SEARCH_IP = os.environ.get("RATELIMIT_SEARCH_IP", "60 per minute")
    RATELIMIT_PREVIEW = os.environ.get("RATELIMIT_PREVIEW", "60 per minute")
    RATELIMIT_PREVIEW_NEW = os.environ.get("RATELIMIT_PREVIEW_NEW", "30 per minute")
    RATELIMIT_PREVIEW_IP = os.environ.get("RATELIMIT_PREVIEW_IP", "120 per minute")
    NEW_ACCOUNT_HOURS = _env_int("NEW_ACCOUNT_HOURS", 24)
    NEW_ACCOUNT_MAX_LINKS = _env_int("NEW_ACCOUNT_MAX_LINKS", 2)
    # Moderation: this many distinct members' flags hide an item at once, pending review.
    FLAGS_TO_HIDE = _env_int("FLAGS_TO_HIDE", 3)
    HSTS = False
    TESTING = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = False
    # Off, except where a test (or a live server it starts) turns them on.
    RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED") == "1"
    MIN_PASSWORD_SCORE = 2
    MAIL_URL = ""
    # Hashing cost is irrelevant to what the tests check, and scrypt dominates their run time.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Search tests give the index a directory of their own and turn catching up on.
    SEARCH_INDEX_DIR = os.environ.get("TEST_SEARCH_INDEX_DIR") or os.path.join(
        tempfile.gettempdir(), f"forum-test-search-{os.getpid()}")
    SEARCH_CATCH_UP_AFTER_COMMIT = os.environ.get("SEARCH_CATCH_UP_AFTER_COMMIT") == "1"
    SEARCH_REBUILD_PROCS = 1


class ProductionConfig(Config):
    SESSION_COOKIE_NAME = "__Host-forum_session"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_NAME = "__Host-forum_remember"
    REMEMBER_COOKIE_SECURE = True
    HSTS = True

    @classmethod
    def check(cls):
        secret = os.environ.get("SECRET_KEY", "")
        # Config.SECRET_KEY was read from the same variable, so compare with the dev default.
        if len(secret) < 32 or secret == DEV_SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        cls.SECRET_KEY = secret


def config_for(name):
    return {"production": ProductionConfig, "testing": TestConfig}.get(name, Config)
