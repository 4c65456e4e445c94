"""Retention: closed cases kept until the young person's 25th birthday (the
retention age of the partnership's rules in force on the day of the run,
``partnerships.rules``; by default ``settings.RETENTION_AGE_YEARS``), then
anonymised, with a record of each run.

What anonymising a case does, in one transaction per case:

* the case: outcome text cleared, ``anonymised_at`` set; its chronology
  entries' text replaced by a redaction notice (the chronology is
  append-only in the database, so this is done under
  ``pgtrigger.ignore`` for this one purpose and recorded in the access log);
  its interventions' goals and outcome and its reviews' summaries redacted;
* the young person, once none of their cases is open: names become
  "Anonymised", the date of birth keeps its year only (1 January), postcode,
  ward and identifiers (UPN, NHS number, police reference) are blanked and
  ``anonymised_at`` set; their referrals' accounts and reasons redacted;
* the change history (pghistory events) of those rows from before this
  transaction is deleted, since it holds the very values being removed.

The structure stays (agencies, dates, kinds, outcomes by category), so
partnership statistics still add up. Access-log rows hold ids, not names,
and are kept.

Each partnership in turn: the run enters it (``access.within_partnership``,
as the app's role with row-level security) and anonymises its cases there,
so one partnership's run reads and changes no other's rows. The owner's
rights are not needed: the append-only trigger on the chronology is
switched off for the redaction by ``pgtrigger.ignore`` (a setting any role
may set, honoured by the trigger itself), and the app's role may update and
delete every table it touches (safeguarding/migrations/0008 grants them).

The same run removes sign-in records (django-axes: successful sign-ins,
failed attempts and their logs, each with a username and an address) older
than ``settings.SIGN_IN_RECORD_DAYS`` (90 by default): they serve lockouts
and the investigation of a recent incident, not the record of a case. It
also removes expired OAuth tokens of partner systems
(``agencies.oauth.expired_tokens_remove``), and whatever a part above this
one keeps only for a while and registers here (``register_disposal``): the
partner API's idempotency records, which hold whole responses with personal
data, after ``settings.API_IDEMPOTENCY_DAYS``. Their models live above this
floor, so the part that owns them says how they go, and the run calls it.
Every count goes in the run's record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pgtrigger
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from agencies.models import Partnership
from partnerships.rules import rules_in_force
from agencies import oauth
from referrals import models as rm
from safeguarding import access
from safeguarding.models import RetentionRun, WithheldPassage

logger = logging.getLogger(__name__)

REDACTED = "[Redacted under the retention schedule]"
ANONYMISED_NAME = "Anonymised"
# One retention run at a time across every worker (pg_try_advisory_lock key).
_RUN_LOCK = 0x43524F5352455445  # "CROSRETE"


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def retention_cutoff(today: dt.date | None = None, *, partnership_id: int | None = None) -> dt.date:
    """People born on or before this date are past the retention age of the
    partnership's rules in force on ``today`` (the deployment's default
    with no partnership)."""
    today = today or timezone.localdate()
    rules = rules_in_force(partnership_id, _end_of(today))
    return _years_ago(today, rules.retention_age_years)


def _end_of(day: dt.date) -> dt.datetime:
    # The rules of the whole day: a version from today counts for today's run.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def cases_due_for_anonymisation(today: dt.date | None = None, *, partnership_id: int | None = None):
    """Closed, not yet anonymised cases of people past the retention age (of
    one partnership, if given; else of each partnership by its own age)."""
    cases = rm.Case.objects.filter(status=rm.CaseStatus.CLOSED, anonymised_at__isnull=True)
    if partnership_id is not None:
        return cases.filter(
            partnership_id=partnership_id,
            young_person__date_of_birth__lte=retention_cutoff(today, partnership_id=partnership_id),
        )
    past = Q(pk__in=[])
    for pid in Partnership.objects.values_list("pk", flat=True):
        past |= Q(partnership_id=pid, young_person__date_of_birth__lte=retention_cutoff(today, partnership_id=pid))
    return cases.filter(past)


def _forget_history(event_model, object_ids: list[int]) -> None:
    # Events written by this transaction carry its NOW(): they hold the
    # anonymised values and are kept.
    if object_ids:
        event_model.objects.filter(pgh_obj_id__in=object_ids, pgh_created_at__lt=Now()).delete()


@transaction.atomic
def case_anonymise(*, case_id: int, now: dt.datetime | None = None, partnership_id: int | None = None) -> bool:
    """Anonymise one closed case past retention (and its young person, once
    none of their cases is open).

    Who: the retention run, as the system. Guarantees: only a closed case of
    a person past the retention age of its partnership, not yet anonymised (the row is
    locked and re-checked, so two runs cannot both do it); everything in
    one transaction with an access-log row; returns True if it anonymised.
    With ``partnership_id``, only a case of that partnership.
    """
    now = now or timezone.now()
    case = (
        cases_due_for_anonymisation(timezone.localdate(now), partnership_id=partnership_id)
        .select_for_update(of=("self",))
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return False
    person = rm.YoungPerson.objects.select_for_update().get(pk=case.young_person_id)

    with pgtrigger.ignore("referrals.CaseNote:case_note_append_only"):
        notes_redacted = rm.CaseNote.objects.filter(case=case).exclude(text=REDACTED).update(text=REDACTED)
    interventions = list(rm.Intervention.objects.filter(case=case).values_list("pk", flat=True))
    rm.Intervention.objects.filter(pk__in=interventions).update(goals=REDACTED, outcome="")
    reviews = list(rm.Review.objects.filter(case=case).values_list("pk", flat=True))
    rm.Review.objects.filter(pk__in=reviews).exclude(summary="").update(summary=REDACTED)
    rm.Case.objects.filter(pk=case.pk).update(outcome="", anonymised_at=now)
    # Words withheld from the case's records (issue 18) go with them.
    WithheldPassage.objects.filter(case=case).exclude(text=REDACTED).update(text=REDACTED, reason="", release_reason="")

    person_anonymised = False
    if person.anonymised_at is None and not rm.Case.objects.filter(
        young_person=person, status=rm.CaseStatus.OPEN
    ).exists():
        rm.YoungPerson.objects.filter(pk=person.pk).update(
            given_name=ANONYMISED_NAME, family_name=ANONYMISED_NAME, preferred_name="",
            date_of_birth=dt.date(person.date_of_birth.year, 1, 1),
            postcode="", ward="", unique_pupil_number="", nhs_number="", police_reference="",
            anonymised_at=now,
        )
        referrals = list(rm.Referral.objects.filter(young_person=person).values_list("pk", flat=True))
        rm.Referral.objects.filter(pk__in=referrals).update(
            account=REDACTED, concerns_other="", consent_reason="", decision_reason="", partner_reference="",
        )
        _forget_history(rm.YoungPerson.pgh_event_model, [person.pk])
        _forget_history(rm.Referral.pgh_event_model, referrals)
        WithheldPassage.objects.filter(referral__in=referrals).exclude(text=REDACTED).update(text=REDACTED, reason="", release_reason="")
        person_anonymised = True

    _forget_history(rm.Case.pgh_event_model, [case.pk])
    _forget_history(rm.Intervention.pgh_event_model, interventions)
    _forget_history(rm.Review.pgh_event_model, reviews)
    case.refresh_from_db()
    access.log_access(
        access.system_actor(partnership=partnership_id), "anonymise", case,
        detail={"notes_redacted": notes_redacted, "young_person_anonymised": person_anonymised},
    )
    return True


def sign_in_records_remove(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete django-axes' records of sign-ins, failed attempts and their
    logs from before ``settings.SIGN_IN_RECORD_DAYS`` days ago; return how
    many of each went. An attempt that still locks someone out is younger
    than that (the cool-off is 30 minutes), so no lockout is lifted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.SIGN_IN_RECORD_DAYS)
    removed = {}
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        _count, by_model = model.objects.filter(attempt_time__lt=cutoff).delete()
        removed[model._meta.model_name] = by_model.get(model._meta.label, 0)
    return removed


# name -> a function of ``now=`` that removes what is due and returns how
# many of each kind went. Filled as the apps are ready (api.apps).
_DISPOSALS: dict[str, Callable[..., dict[str, int]]] = {}


def register_disposal(name: str, remove: Callable[..., dict[str, int]]) -> None:
    """Have every retention run call ``remove(now=...)``, which deletes what
    a part above this one keeps only for a while and returns its counts;
    they go in the run's record as ``<name>_removed``. Registering a name
    again replaces it (an app's ``ready`` may run more than once)."""
    _DISPOSALS[name] = remove


def registered_disposals() -> list[str]:
    """The names the run will record, for the checks that nothing is missed."""
    return sorted(_DISPOSALS)


def retention_run(*, now: dt.datetime | None = None) -> RetentionRun | None:
    """Anonymise every closed case past retention, one transaction per case,
    and record the run.

    Who: the daily retention task. Guarantees: one run at a time (a
    PostgreSQL advisory lock; a run that finds another in progress returns
    None and records nothing); the ``RetentionRun`` row is written when the
    run starts and finished with the count and the case ids when it ends,
    so a run cut short is visible as unfinished; a case that fails is logged
    and left for the next run, not half-done. The cases are found and
    anonymised one active partnership at a time, inside it (row-level
    security); the run's own row, the sign-in records, the OAuth tokens and
    the registered disposals (``register_disposal``) are no partnership's
    data and are done outside any, each with its counts in the record.
    """
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_RUN_LOCK])
        if not cursor.fetchone()[0]:
            logger.info("retention run skipped: another run holds the lock")
            return None
    try:
        run = RetentionRun.objects.create(started_at=now)
        done, failed, cutoffs = [], [], {}
        for partnership_id in access.task_partnership_ids():
            cutoffs[str(partnership_id)] = retention_cutoff(
                timezone.localdate(now), partnership_id=partnership_id,
            ).isoformat()
            with access.within_partnership(access.system_actor(label="retention", partnership=partnership_id)):
                ids = (
                    cases_due_for_anonymisation(timezone.localdate(now), partnership_id=partnership_id)
                    .order_by().values_list("pk", flat=True)
                )
                for case_id in ids.iterator(chunk_size=2000):
                    try:
                        if case_anonymise(case_id=case_id, now=now, partnership_id=partnership_id):
                            done.append(case_id)
                    except Exception:  # one bad case must not stop the run
                        logger.exception("retention: case %s could not be anonymised", case_id)
                        failed.append(case_id)
        sign_ins = sign_in_records_remove(now=now)
        tokens = oauth.expired_tokens_remove(now=now)
        others = {f"{name}_removed": remove(now=now) for name, remove in sorted(_DISPOSALS.items())}
        run.finished_at = timezone.now()
        run.cases_anonymised = len(done)
        run.detail = {
            "case_ids": done, "failed_case_ids": failed,
            "cutoffs": cutoffs, "sign_in_records_removed": sign_ins,
            "oauth_tokens_removed": tokens, **others,
        }
        run.save(update_fields=["finished_at", "cases_anonymised", "detail"])
        return run
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_RUN_LOCK])
