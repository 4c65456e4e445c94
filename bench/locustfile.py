"""The load test's users (Locust), run by ``bench.load`` against gunicorn.

Who comes, in what mix (each a Locust user class, weighted):

* practitioners page through their agency's caseload (the home page,
  ``?page=N``) and open cases from it;
* the hub's screeners read their queue and open referrals to screen;
* managers open their dashboard (the home page's figures, chart, late
  referrals and quiet cases) and page through the caseload;
* partner systems (OAuth client credentials) check for a known young
  person, post referrals with an ``Idempotency-Key``, read them back, and
  list and read the cases their agency may see.

People sign in as people do: the sign-in page, then the two-factor page
with the code their authenticator app shows now (each load user has an
app of its own, so no code is used twice). Partner systems get a bearer
token from ``/o/token/``.

``LOAD_CONFIG`` names the JSON file ``bench.load`` writes: the password,
the people and their apps' keys, the partner systems' credentials and the
young people to look up. Nothing here imports Django.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import uuid

from django_otp.oath import totp
from locust import HttpUser, between, events, task
from locust.exception import StopUser

CONFIG = json.loads(open(os.environ["LOAD_CONFIG"]).read()) if os.environ.get("LOAD_CONFIG") else {}
_lock = threading.Lock()
_next: dict[str, itertools.count] = {}

CASE_LINK = re.compile(r'href="/cases/(\d+)/"')
SCREENING_LINK = re.compile(r'href="/screening/(\d+)/"')
LAST_PAGE = re.compile(r'[?&](?:amp;)?page=(\d+)')


def _one(kind: str) -> dict:
    """The next load user of a kind (each Locust user signs in as its own)."""
    with _lock:
        counter = _next.setdefault(kind, itertools.count())
        people = CONFIG[kind]
        return people[next(counter) % len(people)]


class Person(HttpUser):
    abstract = True
    kind = ""
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        person = _one(self.kind)
        self.client.get("/accounts/login/", name="sign in (page)")
        response = self.client.post("/accounts/login/", name="sign in (password)", data={
            "username": person["username"], "password": CONFIG["password"],
            "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
        }, allow_redirects=False)
        if response.status_code != 302:
            raise StopUser()
        code = totp(bytes.fromhex(person["key"]), step=30, t0=0, digits=6)
        response = self.client.post("/accounts/two-factor/", name="sign in (two-factor code)", data={
            "code": f"{code:06d}", "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
        }, allow_redirects=False)
        if response.status_code != 302:
            raise StopUser()
        self.pages = 1

    def caseload_page(self, name: str) -> str:
        page = random.randint(1, max(self.pages, 1))
        response = self.client.get(f"/?page={page}" if page > 1 else "/", name=name)
        pages = [int(n) for n in LAST_PAGE.findall(response.text or "")]
        if pages:
            self.pages = max(pages)
        return response.text or ""


class Practitioner(Person):
    weight = 6
    kind = "practitioners"

    @task(3)
    def page_caseload(self) -> None:
        self.caseload_page("home: caseload page")

    @task(4)
    def open_a_case(self) -> None:
        cases = CASE_LINK.findall(self.caseload_page("home: caseload page"))
        if cases:
            self.client.get(f"/cases/{random.choice(cases)}/", name="case page")


class HubScreener(Person):
    weight = 2
    kind = "screeners"

    @task
    def screen(self) -> None:
        response = self.client.get("/", name="home: screening queue")
        referrals = SCREENING_LINK.findall(response.text or "")
        if referrals:
            self.client.get(f"/screening/{random.choice(referrals)}/", name="screening page")


class Manager(Person):
    weight = 1
    kind = "managers"

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/", name="home: manager dashboard")

    @task(1)
    def page_caseload(self) -> None:
        self.caseload_page("home: manager dashboard")


class PartnerSystem(HttpUser):
    weight = 4
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        client = _one("partners")
        response = self.client.post("/o/token/", name="api: token", data={"grant_type": "client_credentials"},
                                    auth=(client["client_id"], client["client_secret"]))
        if response.status_code != 200:
            raise StopUser()
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        self.referrals: list[int] = []
        self.cases: list[int] = []

    def person(self) -> dict:
        known = CONFIG.get("people") or []
        if known and random.random() < 0.5:
            return dict(random.choice(known))
        return {"given_name": random.choice(CONFIG["given_names"]), "family_name": random.choice(CONFIG["family_names"]),
                "date_of_birth": f"{random.randint(2008, 2015)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"}

    @task(2)
    def refer(self) -> None:
        person = self.person()
        self.client.post("/api/v1/young-people/matches/", json=person, name="api: match young person")
        response = self.client.post("/api/v1/referrals/", name="api: post referral", json={
            "person": person, "concerns": ["weapon"], "risk_level": random.choice(["green", "amber", "red"]),
            "account": "Seen carrying a knife near the station; says it is for protection.",
            "consent": "young_person", "partner_reference": f"load-{uuid.uuid4().hex[:12]}",
        }, headers={"Idempotency-Key": str(uuid.uuid4())})
        if response.status_code == 201:
            self.referrals.append(response.json()["id"])

    @task(2)
    def read_referral(self) -> None:
        if self.referrals:
            self.client.get(f"/api/v1/referrals/{random.choice(self.referrals[-50:])}/", name="api: referral")

    @task(3)
    def list_cases(self) -> None:
        response = self.client.get("/api/v1/cases/", name="api: case list")
        if response.status_code == 200:
            self.cases = [case["id"] for case in response.json().get("results", [])] or self.cases

    @task(4)
    def read_case(self) -> None:
        if self.cases:
            self.client.get(f"/api/v1/cases/{random.choice(self.cases)}/", name="api: case")


@events.request.add_listener
def _timeline(request_type, name, response_time, response_length, response=None, exception=None, **_kw) -> None:
    """Every answer's status, a line each in ``LOAD_TIMELINE`` (when set):
    the fault drills read when each request failed and how."""
    path = os.environ.get("LOAD_TIMELINE")
    if not path:
        return
    import time

    status = getattr(response, "status_code", 0) if response is not None else 0
    kind = (getattr(response, "headers", None) or {}).get("Content-Type", "") if response is not None else ""
    with _lock, open(path, "a") as out:
        out.write(json.dumps([round(time.time(), 3), name, status, kind.split(";")[0],
                              type(exception).__name__ if exception and not status else ""]) + "\n")
