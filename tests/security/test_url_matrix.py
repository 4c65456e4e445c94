"""Every URL the project serves × everybody who might ask, end to end over
HTTP: each cell is one test id ``<url>|<method>|<subject>``.

The URLs come from the root URL configuration itself, so a view or endpoint
added without an entry in ``tests/security/url_table.py`` fails
``test_every_url_has_an_entry`` (the table's docstring says how to add one).

* Pages: each role (practitioner, hub screener, manager, agency
  administrator, DPO) of each agency in each relation to the case (its lead
  agency, the key worker, an active share, an expired share, a revoked share,
  the referrer, an unrelated agency, the hub), the superuser and the
  anonymous visitor. Allowed is 2xx or a redirect that is not to a sign-in
  page; refused is 403 or 404 as the table says; anonymous is sent to sign in.
* The partner API: a client of each of those agencies with every scope, and
  no token, a bad token, a revoked client's token, a web session, and a token
  lacking the scope the operation needs.
* The admin: every route under ``admin/`` for the superuser, the anonymous
  visitor and a person in each role (nobody in an agency is staff; how the
  person's agency stands to a case does not enter into it).

A refused write changes nothing (rows counted and compared before and
after); an allowed one must change something, or for the referral question
pages and the sign-in pages, nothing but the session.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from agencies.models import ApiClient, ApiScope
from tests.api.conftest import bearer
from tests.security import url_table as t
from tests.security.conftest import MATRIX
from tests.security.helpers import SERVED, new_client, state, web_client

pytestmark = pytest.mark.django_db

# -- the cells ------------------------------------------------------------------

ADMIN_SUBJECTS = (*t.who(["own"], t.ROLES), "superuser", "anonymous")
API_SPECIAL = ("no token", "bad token", "revoked client", "web session", "missing scope")

WEB_CELLS = [
    pytest.param(key, method, subject, id=f"{key}|{method}|{subject}")
    for key, page in t.WEB.items() for method in page.methods for subject in page.subjects
]
ADMIN_CELLS = [
    pytest.param(route, subject, id=f"{route}|GET|{subject}")
    for route in t.ADMIN for subject in sorted(ADMIN_SUBJECTS)
]
API_CELLS = [
    pytest.param(key, method, caller, id=f"{key}|{method}|{caller}")
    for key, endpoint in t.API.items() for method in endpoint.methods for caller in (*t.CLIENTS, *API_SPECIAL)
]
MATRIX.update(
    urls=len(SERVED),
    web=(len(t.WEB), f"{len(t.BY_ROLE)} or {len(t.SUBJECTS)}", len(WEB_CELLS)),
    admin=(len(t.ADMIN), len(ADMIN_SUBJECTS), len(ADMIN_CELLS)),
    api=(len(t.API), len(t.CLIENTS) + len(API_SPECIAL), len(API_CELLS)),
)


# -- helpers ----------------------------------------------------------------------

def assert_outcome(response, expected: str) -> None:
    status, location = response.status_code, response.get("Location", "")
    seen = f"got {status} {location}".strip()
    if expected == t.OK:
        assert 200 <= status < 300 or (300 <= status < 400 and "/login/" not in location), seen
    elif expected == t.SIGNED_OUT:
        assert status == 302 and location == "/accounts/login/", seen
    elif expected == t.LOGIN:
        assert status == 302 and location.startswith("/accounts/login/?next="), seen
    elif expected == t.ADMIN_LOGIN:
        assert status == 302 and location.startswith("/admin/login/?next="), seen
    elif expected == t.TO_ADMIN_INDEX:
        assert status == 302 and location == "/admin/", seen
    elif expected == t.UNAUTHENTICATED:
        assert status == 401 and response.has_header("WWW-Authenticate"), seen
    else:
        assert status == int(expected), seen


# -- the tests --------------------------------------------------------------------


def test_every_url_has_an_entry():
    """The table covers exactly what the URL configuration serves."""
    served = set(SERVED)
    admin = {key for key, p in SERVED.items() if p.route.startswith("admin/")}
    admin_routes = {SERVED[key].route for key in admin}
    missing = sorted(served - admin - set(t.WEB) - set(t.API)) + sorted(admin_routes - set(t.ADMIN))
    assert not missing, (
        f"Served but not in tests/security/url_table.py: {missing}. Add an entry for each (a Page in WEB, an "
        f"Endpoint in API, or the superuser's answer in ADMIN for admin routes): see that module's docstring."
    )
    stale = sorted((set(t.WEB) | set(t.API)) - served) + sorted(set(t.ADMIN) - admin_routes)
    assert not stale, f"In tests/security/url_table.py but no longer served: {stale}. Remove them."
    assert not set(t.WEB) & set(t.API)


@pytest.mark.parametrize("key,method,subject", WEB_CELLS)
def test_page(world, key, method, subject):
    page = t.WEB[key]
    path = t.build_path(SERVED[key].route, page.kwargs(world))
    client = web_client(world, subject, page.session(world) if page.session else None)
    expected = page.expected(subject, method)
    if method == "GET":
        assert_outcome(client.get(path), expected)
        return
    before = state()
    response = client.post(path, page.post(world))
    assert_outcome(response, expected)
    if expected == t.OK and page.writes:
        assert state() != before, f"an allowed {method} changed nothing ({response.status_code})"
    else:
        assert state() == before, f"a {expected} {method} changed rows"


@pytest.mark.parametrize("route,subject", ADMIN_CELLS)
def test_admin(world, route, subject):
    path = t.build_path(route, t.admin_values(route, world))
    assert_outcome(web_client(world, subject).get(path), t.admin_expected(route, subject))


def _api_request(world, key: str, method: str, token: str | None, client: Client | None = None):
    endpoint = t.API[key]
    path = t.build_path(SERVED[key].route, endpoint.kwargs(world))
    call = endpoint.methods[method]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    body = json.dumps(call.body(world)) if call.body else ""
    return (client or new_client()).generic(method, path, body, content_type="application/json", **headers)


@pytest.mark.parametrize("key,method,caller", API_CELLS)
def test_api(world, key, method, caller):
    endpoint, call = t.API[key], t.API[key].methods[method]
    token, client = world.tokens.get(caller), None
    if caller == "bad token":
        token = "not-a-token"
    elif caller == "no token":
        token = None
    elif caller == "web session":
        token, client = None, web_client(world, "own/manager")
    elif caller == "revoked client":
        ApiClient.objects.filter(pk=world.api_clients["own"].pk).update(revoked_at=timezone.now())
        token = world.tokens["own"]
    elif caller == "missing scope":
        scopes = [s for s in ApiScope.values if s != call.scope] if call.scope else ["referrals:read"]
        token = bearer(world.api_clients["own"], scopes)

    before = state()
    response = _api_request(world, key, method, token, client)
    if caller in ("no token", "bad token", "revoked client", "web session"):
        expected = t.UNAUTHENTICATED
    elif caller == "missing scope":
        expected = t.FORBIDDEN if call.scope else endpoint.expected("own")
    else:
        expected = endpoint.expected(caller)
    if expected == t.OK:
        assert response.status_code == call.success, (response.status_code, response.content[:500])
    else:
        assert_outcome(response, expected)
        assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    if method == "GET":
        return
    if expected == t.OK and key != "api-v1:young-person-matches":  # the matcher only reads
        assert state() != before, f"an allowed {method} changed nothing"
    else:
        assert state() == before, f"a refused {method} changed rows"


def test_sessions_are_not_left_behind(world):
    """The matrix signs people in inside each test's savepoint: nothing leaks
    into the next test."""
    assert not Session.objects.exists()
