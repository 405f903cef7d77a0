"""A station: the process that owns printers (one `device_io` host each) and runs their jobs,
reachable only through the bus (see `somana_core.floor.bus` for the topic scheme).

- State: each printer's snapshot is published retained on `.../state` when it changes (at most
  every `publish_interval_s`, at least every HEARTBEAT_S), console lines as `log` events.
- Commands arrive on `.../cmd` and run in order on the printer's own worker thread (a slow
  handshake or slicing never delays another printer); an emergency stop (`estop` command or the
  `somana/estop` topic) is written to the port at once on the bus thread.
- Jobs: a G-code text, a file path on this machine, or an order number (the G-code comes from the
  order store, sliced first if needed). The running job is journalled (state_dir()/floor/NAME.json)
  before its first line goes out, and the host appends the last file line written to the port to
  NAME/PRINTER.lines on every write (device_io.journal), so a station killed mid-print restarts
  exactly after the last line the printer received: none repeated, none skipped. (Killed between a
  write and its record, the station asks the printer at connect which line number it last received.)
- Stopping (SIGTERM, Ctrl-C): every printer is made safe first (job stopped at a line boundary,
  heaters and motors off), the job recorded `interrupted` with its last acknowledged line.
- Starting: the journal and the order store are reconciled (a job that was running becomes
  interrupted; an order left `printing` on this station becomes `interrupted`), printers found hot
  without a job are switched off, and every interrupted job offers "restart from line N".
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from device_io.host import CONNECTED_STATES, ESTOP_MESSAGE, HostError, PrinterHost
from device_io.journal import JournalTail, read_journal
from device_io.simulator import VirtualPrinter
from somana_core.errors import InputError
from somana_core.floor import bus as floor_bus
from somana_core.floor import handoff
from somana_core.floor.eta import eta_s, gcode_estimate_s

HEARTBEAT_S = 2.0  # a printer's state is re-published at least this often
JOURNAL_SYNC_S = 1.0  # the running job's sent-line journal is fsynced this often (power cuts; a kill loses nothing)
HISTORY_JOBS = 20
MIN_PUBLISH_S = 0.05  # a host's changes are published at once, but not more often than this
RUNNING = ("printing", "paused", "cancelling")
SAFE_COMMANDS = ("M104 S0", "M140 S0", "M107", "M84")  # heaters, fan, motors off
SIM = "sim"
MAX_GCODE_BYTES = 64 * 1024 * 1024


@dataclass
class PrinterSpec:
    """One printer of a station: its name and port ('sim' = a virtual printer in this process)."""

    name: str
    port: str
    baud: int = 115200


def _job_name(command: dict) -> str:
    """The job's file name from a bus command: printable, no folders, at most 80 characters."""
    raw = "".join(ch if ch.isprintable() else "_" for ch in str(command.get("name") or "upload.gcode"))
    return Path(raw.replace("\\", "/")).name[:80].strip() or "upload.gcode"


def _write_gcode_text(text, name: str, path: Path) -> None:
    """A job's G-code TEXT from a bus command, to `path` as UTF-8; refused (field `gcode`, nothing written)
    when it is not text or above the station's limit."""
    from somana_core.gcode_check import megabytes  # (reads its limits with pandas: not at the station's start)

    if not isinstance(text, str):
        raise InputError("gcode", f"gcode refused: {name}: gcode must be the job's G-code as text, "
                                  f"not a {type(text).__name__}")
    if len(text) > MAX_GCODE_BYTES:  # a character is at least one byte: refused before encoding it
        raise InputError("gcode", f"gcode refused: {name} is {megabytes(len(text))}: at most "
                                  f"{megabytes(MAX_GCODE_BYTES)}")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate (JSON's "\ud800"): not text
        raise InputError("gcode", f"gcode refused: {name} is not text G-code: character {exc.start + 1} is "
                                  f"not text (binary data)") from None
    if len(data) > MAX_GCODE_BYTES:
        raise InputError("gcode", f"gcode refused: {name} is {megabytes(len(data))}: at most "
                                  f"{megabytes(MAX_GCODE_BYTES)}")
    path.write_bytes(data)


def _check_gcode(path: Path, name: str, field: str) -> None:
    """The same check as a web upload (somana_core.gcode_check: size, text, every line a command or a
    comment), on the file about to print; a refused file is deleted and the reply names `field`."""
    from somana_core.gcode_check import check_gcode_file

    try:
        check_gcode_file(path, name, max_bytes=MAX_GCODE_BYTES)
    except InputError as exc:
        path.unlink(missing_ok=True)
        raise InputError(field, f"{field} refused: {exc.message}") from None


def printer_specs(values: list[str] | None) -> list[PrinterSpec]:
    """`--printer` values: 'sim', a port ('/dev/ttyUSB0', 'socket://..'), or NAME=PORT. Default: one sim."""
    values = list(values or [SIM])
    specs = []
    for i, value in enumerate(values):
        name, sep, port = value.partition("=")
        if not sep:
            port = value
            derived = re.sub(r"[^A-Za-z0-9_.-]", "-", Path(value.split("://")[-1]).name).strip("-._")[:40]
            name = SIM if value == SIM else derived or f"printer-{i + 1}"
        if not port:
            raise InputError("--printer", f"--printer {value!r} has no port (use sim, a device path or NAME=PORT)")
        specs.append(PrinterSpec(floor_bus.check_name("--printer", name.strip()), port.strip()))
    names = [s.name for s in specs]
    for i, spec in enumerate(specs):
        if names.count(spec.name) > 1:
            spec.name = f"{spec.name}-{i + 1}"
    if len({s.name for s in specs}) != len(specs):
        raise InputError("--printer", f"printer names must differ: {names}")
    return specs


class _Slot:
    """What the station knows about one printer besides its host."""

    def __init__(self, spec: PrinterSpec, host: PrinterHost, simulator: VirtualPrinter | None):
        self.spec = spec
        self.host = host
        self.simulator = simulator
        self.commands: queue.Queue = queue.Queue()
        self.job: dict | None = None  # the running job: name, order, path, estimate_s, started_at, ...
        self.interrupted: dict | None = None  # the job that can be restarted from a line
        self.history: deque = deque(maxlen=HISTORY_JOBS)
        self.halted = False  # emergency-stopped: needs a reconnect
        self.stopping = False
        self.starting = False  # a job is journalled but its host not printing yet: not "ended"
        self.note = ""  # what the station last did on its own (reconcile), shown in /machines
        # the spool loaded: what an operator last said (`spool` command) or what the last order started
        # here needed; journalled, so a restarted station still knows it, and in the retained state
        self.spool: dict | None = None
        self.published: dict | None = None
        self.published_at = 0.0
        self.synced_at = 0.0
        self.last_log = None


class Station:
    """Run with `start()`, stop with `stop()` (or `run()` until SIGTERM/Ctrl-C in the CLI)."""

    def __init__(self, name: str, printers: list[PrinterSpec], broker_url: str, *, store_url: str | None = None,
                 home: str | Path | None = None, auto_connect: bool = True, sim_time_scale: float = 0.05,
                 publish_interval_s: float = 0.2):
        self.name = floor_bus.check_name("--name", name)
        self.broker_url = broker_url
        self.store_url = store_url
        self.auto_connect = auto_connect
        self.sim_time_scale = sim_time_scale
        self.publish_interval_s = publish_interval_s
        if home is None:
            from somana_core.data import state_dir

            home = state_dir()
        self.folder = Path(home) / "floor"
        self.jobs_folder = self.folder / self.name / "jobs"
        self.incoming = handoff.Incoming(self.folder / self.name / "incoming", MAX_GCODE_BYTES)  # uploads, in chunks
        self.journal_path = self.folder / f"{self.name}.json"
        self.slots: dict[str, _Slot] = {}
        self._specs = printers
        self._bus: floor_bus.Bus | None = None
        self._store = None
        self._store_lock = threading.Lock()
        self._journal_lock = threading.Lock()
        self._running = threading.Event()
        self._wake = threading.Event()  # a host reported a change: publish now, not at the next tick
        self._threads: list[threading.Thread] = []
        self._stopped = False
        # One press of an e-stop reaches us by several paths (the browser's WebSocket, the web
        # server, the bus) with one id: act once, so a late copy cannot halt a printer that was
        # reconnected meanwhile.
        self._estops_seen: deque = deque(maxlen=256)

    # =========================================================================================
    # life cycle
    # =========================================================================================

    def start(self) -> "Station":
        self.jobs_folder.mkdir(parents=True, exist_ok=True)
        self.incoming.clear()
        for spec in self._specs:
            simulator = None
            port = spec.port
            if port == SIM:
                simulator = VirtualPrinter(time_scale=self.sim_time_scale)
                port = simulator.start()
            host = PrinterHost(name=spec.name, port=port, baudrate=spec.baud)
            host.add_listener(lambda snapshot: self._wake.set())  # on the host's monitor thread: only a wake-up
            self.slots[spec.name] = _Slot(spec, host, simulator)
        self._reconcile_journal()
        self._bus = floor_bus.Bus(
            self.broker_url, client_id=f"somana-station-{self.name}-{os.getpid()}",
            will=(floor_bus.status_topic(self.name), self._status(False)))
        self._bus.subscribe(floor_bus.printer_topic(self.name, "+", "cmd"), self._on_command)
        self._bus.subscribe(floor_bus.ESTOP_TOPIC, self._on_estop)
        self._bus.connect()
        self._running.set()
        self._bus.publish(floor_bus.status_topic(self.name), self._status(True), retain=True)
        for slot in self.slots.values():
            thread = threading.Thread(target=self._worker, args=(slot,), name=f"station {slot.spec.name}", daemon=True)
            thread.start()
            self._threads.append(thread)
            if self.auto_connect:
                slot.commands.put({"action": "connect", "id": "station-start", "reconcile": True})
        publisher = threading.Thread(target=self._publisher, name="station publisher", daemon=True)
        publisher.start()
        self._threads.append(publisher)
        return self

    def stop(self, reason: str = "the station stopped") -> None:
        """Make every printer safe (in parallel), record interrupted jobs, go offline."""
        if self._stopped:
            return
        self._stopped = True
        workers = [threading.Thread(target=self._make_safe, args=(slot, reason), daemon=True)
                   for slot in self.slots.values()]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
        self._running.clear()
        for slot in self.slots.values():
            slot.commands.put(None)
        if self._bus is not None:
            for slot in self.slots.values():
                self._publish_state(slot, force=True)
            try:
                self._bus.publish_and_wait(floor_bus.status_topic(self.name), self._status(False), retain=True,
                                           timeout_s=2.0)
            except Exception:  # noqa: BLE001 - broker gone: the last will says the same
                pass
            self._bus.close()
        for slot in self.slots.values():
            if slot.simulator is not None:
                slot.simulator.stop()

    def run(self) -> None:
        """Start and serve until SIGTERM/SIGINT, then stop safely (the CLI's main loop)."""
        import signal

        from somana_core.floor.local import raise_priority

        raise_priority()  # e-stops and printer I/O before other work on a shared machine
        done = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            print(f"somana station {self.name}: {len(self.slots)} printer(s) "
                  f"({', '.join(s.spec.name + '=' + s.spec.port for s in self.slots.values())}) "
                  f"on {self.broker_url}", flush=True)
            while not done.wait(0.5):
                pass
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _status(self, online: bool) -> dict:
        return {"station": self.name, "online": online, "pid": os.getpid(), "printers": [s.name for s in self._specs],
                "time": time.time()}

    # =========================================================================================
    # safety
    # =========================================================================================

    def emergency_stop(self, slot: _Slot, source: str = "") -> float | None:
        """M112 at once (no queue, any thread), then the job is recorded interrupted.

        `halted` is set BEFORE the host call: the host fails the job inside that call and the
        publisher (or a listener) may record the job's end before the call returns; it must read
        "emergency stop", not "failed"."""
        host = slot.host
        was_halted, slot.halted = slot.halted, True
        try:
            latency = host.emergency_stop()
        except HostError:
            slot.halted = was_halted
            return None  # not connected: nothing to stop
        self._event(slot, {"kind": "estop", "source": source, "latency_s": latency})
        return latency

    def _make_safe(self, slot: _Slot, reason: str) -> None:
        host = slot.host
        slot.stopping = True
        try:
            if host.current_state == "printing":
                host.pause()  # no more job lines; those in flight finish: a line boundary
            if host.current_state in CONNECTED_STATES:
                try:
                    host.query("M400", timeout=20)  # every line sent so far executed and acknowledged
                except HostError:
                    pass
            if slot.job is not None:
                self._end_job(slot, "interrupted", reason, host.progress())
            if host.current_state in CONNECTED_STATES:
                for command in SAFE_COMMANDS:
                    host.send_command(command)
                try:
                    host.query("M105", timeout=5)  # answered after the commands above
                except HostError:
                    pass
        except Exception as exc:  # noqa: BLE001 - keep going: the next steps still make it safer
            print(f"somana station {self.name}: making {slot.spec.name} safe: {exc!r}", flush=True)
        finally:
            try:
                host.disconnect()
            except Exception:  # noqa: BLE001
                pass

    # =========================================================================================
    # bus -> commands
    # =========================================================================================

    def _on_estop(self, topic: str, payload: dict | None, retained: bool) -> None:
        if not payload or retained:
            return
        target = str(payload.get("printer", ""))
        press = payload.get("id")
        if press:
            if press in self._estops_seen:
                return
            self._estops_seen.append(press)
        for slot in self.slots.values():
            if target in ("*", slot.spec.name, f"{self.name}/{slot.spec.name}"):
                self.emergency_stop(slot, source=str(payload.get("id", "")))

    def _on_command(self, topic: str, payload: dict | None, retained: bool) -> None:
        _, printer, _ = floor_bus.split_topic(topic)
        slot = self.slots.get(printer or "")
        if slot is None or not payload or retained:
            return
        if payload.get("action") == "chunk":  # a piece of an upload: straight to its file, on this thread
            self.incoming.receive(payload)
            return
        if payload.get("action") == "estop":
            self.emergency_stop(slot, source=str(payload.get("id", "")))
            self._reply(slot, payload, True, "emergency stop sent")
            return
        slot.commands.put(payload)

    def _worker(self, slot: _Slot) -> None:
        while True:
            command = slot.commands.get()
            if command is None:
                return
            try:
                message = self._execute(slot, command) or "done"
                self._reply(slot, command, True, message)
            except (HostError, InputError, ValueError, KeyError, OSError) as exc:
                self._reply(slot, command, False, getattr(exc, "message", None) or str(exc))
            except Exception as exc:  # noqa: BLE001 - report it; the worker must survive any command
                self._reply(slot, command, False, f"{type(exc).__name__}: {exc}")

    def _reply(self, slot: _Slot, command: dict, ok: bool, message: str) -> None:
        self._event(slot, {"kind": "reply", "id": command.get("id"), "action": command.get("action"), "ok": ok,
                           "message": message})

    def _event(self, slot: _Slot, event: dict) -> None:
        if self._bus is not None:
            self._bus.publish(floor_bus.printer_topic(self.name, slot.spec.name, "event"),
                              {"time": time.time(), **event})

    def _execute(self, slot: _Slot, command: dict) -> str:
        host = slot.host
        action = command.get("action")
        if action == "connect":
            if host.current_state in CONNECTED_STATES:
                return "already connected"
            host.connect(wait=True, probe_line_number=bool((slot.interrupted or {}).get("unconfirmed")))
            slot.halted = False
            self._settle_unconfirmed_write(slot)
            if command.get("reconcile"):
                self._reconcile_printer(slot)
            return f"connected to {host.firmware_name or host.port}"
        if action == "disconnect":
            if slot.job is not None and host.current_state in RUNNING:
                self._make_safe(slot, "disconnected by the operator")
                slot.stopping = False
                return "job stopped and recorded interrupted; disconnected"
            host.disconnect()
            return "disconnected"
        if action == "start":
            return self._start(slot, command)
        if action == "restart":
            return self._restart(slot, command)
        if action == "discard":
            return self._discard(slot)
        if action == "pause":
            host.pause()
            return "pausing after the lines in flight"
        if action == "resume":
            host.resume()
            return "resumed"
        if action == "cancel":
            host.cancel()
            return "cancelling: heaters off, parking"
        if action == "temperature":
            heater = str(command.get("heater", ""))
            celsius = _number(command, "celsius", 0.0, 300.0 if heater != "B" else 120.0)
            host.set_temperature(heater, celsius)
            return f"{heater} target {celsius:g} °C"
        if action == "jog":
            moves = {axis: _number(command, axis, -300.0, 300.0) for axis in ("x", "y", "z") if axis in command}
            host.jog(**moves)
            return "jogged " + " ".join(f"{a.upper()}{v:+g}" for a, v in moves.items())
        if action == "home":
            host.home(str(command.get("axes", "XYZ")))
            return "homing"
        if action == "spool":
            return self._spool(slot, command)
        if action == "console":
            text = str(command.get("command", "")).strip()
            if not text or len(text) > 200 or any(ord(c) < 32 for c in text):
                raise InputError("command", f"command={text[:40]!r} must be one line of 1-200 printable characters")
            host.send_command(text)
            return f"sent {text}"
        raise InputError("action", f"action={action!r} is not one of {', '.join(floor_bus.COMMANDS)}")

    def _spool(self, slot: _Slot, command: dict) -> str:
        """The operator loaded another spool (material and colour): announced as a `spool-changed`
        event, which the plan reads to re-plan its changeovers (somana_core.scheduling.live). Nothing
        is sent to the printer: the swap itself is done by hand."""
        from somana_core.catalogue import material_ids
        from somana_core.scheduling.promise import check_colour

        known = material_ids()
        material = str(command.get("material") or "").strip()
        material = next((m for m in known if m.lower() == material.lower()), None) or material
        if material not in known:
            raise InputError("material", f"material={material[:40]!r} is not one of {', '.join(known)}")
        colour = check_colour(str(command.get("colour") or ""))
        slot.spool = {"material": material, "colour": colour}
        self._write_journal()  # before anyone hears of it: a station restarted now still knows it
        self._wake.set()  # the retained state carries it too (a plan started later reads it there)
        self._event(slot, {"kind": "spool-changed", "material": material, "colour": colour})
        return f"spool changed: {material} {colour}"

    # =========================================================================================
    # jobs
    # =========================================================================================

    def _store_(self):
        with self._store_lock:
            if self._store is None:
                from somana_core.orders import shared_store

                self._store = shared_store(self.store_url)  # one per process (None: the default store)
            return self._store

    def _start(self, slot: _Slot, command: dict) -> str:
        host = slot.host
        if host.current_state != "operational":
            self.incoming.discard(command.get("upload"))  # its chunks came for nothing: delete them
            raise HostError(f"{slot.spec.name}: cannot start a job while {host.current_state}")
        order = command.get("order")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        if order:
            from somana_core import fulfilment

            store = self._store_()
            current = store.get(str(order))
            if current.state not in fulfilment.PRINTABLE_STATES:
                raise InputError("order", f"order {order} is {current.state}: only "
                                          f"{', '.join(fulfilment.PRINTABLE_STATES)} orders print")
            workdir = self.jobs_folder / f"{slot.spec.name}-{stamp}-{order}"
            path = fulfilment.gcode_for(store, str(order), workdir)
            current = store.get(str(order))
            if current.state == "confirmed":
                current = store.transition(str(order), "sliced", note="G-code supplied with the order")
            if current.state in ("sliced", "failed", "interrupted"):
                store.transition(str(order), "queued", note=f"for {self.name}/{slot.spec.name}")
            name = str(order)
            estimate = (current.quote or {}).get("print_time_s") or gcode_estimate_s(path)
            spool = _order_spool(current)  # the spool this print needs is the one loaded (as the plan assumes)
        elif command.get("gcode") is not None:
            name = _job_name(command)
            path = self.jobs_folder / f"{slot.spec.name}-{stamp}-{name}"
            _write_gcode_text(command["gcode"], name, path)
            _check_gcode(path, name, "gcode")
            estimate = gcode_estimate_s(path)
        elif command.get("upload") is not None:  # sent in chunks (floor.handoff), checked complete here
            name = _job_name(command)
            path = self.jobs_folder / f"{slot.spec.name}-{stamp}-{name}"
            self.incoming.take(command["upload"], name).replace(path)
            _check_gcode(path, name, "upload")  # the sender may have checked it: any bus client can send chunks
            estimate = gcode_estimate_s(path)
        elif command.get("path"):
            source = Path(str(command["path"]))
            if not source.is_file():
                raise InputError("path", f"path={source} is not a file on station {self.name}")
            name = source.name
            if source.stat().st_size > MAX_GCODE_BYTES:  # before copying it
                raise InputError("path", f"path refused: {name} is {source.stat().st_size / 1e6:.0f} MB: "
                                         f"at most {MAX_GCODE_BYTES / 1e6:.0f} MB")
            path = self.jobs_folder / f"{slot.spec.name}-{stamp}-{name}"
            shutil.copyfile(source, path)
            _check_gcode(path, name, "path")  # a file on this machine is not G-code because its path is given
            estimate = gcode_estimate_s(path)
        else:
            raise InputError("start", "start needs an order number, an upload, a G-code text or a path")
        if order:
            slot.spool = spool  # journalled by _begin
        self._begin(slot, path, name, order=str(order) if order else None, estimate_s=estimate, from_line=1)
        if order:
            self._store_().transition(str(order), "printing", note=f"on {self.name}/{slot.spec.name}")
        return f"printing {name}"

    def _begin(self, slot: _Slot, path: Path, name: str, *, order, estimate_s, from_line: int) -> None:
        # The job is journalled BEFORE its first line goes out, its sent-line journal (written by the
        # host on every write to the port, see device_io.journal) removed first: a station killed at
        # any moment after this finds the job and the exact line to restart from.
        lines_path = self.folder / self.name / f"{slot.spec.name}.lines"
        lines_path.unlink(missing_ok=True)
        previous = slot.interrupted
        slot.starting = True  # before slot.job: the publisher must not take the job for one that ended
        slot.job = {"name": name, "order": order, "path": str(path), "estimate_s": estimate_s,
                    "started_at": time.time(), "from_line": from_line, "last_acked_line": max(from_line - 1, 0),
                    "lines_journal": str(lines_path)}
        slot.interrupted = None
        try:
            self._write_journal()
            slot.host.start_job(path, name=name, from_line=from_line, journal_path=lines_path)
        except Exception:
            slot.job, slot.interrupted = None, previous
            self._write_journal()
            raise
        finally:
            slot.starting = False

    def _restart(self, slot: _Slot, command: dict) -> str:
        record = slot.interrupted
        if record is None:
            raise InputError("restart", f"{slot.spec.name} has no interrupted job to restart")
        if slot.host.current_state != "operational":
            raise HostError(f"{slot.spec.name}: cannot restart a job while {slot.host.current_state}")
        line = int(command.get("from_line") or record["restart_from_line"])
        if line < 1:
            raise InputError("from_line", f"from_line={line} is below 1")
        order = record.get("order")
        self._begin(slot, Path(record["path"]), record["name"], order=order, estimate_s=record.get("estimate_s"),
                    from_line=line)
        if order:
            try:
                self._store_().transition(order, "printing", note=f"restarted from line {line} on "
                                                                  f"{self.name}/{slot.spec.name}")
            except InputError:
                pass  # the order moved on meanwhile (e.g. cancelled from the command line): print anyway
        return f"restarted {record['name']} from line {line}"

    def _discard(self, slot: _Slot) -> str:
        record, slot.interrupted = slot.interrupted, None
        if record is None:
            return "nothing to discard"
        if record.get("order"):
            try:
                self._store_().transition(record["order"], "failed", note="interrupted job discarded by the operator")
            except InputError:
                pass
        self._write_journal()
        return f"discarded the interrupted {record['name']}"

    def _end_job(self, slot: _Slot, outcome: str, reason: str, progress: dict) -> None:
        """Record how the running job ended: history, journal, order store, a `job-ended` event."""
        job, slot.job = slot.job, None
        if job is None:
            return
        last = int(progress.get("last_acked_line") or job.get("last_acked_line") or 0)
        ended = time.time()
        record = {"name": job["name"], "order": job.get("order"), "outcome": outcome, "reason": reason,
                  "started_at": job["started_at"], "ended_at": ended, "duration_s": ended - job["started_at"],
                  "last_acked_line": last, "lines_acked": progress.get("lines_acked"),
                  "lines_total": progress.get("lines_total")}
        slot.history.appendleft(record)
        if outcome in ("interrupted", "failed"):
            slot.interrupted = {**record, "path": job["path"], "estimate_s": job.get("estimate_s"),
                                "restart_from_line": last + 1}
        order = job.get("order")
        if order:
            state = {"done": "done", "cancelled": "cancelled"}.get(outcome, "interrupted")
            note = f"{outcome}: {reason}; last acknowledged line {last}"
            try:
                self._store_().transition(order, state, note=note)
            except InputError as exc:
                print(f"somana station {self.name}: order {order}: {exc.message}", flush=True)
        self._write_journal()
        self._event(slot, {"kind": "job-ended", **record})

    # =========================================================================================
    # start-up reconciliation
    # =========================================================================================

    def _read_journal(self) -> dict:
        try:
            return json.loads(self.journal_path.read_text())
        except (OSError, ValueError):
            return {}

    def _write_journal(self) -> None:
        with self._journal_lock:
            data = {"station": self.name, "printers": {
                name: {"job": slot.job, "interrupted": slot.interrupted, "history": list(slot.history),
                       "spool": slot.spool}
                for name, slot in self.slots.items()}}
            tmp = self.journal_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, default=str))
            os.replace(tmp, self.journal_path)

    def _reconcile_journal(self) -> None:
        """A job the journal says was running has no host any more: it is interrupted."""
        journal = self._read_journal().get("printers", {})
        for name, slot in self.slots.items():
            entry = journal.get(name) or {}
            slot.history.extend(entry.get("history") or [])
            slot.spool = entry.get("spool")  # nobody unloaded it while the station was down
            slot.interrupted = entry.get("interrupted")
            job = entry.get("job")
            if job:
                slot.job = job
                # every line written to the port is executed by the printer, acknowledged or not:
                # the sent-line journal says exactly where the file stops (no journal yet: nothing sent)
                tail = read_journal(job["lines_journal"]) if job.get("lines_journal") else None
                sent = tail.line if tail is not None else None
                if sent is None:
                    sent = max(int(job.get("from_line", 1)) - 1, 0) if job.get("lines_journal") else None
                last = sent if sent is not None else int(job.get("last_acked_line", 0))
                self._end_job(slot, "interrupted", f"station {self.name} ended during the job (killed or crashed)",
                              {"last_acked_line": last})
                if tail is not None and tail.pending_line is not None:
                    # killed between a write's intent and its confirmation: the printer tells (at connect)
                    slot.interrupted["unconfirmed"] = {"line": tail.pending_line, "number": tail.pending_number}
                slot.note = f"found {job['name']} interrupted after line {last}"
        # orders left `printing` on this station without a journal entry (journal lost): interrupted
        try:
            store = self._store_()
            for order in store.list("printing"):
                where = next((e.note or "" for e in reversed(order.history) if e.state == "printing"), "")
                if where.startswith("on ") and where[3:].split("/")[0] == self.name:
                    store.transition(order.number, "interrupted",
                                     note=f"station {self.name} restarted; no record of the last acknowledged line")
        except Exception as exc:  # noqa: BLE001 - no store (e.g. no database reachable): printers still run
            print(f"somana station {self.name}: order store not reconciled: {exc}", flush=True)
        self._write_journal()

    def _settle_unconfirmed_write(self, slot: _Slot) -> None:
        """Just connected: an interrupted job whose last write was never confirmed (the station was
        killed between the two journal records) restarts where the printer says it got to."""
        unconfirmed = (slot.interrupted or {}).pop("unconfirmed", None)
        if not unconfirmed:
            return
        record = slot.interrupted
        tail = JournalTail(int(record["last_acked_line"]), unconfirmed["line"], unconfirmed["number"])
        last = tail.resolve(slot.host.probed_line_number)
        if last != record["last_acked_line"]:
            record.update(last_acked_line=last, restart_from_line=last + 1)
            for entry in slot.history:
                if entry.get("started_at") == record.get("started_at") and entry.get("name") == record["name"]:
                    entry["last_acked_line"] = last
                    break
            slot.note = f"found {record['name']} interrupted after line {last} (the last line the printer received)"
        self._write_journal()

    def _reconcile_printer(self, slot: _Slot) -> None:
        """Just connected at start: nothing of ours runs on it, so nothing may stay hot."""
        host = slot.host
        try:
            host.query("M105", timeout=5)
        except HostError:
            return
        targets = [target for actual, target in (host.temperatures or {}).values() if target]
        if targets or slot.interrupted is not None:
            for command in SAFE_COMMANDS:
                host.send_command(command)
            found = f"heaters on ({', '.join(f'{t:g} °C' for t in targets)})" if targets else "an interrupted job"
            slot.note = (slot.note + "; " if slot.note else "") + f"found {found}: heaters and motors switched off"

    # =========================================================================================
    # publishing
    # =========================================================================================

    def state_of(self, slot: _Slot) -> dict:
        """The printer's snapshot as published on `.../state` (JSON-ready)."""
        host = slot.host
        state = host.current_state
        progress = host.progress()
        halted = slot.halted or (state == "error" and host.error_message == ESTOP_MESSAGE)
        temperatures = {}
        for key, label in (("T0", "nozzle"), ("B", "bed")):
            reading = host.temperatures.get(key) or host.temperatures.get("T" if key == "T0" else key)
            if reading:
                actual, target = reading
                temperatures[label] = [actual, 0.0 if halted else target]  # halted: the firmware's targets are off
        job = None
        if slot.job is not None and state in RUNNING:
            fraction = (progress["bytes_acked"] / progress["bytes_total"]) if progress["bytes_total"] else 0.0
            job = {"name": slot.job["name"], "order": slot.job.get("order"), "percent": round(100.0 * fraction, 2),
                   "lines_acked": progress["lines_acked"], "lines_total": progress["lines_total"],
                   "elapsed_s": round(progress["elapsed_s"], 1), "estimate_s": slot.job.get("estimate_s"),
                   "eta_s": _round(eta_s(progress["elapsed_s"], fraction, slot.job.get("estimate_s"))),
                   "from_line": slot.job.get("from_line", 1)}
            slot.job["last_acked_line"] = progress["last_acked_line"]
        return {
            "station": self.name, "printer": slot.spec.name, "port": slot.spec.port,
            "state": "halted" if halted and state == "error" else state,
            "error": host.error_message if state == "error" and not halted else "",
            "firmware": host.firmware_name, "temperatures": temperatures, "job": job,
            "last_acked_line": progress["last_acked_line"], "interrupted": _public(slot.interrupted),
            "history": [_public(h) for h in list(slot.history)[:10]], "note": slot.note, "spool": slot.spool,
            "position": dict(host.position),
        }

    def _publish_state(self, slot: _Slot, force: bool = False) -> None:
        try:
            state = self.state_of(slot)
        except Exception as exc:  # noqa: BLE001 - a half-built host must not stop publishing
            print(f"somana station {self.name}: state of {slot.spec.name}: {exc!r}", flush=True)
            return
        now = time.monotonic()
        if force or state != slot.published or now - slot.published_at >= HEARTBEAT_S:
            slot.published, slot.published_at = state, now
            self._bus.publish(floor_bus.printer_topic(self.name, slot.spec.name, "state"),
                              {**state, "time": time.time()}, retain=True)

    def _publisher(self) -> None:
        while self._running.is_set():
            started = time.monotonic()
            for slot in list(self.slots.values()):
                self._check_job(slot)
                self._publish_state(slot)
                self._publish_log(slot)
                if slot.job is not None and started - slot.synced_at >= JOURNAL_SYNC_S:
                    slot.synced_at = started
                    slot.host.sync_journal()
            # at most every MIN_PUBLISH_S, at least every publish_interval_s
            time.sleep(max(0.0, MIN_PUBLISH_S - (time.monotonic() - started)))
            self._wake.wait(max(0.0, self.publish_interval_s - (time.monotonic() - started)))
            self._wake.clear()

    def _check_job(self, slot: _Slot) -> None:
        """The host finished the job (done, cancelled, failed): record it once."""
        if slot.job is None or slot.stopping or slot.starting or slot.host.current_state in RUNNING:
            return
        result = slot.host.wait_for_job(timeout=1.0) or {}
        status = str(result.get("status") or "failed")
        if slot.halted:
            status, reason = "interrupted", "emergency stop"
        else:
            reason = result.get("reason") or status
        self._end_job(slot, status, reason, result)

    def _publish_log(self, slot: _Slot) -> None:
        entries = slot.host.log(500)
        if not entries or entries[-1] is slot.last_log:
            return
        start = 0
        for i in range(len(entries) - 1, -1, -1):
            if entries[i] is slot.last_log:
                start = i + 1
                break
        slot.last_log = entries[-1]
        fresh = [[e.time, e.direction, e.text[:300], e.kind] for e in entries[start:]]
        self._event(slot, {"kind": "log", "entries": fresh})


def _number(command: dict, field: str, low: float, high: float) -> float:
    try:
        value = float(command.get(field))
    except (TypeError, ValueError):
        raise InputError(field, f"{field}={command.get(field)!r} is not a number") from None
    if not low <= value <= high:
        raise InputError(field, f"{field}={value:g} is outside {low:g}..{high:g}")
    return value


def _order_spool(order) -> dict:
    """The spool an order prints with: its material, and its colour (the house colour when none)."""
    from somana_core.scheduling.model import DEFAULT_COLOUR

    colour = (order.parameters or {}).get("colour") or (order.quote or {}).get("colour") or DEFAULT_COLOUR
    return {"material": str(order.material), "colour": str(colour).lower()}


def _round(value):
    return None if value is None else round(value, 1)


def _public(record: dict | None) -> dict | None:
    """A job record without the station's file path."""
    return None if record is None else {k: v for k, v in record.items() if k != "path"}
