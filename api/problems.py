"""Errors as ``application/problem+json`` (RFC 9457).

Every error the API returns has ``type``, ``title``, ``status`` and
``detail``; a 400 adds ``errors``, one entry per input at fault
(``field`` is a dotted path into the request body, or the query parameter
or header name). Mapping:

* ``DomainError`` (a service's rule) and DRF validation → 400;
* no or bad token → 401 with ``WWW-Authenticate``;
* a missing scope (``access.MissingScope``) or an action the agency may not
  take (``access.NotAllowed``) → 403;
* anything the agency may not see (``access.NotVisible``) or that does not
  exist → 404, the same answer for both;
* an ``Idempotency-Key`` reused with another body → 409;
* a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` → 413;
* too many requests → 429 with ``Retry-After``.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from lib.errors import DomainError
from safeguarding import access

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE = "urn:crossroads:problem:"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with an earlier one."
    default_code = "conflict"


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of {field, message, code}."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            errors += _flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
        return errors
    if isinstance(detail, list):
        errors = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                errors += _flatten(value, f"{prefix}.{index}" if prefix else str(index))
            else:
                errors += _flatten(value, prefix)
        return errors
    return [{"field": prefix or None, "message": str(detail), "code": getattr(detail, "code", "invalid")}]


def problem(status_code: int, code: str, title: str, detail: str, *, errors=None, headers=None, instance=None):
    body = {"type": f"{_TYPE}{code}", "title": title, "status": status_code, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def exception_handler(exc, context):
    request = context.get("request")
    set_rollback()
    instance = request.path if request is not None else None
    if isinstance(exc, DomainError):
        return problem(
            400, "invalid-input", "Invalid input", exc.message, instance=instance,
            errors=[{"field": exc.field, "message": exc.message, "code": exc.code}],
        )
    if isinstance(exc, RequestDataTooBig):
        # Raised while the token is read from the request, before any parser:
        # still a problem document, not Django's HTML 400 page.
        return problem(413, "too-large", "Request too large", "The request body is larger than the API accepts.",
                       instance=instance)
    if isinstance(exc, access.MissingScope):
        return problem(403, "missing-scope", "Missing scope", str(exc), instance=instance)
    if isinstance(exc, access.NotAllowed):
        return problem(403, "not-allowed", "Not allowed", str(exc), instance=instance)
    if isinstance(exc, (access.NotVisible, Http404, exceptions.NotFound)):
        # One answer for "does not exist" and "not yours": no existence leaks.
        return problem(404, "not-found", "Not found", "No such resource.", instance=instance)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500 handling and logging
    headers = {name: value for name, value in response.items() if name in ("WWW-Authenticate", "Retry-After", "Allow")}
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return problem(
            400, "invalid-input", "Invalid input", errors[0]["message"] if errors else "Invalid input.",
            errors=errors, instance=instance,
        )
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return problem(
            response.status_code, "unauthenticated", "Unauthenticated",
            str(exc.detail) + " Get a token from /o/token/ and send it as `Authorization: Bearer <token>`.",
            headers=headers, instance=instance,
        )
    if isinstance(exc, exceptions.Throttled):
        return problem(429, "throttled", "Too many requests", str(exc.detail), headers=headers, instance=instance)
    if isinstance(exc, Conflict):
        return problem(409, exc.default_code if not hasattr(exc.detail, "code") else exc.detail.code,
                       "Conflict", str(exc.detail), instance=instance)
    code = getattr(exc, "default_code", "error")
    detail = str(getattr(exc, "detail", "")) or "Error."
    return problem(response.status_code, str(code).replace("_", "-"), detail.rstrip("."), detail,
                   headers=headers, instance=instance)
