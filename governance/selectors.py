"""Reads of a partnership's settings and vocabulary, each starting from the
access policy's answer for the actor.

* ``vocabulary`` is for every partner working in the partnership: the
  concerns referrers choose from, their signs and their indicators (the
  referral journey, the awareness page and its printable version).
* ``settings_overview`` is for the partnership's administrator.
* ``settings_history`` is for the administrator and the data-protection
  officer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from partnerships.models import AgreementTemplate, Concern, Indicator, PartnershipRules
from partnerships import vocabulary as partnership_vocabulary
from partnerships.rules import Rules, rules_in_force, rules_versions
from safeguarding import access, history
from safeguarding.access import Actor


def vocabulary(actor: Actor, *, include_retired: bool = False) -> QuerySet[Concern]:
    """The concerns of the actor's partnership in the partnership's order,
    each with ``live_indicators``; retired ones only with
    ``include_retired`` (to read old referrals). Anyone working in a
    partnership (``access.may_read_vocabulary``); nobody else: none."""
    if not access.may_read_vocabulary(actor):
        return Concern.objects.none()
    if include_retired:
        return partnership_vocabulary.everything(actor.partnership_id)
    return partnership_vocabulary.choosable(actor.partnership_id)


@dataclass
class Overview:
    rules: Rules
    versions: list[PartnershipRules]
    concerns: list[Concern]
    templates: list[AgreementTemplate]


def settings_overview(actor: Actor) -> Overview:
    """Everything the partnership's administrator edits: the rules in force
    now, every version (scheduled ones included), the whole vocabulary
    (retired concerns and indicators included) and the agreement templates.
    The administrator only (``NotAllowed`` for anyone else)."""
    if not access.may_edit_partnership_settings(actor):
        raise access.NotAllowed("Only the partnership's administrator changes its settings")
    concerns = list(
        Concern.objects.filter(partnership_id=actor.partnership_id)
        .prefetch_related(Prefetch("indicators", queryset=Indicator.objects.order_by("position", "pk")))
        .order_by("position", "pk")
    )
    return Overview(
        rules=rules_in_force(actor.partnership_id), versions=rules_versions(actor.partnership_id), concerns=concerns,
        templates=list(AgreementTemplate.objects.filter(partnership_id=actor.partnership_id).order_by("title")),
    )


def settings_concern(actor: Actor, concern_id) -> Concern:
    """One concern of the administrator's partnership (else ``NotVisible``)."""
    if not access.may_edit_partnership_settings(actor):
        raise access.NotAllowed("Only the partnership's administrator changes its settings")
    try:
        return Concern.objects.prefetch_related(
            Prefetch("indicators", queryset=Indicator.objects.order_by("position", "pk"))
        ).get(pk=concern_id, partnership_id=actor.partnership_id)
    except (Concern.DoesNotExist, ValueError, TypeError):
        raise access.NotVisible("No such concern") from None


def settings_indicator(actor: Actor, indicator_id) -> Indicator:
    if not access.may_edit_partnership_settings(actor):
        raise access.NotAllowed("Only the partnership's administrator changes its settings")
    try:
        return Indicator.objects.select_related("concern").get(
            pk=indicator_id, concern__partnership_id=actor.partnership_id,
        )
    except (Indicator.DoesNotExist, ValueError, TypeError):
        raise access.NotVisible("No such indicator") from None


def settings_template(actor: Actor, template_id) -> AgreementTemplate:
    if not access.may_edit_partnership_settings(actor):
        raise access.NotAllowed("Only the partnership's administrator changes its settings")
    try:
        return AgreementTemplate.objects.get(pk=template_id, partnership_id=actor.partnership_id)
    except (AgreementTemplate.DoesNotExist, ValueError, TypeError):
        raise access.NotVisible("No such template") from None


def settings_history(actor: Actor) -> list[history.Change]:
    """Every change of the partnership's rules, vocabulary and templates,
    newest first, with who made it and when. The administrator and the
    data-protection officer (``access.may_see_partnership_settings_history``);
    anyone else ``NotAllowed``."""
    if not access.may_see_partnership_settings_history(actor):
        raise access.NotAllowed("Only the partnership's administrator and data-protection officers see this")
    return history.partnership_settings_changes(actor.partnership_id)
