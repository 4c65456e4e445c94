"""Every URL the project serves, and who may reach it: the table behind
``test_url_matrix.py``.

HOW TO ADD AN ENTRY (a new view, endpoint or include)
=====================================================
``test_every_url_has_an_entry`` fails when ``config.urls`` serves a pattern
this table does not know. Add one entry under the pattern's key:

* the key is the URL name with its namespace (``"case-detail"``,
  ``"api-v1:case"``); a pattern with no name is keyed by its full route;
  everything under ``admin/`` is one group, ``ADMIN``, keyed by route;
* a page (session sign-in) goes in ``WEB`` as ``Page(...)``: ``kwargs`` builds
  the URL's arguments from the world (``tests/security/conftest.py``: ``w.case``,
  ``w.open_referral``, ``w.notes.owner_case``, ``w.intervention``,
  ``w.grants["shared"]``, ``w.notification``, ``w.api_clients["own"]``...);
  ``methods`` lists what to try; ``post`` builds a *valid* body, so an allowed
  POST must succeed and change something, and a refused one must change
  nothing; ``ok`` and ``forbidden`` are sets of subjects (below) answered
  2xx/3xx and 403; every other signed-in subject must get ``otherwise``
  (404 unless said), and the anonymous visitor ``anonymous`` (the sign-in
  redirect unless said). ``overrides`` pins one method's answer for
  everybody (``{"GET": NOT_ALLOWED}`` for a POST-only view);
* a partner-API operation goes in ``API`` as ``Endpoint(...)``: per method
  the scope it needs, the success status and a valid body; ``ok`` and
  ``forbidden`` are sets of agency relations of the calling client. The
  sweep adds no token, a bad token, a revoked client's token, a web
  session and a token lacking the scope;
* an admin page: add its route to ``ADMIN`` with what the superuser gets
  (everyone else is sent to the admin sign-in).

Two-factor pages (``/accounts/two-factor/...``) and the DPO's pages
(who has seen a record, subject-access requests) are added the same way:
the DPO's pages as ``Page(ok=who(ALL_RELATIONS, ["dpo"]), forbidden=...)``.

Subjects are ``"<relation>/<role>"`` (``"own/manager"``, ``"shared/practitioner"``,
``"key_worker/practitioner"``), ``"superuser"`` and ``"anonymous"``; relations
are how the person's agency stands to the world's case (see
``tests/security/conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Callable

from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.security.conftest import AGENCY_RELATIONS, CASEWORK_ROLES, ROLES

# -- outcomes -----------------------------------------------------------------

OK = "ok"  # 2xx, or a redirect that is not to a sign-in page
FORBIDDEN = "403"
NOT_FOUND = "404"
NOT_ALLOWED = "405"
LOGIN = "sign-in"  # 302 to /accounts/login/?next=...
SIGNED_OUT = "signed out"  # 302 to /accounts/login/ itself
ADMIN_LOGIN = "admin sign-in"  # 302 to /admin/login/?next=...
TO_ADMIN_INDEX = "to the admin index"  # 302 to /admin/ (which then asks to sign in)
UNAUTHENTICATED = "401"

# -- subjects -----------------------------------------------------------------

ALL_RELATIONS = ("own", "key_worker", *AGENCY_RELATIONS[1:])
# Issue 18's relations change what a person working cases may reach (a share
# that rested on consent, a break-glass opening); the other roles reach no
# case through any relation, and are tried under the first ten.
CASEWORK_ONLY_RELATIONS = frozenset({"consent_withdrawn", "break_glass_open", "break_glass_expired"})
# A reporting analyst reads only the monitoring, whatever their agency's
# relation to a case: tried in the lead agency, an unrelated one and the hub.
REPORTING_RELATIONS = frozenset({"own", "other", "hub"})


def _tried(rel: str, role: str) -> bool:
    if rel == "key_worker":
        return role == "practitioner"
    if rel in CASEWORK_ONLY_RELATIONS:
        return role in CASEWORK_ROLES
    return role != "reporting" or rel in REPORTING_RELATIONS


ROLE_SUBJECTS = tuple(f"{rel}/{role}" for rel in ALL_RELATIONS for role in ROLES if _tried(rel, role))
SUBJECTS = (*ROLE_SUBJECTS, "superuser", "anonymous")
SIGNED_IN = frozenset(ROLE_SUBJECTS) | {"superuser"}
# For pages that are about no case or referral, how a person's agency stands
# to the world's case changes nothing: each role of the lead agency, of an
# unrelated agency and of the hub stands for everybody.
BY_ROLE = tuple(
    s for s in SUBJECTS if s in ("superuser", "anonymous") or s.split("/")[0] in ("own", "other", "hub")
)


def who(relations, roles) -> frozenset[str]:
    """The subjects with one of these relations and one of these roles."""
    return frozenset(f"{rel}/{role}" for rel in relations for role in roles) & frozenset(ROLE_SUBJECTS)


CASEWORKERS = who(ALL_RELATIONS, CASEWORK_ROLES)  # anyone who works cases, anywhere
CASE_TEAM = who(("own", "key_worker", "shared"), CASEWORK_ROLES)  # lead and active share
LEAD_TEAM = who(("own", "key_worker"), CASEWORK_ROLES)
CASE_MANAGERS = frozenset({"own/manager", "key_worker/practitioner"})  # MANAGE: lead's managers, key worker
LEAD_MANAGERS = frozenset({"own/manager"})  # ALLOCATE, CLOSE
# The accepted referral: its maker and their manager, the hub screener who
# decided it, and whoever may see the case it became.
ACCEPTED_REFERRAL_READERS = CASE_TEAM | {"referrer/practitioner", "referrer/manager", "hub/hub_screener"}
# Who has seen a record: the lead agency's managers and any data-protection
# officer (the partnership's DPO role); subject access: DPOs only.
DPOS = who(ALL_RELATIONS, ["dpo"])
ACCESS_LOG_READERS = LEAD_MANAGERS | DPOS
# The open referral: its maker and their manager, and the hub's screeners.
OPEN_REFERRAL_READERS = frozenset({"referrer/practitioner", "referrer/manager", "hub/hub_screener"})
# The partnership's settings: its administrator (the role held in the hub);
# their history also the data-protection officers; what to look for, every
# partner (anyone acting for an agency of the partnership).
PARTNERSHIP_ADMINS = frozenset({"hub/partnership_admin"})
SETTINGS_HISTORY_READERS = PARTNERSHIP_ADMINS | DPOS
PARTNERS = frozenset(ROLE_SUBJECTS)
# The monitoring: the reporting analysts of any agency of the partnership.
REPORTING_ANALYSTS = who(ALL_RELATIONS, ["reporting"])

# Contexts: every case-working agency of the partnership sees a place; the
# person of concern only the agencies its recorder (the sharing police) chose.
OWNER_TEAM = who(("own", "key_worker"), CASEWORK_ROLES)
POC_READERS = who(("own", "key_worker", "shared"), CASEWORK_ROLES)
SHARING_TEAM = who(("shared",), CASEWORK_ROLES)
# The world's panel: chaired by the owner's manager (also its convening
# agency's manager), attended by them and the sharing agency's practitioner,
# with an action owed by the owner's practitioner.
CONVENERS = who(ALL_RELATIONS, ["manager"]) | {"hub/hub_screener"}
PANEL_ORGANISERS = frozenset({"own/manager"})
PANEL_ATTENDEES = frozenset({"own/manager", "shared/practitioner"})
PANEL_VIEWERS = PANEL_ATTENDEES | {"own/practitioner"}
ACTION_UPDATERS = frozenset({"own/manager", "own/practitioner"})
# Issue 18. Consent withdrawn: the academy's share rested on it and ended, so
# it is like an unrelated agency everywhere. Break-glass open: that one
# practitioner reads the case in the pages (no other role of the agency, no
# writing, never the API, exports or papers); expired: nothing.
BREAK_GLASS_READER = frozenset({"break_glass_open/practitioner"})
# Break-glass is opened by a person working cases; the review queue is for
# managers (their agency's openings) and data-protection officers (all).
BREAK_GLASS_OPENERS = who(ALL_RELATIONS, CASEWORK_ROLES)
BREAK_GLASS_QUEUE = who(ALL_RELATIONS, ["manager", "dpo"])
BREAK_GLASS_REVIEWERS = frozenset({"break_glass_open/manager"})


def grading(w) -> dict:
    return {"source": "School incident log", **date_parts("information_date", _today() - dt.timedelta(days=2)),
            "source_evaluation": "1", "intelligence_assessment": "B", "handling_code": "P",
            "handling_conditions": ""}


# -- bodies -------------------------------------------------------------------


def date_parts(name: str, day: dt.date) -> dict:
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}


def referral_draft(w) -> dict:
    """A complete referral in the session, as the question pages leave it."""
    return {"referral_draft": {
        "search": {"given_name": "Kai", "family_name": "Mensah", "date_of_birth": "2011-05-04"},
        "person": {"new": {"given_name": "Kai", "family_name": "Mensah", "preferred_name": "",
                           "date_of_birth": "2011-05-04", "gender": "male", "postcode": ""},
                   "name": "Kai Mensah", "date_of_birth": "2011-05-04"},
        "concerns": ["weapon"], "concerns_other": "", "indicators": [], "risk_level": "amber",
        "account": "Seen with a blade near the station.", "consent": "young_person",
        "lawful_basis": "", "consent_reason": "",
    }}


# -- entries ------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page signed in to with a session."""

    kwargs: Callable = lambda w: {}
    methods: tuple[str, ...] = ("GET",)
    post: Callable | None = None  # world -> a valid form body
    session: Callable | None = None  # world -> session keys set before the request
    ok: frozenset[str] = frozenset()
    forbidden: frozenset[str] = frozenset()
    otherwise: str = NOT_FOUND
    anonymous: str = LOGIN
    overrides: dict[str, str] = field(default_factory=dict)
    writes: bool = True  # an allowed POST changes rows (else only the session)
    subjects: tuple[str, ...] = SUBJECTS  # who is tried (BY_ROLE: pages about no case)
    # Who may POST, when fewer than may GET (the rest of ``ok`` get 403).
    post_ok: frozenset[str] | None = None

    def expected(self, subject: str, method: str) -> str:
        if method in self.overrides:
            return self.overrides[method]
        if subject == "anonymous":
            return self.anonymous
        if method == "POST" and self.post_ok is not None and subject in self.ok:
            return OK if subject in self.post_ok else FORBIDDEN
        if subject in self.ok:
            return OK
        if subject in self.forbidden:
            return FORBIDDEN
        return self.otherwise


def public(methods=("GET",), post=None, writes=False) -> Page:
    """Served to anyone, signed in or not."""
    return Page(methods=methods, post=post, ok=SIGNED_IN, anonymous=OK, writes=writes, subjects=BY_ROLE)


def signed_in_only(**kwargs) -> Page:
    return Page(ok=SIGNED_IN, subjects=BY_ROLE, **kwargs)


def case_page(ok, forbidden=frozenset(), **kwargs) -> Page:
    return Page(kwargs=lambda w: {"case_id": w.case.pk}, ok=ok, forbidden=forbidden, **kwargs)


# Who withholds words of the owner's records: its practitioners and managers.
WITHHOLDERS = who(("own", "key_worker"), ("practitioner", "manager"))


def _withhold_body(w, words: str) -> dict:
    return {"field": "text", "passage": words, "category": "witness", "withheld_from": "named",
            "agencies": [str(w.agencies["other"].pk)], "ask": "the case's lead", "reason": "Witness safety"}


def _case_kwargs(**more) -> Callable:
    return lambda w: {"case_id": w.case.pk, **{k: v(w) for k, v in more.items()}}


def _wizard(post=None) -> Page:
    return Page(
        methods=("GET", "POST") if post else ("GET",), post=post, session=referral_draft,
        ok=CASEWORKERS, forbidden=SIGNED_IN - CASEWORKERS, writes=False, subjects=BY_ROLE,
    )


_today = timezone.localdate


def _settings_page(ok=PARTNERSHIP_ADMINS, post=None, kwargs=lambda w: {}, **more) -> Page:
    return Page(
        kwargs=kwargs, methods=("GET", "POST") if post else ("GET",), post=post, ok=ok, forbidden=SIGNED_IN - ok,
        subjects=BY_ROLE, **more,
    )


def _rules_body(w) -> dict:
    body = {**date_parts("effective_from", _today() + dt.timedelta(days=1)), "reason": "Matrix: tighter red limit"}
    for rating, hours, days, minutes in (("red", "2", "14", "30"), ("amber", "6", "28", "0"), ("green", "", "42", "0")):
        body.update({f"decision_hours_{rating}": hours, f"review_days_{rating}": days, f"alert_minutes_{rating}": minutes})
    return {**body, "retention_age_years": "25", "small_number_threshold": "5", "consent_competence_age": "13",
            "break_glass_hours": "4"}

WEB: dict[str, Page] = {
    # Home pages and the manager's export
    "home": signed_in_only(),
    "caseload-export": Page(
        ok=who(ALL_RELATIONS, ["manager"]), forbidden=SIGNED_IN - who(ALL_RELATIONS, ["manager"]), subjects=BY_ROLE,
    ),
    # The partnership's monitoring: its reporting analysts, and nobody else
    # (no manager, DPO or administrator; a casework role gives none of it).
    "monitoring-report": Page(
        kwargs=lambda w: {"name": "referrals"}, ok=REPORTING_ANALYSTS, forbidden=SIGNED_IN - REPORTING_ANALYSTS,
        subjects=BY_ROLE,
    ),
    "monitoring-export": Page(
        kwargs=lambda w: {"name": "cases", "kind": "ods"}, ok=REPORTING_ANALYSTS,
        forbidden=SIGNED_IN - REPORTING_ANALYSTS, subjects=BY_ROLE,
    ),
    "notifications": signed_in_only(),
    # Which partnership a person is working in (their agency's, theirs to pick)
    "partnership-choose": Page(
        methods=("GET", "POST"), post=lambda w: {"partnership": str(w.case.partnership_id)},
        ok=SIGNED_IN, writes=False, subjects=BY_ROLE,
    ),
    "notification-read": Page(
        kwargs=lambda w: {"notification_id": w.notification.pk}, methods=("GET", "POST"),
        post=lambda w: {"next": "/notifications/"}, ok=frozenset({"key_worker/practitioner"}),
        overrides={"GET": NOT_ALLOWED},
    ),
    # The partnership's settings (its administrator; the history also DPOs)
    "partnership-settings": _settings_page(),
    "partnership-rules-new": _settings_page(post=_rules_body),
    "partnership-concern-new": _settings_page(post=lambda w: {
        "label": "Matrix concern", "signs": "- a sign to look for", "source_title": "", "source_url": ""}),
    "partnership-concern-edit": _settings_page(
        kwargs=lambda w: {"concern_id": w.concern.pk},
        post=lambda w: {"label": "Carrying a knife or other weapon", "signs": "- carries a knife",
                        "source_title": "", "source_url": "https://www.gov.uk/"}),
    "partnership-concern-move": _settings_page(
        kwargs=lambda w: {"concern_id": w.concern.pk}, post=lambda w: {"direction": "down"},
        overrides={"GET": NOT_ALLOWED}),
    "partnership-indicator-new": _settings_page(
        post=lambda w: {"concern": str(w.concern.pk), "text": "Matrix indicator"}),
    "partnership-indicator-edit": _settings_page(
        kwargs=lambda w: {"indicator_id": w.indicator.pk}, post=lambda w: {"text": "Carries a bladed article"}),
    "partnership-template-new": _settings_page(post=lambda w: {"title": "Matrix template", "body": "Matrix body"}),
    "partnership-template-edit": _settings_page(
        kwargs=lambda w: {"template_id": w.agreement_template.pk},
        post=lambda w: {"title": "Model agreement (2026)", "body": "Changed wording"}),
    "partnership-settings-history": _settings_page(ok=SETTINGS_HISTORY_READERS),
    "awareness": _settings_page(ok=PARTNERS),
    "awareness-print": _settings_page(ok=PARTNERS),
    # Agency administration
    "api-clients": Page(
        methods=("GET", "POST"), post=lambda w: {"name": "Matrix system", "scopes": ["cases:read"]},
        ok=who(ALL_RELATIONS, ["agency_admin"]), forbidden=SIGNED_IN - who(ALL_RELATIONS, ["agency_admin"]),
        subjects=BY_ROLE,
    ),
    "api-client-revoke": Page(
        kwargs=lambda w: {"client_id": w.api_clients["own"].pk}, methods=("GET", "POST"), post=lambda w: {},
        ok=frozenset({"own/agency_admin"}), forbidden=SIGNED_IN - who(ALL_RELATIONS, ["agency_admin"]),
    ),
    # Making a referral: any case-working role of any agency
    "referral-start": _wizard(),
    "referral-person": _wizard(post=lambda w: {"given_name": "Kai", "family_name": "Mensah",
                                               **date_parts("date_of_birth", dt.date(2011, 5, 4))}),
    "referral-person-choose": _wizard(post=lambda w: {"young_person": "new"}),
    "referral-person-new": _wizard(post=lambda w: {"given_name": "Kai", "family_name": "Mensah", "gender": "male",
                                                   **date_parts("date_of_birth", dt.date(2011, 5, 4))}),
    "referral-concerns": _wizard(post=lambda w: {"concerns": ["weapon"]}),
    "referral-indicators": _wizard(post=lambda w: {"indicators": [str(w.indicator.pk)]}),
    "referral-risk": _wizard(post=lambda w: {"risk_level": "red"}),
    "referral-account": _wizard(post=lambda w: {"account": "Threatened with a blade."}),
    "referral-consent": _wizard(post=lambda w: {"consent": "parent_carer"}),
    "referral-check": Page(
        methods=("GET", "POST"), post=lambda w: {}, session=referral_draft,
        ok=CASEWORKERS, forbidden=SIGNED_IN - CASEWORKERS, subjects=BY_ROLE,
    ),
    # Following a referral
    "referral-submitted": Page(kwargs=lambda w: {"referral_id": w.open_referral.pk}, ok=OPEN_REFERRAL_READERS),
    "referral-detail": Page(kwargs=lambda w: {"referral_id": w.accepted_referral.pk}, ok=ACCEPTED_REFERRAL_READERS),
    "screening": Page(
        kwargs=lambda w: {"referral_id": w.open_referral.pk}, methods=("GET", "POST"),
        post=lambda w: {"decision": "no_further_action", "reason": "Already known to the school"},
        ok=frozenset({"hub/hub_screener"}), forbidden=OPEN_REFERRAL_READERS - {"hub/hub_screener"},
    ),
    # Records in other partnerships: the hub's screener asks, the asked hub answers.
    "screening-ask": Page(
        kwargs=lambda w: {"referral_id": w.open_referral.pk, "partnership_id": w.neighbour.pk},
        methods=("GET", "POST"), post=lambda w: {"message": "Is Amara known to you?"},
        ok=frozenset({"hub/hub_screener"}), forbidden=OPEN_REFERRAL_READERS - {"hub/hub_screener"},
    ),
    "enquiries": Page(ok=frozenset({"hub/hub_screener"}), forbidden=SIGNED_IN - {"hub/hub_screener"}),
    "enquiry-detail": Page(
        kwargs=lambda w: {"enquiry_id": w.enquiry.pk}, methods=("GET", "POST"),
        post=lambda w: {"answer": "Known to our youth service; a transfer will follow"},
        ok=frozenset({"hub/hub_screener"}), forbidden=SIGNED_IN - {"hub/hub_screener"},
    ),
    # The case and its actions
    "case-detail": case_page(ok=CASE_TEAM | BREAK_GLASS_READER),
    "note-add": case_page(
        ok=CASE_TEAM, methods=("GET", "POST"),
        post=lambda w: {"kind": "contact", "text": "Matrix entry", "visibility": "case"},
    ),
    "note-correct": Page(
        kwargs=_case_kwargs(note_id=lambda w: w.notes.owner_case.pk), methods=("GET", "POST"),
        post=lambda w: {"text": "Corrected: met at the youth club"},
        # Only the author's agency corrects its entries; a sharing agency sees it.
        ok=LEAD_TEAM, forbidden=CASE_TEAM - LEAD_TEAM,
    ),
    "intervention-add": case_page(
        ok=CASE_TEAM, methods=("GET", "POST"),
        post=lambda w: {"provider_agency": str(w.agencies["own"].pk), "kind": "mentoring", "goals": "Matrix goals",
                        "status": "planned", "sessions_offered": "4"},
    ),
    "intervention-update": Page(
        kwargs=_case_kwargs(intervention_id=lambda w: w.intervention.pk), methods=("GET", "POST"),
        post=lambda w: {"status": "active", **date_parts("started_on", _today()), "sessions_offered": "4",
                        "sessions_attended": "1", "outcome": ""},
        ok=CASE_TEAM,
    ),
    # Redaction (issue 18): only the author's agency withholds words, and only
    # someone who works the case or sees the referral; the rest of the case
    # team may see the record (403), anyone else not (404).
    "note-withhold": Page(
        kwargs=_case_kwargs(note_id=lambda w: w.notes.owner_case.pk), methods=("GET", "POST"),
        post=lambda w: _withhold_body(w, "youth centre"), ok=WITHHOLDERS, forbidden=CASE_TEAM - WITHHOLDERS,
    ),
    "intervention-withhold": Page(
        kwargs=_case_kwargs(intervention_id=lambda w: w.intervention.pk), methods=("GET", "POST"),
        post=lambda w: {**_withhold_body(w, "mentoring"), "field": "goals"},
        ok=WITHHOLDERS, forbidden=CASE_TEAM - WITHHOLDERS,
    ),
    "referral-withhold": Page(
        kwargs=lambda w: {"referral_id": w.open_referral.pk}, methods=("GET", "POST"),
        post=lambda w: {**_withhold_body(w, "knife"), "field": "account"},
        ok=frozenset({"referrer/practitioner", "referrer/manager"}), forbidden=frozenset({"hub/hub_screener"}),
    ),
    "case-chronology-export": case_page(ok=CASE_TEAM),
    # Words the referrer withheld from the accepted referral: its people
    # release them; who else sees the referral is refused (403), others 404.
    "passage-release": Page(
        kwargs=lambda w: {"passage_id": w.withheld.pk}, methods=("GET", "POST"),
        post=lambda w: {"agencies": [str(w.agencies["own"].pk)], "reason": "Agreed at the strategy meeting"},
        ok=frozenset({"referrer/practitioner", "referrer/manager"}),
        forbidden=ACCEPTED_REFERRAL_READERS - {"referrer/practitioner", "referrer/manager"},
    ),
    "review-complete": case_page(
        ok=CASE_MANAGERS, forbidden=CASE_TEAM - CASE_MANAGERS, methods=("GET", "POST"),
        post=lambda w: {"risk_after": "amber", "decision": "continue", "summary": "Matrix review"},
    ),
    "share-add": case_page(
        ok=CASE_MANAGERS, forbidden=CASE_TEAM - CASE_MANAGERS, methods=("GET", "POST"),
        post=lambda w: {"agency": str(w.agencies["other"].pk), "purpose": "Joint safety plan",
                        "lawful_basis": "safeguarding_children", "agreement": str(w.agreement.pk),
                        "consent_sought": "yes", "consent_reason": "The young person agreed",
                        **date_parts("expires_on", _today() + dt.timedelta(days=30))},
    ),
    "share-decline": case_page(
        ok=CASE_MANAGERS, forbidden=CASE_TEAM - CASE_MANAGERS, methods=("GET", "POST"),
        post=lambda w: {"agency": str(w.agencies["other"].pk), "purpose": "Asked for the whole file",
                        "reason": "Not needed for their purpose", "consent_sought": "no",
                        "consent_reason": "Not sharing"},
    ),
    "share-revoke": Page(
        kwargs=_case_kwargs(grant_id=lambda w: w.grants["shared"].pk), methods=("GET", "POST"),
        post=lambda w: {"reason": "Joint work finished"},
        ok=CASE_MANAGERS, forbidden=CASE_TEAM - CASE_MANAGERS,
    ),
    # Consent (issue 18): recorded and withdrawn by those who manage the case.
    "consent-record": case_page(
        ok=CASE_MANAGERS, forbidden=CASE_TEAM - CASE_MANAGERS | BREAK_GLASS_READER, methods=("GET", "POST"),
        post=lambda w: {"given_by": "parent_carer", "judged_competent": "", "lawful_basis": "", "reason": ""},
    ),
    "consent-withdraw": Page(
        kwargs=_case_kwargs(consent_id=lambda w: w.consent_in_force.pk), methods=("GET", "POST"),
        post=lambda w: {"withdrawn_by": "parent_carer", "reason": "Her mother withdrew it by phone"},
        ok=CASE_MANAGERS, forbidden=CASE_TEAM - CASE_MANAGERS | BREAK_GLASS_READER,
    ),
    # Break-glass (issue 18): opened by a person working cases, in the pages.
    "break-glass-open": Page(
        methods=("GET", "POST"),
        post=lambda w: {"case_reference": w.glass_case.reference,
                        "reason": "Reported missing tonight: need the family's address now"},
        ok=BREAK_GLASS_OPENERS, forbidden=SIGNED_IN - BREAK_GLASS_OPENERS, subjects=BY_ROLE,
    ),
    "break-glass-queue": Page(ok=BREAK_GLASS_QUEUE, forbidden=SIGNED_IN - BREAK_GLASS_QUEUE, subjects=BY_ROLE),
    "break-glass-queue-item": Page(
        kwargs=lambda w: {"opening_id": w.glass_opening.pk}, methods=("GET", "POST"),
        post=lambda w: {"outcome": "signed_off", "note": "Justified: she was missing overnight"},
        ok=DPOS | BREAK_GLASS_REVIEWERS, post_ok=BREAK_GLASS_REVIEWERS,
    ),
    "case-close": case_page(
        ok=LEAD_MANAGERS, forbidden=CASE_TEAM - LEAD_MANAGERS, methods=("GET", "POST"),
        post=lambda w: {"reason": "outcomes_met", "outcome": "Back in school full time"},
    ),
    "case-reassign": case_page(
        ok=LEAD_MANAGERS, forbidden=CASE_TEAM - LEAD_MANAGERS, methods=("GET", "POST"),
        post=lambda w: {"key_worker": str(w.users[("own", "practitioner")].pk)},
    ),
    # Transfers to another partnership: the lead's managers and the key worker.
    "transfer-propose": case_page(
        ok=CASE_MANAGERS, forbidden=CASE_TEAM - CASE_MANAGERS, methods=("GET", "POST"),
        post=lambda w: {"to_partnership": str(w.neighbour.pk), "reason": "The family moved",
                        "summary": "Settled at a new address; needs a youth worker there", "arrangement": "close",
                        "consent": "not_sought", "lawful_basis": "safeguarding_children",
                        "consent_reason": "Asking would tell the exploiting group where the family went"},
    ),
    "transfer-withdraw": Page(
        kwargs=lambda w: {"case_id": w.moving_case.pk, "transfer_id": w.transfer.pk}, methods=("GET", "POST"),
        post=lambda w: {"reason": "The family is moving back"},
        ok=CASE_MANAGERS, forbidden=CASE_TEAM - CASE_MANAGERS,
    ),
    # Contexts (web/views/contexts.py)
    "context-list": Page(ok=CASEWORKERS, forbidden=SIGNED_IN - CASEWORKERS, subjects=BY_ROLE),
    "context-create": Page(
        methods=("GET", "POST"), post=lambda w: {"kind": "place", "name": "Matrix park", "known": "Seen there",
                                                 "risk_level": "amber", "lead_agency": ""},
        ok=CASEWORKERS, forbidden=SIGNED_IN - CASEWORKERS, subjects=BY_ROLE,
    ),
    "context-detail": Page(kwargs=lambda w: {"context_id": w.place.pk}, ok=CASEWORKERS),
    "context-share": Page(
        kwargs=lambda w: {"context_id": w.person_of_concern.pk}, methods=("GET", "POST"),
        post=lambda w: {"agencies": [str(w.agencies["hub"].pk)]},
        ok=SHARING_TEAM, forbidden=POC_READERS - SHARING_TEAM,
    ),
    "case-context-link-add": case_page(
        ok=CASE_TEAM, methods=("GET", "POST"), post=lambda w: {"context": str(w.online.pk), **grading(w)},
    ),
    "peer-link-add": case_page(
        ok=CASE_TEAM, methods=("GET", "POST"),
        post=lambda w: {"other_case": w.other_case.reference, "relationship": "sibling", **grading(w)},
    ),
    "context-intervention-add": Page(
        kwargs=lambda w: {"context_id": w.place.pk}, methods=("GET", "POST"),
        post=lambda w: {"kind": "lighting", "description": "New lights on the towpath",
                        "owner_agency": str(w.agencies["own"].pk), "status": "planned"},
        ok=CASEWORKERS,
    ),
    "context-intervention-update": Page(
        kwargs=lambda w: {"context_id": w.place.pk, "intervention_id": w.context_intervention.pk},
        methods=("GET", "POST"), post=lambda w: {"status": "active", **date_parts("started_on", _today())},
        ok=OWNER_TEAM, forbidden=CASEWORKERS - OWNER_TEAM,
    ),
    "context-note-add": Page(
        kwargs=lambda w: {"context_id": w.place.pk}, methods=("GET", "POST"),
        post=lambda w: {"kind": "information", "text": "Matrix entry"}, ok=CASEWORKERS,
    ),
    "context-note-correct": Page(
        kwargs=lambda w: {"context_id": w.place.pk, "note_id": w.context_note.pk}, methods=("GET", "POST"),
        post=lambda w: {"text": "Corrected: groups gather after dark"},
        ok=OWNER_TEAM, forbidden=CASEWORKERS - OWNER_TEAM,
    ),
    # Panels (web/views/panels.py)
    "panel-list": Page(ok=CASEWORKERS, forbidden=SIGNED_IN - CASEWORKERS, subjects=BY_ROLE),
    "panel-create": Page(
        methods=("GET", "POST"),
        post=lambda w: {"title": "Matrix panel", **date_parts("meets_on", _today() + dt.timedelta(days=14)),
                        "meets_time": "14:00", "location": "Town hall", "chair": ""},
        ok=CONVENERS, forbidden=SIGNED_IN - CONVENERS, subjects=BY_ROLE,
    ),
    "panel-detail": Page(kwargs=lambda w: {"panel_id": w.panel.pk}, ok=PANEL_VIEWERS),
    "panel-attendee-add": Page(
        kwargs=lambda w: {"panel_id": w.panel.pk}, methods=("GET", "POST"),
        post=lambda w: {"user": f"{w.users[('other', 'practitioner')].pk}:{w.agencies['other'].pk}"},
        ok=PANEL_ORGANISERS, forbidden=PANEL_VIEWERS - PANEL_ORGANISERS,
    ),
    "panel-agenda-add": Page(
        kwargs=lambda w: {"panel_id": w.panel.pk}, methods=("GET", "POST"),
        post=lambda w: {"case": "", "context": str(w.online.pk), "reason": "New concerns"},
        ok=PANEL_ORGANISERS, forbidden=PANEL_VIEWERS - PANEL_ORGANISERS,
    ),
    "panel-confidentiality": Page(
        kwargs=lambda w: {"panel_id": w.panel.pk}, methods=("GET", "POST"), post=lambda w: {},
        ok=PANEL_ATTENDEES, forbidden=PANEL_VIEWERS - PANEL_ATTENDEES,
    ),
    # Attendees who have not accepted the statement are sent to it (a redirect).
    "panel-papers": Page(kwargs=lambda w: {"panel_id": w.panel.pk}, ok=PANEL_ATTENDEES,
                         forbidden=PANEL_VIEWERS - PANEL_ATTENDEES),
    "panel-hold": Page(
        kwargs=lambda w: {"panel_id": w.panel.pk}, methods=("GET", "POST"), post=lambda w: {},
        ok=PANEL_ORGANISERS, forbidden=PANEL_VIEWERS - PANEL_ORGANISERS,
    ),
    "panel-minute-add": Page(
        kwargs=lambda w: {"panel_id": w.panel.pk}, methods=("GET", "POST"),
        post=lambda w: {"item": "", "kind": "discussion", "text": "Matrix minute"},
        ok=PANEL_ORGANISERS, forbidden=PANEL_VIEWERS - PANEL_ORGANISERS,
    ),
    "panel-minute-correct": Page(
        kwargs=lambda w: {"panel_id": w.panel.pk, "minute_id": w.minute.pk}, methods=("GET", "POST"),
        post=lambda w: {"text": "Discussed the towpath and the bridge"},
        ok=PANEL_ORGANISERS, forbidden=PANEL_VIEWERS - PANEL_ORGANISERS,
    ),
    "panel-action-add": Page(
        kwargs=lambda w: {"panel_id": w.panel.pk}, methods=("GET", "POST"),
        post=lambda w: {"item": "", "description": "Matrix action",
                        "owner": f"{w.users[('own', 'practitioner')].pk}:{w.agencies['own'].pk}",
                        **date_parts("due_on", _today() + dt.timedelta(days=10))},
        ok=PANEL_ORGANISERS, forbidden=PANEL_VIEWERS - PANEL_ORGANISERS,
    ),
    "panel-action-update": Page(
        kwargs=lambda w: {"panel_id": w.panel.pk, "action_id": w.panel_action.pk}, methods=("GET", "POST"),
        post=lambda w: {"status": "in_progress", "update": "Visit booked"},
        ok=ACTION_UPDATERS, forbidden=PANEL_VIEWERS - ACTION_UPDATERS,
    ),
    # The audit trail (safeguarding/urls.py)
    "case-history": case_page(ok=CASE_TEAM | BREAK_GLASS_READER),  # as a share reads it
    "case-access-log": case_page(ok=ACCESS_LOG_READERS),
    "young-person-access-log": Page(
        kwargs=lambda w: {"young_person_id": w.young_person.pk}, ok=ACCESS_LOG_READERS,
    ),
    "subject-access-list": Page(ok=DPOS, forbidden=SIGNED_IN - DPOS, subjects=BY_ROLE),
    "subject-access-new": Page(
        methods=("GET", "POST"),
        post=lambda w: {"q": str(w.young_person.pk), "young_person": str(w.young_person.pk),
                        **date_parts("received_on", _today()), "notes": "By e-mail"},
        ok=DPOS, forbidden=SIGNED_IN - DPOS, subjects=BY_ROLE,
    ),
    "subject-access-detail": Page(
        kwargs=lambda w: {"request_id": w.subject_access.pk}, ok=DPOS, forbidden=SIGNED_IN - DPOS, subjects=BY_ROLE,
    ),
    "subject-access-export-json": Page(
        kwargs=lambda w: {"request_id": w.subject_access.pk}, ok=DPOS, forbidden=SIGNED_IN - DPOS, subjects=BY_ROLE,
    ),
    "subject-access-export-document": Page(
        kwargs=lambda w: {"request_id": w.subject_access.pk}, ok=DPOS, forbidden=SIGNED_IN - DPOS, subjects=BY_ROLE,
    ),
    # Two-factor (agencies/urls.py): a verified person is sent on (or, on
    # set-up, may replace their app); the sweep's sessions are verified.
    "two-factor-verify": signed_in_only(),
    "two-factor-recovery": signed_in_only(),
    "two-factor-setup": signed_in_only(),
    "two-factor-recovery-codes-new": signed_in_only(methods=("GET", "POST"), post=lambda w: {}),
    # Signing in (django.contrib.auth.urls)
    "login": public(),
    "logout": Page(methods=("GET", "POST"), post=lambda w: {}, otherwise=SIGNED_OUT, anonymous=SIGNED_OUT,
                   overrides={"GET": NOT_ALLOWED}, writes=False, subjects=BY_ROLE),
    "password_change": signed_in_only(),
    "password_change_done": signed_in_only(),
    "password_reset": public(methods=("GET", "POST"), post=lambda w: {"email": "nobody@example.org"}),
    "password_reset_done": public(),
    "password_reset_confirm": Page(
        kwargs=lambda w: {"uidb64": "MQ", "token": "not-a-token"}, ok=SIGNED_IN, anonymous=OK, subjects=BY_ROLE,
    ),
    "password_reset_complete": public(),
    # Public endpoints: health, the API's schema and its documentation
    "health": public(),
    "api-schema": public(),
    "api-docs": public(),
    # OAuth: the token endpoints answer to client credentials, not to people
    # (they write tokens, which the sweep does not count as casework)
    "oauth2-token": Page(
        methods=("GET", "POST"),
        post=lambda w: {"grant_type": "client_credentials", "client_id": w.api_clients["own"].application.client_id,
                        "client_secret": w.secrets["own"]},
        ok=SIGNED_IN, anonymous=OK, overrides={"GET": NOT_ALLOWED}, subjects=BY_ROLE, writes=False,
    ),
    "oauth2-revoke-token": Page(
        methods=("GET", "POST"),
        post=lambda w: {"token": w.tokens["own"], "client_id": w.api_clients["own"].application.client_id,
                        "client_secret": w.secrets["own"]},
        ok=SIGNED_IN, anonymous=OK, overrides={"GET": NOT_ALLOWED}, subjects=BY_ROLE, writes=False,
    ),
}


# Break-glass opens the case to read: every page that acts on it answers the
# break-glass reader as it answers anyone else who may see but not act (403).
BREAK_GLASS_REFUSED = (
    "note-add", "note-correct", "intervention-add", "intervention-update", "review-complete", "share-add",
    "share-decline", "share-revoke", "case-close", "case-reassign", "transfer-propose", "case-context-link-add",
    "peer-link-add", "note-withhold", "intervention-withhold",
)
for _key in BREAK_GLASS_REFUSED:
    WEB[_key] = replace(WEB[_key], forbidden=WEB[_key].forbidden | BREAK_GLASS_READER)

# -- the partner API ------------------------------------------------------------

CLIENTS = AGENCY_RELATIONS  # one client of each agency of the world, every scope
CASE_CLIENTS = frozenset({"own", "shared"})


@dataclass(frozen=True)
class Call:
    scope: str | None  # the scope this method needs (None: any)
    success: int = 200
    body: Callable | None = None  # world -> a valid JSON body


@dataclass(frozen=True)
class Endpoint:
    methods: dict[str, Call]
    kwargs: Callable = lambda w: {}
    ok: frozenset[str] = frozenset(CLIENTS)
    forbidden: frozenset[str] = frozenset()
    otherwise: str = NOT_FOUND

    def expected(self, client: str) -> str:
        if client in self.ok:
            return OK
        return FORBIDDEN if client in self.forbidden else self.otherwise


def _person_referral(w) -> dict:
    return {"person": {"given_name": "Kai", "family_name": "Mensah", "date_of_birth": "2011-05-04"},
            "concerns": ["weapon"], "risk_level": "amber", "account": "Seen with a blade.", "consent": "young_person"}


API: dict[str, Endpoint] = {
    "api-v1:agencies": Endpoint({"GET": Call(None)}),
    "api-v1:referrals": Endpoint({
        "GET": Call("referrals:read"), "POST": Call("referrals:write", 201, _person_referral),
    }),
    "api-v1:referral": Endpoint(
        {"GET": Call("referrals:read")}, kwargs=lambda w: {"referral_id": w.accepted_referral.pk},
        # A partner system follows the referrals its own agency made; the case
        # behind one is a separate question (api-v1:case).
        ok=frozenset({"referrer"}),
    ),
    "api-v1:young-person-matches": Endpoint({
        "POST": Call("referrals:write", 200, lambda w: {"given_name": "Tyrone", "family_name": "Okafor",
                                                        "date_of_birth": w.young_person.date_of_birth.isoformat()}),
    }),
    "api-v1:cases": Endpoint({"GET": Call("cases:read")}),
    "api-v1:case": Endpoint({"GET": Call("cases:read")}, kwargs=lambda w: {"case_id": w.case.pk}, ok=CASE_CLIENTS),
    "api-v1:notes": Endpoint(
        {"GET": Call("cases:read"), "POST": Call("cases:write", 201, lambda w: {"kind": "contact", "text": "Via API"})},
        kwargs=lambda w: {"case_id": w.case.pk}, ok=CASE_CLIENTS,
    ),
    "api-v1:note-correct": Endpoint(
        {"POST": Call("cases:write", 201, lambda w: {"text": "Corrected via API"})},
        kwargs=lambda w: {"case_id": w.case.pk, "note_id": w.notes.owner_case.pk},
        ok=frozenset({"own"}), forbidden=frozenset({"shared"}),
    ),
    "api-v1:interventions": Endpoint(
        {"GET": Call("cases:read"), "POST": Call("cases:write", 201, lambda w: {
            "provider_agency": w.agencies["own"].pk, "kind": "mentoring", "goals": "Via API"})},
        kwargs=lambda w: {"case_id": w.case.pk}, ok=CASE_CLIENTS,
    ),
    "api-v1:intervention": Endpoint(
        {"PATCH": Call("cases:write", 200, lambda w: {"goals": "Changed via API"})},
        kwargs=lambda w: {"case_id": w.case.pk, "intervention_id": w.intervention.pk}, ok=CASE_CLIENTS,
    ),
    "api-v1:reviews": Endpoint({"GET": Call("cases:read")}, kwargs=lambda w: {"case_id": w.case.pk}, ok=CASE_CLIENTS),
    # Contexts: every agency of the partnership sees the place; a link is
    # made only to a case the client's agency may work on.
    "api-v1:contexts": Endpoint({
        "GET": Call("contexts:read"),
        "POST": Call("contexts:write", 201, lambda w: {"kind": "place", "name": "API park", "known": "Reported",
                                                       "risk_level": "amber"}),
    }),
    "api-v1:context": Endpoint({"GET": Call("contexts:read")}, kwargs=lambda w: {"context_id": w.place.pk}),
    "api-v1:context-links": Endpoint({"GET": Call("contexts:read")}, kwargs=lambda w: {"context_id": w.place.pk}),
    "api-v1:case-context-links": Endpoint(
        {"GET": Call("contexts:read"), "POST": Call("contexts:write", 201, lambda w: {
            "context": w.online.pk, "source": "Police report", "information_date": _today().isoformat(),
            "source_evaluation": "2", "intelligence_assessment": "C"})},
        kwargs=lambda w: {"case_id": w.case.pk}, ok=CASE_CLIENTS,
    ),
    # Anything else under /api/v1/: a 404 problem, after authentication.
    "api-v1:not-found": Endpoint({"GET": Call(None), "POST": Call(None)}, ok=frozenset()),
}


# -- the Django admin: one group, every route under admin/ -------------------------

# What the superuser (a system administrator) gets on each admin route;
# everyone else, signed in or not, is sent to the admin's sign-in page.
ADMIN: dict[str, str] = {
    "admin/": OK,
    "admin/login/": OK,  # redirects a signed-in superuser to the index
    "admin/logout/": NOT_ALLOWED,  # GET: a POST signs out
    "admin/password_change/": OK,
    "admin/password_change/done/": OK,
    "admin/autocomplete/": FORBIDDEN,  # without a field to complete
    "admin/jsi18n/": OK,
    "admin/r/<path:content_type_id>/<path:object_id>/": NOT_FOUND,  # agencies have no page outside the admin
    "admin/agencies/agency/": OK,
    "admin/agencies/agency/add/": OK,
    "admin/agencies/agency/<path:object_id>/history/": OK,
    "admin/agencies/agency/<path:object_id>/delete/": FORBIDDEN,  # deactivated, never deleted
    "admin/agencies/agency/<path:object_id>/change/": OK,
    "admin/agencies/agency/<path:object_id>/": OK,  # redirects to change/
    "admin/agencies/partnership/": OK,
    "admin/agencies/partnership/add/": OK,
    "admin/agencies/partnership/<path:object_id>/history/": OK,
    "admin/agencies/partnership/<path:object_id>/delete/": FORBIDDEN,  # deactivated, never deleted
    "admin/agencies/partnership/<path:object_id>/change/": OK,
    "admin/agencies/partnership/<path:object_id>/": OK,
    "admin/agencies/informationsharingagreement/": OK,
    "admin/agencies/informationsharingagreement/add/": OK,
    "admin/agencies/informationsharingagreement/<path:object_id>/history/": OK,
    "admin/agencies/informationsharingagreement/<path:object_id>/delete/": FORBIDDEN,
    "admin/agencies/informationsharingagreement/<path:object_id>/change/": OK,
    "admin/agencies/informationsharingagreement/<path:object_id>/": OK,
    "admin/auth/user/<id>/password/": OK,
    "admin/auth/user/": OK,
    "admin/auth/user/add/": OK,
    "admin/auth/user/<path:object_id>/history/": OK,
    "admin/auth/user/<path:object_id>/delete/": FORBIDDEN,  # deactivated, never deleted
    "admin/auth/user/<path:object_id>/change/": OK,
    "admin/auth/user/<path:object_id>/": OK,
    "admin/^(?P<app_label>agencies|auth)/$": OK,
    "admin/(?P<url>.*)$": NOT_FOUND,  # any other path
}


def admin_expected(route: str, subject: str) -> str:
    if subject == "superuser":
        return ADMIN[route]
    if route == "admin/login/":
        return OK  # the sign-in page itself
    if route == "admin/logout/":
        return TO_ADMIN_INDEX  # nobody to sign out
    return ADMIN_LOGIN


def admin_values(route: str, w) -> dict:
    """Values for the admin route's parameters: a real agency, agreement or person."""
    objects = {"agency": w.agencies["own"], "informationsharingagreement": w.agreement, "user": w.users[("own", "manager")],
               "partnership": w.case.partnership}
    model = next((name for name in objects if f"/{name}/" in route), "agency")
    return {
        "object_id": objects[model].pk, "id": objects[model].pk, "app_label": "agencies", "url": "no-such-page/",
        "content_type_id": ContentType.objects.get_for_model(type(objects[model])).pk,
    }


# -- the URL configuration ------------------------------------------------------


@dataclass(frozen=True)
class Served:
    key: str  # the table key: "namespace:name", or the route when unnamed
    route: str  # the full route, as written in the URL configuration


def served_patterns() -> list[Served]:
    """Every pattern of the root URLconf, includes recursed."""
    found = []

    def walk(resolver, prefix: str, namespace: str) -> None:
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                inner = f"{namespace}{item.namespace}:" if item.namespace else namespace
                walk(item, prefix + str(item.pattern), inner)
            elif isinstance(item, URLPattern):
                route = prefix + str(item.pattern)
                found.append(Served(f"{namespace}{item.name}" if item.name else route, route))

    walk(get_resolver(), "", "")
    return found


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def build_path(route: str, values: dict) -> str:
    """A concrete path for a route (path() or re_path() syntax) and values
    for its parameters; a bare catch-all (``.*``) becomes a path nobody serves."""
    path = _PARAM.sub(lambda m: str(values[m.group(1) or m.group(2)]), route)
    path = path.replace("^", "").replace("$", "").replace(".*", "no-such-endpoint/")
    return "/" + path
