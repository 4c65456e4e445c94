"""/api/schema/ and /api/docs/: a complete, valid OpenAPI document that a
partner developer can work from alone, served without any outside host."""

from __future__ import annotations

import pytest
import yaml
from django.urls import resolve

from tests.api.operations import OPERATIONS


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                yield path, method, operation


def test_the_schema_validates(db):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    validate_schema(SchemaGenerator().get_schema(request=None, public=True))


def test_every_operation_is_described_and_secured_with_its_scope(schema):
    found = {operation["operationId"]: (path, method, operation) for path, method, operation in _operations(schema)}
    assert set(found) == {op.name for op in OPERATIONS}
    for op in OPERATIONS:
        path, method, operation = found[op.name]
        assert method == op.method
        assert operation["summary"] and len(operation["description"]) > 40
        assert operation["security"] == [{"oauth2ClientCredentials": [op.scope] if op.scope else []}]
        for status in ("401", "403", "429"):
            assert "application/problem+json" in operation["responses"][status]["content"]
        if method == "post":
            assert operation["requestBody"]["content"]["application/json"].get("examples"), op.name
            takes_key = any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
            assert takes_key == op.idempotent, op.name


def test_the_security_scheme_is_client_credentials(schema):
    scheme = schema["components"]["securitySchemes"]["oauth2ClientCredentials"]
    flow = scheme["flows"]["clientCredentials"]
    assert scheme["type"] == "oauth2" and flow["tokenUrl"] == "/o/token/"
    assert set(flow["scopes"]) == {"referrals:read", "referrals:write", "cases:read", "cases:write",
                                   "contexts:read", "contexts:write"}


def test_the_docs_are_served_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_config_urls_mount_the_api(settings):
    settings.ROOT_URLCONF = "config.urls"
    for url in ("/o/token/", "/api/schema/", "/api/docs/", "/api/v1/cases/", "/api/v1/cases/1/notes/2/correct/"):
        resolve(url)
