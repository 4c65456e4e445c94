"""Every operation of the API, with the scope it needs and a valid request,
for the tests that try each one against each refusal."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # with {case}, {note}, {intervention}, {referral}
    scope: str | None
    body: dict = field(default_factory=dict)
    case_scoped: bool = False
    idempotent: bool = True  # a POST that takes Idempotency-Key

    def url(self, **ids) -> str:
        return self.path.format(**ids)


def referral_body() -> dict:
    return {
        "person": {"given_name": "Jordan", "family_name": "Ellis", "date_of_birth": "2011-03-04"},
        "concerns": ["weapon"],
        "risk_level": "amber",
        "account": "Seen with a knife outside the school gates.",
        "consent": "young_person",
        "partner_reference": "SIMS-1",
    }


OPERATIONS = [
    Operation("agencies_list", "get", "/api/v1/agencies/", None),
    Operation("referrals_list", "get", "/api/v1/referrals/", "referrals:read"),
    Operation("referrals_create", "post", "/api/v1/referrals/", "referrals:write", referral_body()),
    Operation("referrals_read", "get", "/api/v1/referrals/{referral}/", "referrals:read"),
    Operation(
        "young_people_match", "post", "/api/v1/young-people/matches/", "referrals:write",
        {"given_name": "Jordan", "family_name": "Ellis", "date_of_birth": "2011-03-04"}, idempotent=False,
    ),
    Operation("cases_list", "get", "/api/v1/cases/", "cases:read"),
    Operation("cases_read", "get", "/api/v1/cases/{case}/", "cases:read", case_scoped=True),
    Operation("case_notes_list", "get", "/api/v1/cases/{case}/notes/", "cases:read", case_scoped=True),
    Operation(
        "case_notes_create", "post", "/api/v1/cases/{case}/notes/", "cases:write",
        {"kind": "contact", "text": "Spoke to Jordan after school."}, case_scoped=True,
    ),
    Operation(
        "case_notes_correct", "post", "/api/v1/cases/{case}/notes/{note}/correct/", "cases:write",
        {"text": "Corrected: spoke to Jordan and his mother after school."}, case_scoped=True,
    ),
    Operation("case_interventions_list", "get", "/api/v1/cases/{case}/interventions/", "cases:read", case_scoped=True),
    Operation(
        "case_interventions_create", "post", "/api/v1/cases/{case}/interventions/", "cases:write",
        {"provider_agency": None, "kind": "mentoring", "goals": "Weekly mentoring"}, case_scoped=True,
    ),
    Operation(
        "case_interventions_update", "patch", "/api/v1/cases/{case}/interventions/{intervention}/", "cases:write",
        {"sessions_offered": 8}, case_scoped=True,
    ),
    Operation("case_reviews_list", "get", "/api/v1/cases/{case}/reviews/", "cases:read", case_scoped=True),
    # Contexts (issue 16): {context} is a place in the case's partnership.
    Operation("contexts_list", "get", "/api/v1/contexts/", "contexts:read"),
    Operation(
        "contexts_create", "post", "/api/v1/contexts/", "contexts:write",
        {"kind": "peer_group", "name": "Canal Street group", "known": "Older males recruiting", "risk_level": "red",
         "street_names": ["Blade"]},
    ),
    Operation("contexts_read", "get", "/api/v1/contexts/{context}/", "contexts:read"),
    Operation("context_links_list", "get", "/api/v1/contexts/{context}/links/", "contexts:read"),
    Operation("case_context_links_list", "get", "/api/v1/cases/{case}/context-links/", "contexts:read",
              case_scoped=True),
    Operation(
        "case_context_links_create", "post", "/api/v1/cases/{case}/context-links/", "contexts:write",
        {"context": None, "source": "Police intelligence report", "information_date": "2026-01-05",
         "source_evaluation": "2", "intelligence_assessment": "B"}, case_scoped=True,
    ),
]
