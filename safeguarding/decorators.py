"""View decorators that turn a signed-in person into an access-policy actor."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required

from config import request_ids
from config.client_address import client_address
from safeguarding import access
from safeguarding.models import Channel


def actor_for_request(request, channel: str = Channel.WEB) -> access.Actor:
    """The actor behind a request: the signed-in person, acting for their
    agency, with the address and request id the access log records."""
    actor = access.actor_for_user(
        request.user,
        channel=channel,
        ip_address=client_address(request),
        request_id=request_ids.current(),
    )
    request_ids.bind_actor(agency=actor.agency)
    return actor


def actor_required(view):
    """Sign-in required; the view finds ``request.actor`` set."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.actor = actor_for_request(request)
        return view(request, *args, **kwargs)

    return wrapper
