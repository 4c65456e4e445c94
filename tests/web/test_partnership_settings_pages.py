"""The partnership administrator's pages and the pages every partner reads:
bad input is a clear GOV.UK error on the form and writes nothing; the
referral journey shows the signs and stores the ticked indicators; another
borough's vocabulary is a 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from agencies.models import AgencyKind, Role
from partnerships.models import AgreementTemplate, Concern, Indicator, PartnershipRules
from referrals.models import Referral
from tests import factories as f
from tests.web.conftest import date_fields

pytestmark = pytest.mark.django_db


def rows():
    return [m.objects.count() for m in (PartnershipRules, Concern, Indicator, AgreementTemplate)], [
        list(Concern.objects.order_by("pk").values_list("label", "signs", "position", "retired_at"))]


def rules_body(day: dt.date, **changes) -> dict:
    body = {**date_fields("effective_from", day), "reason": ""}
    for rating, hours, days in (("red", "2", "14"), ("amber", "6", "28"), ("green", "", "42")):
        body.update({f"decision_hours_{rating}": hours, f"review_days_{rating}": days, f"alert_minutes_{rating}": "0"})
    body.update(retention_age_years="25", small_number_threshold="5", consent_competence_age="13",
                break_glass_hours="4")
    return {**body, **changes}


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.user("hub", Role.PARTNERSHIP_ADMIN))
    return client


def refused(client, url, body, message):
    before = rows()
    response = client.post(url, body)
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert "govuk-error-summary" in page and message in page, page[:3000]
    assert rows() == before
    return page


def test_rules_from_tomorrow_and_the_bad_ones(admin_client):
    url = reverse("partnership-rules-new")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page = admin_client.get(url).content.decode()
    assert "Set new rules from a date" in page
    refused(admin_client, url, rules_body(tomorrow, decision_hours_red="0"),
            "Red decision limit must be at least 1 hour: a limit of zero is no limit")
    refused(admin_client, url, rules_body(tomorrow, review_days_amber="400"),
            "Amber review interval must be no more than a year")
    refused(admin_client, url, rules_body(tomorrow, decision_hours_green="9000"),
            "Green decision limit must be no more than a year")
    refused(admin_client, url, rules_body(timezone.localdate() - dt.timedelta(days=1)),
            "must take effect today or later")
    response = admin_client.post(url, rules_body(tomorrow))
    assert response.status_code == 302 and response["Location"] == reverse("partnership-settings")
    version = PartnershipRules.objects.get()
    assert version.decision_hours_red == 2 and version.decision_hours_green is None
    assert timezone.localdate(version.effective_from) == tomorrow
    # The same day again, or a day before the version already set: an overlap.
    refused(admin_client, url, rules_body(tomorrow), "overlap the rules already set from")
    refused(admin_client, url, rules_body(timezone.localdate()), "overlap the rules already set from")
    settings_page = admin_client.get(reverse("partnership-settings")).content.decode()
    assert "Scheduled" in settings_page


def test_concerns_with_unsafe_markdown_are_refused_with_an_error(admin_client):
    url = reverse("partnership-concern-new")
    base = {"label": "Knife crime near schools", "source_title": "", "source_url": ""}
    for signs, message in (
        ("<script>alert(1)</script>", "Remove the script"),
        ('Watch for <img src="x" onerror="alert(1)">', "Remove the event handler"),
        ("[guidance](javascript:alert(1))", "Links must start with https://"),
    ):
        refused(admin_client, url, {**base, "signs": signs}, message)
    refused(admin_client, url, {**base, "signs": "- fine", "source_url": "javascript:alert(1)"},
            "The source link must be a web address")
    refused(admin_client, url, {**base, "label": "Gang association", "signs": ""},
            "already has a concern called")
    response = admin_client.post(url, {**base, "signs": "- carries a knife to school\n- **talks** about protection"})
    assert response.status_code == 302
    concern = Concern.objects.get(code="knife_crime_near_schools")
    page = admin_client.get(reverse("partnership-concern-edit", args=[concern.pk])).content.decode()
    assert "<strong>talks</strong>" in page and "knife_crime_near_schools" in page


def test_an_indicator_without_a_concern_is_refused(admin_client):
    url = reverse("partnership-indicator-new")
    refused(admin_client, url, {"concern": "", "text": "Has unexplained money"},
            "Select the concern this indicator is a sign of")
    weapon = Concern.objects.get(partnership=f.default_partnership(), code="weapon")
    assert admin_client.post(url, {"concern": str(weapon.pk), "text": "Has unexplained money"}).status_code == 302
    assert weapon.indicators.get().text == "Has unexplained money"


def test_another_boroughs_vocabulary_is_not_found(admin_client):
    elsewhere = f.PartnershipFactory(name="Elsewhere", slug="elsewhere")
    theirs = Concern.objects.filter(partnership=elsewhere).first()
    assert admin_client.get(reverse("partnership-concern-edit", args=[theirs.pk])).status_code == 404
    assert admin_client.post(reverse("partnership-concern-move", args=[theirs.pk]), {"direction": "up"}).status_code == 404


def test_the_referral_journey_shows_the_signs_and_stores_ticked_indicators(client, cast):
    borough = f.default_partnership()
    weapon = Concern.objects.get(partnership=borough, code="weapon")
    Concern.objects.filter(pk=weapon.pk).update(signs="Young people who carry knives say it is for **protection**.")
    blade = Indicator.objects.create(concern=weapon, text="Has been seen with a blade", position=1)
    fear = Indicator.objects.create(concern=weapon, text="Says they need to protect themselves", position=2)
    Indicator.objects.create(concern=weapon, text="Retired sign", position=3, retired_at=timezone.now())
    client.force_login(cast.user("referrer", "practitioner"))
    client.post(reverse("referral-person"), {"given_name": "Jay", "family_name": "Mensah",
                                             **date_fields("date_of_birth", dt.date(2010, 3, 27))})
    client.post(reverse("referral-person-choose"), {"young_person": "new"})
    client.post(reverse("referral-person-new"), {"given_name": "Jay", "family_name": "Mensah", "gender": "male",
                                                 **date_fields("date_of_birth", dt.date(2010, 3, 27))})
    page = client.get(reverse("referral-concerns")).content.decode()
    assert '<details class="govuk-details' in page and "<strong>protection</strong>" in page
    response = client.post(reverse("referral-concerns"), {"concerns": ["weapon"]})
    assert response["Location"] == reverse("referral-indicators")
    page = client.get(reverse("referral-indicators")).content.decode()
    assert "Has been seen with a blade" in page and "Retired sign" not in page
    assert "You still choose the risk level yourself" in page
    assert client.post(reverse("referral-indicators"), {"indicators": ["not-a-sign"]}).status_code == 200
    response = client.post(reverse("referral-indicators"), {"indicators": [str(blade.pk), str(fear.pk)]})
    assert response["Location"] == reverse("referral-risk")
    client.post(reverse("referral-risk"), {"risk_level": "green"})
    client.post(reverse("referral-account"), {"account": "Told a teacher he carries a knife"})
    client.post(reverse("referral-consent"), {"consent": "young_person"})
    check = client.get(reverse("referral-check")).content.decode()
    assert "Has been seen with a blade" in check
    assert client.post(reverse("referral-check")).status_code == 302
    referral = Referral.objects.get()
    assert referral.indicators == [blade.pk, fear.pk] and referral.risk_level == "green"
    client.force_login(cast.user("hub", "hub_screener"))
    screening = client.get(reverse("screening", args=[referral.pk])).content.decode()
    assert "Signs the referrer saw" in screening and "Says they need to protect themselves" in screening


def test_the_awareness_page_and_its_printable_version_are_for_every_partner(client, cast):
    borough = f.default_partnership()
    Concern.objects.filter(partnership=borough, code="criminal_exploitation").update(
        signs="- unexplained money\n- new phones", source_title="Home Office", source_url="https://www.gov.uk/",
    )
    for role in (Role.PRACTITIONER, Role.AGENCY_ADMIN, Role.DPO):
        client.force_login(cast.user("outsider", role))
        for name in ("awareness", "awareness-print"):
            page = client.get(reverse(name)).content.decode()
            assert "Criminal exploitation or county lines" in page and "<li>unexplained money</li>" in page
    client.force_login(cast.superuser)
    assert client.get(reverse("awareness")).status_code == 403
