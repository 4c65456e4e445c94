"""Redaction: passages withheld from agencies (issue 18).

A passage leaves the record: the field holds a token and the words live in a
``WithheldPassage`` row under row-level security. ``redaction.shown`` is the
one decision of what each agency is shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from casework import services as casework
from lib.errors import DomainError
from referrals import models as rm
from safeguarding import access, redaction
from safeguarding.models import AccessEvent, WithheldPassage
from tests import factories as f
from tests.safeguarding.conftest import share

pytestmark = pytest.mark.django_db

WITNESS = "Jane Doe of 4 Mill Lane"
TEXT = f"Fight outside the chip shop. Witness {WITNESS} saw the knife. Jordan has asthma."


@pytest.fixture
def scene(cast):
    """A case led by the owner (youth service), shared with the police and
    with the referrer school; the police wrote an entry naming a witness."""
    case = f.CaseFactory(lead_agency=cast.owner)
    share(case, cast.sharing)
    share(case, cast.referrer)
    police = cast.actor("sharing", "practitioner")
    note = casework.case_note_add(actor=police, case=case, kind="incident", text=TEXT, visibility="case")
    return case, note, police


def withhold(actor, record, passage, **kwargs):
    values = {"field": "text", "category": "witness", "withheld_from": "named",
              "agencies": [], "ask": "the case's lead", "reason": "Witness safety"}
    values.update(kwargs)
    return redaction.passage_withhold(actor=actor, record=record, passage=passage, **values)


def fresh(note):
    return redaction.with_passages(rm.CaseNote.objects.filter(pk=note.pk)).get()


def test_the_words_leave_the_record_and_its_readers_see_a_marker(cast, scene):
    case, note, police = scene
    passage = withhold(police, note, WITNESS, agencies=[cast.referrer])
    raw = rm.CaseNote.objects.get(pk=note.pk).text
    assert WITNESS not in raw and passage.token in raw
    assert WithheldPassage.objects.get(pk=passage.pk).text == WITNESS
    note = fresh(note)
    marker = "[withheld by Sharing Police — ask the case's lead]"
    assert redaction.shown(police, note, "text") == TEXT
    # Third-party information: withheld from every other agency by default,
    # not only the school named.
    for reader in (cast.actor("referrer", "practitioner"), cast.actor("owner", "manager"), None):
        assert redaction.shown(reader, note, "text") == TEXT.replace(WITNESS, marker)


def test_a_third_party_passage_released_to_an_agency_is_shown_to_it(cast, scene):
    case, note, police = scene
    withhold(police, note, WITNESS, withheld_from="all_but_author", released_to=[cast.owner])
    note = fresh(note)
    assert redaction.shown(cast.actor("owner", "practitioner"), note, "text") == TEXT
    assert WITNESS not in redaction.shown(cast.actor("referrer", "practitioner"), note, "text")


def test_a_health_detail_withheld_from_named_agencies_only(cast, scene):
    case, note, police = scene
    withhold(police, note, "Jordan has asthma.", category="health", agencies=[cast.referrer])
    note = fresh(note)
    assert redaction.shown(cast.actor("owner", "practitioner"), note, "text") == TEXT
    school = redaction.shown(cast.actor("referrer", "practitioner"), note, "text")
    assert "asthma" not in school and school.endswith("[withheld by Sharing Police — ask the case's lead]")


def test_subject_access_leaves_third_parties_out_and_keeps_the_young_persons_own(cast, scene):
    case, note, police = scene
    withhold(police, note, WITNESS, withheld_from="all_but_author")
    withhold(police, note, "Jordan has asthma.", category="health", agencies=[cast.referrer])
    note = fresh(note)
    shown = redaction.shown(redaction.SUBJECT_ACCESS, note, "text")
    assert WITNESS not in shown and "[information about another person withheld (third party: witness)]" in shown
    assert "asthma" in shown
    assert redaction.third_parties_left_out([note]) == 1


def test_withholding_is_in_the_chronology_and_the_access_log_without_the_words(cast, scene):
    case, note, police = scene
    passage = withhold(police, note, WITNESS, agencies=[cast.referrer])
    entry = rm.CaseNote.objects.filter(case=case).exclude(pk=note.pk).get()
    assert "withheld" in entry.text and WITNESS not in entry.text
    event = AccessEvent.objects.filter(action="withhold").get()
    assert event.detail["passage"] == passage.pk and event.case_id == case.pk
    assert WITNESS not in str(event.detail)


@pytest.mark.parametrize("relation,role", [
    ("owner", "practitioner"), ("owner", "manager"), ("referrer", "practitioner"), ("outsider", "manager"),
    ("sharing", "dpo"), ("sharing", "agency_admin"), ("sharing", "hub_screener"),
])
def test_only_the_authors_agency_withholds(cast, scene, relation, role):
    case, note, police = scene
    with pytest.raises(access.NotAllowed):
        withhold(cast.actor(relation, role), note, WITNESS, agencies=[cast.referrer])
    assert WITNESS in rm.CaseNote.objects.get(pk=note.pk).text


def test_an_expired_share_no_longer_withholds(cast, scene):
    case, note, police = scene
    from safeguarding.models import ShareGrant

    ShareGrant.objects.filter(case=case, agency=cast.sharing).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(access.NotAllowed):
        withhold(police, note, WITNESS, agencies=[cast.referrer])


@pytest.mark.parametrize("passage,kwargs,field", [
    ("Not in the entry", {}, "passage"),
    ("the", {}, "passage"),  # appears more than once
    ("", {}, "passage"),
    (WITNESS, {"category": "nonsense"}, "category"),
    (WITNESS, {"withheld_from": "nobody"}, "withheld_from"),
    (WITNESS, {"agencies": []}, "agencies"),
    (WITNESS, {"agencies": [999_999]}, "agencies"),
    (WITNESS, {"ask": ""}, "ask"),
    (WITNESS, {"field": "author"}, "field"),
])
def test_bad_input_is_refused_by_field(cast, scene, passage, kwargs, field):
    case, note, police = scene
    with pytest.raises(DomainError) as refused:
        withhold(police, note, passage, **({"agencies": [cast.referrer]} | kwargs))
    assert refused.value.field == field
    assert rm.CaseNote.objects.get(pk=note.pk).text == TEXT


def test_own_agency_cannot_be_named_and_withheld_words_cannot_be_withheld_twice(cast, scene):
    case, note, police = scene
    with pytest.raises(DomainError):
        withhold(police, note, WITNESS, agencies=[cast.sharing])
    withhold(police, note, WITNESS, agencies=[cast.referrer])
    with pytest.raises(DomainError):
        withhold(police, note, WITNESS, agencies=[cast.referrer])


def test_an_interventions_goals_leave_its_change_history_too(cast, scene):
    case, note, police = scene
    intervention = casework.intervention_record(
        actor=police, case=case, provider_agency=cast.sharing, kind="mentoring",
        goals=f"Keep away from {WITNESS}", status="planned", planned_start=None, started_on=None, sessions_offered=0,
    )
    withhold(police, intervention, WITNESS, field="goals", category="third_party", agencies=[cast.owner])
    assert not rm.Intervention.pgh_event_model.objects.filter(pgh_obj_id=intervention.pk, goals__contains="Jane").exists()
    intervention = redaction.with_passages(rm.Intervention.objects.filter(pk=intervention.pk)).get()
    assert redaction.shown(police, intervention, "goals") == f"Keep away from {WITNESS}"
    assert WITNESS not in redaction.shown(cast.actor("owner", "manager"), intervention, "goals")


def test_a_referral_account_withheld_by_the_referring_agency(cast):
    referral = f.ReferralFactory(referring_agency=cast.referrer, referred_by=cast.user("referrer", "practitioner"),
                                 account=f"Told by {WITNESS} that he carries a knife.")
    withhold(cast.actor("referrer", "practitioner"), referral, WITNESS, field="account", withheld_from="all_but_author")
    referral = redaction.with_passages(rm.Referral.objects.filter(pk=referral.pk)).get()
    assert WITNESS not in referral.account
    assert WITNESS not in redaction.shown(cast.actor("hub", "hub_screener"), referral, "account")
    assert WITNESS in redaction.shown(cast.actor("referrer", "manager"), referral, "account")


def test_a_token_naming_another_records_passage_shows_only_a_marker(cast, scene):
    """Typing a token into another record borrows nothing."""
    case, note, police = scene
    passage = withhold(police, note, WITNESS, agencies=[cast.referrer])
    other = casework.case_note_add(actor=police, case=case, kind="contact", text=f"See {passage.token}",
                                   visibility="case")
    other = fresh(other)
    assert redaction.shown(police, other, "text") == f"See {redaction.UNKNOWN_MARKER}"


def test_passages_are_kept_apart_by_partnership_row_security(cast, scene):
    case, note, police = scene
    withhold(police, note, WITNESS, withheld_from="all_but_author", released_to=[cast.owner])
    elsewhere = f.PartnershipFactory(name="Elsewhere", slug="elsewhere")
    tables = ("safeguarding_withheldpassage", "safeguarding_withheldpassage_released_to")
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE crossroads_app")
        try:
            counts = {}
            for partnership in (case.partnership_id, elsewhere.pk, None):
                cursor.execute("SELECT set_config('crossroads.partnership', %s, false)",
                               ["" if partnership is None else str(partnership)])
                for table in tables:
                    cursor.execute(f"SELECT count(*) FROM {table}")
                    counts[(partnership, table)] = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('crossroads.partnership', %s, false)", [str(elsewhere.pk)])
            # Nor can a row be written into the case's partnership from another.
            with pytest.raises(DatabaseError), transaction.atomic():
                cursor.execute(
                    "INSERT INTO safeguarding_withheldpassage (partnership_id, field, text, category, withheld_from,"
                    " agency_id, withheld_by_id, withheld_at, ask, reason, case_id, note_id)"
                    " VALUES (%s, 'note.text', 'x', 'other', 'named', %s, %s, now(), 'x', '', %s, %s)",
                    [case.partnership_id, cast.sharing.pk, police.user.pk, case.pk, note.pk],
                )
        finally:
            cursor.execute("RESET ROLE")
            cursor.execute("RESET crossroads.partnership")
    for table in tables:
        assert counts[(case.partnership_id, table)] == 1
        assert counts[(elsewhere.pk, table)] == 0 and counts[(None, table)] == 0
    assert WithheldPassage.objects.get().text == WITNESS


def test_a_passage_is_never_deleted(cast, scene):
    case, note, police = scene
    withhold(police, note, WITNESS, agencies=[cast.referrer])
    with pytest.raises(DatabaseError), transaction.atomic():
        WithheldPassage.objects.all().delete()


def test_anonymisation_erases_the_withheld_words_with_the_record(cast, scene):
    from safeguarding import retention

    case, note, police = scene
    passage = withhold(police, note, WITNESS, agencies=[cast.referrer])
    rm.Case.objects.filter(pk=case.pk).update(
        status="closed", closed_at=timezone.now(), closure_reason="outcomes_met",
        next_review_due=None,
    )
    rm.YoungPerson.objects.filter(pk=case.young_person_id).update(date_of_birth=dt.date(1990, 1, 1))
    assert retention.case_anonymise(case_id=case.pk)
    assert WithheldPassage.objects.get(pk=passage.pk).text == retention.REDACTED


def test_a_correction_keeps_the_originals_words_withheld(cast, scene):
    case, note, police = scene
    passage = withhold(police, note, WITNESS, agencies=[cast.referrer])
    original = rm.CaseNote.objects.get(pk=note.pk)
    correction = casework.case_note_correct(actor=police, note=original,
                                            text=original.text.replace("chip shop", "kebab shop"))
    correction = fresh(correction)
    assert passage.token in correction.text
    assert WITNESS in redaction.shown(police, correction, "text")
    school = redaction.shown(cast.actor("referrer", "practitioner"), correction, "text")
    assert WITNESS not in school and "[withheld by Sharing Police" in school


def test_break_glass_never_reaches_withheld_words_even_where_they_were_released(cast, scene):
    """Issue 18: a passage released to an agency whose own share has ended;
    a practitioner of it opens the case by break-glass: the case-wide entry
    is theirs to read, the withheld words are not."""
    from safeguarding import break_glass

    case, note, police = scene
    withhold(police, note, WITNESS, withheld_from="all_but_author", released_to=[cast.outsider])
    opener = cast.actor("outsider", "practitioner")
    note = fresh(note)
    assert redaction.shown(opener, note, "text") == TEXT  # released to them: shown where they may read it
    with transaction.atomic():
        break_glass.break_glass_open(actor=opener, case_reference=case.reference,
                                     reason="Reported missing tonight; need the family's contacts now")
    opener = cast.actor("outsider", "practitioner")
    assert access.get_case(opener, case.pk).pk == case.pk
    shown = redaction.shown(opener, fresh(note), "text")
    assert WITNESS not in shown and "[withheld by Sharing Police" in shown
    # Their colleague who reads the case on an ordinary share still sees it.
    share(case, cast.outsider)
    assert redaction.shown(cast.actor("outsider", "practitioner"), fresh(note), "text") == TEXT
