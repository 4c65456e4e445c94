"""docker-compose.yml and the Dockerfile describe the production shape.

No Docker engine is needed: the files are parsed, not run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ["web", "worker", "beat"]


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def command(service: dict) -> list[str]:
    cmd = service.get("command")
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd or [])


def healthcheck_text(service: dict) -> str:
    test = service.get("healthcheck", {}).get("test")
    return " ".join(test) if isinstance(test, list) else (test or "")


def test_the_five_services_exist(services):
    assert {"db", "redis", "web", "worker", "beat"} <= services.keys()
    assert services["db"]["image"].startswith("postgres:18")
    assert services["redis"]["image"].startswith("redis:7")


def test_web_runs_gunicorn_with_the_wsgi_app(services):
    cmd = command(services["web"])
    assert cmd[0] == "gunicorn"
    assert "config.wsgi:application" in cmd


def test_worker_runs_celery_worker(services):
    assert command(services["worker"])[:4] == ["celery", "-A", "config", "worker"]


def test_beat_runs_celery_beat(services):
    assert command(services["beat"])[:4] == ["celery", "-A", "config", "beat"]


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
@pytest.mark.parametrize("variable", ["DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"])
def test_app_services_take_urls_from_the_environment(services, name, variable):
    environment = services[name]["environment"]
    assert isinstance(environment, dict), "use the mapping form of environment"
    assert re.match(rf"^\$\{{{variable}[:?}}-]", str(environment[variable]))


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
@pytest.mark.parametrize("variable", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_secrets_are_required_not_defaulted(services, name, variable):
    assert str(services[name]["environment"][variable]).startswith(f"${{{variable}:?")


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
@pytest.mark.parametrize("variable", ["EMAIL_PROVIDER", "EMAIL_URL", "GOVUK_NOTIFY_API_KEY", "GOVUK_NOTIFY_TEMPLATE_ID"])
def test_mail_settings_pass_through_for_smtp_or_notify(services, name, variable):
    # Either transport can be chosen at deploy time; production settings
    # refuse to start with neither (tests/config/test_settings.py).
    assert str(services[name]["environment"][variable]).startswith(f"${{{variable}:-")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_use_production_settings(services, name):
    assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_backends_and_migrations(services, name):
    depends = services[name]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_migrations_run_once_in_a_one_off_service(services):
    migrate = services["migrate"]
    assert command(migrate)[-3:-1] == ["manage.py", "migrate"]
    assert str(migrate.get("restart")) == "no"
    assert not any("migrate" in part for part in command(services["web"]))


@pytest.mark.parametrize("name", ["db", "redis", "web"])
def test_healthchecks_exist(services, name):
    assert healthcheck_text(services[name])


def test_db_healthcheck_uses_pg_isready(services):
    assert "pg_isready" in healthcheck_text(services["db"])


def test_web_healthcheck_hits_the_health_endpoint(services):
    assert "/health/" in healthcheck_text(services["web"])


@pytest.mark.parametrize("name", ["web", "worker"])
def test_scaled_services_keep_no_state(services, name):
    # No volumes and no fixed host port, so `--scale name=N` works.
    service = services[name]
    assert not service.get("volumes")
    assert all(":" not in str(port) for port in service.get("ports", []))


def test_database_data_is_on_a_volume(services):
    assert services["db"]["volumes"]


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def instructions(dockerfile: list[str], name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in dockerfile if line.split(None, 1)[0].upper() == name]


def test_dockerfile_runs_as_a_non_root_user(dockerfile):
    users = instructions(dockerfile, "USER")
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_has_a_healthcheck_on_the_health_endpoint(dockerfile):
    (check,) = instructions(dockerfile, "HEALTHCHECK")
    assert "/health/" in check


def test_dockerfile_serves_gunicorn_on_python_311_slim(dockerfile):
    assert instructions(dockerfile, "FROM")[-1].startswith("python:3.11-slim")
    assert "config.wsgi:application" in instructions(dockerfile, "CMD")[-1]
    assert any("collectstatic" in run for run in instructions(dockerfile, "RUN"))


def test_dockerfile_installs_the_locked_runtime_before_copying_the_code(dockerfile):
    """Dependencies come from requirements/base.txt (hashed, runtime only; see
    test_dependencies.py) in a layer of their own, so a code change does not
    reinstall them; the project itself follows without dependencies."""
    lock_copy = next(i for i, l in enumerate(dockerfile) if l.startswith("COPY") and "requirements/base.txt" in l)
    lock_install = next(i for i, l in enumerate(dockerfile) if l.startswith("RUN") and "--require-hashes" in l)
    code_copy = dockerfile.index("COPY . .")
    project_install = next(i for i, l in enumerate(dockerfile) if l.startswith("RUN") and "--no-deps -e ." in l)
    assert lock_copy < lock_install < code_copy < project_install


def test_dockerfile_ships_govuk_frontend_from_a_node_build_stage(dockerfile):
    """Pages are unstyled without GOV.UK Frontend; the image builds it from
    the lock file in a Node stage and copies only its dist into the final one."""
    assert any(stage.startswith("node:") and "AS frontend" in stage for stage in instructions(dockerfile, "FROM"))
    assert any("npm ci" in run for run in instructions(dockerfile, "RUN"))
    copies = [c for c in instructions(dockerfile, "COPY") if c.startswith("--from=frontend")]
    assert copies and "govuk-frontend/dist" in copies[0]
    assert dockerfile.index(next(l for l in dockerfile if l.startswith("COPY --from=frontend"))) < dockerfile.index(
        next(l for l in dockerfile if "collectstatic" in l)
    )


def test_the_image_build_loads_production_settings_with_its_throwaway_variables(dockerfile):
    """collectstatic runs at build time under production settings with the
    variables the Dockerfile gives it; those settings must load from exactly
    that environment (a settings change that needs a new variable fails
    here, not in the image build)."""
    import shlex
    import subprocess
    import sys

    run = next(r for r in instructions(dockerfile, "RUN") if "collectstatic" in r)
    build_args = dict(a.split("=", 1) for a in instructions(dockerfile, "ARG") if "=" in a)
    words = shlex.split(run.split("python manage.py")[0])
    env = {k: v for k, v in (w.split("=", 1) for w in words)}
    env = {k: (build_args.get(v.lstrip("$"), v) if v.startswith("$") else v) for k, v in env.items()}
    env |= {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
