"""The README's partner API examples, run as written against a live server:
issue a client, get a token with curl, list referrals, revoke the client."""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from agencies.models import AgencyKind, Role
from tests import factories as f

README = Path(__file__).resolve().parents[2] / "README.md"


def _example_lines() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Partner API"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readme_examples_work(live_server, transactional_db):
    agency = f.make_agency("Riverside Academy", AgencyKind.SCHOOL)
    assert agency.slug == "riverside-academy"
    f.make_member(agency, Role.AGENCY_ADMIN, username="ada-admin")
    variables: dict[str, str] = {}
    outputs = []
    for line in _example_lines():
        words = [word.replace("http://127.0.0.1:8000", live_server.url) for word in shlex.split(line)]
        words = [re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], w) for w in words]
        if words[0].endswith("python"):
            assert words[1] == "manage.py"
            out = io.StringIO()
            call_command(*words[2:], stdout=out)
            output = out.getvalue()
            if "client_secret:" in output:
                variables["CLIENT_ID"] = output.split("client_id:")[1].split()[0]
                variables["CLIENT_SECRET"] = output.split("client_secret:")[1].split()[0]
        else:
            assert words[0] == "curl"
            output = subprocess.run(words, capture_output=True, text=True, timeout=30, check=True).stdout
            body = json.loads(output)
            if "access_token" in body:
                variables["TOKEN"] = body["access_token"]
        outputs.append(output)
    assert set(variables) == {"CLIENT_ID", "CLIENT_SECRET", "TOKEN"}
    assert json.loads(outputs[2]) == {"next": None, "previous": None, "results": []}
    assert "Revoked" in outputs[3]
