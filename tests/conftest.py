"""The shared cast: an owner agency, a sharing agency, an outsider, a referrer
and the hub, each with a person in every role, plus a superuser who belongs
to no agency. Tests ask for ``cast`` and assert what each may and may not do.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from agencies.models import AgencyKind, Role
from safeguarding import access
from safeguarding.models import Channel
from tests import factories as f

ROLES = [r.value for r in Role]

# The tests that take minutes each (the bench harness, schemathesis, the real
# Celery worker, the browser journeys) run first: on several workers
# (``make test``) they then run beside the rest, not alone at the end.
SLOW_FIRST = ("tests/bench/", "tests/api/test_schemathesis.py", "tests/reminders/test_real_worker.py", "tests/e2e/")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))


class Cast(SimpleNamespace):
    def actor(self, agency_key: str, role: str, channel: str = Channel.WEB) -> access.Actor:
        user = self.users[(agency_key, role)]
        return access.actor_for_user(user, channel=channel)

    def user(self, agency_key: str, role: str):
        return self.users[(agency_key, role)]


@pytest.fixture
def cast(db):
    agencies = {
        "owner": f.make_agency("Owner Youth Service", AgencyKind.YOUTH_SERVICE),
        "sharing": f.make_agency("Sharing Police", AgencyKind.POLICE),
        "outsider": f.make_agency("Outsider School", AgencyKind.SCHOOL),
        "referrer": f.make_agency("Referrer School", AgencyKind.SCHOOL),
        "hub": f.make_agency("Partnership Hub", AgencyKind.HUB),
    }
    users = {(key, role): f.make_member(agency, role) for key, agency in agencies.items() for role in ROLES}
    superuser = f.UserFactory(username="root-admin", is_staff=True, is_superuser=True)
    agreement = f.AgreementFactory(parties=list(agencies.values()))
    return Cast(agencies=agencies, users=users, superuser=superuser, agreement=agreement, **agencies)


@pytest.fixture(autouse=True)
def _signed_in_includes_two_factor(monkeypatch):
    """``force_login`` and ``login`` sign in past both steps (see
    tests/signing_in.py); ``password_only_login`` stops after the first."""
    from django.contrib.auth import SESSION_KEY, get_user_model
    from django.test import Client

    from tests.signing_in import a_request, verify_session

    force_login, login = Client.force_login, Client.login

    def force_login_verified(self, user, backend=None):
        force_login(self, user, backend)
        verify_session(self, user)

    def login_verified(self, **credentials):
        credentials.setdefault("request", a_request())
        signed_in = login(self, **credentials)
        if signed_in:
            verify_session(self, get_user_model().objects.get(pk=self.session[SESSION_KEY]))
        return signed_in

    monkeypatch.setattr(Client, "force_login", force_login_verified)
    monkeypatch.setattr(Client, "login", login_verified)
