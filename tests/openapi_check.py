"""Check real responses against the OpenAPI document (forum/openapi/), for any test to use.

    from tests.openapi_check import assert_documented
    response = client.post("/proposals.json", json={...})
    assert_documented(response, "POST", "/proposals.json")

The response's status must be documented for that operation, and its JSON body must validate
against the documented schema.
"""
import re
from functools import lru_cache

from flask import current_app, has_app_context
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException

from forum import openapi

DOC_URI = "urn:forum:openapi"
METHODS = ("get", "put", "post", "delete", "patch")


def flask_to_openapi(rule):
    """/posts/<int:post_id>.json -> /posts/{post_id}.json"""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@lru_cache(maxsize=1)
def _compiled():
    doc = openapi.load()
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012))
    # Literal segments first, so /t/{topic_id}.json does not swallow a more specific path.
    templates = sorted(doc["paths"], key=lambda t: (t.count("{"), -len(t)))
    patterns = [(re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(t)) + "$"), t)
                for t in templates]
    return doc, registry, patterns


def template_for(path, method="GET"):
    """The documented path template a concrete path falls under, or None.

    Inside an app context the app's own routing decides (so /t/1/status.json is never taken
    for /t/{slug}/{topic_id}.json); without one, the documented templates are matched.
    """
    path = path.split("?", 1)[0]
    if has_app_context():
        try:
            rule, _ = current_app.url_map.bind("localhost").match(path, method,
                                                                 return_rule=True)
        except HTTPException:
            return None
        template = flask_to_openapi(rule.rule)
        return template if template in _compiled()[0]["paths"] else None
    for pattern, template in _compiled()[2]:
        if pattern.match(path):
            return template
    return None


def _pointer(*parts):
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def assert_documented(response, method, path):
    """Fail unless the response's status and body are what the document promises."""
    doc, registry, _ = _compiled()
    template = template_for(path, method)
    assert template, f"{method} {path} is not in the OpenAPI document"
    operation = doc["paths"][template].get(method.lower())
    assert operation, f"{method} {template} is not in the OpenAPI document"
    status = str(response.status_code)
    responses = operation["responses"]
    key = status if status in responses else "default" if "default" in responses else None
    assert key, (f"{method} {template} answered {status}, which is not documented "
                 f"(documented: {sorted(responses)}): {response.get_data(as_text=True)[:300]}")
    described = responses[key]
    ref_parts = ["paths", template, method.lower(), "responses", key]
    if "$ref" in described:
        ref_parts = described["$ref"].removeprefix("#/").split("/")
        described = _resolve(doc, ref_parts)
    content = (described.get("content") or {}).get("application/json")
    if content is None:
        return template
    assert response.is_json, f"{method} {path} ({status}) did not answer JSON"
    pointer = _pointer(*ref_parts, "content", "application/json", "schema")
    schema = {"$ref": f"{DOC_URI}#/{pointer}"}
    validator = Draft202012Validator(schema, registry=registry)
    errors = sorted(validator.iter_errors(response.get_json()), key=lambda e: list(e.path))
    assert not errors, f"{method} {path} ({status}) does not match its schema:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in errors[:10])
    return template


def assert_request_documented(method, path, body):
    """Fail unless a JSON body the endpoint accepted matches the request schema documented for
    it, so a field the server needs cannot be left out of the document (nor one it forbids)."""
    doc, registry, _ = _compiled()
    template = template_for(path, method)
    assert template, f"{method} {path} is not in the OpenAPI document"
    operation = doc["paths"][template][method.lower()]
    request_body = operation.get("requestBody")
    assert request_body, f"{method} {template} took a JSON body but documents none"
    parts = ["paths", template, method.lower(), "requestBody"]
    if "$ref" in request_body:
        parts = request_body["$ref"].removeprefix("#/").split("/")
        request_body = _resolve(doc, parts)
    assert "application/json" in request_body.get("content", {}), \
        f"{method} {template} took a JSON body but documents another media type"
    pointer = _pointer(*parts, "content", "application/json", "schema")
    validator = Draft202012Validator({"$ref": f"{DOC_URI}#/{pointer}"}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{method} {path}: an accepted body does not match its schema:\n" + \
        "\n".join(f"  at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                  for e in errors[:10])


def _resolve(doc, parts):
    node = doc
    for part in parts:
        node = node[part]
    return node
