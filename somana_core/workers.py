"""CAD and slicing in warm worker processes (Dask distributed), never in the web process.

    from somana_core import workers
    pool = workers.connect()                      # a local cluster sized to the machine, or
    pool = workers.connect("tcp://HOST:8786")     # an existing scheduler with `dask worker` machines
    future = pool.submit("quote", family="sensor_enclosure", values={"wall": 2.4})
    future.result()                               # blocking (command line, notebooks), or
    await workers.result(future)                  # from any asyncio loop (Panel async callbacks)
    pool.cancel(future)                           # dropped if it has not started; discarded if it has

Every job is one of KINDS: the worker imports CadQuery once and keeps its own part cache.
`LatestWins` is one session's door to the pool: a change's quote is one `part` job per part (built,
measured and meshed; the parts build side by side on the workers), its preview is made from those
meshes without a second trip; a new change supersedes that session's jobs that have not finished
(cancelled, so a queued one never runs), and sessions share the workers fairly: a session's jobs
queue behind those of sessions that asked less in the last few seconds. The gallery of `somana
publish` is one `product` job per variant.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass

from somana_core.errors import InputError

# Dask priorities: higher runs first. Interactive work (a person waiting on /configure) goes
# before batch work (the publish gallery, benchmarks); among sessions, fair share decides.
PRIORITY_INTERACTIVE = 1000
PRIORITY_BATCH = 0
FAIR_SHARE_WINDOW_S = 10.0   # a session's requests in this window lower its next one's priority
DEFAULT_TIMEOUT_S = 60.0     # a job not finished by then is reported as timed out (and cancelled)
RUN_LOG_SIZE = 2000          # jobs each worker remembers having run (tests, benchmarks)


class Superseded(Exception):
    """A newer request of the same session replaced this one (it was cancelled or its result dropped)."""


class JobTimedOut(Exception):
    """A job did not finish within its time limit."""


# ---------------------------------------------------------------------------- what runs in a worker

_RUN_LOG: collections.deque = collections.deque(maxlen=RUN_LOG_SIZE)


def _logged(kind: str, request: str, function, *args, **kwargs):
    started = time.time()
    try:
        return function(*args, **kwargs)
    finally:
        _RUN_LOG.append({"kind": kind, "request": request, "started": started, "finished": time.time(),
                         "pid": os.getpid()})


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


def _spec(family: str, values: dict):
    from somana_core import geometry

    return geometry.make_spec(family, values)


def job_quote(family: str, values: dict, qty: int = 1, material: str = "PLA", queue_s: float = 0.0) -> dict:
    """Build (cached per part), measure and quote -> {"quote": Quote, "values", "worker", "plate_seconds"
    (one unit's print seconds per build plate: `scheduling.promise.plate_seconds`), "checks" (the
    family's fitness checks in this material, Product.metrics; {} for a family without)}."""
    from somana_core import geometry, quote

    spec = _spec(family, values)
    product = geometry.build(spec)
    from somana_core.scheduling.promise import plate_seconds

    metrics = product.metrics(material)
    result = quote.quote_product(metrics, family, qty=qty, material=material, queue=queue_s,
                                 machine=getattr(spec, "machine", None))
    return {"quote": result, "values": spec.values(), "worker": _worker_address(),
            "plate_seconds": plate_seconds(metrics, result.machine), "checks": metrics.get("checks", {})}


def job_part(family: str, values: dict, part: str, material: str = "PLA", deflection_mm: float | None = None,
             extras: bool = False) -> dict:
    """One part of a product, built, measured AND meshed for the preview in one job, so the parts of
    one change build on several workers at once and the mesh needs no second trip (LatestWins.run
    "quote"): {"part", "metrics" (Product.metrics of this part alone), "meshes" (name -> Mesh, placed
    as assembled; with `extras`, what the family adds to a preview), "values", "worker"}."""
    from somana_core import geometry, preview

    deflection_mm = preview.PREVIEW_DEFLECTION_MM if deflection_mm is None else deflection_mm
    spec = _spec(family, values)
    product = geometry.build(spec, parts=(part,))
    return {"part": part, "metrics": product.metrics(material),
            "meshes": product.preview(deflection_mm, part=None if extras else part),
            "values": spec.values(), "worker": _worker_address()}


def job_product(family: str, values: dict, material: str = "PLA", qty: int = 1, deflection_mm: float | None = None,
                revision: int = 0, fit: bool = True) -> dict:
    """Everything a page shows of one product, in one job (the published gallery's cards): {"values",
    "metrics", "quote", "payload" (the viewer's mesh payload), "worker"}."""
    from somana_core import geometry, preview, quote

    deflection_mm = preview.PREVIEW_DEFLECTION_MM if deflection_mm is None else deflection_mm
    spec = _spec(family, values)
    product = geometry.build(spec)
    metrics = product.metrics(material)
    return {"values": spec.values(), "metrics": metrics,
            "quote": quote.quote_product(metrics, family, qty=qty, material=material,
                                         machine=getattr(spec, "machine", None)),
            "payload": preview.mesh_payload(product.preview(deflection_mm), revision=revision, fit=fit),
            "worker": _worker_address()}


def job_ranges(family: str, values: dict) -> dict:
    """geometry.field_ranges (each field's bounds given the others): no CAD, but 0.1-0.3 s of Python per
    change, which a web process serving many sessions should not spend beside its event loop."""
    from somana_core import geometry

    return geometry.field_ranges(family, values)


def job_metrics(family: str, values: dict, material: str = "PLA") -> dict:
    from somana_core import geometry

    return geometry.build(_spec(family, values)).metrics(material)


def job_preview(family: str, values: dict, deflection_mm: float | None = None, revision: int = 0,
                fit: bool = False, color: str | None = None) -> dict:
    """The viewer's mesh payload of the assembled product (somana_core.preview.mesh_payload)."""
    from somana_core import geometry, preview

    deflection_mm = preview.PREVIEW_DEFLECTION_MM if deflection_mm is None else deflection_mm
    product = geometry.build(_spec(family, values))
    return preview.mesh_payload(product.preview(deflection_mm), revision=revision, fit=fit, color=color)


def job_export(family: str, values: dict, suffix: str, part: str | None = None) -> bytes:
    """The product (or one part) as .stl/.step/.3mf file bytes."""
    import tempfile
    from pathlib import Path

    from somana_core import geometry

    product = geometry.build(_spec(family, values))
    with tempfile.TemporaryDirectory(prefix="somana-export-") as folder:
        path = Path(folder) / f"{family}.{suffix.lstrip('.')}"
        product.export(path, part=part)
        return path.read_bytes()


def job_slice(family: str, values: dict, material: str = "PLA", machine: str | None = None) -> dict:
    """Slice the product's plate with PrusaSlicer -> {"gcode": bytes, "stl": bytes, "result": SliceResult}."""
    import tempfile
    from pathlib import Path

    from somana_core import geometry, slicing

    product = geometry.build(_spec(family, values))
    with tempfile.TemporaryDirectory(prefix="somana-slice-") as folder:
        stl, gcode = Path(folder) / f"{family}.stl", Path(folder) / f"{family}.gcode"
        result = slicing.slice_product(product, gcode, material=material, machine=machine, stl_path=stl)
        return {"gcode": gcode.read_bytes(), "stl": stl.read_bytes(), "result": result}


def job_warm() -> dict:
    """Import CadQuery and build each family's default (somana_core.preview.warm_up) in this worker."""
    from somana_core import preview

    return preview.warm_up()


def job_export_plates(family: str, values: dict, suffix: str) -> list[bytes]:
    """Every build plate of the product as .stl/.step/.3mf file bytes, plate 1 first (one item when the
    parts share one plate): an order stores them all, each printed as its own job."""
    import tempfile
    from pathlib import Path

    from somana_core import geometry

    product = geometry.build(_spec(family, values))
    with tempfile.TemporaryDirectory(prefix="somana-export-") as folder:
        paths = product.export_plates(Path(folder) / f"{family}.{suffix.lstrip('.')}")
        return [path.read_bytes() for path in paths]


KINDS = {"quote": job_quote, "part": job_part, "product": job_product, "ranges": job_ranges,
         "metrics": job_metrics, "preview": job_preview, "export": job_export,
         "slice": job_slice, "warm": job_warm}
KINDS["export_plates"] = job_export_plates


QUIET_WAIT_S = 2.0


def _silence_distributed_logs() -> None:
    """On a worker about to be closed: nothing below CRITICAL from Dask's own loggers."""
    import logging

    for name in ("distributed", "distributed.worker", "distributed.nanny", "distributed.core", "distributed.comm"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _read_run_log() -> list[dict]:
    return list(_RUN_LOG)


def _clear_run_log() -> None:
    _RUN_LOG.clear()


def warm_up_plugin():
    """A Dask worker plugin: every worker (also one that joins later) imports CadQuery and builds
    each family's default before its first job, so no customer pays for a cold worker."""
    from distributed import WorkerPlugin

    class WarmUp(WorkerPlugin):
        name = "somana-warm-up"

        def setup(self, worker):
            job_warm()

    return WarmUp()


# ---------------------------------------------------------------------------- the pool

class Workers:
    """A Dask client (and, when we started it, our local cluster)."""

    def __init__(self, client, cluster=None):
        self.client = client
        self.cluster = cluster
        self._closed = False

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    @property
    def worker_count(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def wait_for_workers(self, count: int = 1, timeout_s: float = 60.0) -> None:
        self.client.wait_for_workers(count, timeout=timeout_s)

    def submit(self, kind: str, *, priority: float = PRIORITY_BATCH, worker: str | None = None, **inputs):
        """Run job `kind` with `inputs` on a worker -> a distributed.Future. `worker` prefers one worker
        (the one holding the part in its cache) but lets another take the job if that one is gone."""
        try:
            function = KINDS[kind]
        except KeyError:
            raise InputError("kind", f"kind={kind!r} is not a worker job; allowed: {', '.join(KINDS)}") from None
        request = f"{kind}-{uuid.uuid4().hex}"
        placement = {"workers": [worker], "allow_other_workers": True} if worker else {}
        return self.client.submit(_logged, kind, request, function, key=request, pure=False, priority=priority,
                                  **placement, **inputs)

    def cancel(self, future) -> None:
        """Cancel a job: a queued one never runs; a running one finishes in its worker, its result dropped.
        Does not wait: the web process's event loop calls it on every superseded change."""
        futures = [f for f in (future if isinstance(future, (list, tuple)) else [future]) if not f.done()]
        if futures:
            asyncio.run_coroutine_threadsafe(self.client.cancel(futures, asynchronous=True),
                                             self.client.loop.asyncio_loop)

    def run_log(self) -> list[dict]:
        """Every worker's recent jobs (kind, request key, start and end times), oldest first."""
        logs = self.client.run(_read_run_log)
        return sorted((dict(entry, worker=address) for address, entries in logs.items() for entry in entries),
                      key=lambda e: e["started"])

    def clear_run_log(self) -> None:
        self.client.run(_clear_run_log)

    def warm(self) -> None:
        """Warm every worker now and every worker that joins later (see warm_up_plugin)."""
        self.client.register_plugin(warm_up_plugin())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.cluster is not None:
            self._quiet_shutdown()
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()

    def _quiet_shutdown(self) -> None:
        """Our own workers are about to go: a heartbeat caught mid-flight by the close logs
        "Failed to communicate with scheduler" with a traceback on the user's terminal (seen in CI
        after a failed `somana publish`). Errors while they work still print; these do not. Waits at most
        QUIET_WAIT_S (a worker deep in a CAD call may answer late; the close goes on without it)."""
        def quiet():
            try:
                self.client.run(_silence_distributed_logs, wait=True)
            except Exception:  # noqa: BLE001 - a worker already gone has nothing left to say
                pass

        asking = threading.Thread(target=quiet, name="somana-quiet-workers", daemon=True)
        asking.start()
        asking.join(QUIET_WAIT_S)


def serve_pool(url: str | None = None, warm: bool = True) -> str:
    """Connect the server's pool (`somana serve [--workers URL]`) and warm its workers; a line to print."""
    started = time.perf_counter()
    pool = connect(url)
    pool.wait_for_workers(1)
    warmed = "not warmed"
    if warm:
        try:
            pool.warm()
            warmed = "warmed"
        except Exception as exc:  # noqa: BLE001 - the pool still builds on demand; the first builds are slower
            warmed = f"warm-up failed ({exc}): the first builds will be slow"
    where = url or "a local cluster"
    return (f"{pool.worker_count} worker process(es) at {pool.address} ({where}), {warmed} in "
            f"{time.perf_counter() - started:.1f} s")


def default_worker_count() -> int:
    """One worker process per core: each build is single-threaded CPU work."""
    return max(1, os.cpu_count() or 1)


def start_local(worker_count: int | None = None) -> Workers:
    """A new local cluster of worker processes (one thread each) and a client for it."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    count = worker_count or default_worker_count()
    if count < 1:
        raise InputError("workers", f"workers={count} must be at least 1")
    # One job per worker at a time, the rest wait at the scheduler where priorities decide.
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0",
                               scheduler_port=0, host="127.0.0.1", silence_logs=logging.ERROR)
    client = Client(cluster, set_as_default=False)
    return Workers(client, cluster)


def attach(url: str) -> Workers:
    """A client of an existing scheduler (tcp://HOST:8786) whose workers were started elsewhere."""
    from distributed import Client

    if not url.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
        raise InputError("--workers", f"--workers {url!r} is not a Dask scheduler address (tcp://HOST:8786)")
    try:
        client = Client(url, set_as_default=False, timeout="10s")
    except OSError as exc:
        raise InputError("--workers", f"--workers {url}: no Dask scheduler answered ({exc})") from None
    return Workers(client)


_pool: Workers | None = None
_pool_lock = threading.Lock()


def connect(url: str | None = None, worker_count: int | None = None) -> Workers:
    """The process's pool: the first call starts a local cluster (url None) or attaches to `url`;
    later calls return the same pool. Closed when the process exits (no orphaned workers)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._closed:
            _pool = attach(url) if url else start_local(worker_count)
        return _pool


def submit(kind: str, **inputs):
    """`connect().submit(kind, **inputs)`: the process's pool, started on first use."""
    return connect().submit(kind, **inputs)


def cancel(future) -> None:
    connect().cancel(future)


def shutdown() -> None:
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.close()


atexit.register(shutdown)


async def result(future, timeout_s: float | None = None):
    """Await a distributed.Future from any asyncio loop (the client runs its own loop in a thread).
    Raises Superseded if the job was cancelled, JobTimedOut after `timeout_s`, else the job's error."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def settle(outcome, error):
        if waiter.done():
            return
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(outcome)

    def done(finished):  # on Dask's callback thread
        if finished.cancelled():
            outcome, error = None, Superseded(finished.key)
        else:
            try:
                outcome, error = finished.result(), None
            except BaseException as exc:  # noqa: BLE001 - the job's own error, re-raised in the caller
                outcome, error = None, exc
        loop.call_soon_threadsafe(settle, outcome, error)

    future.add_done_callback(done)
    try:
        return await asyncio.wait_for(waiter, timeout_s)
    except asyncio.TimeoutError:
        raise JobTimedOut(f"no result within {timeout_s:g} s") from None


# ---------------------------------------------------------------------------- one session's jobs

STAGE_LOG_ENV = "SOMANA_STAGE_LOG"   # a file: LatestWins appends one JSON line per request (benchmarks)


def _stage_log(record: dict) -> None:
    path = os.environ.get(STAGE_LOG_ENV)
    if path:
        with open(path, "a") as log:
            log.write(json.dumps(record, default=str) + "\n")


@dataclass
class SessionStats:
    requests: int = 0
    superseded: int = 0     # cancelled or dropped because a newer request came
    failed: int = 0
    timed_out: int = 0


def quote_from_parts(family: str, parts: list[dict], qty: int, material: str, queue_s: float = 0.0):
    """The quote of a product from its parts' `job_part` results (in the family's part order): the
    same numbers as job_quote's (the metrics summed as Product.metrics sums them). Arithmetic only."""
    from somana_core import quote

    return quote.quote_product(metrics_from_parts(parts, material), family, qty=qty, material=material,
                               queue=queue_s, machine=parts[0]["values"].get("machine"))


def metrics_from_parts(parts: list[dict], material: str) -> dict:
    """Product.metrics of a product from its parts' `job_part` results (summed as Product.metrics sums)."""
    metrics = {"parts": {}, "total": {}, "material": material}
    for done in parts:
        metrics["parts"].update(done["metrics"]["parts"])
    for key in parts[0]["metrics"]["total"]:
        metrics["total"][key] = sum(p for p in (d["metrics"]["parts"][d["part"]][key] for d in parts))
    if "checks" in parts[0]["metrics"]:  # the family's fitness checks: of the spec, the same in every part's job
        metrics["checks"] = parts[0]["metrics"]["checks"]
    return metrics


class LatestWins:
    """One session's door to the pool: only its newest request matters.

    `await run(kind, **inputs)` submits a job; a newer `run` cancels the previous one if it has not
    finished (a queued job never runs), and the older caller gets `Superseded`. Its priority is
    interactive, lowered by how many requests the session made in the last FAIR_SHARE_WINDOW_S, so a
    person dragging a slider waits behind people who asked once. `follow_up=True` (the second job of
    the same change, e.g. the preview after the quote) keeps the priority of the change's first job.

    A "quote" is made as one `part` job per part of the product (they build on several workers at
    once) and each part job also meshes its part: the change's "preview" follow-up is then answered
    here from those meshes, without a second trip to a worker. Measured on /configure (2 cores):
    sensor enclosure base 137 ms, lid 203 ms (build + measure + mesh), so the mesh is ready after the
    slower part instead of after both parts' builds plus a preview job.
    """

    def __init__(self, pool: Workers, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.pool = pool
        self.timeout_s = timeout_s
        self.stats = SessionStats()
        self._current: list = []           # the futures of the request in flight
        self.last_key: str | None = None   # the Dask key of the newest job (its run log entry's "request")
        self.last_keys: list[str] = []     # every Dask key of the newest request (a quote has one per part)
        self._recent: collections.deque = collections.deque()
        self._priority = PRIORITY_INTERACTIVE
        self._meshes: tuple | None = None  # (family, values, deflection_mm) -> meshes of the last quote
        self.session_id = uuid.uuid4().hex[:8]

    def _fair_priority(self) -> float:
        now = time.monotonic()
        while self._recent and now - self._recent[0] > FAIR_SHARE_WINDOW_S:
            self._recent.popleft()
        self._recent.append(now)
        return PRIORITY_INTERACTIVE - len(self._recent)

    def supersede(self) -> None:
        """Cancel the job in flight (a new change is coming, or the session closed)."""
        current, self._current = self._current, []
        pending = [f for f in current if not f.done()]
        if pending:
            self.stats.superseded += 1
            self.pool.cancel(pending)

    async def run(self, kind: str, follow_up: bool = False, worker: str | None = None, **inputs):
        called = time.time()
        if not follow_up:
            self.supersede()
            self._priority = self._fair_priority()
            self.stats.requests += 1
        priority = self._priority + (1 if follow_up else 0)
        if kind == "preview" and follow_up:
            payload = self._preview_from_quote(inputs)
            if payload is not None:
                _stage_log({"session": self.session_id, "kind": kind, "local": True, "called": called,
                            "settled": time.time(), "outcome": "done", "values": inputs.get("values")})
                return payload
        if kind == "quote":
            family, values = inputs["family"], inputs["values"]
            parts = _family_parts(family)
            futures = [self.pool.submit("part", priority=priority, family=family, values=values, part=part,
                                        material=inputs.get("material", "PLA"), extras=index == 0)
                       for index, part in enumerate(parts)]
        else:
            futures = [self.pool.submit(kind, priority=priority, worker=worker, **inputs)]
        submitted = time.time()
        self._current, self.last_keys, self.last_key = futures, [f.key for f in futures], futures[-1].key
        outcome = "done"
        try:
            values = await asyncio.gather(*(result(f, self.timeout_s) for f in futures))
        except Superseded:
            outcome = "superseded"
            self.pool.cancel(futures)  # the other parts of a superseded quote
            raise
        except JobTimedOut:
            outcome = "timed out"
            if self._current is futures:
                self.stats.timed_out += 1
                self.supersede()
            raise
        except Exception as exc:
            outcome = f"failed: {exc}"
            self.pool.cancel(futures)
            if self._current is futures:
                self.stats.failed += 1
            raise
        finally:
            _stage_log({"session": self.session_id, "kind": kind, "keys": [f.key for f in futures],
                        "called": called, "submitted": submitted, "settled": time.time(), "outcome": outcome,
                        "values": inputs.get("values")})
        if self._current is not futures:
            raise Superseded(futures[0].key)
        self._current = []  # finished: nothing to cancel, and the worker may forget the result
        if kind != "quote":
            return values[0]
        self._meshes = ((inputs["family"], values[0]["values"], preview_deflection()),
                        [m for done in values for m in done["meshes"].items()])
        quote = quote_from_parts(inputs["family"], values, qty=inputs.get("qty", 1),
                                 material=inputs.get("material", "PLA"), queue_s=inputs.get("queue_s", 0.0))
        from somana_core.scheduling.promise import plate_seconds

        # each build plate of one unit, for the promise (the plan places a job per plate and unit)
        metrics = metrics_from_parts(values, quote.material)
        plates = plate_seconds(metrics, quote.machine)
        return {"quote": quote, "values": values[0]["values"], "worker": values[0]["worker"], "plate_seconds": plates,
                "checks": metrics.get("checks", {})}  # the family's fitness checks (eyewear: the temples' grip)

    def _preview_from_quote(self, inputs: dict) -> dict | None:
        """The preview payload of the last quote's meshes, if that quote was of these very inputs."""
        from somana_core import preview

        if self._meshes is None:
            return None
        (family, values, deflection_mm), meshes = self._meshes
        wanted = inputs.get("deflection_mm")
        if (family != inputs.get("family") or values != inputs.get("values")
                or (wanted is not None and abs(wanted - deflection_mm) > 1e-9)):
            return None
        parts = _family_parts(family)  # the parts in the family's order, then the extras (as Product.preview)
        ordered = dict(sorted(meshes, key=lambda item: parts.index(item[0]) if item[0] in parts else len(parts)))
        return preview.mesh_payload(ordered, revision=inputs.get("revision", 0), fit=inputs.get("fit", False),
                                    color=inputs.get("color"))


def preview_deflection() -> float:
    from somana_core import preview

    return preview.PREVIEW_DEFLECTION_MM


def _family_parts(family: str) -> tuple[str, ...]:
    from somana_core import geometry

    offered = {**geometry.FAMILIES, **geometry.FITTED}
    if family not in offered:
        raise InputError("family", f"family={family!r} is not a product family; allowed: {', '.join(offered)}")
    return tuple(offered[family].parts)
