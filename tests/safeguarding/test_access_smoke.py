from safeguarding import access
from tests import factories as f


def test_lead_agency_practitioner_sees_case_and_outsider_does_not(cast):
    case = f.CaseFactory(lead_agency=cast.owner)
    assert list(access.visible_cases(cast.actor("owner", "practitioner"))) == [case]
    assert list(access.visible_cases(cast.actor("outsider", "practitioner"))) == []
    assert access.agencies_with_permission(case) == {cast.owner.pk}
