"""Order store fixtures: every store test runs on a SQLite file AND on a real PostgreSQL server.

The PostgreSQL server is a throwaway cluster made with Debian's binaries (initdb, pg_ctl) on a
loopback port. PostgreSQL refuses to run as root, so as root the cluster is made and run by the
unprivileged `postgres` system user (created by Debian's postgresql package) via runuser.
A missing binary or a server that does not start fails the tests loudly; nothing is skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from somana_core.orders import OrderStore


def _pg_bin() -> Path:
    configured = os.environ.get("SOMANA_PG_BIN")
    candidates = [configured] if configured else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's postgresql package "
        "(scripts/system_deps.sh does it) or set SOMANA_PG_BIN"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    pwd.getpwnam("postgres")  # KeyError here: Debian's postgresql package creates this user
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def postgres_url():
    """A running throwaway PostgreSQL 15 server; yields a SQLAlchemy URL for its database."""
    pg_bin = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="somana-pg-", dir="/tmp"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    # the server user may not be allowed into the caller's folder (PostgreSQL <= 15 fails then):
    # every command runs from the cluster's own folder
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    subprocess.run(
        _as_server_user([str(pg_bin / "initdb"), "-D", str(data), "-U", "somana", "-A", "trust",
                         "-E", "UTF8", "--no-sync"]),
        check=True, capture_output=True, env=env, cwd=root,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(
        _as_server_user([str(pg_bin / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                         str(root / "server.log"), "-w", "-t", "60", "start"]),
        capture_output=True, env=env, cwd=root,
    )
    if started.returncode != 0:
        log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr.decode()} {log}")
    try:
        yield f"postgresql+psycopg://somana@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True, env=env, cwd=root,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh_postgres_db(postgres_url):
    """A new empty database on the shared server, one per test."""
    import psycopg

    name = f"t{time.time_ns()}"
    base = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, somana_home):
    """An empty order store: the default SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        s = OrderStore()
    else:
        s = OrderStore(request.getfixturevalue("fresh_postgres_db"))
    yield s
    s.close()
