"""The address a request came from: one answer for the access log, the
sign-in lockout (django-axes) and the request logs.

Directly served, it is ``REMOTE_ADDR``. Behind reverse proxies that each
append the address they received from to ``X-Forwarded-For`` (nginx's
``$proxy_add_x_forwarded_for``, a cloud load balancer), ``REMOTE_ADDR`` is
the nearest proxy's: set ``TRUSTED_PROXY_COUNT`` to how many there are, and
the address is the one the outermost of them saw, the Nth from the right of
the header. Whatever stands left of it was written by the client and is
never believed, so nobody can choose the address the access log records or
lock someone else out by claiming their address. With no trusted proxies
(the default) the header is ignored altogether.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote  # not through the proxies we were told of
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
