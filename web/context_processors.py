"""Template context every page shares."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from reminders.services import notifications_for
from safeguarding import access
from web.kit import PARTNERSHIP_SESSION_KEY


def unread_notifications(request):
    """``unread_notifications``: the signed-in person's unread count for the
    header, one COUNT query, run only when a template uses it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: notifications_for(user, unread_only=True).count())}


def _header_actor(request) -> access.Actor:
    """The actor the page's view worked as, if it made one; else the same
    answer from the policy, without entering the partnership's row-level
    security (the header reads no case data)."""
    actor = getattr(request, "actor", None)
    if actor is not None:
        return actor
    return access.actor_for_user(request.user, partnership=request.session.get(PARTNERSHIP_SESSION_KEY))


def working_partnership(request):
    """For the header: ``working_partnership``, the partnership the
    signed-in person is working in (a ``Partnership`` with ``pk`` and
    ``name``), or None; ``spans_partnerships``, whether their agency works in
    several, so they may change it; ``partnership_unchosen``, whether they act
    for an agency but work in no partnership (their choice is one the agency
    no longer works in), so they must choose again. Evaluated only when a
    template uses them: no query for anonymous visitors, and none when the
    view already made ``request.actor``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    actor = SimpleLazyObject(lambda: _header_actor(request))
    return {
        "working_partnership": SimpleLazyObject(lambda: actor.partnership),
        "spans_partnerships": SimpleLazyObject(lambda: actor.spans_partnerships),
        "partnership_unchosen": SimpleLazyObject(lambda: actor.agency is not None and actor.partnership is None),
    }
