"""Redaction: what of a record's free text an agency is shown.

A chronology entry's text, a referral's account and an intervention's goals
and outcome may hold passages withheld from some agencies (a witness's name,
a victim's address, a health detail). The words do not stay in the record:
``passage_withhold`` moves them into a ``WithheldPassage`` row (under the
partnership's row-level security) and leaves a token, ``⟦withheld:<id>⟧``,
in the field and in the field's change history. So a read that bypasses
this module (a template, a serializer, a raw query, a backup restored into a
reporting copy) shows the token and never the words.

``shown`` is the one decision, for every channel: the pages, the partner
API, exports, panel papers and the subject-access export call it for each
field they show. It puts the words back for an agency that may read them and
a marker for any other ("[withheld by Riverside Police — ask the case's
lead]"): nothing is dropped silently.

Who may read a passage (``is_withheld_from``):
- the author's agency always;
- an agency it was explicitly released to;
- nobody else when it is third-party information (a witness, another person
  named, a victim's address): protected by default in every share;
- nobody else when it is withheld from every agency but the author's;
- otherwise every agency but the ones it is withheld from.
A subject-access export never holds third-party passages; it says that
they were left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pgtrigger
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.utils import timezone

from agencies.models import Agency
from lib import inputs
from lib.errors import DomainError
from referrals.models import CaseNote, Intervention, NoteKind, NoteVisibility, Referral
from safeguarding import access
from safeguarding.access import Actor
from safeguarding.models import (
    RecordField,
    WithheldFrom,
    WithheldPassage,
    WithholdingCategory,
)

TOKEN = re.compile(r"⟦withheld:(\d+)⟧")
# What a reader sees where a token names no passage it can find (a passage
# of another partnership, or one retention has erased): still a marker.
UNKNOWN_MARKER = "[withheld — ask the case's lead]"
SUBJECT_ACCESS_MARKER = "[information about another person withheld ({category})]"
SUBJECT_ACCESS_STATEMENT = (
    "Information about other people (third parties) named in these records has been left out, "
    "as the Data Protection Act 2018 (Schedule 2, Part 3, paragraph 16) allows. Each place where "
    "it was is marked."
)
TEXT_MAX_LENGTH = 5_000
ASK_MAX_LENGTH = 120

# The fields of each kind of record that may hold passages.
FIELDS = {
    CaseNote: {"text": RecordField.NOTE_TEXT},
    Referral: {"account": RecordField.REFERRAL_ACCOUNT},
    Intervention: {"goals": RecordField.INTERVENTION_GOALS, "outcome": RecordField.INTERVENTION_OUTCOME},
}
_RECORD_FK = {CaseNote: "note", Referral: "referral", Intervention: "intervention"}

def _passages() -> QuerySet[WithheldPassage]:
    # With whom each passage concerns: what ``is_withheld_from`` reads.
    return WithheldPassage.objects.select_related("agency").prefetch_related("agencies", "released_to")


def with_passages(queryset: QuerySet) -> QuerySet:
    """A queryset of notes, referrals or interventions with their passages
    prefetched for ``shown`` (a correction's with its original's too): a
    few queries for a whole page instead of a few per record."""
    queryset = queryset.prefetch_related(Prefetch("withheld_passages", queryset=_passages()))
    if queryset.model is CaseNote:
        queryset = queryset.prefetch_related(Prefetch("corrects__withheld_passages", queryset=_passages()))
    return queryset


def _passages_for(record, field: str) -> dict[int, WithheldPassage]:
    """The passages a record's tokens may name: its own and, for a
    correction, the original's (a correction typed over an entry keeps the
    tokens it was given, and so keeps the original's passages withheld)."""
    found = [p for p in record.withheld_passages.all() if p.field == field]
    if isinstance(record, CaseNote) and record.corrects_id is not None:
        found += [p for p in record.corrects.withheld_passages.all() if p.field == field]
    return {p.pk: p for p in found}


class SubjectAccess:
    """The reader of a subject-access export: the young person."""


SUBJECT_ACCESS = SubjectAccess()


def _reader_agency_id(reader) -> int | None:
    if isinstance(reader, Actor):
        return reader.agency.pk if reader.agency is not None else None
    if isinstance(reader, Agency):
        return reader.pk
    return None


def is_withheld_from(passage: WithheldPassage, agency_id: int | None) -> bool:
    """The decision for one passage and one agency (None: a reader of no
    agency of the partnership, such as another partnership's hub)."""
    if agency_id is not None and agency_id == passage.agency_id:
        return False
    if agency_id is not None and any(a.pk == agency_id for a in passage.released_to.all()):
        return False
    if agency_id is None or passage.is_third_party or passage.withheld_from == WithheldFrom.ALL_BUT_AUTHOR:
        return True
    return any(a.pk == agency_id for a in passage.agencies.all())


def marker(passage: WithheldPassage) -> str:
    return f"[withheld by {passage.agency.name} — ask {passage.ask}]"


def _field_of(record, field_name: str) -> str:
    fields = FIELDS.get(type(record))
    if fields is None or field_name not in fields:
        raise ValueError(f"{type(record).__name__}.{field_name} holds no withheld passages")
    return fields[field_name]


def shown(reader, record, field_name: str) -> str:
    """The text of ``record.<field_name>`` as ``reader`` may see it.

    ``reader`` is the actor (their agency decides), an ``Agency``, None (a
    reader outside the partnership's agencies: every passage is withheld)
    or ``SUBJECT_ACCESS`` (the young person: third-party passages are left
    out and marked, the rest is theirs). Callers have already decided that
    the reader may see the record itself (``safeguarding.access``)."""
    field = _field_of(record, field_name)
    raw = getattr(record, field_name) or ""
    if "⟦" not in raw:
        return raw
    if isinstance(reader, Actor) and access.reads_by_break_glass(reader, _case_id_of(record)):
        # Break-glass never reaches withheld passages (issue 18): markers
        # only, as for a reader of no agency of the partnership.
        reader = None
    return render(raw, _passages_for(record, field), reader)


def _case_id_of(record) -> int | None:
    """The case a record belongs to (a referral not yet screened has none)."""
    return getattr(record, "case_id", None)


def render(raw: str, passages: dict[int, WithheldPassage], reader) -> str:
    """Text holding tokens, with each passage put back or marked for
    ``reader`` (as ``shown``), given the passages its tokens may name."""
    agency_id = _reader_agency_id(reader)

    def put_back(match: re.Match) -> str:
        passage = passages.get(int(match.group(1)))
        if passage is None:
            return UNKNOWN_MARKER
        if reader is SUBJECT_ACCESS:
            if passage.is_third_party:
                return SUBJECT_ACCESS_MARKER.format(category=passage.get_category_display().lower())
            return passage.text
        return marker(passage) if is_withheld_from(passage, agency_id) else passage.text

    return TOKEN.sub(put_back, raw)


def third_parties_left_out(records: Iterable) -> int:
    """How many third-party passages a subject-access export leaves out."""
    return sum(
        1 for record in records for p in record.withheld_passages.all()
        if p.is_third_party and p.token in (getattr(record, p.field.split(".")[1]) or "")
    )


def passages_about(case_ids: Iterable[int], referral_ids: Iterable[int]) -> dict[int, WithheldPassage]:
    """Every passage of these cases and referrals, by id: for words of the
    change history, whose tokens name passages of many records."""
    found = _passages().filter(Q(case_id__in=list(case_ids)) | Q(referral_id__in=list(referral_ids)))
    return {p.pk: p for p in found}


def shown_in_history(reader, changes: list, passages: dict[int, WithheldPassage]) -> list:
    """Change-history entries (``safeguarding.history.Change``) with every
    value's tokens rendered for ``reader``, as ``shown`` renders a field:
    the history keeps tokens where the words were (``passage_withhold``)."""
    for change in changes:
        for field in change.fields:
            field.before = render(field.before, passages, reader) if "⟦" in field.before else field.before
            field.after = render(field.after, passages, reader) if "⟦" in field.after else field.after
    return changes


def passages_of(reader, record) -> list[WithheldPassage]:
    """The passages of a record its author's agency sees listed beside it
    (what it withheld, from whom); none for anyone else."""
    if _reader_agency_id(reader) is None:
        return []
    return [p for p in record.withheld_passages.all() if p.agency_id == _reader_agency_id(reader)]


# ---------------------------------------------------------------------------
# Withholding a passage
# ---------------------------------------------------------------------------


def _agencies(values, *, field: str, exclude: int) -> list[Agency]:
    ids = []
    for value in values or []:
        pk = getattr(value, "pk", value)
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise DomainError("Choose agencies from the list", field=field)
        ids.append(pk)
    found = list(Agency.objects.filter(pk__in=ids, is_active=True).order_by("name"))
    if len(found) != len(set(ids)):
        raise DomainError("Choose agencies from the list", field=field)
    if any(a.pk == exclude for a in found):
        raise DomainError("Your own agency always sees what it wrote", field=field)
    return found


def passage_withhold(
    *, actor: Actor, record, field: str, passage: str = "", whole: bool = False, category: str,
    withheld_from: str, agencies: Iterable = (), released_to: Iterable = (), ask: str, reason: str = "",
) -> WithheldPassage:
    """Withhold words of one field of a chronology entry, referral or
    intervention from other agencies.

    Only a person of the record's author's agency who may still work on it
    (``access.may_withhold_passage``). The words must appear exactly once in
    the field as it stands; ``whole`` withholds all of the field instead (a
    named field withheld). In one transaction: the passage row, the token
    in the field and in its change history, a chronology entry saying that
    something was withheld (not what), and an access-log row."""
    if not access.may_withhold_passage(actor, record):
        raise access.NotAllowed("Only the author's agency withholds a passage of this record")
    model_field = _field_of(record, field) if field in FIELDS.get(type(record), {}) else None
    if model_field is None:
        raise DomainError("Choose which part of the record", field="field", code="invalid_choice")
    words = "" if whole else inputs.text(passage, field="passage", label="The words to withhold",
                                          max_length=TEXT_MAX_LENGTH)
    if "⟦" in words or "⟧" in words:
        raise DomainError("The words to withhold cannot include a passage withheld already", field="passage")
    category = inputs.choice(category, WithholdingCategory, field="category", label="Category")
    withheld_from = inputs.choice(withheld_from, WithheldFrom, field="withheld_from", label="Whom to withhold it from")
    author_agency_id = access.record_author_agency_id(record)
    named = _agencies(agencies, field="agencies", exclude=author_agency_id)
    released = _agencies(released_to, field="released_to", exclude=author_agency_id)
    if withheld_from == WithheldFrom.NAMED and not named:
        raise DomainError("Choose the agencies to withhold it from", field="agencies", code="required")
    if withheld_from == WithheldFrom.ALL_BUT_AUTHOR:
        named = []
    if {a.pk for a in named} & {a.pk for a in released}:
        raise DomainError("An agency cannot be both withheld from and released to", field="released_to")
    ask = inputs.text(ask, field="ask", label="Whom to ask", max_length=ASK_MAX_LENGTH)
    reason = inputs.text(reason, field="reason", label="Why", max_length=TEXT_MAX_LENGTH, required=False)

    model = type(record)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=record.pk)
        raw = getattr(current, field)
        if whole:
            if TOKEN.search(raw):
                raise DomainError("Part of it is withheld already: withhold the rest by copying its words",
                                  field="whole", code="partly_withheld")
            if not raw.strip():
                raise DomainError("There is nothing there to withhold", field="whole", code="empty")
            words = raw
        if any(words in m.group(0) for m in TOKEN.finditer(raw)):
            raise DomainError("Those words are part of the mark of words withheld already", field="passage",
                              code="in_mark")
        found = raw.count(words)
        if found == 0:
            raise DomainError("Copy the words exactly as they are written in the record", field="passage",
                              code="not_found")
        if found > 1:
            raise DomainError(
                f"Those words appear {found} times: add some of the words around the ones to withhold",
                field="passage", code="ambiguous",
            )
        case = current.case
        row = WithheldPassage.objects.create(
            partnership_id=case.partnership_id if case is not None else current.partnership_id,
            case=case, field=model_field, text=words, category=category, withheld_from=withheld_from,
            agency_id=author_agency_id, withheld_by=actor.user, ask=ask, reason=reason,
            **{_RECORD_FK[model]: current},
        )
        row.agencies.set(named)
        row.released_to.set(released)
        _replace_in_record(current, field, words, row.token)
        # Into the chronology of a case the actor works on (a referrer who
        # does not see the case behind its referral writes nothing there).
        if case is not None and access.may(actor, access.Action.VIEW, case):
            _chronicle(actor, case, current, row, named)
        access.log_access(actor, "withhold", current, detail={
            "passage": row.pk, "field": model_field, "category": category, "withheld_from": withheld_from,
            "agencies": [a.pk for a in named], "released_to": [a.pk for a in released],
        })
    return row


def _replace_in_record(record, field: str, words: str, token: str) -> None:
    """Put the token where the words were: in the record and in every
    version of it the change history keeps."""
    model = type(record)
    replaced = Replace(F(field), Value(words), Value(token))
    if model is CaseNote:
        # The chronology is append-only; moving words into a protected row
        # changes nothing a reader with access sees, so this one update of
        # the text is let through (as retention's anonymisation is).
        with pgtrigger.ignore("referrals.CaseNote:case_note_append_only"):
            changed = CaseNote.objects.filter(pk=record.pk).update(text=replaced)
    else:
        changed = model.objects.filter(pk=record.pk).update(**{field: replaced})
        model.pgh_event_model.objects.filter(pgh_obj_id=record.pk).update(**{field: replaced})
    if changed != 1:
        raise DomainError("The record changed meanwhile: try again", field="passage", code="conflict")
    setattr(record, field, getattr(model.objects.only(field).get(pk=record.pk), field))


def _chronicle(actor: Actor, case, record, passage: WithheldPassage, named: list[Agency]) -> None:
    """The chronology says that something was withheld, never what."""
    if isinstance(record, CaseNote):
        where = f"the chronology entry of {timezone.localtime(record.occurred_at):%-d %b %Y %H:%M}"
    elif isinstance(record, Referral):
        where = f"referral {record.reference} (what happened)"
    else:
        where = f"the {record.get_kind_display().lower()} intervention ({passage.get_field_display().split(': ')[-1]})"
    whom = (
        "every agency but " + passage.agency.name if passage.withheld_from == WithheldFrom.ALL_BUT_AUTHOR
        else ", ".join(a.name for a in named)
    )
    if passage.is_third_party:
        whom = f"every agency but {passage.agency.name}, as information about someone else"
    CaseNote.objects.create(
        case=case, occurred_at=timezone.now(), kind=NoteKind.DECISION, author=actor.user, agency=actor.agency,
        # Withholding part of an agency-only entry does not tell others it exists.
        visibility=getattr(record, "visibility", NoteVisibility.CASE),
        text=f"Words of {where} were withheld from {whom} ({passage.get_category_display().lower()}). "
             f"Ask {passage.ask}.",
    )


# ---------------------------------------------------------------------------
# Releasing withheld words to an agency
# ---------------------------------------------------------------------------


def record_of(passage: WithheldPassage):
    """The note, referral or intervention a passage was taken from."""
    return passage.note or passage.referral or passage.intervention


def passage_for_author(actor: Actor, passage_id) -> WithheldPassage:
    """A passage, for its author's agency to release: ``NotVisible`` when
    the actor cannot see the record it was taken from (or there is no such
    passage), ``NotAllowed`` when they can but are not of the author's
    agency (``access.may_withhold_passage``)."""
    passage = (
        _passages().select_related("note__case", "referral__case", "intervention__case")
        .filter(partnership_id=actor.partnership_id, pk=passage_id).first()
        if str(passage_id).isdigit() else None
    )
    if passage is None:
        raise access.NotVisible("No such passage")
    record = record_of(passage)
    if isinstance(record, Referral):
        visible = access.visible_referrals(actor).filter(pk=record.pk).exists()
    elif isinstance(record, CaseNote):
        visible = access.visible_notes(actor, record.case).filter(pk=record.pk).exists()
    else:
        visible = access.may(actor, access.Action.VIEW, record.case)
    if not visible:
        raise access.NotVisible("No such passage")
    if not access.may_withhold_passage(actor, record):
        raise access.NotAllowed("Only the author's agency releases words it withheld")
    return passage


def passage_release(*, actor: Actor, passage: WithheldPassage, agencies: Iterable, reason: str) -> WithheldPassage:
    """Release withheld words to more agencies (a strategy meeting agreed
    that the school needs the victim's address, say): they read the words
    from then on. The author's agency only, with a reason; in one
    transaction with a chronology entry (never the words) and an access-log
    row."""
    record = record_of(passage)
    if not access.may_withhold_passage(actor, record):
        raise access.NotAllowed("Only the author's agency releases words it withheld")
    released = _agencies(agencies, field="agencies", exclude=passage.agency_id)
    if not released:
        raise DomainError("Choose the agencies to release it to", field="agencies", code="required")
    reason = inputs.text(reason, field="reason", label="Why it is released", max_length=TEXT_MAX_LENGTH)
    with transaction.atomic():
        passage = WithheldPassage.objects.select_for_update().get(pk=passage.pk)
        already = set(passage.released_to.values_list("pk", flat=True))
        new = [a for a in released if a.pk not in already]
        if not new:
            raise DomainError("It is released to those agencies already", field="agencies", code="unchanged")
        passage.released_to.add(*new)
        WithheldPassage.objects.filter(pk=passage.pk).update(release_reason=reason)
        if passage.case_id is not None and access.may(actor, access.Action.VIEW, record.case):
            CaseNote.objects.create(
                case_id=passage.case_id, occurred_at=timezone.now(), kind=NoteKind.DECISION, author=actor.user,
                agency=actor.agency, visibility=getattr(record, "visibility", NoteVisibility.CASE),
                text=f"Words withheld ({passage.get_category_display().lower()}) were released to "
                     f"{', '.join(a.name for a in new)}: {reason}",
            )
        access.log_access(actor, "release_withheld", record, detail={
            "passage": passage.pk, "released_to": [a.pk for a in new], "reason": reason,
        })
    return passage
