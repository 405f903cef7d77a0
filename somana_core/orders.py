"""The order store: every order, its quote, its files and its life from quote to delivery.

SQLAlchemy 2 over a SQLite file by default (`state_dir()/orders.sqlite`, WAL, one transaction per
change, so a crash leaves each order wholly there or wholly absent) or any database URL
(PostgreSQL for a factory with several stations). Files (STL/3MF/G-code) are stored once by their
SHA-256 in a blob table, inside the same transaction as the order that refers to them.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from somana_core.data import state_dir
from somana_core.errors import InputError

STATES = ("quoted", "confirmed", "sliced", "queued", "printing", "interrupted", "done", "failed", "cancelled")

# state -> the states an order may move to from there. `done` and `cancelled` are final;
# a failed print goes back to the queue (reprint) or is cancelled.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "quoted": ("confirmed", "cancelled"),
    "confirmed": ("sliced", "cancelled"),
    "sliced": ("queued", "sliced", "cancelled"),
    "queued": ("printing", "cancelled"),
    "printing": ("done", "failed", "cancelled", "interrupted"),
    # a print stopped part-way (station stopped or killed, printer reset): restart from its last
    # acknowledged line (back to printing), print again from the start, or give up
    "interrupted": ("printing", "queued", "failed", "cancelled"),
    "failed": ("queued", "cancelled"),
    "done": (),
    "cancelled": (),
}
QUEUE_STATES = ("queued", "printing")
FILE_KINDS = ("stl", "3mf", "step", "gcode")
NUMBER_PREFIX = "SO-"


class IllegalTransition(InputError):
    """An order was asked to move to a state it cannot reach from where it is."""

    def __init__(self, number: str, current: str, wanted: str):
        allowed = ", ".join(TRANSITIONS[current]) or "nothing (final state)"
        super().__init__(
            "state", f"order {number} is {current}: it cannot become {wanted} (allowed: {allowed})"
        )


class OrderNotFound(InputError):
    def __init__(self, number: str):
        super().__init__("number", f"order {number!r} does not exist")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _as_utc(value: datetime) -> datetime:
    # SQLite hands naive datetimes back; everything stored is UTC
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- schema


class _Base(DeclarativeBase):
    pass


class _OrderRow(_Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    customer: Mapped[str] = mapped_column(String(200))
    family: Mapped[str] = mapped_column(String(64))
    material: Mapped[str] = mapped_column(String(32))
    qty: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict] = mapped_column(JSON)
    quote: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    events: Mapped[list[_EventRow]] = relationship(order_by="_EventRow.id", cascade="all, delete-orphan")
    files: Mapped[list[_FileRow]] = relationship(order_by="_FileRow.id", cascade="all, delete-orphan")


class _EventRow(_Base):
    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class _BlobRow(_Base):
    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class _FileRow(_Base):
    __tablename__ = "order_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    size: Mapped[int] = mapped_column(Integer)
    meta: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- plain records handed out


@dataclass(frozen=True)
class StoredFile:
    kind: str
    name: str
    sha256: str
    size: int
    meta: dict
    created_at: datetime


@dataclass(frozen=True)
class Event:
    state: str
    at: datetime
    note: str | None


@dataclass(frozen=True)
class Order:
    number: str
    customer: str
    family: str
    material: str
    qty: int
    parameters: dict
    quote: dict
    state: str
    created_at: datetime
    updated_at: datetime
    history: tuple[Event, ...] = field(default_factory=tuple)
    files: tuple[StoredFile, ...] = field(default_factory=tuple)

    def state_at(self, state: str) -> datetime | None:
        """When the order last entered `state` (None if never)."""
        times = [e.at for e in self.history if e.state == state]
        return times[-1] if times else None

    @property
    def print_time_s(self) -> float | None:
        value = (self.quote or {}).get("print_time_s")
        return None if value is None else float(value) * self.qty

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "customer": self.customer,
            "family": self.family,
            "material": self.material,
            "qty": self.qty,
            "parameters": self.parameters,
            "quote": self.quote,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "history": [{"state": e.state, "at": e.at.isoformat(), "note": e.note} for e in self.history],
            "files": [
                {"kind": f.kind, "name": f.name, "sha256": f.sha256, "size": f.size, "meta": f.meta}
                for f in self.files
            ],
        }


def _to_order(row: _OrderRow) -> Order:
    return Order(
        number=row.number,
        customer=row.customer,
        family=row.family,
        material=row.material,
        qty=row.qty,
        parameters=dict(row.parameters or {}),
        quote=dict(row.quote or {}),
        state=row.state,
        created_at=_as_utc(row.created_at),
        updated_at=_as_utc(row.updated_at),
        history=tuple(Event(e.state, _as_utc(e.at), e.note) for e in row.events),
        files=tuple(
            StoredFile(f.kind, f.name, f.sha256, f.size, dict(f.meta or {}), _as_utc(f.created_at))
            for f in row.files
        ),
    )


# ---------------------------------------------------------------- the store


DB_URL_ENV = "SOMANA_DB_URL"  # `somana serve --db URL` sets it for the apps it serves


def default_url() -> str:
    """$SOMANA_DB_URL when set, else the SQLite file in the factory's state folder."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{state_dir() / 'orders.sqlite'}"


def _engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a confirmed order is on disk when place() returns
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # Writers: IMMEDIATE takes the write lock at the start, so two writers queue instead of
        # deadlocking. Readers: a deferred BEGIN, so in WAL mode they never wait for a writer.
        readonly = conn.get_execution_options().get("somana_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


class OrderStore:
    """Orders behind SQLAlchemy. `url=None`: $SOMANA_DB_URL, else the SQLite file in the state folder."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.engine = _engine(self.url)
        self._reader = self.engine.execution_options(somana_readonly=True)
        _Base.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> OrderStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing

    def place(
        self,
        customer: str,
        family: str,
        parameters: dict,
        quote: dict,
        files: dict[str, str | Path | bytes] | None = None,
        material: str = "PLA",
        qty: int = 1,
        confirm: bool = True,
    ) -> Order:
        """Store a new order (state `quoted`, then `confirmed` when `confirm`) in one transaction.

        `files` maps a file name (its suffix gives the kind) to a path or to the bytes themselves.
        """
        customer = (customer or "").strip()
        if not customer:
            raise InputError("customer", "customer is empty: name who the order is for")
        if int(qty) < 1:
            raise InputError("qty", f"qty={qty} is below the minimum 1")
        parameters = json.loads(json.dumps(parameters, default=str))
        quote = json.loads(json.dumps(quote, default=str))
        blobs = [self._read_file(name, content) for name, content in (files or {}).items()]
        now = _now()
        with Session(self.engine) as session, session.begin():
            row = _OrderRow(
                customer=customer, family=family, material=material, qty=int(qty),
                parameters=parameters, quote=quote, state="quoted", created_at=now, updated_at=now,
            )
            row.events.append(_EventRow(state="quoted", at=now, note=None))
            if confirm:
                row.state = "confirmed"
                row.events.append(_EventRow(state="confirmed", at=now, note=None))
            session.add(row)
            session.flush()  # gives the id the number is made from
            row.number = f"{NUMBER_PREFIX}{row.id:06d}"
            for name, kind, data, meta in blobs:
                self._add_file(session, row, name, kind, data, meta, now)
            session.flush()
            return _to_order(row)

    def transition(self, number: str, new_state: str, note: str | None = None) -> Order:
        """Move an order to `new_state`; an illegal move raises IllegalTransition."""
        if new_state not in STATES:
            raise InputError("state", f"state={new_state!r} is not one of {', '.join(STATES)}")
        now = _now()
        with Session(self.engine) as session, session.begin():
            row = self._row(session, number, lock=True)
            if new_state not in TRANSITIONS[row.state]:
                raise IllegalTransition(number, row.state, new_state)
            row.state = new_state
            row.updated_at = now
            row.events.append(_EventRow(state=new_state, at=now, note=note))
            session.flush()
            return _to_order(row)

    def attach_file(
        self,
        number: str,
        name: str,
        content: str | Path | bytes,
        meta: dict | None = None,
        new_state: str | None = None,
        quote: dict | None = None,
        note: str | None = None,
    ) -> Order:
        """Store a file with an order; optionally, in the same transaction, replace its quote
        (e.g. with the slicer's print time) and move it to `new_state` (e.g. `sliced`)."""
        name, kind, data, file_meta = self._read_file(name, content)
        file_meta.update(meta or {})
        now = _now()
        with Session(self.engine) as session, session.begin():
            row = self._row(session, number, lock=True)
            if new_state is not None and new_state not in TRANSITIONS[row.state]:
                raise IllegalTransition(number, row.state, new_state)
            self._add_file(session, row, name, kind, data, file_meta, now)
            if quote is not None:
                row.quote = json.loads(json.dumps(quote, default=str))
            if new_state is not None:
                row.state = new_state
                row.events.append(_EventRow(state=new_state, at=now, note=note))
            row.updated_at = now
            session.flush()
            return _to_order(row)

    # -- reading

    def get(self, number: str) -> Order:
        with Session(self._reader) as session:
            return _to_order(self._row(session, number))

    def list(self, state: str | None = None, limit: int | None = None) -> list[Order]:
        """Orders, newest first (only those in `state` when given)."""
        if state is not None and state not in STATES:
            raise InputError("state", f"state={state!r} is not one of {', '.join(STATES)}")
        with Session(self._reader) as session:
            query = select(_OrderRow).order_by(_OrderRow.id.desc())
            if state is not None:
                query = query.where(_OrderRow.state == state)
            if limit is not None:
                query = query.limit(limit)
            return [_to_order(row) for row in session.scalars(query)]

    def queue(self) -> list[Order]:
        """What the printers have ahead of them: printing first, then queued, oldest first."""
        with Session(self._reader) as session:
            rows = session.scalars(
                select(_OrderRow).where(_OrderRow.state.in_(QUEUE_STATES)).order_by(_OrderRow.id)
            ).all()
            orders = [_to_order(row) for row in rows]
        return sorted(orders, key=lambda o: (o.state != "printing", o.state_at(o.state) or o.created_at))

    def queued_print_time_s(self) -> float:
        """Total print time of everything queued or printing (for a new quote's lead time)."""
        return float(sum(o.print_time_s or 0.0 for o in self.queue()))

    def file_bytes(self, sha256: str) -> bytes:
        with Session(self._reader) as session:
            blob = session.get(_BlobRow, sha256)
            if blob is None:
                raise InputError("sha256", f"file {sha256} is not in the store")
            return blob.data

    def export_file(self, number: str, kind: str, out_path: str | Path) -> Path:
        """Write the order's latest file of `kind` (e.g. gcode) to `out_path`."""
        order = self.get(number)
        matches = [f for f in order.files if f.kind == kind]
        if not matches:
            raise InputError("kind", f"order {number} has no {kind} file")
        out = Path(out_path)
        out.write_bytes(self.file_bytes(matches[-1].sha256))
        return out

    # -- helpers

    @staticmethod
    def _row(session: Session, number: str, lock: bool = False) -> _OrderRow:
        query = select(_OrderRow).where(_OrderRow.number == str(number).strip().upper())
        if lock:
            query = query.with_for_update()  # one station at a time moves an order (PostgreSQL)
        row = session.scalars(query).first()
        if row is None:
            raise OrderNotFound(number)
        return row

    @staticmethod
    def _read_file(name: str, content: str | Path | bytes) -> tuple[str, str, bytes, dict]:
        if isinstance(content, (bytes, bytearray)):
            data = bytes(content)
        else:
            path = Path(content)
            if not path.is_file():
                raise InputError("file", f"file={str(path)!r} does not exist")
            data = path.read_bytes()
        name = Path(name).name
        kind = Path(name).suffix.lower().lstrip(".")
        if kind not in FILE_KINDS:
            raise InputError("file", f"file={name!r}: kind {kind!r} is not one of {', '.join(FILE_KINDS)}")
        return name, kind, data, {}

    @staticmethod
    def _add_file(session, row, name, kind, data, meta, now) -> None:
        digest = hashlib.sha256(data).hexdigest()
        if session.get(_BlobRow, digest) is None:
            # Two stations may store the same file at once (two customers, same default part):
            # the second insert must be a no-op, not an error that loses its order.
            dialect = session.get_bind().dialect.name
            if dialect in ("postgresql", "sqlite"):
                insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
                session.execute(insert(_BlobRow).values(sha256=digest, size=len(data), data=data)
                                .on_conflict_do_nothing(index_elements=["sha256"]))
            else:
                session.add(_BlobRow(sha256=digest, size=len(data), data=data))
            session.flush()
        row.files.append(
            _FileRow(kind=kind, name=name, sha256=digest, size=len(data), meta=meta, created_at=now)
        )


# ---------------------------------------------------------------- parameters -> stored, sliced order


STAGES = ("validate", "build", "export", "quote", "slice", "store")


def place_order(
    store: OrderStore,
    family: str,
    values: dict,
    customer: str,
    qty: int = 1,
    material: str = "PLA",
    slice_it: bool = True,
    timings: dict | None = None,
    work_dir: str | Path | None = None,
) -> Order:
    """The whole pipeline: validate, build, export, quote, slice, store (stage times into `timings`).

    Bad parameters are refused (InputError) before anything is built or written. The stored order
    holds the plate STL, the G-code and the quote; with `slice_it` its print time and filament are
    the slicer's own and the order ends `sliced`, otherwise it stays `confirmed` with the estimate.
    """
    import tempfile
    import time

    from somana_core.geometry import build, make_spec
    from somana_core.quote import quote_product, quote_sliced
    from somana_core.slicing import slice_file

    t = timings if timings is not None else {}
    clock = time.perf_counter
    if not (customer or "").strip():
        raise InputError("customer", "customer is empty: name who the order is for")

    start = clock()
    spec = make_spec(family, values)
    t["validate"] = clock() - start

    start = clock()
    product = build(spec)
    t["build"] = clock() - start

    with tempfile.TemporaryDirectory(prefix="somana-order-", dir=work_dir) as folder:
        stl = Path(folder) / f"{family}.stl"
        start = clock()
        product.export(stl)
        t["export"] = clock() - start

        start = clock()
        quote = quote_product(product, family, qty=qty, material=material, queue=store)
        t["quote"] = clock() - start

        result = None
        if slice_it:
            start = clock()
            gcode = Path(folder) / f"{family}.gcode"
            result = slice_file(stl, gcode, material=material, machine=spec.values().get("machine"))
            quote = quote_sliced(product, family, result, qty=qty, queue=store)
            t["slice"] = clock() - start

        start = clock()
        order = store.place(customer, family, spec.values(), quote.to_dict(), files={stl.name: stl},
                            material=material, qty=qty)
        if result is not None:
            order = store.attach_file(order.number, gcode.name, gcode,
                                      meta={k: v for k, v in result.to_dict().items() if k != "gcode_path"},
                                      new_state="sliced", note="sliced by PrusaSlicer")
        t["store"] = clock() - start
    t["total"] = sum(t[s] for s in STAGES if s in t)
    return order
