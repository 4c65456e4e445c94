"""The notifications page: one's own reminders only, unread count in the header."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from reminders.models import Notification, NotificationKind


def notify(user, n=0, *, read=False, **extra):
    return Notification.objects.create(
        recipient=user, kind=NotificationKind.REVIEW_DUE_SOON, subject=extra.pop("subject", f"Review due C-{n}"),
        body=f"The review of case C-{n} is due soon.", link=f"/cases/{n}/", dedup_key=f"test:{n}",
        created_at=timezone.now() - dt.timedelta(minutes=n), read_at=timezone.now() if read else None, **extra,
    )


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("notifications"))
    assert response.status_code == 302 and "login" in response["Location"]
    response = client.post(reverse("notification-read", args=[1]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_owner_sees_own_newest_first_never_anothers(client, cast):
    me, other = cast.user("owner", "practitioner"), cast.user("owner", "manager")
    older = notify(me, 5, subject="Older reminder")
    newer = notify(me, 1, subject="Newer reminder", read=True)
    hidden = notify(other, 2, subject="Someone else's reminder")
    client.force_login(me)
    body = client.get(reverse("notifications")).content.decode()
    assert body.index(newer.subject) < body.index(older.subject)
    assert hidden.subject not in body
    assert older.body in body and 'href="/cases/5/"' in body
    # Only the unread one is tagged and has a button.
    assert body.count(">Unread</strong>") == 1
    assert body.count(reverse("notification-read", args=[older.pk])) == 1
    assert reverse("notification-read", args=[newer.pk]) not in body


def test_unread_count_in_header(client, cast):
    me = cast.user("owner", "practitioner")
    notify(me, 1)
    notify(me, 2)
    notify(me, 3, read=True)
    notify(cast.user("owner", "manager"), 4)
    client.force_login(me)
    assert "Notifications (2 unread)" in client.get(reverse("home")).content.decode()


def test_mark_read_redirects_back_and_is_idempotent(client, cast):
    me = cast.user("owner", "practitioner")
    item = notify(me, 1)
    client.force_login(me)
    back = reverse("notifications") + "?page=1"
    response = client.post(reverse("notification-read", args=[item.pk]), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    item.refresh_from_db()
    first = item.read_at
    assert first is not None
    assert client.post(reverse("notification-read", args=[item.pk])).status_code == 302
    item.refresh_from_db()
    assert item.read_at == first
    assert "Notifications (0 unread)" in client.get(reverse("notifications")).content.decode()


def test_mark_read_ignores_offsite_next(client, cast):
    me = cast.user("owner", "practitioner")
    item = notify(me, 1)
    client.force_login(me)
    response = client.post(reverse("notification-read", args=[item.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications")


def test_anothers_notification_is_404_and_stays_unread(client, cast):
    theirs = notify(cast.user("owner", "manager"), 1)
    client.force_login(cast.user("owner", "practitioner"))
    assert client.post(reverse("notification-read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notification-read", args=[999999])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_needs_post_and_csrf(cast):
    from django.test import Client

    me = cast.user("owner", "practitioner")
    item = notify(me, 1)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(me)
    assert strict.get(reverse("notification-read", args=[item.pk])).status_code == 405
    assert strict.post(reverse("notification-read", args=[item.pk])).status_code == 403
    item.refresh_from_db()
    assert item.read_at is None


def test_paginated_by_25(client, cast):
    me = cast.user("owner", "practitioner")
    for n in range(30):
        notify(me, n)
    client.force_login(me)
    first = client.get(reverse("notifications")).content.decode()
    second = client.get(reverse("notifications") + "?page=2").content.decode()
    assert first.count("Mark as read<span") == 25 and second.count("Mark as read<span") == 5


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_does_not_grow_with_rows(client, cast, django_assert_max_num_queries, count):
    me = cast.user("owner", "practitioner")
    for n in range(count):
        notify(me, n)
    client.force_login(me)
    client.get(reverse("notifications"))  # warm the session and actor lookups
    with django_assert_max_num_queries(12):
        response = client.get(reverse("notifications"))
    assert response.status_code == 200
