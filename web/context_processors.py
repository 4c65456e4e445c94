"""Template context every page shares."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from reminders.services import notifications_for


def unread_notifications(request):
    """``unread_notifications``: the signed-in person's unread count for the
    header, one COUNT query, run only when a template uses it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: notifications_for(user, unread_only=True).count())}
