"""The concern vocabulary as each partnership's own data: every partnership
starts with the standard list; referrals carry only concerns (and
indicators of those concerns) their partnership knows, which the database
itself holds; a concern or indicator in use is never deleted; old referrals
keep reading correctly, in the pages, the partner API and the subject-access
export; signs to look for are Markdown refused when unsafe and rendered
safely."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from casework import services
from lib.errors import DomainError
from partnerships import signs, vocabulary
from partnerships.models import Concern, Indicator, StandardConcern
from referrals import models as rm
from reports import subject_access
from safeguarding import access
from tests import factories as f
from tests.api.conftest import api_as  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def concern(partnership, code, label, **kwargs) -> Concern:
    return Concern.objects.create(partnership=partnership, code=code, label=label, position=99, **kwargs)


def submit(cast, **kwargs):
    values = {
        "concerns": ["weapon"], "risk_level": "amber", "account": "Seen with a knife.", "consent": "young_person",
        "person": {"given_name": "Sam", "family_name": "Okafor", "date_of_birth": timezone.localdate().replace(year=2011)},
    }
    return services.referral_submit(actor=cast.actor("referrer", "practitioner"), **{**values, **kwargs})


def test_every_partnership_starts_with_the_standard_vocabulary():
    borough = f.PartnershipFactory(name="Eastside", slug="eastside")
    rows = list(Concern.objects.filter(partnership=borough).order_by("position").values_list("code", "label"))
    assert rows == [(c.value, c.label) for c in StandardConcern]


def test_the_database_refuses_a_concern_the_partnership_does_not_know(cast):
    referral = f.ReferralFactory(referring_agency=cast.referrer)
    elsewhere = f.PartnershipFactory(name="Elsewhere", slug="elsewhere")
    concern(elsewhere, "knife_arch", "Knife arch alert")
    for codes in (["knife_crime"], ["weapon", "knife_arch"], []):
        with pytest.raises(IntegrityError), transaction.atomic():
            rm.Referral.objects.filter(pk=referral.pk).update(concerns=codes)
    concern(f.default_partnership(), "knife_arch", "Knife arch alert")
    rm.Referral.objects.filter(pk=referral.pk).update(concerns=["weapon", "knife_arch"])


def test_the_database_refuses_an_indicator_of_another_concern(cast):
    borough = f.default_partnership()
    weapon = Concern.objects.get(partnership=borough, code="weapon")
    gang = Concern.objects.get(partnership=borough, code="gang_association")
    blade = Indicator.objects.create(concern=weapon, text="Carries a blade", position=1)
    colours = Indicator.objects.create(concern=gang, text="Wears a group's colours", position=1)
    referral = f.ReferralFactory(referring_agency=cast.referrer, concerns=["weapon"], indicators=[blade.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        rm.Referral.objects.filter(pk=referral.pk).update(indicators=[blade.pk, colours.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        rm.Referral.objects.filter(pk=referral.pk).update(indicators=[10**12])


def test_a_concern_or_indicator_in_use_is_never_deleted_and_its_code_never_changes(cast):
    borough = f.default_partnership()
    weapon = Concern.objects.get(partnership=borough, code="weapon")
    blade = Indicator.objects.create(concern=weapon, text="Carries a blade", position=1)
    f.ReferralFactory(referring_agency=cast.referrer, concerns=["weapon"], indicators=[blade.pk])
    for doomed in (blade, weapon):
        with pytest.raises(DatabaseError), transaction.atomic():
            type(doomed).objects.filter(pk=doomed.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Concern.objects.filter(pk=weapon.pk).update(code="blade")
    # Unused ones may go (a typing mistake just made).
    unused = concern(borough, "typo", "Tpyo")
    Indicator.objects.create(concern=weapon, text="Tpyo", position=2).delete()
    unused.delete()


def test_a_referral_carries_the_partnerships_own_concern_and_ticked_indicators(cast):
    borough = f.default_partnership()
    added = concern(borough, "online_grooming", "Groomed online by older people")
    asks = Indicator.objects.create(concern=added, text="Asked to keep a new friend secret", position=1)
    gifts = Indicator.objects.create(concern=added, text="Unexplained gifts or phone credit", position=2)
    referral = submit(cast, concerns=["online_grooming", "weapon"], indicators=[gifts.pk, asks.pk, gifts.pk])
    assert referral.concerns == ["online_grooming", "weapon"]
    assert referral.indicators == [gifts.pk, asks.pk]
    assert referral.risk_level == "amber", "indicators never set the rating"
    for bad, field in [({"concerns": ["knife_crime"]}, "concerns"),
                       ({"indicators": [asks.pk]}, "indicators"),  # a sign of a concern not chosen
                       ({"concerns": ["online_grooming"], "indicators": ["many"]}, "indicators")]:
        with pytest.raises(DomainError) as error:
            submit(cast, **bad)
        assert error.value.field == field


def test_retired_concerns_are_not_offered_but_old_referrals_read_as_before(cast, api_as):
    borough = f.default_partnership()
    weapon = Concern.objects.get(partnership=borough, code="weapon")
    blade = Indicator.objects.create(concern=weapon, text="Carries a blade", position=1)
    old = submit(cast, indicators=[blade.pk])
    Concern.objects.filter(pk=weapon.pk).update(label="Carrying a knife, blade or other weapon", retired_at=timezone.now())
    assert "weapon" not in {c.code for c in vocabulary.choosable(borough.pk)}
    with pytest.raises(DomainError):
        submit(cast)
    assert vocabulary.concern_names(borough.pk, old.concerns) == ["Carrying a knife, blade or other weapon"]
    # The referrer's page, the partner API and the subject-access export.
    client = cast_client(cast, "referrer", "practitioner")
    page = client.get(f"/referrals/{old.pk}/").content.decode()
    assert "Carrying a knife, blade or other weapon" in page and "Carries a blade" in page
    body = api_as("referrer").get(f"/api/v1/referrals/{old.pk}/").json()
    assert body["concerns"] == ["weapon"]
    assert body["indicators"] == [{"id": blade.pk, "concern": "weapon", "text": "Carries a blade"}]
    officer = cast.actor("referrer", "dpo")
    request = subject_access.subject_access_request_record(
        actor=officer, young_person=old.young_person, received_on=timezone.localdate(),
    )
    export = subject_access.subject_access_export(actor=officer, sar=request, format="json")
    referral = export["referrals"][0]
    assert referral["data"]["concerns"] == ["weapon"] and referral["data"]["indicators"] == [blade.pk]
    words = dict(referral["fields"])
    assert words["Concerns"] == "Carrying a knife, blade or other weapon"
    assert words["Indicators"] == "Carries a blade"


def cast_client(cast, agency, role):
    from django.test import Client

    client = Client()
    client.force_login(cast.user(agency, role))
    return client


@pytest.mark.parametrize("text,problem", [
    ("<script>alert(1)</script>", "Remove the script"),
    ("Look out for <img src=x onerror=alert(1)>", "Remove the event handler"),
    ("[guidance](javascript:alert(1))", "Links must start with"),
    ("[guidance](JaVaScRiPt&#58;alert(1))", "Links must start with"),
    ("<javascript:alert(1)>", "Links must start with"),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", "Links must start with"),
    ("<b>bold</b>", "not HTML"),
    ("![a phone](https://example.org/phone.png)", "Images cannot be shown"),
])
def test_unsafe_markdown_is_named_not_stripped(text, problem):
    found = signs.problems(text)
    assert found and problem in found[0], found
    # Rendered anyway (a row written by another path), it is inert text.
    html = signs.render(text).lower()
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert 'href="javascript' not in html and 'href="data' not in html


def test_safe_markdown_renders_in_govuk_style():
    text = "Look out for:\n\n- unexplained **money**\n- new phones\n\n[National Crime Agency](https://www.nationalcrimeagency.gov.uk/)"
    assert signs.problems(text) == []
    html = signs.render(text)
    assert '<ul class="govuk-list govuk-list--bullet">' in html and "<strong>money</strong>" in html
    assert 'href="https://www.nationalcrimeagency.gov.uk/"' in html and 'class="govuk-link"' in html
    assert 'rel="noopener noreferrer"' in html
