"""The access log: who read or changed what, through which channel; kept
append-only by PostgreSQL itself, and kept when the person it names goes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from agencies.models import Role
from referrals.models import CaseNote, NoteKind, NoteVisibility
from safeguarding import access
from safeguarding.models import AccessEvent, Channel, SharingDecision, SharingOutcome
from tests import factories as f


def test_log_access_records_who_which_agency_channel_and_object(cast):
    case = f.CaseFactory(lead_agency=cast.owner)
    user = cast.user("owner", Role.PRACTITIONER)
    actor = access.actor_for_user(user, channel=Channel.EXPORT, ip_address="192.0.2.7", request_id="req-42")

    event = access.log_access(actor, "export", case, detail={"format": "csv"})

    row = AccessEvent.objects.get(pk=event.pk)
    assert (row.user_id, row.username) == (user.pk, user.username)
    assert (row.agency_id, row.agency_name) == (cast.owner.pk, cast.owner.name)
    assert row.channel == Channel.EXPORT
    assert (row.action, row.object_type, row.object_id) == ("export", "case", str(case.pk))
    assert (row.case_id, row.young_person_id) == (case.pk, case.young_person_id)
    assert (str(row.ip_address), row.request_id, row.detail) == ("192.0.2.7", "req-42", {"format": "csv"})
    assert row.occurred_at is not None


def test_log_access_ties_a_note_to_its_case_and_young_person(cast):
    case = f.CaseFactory(lead_agency=cast.owner)
    user = cast.user("owner", Role.PRACTITIONER)
    note = CaseNote.objects.create(
        case=case, occurred_at=timezone.now() - dt.timedelta(minutes=5), kind=NoteKind.CONTACT,
        author=user, agency=cast.owner, text="Met at the youth club", visibility=NoteVisibility.CASE,
    )
    row = access.log_access(access.actor_for_user(user, channel=Channel.API), "view", note)
    row.refresh_from_db()
    assert (row.object_type, row.object_id) == ("casenote", str(note.pk))
    assert (row.case_id, row.young_person_id) == (case.pk, case.young_person_id)
    assert row.channel == Channel.API


def test_get_case_logs_a_view(cast):
    case = f.CaseFactory(lead_agency=cast.owner)
    actor = cast.actor("owner", Role.MANAGER)
    before = AccessEvent.objects.count()

    assert access.get_case(actor, case.pk) == case

    assert AccessEvent.objects.count() == before + 1
    row = AccessEvent.objects.latest("id")
    assert (row.action, row.object_type, row.case_id) == ("view", "case", case.pk)
    assert (row.user_id, row.agency_id, row.channel) == (actor.user.pk, cast.owner.pk, Channel.WEB)


def test_get_case_without_log_and_refused_reads_write_no_view(cast):
    case = f.CaseFactory(lead_agency=cast.owner)
    before = AccessEvent.objects.count()

    access.get_case(cast.actor("owner", Role.MANAGER), case.pk, log=False)
    with pytest.raises(access.NotVisible):
        access.get_case(cast.actor("outsider", Role.MANAGER), case.pk)

    assert AccessEvent.objects.count() == before


# ---------------------------------------------------------------------------
# Append-only in the database
# ---------------------------------------------------------------------------


def _access_event(cast):
    return access.log_access(cast.actor("owner", Role.PRACTITIONER), "view", f.CaseFactory(lead_agency=cast.owner))


def _case_note(cast):
    user = cast.user("owner", Role.PRACTITIONER)
    return CaseNote.objects.create(
        case=f.CaseFactory(lead_agency=cast.owner), occurred_at=timezone.now() - dt.timedelta(minutes=5),
        kind=NoteKind.CONTACT, author=user, agency=cast.owner, text="Phoned mum", visibility=NoteVisibility.CASE,
    )


def _sharing_decision(cast):
    return SharingDecision.objects.create(
        case=f.CaseFactory(lead_agency=cast.owner), recipient=cast.outsider, outcome=SharingOutcome.NOT_SHARED,
        purpose="School asked for the safety plan", consent_sought=False,
        consent_reason="Asking would put the young person at risk", reason="Not necessary for the school's role",
        decided_by=cast.user("owner", Role.MANAGER),
    )


APPEND_ONLY = [
    ("safeguarding_accessevent", "action", _access_event),
    ("referrals_casenote", "text", _case_note),
    ("safeguarding_sharingdecision", "reason", _sharing_decision),
]


@pytest.mark.parametrize(("table", "column", "make"), APPEND_ONLY, ids=[t for t, _, _ in APPEND_ONLY])
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET {column} = 'x'", "DELETE FROM {table}"], ids=["update", "delete"],
)
def test_raw_sql_cannot_change_or_remove_rows(cast, table, column, make, statement):
    obj = make(cast)
    model = type(obj)
    original = getattr(obj, column)
    with pytest.raises(DatabaseError, match="pgtrigger"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table, column=column))
    row = model.objects.get(pk=obj.pk)
    assert getattr(row, column) == original


def test_orm_bulk_update_and_delete_are_refused_too(cast):
    event = _access_event(cast)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()
    assert AccessEvent.objects.get(pk=event.pk).action == "view"


def test_access_log_outlives_the_user_it_names(cast):
    user = f.UserFactory(username="leaver")
    actor = access.Actor(agency=cast.owner, roles=frozenset({Role.PRACTITIONER}), user=user)
    event = access.log_access(actor, "view", f.CaseFactory(lead_agency=cast.owner))
    user_id = user.pk

    user.delete()

    assert not get_user_model().objects.filter(pk=user_id).exists()
    row = AccessEvent.objects.get(pk=event.pk)
    assert (row.user_id, row.username, row.agency_name) == (user_id, "leaver", cast.owner.name)
