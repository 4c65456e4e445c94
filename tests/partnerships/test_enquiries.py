"""Matching across partnerships: when a hub screens a referral, a likely
record of the young person in another partnership shows only as "a possible
existing record in <partnership>", never its details; the screener may ask
that partnership's hub, which answers. Namesakes and siblings elsewhere are
not "likely"; nobody but the screener learns anything."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from agencies.models import Role
from casework import enquiries
from lib.errors import DomainError
from referrals.models import EnquiryStatus, PartnershipEnquiry
from safeguarding import access
from safeguarding.models import AccessEvent
from tests import factories as f
from tests.partnerships.test_matrix import working_in

BORN = dt.date(2010, 4, 12)


@pytest.fixture
def elsewhere(boroughs, cast):
    """A referral in the cast's borough about Jordan Ellis; Northbank holds a
    record of the same young person, a namesake born another day and a
    sibling with the same family name and birthday's year."""
    person = f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN,
                                  recorded_by=cast.referrer)
    referral = f.ReferralFactory(young_person=person, referring_agency=cast.referrer)
    known = f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN, partnership=boroughs.b,
                                 recorded_by=boroughs.youth_b, postcode="N1 7AA")
    return referral, known


def screener_a(cast):
    return cast.actor("hub", Role.HUB_SCREENER)


def screener_b(boroughs):
    return access.actor_for_user(boroughs.people[("hub_b", Role.HUB_SCREENER)], partnership=boroughs.b.pk)


def test_a_screener_learns_only_which_partnership_holds_a_likely_record(elsewhere, boroughs, cast):
    referral, _known = elsewhere
    assert enquiries.records_elsewhere(screener_a(cast), referral) == [boroughs.b]
    for key, role in (("hub", Role.MANAGER), ("owner", Role.PRACTITIONER), ("referrer", Role.PRACTITIONER),
                      ("outsider", Role.DPO)):
        assert enquiries.records_elsewhere(cast.actor(key, role), referral) == [], (key, role)


def test_namesakes_and_siblings_elsewhere_are_not_likely(boroughs, cast):
    person = f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN,
                                  recorded_by=cast.referrer)
    referral = f.ReferralFactory(young_person=person, referring_agency=cast.referrer)
    f.YoungPersonFactory(given_name="Jordan", family_name="Ellis", date_of_birth=BORN + dt.timedelta(days=400),
                         partnership=boroughs.b, recorded_by=boroughs.youth_b)
    f.YoungPersonFactory(given_name="Tiana", family_name="Ellis", date_of_birth=BORN, partnership=boroughs.b,
                         recorded_by=boroughs.youth_b)
    assert enquiries.records_elsewhere(screener_a(cast), referral) == []


def test_the_screener_asks_and_the_other_hub_answers(elsewhere, boroughs, cast):
    referral, _known = elsewhere
    enquiry = enquiries.enquiry_send(actor=screener_a(cast), referral=referral, to_partnership=boroughs.b,
                                     message="Is Jordan known to you? Could your lead agency share the case?")
    assert (enquiry.given_name, enquiry.family_name, enquiry.date_of_birth) == ("Jordan", "Ellis", BORN)
    assert AccessEvent.objects.filter(action="ask_partnership", object_id=str(referral.pk)).exists()
    with pytest.raises(DomainError) as twice:
        enquiries.enquiry_send(actor=screener_a(cast), referral=referral, to_partnership=boroughs.b, message="Again")
    assert twice.value.code == "already_asked"
    # The asked hub sees it; the asking side's agencies other than the hub do not.
    hub_b = screener_b(boroughs)
    assert list(access.enquiries_received(hub_b)) == [enquiry]
    assert not access.enquiries_received(screener_a(cast)).exists()
    youth_b = access.actor_for_user(boroughs.people[("youth_b", Role.PRACTITIONER)], partnership=boroughs.b.pk)
    with pytest.raises(access.NotVisible):
        enquiries.enquiry_answer(actor=youth_b, enquiry=enquiry, answer="Yes")
    answered = enquiries.enquiry_answer(actor=hub_b, enquiry=enquiry,
                                        answer="Known to Northbank Youth; they will propose a transfer.")
    assert answered.status == EnquiryStatus.ANSWERED
    assert list(access.enquiries_sent(screener_a(cast), referral)) == [answered]
    with pytest.raises(DomainError):
        enquiries.enquiry_answer(actor=hub_b, enquiry=enquiry, answer="Again")


def test_only_a_partnership_holding_a_likely_record_may_be_asked(elsewhere, boroughs, cast):
    referral, known = elsewhere
    third = f.PartnershipFactory(name="Eastbank", slug="eastbank")
    with pytest.raises(DomainError):
        enquiries.enquiry_send(actor=screener_a(cast), referral=referral, to_partnership=third, message="Known?")
    with pytest.raises(access.NotVisible):
        enquiries.enquiry_send(actor=cast.actor("hub", Role.MANAGER), referral=referral, to_partnership=boroughs.b,
                               message="Known?")
    with pytest.raises(DomainError) as blank:
        enquiries.enquiry_send(actor=screener_a(cast), referral=referral, to_partnership=boroughs.b, message="  ")
    assert blank.value.field == "message"
    assert not PartnershipEnquiry.objects.exists()


def test_pages(client, elsewhere, boroughs, cast):
    referral, known = elsewhere
    client.force_login(cast.user("hub", Role.HUB_SCREENER))
    page = client.get(reverse("screening", args=[referral.pk])).content.decode()
    assert "A possible existing record in Northbank" in page
    assert "N1 7AA" not in page  # nothing of the record itself
    ask = reverse("screening-ask", args=[referral.pk, boroughs.b.pk])
    assert client.get(ask).status_code == 200
    assert client.post(ask, {"message": "Known to you?"}).status_code == 302
    enquiry = PartnershipEnquiry.objects.get()
    # Asking about a partnership with no likely record is a 404.
    third = f.PartnershipFactory(name="Eastbank", slug="eastbank")
    assert client.get(reverse("screening-ask", args=[referral.pk, third.pk])).status_code == 404
    # The other hub's pages; everyone else: 404 for the enquiry, 403 for the list.
    assert client.get(reverse("enquiry-detail", args=[enquiry.pk])).status_code == 404
    working_in(client, boroughs.people[("hub_b", Role.HUB_SCREENER)], boroughs.b)
    assert "Enquiries from other partnerships (1 waiting" in client.get(reverse("home")).content.decode()
    assert "Jordan Ellis" in client.get(reverse("enquiries")).content.decode()
    answered = client.post(reverse("enquiry-detail", args=[enquiry.pk]), {"answer": "Known; a transfer will follow"})
    assert answered.status_code == 302
    working_in(client, boroughs.people[("youth_b", Role.PRACTITIONER)], boroughs.b)
    assert client.get(reverse("enquiries")).status_code == 403
    assert client.get(reverse("enquiry-detail", args=[enquiry.pk])).status_code == 403
    client.force_login(cast.user("hub", Role.HUB_SCREENER))
    assert "Known; a transfer will follow" in client.get(reverse("screening", args=[referral.pk])).content.decode()
