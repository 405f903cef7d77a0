"""Where the data tables live and how to read them: one loader, so no module hard-codes a path.

`SOMANA_DATA_DIR` overrides the folder (tests point it at a copy to prove that edited data
changes the results).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

_PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"


def data_dir() -> Path:
    return Path(os.environ.get("SOMANA_DATA_DIR", _PACKAGE_DATA))


def data_path(name: str) -> Path:
    path = data_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"data table {name} is missing from {data_dir()}")
    return path


@lru_cache(maxsize=64)
def _read_cached(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_csv(path, comment="#", skipinitialspace=True)


def read_table(name: str) -> pd.DataFrame:
    """A CSV table from `data/` (a fresh copy; re-read when the file changes on disk)."""
    path = data_path(name)
    return _read_cached(str(path), path.stat().st_mtime_ns).copy()


def state_dir() -> Path:
    """Where the running factory keeps its files (orders, users, secrets); created on demand.

    Owner-only (0700): it holds customer names, orders and the server's secrets.
    """
    path = Path(os.environ.get("SOMANA_HOME", Path.home() / ".somana"))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with owner-only permissions (0600) if it does not exist, and return it.

    SQLite gives its -wal and -shm files the database file's permissions, so creating the database
    file this way before the engine opens it keeps all three private.
    """
    path = Path(path)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path
