"""The order store: every order, its quote, its files and the states it may move through.

This module only stores: placing, printing and finishing an order are `somana_core.fulfilment`.
The state table lives here because the store enforces it inside the same transaction as the
move (two stations racing to start one order: one wins).

SQLAlchemy 2 over a SQLite file by default (`state_dir()/orders.sqlite`, WAL, one transaction per
change, so a crash leaves each order wholly there or wholly absent) or any database URL
(PostgreSQL for a factory with several stations). Files (STL/3MF/G-code) are stored once by their
SHA-256 in a blob table, inside the same transaction as the order that refers to them.

Plates: an order whose parts do not share one build plate is printed as several jobs, one per
plate. Such an order has a row per plate (`order_plates`), each with its own state and history,
and its files carry `meta["plate"]` (1-based). A plate is named `NUMBER/K` (`SO-000123/2`) wherever
an order number is taken: `get`, `transition`, `attach_file`, `export_file` on `SO-000123/2` read or
move that plate alone, and `get` returns the plate as a print job (an `Order` record whose number,
state, history, files and print time are the plate's). The order's own state is then derived from
its plates in the same transaction (done only when every plate is done; a cancelled plate cancels
the order). An order that fits one plate has no plate rows and behaves as before.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import StrEnum
from numbers import Integral
from pathlib import Path

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
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from somana_core.data import state_dir
from somana_core.errors import InputError

class OrderState(StrEnum):
    """Where an order is in its life. A StrEnum: `OrderState.DONE == "done"`, stored as the string."""

    QUOTED = "quoted"                  # priced, not yet ordered
    CONFIRMED = "confirmed"            # placed: the customer has ordered it
    PLACED = "confirmed"               # (alias) the name the customer's side uses
    NEEDS_APPROVAL = "needs_approval"  # placed at a price outside the family's band: a founder decides
    SLICED = "sliced"                  # G-code stored with the order
    QUEUED = "queued"                  # waiting for a printer
    PRINTING = "printing"
    INTERRUPTED = "interrupted"        # the print stopped (disconnect, error); history has its last acked line
    DONE = "done"
    FAILED = "failed"                  # the print failed; may be queued again
    CANCELLED = "cancelled"            # final: nobody will make it


STATES = tuple(state.value for state in OrderState)

# state -> the states an order may move to from there. `done` and `cancelled` are final;
# a failed or interrupted print goes back to the queue (reprint or resume) or is cancelled.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "quoted": ("confirmed", "needs_approval", "cancelled"),
    "needs_approval": ("confirmed", "cancelled"),
    "confirmed": ("sliced", "cancelled"),
    "sliced": ("queued", "sliced", "cancelled"),
    "queued": ("printing", "cancelled"),
    "printing": ("done", "failed", "interrupted", "cancelled"),
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
CUSTOMER_COLUMN_CHARS = 200      # the column's size; fulfilment's limit (data/order_limits.csv) is lower
IDEMPOTENCY_KEY_CHARS = 64       # a UUID's 36 characters fit; printable ASCII only
MAX_QTY_STORED = 2**31 - 1       # the INTEGER column's range
MAX_PLATES = 99                  # plates of one order (a job name NUMBER/K)
FINAL_STATES = ("done", "cancelled")
# A multi-plate order's state, derived from its plates: the first of these that any plate is in
# (after "cancelled", which any cancelled plate gives, and "done", which needs every plate done).
ROLL_UP_ORDER = ("printing", "interrupted", "failed", "queued", "needs_approval", "confirmed", "sliced", "quoted")


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
    # The client's key for one "Place order" click: placing with the same key again returns this
    # order instead of a second one, and a page that lost the reply finds its order by the key.
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_CHARS), unique=True,
                                                        nullable=True)
    customer: Mapped[str] = mapped_column(String(CUSTOMER_COLUMN_CHARS))
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
    plates: Mapped[list[_PlateRow]] = relationship(order_by="_PlateRow.plate", cascade="all, delete-orphan")


class _EventRow(_Base):
    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    plate: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the order's own event


class _PlateRow(_Base):
    """One build plate of an order that needs several: a print job of its own."""
    __tablename__ = "order_plates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    plate: Mapped[int] = mapped_column(Integer)  # 1-based
    state: Mapped[str] = mapped_column(String(16), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
class Plate:
    """One build plate of a multi-plate order, as the order record lists it."""
    plate: int  # 1-based
    number: str  # the plate's job name, NUMBER/K
    state: str
    history: tuple[Event, ...] = field(default_factory=tuple)
    print_time_s: float | None = None  # one unit's plate, from its latest G-code (slicer)
    filament_g: float | None = None
    gcode: str | None = None  # the name of its latest G-code file

    def to_dict(self) -> dict:
        return {"plate": self.plate, "number": self.number, "state": self.state, "print_time_s": self.print_time_s,
                "filament_g": self.filament_g, "gcode": self.gcode,
                "history": [{"state": e.state, "at": e.at.isoformat(), "note": e.note} for e in self.history]}


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
    idempotency_key: str | None = field(default=None, repr=False)  # not in to_dict: the client's own
    plates: tuple[Plate, ...] = field(default_factory=tuple)  # empty: the order fits one plate
    plate: int | None = None  # set when this record is one plate of an order, as a print job (NUMBER/K)

    @property
    def order_number(self) -> str:
        """The order's own number (for a plate's job record, the order it belongs to)."""
        return split_ref(self.number)[0]

    @property
    def jobs(self) -> tuple[str, ...]:
        """The names of the print jobs that make this order: NUMBER/1..NUMBER/N, or NUMBER alone."""
        return tuple(p.number for p in self.plates) or (self.number,)

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
            "plates": [p.to_dict() for p in self.plates],
            **({"plate": self.plate, "order": self.order_number} if self.plate is not None else {}),
        }


def plate_ref(number: str, plate: int) -> str:
    """The job name of plate `plate` (1-based) of order `number`: SO-000123/2."""
    return f"{number}/{int(plate)}"


def split_ref(ref: str) -> tuple[str, int | None]:
    """`SO-000123/2` -> ("SO-000123", 2); `SO-000123` -> ("SO-000123", None)."""
    text = str(ref).strip().upper()
    number, slash, plate = text.partition("/")
    if not slash:
        return text, None
    if not plate.isdigit() or not 1 <= int(plate) <= MAX_PLATES:
        raise InputError("number", f"{str(ref)[:40]!r}: a plate is NUMBER/K with K from 1 to {MAX_PLATES}")
    return number, int(plate)


def _latest_gcode(files) -> StoredFile | None:
    found = [f for f in files if f.kind == "gcode"]
    return found[-1] if found else None


def _plates(row: _OrderRow, files: tuple[StoredFile, ...]) -> tuple[Plate, ...]:
    plates = []
    for p in row.plates:
        gcode = _latest_gcode(f for f in files if f.meta.get("plate") == p.plate)
        meta = gcode.meta if gcode else {}
        plates.append(Plate(
            plate=p.plate, number=plate_ref(row.number, p.plate), state=p.state,
            history=tuple(Event(e.state, _as_utc(e.at), e.note) for e in row.events if e.plate == p.plate),
            print_time_s=float(meta["print_time_s"]) if meta.get("print_time_s") is not None else None,
            filament_g=float(meta["filament_g"]) if meta.get("filament_g") is not None else None,
            gcode=gcode.name if gcode else None))
    return tuple(plates)


def plate_job(order: Order, plate: int) -> Order:
    """Plate `plate` of a multi-plate order as a print job: an Order record named NUMBER/K with the
    plate's state, history and files, and its own print time in the quote (the order's share when
    the plate is not sliced yet)."""
    found = next((p for p in order.plates if p.plate == plate), None)
    if found is None:
        have = f"plates 1-{len(order.plates)}" if order.plates else "one plate (no NUMBER/K jobs)"
        raise InputError("number", f"order {order.number} has no plate {plate}: it has {have}")
    quote = dict(order.quote or {})
    if found.print_time_s is not None:
        quote["print_time_s"], quote["print_time_source"] = found.print_time_s, "slicer"
    elif quote.get("print_time_s") is not None:
        quote["print_time_s"] = float(quote["print_time_s"]) / len(order.plates)
    if found.filament_g is not None:
        quote["filament_g"] = found.filament_g
    return replace(order, number=found.number, state=found.state, history=found.history, quote=quote,
                   files=tuple(f for f in order.files if f.meta.get("plate") == plate), plates=(), plate=plate)


def _to_order(row: _OrderRow) -> Order:
    files = tuple(
        StoredFile(f.kind, f.name, f.sha256, f.size, dict(f.meta or {}), _as_utc(f.created_at))
        for f in row.files
    )
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
        history=tuple(Event(e.state, _as_utc(e.at), e.note) for e in row.events if e.plate is None),
        files=files,
        idempotency_key=row.idempotency_key,
        plates=_plates(row, files),
    )


# ---------------------------------------------------------------- the store


DB_URL_ENV = "SOMANA_DB_URL"  # `somana serve --db URL` sets it for the apps it serves


def default_url() -> str:
    """$SOMANA_DB_URL when set, else the SQLite file in the factory's state folder.
    The one reader of $SOMANA_DB_URL."""
    return os.environ.get(DB_URL_ENV) or f"sqlite:///{state_dir() / 'orders.sqlite'}"


def default_store_exists() -> bool:
    """Whether opening the default store would open an existing database, not create a file
    (a quote reads the queue only from a store that is there)."""
    return bool(os.environ.get(DB_URL_ENV)) or (state_dir() / "orders.sqlite").exists()


def check_url(url: str) -> str:
    """`url` if SQLAlchemy can parse it and has a driver for it; else InputError naming --db."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(_driver_url(url))
        parsed.get_dialect()
    except (ArgumentError, ValueError) as exc:
        raise InputError("db", f"--db {url[:80]!r} is not a database URL (sqlite:///FILE or "
                                 f"postgresql://USER@HOST/DB): {str(exc).splitlines()[0]}") from None
    except ImportError as exc:  # NoSuchModuleError is one: an unknown dialect or a missing driver
        raise InputError("db", f"--db {_shown_url(url)}: no database driver for it ({exc}); "
                                 "use sqlite:///FILE or postgresql://USER@HOST/DB") from None
    return url


def _shown_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url[:80])


def _driver_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _engine(url: str) -> Engine:
    url = _driver_url(url)
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


def _add_missing_columns(engine: Engine) -> None:
    """Stores made before the idempotency key get its column and unique index (create_all adds
    tables, never columns)."""
    if "plate" not in {c["name"] for c in inspect(engine).get_columns("order_events")}:
        with engine.begin() as conn:  # stores made before multi-plate orders
            conn.execute(text("ALTER TABLE order_events ADD COLUMN plate INTEGER"))
    columns = {c["name"] for c in inspect(engine).get_columns("orders")}
    if "idempotency_key" in columns:
        return
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE orders ADD COLUMN idempotency_key VARCHAR({IDEMPOTENCY_KEY_CHARS})"))
        conn.execute(text("CREATE UNIQUE INDEX IF NOT EXISTS ix_orders_idempotency_key "
                          "ON orders (idempotency_key)"))


class OrderStore:
    """Orders behind SQLAlchemy. `url=None`: $SOMANA_DB_URL, else the SQLite file in the state folder.

    A served process uses ONE store (`shared_store()`): an engine holds a connection pool, and
    making one per session or per click was the cost issue 16 measured. Scripts and tests may open
    their own and close them.
    """

    def __init__(self, url: str | None = None):
        self.url = check_url(url) if url else default_url()
        self.engine = _engine(self.url)
        self._reader = self.engine.execution_options(somana_readonly=True)
        try:
            _Base.metadata.create_all(self.engine)
            _add_missing_columns(self.engine)
        except OperationalError as exc:  # no such folder, server down, wrong password
            self.engine.dispose()
            raise InputError("db", f"database {_shown_url(self.url)} cannot be opened: "
                                   f"{str(exc.orig).splitlines()[0] if exc.orig else exc}") from None

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
        idempotency_key: str | None = None,
        state: str | None = None,
        plates: int = 1,
        file_plates: dict[str, int] | None = None,
    ) -> Order:
        """Store a new order in one transaction: `quoted`, then `state` (default `confirmed`;
        `confirm=False` leaves it quoted).

        `files` maps a file name (its suffix gives the kind) to a path or to the bytes themselves.
        `plates` > 1: the parts need that many build plates; each becomes a print job (NUMBER/K) in
        the order's state, and `file_plates` says which plate each file is (name -> 1-based plate).
        With `idempotency_key`, an order already placed with that key is returned as it is (and
        nothing is written); the key naming a different order's content is refused.
        The store checks only what its columns can hold; `fulfilment.place_order` checks the rest.
        """
        customer = (customer or "").strip()
        if not customer:
            raise InputError("customer", "customer is empty: name who the order is for")
        if len(customer) > CUSTOMER_COLUMN_CHARS:
            raise InputError("customer", f"customer is {len(customer)} characters: at most {CUSTOMER_COLUMN_CHARS}")
        if isinstance(qty, bool) or not isinstance(qty, Integral) or not 1 <= qty <= MAX_QTY_STORED:
            raise InputError("qty", f"qty={qty!r} is not a whole number from 1 to {MAX_QTY_STORED}")
        for name, value, size in (("family", family, 64), ("material", material, 32)):
            if not isinstance(value, str) or not 0 < len(value) <= size:
                raise InputError(name, f"{name}={str(value)[:40]!r} is not a name of 1-{size} characters")
        key = check_idempotency_key(idempotency_key)
        if isinstance(plates, bool) or not isinstance(plates, Integral) or not 1 <= plates <= MAX_PLATES:
            raise InputError("plates", f"plates={plates!r} is not a whole number from 1 to {MAX_PLATES}")
        file_plates = dict(file_plates or {})
        for name, plate in file_plates.items():
            if plates < 2 or not isinstance(plate, Integral) or not 1 <= plate <= plates:
                raise InputError("plates", f"file {name!r} is on plate {plate!r}: the order has {plates} plate(s)")
        target = state or ("confirmed" if confirm else "quoted")
        if target not in TRANSITIONS["quoted"] and target != "quoted":
            raise InputError("state", f"a new order cannot start {target}: "
                                      f"it starts quoted, {', '.join(TRANSITIONS['quoted'])}")
        parameters = json.loads(json.dumps(parameters, default=str))
        quote = json.loads(json.dumps(quote, default=str))
        if key is not None:
            existing = self.find_by_key(key)
            if existing is not None:
                return _same_order(existing, customer, family, parameters, material, qty)
        blobs = [self._read_file(name, content) for name, content in (files or {}).items()]
        for name, _kind, _data, meta in blobs:
            if name in file_plates:
                meta["plate"] = int(file_plates[name])
        now = _now()
        try:
            with Session(self.engine) as session, session.begin():
                if key is not None:  # under the write lock (SQLite) this read cannot race another writer
                    row = session.scalars(select(_OrderRow).where(_OrderRow.idempotency_key == key)).first()
                    if row is not None:
                        return _same_order(_to_order(row), customer, family, parameters, material, qty)
                row = _OrderRow(
                    customer=customer, family=family, material=material, qty=int(qty), idempotency_key=key,
                    parameters=parameters, quote=quote, state="quoted", created_at=now, updated_at=now,
                )
                row.events.append(_EventRow(state="quoted", at=now, note=None))
                if target != "quoted":
                    row.state = target
                    row.events.append(_EventRow(state=target, at=now, note=None))
                if plates > 1:
                    for k in range(1, plates + 1):
                        row.plates.append(_PlateRow(plate=k, state=target, updated_at=now))
                        row.events.append(_EventRow(state=target, at=now, plate=k,
                                                    note=f"plate {k} of {plates}"))
                session.add(row)
                session.flush()  # gives the id the number is made from
                row.number = f"{NUMBER_PREFIX}{row.id:06d}"
                for name, kind, data, meta in blobs:
                    self._add_file(session, row, name, kind, data, meta, now)
                session.flush()
                return _to_order(row)
        except IntegrityError:
            # PostgreSQL: another station committed the same key between our read and our insert
            existing = self.find_by_key(key) if key is not None else None
            if existing is None:
                raise
            return _same_order(existing, customer, family, parameters, material, qty)

    def find_by_key(self, idempotency_key: str) -> Order | None:
        """The order placed with this idempotency key, or None."""
        key = check_idempotency_key(idempotency_key)
        with Session(self._reader) as session:
            row = session.scalars(select(_OrderRow).where(_OrderRow.idempotency_key == key)).first()
            return None if row is None else _to_order(row)

    def transition(self, number: str, new_state: str, note: str | None = None, quote: dict | None = None) -> Order:
        """Move an order to `new_state`; an illegal move raises IllegalTransition. `quote` replaces the
        order's quote in the same transaction (a founder's approval issues its price)."""
        if new_state not in STATES:
            raise InputError("state", f"state={new_state!r} is not one of {', '.join(STATES)}")
        number, plate = split_ref(number)
        now = _now()
        with Session(self.engine) as session, session.begin():
            row = self._row(session, number, lock=True)
            if quote is not None:
                row.quote = json.loads(json.dumps(quote, default=str))
            if plate is not None or row.plates:
                self._move_plates(row, plate, new_state, note, now)
                session.flush()
                order = _to_order(row)
                return plate_job(order, plate) if plate is not None else order
            if new_state not in TRANSITIONS[row.state]:
                raise IllegalTransition(number, row.state, new_state)
            row.state = new_state
            row.updated_at = now
            row.events.append(_EventRow(state=new_state, at=now, note=note))
            session.flush()
            return _to_order(row)

    @staticmethod
    def _move_plates(row: _OrderRow, plate: int | None, new_state: str, note: str | None, now) -> None:
        """Move one plate (or, for the whole order, every plate that can make the move) and derive
        the order's state from its plates. A cancelled plate cancels the order's other unfinished
        plates: the order cannot be completed any more."""
        if not row.plates:
            raise InputError("number", f"order {row.number} has one plate: name it {row.number}, "
                                       f"not {plate_ref(row.number, plate)}")
        if plate is not None:
            chosen = [p for p in row.plates if p.plate == plate]
            if not chosen:
                raise InputError("number", f"order {row.number} has no plate {plate}: it has plates 1-{len(row.plates)}")
            if new_state not in TRANSITIONS[chosen[0].state]:
                raise IllegalTransition(plate_ref(row.number, plate), chosen[0].state, new_state)
        else:  # the whole order: every unfinished plate that may make the move
            chosen = [p for p in row.plates if p.state not in FINAL_STATES and new_state in TRANSITIONS[p.state]]
            if not chosen:
                raise IllegalTransition(row.number, row.state, new_state)
        for p in chosen:
            p.state, p.updated_at = new_state, now
            row.events.append(_EventRow(state=new_state, at=now, note=note, plate=p.plate))
        if new_state == "cancelled":
            for p in row.plates:
                if p.state not in FINAL_STATES:
                    p.state, p.updated_at = "cancelled", now
                    row.events.append(_EventRow(state="cancelled", at=now, plate=p.plate,
                                                note=f"the order was cancelled with plate {chosen[0].plate}"))
        OrderStore._roll_up(row, note, chosen[0].plate if plate is not None else None, now)

    @staticmethod
    def _roll_up(row: _OrderRow, note: str | None, plate: int | None, now) -> None:
        """The order's state from its plates (an event on the order when it changes)."""
        states = [p.state for p in row.plates]
        if "cancelled" in states:
            derived = "cancelled"
        elif all(s == "done" for s in states):
            derived = "done"
        else:
            derived = next(s for s in ROLL_UP_ORDER if s in states)
        row.updated_at = now
        if derived != row.state:
            row.state = derived
            where = f"plate {plate} of {len(states)}" if plate is not None else f"{len(states)} plates"
            done = sum(s == "done" for s in states)
            row.events.append(_EventRow(state=derived, at=now, plate=None,
                                        note=f"{note + ' ' if note else ''}({where}; {done} of {len(states)} done)"))

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
        """Store a file with an order (or with one plate of it: `number` NUMBER/K); optionally, in the
        same transaction, replace its quote (e.g. with the slicer's print time) and move it (or the
        plate) to `new_state` (e.g. `sliced`)."""
        number, plate = split_ref(number)
        name, kind, data, file_meta = self._read_file(name, content)
        file_meta.update(meta or {})
        if plate is not None:
            file_meta["plate"] = plate
        now = _now()
        with Session(self.engine) as session, session.begin():
            row = self._row(session, number, lock=True)
            if plate is not None and not any(p.plate == plate for p in row.plates):
                raise InputError("number", f"order {number} has no plate {plate}")
            if new_state is not None and plate is None and not row.plates and new_state not in TRANSITIONS[row.state]:
                raise IllegalTransition(number, row.state, new_state)
            self._add_file(session, row, name, kind, data, file_meta, now)
            if quote is not None:
                row.quote = json.loads(json.dumps(quote, default=str))
            if new_state is not None and (plate is not None or row.plates):
                self._move_plates(row, plate, new_state, note, now)
            elif new_state is not None:
                row.state = new_state
                row.events.append(_EventRow(state=new_state, at=now, note=note))
            row.updated_at = now
            session.flush()
            order = _to_order(row)
            return plate_job(order, plate) if plate is not None else order

    def attach_plate_files(self, number: str, files: list[tuple[int, str, str | Path | bytes, dict]],
                           new_state: str | None = None, quote: dict | None = None,
                           note: str | None = None) -> Order:
        """Store one file per plate of a multi-plate order in ONE transaction (every plate's G-code
        or none): `files` holds (plate, name, content, meta); each named plate moves to `new_state`."""
        number, _ = split_ref(number)
        read = []
        for plate, name, content, meta in files:
            name, kind, data, file_meta = self._read_file(name, content)
            read.append((int(plate), name, kind, data, {**file_meta, **(meta or {}), "plate": int(plate)}))
        now = _now()
        with Session(self.engine) as session, session.begin():
            row = self._row(session, number, lock=True)
            have = {p.plate for p in row.plates}
            for plate, name, kind, data, meta in read:
                if plate not in have:
                    raise InputError("number", f"order {number} has no plate {plate} (it has {len(have)} plates)")
                self._add_file(session, row, name, kind, data, meta, now)
            if quote is not None:
                row.quote = json.loads(json.dumps(quote, default=str))
            if new_state is not None:
                for plate in sorted({r[0] for r in read}):
                    self._move_plates(row, plate, new_state, note, now)
            row.updated_at = now
            session.flush()
            return _to_order(row)

    # -- reading

    def get(self, number: str) -> Order:
        """The order, or with NUMBER/K that plate of it as a print job (see `plate_job`)."""
        number, plate = split_ref(number)
        with Session(self._reader) as session:
            order = _to_order(self._row(session, number))
        return plate_job(order, plate) if plate is not None else order

    def jobs(self, states: tuple[str, ...] | None = None) -> list[Order]:
        """Print jobs, oldest order first: an order that fits one plate is one job (its number), a
        multi-plate order one job per plate (NUMBER/K); only those in `states` when given."""
        with Session(self._reader) as session:
            query = select(_OrderRow).order_by(_OrderRow.id)
            if states is not None:
                with_plates = select(_PlateRow.order_id).where(_PlateRow.state.in_(states))
                query = query.where(_OrderRow.state.in_(states) | _OrderRow.id.in_(with_plates))
            orders = [_to_order(row) for row in session.scalars(query)]
        jobs = []
        for order in orders:
            for job in ([plate_job(order, p.plate) for p in order.plates] or [order]):
                if states is None or job.state in states:
                    jobs.append(job)
        return jobs

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
        """What the printers have ahead of them, one entry per print job (a plate of a multi-plate
        order is one): printing first, then queued, oldest first."""
        jobs = self.jobs(QUEUE_STATES)
        return sorted(jobs, key=lambda o: (o.state != "printing", o.state_at(o.state) or o.created_at))

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
        """Write the order's (or plate NUMBER/K's) latest file of `kind` (e.g. gcode) to `out_path`."""
        order = self.get(number)
        matches = [f for f in order.files if f.kind == kind]
        if order.plates and any("plate" in f.meta for f in matches):
            raise InputError("number", f"order {order.number} has {len(order.plates)} plates, each with its own "
                                       f"{kind} file: export one of {', '.join(order.jobs)}")
        if not matches:
            raise InputError("kind", f"order {number} has no {kind} file")
        out = Path(out_path)
        data = self.file_bytes(matches[-1].sha256)
        partial = out.with_name(f".{out.name}.partial")
        try:  # whole or absent: a reader never sees half a G-code file
            partial.write_bytes(data)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
        return out

    # -- helpers

    @staticmethod
    def _row(session: Session, number: str, lock: bool = False) -> _OrderRow:
        query = select(_OrderRow).where(_OrderRow.number == split_ref(number)[0])
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


# ---------------------------------------------------------------- helpers and the process-wide store


_KEY_PATTERN = re.compile(rf"[A-Za-z0-9_.:-]{{8,{IDEMPOTENCY_KEY_CHARS}}}")


def check_idempotency_key(key: str | None) -> str | None:
    """None, or the key if it is 8-64 characters of letters, digits and `_.:-` (a UUID fits)."""
    if key is None:
        return None
    if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key):
        shown = repr(key)[:50]
        raise InputError("idempotency_key", f"idempotency_key={shown} is not 8-{IDEMPOTENCY_KEY_CHARS} "
                                            "letters, digits or _.:- (a UUID fits)")
    return key


def _same_order(order: Order, customer, family, parameters, material, qty) -> Order:
    """The order a repeated key names, if the repeat asks for the same thing."""
    asked = (customer, family, parameters, material, int(qty))
    stored = (order.customer, order.family, order.parameters, order.material, order.qty)
    if asked != stored:
        raise InputError("idempotency_key", f"this idempotency key already placed order {order.number} "
                                            "with other values: use a new key for a new order")
    return order


_SHARED: dict[str, OrderStore] = {}
_SHARED_LOCK = threading.Lock()


def shared_store(url: str | None = None) -> OrderStore:
    """The process-wide store for `url` (default: `default_url()`): one engine, one connection pool
    and one schema check per process, whatever the number of sessions. Never close it."""
    url = url or default_url()
    with _SHARED_LOCK:
        store = _SHARED.get(url)
        if store is None:
            store = _SHARED[url] = OrderStore(url)
        return store
