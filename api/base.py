"""What every API view shares: authentication as an API client, the actor,
the scope check, throttling, problem+json errors, cursor pagination and
``Idempotency-Key`` handling for POST (and the removal of its records by
the daily retention run)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import (
    ApiClientAuthentication,
    ApiClientThrottle,
    IsApiClient,
    actor_for_request,
)
from api.models import IdempotencyRecord
from api.problems import Conflict
from api.serializers import ApiSchema, PageQuery, Query
from casework import selectors
from safeguarding import access

IDEMPOTENCY_KEY_MAX_LENGTH = 255
# Visible ASCII, no spaces: what any client can put in a header unchanged.
IDEMPOTENCY_KEY_PATTERN = rf"^[!-~]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$"
PAGE_PARAMETERS = frozenset(PageQuery().fields)
NOT_A_CURSOR = ErrorDetail("Not a cursor from this list: use a page's `next` or `previous` link", code="not_a_cursor")


class ApiPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-id",)

    def decode_cursor(self, request):
        # A cursor that does not decode is a bad parameter (400 naming it),
        # not a missing page. (``page_size`` was checked with the query.)
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise serializers.ValidationError({"cursor": [NOT_A_CURSOR]}) from None

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return self._paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError):
            # A cursor that decodes but whose position is not a value of the
            # ordering's column (an id that is not a number, say): refused as
            # the filter is built, before any query runs.
            raise serializers.ValidationError({"cursor": [NOT_A_CURSOR]}) from None

    def _paginate_queryset(self, queryset, request, view=None):
        # A view's ``position_mirrors`` are columns equal to the ordering's
        # first field: the cursor's bound goes on them too, so the database
        # can start each side of a join at the page.
        mirrors = getattr(view, "position_mirrors", ())
        cursor = self.decode_cursor(request) if mirrors else None
        if cursor is not None and cursor.position is not None:
            lookup = "lt" if cursor.reverse != self.ordering[0].startswith("-") else "gt"
            queryset = queryset.filter(**{f"{field}__{lookup}": cursor.position for field in mirrors})
        return super().paginate_queryset(queryset, request, view)


class ApiView(APIView):
    """One operation of the partner API. Subclasses set ``required_scope``;
    it is checked on every request, after authentication, before the handler."""

    authentication_classes = [ApiClientAuthentication]
    permission_classes = [IsApiClient]
    throttle_classes = [ApiClientThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    schema = ApiSchema()
    # The scope every method needs, or a {method: scope} map; None only for
    # operations on no case or referral data (the directory).
    required_scope: str | dict[str, str] | None = None
    # The query parameters each method takes ({method: Query serializer});
    # a method not named takes none. Anything else is a 400 naming it.
    query_parameters: dict[str, type[Query]] = {}
    ordering = ("-id",)

    @classmethod
    def scope_for(cls, method: str) -> str | None:
        method = "GET" if method.upper() == "HEAD" else method.upper()
        if isinstance(cls.required_scope, dict):
            # A handler with no scope declared is a bug: fail loudly (KeyError).
            return cls.required_scope[method]
        return cls.required_scope

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.actor = actor_for_request(request)
        if self.actor.agency is None:
            raise access.NotAllowed("This client acts for no active agency")
        if request.method == "OPTIONS" or not hasattr(self, request.method.lower()):
            return  # no data: OPTIONS describes the operation, anything else is a 405
        scope = self.scope_for(request.method)
        if scope is not None:
            access.require_scope(self.actor, scope)
        self.query_params = self.parse_query(request)

    def parse_query(self, request) -> dict:
        """The query string, strictly: only the parameters the method
        declares, each once and well formed; else a 400 naming each."""
        method = "GET" if request.method == "HEAD" else request.method
        # A plain dict, not the QueryDict: DRF reads an empty value in a
        # QueryDict as "not given" (an HTML form's habit), and
        # ``updated_since=`` must be refused, not ignored.
        serializer = self.query_parameters.get(method, Query)(data=request.query_params.dict())
        errors = serializer.unknown(request.query_params)
        if errors:
            raise serializers.ValidationError(errors)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # -- helpers every case-scoped operation goes through ------------------

    def get_case(self, *, log: bool = False):
        """The case in the URL, through the access policy: ``NotVisible`` (a
        404) for a case the agency may not see. Writes check their own
        action again in the service."""
        return access.get_case(self.actor, self.kwargs["case_id"], access.Action.VIEW, log=log)

    def filters(self) -> dict:
        """The list's filters from the checked query string (without the
        page's own parameters)."""
        return {name: value for name, value in self.query_params.items() if name not in PAGE_PARAMETERS}

    def parse(self, serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def out(self, serializer_class, instance) -> dict:
        """One record rendered for the calling agency (free text through
        ``safeguarding.redaction``, which needs the actor)."""
        return serializer_class(instance, context={"actor": self.actor}).data

    def paginate(
        self, queryset, serializer_class=None, *, object_type: str | None, case=None, render=None, total=None,
    ):
        """One page of the list and its cursors; the page is in the access
        log unless ``object_type`` is None (lists with no case data). Rows
        are rendered by ``serializer_class``, or by ``render`` (a function of
        the page's rows, for a queryset of plain values). With ``total`` (a
        function of the page's rows), the page starts with ``count``."""
        paginator = ApiPagination()
        paginator.ordering = self.ordering
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        if object_type is not None:
            selectors.log_page(self.actor, object_type, page, case=case)
        data = render(page) if render is not None else serializer_class(page, many=True, context={"actor": self.actor}).data
        response = paginator.get_paginated_response(data)
        if total is not None:
            response.data = {"count": total(page), **response.data}
        return response


def _request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(handler):
    """Honour ``Idempotency-Key`` on a POST.

    The first request with a key runs and, if it succeeds, its response is
    stored with a hash of the method, path and body, in the same transaction
    as the change. A retry with the same key and the same request gets the
    stored response (``Idempotent-Replayed: true``) and changes nothing; the
    same key with another request is a 409. Failures are not stored, so a
    corrected retry may reuse the key. Two requests racing with one key are
    serialised by the unique index: the second waits, then replays.
    """

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return handler(self, request, *args, **kwargs)
        if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            raise serializers.ValidationError({"Idempotency-Key": [
                f"Give 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters, no spaces (a UUID, say)"
            ]})
        digest = _request_hash(request)
        with transaction.atomic():
            record, created = IdempotencyRecord.objects.get_or_create(
                client=request.api_client, key=key,
                defaults={"request_hash": digest, "status_code": 0, "response_body": {}},
            )
            if not created:
                if record.request_hash != digest:
                    raise Conflict("This Idempotency-Key was used with a different request")
                access.log_access(
                    self.actor, "replay", object_type="idempotent_request",
                    detail={"key_record": record.pk, "path": request.path},
                )
                return Response(record.response_body, status=record.status_code,
                                headers={"Idempotent-Replayed": "true"})
            response = handler(self, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                record.status_code = response.status_code
                record.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                record.save(update_fields=["status_code", "response_body"])
            else:
                transaction.set_rollback(True)
        return response

    return wrapper


def idempotency_records_remove(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete the idempotency records (each the whole first response to a
    POST, personal data included) made more than
    ``settings.API_IDEMPOTENCY_DAYS`` days ago; return how many went.

    Who: the daily retention run, which calls it through
    ``safeguarding.retention.register_disposal`` (see ``api.apps``). A
    retry comes within minutes; a key older than that counts as new.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.API_IDEMPOTENCY_DAYS)
    # No signals and nothing refers to these rows: one DELETE statement.
    _count, by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return {"records": by_model.get(IdempotencyRecord._meta.label, 0)}
