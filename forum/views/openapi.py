"""The OpenAPI document describing every JSON endpoint, at /openapi.json."""
from flask import Blueprint, jsonify

from .. import openapi

bp = Blueprint("openapi", __name__)


@bp.route("/openapi.json")
def document():
    response = jsonify(openapi.document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
