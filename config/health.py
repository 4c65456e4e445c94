"""The health endpoint (``/health/``) and the probe that containers run.

``/health/`` answers 200 when the database answers ``SELECT 1`` and the
Celery broker accepts a connection, and 500 otherwise; it sends JSON when
asked for it (``Accept: application/json`` or ``?format=json``). It checks
the broker rather than pinging workers: a web replica is healthy when it can
queue work, whether or not a worker happens to be up at that moment.

``python -m config.health [URL]`` is the container health probe (Dockerfile
and docker-compose.yml). It uses only the standard library and exits 0 when
the endpoint answers 200.
"""

from __future__ import annotations

import dataclasses
import datetime
import os

from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Broker(HealthCheck):
    """Opens a connection to ``settings.CELERY_BROKER_URL`` with kombu.

    Works for every transport Celery can use here: redis://, amqp:// and the
    serverless filesystem:// one (for which it checks that the queue folders
    exist and are writable, since kombu itself connects to anything).
    The URL may hold a password, so it is never part of the report.
    """

    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=3), repr=False
    )

    def run(self) -> None:
        from django.conf import settings
        from kombu import Connection

        url = settings.CELERY_BROKER_URL
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
        seconds = self.timeout.total_seconds()
        try:
            with Connection(url, connect_timeout=seconds, transport_options=options) as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=seconds)
                transport = conn.transport_cls
        except Exception as error:  # kombu raises a different class per transport
            raise ServiceUnavailable(f"Cannot connect to the broker ({type(error).__name__})") from error
        if transport == "filesystem":
            for key in ("data_folder_in", "data_folder_out"):
                folder = options.get(key)
                if not folder or not os.access(folder, os.W_OK | os.X_OK):
                    raise ServiceUnavailable(f"Broker queue folder ({key}) is missing or not writable")


health = HealthCheckView.as_view(checks=[Database, Broker])


def probe(url: str = "http://127.0.0.1:8000/health/") -> int:
    """Ask the local server for /health/ as a client behind the proxy would.

    The Host header is the first ALLOWED_HOSTS entry (Django refuses others)
    and X-Forwarded-Proto says https, so production's SSL redirect does not
    turn the answer into a 301.
    """
    import urllib.error
    import urllib.request

    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    host = next((h for h in hosts if h and h != "*"), "localhost")
    request = urllib.request.Request(
        url,
        headers={"Host": host, "X-Forwarded-Proto": "https", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {error}")
        return 1


if __name__ == "__main__":
    import sys

    sys.exit(probe(*sys.argv[1:2]))
