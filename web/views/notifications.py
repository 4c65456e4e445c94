"""The signed-in person's notifications: reminders the deadline sweeps record."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from reminders.models import Notification
from reminders.services import notification_mark_read, notifications_for
from web.kit import page, paginate


@page
def notifications(request):
    items = paginate(request, notifications_for(request.user))
    return render(request, "referrals/notifications.html", {"items": items})


@require_POST
@page
def notification_read(request, notification_id: int):
    try:
        notification_mark_read(user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404("No such notification") from None
    messages.success(request, "Notification marked as read")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("notifications")
    return redirect(back)
