"""Search: the page and its JSON twin."""
from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user

from .. import queries, ratelimits, search
from ..errors import ValidationFailed
from ..serializers import iso
from . import page_arg

bp = Blueprint("search", __name__)


MEMBERS_SHOWN = 5


def _members(page):
    """Members whose username starts with a one-word search, listed above the results as
    Discourse lists users: a search for someone's name finds them, not only what they wrote."""
    q = page.query
    if (page.page != 1 or len(q.words) != 1 or len(q.words[0]) < 2 or q.phrases or q.username
            or q.category_slug or q.types or q.statuses or q.scopes or q.after or q.before
            or q.in_title):
        return []
    return queries.search_users(q.words[0], limit=MEMBERS_SHOWN)


def _result_json(result):
    data = {key: value for key, value in result.items()
            if key not in ("title_html", "snippet", "created_at")}
    data.update(created_at=iso(result["created_at"]), title_html=str(result["title_html"]),
                blurb=str(result["snippet"]))
    return data


@bp.route("/search", defaults={"fmt": "html"})
@bp.route("/search.json", defaults={"fmt": "json"}, endpoint="search_json")
@ratelimits.searches
def search_page(fmt):
    text = request.args.get("q", "")
    try:
        page = search.query(text, current_user, page_arg())
    except ValidationFailed as exc:
        if fmt == "json":
            raise
        return render_template("search.html", q=text, page=None, errors=exc.errors,
                               filters=search.parse_help()), exc.status
    endpoint = "search.search_json" if fmt == "json" else "search.search_page"
    more = url_for(endpoint, q=text, page=page.page + 1) if page.has_next else None
    members = _members(page)
    if fmt == "json":
        return jsonify({"q": text, "page": page.page, "per_page": page.per_page,
                        "more_url": more, "results": [_result_json(r) for r in page.results],
                        "users": [{"id": u.id, "username": u.username, "name": u.name}
                                  for u in members]})
    return render_template("search.html", q=text, page=page, errors=[], more_url=more,
                           members=members,
                           prev_url=url_for(endpoint, q=text, page=page.page - 1)
                           if page.has_prev else None, filters=search.parse_help())
