"""Make a referral: GOV.UK question pages, one question a page.

The answers are kept in the session (``DRAFT``) until the check-your-answers
page is submitted; only then does ``services.referral_submit`` write
anything. Each page keeps what was typed when it has an error.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse

from casework import selectors, services
from lib.errors import DomainError
from partnerships import vocabulary
from referrals.models import Consent, Gender, LawfulBasis, RiskLevel
from safeguarding import access
from web import forms
from web.kit import page, posted

DRAFT = "referral_draft"

# Question pages in order: url name, form, template, the draft keys it sets.
STEPS = {
    "concerns": (forms.ConcernsForm, "referrals/referral_concerns.html", ("concerns", "concerns_other")),
    "indicators": (forms.IndicatorsForm, "referrals/referral_indicators.html", ("indicators",)),
    "risk": (forms.RiskForm, "referrals/referral_risk.html", ("risk_level",)),
    "account": (forms.AccountForm, "referrals/referral_account.html", ("account",)),
    "consent": (forms.ConsentForm, "referrals/referral_consent.html", ("consent", "lawful_basis", "consent_reason")),
}
ORDER = ["person", "concerns", "indicators", "risk", "account", "consent", "check"]
# Questions that may be answered with nothing (the checklist of indicators).
OPTIONAL = {"indicators"}
# Where the check page sends someone to change an answer a service refused.
FIELD_STEP = {
    "concerns": "concerns", "concerns_other": "concerns", "indicators": "indicators", "risk_level": "risk",
    "account": "account",
    "consent": "consent", "lawful_basis": "consent", "consent_reason": "consent",
}


def _require_referrer(actor: access.Actor) -> None:
    if not actor.works_cases:
        raise PermissionDenied("Only practitioners, managers and screeners of a partner agency make referrals")


def _draft(request) -> dict:
    return request.session.setdefault(DRAFT, {})


def _save(request, **values) -> None:
    draft = _draft(request)
    draft.update(values)
    request.session[DRAFT] = draft
    request.session.modified = True


def _next(request, step: str) -> str:
    """The next page, or back to check-your-answers when changing an answer."""
    if request.GET.get("change") and _draft(request).get("person"):
        return reverse("referral-check")
    return reverse(f"referral-{ORDER[ORDER.index(step) + 1]}")


def _dob(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@page
def start(request):
    _require_referrer(request.actor)
    return render(request, "referrals/referral_start.html")


@page
def person(request):
    actor = request.actor
    _require_referrer(actor)
    search = _draft(request).get("search") or {}
    initial = {**search, "date_of_birth": _dob(search.get("date_of_birth"))}
    form = forms.FindPersonForm(posted(request), initial=initial if request.method == "GET" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _save(request, search={
            "given_name": data["given_name"].strip(), "family_name": data["family_name"].strip(),
            "date_of_birth": data["date_of_birth"].isoformat(),
        })
        return redirect("referral-person-choose")
    return render(request, "referrals/referral_person.html", {"form": form})


@page
def person_choose(request):
    actor = request.actor
    _require_referrer(actor)
    search = _draft(request).get("search")
    if not search:
        return redirect("referral-person")
    candidates, hidden_match = selectors.young_person_candidates(
        actor, given_name=search["given_name"], family_name=search["family_name"],
        date_of_birth=_dob(search["date_of_birth"]),
    )
    error = None
    if request.method == "POST":
        choice = request.POST.get("young_person", "")
        if choice == "new":
            return redirect("referral-person-new")
        chosen = next((c for c in candidates if str(c.pk) == choice), None)
        if chosen is not None:
            _save(request, person={"id": chosen.pk, "name": chosen.display_name,
                                   "date_of_birth": chosen.date_of_birth.isoformat()})
            return redirect(_next(request, "person"))
        error = "Select the young person, or that they are not listed"
    return render(request, "referrals/referral_person_choose.html",
                  {"candidates": candidates, "hidden_match": hidden_match, "search": search, "error": error,
                   "errors": error})


@page
def person_new(request):
    actor = request.actor
    _require_referrer(actor)
    draft = _draft(request)
    search = draft.get("search") or {}
    new = (draft.get("person") or {}).get("new") or {**search, "gender": Gender.NOT_KNOWN}
    form = forms.NewPersonForm(
        posted(request), initial={**new, "date_of_birth": _dob(new.get("date_of_birth"))},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["date_of_birth"] = data["date_of_birth"].isoformat()
        _save(request, person={"new": data, "name": f"{data['given_name']} {data['family_name']}",
                               "date_of_birth": data["date_of_birth"]})
        return redirect(_next(request, "person"))
    return render(request, "referrals/referral_person_new.html", {"form": form})


def _form_kwargs(step: str, actor: access.Actor, draft: dict) -> dict:
    """What a question page's form needs beyond the answers: the concerns
    the partnership lets referrers choose, with their signs to look for;
    for the checklist, those the referrer chose, with their indicators."""
    if step == "concerns":
        return {"concerns": vocabulary.choosable(actor.partnership_id)}
    if step == "indicators":
        chosen = draft.get("concerns") or []
        return {"concerns": [c for c in vocabulary.choosable(actor.partnership_id) if c.code in chosen]}
    return {}


def _answered(draft: dict, step: str, actor: access.Actor) -> bool:
    """Whether the draft holds an answer to the step's question. The
    checklist is answered when seen (even with nothing ticked) or when none
    of the chosen concerns has one."""
    key = "person" if step == "person" else STEPS[step][2][0]
    if step in OPTIONAL:
        return key in draft or not any(c.live_indicators for c in _form_kwargs(step, actor, draft)["concerns"])
    return bool(draft.get(key))


def _question(step: str):
    form_class, template, keys = STEPS[step]

    @page
    def view(request):
        _require_referrer(request.actor)
        draft = _draft(request)
        if not draft.get("person"):
            return redirect("referral-person")
        form = form_class(posted(request), initial={k: draft.get(k) for k in keys if k in draft},
                          **_form_kwargs(step, request.actor, draft))
        if step == "indicators" and not form.fields["indicators"].choices:
            # None of the chosen concerns has a checklist: nothing to ask.
            _save(request, indicators=[])
            return redirect(_next(request, step))
        if request.method == "POST" and form.is_valid():
            if step == "concerns" and form.cleaned_data["concerns"] != draft.get("concerns"):
                # Other concerns, other signs: the checklist is asked again.
                draft.pop("indicators", None)
            _save(request, **{k: form.cleaned_data.get(k) or ("" if k not in ("concerns", "indicators") else [])
                              for k in keys})
            return redirect(_next(request, step))
        return render(request, template, {"form": form, "change": request.GET.get("change")})

    view.__name__ = f"referral_{step}"
    return view


concerns = _question("concerns")
indicators = _question("indicators")
risk = _question("risk")
account = _question("account")
consent = _question("consent")


def _answers(draft: dict, actor: access.Actor) -> dict:
    return {
        "concerns": vocabulary.concern_names(actor.partnership_id, draft.get("concerns", [])),
        "indicators": vocabulary.indicator_texts(int(i) for i in draft.get("indicators") or []),
        "risk": dict(RiskLevel.choices).get(draft.get("risk_level"), ""),
        "consent": dict(Consent.choices).get(draft.get("consent"), ""),
        "lawful_basis": dict(LawfulBasis.choices).get(draft.get("lawful_basis"), ""),
    }


@page
def check(request):
    actor = request.actor
    _require_referrer(actor)
    draft = _draft(request)
    missing = next((s for s in ORDER[:-1] if not _answered(draft, s, actor)), None)
    if missing:
        return redirect(f"referral-{missing}")
    errors = []
    if request.method == "POST":
        person = draft["person"]
        young_person = new_person = None
        if "id" in person:
            young_person = access.visible_young_people(actor).filter(pk=person["id"]).first()
            if young_person is None:
                raise access.NotVisible("No such young person")
        else:
            new_person = {k: v for k, v in person["new"].items() if v not in (None, "")}
        try:
            referral = services.referral_submit(
                actor=actor, young_person=young_person, person=new_person,
                concerns=draft["concerns"], concerns_other=draft.get("concerns_other", ""),
                indicators=draft.get("indicators") or [],
                risk_level=draft["risk_level"], account=draft["account"], consent=draft["consent"],
                lawful_basis=draft.get("lawful_basis", ""), consent_reason=draft.get("consent_reason", ""),
            )
        except DomainError as error:
            step = FIELD_STEP.get((error.field or "").split(".")[0], "person")
            url = reverse("referral-person-new" if step == "person" and "new" in person else f"referral-{step}")
            errors.append({"text": error.message, "href": f"{url}?change=1"})
        else:
            request.session.pop(DRAFT, None)
            return redirect("referral-submitted", referral.pk)
    return render(request, "referrals/referral_check.html",
                  {"draft": draft, "answers": _answers(draft, actor), "errors": errors})


@page
def submitted(request, referral_id: int):
    referral = access.get_referral(request.actor, referral_id)
    return render(request, "referrals/referral_submitted.html", {"referral": referral})


@page
def detail(request, referral_id: int):
    referral = access.get_referral(request.actor, referral_id)
    return render(request, "referrals/referral_detail.html", {
        "referral": referral,
        "may_screen": access.may_screen(request.actor, referral),
        "may_withhold": access.may_withhold_passage(request.actor, referral),
        "concerns": vocabulary.concern_names(referral.partnership_id, referral.concerns),
        "indicators": vocabulary.indicator_texts(referral.indicators),
        "transfer": selectors.referral_transfer(request.actor, referral),
    })
