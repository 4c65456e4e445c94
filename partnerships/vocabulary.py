"""A partnership's concern vocabulary, read: what a referrer may choose, and
the words for what referrals already carry.

The vocabulary is no case content (every partner in the partnership reads
it), so these take a partnership, not an actor; the pages and the API reach
them through the access policy's answer for the actor
(``governance.selectors.vocabulary``) or for a referral they may already see.
"""

from __future__ import annotations

from typing import Any, Iterable

from django.db.models import Prefetch, QuerySet

from lib.errors import DomainError
from partnerships.models import OTHER_CONCERN, Concern, Indicator


def _live_indicators() -> Prefetch:
    return Prefetch(
        "indicators", queryset=Indicator.objects.filter(retired_at__isnull=True).order_by("position", "pk"),
        to_attr="live_indicators",
    )


def choosable(partnership_id: int | None) -> QuerySet[Concern]:
    """The concerns a referrer may choose now, in the partnership's order,
    each with ``live_indicators`` (its checklist, retired items left out)."""
    return (
        Concern.objects.filter(partnership_id=partnership_id, retired_at__isnull=True)
        .prefetch_related(_live_indicators()).order_by("position", "pk")
    )


def everything(partnership_id: int | None) -> QuerySet[Concern]:
    """Every concern of the partnership, retired ones included, each with
    ``live_indicators``."""
    return (
        Concern.objects.filter(partnership_id=partnership_id)
        .prefetch_related(_live_indicators()).order_by("position", "pk")
    )


def labels(partnership_id: int | None) -> dict[str, str]:
    """Every code of the partnership's vocabulary, retired ones included, and
    its name now: how the concerns of any referral, old or new, read."""
    return dict(Concern.objects.filter(partnership_id=partnership_id).values_list("code", "label"))


def concern_names(partnership_id: int | None, codes: Iterable[str]) -> list[str]:
    """The names of ``codes`` in the order given (an unknown code, which the
    database does not allow, would read as itself)."""
    names = labels(partnership_id)
    return [names.get(code, code) for code in codes]


def indicators_by_id(ids: Iterable[int]) -> dict[int, Indicator]:
    """The indicators with these ids (retired ones included), with their concern."""
    ids = [i for i in ids if isinstance(i, int)]
    if not ids:
        return {}
    return {i.pk: i for i in Indicator.objects.filter(pk__in=ids).select_related("concern")}


def indicator_texts(ids: Iterable[int]) -> list[str]:
    """The wording of the indicators with these ids, in the order given."""
    ids = list(ids)
    found = indicators_by_id(ids)
    return [found[i].text for i in ids if i in found]


def clean_choice(partnership_id: int, concerns: Any, indicators: Any = ()) -> tuple[list[str], list[int]]:
    """A referrer's concerns and ticked indicators, checked against the
    partnership's vocabulary: at least one concern, each one the referrer
    may choose now (not retired), no repeats; each indicator a live sign of
    one of those concerns. Returns them cleaned, or raises ``DomainError``
    naming the field at fault. The indicators inform the referrer's risk
    rating; nothing here (or anywhere) sets the rating from them."""
    if not isinstance(concerns, (list, tuple)) or not concerns:
        raise DomainError("Choose at least one concern", field="concerns", code="required")
    live = {c.code: c for c in choosable(partnership_id)}
    cleaned: list[str] = []
    for code in concerns:
        if not isinstance(code, str) or code not in live:
            raise DomainError("Choose a concern from the partnership's list", field="concerns", code="unknown_concern")
        if code not in cleaned:
            cleaned.append(code)
    if indicators in (None, ""):
        indicators = []
    if not isinstance(indicators, (list, tuple)):
        raise DomainError("Give the indicators as a list", field="indicators")
    allowed = {i.pk for code in cleaned for i in live[code].live_indicators}
    ticked: list[int] = []
    for value in indicators:
        try:
            indicator_id = int(value)
        except (TypeError, ValueError):
            indicator_id = None
        if isinstance(value, bool) or indicator_id not in allowed:
            raise DomainError("Choose only signs of the concerns you chose", field="indicators", code="unknown_indicator")
        if indicator_id not in ticked:
            ticked.append(indicator_id)
    return cleaned, ticked


def asks_for_description(codes: Iterable[str]) -> bool:
    """Whether the concerns include "other", which the referrer describes."""
    return OTHER_CONCERN in codes
