"""Links for pages that print many: one url_for per kind of link, then string formatting."""
from urllib.parse import quote

from flask import request, url_for

# What werkzeug's path converters leave unquoted (BaseConverter.to_url); integers print as is.
_SAFE = "!$&'()*+,/:;=@"
# Stand-ins for the varying values: digits, which every converter and url_for leave as they are.
_MARK = 7_919_000_000_000_001


class Link:
    """url_for(endpoint, **fixed, name=value...) for many values, for the price of one url_for.

    url_for costs 10 to 30 µs; a topic list or a page of posts calls it hundreds of times. A Link
    builds the URL once with stand-ins for the named path values and then only fills them in,
    quoted as werkzeug quotes them. Query-string values are not supported (they are encoded
    differently): put those in `fixed`. tests/views/test_links.py holds it to url_for.
    """

    __slots__ = ("parts", "order")

    def __init__(self, endpoint, *names, **fixed):
        marks = [str(_MARK + n) for n in range(len(names))]
        url = url_for(endpoint, **fixed, **{name: int(mark) for name, mark in zip(names, marks)})
        query = url.find("?")
        found = []
        for n, (name, mark) in enumerate(zip(names, marks)):
            at = url.find(mark)
            if at < 0 or 0 <= query < at or url.count(mark) != 1:
                raise ValueError(f"{endpoint}: {name} is not a path value")
            found.append((at, n, mark))
        parts, rest = [], url
        for _at, _n, mark in sorted(found):
            before, rest = rest.split(mark, 1)
            parts.append(before)
        parts.append(rest)
        self.parts = tuple(parts)
        # The position, among the call's arguments, of each value in URL order.
        self.order = tuple(n for _at, n, _mark in sorted(found))

    @classmethod
    def of(cls, endpoint, *names, **fixed):
        """Link(endpoint, *names, **fixed), remembered: a page builds the same links as the
        page before it, and building one costs a url_for."""
        key = (endpoint, names, tuple(fixed.items()), request.script_root)
        link = _LINKS.get(key)
        return link if link is not None else _LINKS.keep(key, cls(endpoint, *names, **fixed))

    def __call__(self, *values):
        """The URL for these values, given in the order the names were given."""
        parts = self.parts
        out = [parts[0]]
        for i, n in enumerate(self.order, 1):
            value = values[n]
            out.append(str(value) if type(value) is int else quote(str(value), safe=_SAFE))
            out.append(parts[i])
        return "".join(out)


class Kept(dict):
    """What a worker remembers between requests: answers that never go stale, because each key
    holds everything its answer depends on. At most `limit` of them; when full, it starts
    afresh."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def keep(self, key, value):
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


_URLS = Kept(4096)
_LINKS = Kept(4096)


def remembered_url_for(endpoint, **values):
    """url_for for templates, remembering its answers: a page's navigation alone calls it
    twenty times, with the same answer on every page.

    In this app a relative URL depends only on the endpoint, the values (their order sets the
    query string's) and the request's script root: there are no URL defaults, value
    preprocessors, subdomains or host matching. Calls that ask for more (`_external`,
    `_anchor`, a blueprint-relative endpoint) or pass unhashable values go straight to url_for.
    """
    try:
        key = (endpoint, request.script_root, tuple(values.items()),
               tuple(type(value) for value in values.values()))
        url = _URLS.get(key)
    except TypeError:
        return url_for(endpoint, **values)
    if url is None:
        url = url_for(endpoint, **values)
        if endpoint[0] != "." and not any(name[0] == "_" for name in values):
            _URLS.keep(key, url)
    return url

