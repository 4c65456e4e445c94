"""What a request gets when something the app depends on is unavailable.

While the database (or the cache that counts the API's request budgets) is
down or restarting, a request fails with 503 Service Unavailable and a
``Retry-After``, never a 500: a GOV.UK "service unavailable" page for the
pages, an ``application/problem+json`` document for the partner API and
its token endpoint. Anything else that goes wrong is still Django's 500.

Nothing needs restarting afterwards: Django opens a new database
connection for the next request (``CONN_HEALTH_CHECKS`` checks a kept
connection before reusing it), so the app recovers by itself when the
database is back.

``handler500`` in the root URLconf (``config.urls``) names ``server_error``;
Django calls it from inside its handling of the exception, so the
exception is the one being handled. ``handler400`` names ``bad_request``:
a session Django could not save because the database went away during
the request comes to it as ``SessionInterrupted``.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 30
PROBLEM_CONTENT_TYPE = "application/problem+json"


def _dependency_unavailable(error: BaseException | None) -> bool:
    """Whether an error (or one it came from) says a service the app needs
    could not be reached: the database's connection errors (``OperationalError``,
    ``InterfaceError``), or a Redis cache's."""
    unavailable: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
    try:
        import redis

        unavailable += (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
    except ImportError:  # pragma: no cover (redis comes with celery[redis])
        pass
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, unavailable):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _wants_problem(request) -> bool:
    return request.path.startswith(("/api/", "/o/")) or "json" in request.headers.get("Accept", "")


def server_error(request, *args, **kwargs):
    """``handler500``: 503 while a dependency is unavailable, else Django's 500."""
    if not _dependency_unavailable(sys.exc_info()[1]):
        return defaults.server_error(request, *args, **kwargs)
    return _unavailable(request)


def bad_request(request, exception, *args, **kwargs):
    """``handler400``: 503 while a dependency is unavailable, else Django's
    400. A session that cannot be saved because the database went away
    mid-request is ``SessionInterrupted``, a 400, unless told apart here."""
    if not _dependency_unavailable(exception):
        return defaults.bad_request(request, exception, *args, **kwargs)
    return _unavailable(request)


def _unavailable(request):
    if _wants_problem(request):
        response = JsonResponse({
            "type": "urn:crossroads:problem:unavailable", "title": "Service unavailable", "status": 503,
            "detail": f"The service cannot reach its records at the moment. Try again in {RETRY_AFTER_SECONDS} seconds.",
            "instance": request.path,
        }, status=503, content_type=PROBLEM_CONTENT_TYPE)
    else:
        # Rendered without the request: no context processor (they read the
        # database) runs.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
