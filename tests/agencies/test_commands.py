"""create_agency and add_member: what a system administrator types."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from agencies.models import Agency, Membership, Role
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "river-crossing-lantern-42"


class FakeTerminal(StringIO):
    def isatty(self) -> bool:
        return True


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_agency_creates_the_agency_and_its_group():
    out, _ = run("create_agency", "Riverside Academy", "--kind", "school", "--email", "safeguarding@example.org")
    agency = Agency.objects.get(slug="riverside-academy")
    assert agency.kind == "school"
    assert agency.group.name == "agency:riverside-academy"
    assert "riverside-academy" in out


def test_create_agency_with_a_slug():
    run("create_agency", "Met Police South East BCU", "--kind", "police", "--slug", "met-se")
    assert Agency.objects.get(slug="met-se").group.name == "agency:met-se"


def test_create_agency_says_clearly_what_is_wrong():
    run("create_agency", "Riverside Academy", "--kind", "school")
    with pytest.raises(CommandError, match="already exists"):
        run("create_agency", "Riverside Academy", "--kind", "school")
    with pytest.raises(CommandError, match="invalid choice"):
        run("create_agency", "Riverside Prison", "--kind", "prison")
    assert Agency.objects.count() == 1


def test_add_member_creates_the_person_and_the_membership():
    agency = f.make_agency("Riverside Youth Service")
    out, _ = run(
        "add_member", "amara", agency.slug, "practitioner", "--email", "amara@example.org",
        "--first-name", "Amara", "--last-name", "Okafor", "--password", PASSWORD, "--job-title", "Youth worker",
    )
    user = get_user_model().objects.get(username="amara")
    assert user.check_password(PASSWORD)
    assert Membership.objects.get(user=user).job_title == "Youth worker"
    assert list(user.groups.all()) == [agency.group]
    assert "Created the account" in out


def test_add_member_gives_an_existing_person_another_role_and_leaves_their_details_alone():
    agency = f.make_agency("Riverside Youth Service")
    user = f.UserFactory(username="amara", email="amara@example.org")
    _, err = run("add_member", "amara", agency.slug, "manager", "--email", "other@example.org")
    user.refresh_from_db()
    assert user.email == "amara@example.org"
    assert "left unchanged" in err
    assert Membership.objects.filter(user=user, agency=agency, role=Role.MANAGER).exists()
    run("add_member", "amara", agency.slug, "manager")  # again: no duplicate
    assert Membership.objects.filter(user=user).count() == 1


def test_add_member_with_no_password():
    agency = f.make_agency("Riverside Youth Service")
    run("add_member", "amara", agency.slug, "practitioner", "--email", "amara@example.org",
        "--first-name", "Amara", "--last-name", "Okafor", "--no-password")
    assert not get_user_model().objects.get(username="amara").has_usable_password()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["amara", "no-such-agency", "practitioner"], "No agency with the slug"),
        (["amara", "{slug}", "practitioner", "--email", "amara@example.org"], "--first-name, --last-name"),
        (["amara", "{slug}", "practitioner", "--email", "amara@example.org", "--first-name", "Amara",
          "--last-name", "Okafor", "--password", "short"], "too short"),
        (["amara", "{slug}", "practitioner", "--email", "nope", "--first-name", "Amara",
          "--last-name", "Okafor", "--no-password"], "e-mail"),
        (["amara", "{slug}", "overlord"], "invalid choice"),
    ],
)
def test_add_member_refuses_clearly_and_creates_nothing(args, message):
    agency = f.make_agency("Riverside Youth Service")
    with pytest.raises(CommandError, match=message):
        run("add_member", *[a.format(slug=agency.slug) for a in args])
    assert not get_user_model().objects.exists()
    assert not Membership.objects.exists()


def test_add_member_without_a_terminal_will_not_prompt(monkeypatch):
    agency = f.make_agency("Riverside Youth Service")
    monkeypatch.setattr("sys.stdin", StringIO(""))
    with pytest.raises(CommandError, match="--password or --no-password"):
        run("add_member", "amara", agency.slug, "practitioner", "--email", "amara@example.org",
            "--first-name", "Amara", "--last-name", "Okafor")
    assert not get_user_model().objects.exists()


def test_add_member_prompts_for_the_password_twice(monkeypatch):
    agency = f.make_agency("Riverside Youth Service")
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    run("add_member", "amara", agency.slug, "practitioner", "--email", "amara@example.org",
        "--first-name", "Amara", "--last-name", "Okafor")
    assert get_user_model().objects.get(username="amara").check_password(PASSWORD)
