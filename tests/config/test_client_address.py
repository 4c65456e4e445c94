"""lib.client_address: REMOTE_ADDR unless told how many reverse proxies
stand in front, then the address the outermost one saw; a client's own
X-Forwarded-For claims are never believed. The access log records it."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from lib.client_address import client_address
from safeguarding.models import AccessEvent
from tests import factories as f


def _request(remote="10.0.0.2", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, None, "10.0.0.2"),
    (0, "203.0.113.9", "10.0.0.2"),  # no proxy: the header is the client's own claim
    (1, "203.0.113.9", "203.0.113.9"),
    (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # what the client wrote is left of the proxy's hop
    (2, "203.0.113.9, 10.0.0.1", "203.0.113.9"),
    (2, "6.6.6.6, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
    (2, "10.0.0.1", "10.0.0.2"),  # fewer hops than proxies: not through them
    (1, "not-an-address", "10.0.0.2"),
    (1, " 2001:db8::7 ", "2001:db8::7"),
    (1, "", "10.0.0.2"),
])
def test_the_address_that_counts(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(_request(forwarded=forwarded)) == expected


def test_the_access_log_records_the_client_behind_the_proxy(settings, cast):
    settings.TRUSTED_PROXY_COUNT = 1
    case = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(recorded_by=cast.owner))
    client = Client()
    client.force_login(cast.user("owner", "practitioner"))
    response = client.get(reverse("case-detail", args=[case.pk]), REMOTE_ADDR="10.0.0.2",
                          HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert response.status_code == 200
    event = AccessEvent.objects.filter(case_id=case.pk, action="view").latest("id")
    assert event.ip_address == "203.0.113.9"
