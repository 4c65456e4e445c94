"""Read paths for the partnership's directory: which agencies there are and
the agreements between them. No case data: open to every signed-in person
and partner system (choice lists on the pages, the API's agency list)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.postgres.aggregates import StringAgg
from django.db.models import Q, QuerySet

from agencies.models import Agency, InformationSharingAgreement


def directory(*, partnership: int | None, exclude: int | None = None) -> QuerySet[Agency]:
    """A partnership's active agencies, by name (none for no partnership);
    ``exclude`` leaves one out (the lead agency, when choosing whom to share a
    case with)."""
    if partnership is None:
        return Agency.objects.none()
    agencies = Agency.objects.filter(is_active=True, partnerships=partnership).order_by("name", "pk")
    if exclude is not None:
        agencies = agencies.exclude(pk=exclude)
    return agencies


def cross_border_partners(agency_id: int, *, partnership: int, day) -> QuerySet[Agency]:
    """The active agencies of other partnerships with which an agency has a
    cross-border information-sharing agreement in force on ``day``: whom it
    may share one of ``partnership``'s cases with across the border. By
    name; ``names`` carries each one's partnerships, for the choice list."""
    in_force = InformationSharingAgreement.objects.filter(
        parties=agency_id, cross_border=True, starts_on__lte=day,
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    return (
        Agency.objects.filter(is_active=True, agreements__in=in_force, partnerships__is_active=True)
        .exclude(partnerships=partnership).exclude(pk=agency_id)
        .annotate(partnership_names=StringAgg("partnerships__name", ", ", distinct=True, order_by="partnerships__name"))
        .order_by("name", "pk")
    )


def find_agency(agency_id) -> Agency | None:
    """The agency a form or request names, active or not, or ``None``: the
    service it goes to decides whether that agency will do, and says why not."""
    if not str(agency_id or "").isdigit():
        return None
    return Agency.objects.filter(pk=int(agency_id)).first()


def find_person(user_id):
    """The person a form names (a key worker chosen from a list), or ``None``:
    the service decides whether they may hold the case."""
    if not str(user_id or "").isdigit():
        return None
    return get_user_model().objects.filter(pk=int(user_id)).first()


def agreements_of(agency_id: int) -> QuerySet[InformationSharingAgreement]:
    """The information-sharing agreements an agency is a party to, by title."""
    return InformationSharingAgreement.objects.filter(parties=agency_id).order_by("title", "pk")


def find_agreement(agreement_id) -> InformationSharingAgreement | None:
    """The agreement a form names, or ``None``; the sharing service checks
    that it binds the two agencies and is in force."""
    if not str(agreement_id or "").isdigit():
        return None
    return InformationSharingAgreement.objects.filter(pk=int(agreement_id)).first()
