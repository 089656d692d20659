"""The search query language: words, "phrases", @user, #category and name:value filters.

    council homes "rent cap" @carys #housing type:amendment,clarification status:open
    scope:wales in:title after:2026-01-01 before:2026-06-30 order:latest

Parsing never touches the database or an index; it refuses malformed input with a message a
person can act on (ValidationFailed, a 422), so a query can never become a 500.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from ..errors import ValidationFailed
from ..models.deliberation import ITEM_STATUSES, PROPOSAL_STATUSES, SCOPES

MAX_LENGTH = 300
MAX_TERMS = 12
TYPES = ("topic", "post", "proposal", "amendment", "clarification", "lab")
# Topics are open or closed; proposals and items have their own lifecycles.
STATUSES = tuple(dict.fromkeys(("open", "closed") + PROPOSAL_STATUSES + ITEM_STATUSES))
ORDERS = ("relevance", "latest", "votes")
FILTERS = ("type", "status", "scope", "in", "before", "after", "order")
IN_VALUES = ("title",)

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_FILTER = re.compile(r"([A-Za-z_]+):(.*)", re.S)
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,60}")
_SLUG = re.compile(r"[a-z0-9-]{1,60}")


@dataclass
class Query:
    words: list = field(default_factory=list)
    phrases: list = field(default_factory=list)
    username: str | None = None
    category_slug: str | None = None
    types: tuple = ()
    statuses: tuple = ()
    scopes: tuple = ()
    in_title: bool = False
    after: datetime | None = None   # created at or after (inclusive)
    before: datetime | None = None  # created before (exclusive)
    order: str = "relevance"
    # Set by the caller once #category is resolved.
    category_id: int | None = None

    @property
    def has_text(self):
        return bool(self.words or self.phrases)

    @property
    def is_empty(self):
        return not (self.has_text or self.username or self.category_slug or self.types
                    or self.statuses or self.scopes or self.after or self.before)


def _fail(message):
    raise ValidationFailed(field_errors={"q": [message]})


def _choices(name, value, allowed):
    values = tuple(dict.fromkeys(v for v in value.lower().split(",") if v))
    unknown = [v for v in values if v not in allowed]
    if not values or unknown:
        _fail(f"{name}:{value} is not something to search for. Choose from "
              f"{', '.join(allowed)} (several with commas, e.g. {name}:{allowed[0]},{allowed[1]}).")
    return values


def _date(name, value):
    try:
        day = date.fromisoformat(value)
    except ValueError:
        _fail(f"{name}: takes a date like {name}:2026-03-01, not {value!r}.")
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def parse(text):
    """Turn the text of the search box into a Query, or refuse it with a clear message."""
    if not isinstance(text, str):
        _fail("Type something to search for.")
    if len(text) > MAX_LENGTH:
        _fail(f"Search for at most {MAX_LENGTH} characters; this has {len(text):,}.")
    if text.count('"') % 2:
        _fail('A quotation mark is not closed: put phrases "between two quotation marks".')
    q = Query()
    seen = set()
    for match in _TOKEN.finditer(text.strip()):
        phrase, token = match.group(1), match.group(2)
        if phrase is not None:
            phrase = " ".join(phrase.split())
            if phrase:
                q.phrases.append(phrase)
            continue
        if token.startswith("@") and len(token) > 1:
            name = token[1:]
            if not _NAME.fullmatch(name):
                _fail(f"{token} is not a member's name.")
            q.username = name.lower()
            continue
        if token.startswith("#") and len(token) > 1:
            slug = token[1:].lower()
            if not _SLUG.fullmatch(slug):
                _fail(f"{token} is not a category: categories are written like #housing.")
            q.category_slug = slug
            continue
        found = _FILTER.fullmatch(token)
        if found and not token.startswith(("http:", "https:")):
            name, value = found.group(1).lower(), found.group(2)
            if name not in FILTERS:
                _fail(f"{name}: is not a filter. Filters are "
                      + ", ".join(f"{f}:" for f in FILTERS) + ", @member and #category.")
            if name in seen:
                _fail(f"Use {name}: once (several values go with commas).")
            seen.add(name)
            if not value:
                _fail(f"{name}: needs a value, e.g. {name}:{_example(name)}.")
            _apply_filter(q, name, value)
            continue
        q.words.append(token)
    if len(q.words) + len(q.phrases) > MAX_TERMS:
        _fail(f"Search for at most {MAX_TERMS} words and phrases.")
    if q.after and q.before and q.after >= q.before:
        _fail("after: must be earlier than before:.")
    return q


def _example(name):
    return {"type": "amendment", "status": "open", "scope": "wales", "in": "title",
            "before": "2026-03-01", "after": "2026-03-01", "order": "latest"}[name]


def _apply_filter(q, name, value):
    if name == "type":
        q.types = _choices("type", value, TYPES)
    elif name == "status":
        q.statuses = _choices("status", value, STATUSES)
    elif name == "scope":
        q.scopes = _choices("scope", value, SCOPES)
    elif name == "in":
        if value.lower() not in IN_VALUES:
            _fail(f"in:{value} is not a place to search: use in:title.")
        q.in_title = True
    elif name == "after":
        q.after = _date("after", value)
    elif name == "before":
        # before:2026-03-01 means up to the end of 28 February.
        q.before = _date("before", value)
    elif name == "order":
        if value.lower() not in ORDERS:
            _fail(f"order:{value} is not an order: use order:relevance, order:latest or "
                  "order:votes.")
        q.order = value.lower()


HELP = (
    ('"rent cap"', "these words together"),
    ("@carys", "written by this member"),
    ("#housing", "in this category"),
    ("type:" + ",".join(TYPES[:3]), "only these: " + ", ".join(TYPES)),
    ("status:open", "proposals, amendments or topics in this state"),
    ("scope:wales", "in processes of this scope: " + ", ".join(SCOPES)),
    ("in:title", "words in titles only"),
    ("after:2026-01-31", "written on or after this day"),
    ("before:2026-03-01", "written before this day"),
    ("order:latest", "newest first; order:votes by votes, likes and supports"),
)
