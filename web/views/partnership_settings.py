"""The partnership administrator's pages (the partnership's rules, its
concern vocabulary and its information-sharing agreement templates), the
history of every change (the administrator and data-protection officers),
and the awareness page every partner may read, with its printable version.

Thin: forms parse, ``governance.services`` decide and write (their
``DomainError`` goes back on the form, so bad input writes nothing),
``governance.selectors`` read. Anyone the policy refuses gets the 403 page;
a concern, indicator or template of another partnership is a 404.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance import selectors, services
from lib.errors import DomainError
from safeguarding import access
from web import forms
from web.kit import add_domain_error, page, posted


def _saved(request, form, call, message: str, to: str = "partnership-settings", **kwargs):
    """Run a service; on ``DomainError`` show it on the form (nothing was
    written) and return None; else say so and send the person on."""
    try:
        result = call()
    except DomainError as error:
        add_domain_error(form, error)
        return None
    messages.success(request, message.format(result=result))
    return redirect(to, **kwargs)


@page
def settings_home(request):
    overview = selectors.settings_overview(request.actor)
    return render(request, "partnerships/settings.html", {"overview": overview, "now": timezone.now()})


@page
def rules_new(request):
    actor = request.actor
    overview = selectors.settings_overview(actor)
    initial = {**overview.rules.as_fields(), "effective_from": timezone.localdate() + dt.timedelta(days=1)}
    form = forms.RulesForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        effective_from, reason = data.pop("effective_from"), data.pop("reason")
        done = _saved(request, form, lambda: services.rules_version_schedule(
            actor=actor, effective_from=effective_from, values=data, reason=reason,
        ), "New rules saved: in force from {result.effective_from:%-d %B %Y}")
        if done:
            return done
    return render(request, "partnerships/rules_form.html", {"form": form, "overview": overview})


def _concern_call(data):
    return {"label": data["label"], "signs_text": data["signs"], "source_url": data["source_url"],
            "source_title": data["source_title"]}


@page
def concern_new(request):
    actor = request.actor
    selectors.settings_overview(actor)  # the administrator only
    form = forms.ConcernForm(posted(request))
    if request.method == "POST" and form.is_valid():
        done = _saved(request, form, lambda: services.concern_add(actor=actor, **_concern_call(form.cleaned_data)),
                      "Concern added: {result.label}")
        if done:
            return done
    return render(request, "partnerships/concern_form.html", {"form": form, "concern": None})


@page
def concern_edit(request, concern_id: int):
    actor = request.actor
    concern = selectors.settings_concern(actor, concern_id)
    initial = {"label": concern.label, "signs": concern.signs, "source_url": concern.source_url,
               "source_title": concern.source_title, "retired": concern.is_retired}
    form = forms.ConcernEditForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def change():
            with_changes = services.concern_change(actor=actor, concern=concern.pk, **_concern_call(data))
            return services.concern_retire(actor=actor, concern=with_changes.pk, retired=data["retired"])

        done = _saved(request, form, change, "Concern saved: {result.label}")
        if done:
            return done
    return render(request, "partnerships/concern_form.html", {"form": form, "concern": concern})


@require_POST
@page
def concern_move(request, concern_id: int):
    actor = request.actor
    concern = selectors.settings_concern(actor, concern_id)
    form = forms.MoveForm(request.POST)
    if form.is_valid():
        services.concern_move(actor=actor, concern=concern.pk, direction=form.cleaned_data["direction"])
        messages.success(request, f"Moved {concern.label} {form.cleaned_data['direction']}")
        return redirect("partnership-settings")
    return render(request, "partnerships/concern_move.html", {"form": form, "concern": concern})


@page
def indicator_new(request):
    actor = request.actor
    overview = selectors.settings_overview(actor)
    form = forms.IndicatorForm(posted(request), concerns=overview.concerns,
                               initial={"concern": request.GET.get("concern", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = _saved(request, form, lambda: services.indicator_add(actor=actor, concern=data["concern"],
                                                                     text=data["text"]),
                      "Indicator added: {result.text}")
        if done:
            return done
    return render(request, "partnerships/indicator_form.html", {"form": form, "indicator": None})


@page
def indicator_edit(request, indicator_id: int):
    actor = request.actor
    indicator = selectors.settings_indicator(actor, indicator_id)
    form = forms.IndicatorEditForm(posted(request), initial={"text": indicator.text, "retired": indicator.is_retired})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def change():
            changed = services.indicator_change(actor=actor, indicator=indicator.pk, text=data["text"])
            return services.indicator_retire(actor=actor, indicator=changed.pk, retired=data["retired"])

        done = _saved(request, form, change, "Indicator saved: {result.text}")
        if done:
            return done
    return render(request, "partnerships/indicator_form.html", {"form": form, "indicator": indicator})


@page
def template_new(request):
    return _template(request, None)


@page
def template_edit(request, template_id: int):
    return _template(request, template_id)


def _template(request, template_id):
    actor = request.actor
    template = selectors.settings_template(actor, template_id) if template_id is not None else None
    if template is None:
        selectors.settings_overview(actor)  # the administrator only
    initial = {"title": template.title, "body": template.body, "retired": template.retired_at is not None} if template else {}
    form = forms.AgreementTemplateForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = _saved(request, form, lambda: services.agreement_template_save(
            actor=actor, template=template.pk if template else None, title=data["title"], body=data["body"],
            retired=data["retired"],
        ), "Agreement template saved: {result.title}")
        if done:
            return done
    return render(request, "partnerships/template_form.html", {"form": form, "template": template})


@page
def settings_history(request):
    changes = selectors.settings_history(request.actor)
    return render(request, "partnerships/history.html", {"changes": changes})


@page
def awareness(request):
    return _awareness(request, "partnerships/awareness.html")


@page
def awareness_print(request):
    return _awareness(request, "partnerships/awareness_print.html")


def _awareness(request, template: str):
    actor = request.actor
    if not access.may_read_vocabulary(actor):
        raise access.NotAllowed("Choose the partnership you are working in to see what to look for")
    return render(request, template, {"concerns": selectors.vocabulary(actor), "partnership": actor.partnership})
