"""While the database is down, requests fail with 503 (a GOV.UK page, or a
problem document for the API and its token endpoint), never a 500; when it
is back, the app answers again by itself.

The outage is real: the test database stops accepting connections and its
open sessions are cut (as a restart cuts them), from another connection."""

from __future__ import annotations

import json

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from config import errors
from tests.database import another_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _admin():
    return another_connection("postgres")


@pytest.fixture
def outage():
    """``outage()``: the database refuses every connection and its sessions
    are cut, until the test ends."""
    name = connection.settings_dict["NAME"]
    admin = _admin()

    def down():
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])

    yield down
    admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    admin.close()
    connection.close()


def test_pages_and_the_api_answer_503_while_the_database_is_down_and_recover(cast, outage):
    practitioner = cast.user("owner", "practitioner")
    page = Client(raise_request_exception=False)
    page.force_login(practitioner)
    assert page.get("/").status_code == 200
    api = Client(raise_request_exception=False)

    outage()
    response = page.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    assert "Sorry, the service is unavailable" in response.content.decode()
    for response in (
        api.get("/api/v1/cases/", headers={"Authorization": "Bearer not-checked-while-down"}),
        api.post("/o/token/", {"grant_type": "client_credentials"}),
    ):
        assert response.status_code == 503
        assert response["Content-Type"] == errors.PROBLEM_CONTENT_TYPE
        problem = json.loads(response.content)
        assert problem["status"] == 503 and problem["type"].endswith(":unavailable")
    # A sign-in page asked for while it is down is the same page, not a 500.
    assert Client(raise_request_exception=False).post(
        "/accounts/login/", {"username": practitioner.username, "password": "x"}).status_code == 503

    connection_name = connection.settings_dict["NAME"]
    with _admin() as admin:
        admin.execute(f'ALTER DATABASE "{connection_name}" ALLOW_CONNECTIONS true')
    # Back: the same clients, no restart of anything. (At the start of each
    # request the WSGI handler drops a connection that failed; Django's
    # test client leaves that out, so it is done here.)
    close_old_connections()
    assert page.get("/").status_code == 200
    assert api.get("/api/v1/cases/", headers={"Authorization": "Bearer unknown"}).status_code == 401


def test_any_other_error_is_still_a_500(rf):
    request = rf.get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = errors.server_error(request)
    assert response.status_code == 500


def test_an_unavailable_cache_is_a_503_too(rf):
    import redis

    request = rf.get("/api/v1/cases/")
    try:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
    except redis.exceptions.ConnectionError:
        response = errors.server_error(request)
    assert response.status_code == 503 and response["Content-Type"] == errors.PROBLEM_CONTENT_TYPE


def test_the_unavailable_page_needs_no_database(django_assert_num_queries, rf):
    from django.db import OperationalError

    with django_assert_num_queries(0):
        try:
            raise OperationalError("connection refused")
        except OperationalError:
            response = errors.server_error(rf.get("/cases/1/"))
    assert response.status_code == 503 and b"call 999" in response.content


def test_a_session_that_could_not_be_saved_because_the_database_went_away_is_a_503_not_a_400(rf):
    """The PostgreSQL restart drill met it: a page whose session was being
    saved as the database stopped answered 400 (``SessionInterrupted``)."""
    from django.contrib.sessions.backends.base import UpdateError
    from django.contrib.sessions.exceptions import SessionInterrupted
    from django.db import OperationalError

    try:
        try:
            try:
                raise OperationalError("terminating connection due to administrator command")
            except OperationalError:
                raise UpdateError
        except UpdateError:
            raise SessionInterrupted("The request's session was deleted before the request completed.")
    except SessionInterrupted as interrupted:
        response = errors.bad_request(rf.get("/"), interrupted)
    assert response.status_code == 503
    assert errors.bad_request(rf.get("/"), SessionInterrupted("gone")).status_code == 400
