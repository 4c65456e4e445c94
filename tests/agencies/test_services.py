"""agencies.services: agencies with their groups, people, memberships."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from agencies import services
from agencies.models import Agency, AgencyKind, Membership, Role
from lib.errors import DomainError
from safeguarding import access
from tests import factories as f

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "river-crossing-lantern-42"


def test_agency_create_makes_the_agency_and_its_group_together():
    agency = services.agency_create(name="Riverside Youth Service", kind=AgencyKind.YOUTH_SERVICE, email="ys@example.org")
    assert agency.slug == "riverside-youth-service"
    assert agency.group.name == "agency:riverside-youth-service"
    assert agency.email == "ys@example.org"
    assert Agency.objects.get(pk=agency.pk).group_id == Group.objects.get(name="agency:riverside-youth-service").pk


def test_agency_create_takes_a_given_slug():
    agency = services.agency_create(name="Met Police South East BCU", kind=AgencyKind.POLICE, slug="met-se")
    assert agency.slug == "met-se"
    assert agency.group.name == "agency:met-se"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "", "kind": AgencyKind.SCHOOL}, "name"),
        ({"name": "   ", "kind": AgencyKind.SCHOOL}, "name"),
        ({"name": "Riverside Academy", "kind": "prison"}, "kind"),
        ({"name": "Riverside Academy", "kind": AgencyKind.SCHOOL, "slug": "Not A Slug"}, "slug"),
        ({"name": "Riverside Academy", "kind": AgencyKind.SCHOOL, "email": "not-an-address"}, "email"),
    ],
)
def test_agency_create_refuses_bad_input_and_writes_nothing(kwargs, field):
    with pytest.raises(DomainError) as exc:
        services.agency_create(**kwargs)
    assert exc.value.field == field
    assert not Agency.objects.exists()
    assert not Group.objects.exists()


def test_agency_create_refuses_a_duplicate_name_or_slug():
    services.agency_create(name="Riverside Academy", kind=AgencyKind.SCHOOL)
    with pytest.raises(DomainError) as exc:
        services.agency_create(name="riverside academy", kind=AgencyKind.SCHOOL, slug="other")
    assert exc.value.field == "name"
    with pytest.raises(DomainError) as exc:
        services.agency_create(name="Riverside Academy Trust", kind=AgencyKind.SCHOOL, slug="riverside-academy")
    assert exc.value.field == "slug"
    assert Agency.objects.count() == 1
    assert Group.objects.count() == 1


def test_agency_create_never_adopts_a_leftover_group():
    Group.objects.create(name="agency:riverside-academy")
    with pytest.raises(DomainError) as exc:
        services.agency_create(name="Riverside Academy", kind=AgencyKind.SCHOOL)
    assert exc.value.field == "slug"
    assert not Agency.objects.exists()


def test_user_create_validates_the_password_with_the_projects_validators():
    with pytest.raises(DomainError) as exc:
        services.user_create(username="amara", email="amara@example.org", first_name="Amara", last_name="Okafor",
                             password="short")
    assert exc.value.field == "password"
    with pytest.raises(DomainError):
        services.user_create(username="amara", email="amara@example.org", first_name="Amara", last_name="Okafor",
                             password="amara@example.org")  # the same as the e-mail address
    assert not get_user_model().objects.filter(username="amara").exists()

    user = services.user_create(username="amara", email="amara@example.org", first_name="Amara", last_name="Okafor",
                                password=GOOD_PASSWORD)
    assert user.check_password(GOOD_PASSWORD)
    assert not user.is_staff and not user.is_superuser


def test_user_create_without_a_password_gives_an_unusable_one():
    user = services.user_create(username="amara", email="amara@example.org", first_name="Amara", last_name="Okafor")
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
        ({"email": "nope"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"last_name": " "}, "last_name"),
    ],
)
def test_user_create_refuses_bad_input(kwargs, field):
    values = {"username": "amara", "email": "amara@example.org", "first_name": "Amara", "last_name": "Okafor"}
    with pytest.raises(DomainError) as exc:
        services.user_create(**{**values, **kwargs})
    assert exc.value.field == field
    assert not get_user_model().objects.exists()


def test_user_create_refuses_a_taken_username_whatever_its_case():
    f.UserFactory(username="amara")
    with pytest.raises(DomainError) as exc:
        services.user_create(username="Amara", email="a@example.org", first_name="A", last_name="O")
    assert exc.value.field == "username"


def test_membership_add_puts_the_person_in_the_agency_group_and_is_idempotent():
    agency = services.agency_create(name="Riverside Youth Service", kind=AgencyKind.YOUTH_SERVICE)
    user = f.UserFactory()
    first = services.membership_add(agency=agency, user=user, role=Role.PRACTITIONER, job_title="Youth worker")
    second = services.membership_add(agency=agency, user=user, role=Role.PRACTITIONER)
    assert first.pk == second.pk
    assert Membership.objects.count() == 1
    assert second.job_title == "Youth worker"
    assert list(user.groups.all()) == [agency.group]
    assert access.actor_for_user(user).agency == agency


def test_membership_add_reactivates_an_ended_membership():
    agency = f.make_agency("Riverside Youth Service")
    user = f.UserFactory()
    membership = services.membership_add(agency=agency, user=user, role=Role.MANAGER)
    services.membership_end(membership=membership)
    again = services.membership_add(agency=agency, user=user, role=Role.MANAGER, job_title="Team manager")
    assert again.pk == membership.pk
    again.refresh_from_db()
    assert again.is_active and again.job_title == "Team manager"
    assert user.groups.filter(pk=agency.group_id).exists()


def test_membership_add_refuses_unknown_roles_and_inactive_agencies_or_people():
    agency = f.make_agency("Riverside Youth Service")
    user = f.UserFactory()
    with pytest.raises(DomainError) as exc:
        services.membership_add(agency=agency, user=user, role="superhero")
    assert exc.value.field == "role"
    closed = f.make_agency("Closed Service")
    Agency.objects.filter(pk=closed.pk).update(is_active=False)
    closed.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        services.membership_add(agency=closed, user=user, role=Role.PRACTITIONER)
    assert exc.value.field == "agency"
    gone = f.UserFactory(is_active=False)
    with pytest.raises(DomainError) as exc:
        services.membership_add(agency=agency, user=gone, role=Role.PRACTITIONER)
    assert exc.value.field == "user"
    assert not Membership.objects.exists()
    assert not user.groups.exists()


def test_membership_end_removes_the_group_only_with_the_last_active_role():
    agency = f.make_agency("Riverside Youth Service")
    other = f.make_agency("Riverside Academy", AgencyKind.SCHOOL)
    user = f.UserFactory()
    practitioner = services.membership_add(agency=agency, user=user, role=Role.PRACTITIONER)
    manager = services.membership_add(agency=agency, user=user, role=Role.MANAGER)
    governor = services.membership_add(agency=other, user=user, role=Role.PRACTITIONER)

    services.membership_end(membership=practitioner)
    practitioner.refresh_from_db()
    assert not practitioner.is_active
    assert user.groups.filter(pk=agency.group_id).exists(), "still a manager there"

    services.membership_end(membership=manager)
    assert not user.groups.filter(pk=agency.group_id).exists()
    assert user.groups.filter(pk=other.group_id).exists(), "another agency's group is not touched"
    assert Membership.objects.filter(pk=governor.pk, is_active=True).exists()

    services.membership_end(membership=manager)  # ending twice changes nothing
    assert Membership.objects.count() == 3


def test_an_ended_membership_takes_case_access_away_at_once(cast):
    case = f.CaseFactory(lead_agency=cast.owner)
    user = f.UserFactory(username="leaver")
    membership = services.membership_add(agency=cast.owner, user=user, role=Role.PRACTITIONER)
    assert list(access.visible_cases(access.actor_for_user(user))) == [case]
    services.membership_end(membership=membership)
    assert list(access.visible_cases(access.actor_for_user(user))) == []
