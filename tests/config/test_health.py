"""/health/ reports the database and the Celery broker, for load balancers,
container health checks and monitoring.
"""

from __future__ import annotations

import socket

import pytest

from config import health

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_is_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


def report(response) -> dict[str, str]:
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_healthy_database_and_broker_answer_200_with_json(client):
    response = client.get("/health/", **JSON)
    assert response.status_code == 200
    assert report(response) == {"Database(alias='default')": "OK", "Broker()": "OK"}
    assert "no-cache" in response["Cache-Control"]


def test_json_can_be_asked_for_in_the_query_string(client):
    response = client.get("/health/?format=json")
    assert response.status_code == 200
    assert set(report(response).values()) == {"OK"}


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_a_broker_on_a_closed_port_is_unhealthy(client, settings, scheme):
    settings.CELERY_BROKER_URL = f"{scheme}://127.0.0.1:{closed_port()}/"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/health/", **JSON)
    assert response.status_code == 500
    body = report(response)
    assert body["Database(alias='default')"] == "OK"
    assert body["Broker()"].startswith("Unavailable: Cannot connect to the broker")


def test_the_report_never_shows_the_broker_password(client, settings):
    settings.CELERY_BROKER_URL = f"redis://:hunter2-broker-password@127.0.0.1:{closed_port()}/0"
    response = client.get("/health/", **JSON)
    assert response.status_code == 500
    assert b"hunter2" not in response.content


def test_a_filesystem_broker_without_its_queue_folder_is_unhealthy(client, settings, tmp_path):
    missing = str(tmp_path / "missing")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": missing, "data_folder_out": missing}
    response = client.get("/health/", **JSON)
    assert response.status_code == 500
    assert "queue folder" in report(response)["Broker()"]


@pytest.mark.skipif(not redis_is_running(), reason="no Redis on 127.0.0.1:6379")
def test_a_running_redis_broker_is_healthy(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/health/", **JSON)
    assert response.status_code == 200, response.content


def test_the_container_probe_passes_on_a_healthy_server(live_server, monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    assert health.probe(f"{live_server.url}/health/") == 0


def test_the_container_probe_fails_when_the_server_is_unhealthy(live_server, settings, monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    assert health.probe(f"{live_server.url}/health/") == 1


def test_the_container_probe_fails_when_nothing_listens():
    assert health.probe(f"http://127.0.0.1:{closed_port()}/health/") == 1
