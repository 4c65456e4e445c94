"""Middleware of the pages and the partner API."""

from __future__ import annotations

from safeguarding import access


class PartnershipBoundaryMiddleware:
    """Every request ends with the database connection back on its own role
    and no partnership set, however the request ended: the row-level security
    a request's actor entered (``access.enter_partnership``) never outlives
    it, even on a connection kept open for the next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            access.leave_partnership()
