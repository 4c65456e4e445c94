"""The access policy as a matrix: how the actor's agency stands to a case ×
the actor's role → exactly which questions ``safeguarding.access`` answers yes.

The expected table is written out below, row by row, from the policy in
``safeguarding/access.py`` and design.md ("Access and sharing"):

* a case is visible to its lead agency and to agencies with an *active* share
  grant; expiry and revocation bite before any task removes permission rows;
* practitioners, managers and hub screeners work cases; agency administrators
  and data-protection officers see no case content by virtue of their role;
* VIEW and CONTRIBUTE for lead and shared agencies; MANAGE for the lead
  agency's managers and the case's key worker only; ALLOCATE and CLOSE for
  the lead agency's managers;
* a referring agency sees its referral and its outcome, not the case;
* the hub's screeners see the screening queue and the whole young-person
  index; the hub-screener role means nothing in another kind of agency;
* a key worker manages their case only as a practitioner of the lead agency;
* a superuser is nobody special; anonymous and inactive people reach nothing.

A change of policy shows up here as a failing row.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from agencies.models import Membership, Role
from referrals.models import Case, CaseNote, NoteKind, NoteVisibility, Referral, ReferralStatus
from safeguarding import access, consent
from safeguarding.access import Action
from safeguarding.models import BreakGlassAccess, ShareGrant
from tests import factories as f
from tests.safeguarding.conftest import share

CHECKS = (
    "listed",  # the case is in visible_cases(actor)
    "get",  # get_case(actor, id) returns it (else NotVisible)
    "view",  # may(actor, VIEW, case)
    "contribute",  # may(actor, CONTRIBUTE, case)
    "manage",  # may(actor, MANAGE, case)
    "allocate",  # may(actor, ALLOCATE, case)
    "close",  # may(actor, CLOSE, case)
    "notes",  # visible_notes: the case-wide chronology plus the actor's own agency-only notes
    "referral",  # the referral that became the case is in visible_referrals(actor)
    "prior_ref",  # an earlier, signposted referral by the referrer agency's manager is in visible_referrals
    "queue",  # an open referral from an unrelated agency is in visible_referrals(actor)
    "young_person",  # the case's young person is in visible_young_people(actor)
    "screen",  # may_screen(actor) and may_screen(actor, open referral)
)

PRACTITIONER, HUB_SCREENER, MANAGER, AGENCY_ADMIN, DPO, PARTNERSHIP_ADMIN, REPORTING = (
    Role.PRACTITIONER, Role.HUB_SCREENER, Role.MANAGER, Role.AGENCY_ADMIN, Role.DPO, Role.PARTNERSHIP_ADMIN,
    Role.REPORTING,
)

# Relations that are tried with a person in each role.
ROLE_RELATIONS = (
    "lead",  # a member of the case's lead agency
    "key_worker",  # a member of the lead agency who is the case's key worker
    "other",  # a member of an agency with no relation to the case
    "shared",  # a member of an agency holding an active share grant
    "expired",  # ... whose grant has expired, permission rows still present
    "revoked",  # ... whose grant was revoked, permission rows still present
    "referrer",  # a member of the agency whose referral became the case, no share
    "inactive_user",  # a lead-agency member whose user account is inactive
    "inactive_membership",  # a lead-agency member whose membership is inactive
    "hub",  # a member of the partnership's hub, with no relation to the case
    # Issue 18:
    "consent_withdrawn",  # a member of an agency whose share rested on consent, since withdrawn
    "break_glass_open",  # an unrelated agency's member holding a live break-glass opening of the case
    "break_glass_expired",  # ... whose opening has ended
)
# Relations with no agency and so no role.
ROLELESS_RELATIONS = (
    "superuser",  # is_superuser=True, belongs to no agency
    "anonymous",  # not signed in
)

# One row per (relation, role); Y = the check holds, . = it does not.
EXPECTED_GRID = {
    #                                       listed get view contrib manage alloc close notes refrl prior queue yp screen
    ("lead", PRACTITIONER):                "  Y     Y   Y      Y      .      .     .     Y     Y     .     .   Y    .",
    ("lead", HUB_SCREENER):                "  Y     Y   Y      Y      .      .     .     Y     Y     .     .   Y    .",
    ("lead", MANAGER):                     "  Y     Y   Y      Y      Y      Y     Y     Y     Y     .     .   Y    .",
    ("lead", AGENCY_ADMIN):                "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("lead", DPO):                         "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("lead", PARTNERSHIP_ADMIN):            "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("lead", REPORTING):                    "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("key_worker", PRACTITIONER):          "  Y     Y   Y      Y      Y      .     .     Y     Y     .     .   Y    .",
    ("key_worker", HUB_SCREENER):          "  Y     Y   Y      Y      .      .     .     Y     Y     .     .   Y    .",
    ("key_worker", MANAGER):               "  Y     Y   Y      Y      Y      Y     Y     Y     Y     .     .   Y    .",
    ("key_worker", AGENCY_ADMIN):          "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("key_worker", DPO):                   "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("key_worker", PARTNERSHIP_ADMIN):      "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("key_worker", REPORTING):              "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("other", PRACTITIONER):               "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("other", HUB_SCREENER):               "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("other", MANAGER):                    "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("other", AGENCY_ADMIN):               "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("other", DPO):                        "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("other", PARTNERSHIP_ADMIN):           "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("other", REPORTING):                   "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("shared", PRACTITIONER):              "  Y     Y   Y      Y      .      .     .     Y     Y     .     .   Y    .",
    ("shared", HUB_SCREENER):              "  Y     Y   Y      Y      .      .     .     Y     Y     .     .   Y    .",
    ("shared", MANAGER):                   "  Y     Y   Y      Y      .      .     .     Y     Y     .     .   Y    .",
    ("shared", AGENCY_ADMIN):              "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("shared", DPO):                       "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("shared", PARTNERSHIP_ADMIN):          "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("shared", REPORTING):                  "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("expired", PRACTITIONER):             "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("expired", HUB_SCREENER):             "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("expired", MANAGER):                  "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("expired", AGENCY_ADMIN):             "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("expired", DPO):                      "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("expired", PARTNERSHIP_ADMIN):         "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("expired", REPORTING):                 "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("revoked", PRACTITIONER):             "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("revoked", HUB_SCREENER):             "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("revoked", MANAGER):                  "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("revoked", AGENCY_ADMIN):             "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("revoked", DPO):                      "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("revoked", PARTNERSHIP_ADMIN):         "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("revoked", REPORTING):                 "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("referrer", PRACTITIONER):            "  .     .   .      .      .      .     .     .     Y     .     .   Y    .",
    ("referrer", HUB_SCREENER):            "  .     .   .      .      .      .     .     .     .     .     .   Y    .",
    ("referrer", MANAGER):                 "  .     .   .      .      .      .     .     .     Y     Y     .   Y    .",
    ("referrer", AGENCY_ADMIN):            "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("referrer", DPO):                     "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("referrer", PARTNERSHIP_ADMIN):        "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("referrer", REPORTING):                "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_user", PRACTITIONER):       "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_user", HUB_SCREENER):       "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_user", MANAGER):            "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_user", AGENCY_ADMIN):       "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_user", DPO):                "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_user", PARTNERSHIP_ADMIN):   "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_user", REPORTING):           "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_membership", PRACTITIONER): "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_membership", HUB_SCREENER): "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_membership", MANAGER):      "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_membership", AGENCY_ADMIN): "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_membership", DPO):          "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_membership", PARTNERSHIP_ADMIN):"  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("inactive_membership", REPORTING):        "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("hub", PRACTITIONER):                 "  .     .   .      .      .      .     .     .     .     .     Y   .    .",
    ("hub", HUB_SCREENER):                 "  .     .   .      .      .      .     .     .     Y     Y     Y   Y    Y",
    ("hub", MANAGER):                      "  .     .   .      .      .      .     .     .     .     .     Y   .    .",
    ("hub", AGENCY_ADMIN):                 "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("hub", DPO):                          "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("hub", PARTNERSHIP_ADMIN):             "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("hub", REPORTING):                     "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("consent_withdrawn", PRACTITIONER):  "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("consent_withdrawn", HUB_SCREENER):  "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("consent_withdrawn", MANAGER):       "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("consent_withdrawn", AGENCY_ADMIN):  "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("consent_withdrawn", DPO):           "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("consent_withdrawn", PARTNERSHIP_ADMIN):"  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_open", PRACTITIONER):   "  .     Y   Y      .      .      .     .     Y     .     .     .   .    .",
    ("break_glass_open", HUB_SCREENER):   "  .     Y   Y      .      .      .     .     Y     .     .     .   .    .",
    ("break_glass_open", MANAGER):        "  .     Y   Y      .      .      .     .     Y     .     .     .   .    .",
    ("break_glass_open", AGENCY_ADMIN):   "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_open", DPO):            "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_open", PARTNERSHIP_ADMIN):"  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_expired", PRACTITIONER):"  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_expired", HUB_SCREENER):"  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_expired", MANAGER):     "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_expired", AGENCY_ADMIN):"  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_expired", DPO):         "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_expired", PARTNERSHIP_ADMIN):"  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("consent_withdrawn", REPORTING): "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_open", REPORTING): "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("break_glass_expired", REPORTING): "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("superuser", None):                   "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("anonymous", None):                   "  .     .   .      .      .      .     .     .     .     .     .   .    .",
}


def _parse(row: str) -> dict[str, bool]:
    cells = row.split()
    assert len(cells) == len(CHECKS) and set(cells) <= {"Y", "."}, row
    return {check: cell == "Y" for check, cell in zip(CHECKS, cells)}


EXPECTED = {key: _parse(row) for key, row in EXPECTED_GRID.items()}


def test_matrix_covers_every_role_and_relation():
    """Adding a role or a relation without deciding its row fails here."""
    wanted = set(itertools.product(ROLE_RELATIONS, [r.value for r in Role]))
    wanted |= {(relation, None) for relation in ROLELESS_RELATIONS}
    assert set(EXPECTED) == wanted


# ---------------------------------------------------------------------------
# The world each row is tried against
# ---------------------------------------------------------------------------


@dataclass
class World:
    case: Case
    case_referral: Referral  # the referral (by "referrer") that became the case
    prior_referral: Referral  # an earlier one about the same person, signposted, by a colleague
    open_referral: Referral  # awaiting screening, from the hub, about someone else
    case_wide_notes: set[int]
    private_notes: dict[int, int]  # agency id → its agency-only note on the case


def _note(case, agency, author, visibility):
    now = timezone.now()
    return CaseNote.objects.create(
        case=case, occurred_at=now - dt.timedelta(hours=1), kind=NoteKind.CONTACT, author=author,
        agency=agency, text=f"{agency.name}: {visibility} note", visibility=visibility,
    )


def _build_world(cast) -> World:
    now = timezone.now()
    young_person = f.YoungPersonFactory(recorded_by=cast.referrer)
    case = f.CaseFactory(lead_agency=cast.owner, young_person=young_person)
    case_referral = f.ReferralFactory(
        young_person=young_person, referring_agency=cast.referrer,
        referred_by=cast.user("referrer", PRACTITIONER), received_at=now - dt.timedelta(days=3),
        status=ReferralStatus.ACCEPTED, screener=cast.user("hub", HUB_SCREENER),
        decided_by=cast.user("hub", HUB_SCREENER), decided_at=now - dt.timedelta(days=2), case=case,
    )
    prior_referral = f.ReferralFactory(
        young_person=young_person, referring_agency=cast.referrer,
        referred_by=cast.user("referrer", MANAGER), received_at=now - dt.timedelta(days=90),
        status=ReferralStatus.SIGNPOSTED, signposted_to="Youth club", decided_by=cast.user("hub", HUB_SCREENER),
        decided_at=now - dt.timedelta(days=89),
    )
    open_referral = f.ReferralFactory(
        young_person=f.YoungPersonFactory(recorded_by=cast.hub), referring_agency=cast.hub,
        referred_by=cast.user("hub", PRACTITIONER),
    )
    case_wide = {
        _note(case, cast.owner, cast.user("owner", PRACTITIONER), NoteVisibility.CASE).pk,
        _note(case, cast.sharing, cast.user("sharing", PRACTITIONER), NoteVisibility.CASE).pk,
    }
    # Every actor agency keeps a note to itself on the case (an agency that is
    # no longer on the case may have written one while it was).
    private = {
        cast.agencies[key].pk: _note(
            case, cast.agencies[key], cast.user(key, PRACTITIONER), NoteVisibility.AGENCY
        ).pk
        for key in ("owner", "sharing", "outsider", "referrer")
    }
    return World(case, case_referral, prior_referral, open_referral, case_wide, private)


def _enter(relation: str, role: str | None, cast, world: World) -> access.Actor:
    """Put the world in the state the relation describes; return the actor."""
    case = world.case
    if relation == "lead":
        return cast.actor("owner", role)
    if relation == "key_worker":
        Case.objects.filter(pk=case.pk).update(key_worker=cast.user("owner", role))
        return cast.actor("owner", role)
    if relation == "other":
        return cast.actor("outsider", role)
    if relation == "shared":
        share(case, cast.sharing, agreement=cast.agreement, emergency_basis="")
        return cast.actor("sharing", role)
    if relation in ("expired", "revoked"):
        grant = share(case, cast.sharing, agreement=cast.agreement, emergency_basis="")
        assert cast.sharing.pk in access.agencies_with_permission(case)
        ended = ShareGrant.objects.filter(pk=grant.pk)
        if relation == "expired":
            ended.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
        else:
            ended.update(
                revoked_at=timezone.now(), revoked_by=cast.user("owner", MANAGER), revoke_reason="No longer needed",
            )
        # No re-sync: the expiry task has not run, the rows are still there.
        assert access.agencies_with_permission(case) == {cast.owner.pk, cast.sharing.pk}
        assert access.agencies_with_permission(case, "contribute_case") == {cast.owner.pk, cast.sharing.pk}
        return cast.actor("sharing", role)
    if relation == "referrer":
        return cast.actor("referrer", role)
    if relation == "hub":
        return cast.actor("hub", role)
    if relation == "inactive_user":
        user = cast.user("owner", role)
        user.is_active = False
        user.save(update_fields=["is_active"])
        return access.actor_for_user(user)
    if relation == "inactive_membership":
        user = cast.user("owner", role)
        assert Membership.objects.filter(user=user, agency=cast.owner).update(is_active=False) == 1
        return access.actor_for_user(user)
    if relation == "consent_withdrawn":
        manager = cast.actor("owner", MANAGER)
        given = consent.consent_record(actor=manager, case=case, given_by="parent_carer")
        share(case, cast.sharing, agreement=cast.agreement, emergency_basis="", lawful_basis="consent")
        consent.consent_withdraw(actor=manager, case=case, consent=given, withdrawn_by="parent_carer")
        return cast.actor("sharing", role)
    if relation in ("break_glass_open", "break_glass_expired"):
        # Written directly, so every role has one (the service lets only
        # case-working roles open); the policy must still refuse the others.
        opened = timezone.now() - dt.timedelta(hours=1 if relation == "break_glass_open" else 6)
        BreakGlassAccess.objects.create(
            partnership=case.partnership, case=case, user=cast.user("outsider", role), agency=cast.outsider,
            reason="Missing overnight, need contacts", opened_at=opened, expires_at=opened + dt.timedelta(hours=4),
        )
        return cast.actor("outsider", role)
    if relation == "superuser":
        assert cast.superuser.is_superuser and not cast.superuser.memberships.exists()
        return access.actor_for_user(cast.superuser)
    if relation == "anonymous":
        return access.actor_for_user(AnonymousUser())
    raise AssertionError(relation)


def _observe(actor: access.Actor, world: World) -> dict[str, bool]:
    case = Case.objects.get(pk=world.case.pk)
    try:
        got = access.get_case(actor, case.pk, log=False)
    except access.NotVisible:
        got = None
    else:
        assert got == case

    notes = set(access.visible_notes(actor, case).values_list("pk", flat=True))
    own_agency = actor.agency.pk if actor.agency else None
    own_private = {world.private_notes[own_agency]} if own_agency in world.private_notes else set()
    # Never another agency's agency-only note, whatever the row says.
    others_private = set(world.private_notes.values()) - own_private
    assert not notes & others_private, "an agency-only note reached another agency"
    assert notes in (set(), world.case_wide_notes | own_private), notes

    referrals = set(access.visible_referrals(actor).values_list("pk", flat=True))
    screen = access.may_screen(actor)
    assert access.may_screen(actor, world.open_referral) == screen
    assert access.may_screen(actor, world.case_referral) is False, "a decided referral cannot be screened again"

    return {
        "listed": access.visible_cases(actor).filter(pk=case.pk).exists(),
        "get": got is not None,
        "view": access.may(actor, Action.VIEW, case),
        "contribute": access.may(actor, Action.CONTRIBUTE, case),
        "manage": access.may(actor, Action.MANAGE, case),
        "allocate": access.may(actor, Action.ALLOCATE, case),
        "close": access.may(actor, Action.CLOSE, case),
        "notes": bool(notes),
        "referral": world.case_referral.pk in referrals,
        "prior_ref": world.prior_referral.pk in referrals,
        "queue": world.open_referral.pk in referrals,
        "young_person": access.visible_young_people(actor).filter(pk=case.young_person_id).exists(),
        "screen": screen,
    }


@pytest.mark.parametrize(
    ("relation", "role"), list(EXPECTED), ids=[f"{rel}-{role or 'none'}" for rel, role in EXPECTED],
)
def test_access_matrix(cast, relation, role):
    world = _build_world(cast)
    actor = _enter(relation, role, cast, world)
    expected = EXPECTED[(relation, role)]

    assert _observe(actor, world) == expected

    # get_case with an action agrees with may(), and never admits that a case
    # the actor cannot see exists.
    for action in (Action.CONTRIBUTE, Action.MANAGE, Action.ALLOCATE, Action.CLOSE):
        if not expected["get"]:
            with pytest.raises(access.NotVisible):
                access.get_case(actor, world.case.pk, action, log=False)
        elif expected[action.value]:
            assert access.get_case(actor, world.case.pk, action, log=False).pk == world.case.pk
        else:
            with pytest.raises(access.NotAllowed):
                access.get_case(actor, world.case.pk, action, log=False)
