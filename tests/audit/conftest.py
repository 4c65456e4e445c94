"""Fixtures for the audit pages: the API tests' case (led by the owner
agency, with case-wide and agency-only chronology entries of the owner and
the sharing agency, an intervention and a review), and that case shared with
the sharing agency under the cast's agreement."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.conftest import case  # noqa: F401  (the fixture)
from tests.safeguarding.conftest import share


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def shared_case(cast, case):  # noqa: F811
    share(case, cast.sharing, agreement=cast.agreement, emergency_basis="")
    return case
