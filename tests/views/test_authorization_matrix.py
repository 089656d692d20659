"""Who may call each state-changing endpoint: every case of tests/writes against every role.

An allowed call answers 2xx/3xx (and changes the database when the case says it writes); a
refused one answers 401/403 (or, for an HTML form, sends the visitor to sign in) and changes
nothing at all. Every JSON answer, allowed or refused, must also be what the OpenAPI document
says it is. The roles of one case run in one test, on one app, with the database emptied
between them: a fresh app per cell would cost more than the cell itself.
"""
import pytest

from tests.conftest import login
from tests.openapi_check import assert_documented, template_for
from tests.writes import (ROLES, Ctx, act_as, all_cases, changed_tables, empty_database,
                          fast_passwords, is_allowed, is_refused, send, snapshot,  # noqa: F401
                          write_rules)

CASES = all_cases()


def test_every_write_endpoint_has_a_case(app):
    """A new POST/PUT/DELETE route needs its row in tests/writes, saying who may call it."""
    covered = {(case.endpoint, case.method) for case in CASES}
    missing = sorted(write_rules(app) - covered)
    assert not missing, (
        "state-changing endpoints without an authorisation case in tests/writes/: "
        + ", ".join(f"{method} {endpoint}" for endpoint, method in missing))


def test_every_case_names_a_real_endpoint(app):
    stale = sorted({(c.endpoint, c.method) for c in CASES} - write_rules(app))
    assert not stale, f"cases for endpoints that do not exist (any more): {stale}"


def test_roles_in_cases_are_known():
    for case in CASES:
        assert case.allowed <= set(ROLES), case.id
        assert set(case.gaps) <= set(ROLES), case.id


def cell(app, make, case, role):
    """Run one (case, role) cell; return what is wrong with it, or None."""
    client = app.test_client()
    actor, restrict = act_as(role, make, client, login)
    call = case.build(Ctx(make, actor, role, client))
    restrict()
    before = snapshot()
    response = send(client, case.method, call)
    changed = changed_tables(before, snapshot())
    outcome = f"{response.status_code} {response.headers.get('Location', '')}".strip()
    if response.status_code >= 500:
        return f"{outcome}: {response.get_data(as_text=True)[:500]}"
    if call.json and template_for(call.path, case.method):
        try:
            assert_documented(response, case.method, call.path)
        except AssertionError as exc:
            return str(exc)
    if role in case.allowed:
        if not is_allowed(case, call, response):
            return f"should be allowed, got {outcome}: {response.get_data(as_text=True)[:300]}"
        if case.writes is True and not changed:
            return f"allowed ({outcome}) but nothing was written"
        if case.writes is False and changed:
            return f"should write nothing, changed {changed}"
        return None
    if not is_refused(case, call, response):
        return f"should be refused, got {outcome}"
    if changed:
        return f"refused ({outcome}) but changed {changed}"
    if call.json:
        errors = (response.get_json(silent=True) or {}).get("errors")
        if not (errors and all(isinstance(e, str) and e for e in errors)):
            return f"refused ({outcome}) without an errors list"
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_authorization(app, make, fast_passwords, case):  # noqa: F811
    problems = []
    for n, role in enumerate(ROLES):
        if n:
            empty_database()
        problem = cell(app, make, case, role)
        if role in case.gaps:
            if problem is None:
                problems.append(f"as {role}: works now, so remove its gap entry "
                                f"({case.gaps[role]})")
        elif problem is not None:
            expected = "allowed" if role in case.allowed else "refused"
            problems.append(f"as {role} (should be {expected}): {problem}")
    assert not problems, f"{case.id}:\n" + "\n".join(problems)


def test_known_gaps_are_listed():
    """The cells where the code does not yet do what the table says, for the record."""
    gaps = sorted(f"{case.id} as {role}: {why}" for case in CASES
                  for role, why in case.gaps.items())
    assert all(gaps), gaps
