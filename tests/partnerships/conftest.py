"""Two neighbouring boroughs in one deployment: the cast's borough (A, the
test default) and Northbank (B), with a police unit that serves both, and a
case in each that the police unit leads."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from agencies.models import AgencyKind, Role
from tests import factories as f


@pytest.fixture
def boroughs(cast):
    a = f.default_partnership()
    b = f.PartnershipFactory(name="Northbank", slug="northbank")
    police = cast.sharing  # "Sharing Police" serves both boroughs
    police.partnerships.add(b)
    hub_b = f.AgencyFactory(name="Northbank Hub", slug="northbank-hub", kind=AgencyKind.HUB, partnerships=[b])
    youth_b = f.AgencyFactory(name="Northbank Youth", slug="northbank-youth", partnerships=[b])
    people = {
        ("hub_b", Role.HUB_SCREENER): f.make_member(hub_b, Role.HUB_SCREENER),
        ("hub_b", Role.MANAGER): f.make_member(hub_b, Role.MANAGER),
        ("youth_b", Role.PRACTITIONER): f.make_member(youth_b, Role.PRACTITIONER),
        ("youth_b", Role.MANAGER): f.make_member(youth_b, Role.MANAGER),
    }
    case_a = f.CaseFactory(lead_agency=police, young_person=f.YoungPersonFactory(recorded_by=police, partnership=a))
    case_b = f.CaseFactory(lead_agency=police, young_person=f.YoungPersonFactory(recorded_by=police, partnership=b))
    youth_case_b = f.CaseFactory(
        lead_agency=youth_b, young_person=f.YoungPersonFactory(recorded_by=youth_b, partnership=b),
    )
    referral_b = f.ReferralFactory(
        young_person=case_b.young_person, referring_agency=youth_b, referred_by=people[("youth_b", Role.PRACTITIONER)],
    )
    return SimpleNamespace(
        a=a, b=b, police=police, hub_b=hub_b, youth_b=youth_b, people=people,
        case_a=case_a, case_b=case_b, youth_case_b=youth_case_b, referral_b=referral_b,
    )
