"""The partner API's operations: one view per operation, thin. Each parses
its input, calls a selector (reads) or a service (writes) as the client's
actor, and renders a small output serializer. Access is decided only by
``safeguarding.access`` (through ``ApiView.get_case`` and the selectors);
every read or change of case data is in the access log, channel "api"."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.response import Response

from agencies import selectors as agency_selectors
from agencies.models import Agency
from api import serializers as s
from api.base import IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN, ApiView, idempotent
from casework import matching, selectors, services
from contextwork import selectors as context_selectors
from contextwork import services as context_services
from lib.errors import DomainError
from referrals.models import YoungPerson
from safeguarding import access

PROBLEM = "application/problem+json"


def _problems(*codes: int) -> dict:
    descriptions = {
        400: "Invalid input: `errors` names each field, query parameter or header at fault (a query "
             "parameter the operation does not take included)",
        401: "No valid bearer token",
        403: "The client lacks the scope this operation needs, or its agency may not do this",
        404: "No such object, or not visible to your agency (the same answer for both)",
        409: "The Idempotency-Key was used with a different request",
        429: "Too many requests: wait for `Retry-After` seconds",
    }
    return {
        (code, PROBLEM): OpenApiResponse(s.Problem, description=descriptions[code])
        # Every operation may answer 400: a query parameter it does not take.
        for code in sorted({400, 401, 403, 429, *codes})
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                        "pattern": IDEMPOTENCY_KEY_PATTERN},
    OpenApiParameter.HEADER, required=False,
    description=(
        f"Any unique string of 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters, no spaces (a UUID, "
        "say). A retry with the same key and body returns the first response and creates nothing new; the same "
        f"key with another body is a 409. Keys are remembered for {settings.API_IDEMPOTENCY_DAYS} days."
    ),
)
def _path_id(name: str, description: str) -> OpenApiParameter:
    # As api.urls.IdConverter takes it: up to 18 digits.
    return OpenApiParameter(
        name, {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}, OpenApiParameter.PATH,
        description=description,
    )


CASE_ID = _path_id("case_id", "The case's id")
REFERRAL_ID = _path_id("referral_id", "The referral's id")
NOTE_ID = _path_id("note_id", "The chronology entry's id")
INTERVENTION_ID = _path_id("intervention_id", "The intervention's id")


def _agency_stub(value):
    # The services look the agency up again (and refuse inactive ones).
    return Agency(pk=value) if value is not None else None


# ---------------------------------------------------------------------------
# Agencies
# ---------------------------------------------------------------------------


class AgencyList(ApiView):
    required_scope = None  # the directory holds no case data: any client
    query_parameters = {"GET": s.PageQuery}
    ordering = ("name", "id")

    @extend_schema(
        operation_id="agencies_list", tags=["agencies"], summary="The partnership's directory",
        description="Every active partner agency, by name. Use the ids as `provider_agency` of an intervention "
                    "or `person.school` of a referral. Needs any scope.",
        parameters=[s.PageQuery],
        responses={200: s.page_of(s.AgencyOut), **_problems(404)},
    )
    def get(self, request):
        agencies = agency_selectors.directory(partnership=self.actor.partnership_id)
        return self.paginate(agencies, s.AgencyOut, object_type=None)


# ---------------------------------------------------------------------------
# Referrals
# ---------------------------------------------------------------------------

REFERRAL_EXAMPLE = {
    "person": {
        "given_name": "Jordan", "family_name": "Ellis", "date_of_birth": "2010-04-12",
        "gender": "male", "postcode": "SE15 4QF",
    },
    "concerns": ["weapon", "gang_association"],
    "risk_level": "amber",
    "account": "Seen with a knife outside the school gates on Tuesday; says he carries it for protection.",
    "consent": "young_person",
    "partner_reference": "SIMS-2026-00042",
}


class ReferralListCreate(ApiView):
    required_scope = {"GET": "referrals:read", "POST": "referrals:write"}
    query_parameters = {"GET": s.ReferralFilter}

    @extend_schema(
        operation_id="referrals_list", tags=["referrals"], summary="List your agency's referrals",
        description="The referrals your agency made, newest first, with their status and decision. "
                    "`case` is set only when the case is shared with (or led by) your agency. "
                    "Needs `referrals:read`.",
        parameters=[s.ReferralFilter],
        responses={200: s.page_of(s.ReferralOut), **_problems(400, 404)},
    )
    def get(self, request):
        filters = self.filters()
        referrals = selectors.agency_referrals(self.actor, **filters)
        return self.paginate(referrals, s.ReferralOut, object_type="referral")

    @extend_schema(
        operation_id="referrals_create", tags=["referrals"], summary="Make a referral",
        description="Refer a young person to the partnership's hub. Give a new young person's details in "
                    "`person`, or the id of one your agency referred before in `young_person`. Immediate "
                    "danger is not a referral: call 999. Without consent, give `lawful_basis` and "
                    "`consent_reason`. Needs `referrals:write`.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.ReferralIn,
        examples=[OpenApiExample("A new young person", value=REFERRAL_EXAMPLE, request_only=True)],
        responses={201: s.ReferralOut, **_problems(400, 404, 409)},
    )
    @idempotent
    def post(self, request):
        data = dict(self.parse(s.ReferralIn, request.data))
        person = data.pop("person", None)
        if person is not None:
            person = dict(person)
            if "school" in person:
                person["school"] = _agency_stub(person["school"])
        young_person_id = data.pop("young_person", None)
        referral = services.referral_submit(
            actor=self.actor, person=person,
            young_person=YoungPerson(pk=young_person_id) if young_person_id is not None else None, **data,
        )
        referral = selectors.agency_referrals(self.actor).get(pk=referral.pk)
        return Response(self.out(s.ReferralOut, referral), status=status.HTTP_201_CREATED)


class ReferralDetail(ApiView):
    required_scope = "referrals:read"

    @extend_schema(
        operation_id="referrals_read", tags=["referrals"], summary="Read one of your agency's referrals",
        description="Its status, decision and, once accepted and visible to your agency, its case. "
                    "Needs `referrals:read`.",
        parameters=[REFERRAL_ID],
        responses={200: s.ReferralOut, **_problems(404)},
    )
    def get(self, request, referral_id):
        return Response(self.out(s.ReferralOut, selectors.agency_referral(self.actor, referral_id)))


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


class CaseList(ApiView):
    required_scope = "cases:read"
    query_parameters = {"GET": s.CaseFilter}
    # The caseload index's order (the case id, newest first): see selectors.cases.
    ordering = ("-listed_id",)
    # The page's bound also on the case's own id (the same value): without it
    # PostgreSQL may merge-join from the newest case down to the page
    # (measured: 19 ms for a page deep in a 75,000-case caseload).
    position_mirrors = ("id",)

    @extend_schema(
        operation_id="cases_list", tags=["cases"], summary="List the cases your agency may see",
        description="Cases your agency leads or holds an active share of, newest first, with `count`, the "
                    "total of the filtered list. Filters: `status`, `risk`, "
                    "`key_worker` (a user id), `review_due_before` (a date), `updated_since` (a date-time). "
                    "Needs `cases:read`.",
        parameters=[s.CaseFilter],
        responses={200: s.page_of(s.CaseOut, counted=True), **_problems(400, 404)},
    )
    def get(self, request):
        filters = self.filters()
        if "risk" in filters:
            filters["risk_level"] = filters.pop("risk")
        cases, total = selectors.cases(self.actor, **filters)
        extra = ("listed_id", "caseload_total") if "caseload_total" in cases.query.annotations else ("listed_id",)
        return self.paginate(
            s.CaseRows.values(cases, *extra), object_type="case", render=s.CaseRows.render, total=total,
        )


class CaseDetail(ApiView):
    required_scope = "cases:read"

    @extend_schema(
        operation_id="cases_read", tags=["cases"], summary="Read a case",
        description="One case your agency may see. Needs `cases:read`.",
        parameters=[CASE_ID],
        responses={200: s.CaseOut, **_problems(404)},
    )
    def get(self, request, case_id):
        case = self.get_case(log=True)
        (row,) = s.CaseRows.render(s.CaseRows.values(selectors.the_case(self.actor, case)))
        return Response(row)


# ---------------------------------------------------------------------------
# Chronology
# ---------------------------------------------------------------------------


class NoteListCreate(ApiView):
    ordering = ("-occurred_at", "-id")

    required_scope = {"GET": "cases:read", "POST": "cases:write"}
    query_parameters = {"GET": s.PageQuery}

    @extend_schema(
        operation_id="case_notes_list", tags=["chronology"], summary="Read a case's chronology",
        description="Entries newest first. Entries another agency kept to itself never appear. A correction "
                    "is a new entry whose `corrects` is the id of the entry it corrects. Needs `cases:read`.",
        parameters=[CASE_ID, s.PageQuery],
        responses={200: s.page_of(s.NoteOut), **_problems(404)},
    )
    def get(self, request, case_id):
        case = self.get_case()
        return self.paginate(selectors.case_notes(self.actor, case), s.NoteOut, object_type="case_note", case=case)

    @extend_schema(
        operation_id="case_notes_create", tags=["chronology"], summary="Add a chronology entry",
        description="Add an entry to an open case's chronology, written by your client for your agency. "
                    "`visibility` `agency` keeps it to your agency. Entries are never changed: correct one "
                    "with `.../correct/`. Needs `cases:write`.",
        parameters=[CASE_ID, IDEMPOTENCY_KEY],
        request=s.NoteIn,
        examples=[OpenApiExample("A contact", request_only=True, value={
            "kind": "contact", "text": "Met Jordan at school with his head of year; agreed weekly check-ins.",
        })],
        responses={201: s.NoteOut, **_problems(400, 404, 409)},
    )
    @idempotent
    def post(self, request, case_id):
        data = self.parse(s.NoteIn, request.data)
        case = self.get_case()
        note = services.case_note_add(actor=self.actor, case=case, **data)
        return Response(self.out(s.NoteOut, selectors.case_note(self.actor, case, note.pk)), status=status.HTTP_201_CREATED)


class NoteCorrect(ApiView):
    required_scope = "cases:write"

    @extend_schema(
        operation_id="case_notes_correct", tags=["chronology"], summary="Correct a chronology entry",
        description="Adds a correction pointing at the entry; the original is kept unchanged. Only entries "
                    "your agency wrote can be corrected. Needs `cases:write`.",
        parameters=[CASE_ID, NOTE_ID, IDEMPOTENCY_KEY],
        request=s.NoteCorrectionIn,
        examples=[OpenApiExample("A correction", request_only=True, value={
            "text": "Met Jordan at school with his head of year and his mother; agreed weekly check-ins.",
        })],
        responses={201: s.NoteOut, **_problems(400, 404, 409)},
    )
    @idempotent
    def post(self, request, case_id, note_id):
        data = self.parse(s.NoteCorrectionIn, request.data)
        case = self.get_case()
        note = selectors.case_note(self.actor, case, note_id)
        correction = services.case_note_correct(actor=self.actor, note=note, text=data["text"])
        return Response(
            self.out(s.NoteOut, selectors.case_note(self.actor, case, correction.pk)), status=status.HTTP_201_CREATED,
        )


# ---------------------------------------------------------------------------
# Interventions and reviews
# ---------------------------------------------------------------------------


class InterventionListCreate(ApiView):
    required_scope = {"GET": "cases:read", "POST": "cases:write"}
    query_parameters = {"GET": s.PageQuery}

    @extend_schema(
        operation_id="case_interventions_list", tags=["interventions"], summary="List a case's interventions",
        description="The support offers recorded on a case you may see, newest first, with their status, "
                    "dates and sessions. Needs `cases:read`.",
        parameters=[CASE_ID, s.PageQuery],
        responses={200: s.page_of(s.InterventionOut), **_problems(404)},
    )
    def get(self, request, case_id):
        case = self.get_case()
        return self.paginate(
            selectors.case_interventions(self.actor, case), s.InterventionOut, object_type="intervention", case=case,
        )

    @extend_schema(
        operation_id="case_interventions_create", tags=["interventions"], summary="Record an intervention",
        description="A support offer on an open case. The provider may be any active agency. A `completed` or "
                    "`ended_early` intervention needs `ended_on`; an `active` one `started_on`. "
                    "Needs `cases:write`.",
        parameters=[CASE_ID, IDEMPOTENCY_KEY],
        request=s.InterventionIn,
        examples=[OpenApiExample("Mentoring", request_only=True, value={
            "provider_agency": 3, "kind": "mentoring", "goals": "Weekly mentoring; back in full-time education.",
            "status": "planned", "planned_start": "2026-12-01", "sessions_offered": 10,
        })],
        responses={201: s.InterventionOut, **_problems(400, 404, 409)},
    )
    @idempotent
    def post(self, request, case_id):
        data = dict(self.parse(s.InterventionIn, request.data))
        data["provider_agency"] = _agency_stub(data["provider_agency"])
        case = self.get_case()
        intervention = services.intervention_record(actor=self.actor, case=case, **data)
        intervention = selectors.case_intervention(self.actor, case, intervention.pk)
        return Response(self.out(s.InterventionOut, intervention), status=status.HTTP_201_CREATED)


class InterventionUpdate(ApiView):
    required_scope = "cases:write"

    @extend_schema(
        operation_id="case_interventions_update", tags=["interventions"], summary="Update an intervention",
        description="Change its status, dates, goals, sessions or outcome; give only what changes. A finished "
                    "intervention cannot be reopened. Needs `cases:write`.",
        parameters=[CASE_ID, INTERVENTION_ID],
        request=s.InterventionChangeIn,
        examples=[OpenApiExample("Started", request_only=True, value={
            "status": "active", "started_on": "2026-12-02",
        })],
        responses={200: s.InterventionOut, **_problems(400, 404)},
    )
    def patch(self, request, case_id, intervention_id):
        changes = self.parse(s.InterventionChangeIn, request.data)
        case = self.get_case()
        intervention = selectors.case_intervention(self.actor, case, intervention_id)
        services.intervention_update(actor=self.actor, intervention=intervention, **changes)
        return Response(self.out(s.InterventionOut, selectors.case_intervention(self.actor, case, intervention.pk)))


class ReviewList(ApiView):
    required_scope = "cases:read"
    query_parameters = {"GET": s.PageQuery}
    ordering = ("-due_on", "-id")

    @extend_schema(
        operation_id="case_reviews_list", tags=["reviews"], summary="List a case's reviews",
        description="Done and due reviews, latest due date first. Needs `cases:read`.",
        parameters=[CASE_ID, s.PageQuery],
        responses={200: s.page_of(s.ReviewOut), **_problems(404)},
    )
    def get(self, request, case_id):
        case = self.get_case()
        return self.paginate(selectors.case_reviews(self.actor, case), s.ReviewOut, object_type="review", case=case)



# ---------------------------------------------------------------------------
# Young-person matching
# ---------------------------------------------------------------------------

MATCH_EXAMPLE = {
    "given_name": "Jordan", "family_name": "Ellis", "date_of_birth": "2010-04-12", "postcode": "SE15 4QF",
}


class YoungPersonMatches(ApiView):
    required_scope = "referrals:write"  # matching serves making a referral

    @extend_schema(
        operation_id="young_people_match", tags=["referrals"], summary="Find a young person's existing record",
        description=(
            "Before referring, check whether the partnership already knows the young person. Give a name and "
            "a date of birth, or a unique pupil number or NHS number; more details (postcode, school, gender) "
            "sharpen the scores. `candidates` are likely records among the young people your agency may already "
            "see, best first, with the reasons for each score; refer one of them with `young_person` in "
            "`POST /api/v1/referrals/`. If a likely record exists beyond your agency's reach you get only "
            "`possible_existing_record: true` and a `message`, never its details: refer with `person` and the "
            "hub will link the records. A POST so that personal details stay out of URLs and server logs; it "
            "changes nothing (only the access log records that your client searched, with counts and no "
            "personal data), so it takes no `Idempotency-Key`: repeat it freely. Needs `referrals:write`, the "
            "scope for making referrals, which this search serves."
        ),
        request=s.MatchIn,
        examples=[
            OpenApiExample("Name and date of birth", value=MATCH_EXAMPLE, request_only=True),
            OpenApiExample("A record your agency may see", response_only=True, status_codes=["200"], value={
                "possible_existing_record": False, "message": "", "candidates": [{
                    "id": 1042, "score": 17.5, "likely": True,
                    "reasons": ["Given names one or two typing slips apart", "Family names the same",
                                "Same date of birth", "Same postcode"],
                    "given_name": "Jordon", "family_name": "Ellis", "preferred_name": "",
                    "date_of_birth": "2010-04-12", "postcode": "SE15 4QF",
                }],
            }),
            OpenApiExample("A likely record beyond your agency's reach", response_only=True, status_codes=["200"],
                           value={"possible_existing_record": True, "message": matching.HIDDEN_RECORD_MESSAGE,
                                  "candidates": []}),
        ],
        responses={200: s.MatchOut, **_problems(400)},
    )
    def post(self, request):
        details = dict(self.parse(s.MatchIn, request.data))
        try:
            result = matching.young_person_candidates(self.actor, details=details)
        except DomainError as exc:
            # The matcher names fields "details.<name>"; the API's body is the details.
            field = exc.field or ""
            field = field.removeprefix("details").removeprefix(".") or None
            # Names were given (MatchIn saw to that) but none holds a letter
            # the matcher reads (casework.matching.fold).
            code = "unsearchable" if field is None and exc.code == "required" else exc.code
            raise DomainError(exc.message, field=field, code=code) from exc
        return Response(s.MatchOut({
            "possible_existing_record": result.possible_existing_record,
            "message": result.message,
            "candidates": result.candidates,
        }).data)



# ---------------------------------------------------------------------------
# Contexts
# ---------------------------------------------------------------------------

CONTEXT_ID = _path_id("context_id", "The context's id")
CONTEXT_EXAMPLE = {
    "kind": "peer_group", "name": "Canal Street group", "risk_level": "red",
    "known": "A group of older males seen with younger children near the canal; linked to a county line.",
    "street_names": ["Blade", "K-Dog"],
}
LINK_EXAMPLE = {
    "context": 12, "source": "Police intelligence report 4471", "information_date": "2026-11-20",
    "source_evaluation": "2", "intelligence_assessment": "B", "handling_code": "P",
}


def _context_row(context) -> dict:
    return s.ContextOut(context).data


class ContextListCreate(ApiView):
    required_scope = {"GET": "contexts:read", "POST": "contexts:write"}
    query_parameters = {"GET": s.PageQuery}

    @extend_schema(
        operation_id="contexts_list", tags=["contexts"], summary="List the contexts your agency may see",
        description="Places, peer groups, online spaces and persons of concern of your partnership, newest "
                    "first. A person of concern is listed only for the agencies its recorder chose. "
                    "Needs `contexts:read`.",
        parameters=[s.PageQuery],
        responses={200: s.page_of(s.ContextOut), **_problems(404)},
    )
    def get(self, request):
        contexts = context_selectors.contexts_listed(self.actor)
        return self.paginate(contexts, s.ContextOut, object_type=None)

    @extend_schema(
        operation_id="contexts_create", tags=["contexts"], summary="Record a context",
        description="A place (optionally with a map point and ward), a peer group (with its members' street "
                    "names), an online space or, for the police and the hub only, a person of concern, kept to "
                    "your agency and the agencies in `restricted_to`. Needs `contexts:write`.",
        parameters=[IDEMPOTENCY_KEY],
        request=s.ContextIn,
        examples=[OpenApiExample("A peer group", value=CONTEXT_EXAMPLE, request_only=True)],
        responses={201: s.ContextOut, **_problems(400, 404, 409)},
    )
    @idempotent
    def post(self, request):
        data = dict(self.parse(s.ContextIn, request.data))
        data["lead_agency"] = _agency_stub(data.get("lead_agency"))
        data["restricted_to"] = [_agency_stub(pk) for pk in data.get("restricted_to", [])]
        context = context_services.context_record(actor=self.actor, **data)
        context = access.get_context(self.actor, context.pk, log=False)
        return Response(_context_row(context), status=status.HTTP_201_CREATED)


class ContextDetail(ApiView):
    required_scope = "contexts:read"

    @extend_schema(
        operation_id="contexts_read", tags=["contexts"], summary="Read a context",
        description="One context your agency may see, with how many linked cases your agency may see and how "
                    "many it may not (counted, never named). Needs `contexts:read`.",
        parameters=[CONTEXT_ID],
        responses={200: s.ContextDetailOut, **_problems(404)},
    )
    def get(self, request, context_id):
        context = access.get_context(self.actor, context_id)
        data = dict(_context_row(context))
        counts = context_selectors.context_link_counts(self.actor, context)
        data.update(linked_cases_visible=counts[0], linked_cases_not_visible=counts[1])
        return Response(data)


class ContextLinkList(ApiView):
    required_scope = "contexts:read"
    query_parameters = {"GET": s.PageQuery}

    @extend_schema(
        operation_id="context_links_list", tags=["contexts"], summary="List a context's links to cases",
        description="The links of the context to cases your agency may see (with `cases:read`), newest first, "
                    "each with its source, date, 3x5x2 grade and recording agency. Links to cases your agency "
                    "may not see are left out: the context's `linked_cases_not_visible` counts them. "
                    "Needs `contexts:read`.",
        parameters=[CONTEXT_ID, s.PageQuery],
        responses={200: s.page_of(s.ContextLinkOut), **_problems(404)},
    )
    def get(self, request, context_id):
        context = access.get_context(self.actor, context_id, log=False)
        response = self.paginate(context_selectors.context_links_seen(self.actor, context), s.ContextLinkOut,
                                 object_type=None)
        context_selectors.log_cases_shown(self.actor, [row["case"]["id"] for row in response.data["results"]],
                                          via="api", detail={"context": context.pk})
        return response


class CaseContextLinks(ApiView):
    required_scope = {"GET": "contexts:read", "POST": "contexts:write"}
    query_parameters = {"GET": s.PageQuery}

    @extend_schema(
        operation_id="case_context_links_list", tags=["contexts"], summary="List a case's links to contexts",
        description="The contexts a case your agency may see is linked to (those your agency may see), with "
                    "source, date and grade. Needs `contexts:read` (and `cases:read` for the case).",
        parameters=[CASE_ID, s.PageQuery],
        responses={200: s.page_of(s.ContextLinkOut), **_problems(404)},
    )
    def get(self, request, case_id):
        case = self.get_case()
        links = context_selectors.case_context_links(self.actor, case)
        return self.paginate(links, s.ContextLinkOut, object_type="context_link", case=case)

    @extend_schema(
        operation_id="case_context_links_create", tags=["contexts"], summary="Link a case to a context",
        description="Record that a case your agency may work on is linked to a context your agency may see, "
                    "with the source of the information, its date and its 3x5x2 grade. Needs `contexts:write` "
                    "(and `cases:write` for the case).",
        parameters=[CASE_ID, IDEMPOTENCY_KEY],
        request=s.ContextLinkIn,
        examples=[OpenApiExample("Police intelligence", value=LINK_EXAMPLE, request_only=True)],
        responses={201: s.ContextLinkOut, **_problems(400, 404, 409)},
    )
    @idempotent
    def post(self, request, case_id):
        data = dict(self.parse(s.ContextLinkIn, request.data))
        case = self.get_case()
        link = context_services.context_link_record(actor=self.actor, case=case, **data)
        link = context_selectors.case_context_links(self.actor, case).get(pk=link.pk)
        return Response(s.ContextLinkOut(link).data, status=status.HTTP_201_CREATED)


@extend_schema(exclude=True)
class NotFound(ApiView):
    """Any other path under /api/v1/: a 404 problem, after authentication
    (so an unauthenticated caller learns nothing about the URL space)."""

    def parse_query(self, request) -> dict:
        return {}  # no operation here, so no parameters to judge: the 404 says it all

    def dispatch_not_found(self, request, *args, **kwargs):
        raise access.NotVisible("No such resource")

    get = post = put = patch = delete = dispatch_not_found
