"""Search: the page and its JSON twin."""
from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user

from .. import ratelimits, search
from ..errors import ValidationFailed
from ..serializers import iso
from . import page_arg

bp = Blueprint("search", __name__)


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
    if fmt == "json":
        return jsonify({"q": text, "page": page.page, "per_page": page.per_page,
                        "more_url": more, "results": [_result_json(r) for r in page.results]})
    return render_template("search.html", q=text, page=page, errors=[], more_url=more,
                           prev_url=url_for(endpoint, q=text, page=page.page - 1)
                           if page.has_prev else None, filters=search.parse_help())
