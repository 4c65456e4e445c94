"""factory_boy factories for every app, and the helpers that make a cast."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, AgencyKind, InformationSharingAgreement, Membership, Partnership, Role
from referrals import models as rm
from safeguarding import access


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


def default_partnership() -> Partnership:
    """The borough every factory-made agency and record belongs to unless a
    test names another."""
    partnership, _ = Partnership.objects.get_or_create(slug="test-borough", defaults={"name": "Test borough"})
    return partnership


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Borough {n}")
    slug = factory.Sequence(lambda n: f"borough-{n}")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Agency {n}")
    slug = factory.Sequence(lambda n: f"agency-{n}")
    kind = AgencyKind.YOUTH_SERVICE
    group = factory.LazyAttribute(lambda a: Group.objects.create(name=f"agency:{a.slug}"))

    @factory.post_generation
    def partnerships(self, create, extracted, **kwargs):
        if create:
            self.partnerships.set(extracted if extracted is not None else [default_partnership()])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    agency = factory.SubFactory(AgencyFactory)
    role = Role.PRACTITIONER


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InformationSharingAgreement
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Information-sharing agreement {n}")
    reference = factory.Sequence(lambda n: f"ISA-{n:04d}")
    purpose = "Safeguarding young people at risk of serious violence"
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=365))
    ends_on = None

    @factory.post_generation
    def parties(self, create, extracted, **kwargs):
        if create and extracted:
            self.parties.set(extracted)


class YoungPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rm.YoungPerson

    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=15 * 365))
    postcode = "SE15 4QF"
    recorded_by = factory.SubFactory(AgencyFactory)
    partnership = factory.LazyFunction(default_partnership)


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = rm.Referral

    young_person = factory.SubFactory(YoungPersonFactory)
    partnership = factory.LazyAttribute(lambda r: r.young_person.partnership)
    referring_agency = factory.SubFactory(AgencyFactory)
    concerns = factory.LazyFunction(lambda: [rm.Concern.WEAPON])
    risk_level = rm.RiskLevel.AMBER
    account = "Seen with a knife outside the school gates."
    consent = rm.Consent.YOUNG_PERSON
    received_at = factory.LazyFunction(timezone.now)
    decision_due_at = factory.LazyAttribute(lambda r: r.received_at + dt.timedelta(days=1))


class CaseFactory(factory.django.DjangoModelFactory):
    """A case with its permission rows in step, as the services leave it."""

    class Meta:
        model = rm.Case

    young_person = factory.SubFactory(YoungPersonFactory)
    partnership = factory.LazyAttribute(lambda c: c.young_person.partnership)
    lead_agency = factory.SubFactory(AgencyFactory)
    risk_level = rm.RiskLevel.AMBER
    next_review_due = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=42))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with transaction.atomic():
            case = super()._create(model_class, *args, **kwargs)
            access.sync_case_permissions(case)
        return case


def make_agency(name: str, kind: str = AgencyKind.YOUTH_SERVICE) -> Agency:
    slug = name.lower().replace(" ", "-")
    return AgencyFactory(name=name, slug=slug, kind=kind)


def make_member(agency: Agency, role: str, username: str | None = None):
    user = UserFactory(username=username or f"{agency.slug}-{role}")
    Membership.objects.get_or_create(user=user, agency=agency, role=role)
    user.groups.add(agency.group)
    return user
