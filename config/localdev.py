"""The two set-up commands behind ``make run`` and ``make test``.

``python -m config.localdev run``   migrate, load the demo borough, serve the
                                    app (and its workers) in the foreground.
``python -m config.localdev test``  run the whole test suite, one worker per
                                    core (pass ``-n 0`` for one process).

With no ``DATABASE_URL`` both start the embedded PostgreSQL server first and
stop it when they end: on Ctrl-C, on ``kill`` and, through a watchdog process,
even when this process is killed outright (a server outliving its parent is
the classic trap of embedded databases).
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time

from config import embedded

PYTHON = sys.executable


class Supervisor:
    """Runs one child at a time and passes on the signals a person sends."""

    def __init__(self) -> None:
        self.child: subprocess.Popen | None = None
        self.stopping = False
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGHUP, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        self.stopping = True
        child = self.child
        if child and child.poll() is None and signum != signal.SIGINT:
            # Ctrl-C reaches the whole process group already; other signals
            # were sent to us alone.
            child.send_signal(signal.SIGTERM)

    def call(self, args: list[str], env: dict[str, str]) -> int:
        if self.stopping:
            return 130
        self.child = subprocess.Popen(args, env=env, preexec_fn=_die_with_parent)
        while True:
            try:
                return self.child.wait()
            except KeyboardInterrupt:  # pragma: no cover - handler replaces it
                continue
            finally:
                if self.child.poll() is None and self.stopping:
                    self._wind_down()

    def _wind_down(self) -> None:
        assert self.child is not None
        try:
            self.child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


def _die_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when this supervisor dies, even
    by SIGKILL, so no server or worker is left running without it."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_watchdog() -> None:
    """A detached process that stops the server if we die without cleaning up.

    It lives in a session of its own so that a kill of our whole process
    group cannot take it too. On a normal exit we end it ourselves (atexit
    runs this before the server's own clean-up, which stops the server), so
    nothing we started outlives us.
    """
    watchdog_process = subprocess.Popen(
        [PYTHON, "-m", "config.localdev", "watchdog", str(os.getpid())],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        cwd=embedded.PROJECT_DIR,
    )

    def end_watchdog() -> None:
        watchdog_process.terminate()
        try:
            watchdog_process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            watchdog_process.kill()

    atexit.register(end_watchdog)


def watchdog(parent: int) -> int:
    import psutil

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        parent_process = psutil.Process(parent)
        while parent_process.is_running() and parent_process.status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.5)
    except psutil.NoSuchProcess:
        pass
    # The parent stops the server itself on a normal exit; give it a moment,
    # then make sure nothing is left behind.
    time.sleep(1)
    embedded.forget_dead_handles()
    handles = embedded.PGDATA / ".handle_pids.json"
    if not handles.exists() or handles.read_text().strip() in ("", "[]"):
        embedded.stop()
    return 0


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    env["PYTHONUNBUFFERED"] = "1"
    if not env.get("DATABASE_URL"):
        _server, url = embedded.start()
        start_watchdog()
        env["DATABASE_URL"] = url
        print(f"Embedded PostgreSQL running in {embedded.PGDATA}", flush=True)
    return env


def manage(*args: str) -> list[str]:
    return [PYTHON, str(embedded.PROJECT_DIR / "manage.py"), *args]


def run() -> int:
    supervisor = Supervisor()
    env = child_env()
    for step in (manage("migrate", "--no-input"), manage("collectstatic", "--no-input", "-v0"), manage("seed_demo")):
        rc = supervisor.call(step, env)
        if rc != 0:
            return rc
    return supervisor.call(
        [PYTHON, "-m", "honcho", "start", "-f", str(embedded.PROJECT_DIR / "Procfile.dev")], env
    )


# The suite runs on one worker per core (pytest-xdist), up to this many:
# each worker has a test database of its own.
MAX_WORKERS = 4


def test(pytest_args: list[str]) -> int:
    supervisor = Supervisor()
    env = child_env()
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    chosen = any(a == "no:xdist" or a.startswith("--numprocesses") or (a.startswith("-n") and not a.startswith("--"))
                 for a in pytest_args)
    if not chosen:
        pytest_args = ["--numprocesses=auto", f"--maxprocesses={MAX_WORKERS}", *pytest_args]
    return supervisor.call([PYTHON, "-m", "pytest", *pytest_args], env)


def main(argv: list[str]) -> int:
    os.chdir(embedded.PROJECT_DIR)
    if not argv or argv[0] not in {"run", "test", "watchdog"}:
        print(__doc__)
        return 2
    if argv[0] == "run":
        return run()
    if argv[0] == "test":
        return test(argv[1:])
    return watchdog(int(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
