"""What the security tests share: the URL patterns served, HTTP clients
signed in as a subject of the world, and the rows a write may touch."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken

from agencies.models import ApiClient
from partnerships.models import AgreementTemplate, Concern, Indicator, PartnershipRules
from contexts import models as cm
from reminders.models import Notification
from referrals import models as rm
from safeguarding.models import (
    BreakGlassAccess,
    BreakGlassReview,
    ConsentRecord,
    ConsentWithdrawal,
    ShareGrant,
    SharingDecision,
    SubjectAccessRequest,
    WithheldPassage,
)
from tests.security import url_table as t

SERVED = {p.key: p for p in t.served_patterns()}

# Rows a write may touch, and the columns that show a change.
TRACKED = {
    rm.YoungPerson: (), rm.Referral: ("status", "account"), rm.Case: ("status", "key_worker_id", "risk_level", "next_review_due"),
    rm.CaseNote: ("text",), rm.Intervention: ("status", "goals", "started_on"), rm.Review: ("completed_at",),
    ShareGrant: ("revoked_at", "expires_at"), SharingDecision: (), ApiClient: ("revoked_at",),
    Notification: ("read_at",), get_user_model(): ("is_active", "password"),
    SubjectAccessRequest: ("completed_on",), StaticToken: ("token",), rm.CaseTransfer: ("status",),
    rm.PartnershipEnquiry: ("status",),
    PartnershipRules: ("effective_until",), Concern: ("label", "position", "retired_at", "signs"),
    Indicator: ("text", "retired_at"), AgreementTemplate: ("title", "body", "retired_at"),
    cm.Context: ("updated_at",), cm.ContextLink: (), cm.PeerLink: (), cm.ContextIntervention: ("status",),
    cm.ContextNote: (), cm.Panel: ("held_at",), cm.PanelAttendee: ("confidentiality_accepted_at",),
    cm.PanelAgendaItem: (), cm.PanelAction: ("status", "update"), cm.PanelMinute: (),
    cm.Context.restricted_to.through: ("agency_id",),
    WithheldPassage: ("release_reason",), WithheldPassage.released_to.through: ("agency_id",),
    ConsentRecord: (), ConsentWithdrawal: (), BreakGlassAccess: (), BreakGlassReview: (),
}


def state() -> dict:
    """The tracked rows. The access log is left out on purpose: a refused
    request may still record a read it was allowed (the referral a referrer
    follows, say), and it is append-only anyway."""
    return {model.__name__: list(model.objects.order_by("pk").values_list("pk", *cols)) for model, cols in TRACKED.items()}


def subject_user(w, subject: str):
    if subject == "superuser":
        return w.superuser
    relation, role = subject.split("/")
    return w.users[(relation, role)]


# One request handler for every test: building one loads the middleware
# (whitenoise indexes the static files), which would dominate the run.
_HANDLER = Client().handler


def new_client() -> Client:
    client = Client()
    client.handler = _HANDLER
    return client


def web_client(w, subject: str, session: dict | None = None) -> Client:
    client = new_client()
    if subject != "anonymous":
        client.force_login(subject_user(w, subject))
    if session:
        stored = client.session
        stored.update(session)
        stored.save()
        if subject == "anonymous":
            client.cookies["sessionid"] = stored.session_key
    return client
