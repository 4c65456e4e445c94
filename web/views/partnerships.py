"""Choose the partnership (borough) to work in.

An agency may work in several partnerships (a police unit serving
neighbouring boroughs); its people work in one at a time. The choice is kept
in the session (``web.kit.PARTNERSHIP_SESSION_KEY``) and read by
``web.kit.actor_for_request`` on every request, which asks the access policy
again: only a partnership the agency works in is ever stored here, and one
it stops working in leaves the person in none.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from safeguarding import access
from web import forms
from web.kit import PARTNERSHIP_SESSION_KEY, page, posted
from web.views.referrals import DRAFT as REFERRAL_DRAFT


@never_cache
@page
def choose(request):
    actor = request.actor
    partnerships = access.partnerships_of(actor.agency)
    form = forms.PartnershipChoiceForm(
        posted(request), partnerships=partnerships, initial={"partnership": actor.partnership_id},
    )
    if request.method == "POST" and form.is_valid():
        chosen = next(p for p in partnerships if p.pk == form.cleaned_data["partnership"])
        if chosen.pk != actor.partnership_id:
            # A referral started in one borough is not carried into another.
            request.session.pop(REFERRAL_DRAFT, None)
        request.session[PARTNERSHIP_SESSION_KEY] = chosen.pk
        messages.success(request, f"You are now working in {chosen.name}")
        return redirect("home")
    return render(request, "partnerships/choose.html", {
        "form": form,
        "partnerships": partnerships,
        "current": actor.partnership,
        # A question with one answer is not asked, unless the person is in
        # none yet (a choice their agency no longer works in) or erred.
        "ask": bool(partnerships) and (len(partnerships) > 1 or actor.partnership is None or bool(form.errors)),
    })
