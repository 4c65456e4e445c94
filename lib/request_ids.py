"""One request id per web request, API call and Celery task.

django-structlog binds a ``request_id`` into structlog's context variables
for every request (``RequestMiddleware``) and, in a worker, for every task
(``DjangoStructLogInitStep``). This module narrows that to what the access
log can trust and makes it the one source every actor reads:

* a well-formed incoming ``X-Request-ID`` (1-64 of ``A-Z a-z 0-9 . _ : -``)
  is kept, so a partner system or the load balancer can follow its call
  through our logs; anything else is replaced by a fresh UUID;
* the id goes back to the caller as the ``X-Request-ID`` response header;
* a Celery task's id is its request id (the id of the request that queued it
  stays in the log context as ``parent_request_id``);
* pghistory's context carries it too, so a history row names its request.
"""

from __future__ import annotations

import re
import uuid

import pghistory
import structlog
from django.dispatch import receiver
from django_structlog.celery import signals as task_signals
from django_structlog.middlewares import RequestMiddleware as StructlogRequestMiddleware
from pghistory.middleware import HistoryMiddleware as PghistoryMiddleware

from lib.client_address import client_address

HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def well_formed(value: str | None) -> bool:
    return bool(value) and WELL_FORMED.match(value) is not None


def current() -> str:
    """The id of the request or task being served, or "" outside both."""
    value = structlog.contextvars.get_contextvars().get("request_id") or ""
    return value if well_formed(value) else ""


class RequestIdMiddleware(StructlogRequestMiddleware):
    """django-structlog's request logging, with the incoming id checked and
    the id returned to the caller."""

    def prepare(self, request) -> None:
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        request.request_id = incoming if well_formed(incoming) else str(uuid.uuid4())
        # django-structlog takes the header as it stands when told to trust
        # upstream (DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID): hand it the
        # checked id, so its "request_started" line carries the same one.
        request.META["HTTP_X_REQUEST_ID"] = request.request_id
        request.__dict__.pop("headers", None)
        super().prepare(request)

    def handle_response(self, request, response) -> None:
        response[HEADER] = request.request_id
        super().handle_response(request, response)

    @classmethod
    def bind_ip(cls, request) -> None:
        # The address the access log records (lib.client_address), not
        # ipware's default, which believes any X-Forwarded-For a client sends.
        structlog.contextvars.bind_contextvars(ip=client_address(request))


class HistoryMiddleware(PghistoryMiddleware):
    """pghistory's context for writes: the user (kept up to date when the
    API authenticates in the view), the path and the request id."""

    def get_context(self, request):
        return {**super().get_context(request), "request_id": getattr(request, "request_id", "")}


def bind_actor(*, agency=None, api_client: str = "") -> None:
    """Name the agency (and the partner system) a request acts for, in the
    logs and in the change history's context."""
    extra = {"agency_id": agency.pk, "agency": agency.name} if agency is not None else {}
    if api_client:
        extra["api_client"] = api_client
    if extra:
        structlog.contextvars.bind_contextvars(**extra)
        pghistory.context(**extra)


@receiver(task_signals.bind_extra_task_metadata)
def _task_id_is_the_request_id(sender, task=None, logger=None, **kwargs) -> None:
    context = structlog.contextvars.get_contextvars()
    parent = context.get("request_id")
    if parent:
        structlog.contextvars.bind_contextvars(parent_request_id=parent)
    structlog.contextvars.bind_contextvars(request_id=task.request.id)
