"""The home page and the case page: who may see what."""

import pytest
from django.urls import reverse

from referrals.models import NoteKind, NoteVisibility, CaseNote
from safeguarding.models import AccessEvent
from tests import factories as f


@pytest.fixture
def case(cast):
    case = f.CaseFactory(lead_agency=cast.owner, young_person__given_name="Tyrone", young_person__family_name="Okafor")
    worker = cast.user("owner", "practitioner")
    CaseNote.objects.create(
        case=case, occurred_at=case.opened_at, kind=NoteKind.CONTACT, author=worker, agency=cast.owner,
        text="Met at the youth centre", visibility=NoteVisibility.CASE,
    )
    CaseNote.objects.create(
        case=case, occurred_at=case.opened_at, kind=NoteKind.INFORMATION, author=worker, agency=cast.owner,
        text="Owner-only intelligence", visibility=NoteVisibility.AGENCY,
    )
    return case


def test_anonymous_is_sent_to_sign_in(client, case):
    response = client.get(reverse("case-detail", args=[case.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("role", ["practitioner", "manager", "hub_screener"])
def test_own_agency_sees_case_in_caseload_and_on_its_page(client, cast, case, role):
    client.force_login(cast.user("owner", role))
    home = client.get(reverse("home"))
    assert case.reference in home.content.decode()
    page = client.get(reverse("case-detail", args=[case.pk]))
    assert page.status_code == 200
    assert "Owner-only intelligence" in page.content.decode()
    assert AccessEvent.objects.filter(action="view", case_id=case.pk, user=cast.user("owner", role)).exists()


@pytest.mark.parametrize("agency_key", ["outsider", "referrer", "sharing", "hub"])
@pytest.mark.parametrize("role", ["practitioner", "manager", "hub_screener", "agency_admin", "dpo"])
def test_other_agencies_get_a_plain_404(client, cast, case, agency_key, role):
    client.force_login(cast.user(agency_key, role))
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404
    assert case.reference not in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("role", ["agency_admin", "dpo"])
def test_roles_without_casework_see_no_case_content_even_in_own_agency(client, cast, case, role):
    client.force_login(cast.user("owner", role))
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404


def test_superuser_is_no_back_door(client, cast, case):
    client.force_login(cast.superuser)
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404
    assert case.reference not in client.get(reverse("home")).content.decode()


def test_missing_case_and_hidden_case_look_the_same(client, cast, case):
    client.force_login(cast.user("outsider", "practitioner"))
    hidden = client.get(reverse("case-detail", args=[case.pk]))
    missing = client.get(reverse("case-detail", args=[case.pk + 10_000]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def _share(cast, case, agency, **extra):
    from django.db import transaction
    from django.utils import timezone
    import datetime as dt

    from safeguarding import access
    from safeguarding.models import ShareGrant

    with transaction.atomic():
        grant = ShareGrant.objects.create(
            case=case, agency=agency, purpose="Joint safety plan", lawful_basis="safeguarding_children",
            agreement=cast.agreement, granted_by=cast.user("owner", "manager"),
            expires_at=timezone.now() + dt.timedelta(days=30), **extra,
        )
        access.sync_case_permissions(case)
    return grant


def test_shared_agency_sees_case_but_not_owner_only_notes(client, cast, case):
    _share(cast, case, cast.sharing)
    client.force_login(cast.user("sharing", "practitioner"))
    page = client.get(reverse("case-detail", args=[case.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Met at the youth centre" in body
    assert "Owner-only intelligence" not in body


def test_expired_share_gives_no_access_before_any_task_runs(client, cast, case):
    import datetime as dt

    from django.utils import timezone
    from safeguarding.models import ShareGrant

    grant = _share(cast, case, cast.sharing)
    ShareGrant.objects.filter(pk=grant.pk).update(
        granted_at=timezone.now() - dt.timedelta(days=60), expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    client.force_login(cast.user("sharing", "practitioner"))
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404


def test_revoked_share_gives_no_access(client, cast, case):
    from django.utils import timezone
    from safeguarding.models import ShareGrant

    grant = _share(cast, case, cast.sharing)
    ShareGrant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now(), revoked_by=cast.user("owner", "manager"))
    client.force_login(cast.user("sharing", "practitioner"))
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404
