"""The consent and break-glass pages (issue 18): the form errors a person
sees, and what a successful post does. Who may reach each page is in the URL
matrix (tests/security)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from reminders.models import Notification, NotificationKind
from safeguarding.models import BreakGlassAccess, ConsentRecord, ShareGrant
from tests import factories as f
from tests.web.conftest import share


def born_aged(years: int) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - dt.timedelta(days=10)


def test_a_twelve_year_old_cannot_consent_the_form_says_why(client, cast):
    case = f.CaseFactory(lead_agency=cast.owner, young_person=f.YoungPersonFactory(
        recorded_by=cast.owner, date_of_birth=born_aged(12)))
    client.force_login(cast.user("owner", "manager"))
    response = client.post(f"/cases/{case.pk}/consent/", {"given_by": "young_person", "judged_competent": "yes"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body and "from 13" in body
    assert not ConsentRecord.objects.exists()
    response = client.post(f"/cases/{case.pk}/consent/", {"given_by": "parent_carer"})
    assert response.status_code == 302 and ConsentRecord.objects.get().given_by == "parent_carer"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Given by a parent or carer" in page and "Consent recorded" in page  # the table and the chronology


def test_withdrawing_on_the_page_ends_the_share_and_tells_the_agency(client, cast, owned_case):
    client.force_login(cast.user("owner", "manager"))
    client.post(f"/cases/{owned_case.pk}/consent/", {"given_by": "young_person", "judged_competent": "yes"})
    record = ConsentRecord.objects.get()
    grant = share(cast, owned_case, cast.sharing)
    ShareGrant.objects.filter(pk=grant.pk).update(lawful_basis="consent")
    police = client.__class__()
    police.force_login(cast.user("sharing", "practitioner"))
    assert police.get(f"/cases/{owned_case.pk}/").status_code == 200
    response = client.post(f"/cases/{owned_case.pk}/consent/{record.pk}/withdraw/",
                           {"withdrawn_by": "young_person", "reason": "Does not want the police told"})
    assert response.status_code == 302
    assert police.get(f"/cases/{owned_case.pk}/").status_code == 404
    assert Notification.objects.filter(kind=NotificationKind.CONSENT_WITHDRAWN,
                                       recipient=cast.user("sharing", "manager")).count() == 1
    # Withdrawn once: the page is gone.
    assert client.get(f"/cases/{owned_case.pk}/consent/{record.pk}/withdraw/").status_code == 404


def test_break_glass_page_opens_the_case_or_says_what_is_wrong(client, cast, owned_case):
    client.force_login(cast.user("outsider", "practitioner"))
    assert client.get(f"/cases/{owned_case.pk}/").status_code == 404
    response = client.post("/break-glass/", {"case_reference": "C-XXXX-XXXX", "reason": "x" * 30})
    assert response.status_code == 200 and "There is no case with that reference" in response.content.decode()
    response = client.post("/break-glass/", {"case_reference": owned_case.reference.lower(),
                                             "reason": "Missing overnight, need contacts now"})
    assert response.status_code == 302 and response["Location"] == f"/cases/{owned_case.pk}/"
    page = client.get(f"/cases/{owned_case.pk}/").content.decode()
    assert "You are reading this case by break-glass" in page
    assert "Add a chronology entry" not in page
    assert BreakGlassAccess.objects.get().user == cast.user("outsider", "practitioner")


def test_the_review_queue_lists_and_signs_off(client, cast, owned_case):
    opener = client.__class__()
    opener.force_login(cast.user("outsider", "practitioner"))
    opener.post("/break-glass/", {"case_reference": owned_case.reference, "reason": "Missing overnight, need contacts"})
    opening = BreakGlassAccess.objects.get()
    client.force_login(cast.user("outsider", "manager"))
    assert owned_case.reference in client.get("/break-glass/reviews/").content.decode()
    response = client.post(f"/break-glass/reviews/{opening.pk}/", {"outcome": "signed_off", "note": ""})
    assert response.status_code == 200 and "Enter your note" in response.content.decode()
    response = client.post(f"/break-glass/reviews/{opening.pk}/", {"outcome": "signed_off", "note": "Justified"})
    assert response.status_code == 302
    assert "Nothing is waiting for review" in client.get("/break-glass/reviews/").content.decode()


def test_the_home_page_leads_to_break_glass_and_its_review_queue(client, cast):
    client.force_login(cast.user("outsider", "practitioner"))
    body = client.get("/").content.decode()
    assert 'href="/break-glass/"' in body and 'href="/break-glass/reviews/"' not in body
    for role in ("manager", "dpo"):
        client.force_login(cast.user("outsider", role))
        assert 'href="/break-glass/reviews/"' in client.get("/").content.decode()
    client.force_login(cast.user("outsider", "agency_admin"))
    body = client.get("/").content.decode()
    assert "/break-glass/" not in body
