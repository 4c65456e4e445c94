"""View decorators that turn a signed-in person into an access-policy actor."""

from __future__ import annotations

import uuid
from functools import wraps

from django.contrib.auth.decorators import login_required

from safeguarding import access
from safeguarding.models import Channel


def actor_for_request(request, channel: str = Channel.WEB) -> access.Actor:
    """The actor behind a request: the signed-in person, acting for their
    agency, with the address and request id the access log records."""
    request_id = request.META.get("HTTP_X_REQUEST_ID") or getattr(request, "request_id", "") or uuid.uuid4().hex
    return access.actor_for_user(
        request.user,
        channel=channel,
        ip_address=request.META.get("REMOTE_ADDR"),
        request_id=request_id[:64],
    )


def actor_required(view):
    """Sign-in required; the view finds ``request.actor`` set."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.actor = actor_for_request(request)
        return view(request, *args, **kwargs)

    return wrapper
