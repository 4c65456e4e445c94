"""The world the security sweep runs in, built once per test module.

One open case led by the *owner* agency, and one agency in each relation to
it: *sharing* (an active share grant), *expired* and *revoked* (grants that
ended, their permission rows deliberately left in place, so only the live
check can refuse), *outsider* (nothing), *referrer* (its practitioner made
the referral that became the case; no share) and the partnership's *hub*
(its screener decided that referral). Every agency has a person in every
role and a partner-API client with every scope; the owner agency also has a
practitioner who is the case's key worker. Around the case: chronology
entries (case-wide and agency-only, by the owner and by the sharing agency),
an intervention, the open review, a still-open referral from the referrer, a
notification for the key worker and a superuser who belongs to no agency.

The world is written inside one transaction held open for the module
(``world``); pytest-django wraps each test in a savepoint inside it, so a
test may write freely and the next test finds the world as it was.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from agencies.models import AgencyKind, ApiScope, Role
from reminders.models import Notification, NotificationKind
from api.services import api_client_issue
from casework.transfers import transfer_propose
from partnerships.models import AgreementTemplate, Concern, Indicator
from referrals import models as rm
from safeguarding import access
from safeguarding.models import ShareGrant
from safeguarding.redaction import passage_withhold
from reports.subject_access import subject_access_request_record
from tests import factories as f
from tests.api.conftest import bearer
from tests.safeguarding.conftest import share

ROLES = tuple(r.value for r in Role)
CASEWORK_ROLES = ("practitioner", "hub_screener", "manager")
# How each agency of the world stands to the case.
AGENCY_RELATIONS = (
    "own", "shared", "expired", "revoked", "other", "referrer", "hub",
    # Issue 18: a share that rested on consent, since withdrawn; a practitioner
    # holding the case by a live break-glass opening; one whose opening ended.
    "consent_withdrawn", "break_glass_open", "break_glass_expired",
)
_AGENCIES = {
    "own": ("Owner Youth Service", AgencyKind.YOUTH_SERVICE),
    "shared": ("Sharing Police", AgencyKind.POLICE),
    "expired": ("Expired Health", AgencyKind.HEALTH),
    "revoked": ("Revoked Housing", AgencyKind.HOUSING),
    "other": ("Outsider School", AgencyKind.SCHOOL),
    "referrer": ("Referrer School", AgencyKind.SCHOOL),
    "hub": ("Partnership Hub", AgencyKind.HUB),
    "consent_withdrawn": ("Withdrawn Academy", AgencyKind.SCHOOL),
    "break_glass_open": ("Glass Youth Justice", AgencyKind.YOUTH_JUSTICE),
    "break_glass_expired": ("Expired Glass Voluntary", AgencyKind.VOLUNTARY),
}
ALL_SCOPES = tuple(ApiScope.values)

# Marked in the chronology so a test can look for them anywhere.
CASE_WIDE_TEXT = "Owner case-wide entry: met at the youth centre"
OWNER_PRIVATE_TEXT = "OWNER-ONLY: informant says the older brother holds the knife"
SHARING_PRIVATE_TEXT = "SHARING-ONLY: police intelligence about a county-lines contact"


def build_world() -> SimpleNamespace:
    now = timezone.now()
    agencies = {rel: f.make_agency(name, kind) for rel, (name, kind) in _AGENCIES.items()}
    users = {(rel, role): f.make_member(agency, role) for rel, agency in agencies.items() for role in ROLES}
    key_worker = f.make_member(agencies["own"], Role.PRACTITIONER, username="own-key-worker")
    users[("key_worker", "practitioner")] = key_worker
    superuser = f.UserFactory(username="root-admin", is_staff=True, is_superuser=True)
    agreement = f.AgreementFactory(parties=list(agencies.values()))

    young_person = f.YoungPersonFactory(
        given_name="Tyrone", family_name="Okafor", recorded_by=agencies["referrer"],
    )
    case = f.CaseFactory(
        young_person=young_person, lead_agency=agencies["own"], key_worker=key_worker,
        opened_at=now - dt.timedelta(days=60),
    )
    review = rm.Review.objects.create(case=case, due_on=case.next_review_due)
    accepted = f.ReferralFactory(
        young_person=young_person, referring_agency=agencies["referrer"],
        referred_by=users[("referrer", "practitioner")], status=rm.ReferralStatus.ACCEPTED,
        received_at=now - dt.timedelta(days=61), decided_at=now - dt.timedelta(days=60),
        decided_by=users[("hub", "hub_screener")], case=case,
    )
    # Words of the accepted referral withheld by its maker (issue 18).
    withheld = passage_withhold(
        actor=access.actor_for_user(users[("referrer", "practitioner")]), record=accepted, field="account",
        passage="outside the school gates", category="victim_address", withheld_from="all_but_author",
        ask="the referrer",
    )
    open_referral = f.ReferralFactory(
        young_person=f.YoungPersonFactory(given_name="Amara", family_name="Bello", recorded_by=agencies["referrer"]),
        referring_agency=agencies["referrer"], referred_by=users[("referrer", "practitioner")],
    )
    grants = {rel: share(case, agencies[rel], agreement=agreement, emergency_basis="") for rel in ("shared", "expired", "revoked")}
    # Ended grants keep their permission rows: the live relation alone must refuse.
    ShareGrant.objects.filter(pk=grants["expired"].pk).update(expires_at=now - dt.timedelta(minutes=5))
    ShareGrant.objects.filter(pk=grants["revoked"].pk).update(
        revoked_at=now - dt.timedelta(minutes=5), revoked_by=users[("own", "manager")], revoke_reason="Work done",
    )

    def note(rel, text, visibility):
        return rm.CaseNote.objects.create(
            case=case, occurred_at=now - dt.timedelta(days=2), kind=rm.NoteKind.CONTACT,
            author=users[(rel, "practitioner")], agency=agencies[rel], text=text, visibility=visibility,
        )

    notes = SimpleNamespace(
        owner_case=note("own", CASE_WIDE_TEXT, rm.NoteVisibility.CASE),
        owner_private=note("own", OWNER_PRIVATE_TEXT, rm.NoteVisibility.AGENCY),
        sharing_private=note("shared", SHARING_PRIVATE_TEXT, rm.NoteVisibility.AGENCY),
    )
    intervention = rm.Intervention.objects.create(
        case=case, provider_agency=agencies["own"], kind=rm.InterventionKind.MENTORING, goals="Weekly mentoring",
        recorded_by=users[("own", "practitioner")],
    )
    notification = Notification.objects.create(
        recipient=key_worker, kind=NotificationKind.REVIEW_DUE_SOON, subject=f"Review due for {case.reference}",
        body="A review is due soon.", link=f"/cases/{case.pk}/", case_id=case.pk,
        dedup_key=f"review_due_soon:case:{case.pk}", emailed_at=now,
    )
    # A subject-access request about the world's young person, recorded by
    # the lead agency's data-protection officer.
    subject_access = subject_access_request_record(
        actor=access.actor_for_user(users[("own", "dpo")]), young_person=young_person,
        received_on=timezone.localdate() - dt.timedelta(days=3), notes="By letter; identity checked",
    )
    # A neighbouring partnership a case may be transferred to, and a second
    # case of the same team whose transfer there is waiting for its hub.
    neighbour = f.PartnershipFactory(name="Neighbour borough", slug="neighbour")
    moving_case = f.CaseFactory(
        young_person=f.YoungPersonFactory(given_name="Kemi", family_name="Adeyemi", recorded_by=agencies["own"]),
        lead_agency=agencies["own"], key_worker=key_worker,
    )
    share(moving_case, agencies["shared"], agreement=agreement, emergency_basis="")
    f.ReferralFactory(young_person=moving_case.young_person, referring_agency=agencies["own"],
                      status=rm.ReferralStatus.ACCEPTED, decided_at=now, case=moving_case)
    transfer = transfer_propose(
        actor=access.actor_for_user(users[("own", "manager")]), case=moving_case, to_partnership=neighbour,
        reason="The family moved to the neighbouring borough", summary="Settled in a new school",
        arrangement="close", consent="parent_carer",
    )
    # The neighbour holds a likely record of the open referral's young
    # person (the hub may ask about it), and has asked this partnership's
    # hub about a young person of its own.
    f.YoungPersonFactory(given_name="Amara", family_name="Bello", partnership=neighbour,
                         date_of_birth=open_referral.young_person.date_of_birth, recorded_by=agencies["other"])
    neighbour_referral = f.ReferralFactory(
        young_person=f.YoungPersonFactory(given_name="Ravi", family_name="Shah", partnership=neighbour,
                                          recorded_by=agencies["other"]),
        referring_agency=agencies["other"],
    )
    enquiry = rm.PartnershipEnquiry.objects.create(
        from_partnership=neighbour, to_partnership=f.default_partnership(), referral=neighbour_referral,
        asked_by=users[("other", "practitioner")], asked_by_agency=agencies["other"], given_name="Ravi",
        family_name="Shah", date_of_birth=neighbour_referral.young_person.date_of_birth, message="Known to you?",
    )
    # The partnership's vocabulary: a concern with an indicator, and an
    # information-sharing agreement template.
    concern = Concern.objects.get(partnership=case.partnership, code="weapon")
    indicator = Indicator.objects.create(concern=concern, text="Carries a blade", position=1)
    agreement_template = AgreementTemplate.objects.create(
        partnership=case.partnership, title="Model agreement", body="The parties agree to share what is needed.",
    )
    contexts = build_contexts(agencies, users, case, young_person, agreement, now)
    consent_and_break_glass = build_consent_and_break_glass(agencies, users, case, agreement, now)
    api_clients, secrets, tokens = {}, {}, {}
    for rel in AGENCY_RELATIONS:
        actor = access.actor_for_user(users[(rel, "agency_admin")])
        api_clients[rel], secrets[rel] = api_client_issue(
            actor=actor, name=f"{rel} partner system", scopes=list(ALL_SCOPES),
        )
        # Long-lived: the world outlives a token's usual ten minutes on a slow run.
        tokens[rel] = bearer(api_clients[rel], expires_in=24 * 3600)
    return SimpleNamespace(
        agencies=agencies, users=users, key_worker=key_worker, superuser=superuser, agreement=agreement,
        young_person=young_person, case=case, review=review, accepted_referral=accepted,
        open_referral=open_referral, grants=grants, notes=notes, intervention=intervention,
        notification=notification, api_clients=api_clients, secrets=secrets, tokens=tokens,
        subject_access=subject_access, neighbour=neighbour, moving_case=moving_case, transfer=transfer,
        enquiry=enquiry, concern=concern, indicator=indicator, agreement_template=agreement_template,
        withheld=withheld,
        **contexts, **consent_and_break_glass,
    )


def build_consent_and_break_glass(agencies, users, case, agreement, now) -> dict:
    """Issue 18 around the world's case: the young person's consent, the
    withdrawn academy's share resting on it, then its withdrawal (the share
    ends); a parent's consent in force after it; a live break-glass opening
    by the glass youth-justice practitioner, and one by the voluntary
    sector's practitioner that has ended. A case led by the referrer school
    is what a break-glass opening in the matrix opens."""
    from safeguarding import break_glass, consent
    from safeguarding.models import BreakGlassAccess

    manager = access.actor_for_user(users[("own", "manager")])
    given = consent.consent_record(actor=manager, case=case, given_by="young_person", judged_competent=True)
    share(case, agencies["consent_withdrawn"], agreement=agreement, emergency_basis="", lawful_basis="consent")
    withdrawal = consent.consent_withdraw(actor=manager, case=case, consent=given, withdrawn_by="young_person",
                                          reason="Does not want the academy told")
    consent_in_force = consent.consent_record(actor=manager, case=case, given_by="parent_carer")
    glass_opening = break_glass.break_glass_open(
        actor=access.actor_for_user(users[("break_glass_open", "practitioner")]), case_reference=case.reference,
        reason="Missing overnight; need the key worker's contacts now",
    )
    BreakGlassAccess.objects.create(
        partnership=case.partnership, case=case, user=users[("break_glass_expired", "practitioner")],
        agency=agencies["break_glass_expired"], reason="Arrested last night; checking known associates",
        opened_at=now - dt.timedelta(hours=6), expires_at=now - dt.timedelta(hours=2),
    )
    glass_case = f.CaseFactory(
        young_person=f.YoungPersonFactory(given_name="Leon", family_name="Grant", recorded_by=agencies["referrer"]),
        lead_agency=agencies["referrer"],
    )
    return {"withdrawal": withdrawal, "consent_in_force": consent_in_force, "glass_opening": glass_opening,
            "glass_case": glass_case}


def build_contexts(agencies, users, case, young_person, agreement, now) -> dict:
    """Around the world's case: a place led by the owner agency, linked to
    the case and carrying an intervention and a chronology entry of the
    owner's; an online space; a person of concern recorded by the sharing
    (police) agency and kept to it and the owner; a second young person's
    case, led by the owner and shared with the sharing agency; and a panel
    convened by the owner agency, chaired by its manager, which met half an
    hour ago and is not yet recorded as held: attendees the owner's manager
    and the sharing agency's practitioner (neither has accepted the
    confidentiality statement yet), the case and the place on its agenda,
    an action owed by the owner's practitioner and a minute."""
    from contexts import models as cm

    def context(kind, name, recorder, restricted=()):
        made = cm.Context.objects.create(
            partnership=case.partnership, kind=kind, name=name, known=f"What is known about {name}",
            lead_agency=agencies[recorder], risk_level="amber", recorded_by=users[(recorder, "practitioner")],
            recording_agency=agencies[recorder],
        )
        if restricted:
            made.restricted_to.set([agencies[r] for r in restricted])
        return made

    place = context(cm.ContextKind.PLACE, "Canal towpath", "own")
    online = context(cm.ContextKind.ONLINE_SPACE, "A group chat", "own")
    person = context(cm.ContextKind.PERSON_OF_CONCERN, "Adult of concern", "shared", restricted=("shared", "own"))
    grade = {"source": "Youth worker's observation", "information_date": timezone.localdate() - dt.timedelta(days=3),
             "source_evaluation": "2", "intelligence_assessment": "B", "recorded_by": users[("own", "practitioner")],
             "recording_agency": agencies["own"]}
    context_link = cm.ContextLink.objects.create(context=place, case=case, **grade)
    other_case = f.CaseFactory(
        young_person=f.YoungPersonFactory(given_name="Jaden", family_name="Okafor", recorded_by=agencies["own"]),
        lead_agency=agencies["own"],
    )
    share(other_case, agencies["shared"], agreement=agreement, emergency_basis="")
    context_intervention = cm.ContextIntervention.objects.create(
        context=place, kind=cm.ContextInterventionKind.DETACHED_YOUTH_WORK, description="Friday evening outreach",
        owner_agency=agencies["own"], recorded_by=users[("own", "practitioner")],
    )
    context_note = cm.ContextNote.objects.create(
        context=place, occurred_at=now - dt.timedelta(days=1), kind="information", text="Groups gather at dusk",
        author=users[("own", "practitioner")], agency=agencies["own"],
    )
    panel = cm.Panel.objects.create(
        partnership=case.partnership, title="MACE panel", meets_at=now - dt.timedelta(minutes=30),
        convening_agency=agencies["own"], chair=users[("own", "manager")], created_by=users[("own", "manager")],
    )
    for rel, role in (("own", "manager"), ("shared", "practitioner")):
        cm.PanelAttendee.objects.create(panel=panel, user=users[(rel, role)], agency=agencies[rel],
                                        added_by=users[("own", "manager")])
    case_item = cm.PanelAgendaItem.objects.create(panel=panel, case=case, added_by=users[("own", "manager")])
    cm.PanelAgendaItem.objects.create(panel=panel, context=place, added_by=users[("own", "manager")])
    panel_action = cm.PanelAction.objects.create(
        panel=panel, item=case_item, description="Arrange a joint visit", owner_agency=agencies["own"],
        owner=users[("own", "practitioner")], due_on=timezone.localdate() + dt.timedelta(days=7),
        created_by=users[("own", "manager")],
    )
    minute = cm.PanelMinute.objects.create(
        panel=panel, item=case_item, kind=cm.MinuteKind.DISCUSSION, text="Discussed the towpath",
        author=users[("own", "manager")], agency=agencies["own"],
    )
    return {
        "place": place, "online": online, "person_of_concern": person, "context_link": context_link,
        "other_case": other_case, "context_intervention": context_intervention, "context_note": context_note,
        "panel": panel, "panel_action": panel_action, "minute": minute,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world, written once for the module and rolled back after it."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            built = build_world()
            yield built
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The API's per-client request budget lives in the cache; the sweep sends
    # many requests per client, none of which is about throttling.
    cache.clear()
    yield


# The sweep's size, filled in by the test modules as they are collected and
# reported at the end of the run, for the issue note.
MATRIX: dict = {}
BAD_INPUTS: dict = {}


def pytest_terminal_summary(terminalreporter):
    if MATRIX:
        cells = sum(MATRIX[part][2] for part in ("web", "admin", "api"))
        lines = [f"URL permission matrix: {MATRIX['urls']} URL patterns served, {cells} cells checked"]
        for part, label in (("web", "pages"), ("admin", "admin routes"), ("api", "API operations")):
            urls, subjects, part_cells = MATRIX[part]
            lines.append(f"  {label}: {urls} × {subjects} subjects × their methods = {part_cells} cells")
        terminalreporter.write_sep("-", "security sweep")
        for line in lines:
            terminalreporter.write_line(line)
    if BAD_INPUTS:
        terminalreporter.write_line(
            f"Bad inputs: {sum(len(v) for v in BAD_INPUTS.values())} cases over {len(BAD_INPUTS)} forms and endpoints; "
            f"kinds tried: {', '.join(sorted({kind for v in BAD_INPUTS.values() for kind in v}))}"
        )
