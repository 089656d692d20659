"""The OpenAPI document: valid, complete against the url_map, and true to real responses."""
import pytest
import yaml
from openapi_spec_validator import validate

from forum import openapi
from tests.openapi_check import METHODS, assert_documented, flask_to_openapi
from tests.openapi_scenarios import SCENARIOS, Recorder
from tests.writes import fast_passwords  # noqa: F401

IGNORED_METHODS = {"HEAD", "OPTIONS"}
# JSON endpoints whose path does not end in .json: the page's own path also takes JSON.
JSON_AT_PAGE_PATHS = {"/login": {"POST"}}


def _url_map_methods(app):
    """OpenAPI path template -> the methods the app answers there."""
    found = {}
    for rule in app.url_map.iter_rules():
        found.setdefault(flask_to_openapi(rule.rule), set()).update(rule.methods - IGNORED_METHODS)
    return found


def _documented_methods(doc):
    return {path: {m.upper() for m in item if m in METHODS} for path, item in doc["paths"].items()}


def test_document_is_valid_openapi():
    validate(openapi.load())


def test_every_json_rule_is_documented_with_its_methods(app):
    documented = _documented_methods(openapi.load())
    problems = []
    for path, methods in sorted(_url_map_methods(app).items()):
        if not path.endswith(".json"):
            continue
        if path not in documented:
            problems.append(f"{path} ({', '.join(sorted(methods))}) is not documented")
        elif documented[path] != methods:
            problems.append(f"{path}: the app answers {sorted(methods)}, "
                            f"the document says {sorted(documented[path])}")
    assert not problems, "add them to a YAML file in forum/openapi/:\n" + "\n".join(problems)


def test_every_documented_operation_exists(app):
    answered = _url_map_methods(app)
    problems = []
    for path, methods in sorted(_documented_methods(openapi.load()).items()):
        if path not in answered:
            problems.append(f"{path} is documented but no route answers it")
        elif not methods <= answered[path]:
            problems.append(f"{path}: documented {sorted(methods - answered[path])} "
                            "but the route does not take them")
        elif not path.endswith(".json"):
            assert methods <= JSON_AT_PAGE_PATHS.get(path, set()), \
                f"{path} is a page; list it in JSON_AT_PAGE_PATHS if it really takes JSON"
    assert not problems, "\n".join(problems)


def test_every_write_operation_describes_its_errors_and_security():
    doc = openapi.load()
    for path, item in doc["paths"].items():
        for method in ("post", "put", "delete", "patch"):
            operation = item.get(method)
            if operation is None:
                continue
            assert any(code.startswith("4") for code in operation["responses"]), \
                f"{method.upper()} {path} documents no 4xx answer"
            assert operation.get("security"), f"{method.upper()} {path} names no security"


def test_served_document_is_the_merged_document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == openapi.load()
    assert_documented(response, "GET", "/openapi.json")


def test_security_schemes_are_the_api_key_headers():
    schemes = openapi.load()["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "apiKey", "in": "header",
                                 "name": "Api-Key"}
    assert schemes["ApiUsername"]["name"] == "Api-Username"
    assert schemes["CsrfToken"]["name"] == "X-CSRFToken"


# -- the loader ----------------------------------------------------------------------------------

def _write(directory, name, data):
    (directory / name).write_text(yaml.safe_dump(data), encoding="utf-8")


BASE = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}
OK = {"200": {"description": "ok"}}


def test_loader_merges_area_files_by_operation(tmp_path):
    _write(tmp_path, "base.yaml", BASE)
    _write(tmp_path, "core.yaml", {"paths": {"/t.json": {"get": {"responses": OK}}},
                                   "components": {"schemas": {"A": {"type": "object"}}}})
    _write(tmp_path, "moderation.yaml", {"paths": {"/t.json": {"put": {"responses": OK}}},
                                         "tags": [{"name": "moderation"}]})
    doc = openapi.load(tmp_path)
    assert set(doc["paths"]["/t.json"]) == {"get", "put"}
    assert doc["components"]["schemas"]["A"] == {"type": "object"}
    assert doc["tags"] == [{"name": "moderation"}]
    validate(doc)


@pytest.mark.parametrize("second", [
    {"paths": {"/x.json": {"get": {"responses": OK}}}},
    {"components": {"schemas": {"A": {"type": "string"}}}},
    {"info": {"title": "mine"}},
])
def test_loader_refuses_an_area_that_overwrites_another(tmp_path, second):
    _write(tmp_path, "base.yaml", BASE)
    _write(tmp_path, "a.yaml", {"paths": {"/x.json": {"get": {"responses": OK}}},
                                "components": {"schemas": {"A": {"type": "object"}}}})
    _write(tmp_path, "b.yaml", second)
    with pytest.raises(openapi.SpecConflict):
        openapi.load(tmp_path)


# -- real responses against the documented schemas (tests/openapi_scenarios.py) ----------------

@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_responses_match_the_document(client, make, fast_passwords, scenario):  # noqa: F811
    scenario(Recorder(client), client, make)


# The areas whose every operation SCENARIOS must call. Other areas check their own responses
# with tests.openapi_check.assert_documented; their writes are also checked in the
# authorisation matrix, which validates every JSON answer it gets against the document.
AREAS_EXERCISED_HERE = ("core.yaml", "admin.yaml", "deliberation.yaml", "labs.yaml")


def test_every_documented_operation_is_exercised(app, make, fast_passwords):  # noqa: F811
    """Each operation of these areas is called at least once above, so its schema is tested."""
    seen = set()
    for scenario in SCENARIOS:
        client = app.test_client()
        api = Recorder(client)
        scenario(api, client, make)
        seen |= api.seen
    documented = set()
    for area in AREAS_EXERCISED_HERE:
        path = openapi.HERE / area
        if path.exists():
            paths = yaml.safe_load(path.read_text(encoding="utf-8")).get("paths") or {}
            documented |= {(method.upper(), template) for template, item in paths.items()
                           for method in item if method in METHODS}
    assert documented
    missing = sorted(documented - seen)
    assert not missing, f"documented but never called in a scenario: {missing}"
