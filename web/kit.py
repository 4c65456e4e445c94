"""What every casework page shares: the actor, the policy's answers as HTTP
answers, and service errors put back on the form.

* ``access.NotVisible`` is an ``Http404``: Django shows the plain 404 page,
  the same for a record that is hidden as for one that does not exist.
* ``access.NotAllowed`` becomes ``PermissionDenied``: the 403 page.
* ``DomainError`` is shown on the form field it names, in the error summary.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator

from lib import request_ids
from lib.client_address import client_address
from lib.errors import DomainError
from safeguarding import access
from safeguarding.models import Channel

PAGE_SIZE = 25
# The partnership a person chose to work in (``web.views.partnerships``).
PARTNERSHIP_SESSION_KEY = "partnership_id"


def actor_for_request(request, channel: str = Channel.WEB) -> access.Actor:
    """The actor behind a request: the signed-in person, acting for their
    agency, with the address and request id the access log records."""
    actor = access.actor_for_user(
        request.user,
        partnership=request.session.get(PARTNERSHIP_SESSION_KEY),
        channel=channel,
        ip_address=client_address(request),
        request_id=request_ids.current(),
    )
    request_ids.bind_actor(agency=actor.agency)
    access.enter_partnership(actor)
    return actor


def actor_required(view):
    """Sign-in required; the view finds ``request.actor`` set."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        request.actor = actor_for_request(request)
        return view(request, *args, **kwargs)

    return wrapper



def page(view):
    """Sign-in required, ``request.actor`` set, policy refusals as a 403."""

    @actor_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except access.NotAllowed as refusal:
            raise PermissionDenied(str(refusal)) from refusal

    return wrapper


def add_domain_error(form, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's ``DomainError`` on the field it names (``person.x`` is
    field ``x``), or above the form when no field on it matches."""
    name = (error.field or "").removeprefix("person.")
    name = (aliases or {}).get(name, name)
    form.add_error(name if name in form.fields else None, error.message)


def paginate(request, items, per_page: int = PAGE_SIZE, param: str = "page"):
    return Paginator(items, per_page).get_page(request.GET.get(param))


def posted(request):
    """The submitted data, or None on a GET (an empty POST is still a POST)."""
    return request.POST if request.method == "POST" else None
