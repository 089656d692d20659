"""Blueprints, one per area, and the small helpers every view uses."""
from flask import request


def register_blueprints(app):
    from . import (admin, amendments, api, auth, ballots, labs, openapi, posts, processes,
                   proposals, topics, users)

    for module in (topics, posts, auth, users, admin, api, openapi, processes, proposals,
                   amendments, labs, ballots):
        app.register_blueprint(module.bp)

    from . import moderation, moderation_members

    app.register_blueprint(moderation.bp)
    app.register_blueprint(moderation_members.bp)

    from . import feeds, notifications, search

    for module in (search, notifications, feeds):
        app.register_blueprint(module.bp)


def params():
    """The request's input as a plain dict: JSON body, or form fields, or query args."""
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    if request.method in ("POST", "PUT", "DELETE", "PATCH"):
        return request.form.to_dict()
    return request.args.to_dict()


def page_arg(name="page"):
    try:
        return max(1, min(int(request.args.get(name, 1)), 100000))
    except ValueError:
        return 1
