"""The Django admin: a system administrator's tool with no case content in it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from agencies.models import Agency, InformationSharingAgreement, Membership, Role
from referrals.models import Case, CaseNote, Intervention, Referral, Review, YoungPerson
from safeguarding.models import AccessEvent, CaseGroupObjectPermission, ShareGrant, SharingDecision
from tests import factories as f

pytestmark = pytest.mark.django_db

CASE_CONTENT = [YoungPerson, Referral, Case, Intervention, Review, CaseNote, ShareGrant, SharingDecision]


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.superuser)
    return client


@pytest.mark.parametrize("model", [*CASE_CONTENT, AccessEvent, CaseGroupObjectPermission], ids=lambda m: m.__name__)
def test_case_content_and_the_access_log_are_not_in_the_admin(model):
    assert not admin.site.is_registered(model)


def test_nothing_from_guardian_oauth_or_groups_is_in_the_admin():
    registered = {m._meta.app_label for m in admin.site._registry}
    assert registered == {"agencies", "auth"}
    assert not admin.site.is_registered(Group)


def test_no_oauth_token_or_application_can_be_made_in_the_admin():
    oauth_models = [m for c in apps.get_app_configs() if c.label == "oauth2_provider" for m in c.get_models()]
    for model in oauth_models:
        assert not admin.site.is_registered(model), model


@pytest.mark.parametrize("model", CASE_CONTENT, ids=lambda m: m.__name__)
def test_a_superuser_cannot_reach_case_content_by_url(admin_client, cast, model):
    f.CaseFactory(lead_agency=cast.owner)
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    assert admin_client.get(url).status_code == 404
    assert admin_client.get(url + "1/change/").status_code == 404


def test_admin_pages_load_for_a_superuser(admin_client, cast):
    user = cast.user("owner", "practitioner")
    pages = [
        reverse("admin:index"),
        reverse("admin:agencies_agency_changelist"),
        reverse("admin:agencies_agency_add"),
        reverse("admin:agencies_agency_change", args=[cast.owner.pk]),
        reverse("admin:agencies_informationsharingagreement_changelist"),
        reverse("admin:agencies_informationsharingagreement_add"),
        reverse("admin:agencies_informationsharingagreement_change", args=[cast.agreement.pk]),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_add"),
        reverse("admin:auth_user_change", args=[user.pk]),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "Agencies" in index and "Cases" not in index and "Referrals" not in index


def test_the_agency_change_page_shows_its_members_inline(admin_client, cast):
    page = admin_client.get(reverse("admin:agencies_agency_change", args=[cast.owner.pk])).content.decode()
    assert cast.user("owner", "manager").username in page


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_no_agency_member_can_reach_the_admin(client, cast, role):
    client.force_login(cast.user("owner", role))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert client.get(reverse("admin:agencies_agency_changelist")).status_code == 302


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("admin:agencies_agency_changelist"))
    assert response.status_code == 302


def _inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_adding_an_agency_in_the_admin_creates_its_group_and_first_member(admin_client, cast):
    newcomer = f.UserFactory(username="newcomer")
    data = {
        "name": "Riverside Pupil Referral Unit",
        "slug": "riverside-pru",
        "kind": "school",
        "email": "",
        "is_active": "on",
        **_inline_management("memberships", total=1),
        "memberships-0-user": str(newcomer.pk),
        "memberships-0-role": Role.PRACTITIONER,
        "memberships-0-job_title": "Designated safeguarding lead",
        "memberships-0-is_active": "on",
    }
    response = admin_client.post(reverse("admin:agencies_agency_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    agency = Agency.objects.get(slug="riverside-pru")
    assert agency.group.name == "agency:riverside-pru"
    assert Membership.objects.get(agency=agency).user == newcomer
    assert list(newcomer.groups.all()) == [agency.group]


def test_the_admin_will_not_give_a_new_agency_a_leftover_group(admin_client, cast):
    Group.objects.create(name="agency:riverside-pru")
    data = {"name": "Riverside PRU", "slug": "riverside-pru", "kind": "school", "is_active": "on",
            **_inline_management("memberships")}
    response = admin_client.post(reverse("admin:agencies_agency_add"), data)
    assert response.status_code == 200
    assert "group for this slug already exists" in response.content.decode()
    assert not Agency.objects.filter(slug="riverside-pru").exists()


def test_ending_a_membership_in_the_admin_takes_the_person_out_of_the_group(admin_client, cast):
    user = cast.user("owner", "practitioner")
    membership = Membership.objects.get(user=user)
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        **_inline_management("memberships", total=1, initial=1),
        "memberships-0-id": str(membership.pk),
        "memberships-0-user": str(user.pk),
        "memberships-0-agency": str(cast.owner.pk),
        "memberships-0-role": membership.role,
        "memberships-0-job_title": "Senior youth worker",
        # is_active left unticked: the membership ends
    }
    response = admin_client.post(reverse("admin:auth_user_change", args=[user.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    membership.refresh_from_db()
    assert not membership.is_active
    assert membership.job_title == "Senior youth worker"
    assert not user.groups.exists()


def test_agencies_and_agreements_cannot_be_deleted_in_the_admin(admin_client, cast):
    assert admin_client.get(reverse("admin:agencies_agency_delete", args=[cast.owner.pk])).status_code == 403
    url = reverse("admin:agencies_informationsharingagreement_delete", args=[cast.agreement.pk])
    assert admin_client.get(url).status_code == 403
    assert InformationSharingAgreement.objects.filter(pk=cast.agreement.pk).exists()
