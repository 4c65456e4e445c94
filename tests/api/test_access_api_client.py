"""The access policy's rows for partner systems' API clients, in the same
world and with the same checks as tests/safeguarding/test_access_matrix.py.

An API client sees what a practitioner of its agency sees, except that it
follows every referral its agency made (not only one person's) and never
manages, allocates or closes; its scopes narrow that further: without
``cases:read`` it sees no case, without ``cases:write`` it adds nothing.
"""

from __future__ import annotations

import pytest

from safeguarding import access
from safeguarding.access import Action
from tests.api.conftest import ALL_SCOPES, issue
from tests.safeguarding.test_access_matrix import _build_world, _enter, _observe, _parse

READ_ONLY = ("cases:read", "referrals:read")
REFERRALS_ONLY = ("referrals:read", "referrals:write")

# (relation of the client's agency, scopes) → the checks of the matrix.
EXPECTED_GRID = {
    #                              listed get view contrib manage alloc close notes refrl prior queue yp screen
    ("lead", ALL_SCOPES):        "  Y     Y   Y      Y      .      .     .     Y     Y     .     .   Y    .",
    ("lead", READ_ONLY):         "  Y     Y   Y      .      .      .     .     Y     Y     .     .   Y    .",
    ("lead", REFERRALS_ONLY):    "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("shared", ALL_SCOPES):      "  Y     Y   Y      Y      .      .     .     Y     Y     .     .   Y    .",
    ("shared", READ_ONLY):       "  Y     Y   Y      .      .      .     .     Y     Y     .     .   Y    .",
    ("expired", ALL_SCOPES):     "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("revoked", ALL_SCOPES):     "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    ("other", ALL_SCOPES):       "  .     .   .      .      .      .     .     .     .     .     .   .    .",
    # Follows every referral its agency made (the case's and the earlier
    # one), never the case behind them.
    ("referrer", ALL_SCOPES):    "  .     .   .      .      .      .     .     .     Y     Y     .   Y    .",
    ("referrer", REFERRALS_ONLY): " .     .   .      .      .      .     .     .     Y     Y     .   Y    .",
    # The hub's client is no screener: no index, and of the queue only the
    # referral its own agency made ("queue" here is one from the hub).
    ("hub", ALL_SCOPES):         "  .     .   .      .      .      .     .     .     .     .     Y   .    .",
}
EXPECTED = {key: _parse(row) for key, row in EXPECTED_GRID.items()}
AGENCY_OF = {"lead": "owner", "key_worker": "owner", "shared": "sharing", "expired": "sharing",
             "revoked": "sharing", "other": "outsider", "referrer": "referrer", "hub": "hub"}


@pytest.mark.parametrize(("relation", "scopes"), list(EXPECTED), ids=[f"{r}-{'+'.join(s)}" for r, s in EXPECTED])
def test_api_client_rows(cast, relation, scopes):
    world = _build_world(cast)
    # _enter puts the world in the relation; the actor it returns (a person) is not used.
    _enter(relation, "practitioner", cast, world)
    client, _secret = issue(cast, AGENCY_OF[relation], scopes)
    actor = access.actor_for_api_client(client, ip_address="192.0.2.1", request_id="req-1")
    assert actor.channel == "api" and actor.user == client.service_user and actor.scopes == frozenset(scopes)

    expected = EXPECTED[(relation, scopes)]
    assert _observe(actor, world) == expected
    for action in (Action.CONTRIBUTE, Action.MANAGE, Action.ALLOCATE, Action.CLOSE):
        if not expected["get"]:
            with pytest.raises(access.NotVisible):
                access.get_case(actor, world.case.pk, action, log=False)
        elif not expected[action.value]:
            with pytest.raises(access.NotAllowed):
                access.get_case(actor, world.case.pk, action, log=False)


def test_a_revoked_client_is_nobody(cast):
    from api.services import api_client_revoke

    client, _ = issue(cast)
    api_client_revoke(actor=cast.actor("owner", "agency_admin"), client=client)
    client.refresh_from_db()
    assert access.actor_for_api_client(client) == access.NOBODY


def test_scopes_narrow_only_machine_clients(cast):
    person = cast.actor("owner", "practitioner")
    assert access.has_scope(person, "cases:write")
    client, _ = issue(cast, scopes=["cases:read"])
    machine = access.actor_for_api_client(client)
    assert access.has_scope(machine, "cases:read") and not access.has_scope(machine, "cases:write")
    with pytest.raises(access.MissingScope):
        access.require_scope(machine, "referrals:write")


def test_a_hub_client_sees_no_other_agencys_open_referral(cast):
    from tests import factories as f

    open_elsewhere = f.ReferralFactory(
        referring_agency=cast.outsider, young_person=f.YoungPersonFactory(recorded_by=cast.outsider),
    )
    client, _ = issue(cast, "hub")
    actor = access.actor_for_api_client(client)
    assert not access.visible_referrals(actor).filter(pk=open_elsewhere.pk).exists()
    assert not access.may_screen(actor)
