"""The partnership administrator's services: who may change the settings
(deny by default), what each change guarantees, and that bad input writes
nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from agencies.models import AgencyKind, Role
from governance import selectors, services
from lib.errors import DomainError
from partnerships.models import AgreementTemplate, Concern, Indicator, PartnershipRules
from partnerships.rules import rules_in_force
from safeguarding import access
from tests import factories as f

pytestmark = pytest.mark.django_db

RULES = {
    "decision_hours_red": 2, "decision_hours_amber": 6, "decision_hours_green": None,
    "review_days_red": 14, "review_days_amber": 28, "review_days_green": 42,
    "alert_minutes_red": 30, "alert_minutes_amber": 0, "alert_minutes_green": 0,
    "retention_age_years": 25, "small_number_threshold": 5, "consent_competence_age": 13, "break_glass_hours": 4,
}


def rows():
    return [model.objects.count() for model in (PartnershipRules, Concern, Indicator, AgreementTemplate)]


@pytest.fixture
def admin(cast):
    return cast.actor("hub", Role.PARTNERSHIP_ADMIN)


def test_only_the_hubs_partnership_administrator_may_change_the_settings(cast, admin):
    assert access.may_edit_partnership_settings(admin)
    refused = [cast.actor(key, role) for key in ("owner", "hub", "outsider") for role in Role
               if (key, role) != ("hub", Role.PARTNERSHIP_ADMIN)]
    refused.append(access.actor_for_user(cast.superuser))
    for actor in refused:
        assert not access.may_edit_partnership_settings(actor), actor
        with pytest.raises(access.NotAllowed):
            services.concern_add(actor=actor, label="Anything")
        with pytest.raises(access.NotAllowed):
            selectors.settings_overview(actor)
    # The role means nothing outside the community-safety hub, and gives no case content.
    assert not access.may_edit_partnership_settings(cast.actor("owner", Role.PARTNERSHIP_ADMIN))
    assert not admin.works_cases and not access.visible_cases(admin).exists()
    # History: the administrator and data-protection officers.
    assert access.may_see_partnership_settings_history(admin)
    assert access.may_see_partnership_settings_history(cast.actor("owner", Role.DPO))
    assert not access.may_see_partnership_settings_history(cast.actor("owner", Role.MANAGER))


def test_a_new_version_closes_the_one_before_and_refuses_overlaps(admin):
    with time_machine.travel(dt.datetime(2026, 11, 17, 10, tzinfo=timezone.get_current_timezone()), tick=False):
        first = services.rules_version_schedule(actor=admin, effective_from=dt.date(2026, 11, 17), values=RULES)
        assert first.effective_from == timezone.now(), "from today means from now"
        second = services.rules_version_schedule(
            actor=admin, effective_from=dt.date(2026, 11, 18), values={**RULES, "decision_hours_red": 1},
            reason="Tighter red limit",
        )
        first.refresh_from_db()
        assert first.effective_until == second.effective_from
        assert second.created_by == admin.user and second.reason == "Tighter red limit"
        before = rows()
        for day, code in ((dt.date(2026, 11, 18), "overlap"), (dt.date(2026, 11, 16), "past")):
            with pytest.raises(DomainError) as error:
                services.rules_version_schedule(actor=admin, effective_from=day, values=RULES)
            assert error.value.field == "effective_from" and error.value.code == code
        for field, value in (("decision_hours_red", 0), ("review_days_green", 367), ("alert_minutes_red", -1),
                             ("retention_age_years", 17)):
            with pytest.raises(DomainError) as error:
                services.rules_version_schedule(actor=admin, effective_from=dt.date(2026, 11, 20),
                                                values={**RULES, field: value})
            assert error.value.field == field
        assert rows() == before
    assert rules_in_force(admin.partnership, dt.datetime(2026, 11, 18, 9, tzinfo=timezone.get_current_timezone())
                          ).decision_limit_hours("red") == 1


def test_the_vocabulary_is_added_to_renamed_reordered_and_retired(cast, admin):
    added = services.concern_add(
        actor=admin, label="Knife crime near schools", signs_text="- carries a knife to school",
        source_url="https://www.gov.uk/government/publications/serious-violence-strategy", source_title="Home Office",
    )
    assert added.code == "knife_crime_near_schools" and added.position == 14
    renamed = services.concern_change(actor=admin, concern=added, label="Knives near schools",
                                      signs_text=added.signs, source_url=added.source_url,
                                      source_title=added.source_title)
    assert renamed.code == "knife_crime_near_schools" and renamed.label == "Knives near schools"
    services.concern_move(actor=admin, concern=added, direction="up")
    order = list(Concern.objects.filter(partnership=admin.partnership).order_by("position").values_list("code", flat=True))
    assert order[-2:] == ["knife_crime_near_schools", "other"]
    assert sorted(Concern.objects.filter(partnership=admin.partnership).values_list("position", flat=True)) == list(range(1, 15))
    indicator = services.indicator_add(actor=admin, concern=added.pk, text="Has a knife in their bag")
    services.concern_retire(actor=admin, concern=added)
    assert "knife_crime_near_schools" not in {c.code for c in selectors.vocabulary(cast.actor("owner", "practitioner"))}
    services.concern_retire(actor=admin, concern=added, retired=False)
    # Another partnership's concern is not there for this administrator.
    elsewhere = Concern.objects.filter(partnership=f.PartnershipFactory(name="Elsewhere", slug="elsewhere")).first()
    with pytest.raises(access.NotVisible):
        services.concern_change(actor=admin, concern=elsewhere, label="Mine now")
    with pytest.raises(DomainError) as error:
        services.indicator_add(actor=admin, concern=elsewhere.pk, text="Sneaky")
    assert error.value.field == "concern"
    # Once ticked, an indicator's wording stays.
    f.ReferralFactory(referring_agency=cast.referrer, concerns=["knife_crime_near_schools"], indicators=[indicator.pk])
    with pytest.raises(DomainError) as error:
        services.indicator_change(actor=admin, indicator=indicator, text="Has a blade in their bag")
    assert error.value.code == "in_use"
    services.indicator_retire(actor=admin, indicator=indicator)


@pytest.mark.parametrize("bad,field", [
    ({"label": ""}, "label"),
    ({"label": "Gang association"}, "label"),  # the name of another concern
    ({"signs_text": "<script>alert(1)</script>"}, "signs"),
    ({"signs_text": "[click](javascript:alert(1))"}, "signs"),
    ({"signs_text": '<a href="#" onclick="steal()">guidance</a>'}, "signs"),
    ({"source_url": "javascript:alert(1)"}, "source_url"),
    ({"source_url": "mailto:someone@example.org"}, "source_url"),
])
def test_bad_concerns_write_nothing(admin, bad, field):
    before = rows()
    with pytest.raises(DomainError) as error:
        services.concern_add(actor=admin, **{"label": "Something new", **bad})
    assert error.value.field == field
    assert rows() == before


def test_an_indicator_needs_a_concern(admin):
    before = rows()
    with pytest.raises(DomainError) as error:
        services.indicator_add(actor=admin, concern=None, text="Unexplained money")
    assert error.value.field == "concern" and "concern" in error.value.message
    assert rows() == before


def test_templates_and_the_history_of_every_change(cast, admin):
    template = services.agreement_template_save(actor=admin, template=None, title="Model agreement",
                                                body="The parties share **what is needed**.")
    services.agreement_template_save(actor=admin, template=template, title="Model agreement (2026)",
                                     body=template.body)
    with pytest.raises(DomainError):
        services.agreement_template_save(actor=admin, template=None, title="Other", body="<script>x</script>")
    services.concern_add(actor=admin, label="Knife crime near schools")
    changes = selectors.settings_history(cast.actor("owner", Role.DPO))
    records = [change.record for change in changes]
    assert "Concern: Knife crime near schools" in records
    assert "Agreement template: Model agreement (2026)" in records
    renamed = next(c for c in changes if c.record == "Agreement template: Model agreement (2026)" and not c.created)
    assert renamed.who == admin.user.username
    assert any(field.before == "Model agreement" for field in renamed.fields)
    with pytest.raises(access.NotAllowed):
        selectors.settings_history(cast.actor("owner", Role.MANAGER))
