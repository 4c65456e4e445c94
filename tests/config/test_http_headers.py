"""The HTTP hardening every response carries (issue 6, "HTTP")."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

PUBLIC = ["/accounts/login/", "/health/", "/api/docs/", "/api/schema/"]


@pytest.mark.parametrize("path", PUBLIC)
def test_security_headers_on_every_kind_of_page(path):
    response = Client().get(path)
    assert response.status_code == 200, path
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_swagger_ui_init_script_is_served_as_a_file_not_inline():
    page = Client().get("/api/docs/").content.decode()
    assert "<script>" not in page.replace(" ", "")
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_session_and_csrf_cookies_are_http_only_and_end_with_the_browser(cast):
    client = Client()
    client.get("/accounts/login/")
    client.force_login(cast.user("owner", "practitioner"))
    client.get("/")
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["max-age"] == "" and session["expires"] == ""  # a browser-session cookie
    assert settings.CSRF_COOKIE_HTTPONLY is True
