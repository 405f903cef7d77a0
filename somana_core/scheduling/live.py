"""The live plan: one Planner per process (the web server's), kept current by the floor's bus.

The stations publish on MQTT (somana_core.floor.bus, read here, never written): a printer's retained
`state` (a job with an order starts printing; the printer drops to disconnected/error/halted or comes
back), its `event`s (`job-ended` with outcome done / failed / interrupted / cancelled; `spool-changed`
with material and colour, sent by a station when an operator runs `somana spool`) and the station's
`status` (online false: every printer on it is offline).
Each message becomes a `Planner.event` and a re-plan on a worker thread (never on paho's network
thread): a print started or ended re-times the kept sequences (milliseconds), anything else is
re-solved within `time_limit_s`; events that arrive while a re-plan runs are applied together before
the next one. New orders in the order store join the plan before every re-plan (and every `poll_s`
when the floor is quiet). A printer drops out of the plan when its state is disconnected, error or
halted, or its station's status goes offline (the station's last will).

Bus printers ("STATION/PRINTER") are matched to the plan's printers (data/printers.csv) by the `bus`
column, else by the printer's id; a job on a printer the table does not know is booked on the printer
the plan had chosen for that order.
"""

from __future__ import annotations

import copy
import queue
import threading
import time
from datetime import datetime, timedelta, timezone

from somana_core.scheduling.model import utc_now

OFFLINE_STATES = ("disconnected", "error", "halted")
PRINTING_STATES = ("printing", "paused", "cancelling")
MAX_TIMES = 200
KEEP_SEQUENCES = ("job_started", "job_done")
REBUILD_AFTER = timedelta(days=7)  # the plan's calendar covers 60 days from its origin

_LOCK = threading.Lock()
_CURRENT: "LivePlan | None" = None


def current() -> "LivePlan | None":
    """The process's live plan, when one was started."""
    return _CURRENT


def start(broker_url: str | None = None, store_factory=None, time_limit_s: float = 1.5, **kw) -> "LivePlan":
    """Start (once per process) the live plan; later calls return the running one."""
    global _CURRENT
    with _LOCK:
        if _CURRENT is None:
            _CURRENT = LivePlan(store_factory=store_factory, broker_url=broker_url, time_limit_s=time_limit_s,
                                **kw).start()
        return _CURRENT


def stop() -> None:
    global _CURRENT
    with _LOCK:
        if _CURRENT is not None:
            _CURRENT.close()
        _CURRENT = None


class LivePlan:
    """A Planner fed by the floor. Readers (`promise_for`, `snapshot`) use the last solved copy."""

    def __init__(self, store_factory=None, broker_url: str | None = None, time_limit_s: float = 1.5,
                 clock=utc_now, printers_bus: dict[str, str] | None = None, first_time_limit_s: float = 3.0,
                 poll_s: float = 5.0):
        self.store_factory = store_factory or _default_store  # returns a store this plan never closes
        self.broker_url = broker_url
        self.time_limit_s = time_limit_s
        self.first_time_limit_s = first_time_limit_s
        self.poll_s = poll_s  # how often the order store is read for new orders when the floor is quiet
        self.clock = clock
        self._printers_bus = printers_bus
        self.lock = threading.RLock()
        self.planner = None
        self.view = None  # the plan as last solved, for readers (see _publish)
        self.packing = None
        self.version = 0  # +1 per re-plan
        self.replan_times: list[dict] = []  # per re-plan: events, seconds from the first event's arrival
        self.applied: list[dict] = []  # the events applied, latest last
        self._inbox: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._bus = None
        self._thread: threading.Thread | None = None
        self._printer_states: dict[str, str] = {}
        self._spools_seen: dict[str, tuple[str, str]] = {}  # bus printer -> the spool its state said
        self._unplanned: set[str] = set()  # bus printers the plan's table does not know (said once)
        self._station_offline: set[str] = set()
        self._seen: dict[str, set[str]] = {}  # station -> the plan's printers seen on it
        self._finished: set[str] = set()  # orders the floor finished (the store may say so a moment later)

    # -- life cycle

    def start(self) -> "LivePlan":
        self.rebuild()
        self._thread = threading.Thread(target=self._worker, name="somana live plan", daemon=True)
        self._thread.start()
        if self.broker_url:
            from somana_core.floor import bus as floor_bus

            self._bus = floor_bus.Bus(self.broker_url, client_id=f"somana-plan-{id(self):x}")
            root = floor_bus.ROOT
            self._bus.subscribe(f"{root}/+/status", self._on_message)
            self._bus.subscribe(f"{root}/+/+/state", self._on_message)
            self._bus.subscribe(f"{root}/+/+/event", self._on_message)
            self._bus.connect()
        return self

    def close(self) -> None:
        self._stopping.set()
        self._inbox.put(None)
        if self._bus is not None:
            self._bus.close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def rebuild(self) -> None:
        """A fresh plan from the order store and the floor's state file (start-up, pins and holds)."""
        from somana_core.scheduling.floor import floor_planner

        started = time.perf_counter()
        planner, packing = floor_planner(self.store_factory(), now=self.clock(), time_limit_s=self.time_limit_s)
        with self.lock:
            if self.planner is not None:  # what the floor taught us about its slips survives a rebuild
                planner.slips_min = self.planner.slips_min
                planner.promised_end = {**self.planner.promised_end, **planner.promised_end}
            planner.replan(time_limit_s=self.first_time_limit_s)
            self.planner, self.packing = planner, packing
            self._publish()
        self._timed("rebuild", started)

    # -- the bus (paho's thread: only queue the message)

    def _on_message(self, topic: str, payload: dict | None, retained: bool) -> None:
        self._inbox.put((time.perf_counter(), topic, payload, retained))

    def submit(self, kind: str, **kw) -> None:
        """An event from this process (e.g. the /plan page): applied and re-planned like a bus one."""
        self._inbox.put((time.perf_counter(), None, {"planner_event": kind, **kw}, False))

    def _worker(self) -> None:
        while not self._stopping.is_set():
            try:
                item = self._inbox.get(timeout=self.poll_s)
            except queue.Empty:  # nothing from the floor: look for orders confirmed meanwhile
                item = (time.perf_counter(), None, None, False)
                if self.clock() - self.planner.calendar.origin > REBUILD_AFTER:
                    try:  # the calendar is laid out for weeks from the plan's origin: start afresh from now
                        self.rebuild()
                    except Exception as exc:  # noqa: BLE001 - keep the plan we have
                        print(f"somana live plan: rebuild failed: {exc!r}", flush=True)
            if item is None:
                return
            batch = [item]
            while True:  # everything that arrived meanwhile goes into the same re-plan
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    return
                batch.append(more)
            try:
                self._apply(batch)
            except Exception as exc:  # noqa: BLE001 - a bad message must not stop the live plan
                print(f"somana live plan: {exc!r}", flush=True)

    def _apply(self, batch: list) -> None:
        first_arrival = min(b[0] for b in batch)
        with self.lock:
            planner = self.planner
            now_min = max(planner.now, planner.calendar.minute(self.clock()))
            events = []
            for _arrived, topic, payload, retained in batch:  # each applied before the next is read
                events += self._do(self._events_of(topic, payload, retained), now_min)
            events += self._do(self._new_orders(now_min), now_min)
            if not events:
                return
            started = time.perf_counter()
            # a print that started or ended moves times only: the sequences are kept and re-timed (ms);
            # anything else (an order, a failure, a printer or spool change) is re-solved within the limit
            keep = all(kind in KEEP_SEQUENCES for kind, _kw in events) and planner.schedule is not None
            planner.replan(time_limit_s=self.time_limit_s, keep_sequences=keep)
            self._publish()
        self.replan_times.append({"events": [k for k, _ in events], "solve_s": round(time.perf_counter() - started, 3),
                                  "since_arrival_s": round(time.perf_counter() - first_arrival, 3)})
        del self.replan_times[:-MAX_TIMES]

    def _do(self, events: list[tuple[str, dict]], now_min: int) -> list[tuple[str, dict]]:
        done = []
        for kind, kw in events:
            try:
                self.planner.event(kind, at=now_min, replan=False, **kw)
            except Exception as exc:  # noqa: BLE001 - e.g. a job the plan no longer has
                print(f"somana live plan: {kind} {kw}: {exc!r}", flush=True)
                continue
            done.append((kind, kw))
            if kind == "spool_changed":  # a plan built afresh (rebuild, `somana plan`) starts from it too
                from somana_core.scheduling.floor import set_spool

                try:
                    set_spool(kw["printer"], kw["material"], kw["colour"])
                except OSError as exc:
                    print(f"somana live plan: spool of {kw['printer']} not kept: {exc!r}", flush=True)
            self.applied.append({"event": kind, **{k: v for k, v in kw.items() if k != "jobs"},
                                 "at": self.planner.calendar.at(now_min).isoformat()})
        del self.applied[:-MAX_TIMES]
        return done

    def _publish(self) -> None:
        """A copy of the planner for readers (a promise, the /plan page): they never wait for a re-plan."""
        view = copy.copy(self.planner)
        view.printers, view.jobs = dict(view.printers), dict(view.jobs)
        view.slips_min, view.promised_end = list(view.slips_min), dict(view.promised_end)
        self.view = view
        self.version += 1

    def _timed(self, what: str, started: float) -> None:
        self.replan_times.append({"events": [what], "solve_s": round(time.perf_counter() - started, 3),
                                  "since_arrival_s": round(time.perf_counter() - started, 3)})

    # -- messages -> planner events

    def bus_printers(self) -> dict[str, str]:
        """Bus key or bus printer name -> the plan's printer id."""
        if self._printers_bus is None:
            from somana_core.scheduling.model import load_printers

            self._printers_bus = {}
            for p in load_printers():
                self._printers_bus[p.id] = p.id
                if p.bus:
                    self._printers_bus[p.bus] = p.id
        return self._printers_bus

    def _printer_for(self, key: str) -> str | None:
        table = self.bus_printers()
        return table.get(key) or table.get(key.split("/", 1)[-1])

    def _order_jobs(self, order: str) -> list:
        return sorted((j for j in self.planner.jobs.values() if order in j.orders), key=lambda j: j.id)

    def _print_jobs(self, ref: str) -> list:
        """The plan's plates holding the floor's print job `ref` (NUMBER, or NUMBER/K: one plate of a
        multi-plate order); a plate printed under another name falls back to its order's plates."""
        from somana_core.scheduling.jobs import job_parts

        name = str(ref).strip().upper()
        found = sorted((j for j in self.planner.jobs.values() if job_parts(j, name)), key=lambda j: j.id)
        return found or self._order_jobs(_order_number(name))

    def _planned_printer(self, job_id: str) -> str | None:
        a = self.planner.schedule.get(job_id) if self.planner.schedule else None
        return a.printer if a else None

    def _events_of(self, topic, payload, retained) -> list[tuple[str, dict]]:
        from somana_core.floor import bus as floor_bus

        if topic is None:  # submitted in-process, or the quiet-floor poll (payload None)
            if payload is None:
                return []
            kw = dict(payload)
            return [(kw.pop("planner_event"), kw)]
        if payload is None:
            return []
        station, printer_name, kind = floor_bus.split_topic(topic)
        planner = self.planner
        if kind == "status":
            online = bool(payload.get("online"))
            ids = [self._printer_for(f"{station}/{name}") for name in (payload.get("printers") or [])]
            ids += [pid for key, pid in self.bus_printers().items() if key.startswith(f"{station}/")]
            ids += list(self._seen.get(station, ()))  # a last will names no printers
            ids = sorted({pid for pid in ids if pid})
            if not online and station not in self._station_offline:
                self._station_offline.add(station)
                return [("printer_offline", {"printer": pid}) for pid in ids if planner.printers[pid].online]
            if online and station in self._station_offline:
                self._station_offline.discard(station)
                return [("printer_back", {"printer": pid}) for pid in ids if not planner.printers[pid].online]
            return []
        key = f"{station}/{printer_name}"
        pid = self._printer_for(key)
        if kind == "state":
            if pid:
                self._seen.setdefault(station, set()).add(pid)
            elif key not in self._unplanned:
                self._unplanned.add(key)
                print(f"somana live plan: printer {key} is not in data/printers.csv (by id or `bus` column): its "
                      "outages and spool changes are not planned (name it as the table does, e.g. "
                      "`somana serve --printer p1=sim`)", flush=True)
            state = str(payload.get("state") or "")
            before = self._printer_states.get(key)
            self._printer_states[key] = state
            out = []
            if pid and state in OFFLINE_STATES and before not in OFFLINE_STATES and planner.printers[pid].online:
                out.append(("printer_offline", {"printer": pid}))
            if pid and state not in OFFLINE_STATES and not planner.printers[pid].online \
                    and station not in self._station_offline:
                out.append(("printer_back", {"printer": pid}))
            spool = payload.get("spool")
            if pid and isinstance(spool, dict) and spool.get("material"):
                # the station's journalled spool, retained: a plan started (or a station restarted) after
                # a `spool` command still hears of it; only a spool this printer's state had not said yet
                seen = (str(spool["material"]), str(spool.get("colour") or "").lower())
                if self._spools_seen.get(key) != seen:
                    self._spools_seen[key] = seen
                    if state not in PRINTING_STATES:  # a print that starts brings its spool (job_started)
                        out += self._spool_changed(pid, *seen)
            job = payload.get("job") or {}
            ref = job.get("order")
            if state in PRINTING_STATES and ref:
                jobs = self._print_jobs(ref)
                if jobs and not any(j.fixed_printer for j in jobs):
                    target = pid or self._planned_printer(jobs[0].id)
                    if target:
                        out.append(("job_started", {"job": jobs[0].id, "printer": target}))
            return out
        if kind == "event":
            what = payload.get("kind")
            if what == "job-ended" and payload.get("order"):
                order = _order_number(payload["order"])
                jobs = self._print_jobs(payload["order"])  # a plate NUMBER/K ends alone: its own plate
                printing = [j for j in jobs if j.fixed_printer] or jobs[:1]
                if not printing:
                    return []
                outcome = payload.get("outcome")
                whole = str(payload["order"]).strip().upper() == order  # not one plate of several
                if outcome == "cancelled" or (outcome == "done" and (whole or self._order_done(order))):
                    self._finished.add(order)
                if outcome == "done":
                    return [("job_done", {"job": printing[0].id})]
                if outcome == "cancelled":  # a cancelled plate cancels its order: nothing of it is printed any more
                    return [("job_done", {"job": j.id}) for j in self._order_jobs(order)]
                return [("job_failed", {"job": printing[0].id})]
            if what == "spool-changed" and pid and payload.get("material"):
                return self._spool_changed(pid, str(payload["material"]), str(payload.get("colour") or ""))
        return []

    def _spool_changed(self, pid: str, material: str, colour: str) -> list[tuple[str, dict]]:
        """A spool_changed event, unless the plan has that spool on that printer already (the event and the
        retained state both say it; a print that started set it)."""
        p = self.planner.printers[pid]
        if (p.material, p.colour) == (material, colour.lower()):
            return []
        return [("spool_changed", {"printer": pid, "material": material, "colour": colour})]

    def bus_states(self) -> dict[str, str]:
        """The last state read from the bus per printer ("STATION/PRINTER" -> state)."""
        return dict(self._printer_states)

    def _order_done(self, number: str) -> bool:
        try:
            return self.store_factory().get(number).state == "done"
        except Exception:  # noqa: BLE001 - not in this store: the floor's word is all there is
            return True

    def _new_orders(self, now_min: int) -> list[tuple[str, dict]]:
        """Orders confirmed in the store since the plan was built: one order_confirmed each."""
        from somana_core.quote import assumption
        from somana_core.scheduling.floor import PLANNED_STATES, _machines
        from somana_core.scheduling.jobs import pack, part_sets_from_order

        planner = self.planner
        known = {o for j in planner.jobs.values() for o in j.orders}
        store = self.store_factory()
        out = []
        for order in store.list():
            if order.state not in PLANNED_STATES or order.number in known or order.number in self._finished:
                continue
            sets = part_sets_from_order(order, store, planner.calendar, assumption("handling_days", order.family),
                                        _machines(), now_min=now_min, states=PLANNED_STATES)
            jobs, _report = pack(sets, planner.changeovers)
            out.append(("order_confirmed", {"jobs": jobs, "order": order.number}))
            plan_end = ((order.quote or {}).get("internal") or {}).get("lead_time", {}).get("plan_end")
            if plan_end:  # promised from a plan: its slip will teach the buffer
                planner.record_promise(order.number, planner.calendar.minute(datetime.fromisoformat(plan_end)))
        return out

    # -- reading

    def promise_for(self, quote, now: datetime | None = None, colour: str | None = None, plates=None):
        from somana_core.quote import assumption
        from somana_core.scheduling.promise import promise_with

        now = (now or self.clock()).astimezone(timezone.utc)
        planner = copy.copy(self.view)
        planner.now = max(planner.now, planner.calendar.minute(now))
        return promise_with(planner, quote, now, colour, float(assumption("handling_days", quote.family)),
                            "live plan", plates=plates)

    def record_promise(self, order: str, plan_end: datetime) -> None:
        with self.lock:
            self.planner.record_promise(order, self.planner.calendar.minute(plan_end))

    def snapshot(self) -> dict:
        """The plan as plain data (plan_to_dict), plus the live plan's own figures."""
        from somana_core.scheduling.floor import plan_to_dict

        view = self.view
        if view.schedule is not None and view.schedule.lower_bound is None:
            from somana_core.scheduling.bounds import lower_bound

            # for the page's gap figure (a re-plan does not wait for it); kept with this version's schedule
            bound = lower_bound(view.instance())
            view.schedule.lower_bounds.update({"custom": bound["objective"], "custom_parts": bound})
            view.schedule.lower_bound = bound["objective"]
        data = plan_to_dict(view, view.schedule, self.packing)
        data["live"] = {"version": self.version, "events": list(self.applied[-20:]),
                        "replans": list(self.replan_times[-20:]), "buffer_min": view.promise_buffer_min()}
        return data


def _order_number(ref) -> str | None:
    """A print job's name on the bus -> its order's number ('SO-000012/2', plate 2 of it -> 'SO-000012')."""
    return None if not ref else str(ref).split("/", 1)[0]


def _default_store():
    from somana_core.orders import shared_store

    return shared_store()  # the process-wide one: never closed


__all__ = ["LivePlan", "current", "start", "stop"]
