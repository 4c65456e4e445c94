"""Young-person matching (issue 7): blocking keys kept by the database, each
kind of variation found, hard negatives kept apart, the privacy rule for the
hub, a referrer and an outsider, the access log, and merge and undo."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.utils import timezone

from casework import linking, matching
from referrals import models as rm
from lib.errors import DomainError
from safeguarding import access
from safeguarding.models import AccessEvent
from tests import factories as f

BORN = dt.date(2010, 3, 4)


def keys_in_db(person) -> set[str]:
    return set(rm.YoungPersonMatchKey.objects.filter(young_person=person).values_list("key", flat=True))


def python_keys(person) -> set[str]:
    return matching.match_keys(
        person.given_name, person.family_name, person.preferred_name, person.date_of_birth, person.postcode,
    )


def screener(cast):
    return cast.actor("hub", "hub_screener")


def details(**overrides):
    base = {"given_name": "Jordan", "family_name": "Ellis", "date_of_birth": BORN, "postcode": "SE15 4QF"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def search(actor, **overrides):
    return matching.young_person_candidates(actor, details=details(**overrides))


# ---------------------------------------------------------------------------
# Keys kept by the database
# ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "given, family, preferred, postcode",
    [
        ("Zoë-Mae", "O'Brien-Smith", "Mo", "se15 4qf"),
        ("ŁUKASZ", "Kowalski", "", ""),
        ("José María", "García López", "Pepe", "SW9 7AB"),
        ("Siobhán", "Ní Bhriain", "", "E1"),
        ("Æthelred", "Straße", "Ed", "N1 9GU"),
        ("Mohammed", "Al-Hassan", "", "SE5 8RS"),
    ],
)
def test_the_trigger_writes_the_same_keys_as_the_python_mirror(given, family, preferred, postcode):
    person = f.YoungPersonFactory(
        given_name=given, family_name=family, preferred_name=preferred, postcode=postcode, date_of_birth=BORN,
    )
    assert keys_in_db(person) == python_keys(person)
    assert keys_in_db(person)


@pytest.mark.django_db
def test_an_orm_update_bypassing_the_services_keeps_the_keys_in_step(cast):
    person = f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN, recorded_by=cast.owner)
    before = keys_in_db(person)
    rm.YoungPerson.objects.filter(pk=person.pk).update(family_name="Okonkwo", date_of_birth=dt.date(2011, 9, 30))
    person.refresh_from_db()
    assert keys_in_db(person) == python_keys(person) != before
    hub = screener(cast)
    assert [c.young_person_id for c in search(hub, family_name="Okonkwo", date_of_birth=dt.date(2011, 9, 30)).likely] == [person.pk]
    assert not search(hub).likely

    # Raw SQL too, and anonymisation takes the record out of matching.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE referrals_youngperson SET given_name = 'Kwame' WHERE id = %s", [person.pk])
    person.refresh_from_db()
    assert keys_in_db(person) == python_keys(person)
    rm.YoungPerson.objects.filter(pk=person.pk).update(anonymised_at=timezone.now())
    assert keys_in_db(person) == set()


@pytest.mark.django_db
def test_an_update_of_other_fields_leaves_the_keys_alone(cast):
    person = f.YoungPersonFactory(date_of_birth=BORN)
    before = keys_in_db(person)
    rm.YoungPerson.objects.filter(pk=person.pk).update(ward="Peckham", ethnicity=rm.Ethnicity.WHITE_IRISH)
    assert keys_in_db(person) == before


# ---------------------------------------------------------------------------
# Each kind of variation is found
# ---------------------------------------------------------------------------

VARIATIONS = [
    # (recorded, typed later, a reason the screener reads)
    ({}, {}, "Given names the same"),
    ({}, {"given_name": "Jordon"}, "typing slips"),
    ({}, {"family_name": "Elis"}, "typing slips"),
    ({}, {"given_name": "ELLIS", "family_name": "jordan"}, "Given and family names swapped"),
    ({"given_name": "William"}, {"given_name": "Bill"}, "nickname"),
    ({"given_name": "Muhammad"}, {"given_name": "Mo"}, "nickname"),
    ({"given_name": "Mohammed"}, {"given_name": "Mohamed"}, "Given names"),
    ({"given_name": "Kerry"}, {"given_name": "Kez"}, "nickname"),
    ({"given_name": "Aleksandr"}, {"given_name": "Alexander"}, "nickname"),
    ({"given_name": "Zoë"}, {"given_name": "ZOE"}, "Given names the same"),
    ({"given_name": "Siobhán"}, {"given_name": "Shivaun"}, "nickname"),
    ({"family_name": "Ellis-Okafor"}, {"family_name": "Okafor"}, "hyphenated or double"),
    ({"family_name": "García López"}, {"family_name": "Garcia"}, "hyphenated or double"),
    ({"family_name": "O'Brien"}, {"family_name": "OBRIEN"}, "Family names the same"),
    ({"family_name": "McDonald"}, {"family_name": "MacDonald"}, "Family names"),
    ({}, {"date_of_birth": dt.date(2010, 4, 3)}, "day and month swapped"),
    ({}, {"date_of_birth": dt.date(2010, 3, 5)}, "one digit different"),
    ({}, {"date_of_birth": dt.date(2001, 3, 4)}, "two digits transposed"),
    ({}, {"postcode": None}, "Same date of birth"),
    ({"preferred_name": "JJ"}, {"given_name": "JJ"}, "Given names the same"),
    ({"unique_pupil_number": "A123456789012"}, {"given_name": "Jay", "family_name": "Elliss", "unique_pupil_number": "a123456789012", "date_of_birth": None}, "Unique pupil number matches"),
    ({"nhs_number": "9434765919"}, {"given_name": "", "family_name": "", "nhs_number": "943 476 5919", "date_of_birth": None}, "NHS number matches"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("recorded, typed, reason", VARIATIONS)
def test_each_kind_of_variation_finds_the_record(cast, recorded, typed, reason):
    fields = {"given_name": "Jordan", "family_name": "Ellis", "date_of_birth": BORN, "postcode": "SE15 4QF"}
    fields.update(recorded)
    person = f.YoungPersonFactory(recorded_by=cast.owner, **fields)
    f.YoungPersonFactory(given_name="Priya", family_name="Shah", date_of_birth=BORN, postcode="SE15 4QF")
    result = search(screener(cast), **typed)
    assert [c.young_person_id for c in result.likely] == [person.pk]
    best = result.likely[0]
    assert best.score >= matching.MATCH_THRESHOLD
    assert any(reason in r for r in best.reasons), best.reasons


# ---------------------------------------------------------------------------
# Hard negatives are not matched
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_twin_is_not_the_same_person_and_the_screener_is_told_why(cast):
    twin = f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN, postcode="SE15 4QF", gender="male")
    result = search(screener(cast), given_name="Tyler", gender="male")
    assert not result.likely
    [candidate] = result.candidates  # shown to the hub as a possible, not likely, record
    assert candidate.young_person_id == twin.pk and not candidate.likely
    assert any("likely a twin or sibling" in r for r in candidate.reasons)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "recorded",
    [
        {"given_name": "Tyler", "date_of_birth": dt.date(2012, 8, 19)},  # sibling at the same address
        {"postcode": "N17 6AB", "date_of_birth": dt.date(2013, 1, 22)},  # namesake
        {"given_name": "Marcus", "postcode": "CR0 2RH", "date_of_birth": dt.date(2010, 11, 2)},  # cousin
        {"unique_pupil_number": "B999999999999"},  # identifiers disagree
    ],
    ids=["sibling", "namesake", "cousin", "different_upn"],
)
def test_siblings_namesakes_cousins_and_conflicting_identifiers_are_not_matched(cast, recorded):
    fields = {"given_name": "Jordan", "family_name": "Ellis", "date_of_birth": BORN, "postcode": "SE15 4QF"}
    fields.update(recorded)
    f.YoungPersonFactory(**fields)
    typed = {"unique_pupil_number": "A111111111111"} if "unique_pupil_number" in recorded else {}
    assert not search(screener(cast), **typed).likely


@pytest.mark.django_db
def test_a_search_needs_a_name_and_date_of_birth_or_an_identifier(cast):
    with pytest.raises(DomainError) as error:
        matching.young_person_candidates(screener(cast), details={"given_name": "Jordan"})
    assert error.value.field == "details"
    with pytest.raises(DomainError):
        matching.young_person_candidates(screener(cast), details={"given_name": "Jordan", "date_of_birth": "2010-02-30"})
    with pytest.raises(DomainError):
        matching.young_person_candidates(screener(cast), details={"surname": "Ellis"})


# ---------------------------------------------------------------------------
# The privacy rule and the access log
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_hub_sees_candidates_with_the_minimum_fields(cast):
    person = f.YoungPersonFactory(
        given_name="Jordan", family_name="Ellis", date_of_birth=BORN, recorded_by=cast.owner,
        unique_pupil_number="A123456789012", ethnicity=rm.Ethnicity.BLACK_CARIBBEAN,
    )
    f.CaseFactory(young_person=person, lead_agency=cast.owner)
    result = search(screener(cast))
    [candidate] = result.candidates
    assert candidate.young_person_id == person.pk and candidate.has_open_case is True
    assert candidate.recorded_by == cast.owner.name
    assert not hasattr(candidate, "ethnicity") and not hasattr(candidate, "unique_pupil_number")
    assert result.possible_existing_record is False


@pytest.mark.django_db
@pytest.mark.parametrize("agency_key", ["referrer", "outsider"])
def test_a_referrer_sees_only_a_flag_for_a_record_their_agency_cannot_see(cast, agency_key):
    f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN, recorded_by=cast.owner)
    result = search(cast.actor(agency_key, "practitioner"), given_name="Jordon")
    assert result.candidates == ()
    assert result.possible_existing_record is True
    assert result.message == matching.HIDDEN_RECORD_MESSAGE


@pytest.mark.django_db
def test_a_referrer_sees_candidates_their_agency_may_already_see(cast):
    own = f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN, recorded_by=cast.referrer)
    f.ReferralFactory(young_person=own, referring_agency=cast.referrer)
    result = search(cast.actor("referrer", "practitioner"))
    assert [c.young_person_id for c in result.candidates] == [own.pk]
    assert result.candidates[0].has_open_case is None  # case status is not theirs to know
    assert result.possible_existing_record is False


@pytest.mark.django_db
def test_an_unlikely_hidden_record_raises_no_flag(cast):
    f.YoungPersonFactory(given_name="Tyler", family_name="Ellis", date_of_birth=BORN, postcode="SE15 4QF", recorded_by=cast.owner)
    result = search(cast.actor("referrer", "practitioner"))
    assert result.candidates == () and result.possible_existing_record is False


@pytest.mark.django_db
@pytest.mark.parametrize("who", [("owner", "agency_admin"), ("hub", "dpo"), ("superuser", None)])
def test_roles_without_casework_cannot_search(cast, who):
    if who[0] == "superuser":
        actor = access.actor_for_user(cast.superuser)
    else:
        actor = cast.actor(*who)
    before = AccessEvent.objects.count()
    with pytest.raises(access.NotAllowed):
        search(actor)
    assert AccessEvent.objects.count() == before


@pytest.mark.django_db
def test_every_search_is_in_the_access_log_with_counts_only(cast):
    f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN, recorded_by=cast.owner)
    for actor in (screener(cast), cast.actor("referrer", "practitioner")):
        search(actor)
        event = AccessEvent.objects.order_by("-id").first()
        assert event.action == "match_search" and event.object_type == "young_person"
        assert event.user == actor.user and event.agency == actor.agency
        assert set(event.detail) == {"candidates_shown", "likely_shown", "withheld_flag", "blocked"}
        dumped = json.dumps(event.detail)
        assert "Jordan" not in dumped and "Ellis" not in dumped and "2010" not in dumped
    assert AccessEvent.objects.filter(action="match_search").count() == 2


@pytest.mark.django_db
def test_referral_candidates_for_screening_leave_out_the_referrals_own_record(cast):
    existing = f.YoungPersonFactory(given_name="William", family_name="Ellis", date_of_birth=BORN, recorded_by=cast.owner)
    new = f.YoungPersonFactory(given_name="Bill", family_name="Ellis", date_of_birth=dt.date(2010, 4, 3), recorded_by=cast.sharing)
    referral = f.ReferralFactory(young_person=new, referring_agency=cast.sharing)
    result = matching.referral_candidates(screener(cast), referral=referral)
    assert [c.young_person_id for c in result.likely] == [existing.pk]
    with pytest.raises(access.NotVisible):
        matching.referral_candidates(cast.actor("outsider", "practitioner"), referral=referral)


# ---------------------------------------------------------------------------
# Merge and undo
# ---------------------------------------------------------------------------


@pytest.fixture
def duplicates(cast):
    """The same boy recorded by the owner (with an open case and a chronology)
    and by the sharing agency (with an open referral)."""
    keep = f.YoungPersonFactory(given_name="William", family_name="Ellis", date_of_birth=BORN, recorded_by=cast.owner)
    case = f.CaseFactory(young_person=keep, lead_agency=cast.owner)
    rm.CaseNote.objects.create(
        case=case, occurred_at=timezone.now(), kind=rm.NoteKind.CONTACT, author=cast.user("owner", "practitioner"),
        agency=cast.owner, text="Met at the youth club.",
    )
    merge = f.YoungPersonFactory(
        given_name="Bill", family_name="Ellis", date_of_birth=BORN, recorded_by=cast.sharing,
        unique_pupil_number="A123456789012",
    )
    referral = f.ReferralFactory(young_person=merge, referring_agency=cast.sharing)
    old_case = f.CaseFactory(
        young_person=merge, lead_agency=cast.sharing, status=rm.CaseStatus.CLOSED,
        opened_at=timezone.now() - dt.timedelta(days=400), closed_at=timezone.now() - dt.timedelta(days=100),
        closure_reason=rm.ClosureReason.OUTCOMES_MET,
    )
    return keep, merge, case, referral, old_case


@pytest.mark.django_db
def test_a_merge_moves_referrals_cases_and_notes_and_undo_moves_them_back(cast, duplicates):
    keep, merge, case, referral, old_case = duplicates
    hub = screener(cast)
    record = linking.young_person_merge(actor=hub, keep=keep, merge=merge, reason="Same UPN on the school record")
    referral.refresh_from_db()
    old_case.refresh_from_db()
    keep.refresh_from_db()
    merge.refresh_from_db()
    assert referral.young_person_id == keep.pk and old_case.young_person_id == keep.pk
    assert rm.CaseNote.objects.filter(case__young_person=keep).count() == 1
    assert keep.unique_pupil_number == "A123456789012" and merge.unique_pupil_number == ""
    assert record.referral_ids == [referral.pk] and record.case_ids == [old_case.pk]
    assert record.identifiers_moved == ["unique_pupil_number"]
    event = AccessEvent.objects.filter(action="merge_young_person").get()
    assert event.young_person_id == keep.pk and event.detail["merged_young_person"] == merge.pk
    # The merged record is out of matching; the kept one is found by either name.
    ids = [c.young_person_id for c in search(hub, given_name="Bill", postcode=None).candidates]
    assert ids == [keep.pk]
    with pytest.raises(DomainError):
        linking.young_person_merge(actor=hub, keep=keep, merge=merge)

    linking.young_person_merge_undo(actor=hub, merge_record=record, reason="Different boys after all")
    referral.refresh_from_db()
    old_case.refresh_from_db()
    keep.refresh_from_db()
    merge.refresh_from_db()
    assert referral.young_person_id == merge.pk and old_case.young_person_id == merge.pk
    assert merge.unique_pupil_number == "A123456789012" and keep.unique_pupil_number == ""
    case.refresh_from_db()
    assert case.young_person_id == keep.pk
    record.refresh_from_db()
    assert record.undone_by == hub.user and record.undone_at is not None
    assert AccessEvent.objects.filter(action="undo_merge_young_person", young_person_id=merge.pk).exists()
    assert {c.young_person_id for c in search(hub, given_name="Bill", postcode=None).candidates} == {keep.pk, merge.pk}
    with pytest.raises(DomainError):
        linking.young_person_merge_undo(actor=hub, merge_record=record)


@pytest.mark.django_db
def test_undo_takes_a_referral_joined_to_a_moved_case_back_with_its_case(cast, duplicates):
    keep, merge, case, referral, old_case = duplicates
    hub = screener(cast)
    # This time the open case is on the merged record.
    record = linking.young_person_merge(actor=hub, keep=merge, merge=keep)
    joined = f.ReferralFactory(young_person=merge, referring_agency=cast.referrer, case=case,
                               status=rm.ReferralStatus.ACCEPTED, decided_at=timezone.now())
    linking.young_person_merge_undo(actor=hub, merge_record=record)
    joined.refresh_from_db()
    case.refresh_from_db()
    assert case.young_person_id == keep.pk and joined.young_person_id == keep.pk


@pytest.mark.django_db
def test_two_open_cases_refuse_the_merge_and_nothing_moves(cast, duplicates):
    keep, merge, case, referral, old_case = duplicates
    second = f.CaseFactory(young_person=merge, lead_agency=cast.sharing)
    with pytest.raises(DomainError) as error:
        linking.young_person_merge(actor=screener(cast), keep=keep, merge=merge)
    assert error.value.code == "two_open_cases" and case.reference in error.value.message
    second.refresh_from_db()
    referral.refresh_from_db()
    assert second.young_person_id == merge.pk and referral.young_person_id == merge.pk
    assert not rm.YoungPersonMerge.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", [("owner", "manager"), ("referrer", "practitioner"), ("hub", "dpo")])
def test_only_the_hubs_screeners_merge(cast, duplicates, who):
    keep, merge, *_ = duplicates
    with pytest.raises(access.NotAllowed):
        linking.young_person_merge(actor=cast.actor(*who), keep=keep, merge=merge)
    assert not rm.YoungPersonMerge.objects.exists()


@pytest.mark.django_db
def test_a_record_cannot_be_merged_into_itself(cast, duplicates):
    keep, *_ = duplicates
    with pytest.raises(DomainError):
        linking.young_person_merge(actor=screener(cast), keep=keep, merge=keep)


# ---------------------------------------------------------------------------
# The evaluation set, small
# ---------------------------------------------------------------------------


def test_the_evaluation_set_meets_the_recall_and_precision_targets():
    from bench import matching_eval

    report = matching_eval.evaluate(families=900, near_namesakes=False)
    assert report.recall >= 0.98, report.as_dict()
    assert report.precision >= 0.99, report.as_dict()
    data = matching_eval.build(900)
    categories = {q.category for q in data.queries} | set(data.roles.values())
    assert set(matching_eval.NEGATIVE_CATEGORIES) <= categories
    assert set(matching_eval.VARIANT_CATEGORIES) <= categories


def test_an_ancient_date_of_birth_is_searched_without_error():
    """Found by schemathesis: a year below 1000 once made a short key."""
    import datetime as dt

    from casework import matching

    assert matching._dob_key(dt.date(5, 1, 2)) == "00050102"
    assert dt.date(5, 1, 2) in matching.dob_variants(dt.date(5, 1, 2), today=dt.date(2026, 11, 25))
    assert matching.query_keys(matching.Details(given_name="Jay", family_name="Mensah", date_of_birth=dt.date(5, 1, 2)))
