"""The floors of the house hold: import-linter's contracts (`.importlinter`)
pass on the code as it is, and fail when a lower floor imports a higher one.

These run `lint-imports` itself, as CI does, on the real tree and on a copy
of it with one import planted where it must not be."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PARTS = ["lib", "agencies", "partnerships", "referrals", "contexts", "safeguarding", "casework", "contextwork",
         "monitoring", "reminders",
         "reports", "governance", "api", "web", "config", "bench"]


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The project's packages and contracts, copied without tests or data."""
    for part in PARTS:
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "results"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_every_contract_is_kept_on_the_code_as_it_is():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert "Floors: each part imports only the parts below it KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # A lower part importing a higher one: the access policy reaching
        # for the casework services, the bottom app for the access policy.
        ("safeguarding.access", "from casework import services  # noqa", "Floors"),
        ("agencies.services", "from safeguarding import access  # noqa", "Floors"),
        ("casework.services", "from web import kit  # noqa", "Floors"),
        # Inside a part: a model importing its own part's services.
        ("reminders.models", "from reminders import services  # noqa", "reminders: tasks call services"),
        # A cycle hidden inside a function is still a cycle.
        ("casework.matching", "def _dodge():\n    from casework import linking  # noqa", "casework: commands"),
        # Asking django-guardian outside the access policy.
        ("casework.selectors", "from guardian.shortcuts import get_objects_for_user  # noqa", "guardian"),
    ],
)
def test_a_planted_back_import_breaks_the_build(tree_copy: Path, module: str, line: str, contract: str):
    plant(tree_copy, module, line)
    result = lint_imports(tree_copy)
    assert result.returncode != 0, result.stdout
    broken = [row for row in result.stdout.splitlines() if row.endswith(" BROKEN")]
    assert any(contract in row for row in broken), result.stdout
