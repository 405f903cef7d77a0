"""Failed staff logins, kept in the factory's state store so a lockout outlives a server restart.

One row per failed attempt and key (`account:NAME`, `address:IP`), with its wall-clock time, in a
`login_failures` table beside the orders (the same database: the SQLite file by default, or the
`--db` URL, so several web processes on one PostgreSQL share one count). The login page's
throttle (`dashboards.web_auth.LoginThrottle`) decides delays and lockouts from these counts.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Float, Integer, String, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

KEY_CHARS = 160
KEEP_S = 24 * 3600.0  # rows older than this are pruned (far beyond any lockout window)


class _Base(DeclarativeBase):
    pass


class _FailureRow(_Base):
    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(KEY_CHARS), index=True)
    failed_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch (survives a restart)


_READY: set[int] = set()
_READY_LOCK = threading.Lock()


def _engine(url: str | None) -> Engine:
    """The order store's engine for `url` (default: the factory's store), with our table created once."""
    from somana_core.orders import shared_store

    engine = shared_store(url).engine
    with _READY_LOCK:
        if id(engine) not in _READY:
            _Base.metadata.create_all(engine)
            _READY.add(id(engine))
    return engine


def record(keys: list[str], window_s: float, url: str | None = None, now: float | None = None) -> list[int]:
    """Count one failure for each key; returns each key's failures within `window_s`, this one included."""
    now = time.time() if now is None else now
    keys = [k[:KEY_CHARS] for k in keys]
    with Session(_engine(url)) as session, session.begin():
        session.execute(delete(_FailureRow).where(_FailureRow.failed_at < now - KEEP_S))
        session.add_all([_FailureRow(key=k, failed_at=now) for k in keys])
    return [len(t) for t in recent(keys, window_s, url=url, now=now).values()]


def recent(keys: list[str], window_s: float, url: str | None = None, now: float | None = None) -> dict[str, list[float]]:
    """key -> times (epoch s) of its failures within `window_s` before `now` (window 0: all kept)."""
    now = time.time() if now is None else now
    keys = [k[:KEY_CHARS] for k in keys]
    since = now - (window_s if window_s > 0 else KEEP_S)
    found: dict[str, list[float]] = {k: [] for k in keys}
    with Session(_engine(url)) as session:
        rows = session.execute(select(_FailureRow.key, _FailureRow.failed_at)
                               .where(_FailureRow.key.in_(keys), _FailureRow.failed_at > since,
                                      _FailureRow.failed_at <= now)
                               .order_by(_FailureRow.failed_at)).all()
    for key, at in rows:
        found[key].append(float(at))
    return found


def clear(keys: list[str], url: str | None = None) -> None:
    """Forget the keys' failures (a correct login)."""
    keys = [k[:KEY_CHARS] for k in keys]
    with Session(_engine(url)) as session, session.begin():
        session.execute(delete(_FailureRow).where(_FailureRow.key.in_(keys)))


def count(url: str | None = None) -> int:
    """Rows kept (for tests and the curious)."""
    with Session(_engine(url)) as session:
        return int(session.scalar(select(func.count()).select_from(_FailureRow)) or 0)
