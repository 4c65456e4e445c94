"""The case's change history: who changed what and when, field by field,
for whoever may view the case; shares only for those who manage it; agency-
only chronology never shown to another agency; the viewing is logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import Role
from referrals.models import Intervention
from safeguarding.models import AccessEvent, ShareGrant
from tests.audit.conftest import signed_in


def _update_intervention(cast, case):
    intervention = Intervention.objects.get(case=case)
    response = signed_in(cast.user("owner", Role.PRACTITIONER)).post(
        reverse("intervention-update", args=[case.pk, intervention.pk]),
        {"status": "active", "started_on-day": "2", "started_on-month": "3", "started_on-year": "2026",
         "sessions_offered": "8", "sessions_attended": "1", "outcome": ""},
        HTTP_X_REQUEST_ID="req-change-1",
    )
    assert response.status_code == 302, response.content.decode()
    return intervention


def test_the_history_shows_who_changed_which_field_from_what_to_what(cast, shared_case):
    intervention = _update_intervention(cast, shared_case)

    response = signed_in(cast.user("owner", Role.PRACTITIONER)).get(reverse("case-history", args=[shared_case.pk]))

    assert response.status_code == 200
    changes = list(response.context["changes"])
    change = next(c for c in changes if c.record == f"Intervention #{intervention.pk}" and not c.created)
    assert change.who == cast.user("owner", Role.PRACTITIONER).username
    assert change.agency == cast.owner.name and change.request_id == "req-change-1"
    fields = {f.name: (f.before, f.after) for f in change.fields}
    assert fields["Status"] == ("Planned", "Active")
    assert fields["Sessions offered"] == ("0", "8")
    assert fields["Started on"] == ("–", "2 Mar 2026")
    page = response.content.decode()
    assert "Planned" in page and "req-change-1" in page
    # The case, its young person and its referral-free creation are there too, newest first.
    assert {c.record_type for c in changes} >= {"case", "youngperson", "intervention", "review"}
    assert [c.at for c in changes] == sorted((c.at for c in changes), reverse=True)
    row = AccessEvent.objects.filter(action="view_history").latest("id")
    assert (row.case_id, row.basis) == (shared_case.pk, "Lead agency (Owner Youth Service)")


def test_a_shared_agency_sees_the_history_but_not_the_shares_nor_other_agencies_private_notes(cast, shared_case):
    response = signed_in(cast.user("sharing", Role.PRACTITIONER)).get(reverse("case-history", args=[shared_case.pk]))

    assert response.status_code == 200
    assert not response.context["shows_shares"]
    assert all(c.record_type != "sharegrant" for c in response.context["changes"])
    page = response.content.decode()
    assert "owner agency note" not in page
    assert AccessEvent.objects.filter(action="view_history", agency=cast.sharing).get().basis.startswith("Share grant #")


def test_the_lead_manager_sees_share_history(cast, shared_case):
    response = signed_in(cast.user("owner", Role.MANAGER)).get(reverse("case-history", args=[shared_case.pk]))
    grant = ShareGrant.objects.get(case=shared_case)
    assert any(c.record_type == "sharegrant" and c.object_id == str(grant.pk) for c in response.context["changes"])


@pytest.mark.parametrize(("agency", "role"), [
    ("outsider", Role.MANAGER), ("referrer", Role.PRACTITIONER), ("owner", Role.DPO), ("owner", Role.AGENCY_ADMIN),
    ("hub", Role.HUB_SCREENER),
])
def test_those_who_may_not_view_the_case_get_a_404(cast, case, agency, role):
    assert signed_in(cast.user(agency, role)).get(reverse("case-history", args=[case.pk])).status_code == 404


def test_an_expired_share_loses_the_history_at_once(cast, shared_case):
    ShareGrant.objects.filter(case=shared_case).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = signed_in(cast.user("sharing", Role.PRACTITIONER)).get(reverse("case-history", args=[shared_case.pk]))
    assert response.status_code == 404


def test_the_superuser_gets_a_404(cast, case):
    assert signed_in(cast.superuser).get(reverse("case-history", args=[case.pk])).status_code == 404
