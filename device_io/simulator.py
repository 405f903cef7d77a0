"""A virtual Marlin printer on a pseudo-terminal, so the host, the command line and the machine
dashboard all run without hardware.

It behaves like a Marlin 2.x board where it matters to a host: a receive buffer, a command buffer
(BUFSIZE) and planner slots that push back on the sender, moves that take time from distance and
feed rate (scaled by `time_scale`), heaters with a first-order thermal model, M105/M114/M115/M155,
an emergency parser for M112, Marlin's line-number and checksum checks (an error flushes the
receive buffer and asks for a resend), and injected faults (see `FaultPlan`). Every executed line
is logged, so a test can prove exactly-once, in-order delivery.

Fault SPEC syntax (`somana sim --fault SPEC`, `FaultPlan.parse([...])`), LINE = the line number N
the host put on the line:

    checksum@LINE[,LINE...]   the line arrives corrupted once (checksum mismatch -> resend)
    checksum-rate=P           every numbered line arrives corrupted with probability P (0..1)
    lost-ok@LINE[,...]        the line is executed but its `ok` is never sent
    resend-no-ok@LINE[,...]   the line is refused with `Resend:` but no `ok` follows
    busy@LINE:DURATION        executing the line takes DURATION longer (`busy: processing` meanwhile)
    reset@LINE                the board resets when the line arrives (prints `start`; queues lost)
    drop@LINE                 after executing the line the connection goes dead (no replies, input
                              ignored) until the host closes and reopens the port
    action@LINE:NAME          after executing the line the printer sends `//action:NAME` (pause,
                              resume or cancel), as its own menu or a filament runout would
    latency=DURATION          every reply is delayed by DURATION (e.g. 2ms)
    seed=N                    random seed for checksum-rate

DURATION is a number with `ms` or `s` (a bare number means seconds). Each @ fault fires once.

Printer-initiated actions: `M600` (filament change) sends `//action:pause`, and
`VirtualPrinter.send_action(name)` sends one at any moment. Marlin prints them without an
`echo:` prefix; `send_action(name, echo_prefix=True)` imitates builds that add one.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import re
import select
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field

from device_io.gcode import ModalState, command_code, command_words
from device_io.protocol import unframe

# ---------------------------------------------------------------------------------------------
# Faults


def parse_duration(text: str) -> float:
    """'2ms' -> 0.002, '1.5s' -> 1.5, '3' -> 3.0 (seconds)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a duration (use e.g. 2ms or 1.5s)")
    value = float(match.group(1))
    return value / 1000.0 if match.group(2) == "ms" else value


def _parse_lines(kind: str, text: str) -> set[int]:
    try:
        lines = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise ValueError(f"{kind}@{text}: line numbers must be whole numbers, e.g. {kind}@120") from None
    if not lines or min(lines) < 1:
        raise ValueError(f"{kind}@{text}: line numbers must be 1 or more")
    return lines


@dataclass
class FaultPlan:
    """Faults the virtual printer injects (see the module docstring for the SPEC syntax)."""

    checksum_at: set = field(default_factory=set)
    checksum_rate: float = 0.0
    lost_ok_at: set = field(default_factory=set)
    resend_no_ok_at: set = field(default_factory=set)
    busy_at: dict = field(default_factory=dict)  # line -> extra seconds
    reset_at: set = field(default_factory=set)
    drop_at: set = field(default_factory=set)
    action_at: dict = field(default_factory=dict)  # line -> action name
    latency_s: float = 0.0
    seed: int = 0

    KINDS = ("checksum", "checksum-rate", "lost-ok", "resend-no-ok", "busy", "reset", "drop", "action", "latency",
             "seed")
    ACTIONS = ("pause", "resume", "cancel")

    @classmethod
    def parse(cls, specs: list[str] | None) -> "FaultPlan":
        plan = cls()
        for spec in specs or []:
            plan.add(spec)
        return plan

    def add(self, spec: str) -> None:
        spec = spec.strip()
        if "=" in spec:
            kind, _, value = spec.partition("=")
            kind = kind.strip()
            if kind == "checksum-rate":
                try:
                    rate = float(value)
                except ValueError:
                    raise ValueError(f"{spec}: the rate must be a number from 0 to 1") from None
                if not 0.0 <= rate <= 1.0:
                    raise ValueError(f"{spec}: the rate {rate} is outside 0 to 1")
                self.checksum_rate = rate
            elif kind == "latency":
                self.latency_s = parse_duration(value)
            elif kind == "seed":
                if not value.strip().lstrip("-").isdigit():
                    raise ValueError(f"{spec}: the seed must be a whole number")
                self.seed = int(value)
            else:
                raise ValueError(f"{spec}: unknown fault {kind!r}; known: {', '.join(self.KINDS)}")
            return
        kind, at, where = spec.partition("@")
        if not at:
            raise ValueError(f"{spec!r} is not a fault SPEC (e.g. checksum@120, busy@300:2s, latency=2ms)")
        kind = kind.strip()
        if kind == "busy":
            lines, colon, duration = where.partition(":")
            if not colon:
                raise ValueError(f"{spec}: busy needs a duration, e.g. busy@300:2s")
            seconds = parse_duration(duration)
            for line in _parse_lines(kind, lines):
                self.busy_at[line] = seconds
            return
        if kind == "action":
            lines, colon, name = where.partition(":")
            if not colon or name.strip() not in self.ACTIONS:
                raise ValueError(f"{spec}: action needs one of {', '.join(self.ACTIONS)}, e.g. action@300:pause")
            for line in _parse_lines(kind, lines):
                self.action_at[line] = name.strip()
            return
        targets = {
            "checksum": self.checksum_at,
            "lost-ok": self.lost_ok_at,
            "resend-no-ok": self.resend_no_ok_at,
            "reset": self.reset_at,
            "drop": self.drop_at,
        }
        if kind not in targets:
            raise ValueError(f"{spec}: unknown fault {kind!r}; known: {', '.join(self.KINDS)}")
        targets[kind].update(_parse_lines(kind, where))


# ---------------------------------------------------------------------------------------------
# Printer model


@dataclass(frozen=True)
class Executed:
    """One line the firmware executed: its line number (None if unnumbered), command, time."""

    number: int | None
    command: str
    time: float


@dataclass
class Heater:
    temperature: float
    target: float = 0.0
    time_constant_s: float = 30.0
    max_temperature: float = 300.0
    power: int = 0

    def update(self, dt: float, ambient: float) -> None:
        setpoint = self.target if self.target > 0 else ambient
        if dt == math.inf:
            self.temperature = setpoint
        elif dt > 0:
            self.temperature = setpoint + (self.temperature - setpoint) * math.exp(-dt / self.time_constant_s)
        if self.target > 0:
            # full power while far below target, a holding power at it (what a PID settles to)
            holding = 127 * (self.target - ambient) / max(self.max_temperature - ambient, 1.0)
            self.power = int(max(0, min(127, holding + (self.target - self.temperature) * 12.7)))
        else:
            self.power = 0


_M110_N = re.compile(r"M110\s*N\s*(-?\d+)", re.IGNORECASE)


class VirtualPrinter:
    """A virtual Marlin printer. `start()` opens a pseudo-terminal and returns its device path.

    Times: `time_scale` multiplies every simulated duration (moves, homing, dwell, heating):
    1.0 is real time, 0.001 a thousand times faster, 0 instantaneous. Reply latency, busy
    intervals, auto-report intervals and busy faults are wall-clock times.
    """

    HOMING_S = 3.0  # simulated time of a G28

    def __init__(
        self,
        faults: FaultPlan | None = None,
        *,
        bufsize: int = 16,
        planner_slots: int = 16,
        rx_buffer_bytes: int = 2048,
        time_scale: float = 1.0,
        advanced_ok: bool = True,
        emergency_parser: bool = True,
        autoreport_temp: bool = True,
        busy_interval_s: float = 2.0,
        boot_time_s: float = 0.05,
        reset_on_open: bool = True,
        ambient_c: float = 21.0,
        firmware_name: str = "Marlin 2.1.2 (Somana virtual printer)",
        latency_s: float | None = None,
    ):
        self.faults = faults or FaultPlan()
        self.bufsize = bufsize
        self.planner_slots = planner_slots
        self.rx_buffer_bytes = rx_buffer_bytes
        self.time_scale = time_scale
        self.advanced_ok = advanced_ok
        self.emergency_parser = emergency_parser
        self.autoreport_temp = autoreport_temp
        self.busy_interval_s = busy_interval_s
        self.boot_time_s = boot_time_s
        self.reset_on_open = reset_on_open
        self.ambient_c = ambient_c
        self.firmware_name = firmware_name
        self.latency_s = self.faults.latency_s if latency_s is None else latency_s

        self._rng = random.Random(self.faults.seed)
        self._fired: set = set()  # (kind, line) faults that already fired
        self._cond = threading.Condition()
        self._out_lock = threading.Lock()
        self._tx: deque = deque()
        self._tx_cond = threading.Condition()
        self._executed: list[Executed] = []
        self.emergency_received_at: float | None = None
        self.resets = 0
        self.errors_sent = 0
        self.rx_overflows = 0
        self.actions_sent = 0
        self._master: int | None = None
        self.path: str | None = None
        self._running = False
        self._threads: list[threading.Thread] = []
        self.host_connected = False
        self.heaters = {
            "T0": Heater(ambient_c, time_constant_s=20.0, max_temperature=300.0),
            "B": Heater(ambient_c, time_constant_s=60.0, max_temperature=120.0),
        }
        self._boot_state()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> str:
        """Open the pseudo-terminal and start the firmware; returns the device path."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        os.close(slave)  # the host opens it by path; with no slave open, the master sees a hang-up
        self._master = master
        self._running = True
        self._last_thermal = time.monotonic()
        for target, name in ((self._io_loop, "sim-io"), (self._firmware_loop, "sim-firmware"), (self._tx_loop, "sim-tx")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.path

    def stop(self) -> None:
        self._running = False
        with self._cond:
            self._cond.notify_all()
        with self._tx_cond:
            self._tx_cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads = []
        if self._master is not None:
            os.close(self._master)
            self._master = None

    def __enter__(self) -> "VirtualPrinter":
        if self._master is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- inspection ----------------------------------------------------------------------------

    def executed(self) -> list[Executed]:
        with self._cond:
            return list(self._executed)

    def executed_commands(self) -> list[str]:
        with self._cond:
            return [entry.command for entry in self._executed]

    def clear_log(self) -> None:
        with self._cond:
            self._executed.clear()

    @property
    def killed(self) -> bool:
        return self._killed

    @property
    def idle(self) -> bool:
        """Nothing received waits to be executed (receive buffer, command buffer, current command)."""
        with self._cond:
            return not self._rx and not self._queue and self._current is None

    @property
    def position(self) -> dict:
        return dict(self._modal.position)

    def send_action(self, name: str, *, echo_prefix: bool = False) -> None:
        """Send `//action:<name>` now, as the printer's menu, a runout sensor or M600 would."""
        with self._cond:
            self.actions_sent += 1
            self._emit(("echo:" if echo_prefix else "") + f"//action:{name}")

    def board_reset(self) -> None:
        """Reset the board now (as the reset button or a watchdog would)."""
        with self._cond:
            self._reset("reset")
            self._cond.notify_all()

    # -- state ---------------------------------------------------------------------------------

    def _boot_state(self) -> None:
        self._rx = bytearray()
        self._queue: deque = deque()
        self._current = None  # [number, command, generator, wake_at, started_at, quiet]
        self._planner: deque = deque()
        self._last_n = 0
        self._killed = False
        self._muted = False
        self._booting_until = 0.0
        # positions, modes, feed rate (mm/min) and fan: the same reading of G-code as the host's
        self._modal = ModalState(x=0.0, y=0.0, z=0.0, e=0.0, feedrate=1500.0, fan=0)
        self._autoreport_s = 0
        self._next_report = math.inf
        self._next_busy = math.inf
        for heater in self.heaters.values():
            heater.target = 0.0

    def _reset(self, reason: str) -> None:
        self.resets += 1
        self._boot_state()
        self._booting_until = time.monotonic() + self.boot_time_s
        # printed when the boot is over (a host that opens the port flushes what came before)
        self._emit("start", f"echo:{self.firmware_name}", f"echo: {reason.capitalize()} Reset", delay_s=self.boot_time_s)

    # -- output --------------------------------------------------------------------------------

    def _emit(self, *lines: str, delay_s: float = 0.0) -> None:
        if self._muted or self._master is None:
            return
        data = ("\n".join(lines) + "\n").encode("ascii")
        if self.latency_s > 0 or delay_s > 0 or self._tx:
            with self._tx_cond:
                self._tx.append((time.monotonic() + self.latency_s + delay_s, data))
                self._tx_cond.notify()
        else:
            self._write(data)

    def _write(self, data: bytes) -> None:
        with self._out_lock:
            try:
                os.write(self._master, data)
            except OSError:
                pass  # nobody listening: a real UART drops it too

    def _tx_loop(self) -> None:
        while self._running:
            with self._tx_cond:
                while self._running and not self._tx:
                    self._tx_cond.wait(0.5)
                if not self._running:
                    return
                due, data = self._tx[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self._tx_cond.wait(delay)
                    continue
                self._tx.popleft()
            self._write(data)

    # -- input: the serial interrupt -----------------------------------------------------------

    def _io_loop(self) -> None:
        poller = select.poll()
        poller.register(self._master, select.POLLIN)
        while self._running:
            events = poller.poll(100 if self.host_connected else 10)
            flags = events[0][1] if events else 0
            if flags & select.POLLHUP and not flags & select.POLLIN:
                if self.host_connected:
                    with self._cond:
                        self.host_connected = False
                        self._muted = False  # a dropped cable is "replugged" by the next open
                time.sleep(0.01)
                continue
            if not self.host_connected:
                with self._cond:
                    self.host_connected = True
                    if self.reset_on_open:
                        self._reset("external")  # DTR resets an Arduino-style board on open
                    self._cond.notify_all()
            if not flags & select.POLLIN:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                time.sleep(0.01)
                continue
            if data:
                self._receive(data)

    def _receive(self, data: bytes) -> None:
        with self._cond:
            now = time.monotonic()
            if self._muted or self._killed or now < self._booting_until:
                return  # nobody is listening (dead link, halted board, bootloader)
            if self.emergency_parser and b"M112" in data:
                self._kill(now)
                return
            room = self.rx_buffer_bytes - len(self._rx)
            if len(data) > room:
                self.rx_overflows += 1
                data = data[: max(room, 0)]
            self._rx += data
            self._cond.notify_all()

    def _kill(self, now: float, log: bool = True) -> None:
        if log:  # from the emergency parser; from the queue the main loop logs it
            self._executed.append(Executed(None, "M112", now))
        self.emergency_received_at = now
        self._killed = True
        self._queue.clear()
        self._planner.clear()
        self._current = None
        self._rx.clear()
        for heater in self.heaters.values():
            heater.target = 0.0
        self._emit("Error:Printer halted. kill() called!")

    # -- the firmware's main loop --------------------------------------------------------------

    def _fault(self, kind: str, lines: set | dict, number: int) -> bool:
        if number in lines and (kind, number) not in self._fired:
            self._fired.add((kind, number))
            return True
        return False

    def _line_error(self, message: str, with_ok: bool = True) -> None:
        self.errors_sent += 1
        self._rx.clear()  # Marlin flushes its receive buffer before asking for the resend
        lines = [f"Error:{message}, Last Line: {self._last_n}", f"Resend: {self._last_n + 1}"]
        if with_ok:
            lines.append("ok")
        self._emit(*lines)

    def _read_commands(self) -> bool:
        """Move complete lines from the receive buffer into the command buffer. False if the
        board reset meanwhile."""
        while len(self._queue) < self.bufsize:
            end = self._rx.find(b"\n")
            if end < 0:
                return True
            raw = self._rx[:end].decode("ascii", "replace").strip("\r\x00 ")
            del self._rx[: end + 1]
            if not raw:
                continue
            line = unframe(raw)
            if line.number is None:
                if line.checksum is not None:
                    self._line_error("No Line Number with checksum")
                    continue
                if line.command:
                    self._queue.append((None, line.command))
                continue
            number = line.number
            m110 = _M110_N.search(line.command)
            if m110:
                number = int(m110.group(1))
            expected = number == self._last_n + 1
            if expected and not m110:
                if self._fault("resend-no-ok", self.faults.resend_no_ok_at, number):
                    self._line_error("checksum mismatch", with_ok=False)
                    continue
                corrupted = self._fault("checksum", self.faults.checksum_at, number) or (
                    self.faults.checksum_rate > 0 and self._rng.random() < self.faults.checksum_rate
                )
                if corrupted:
                    self._line_error("checksum mismatch")
                    continue
            if not expected and not m110:
                self._line_error("Line Number is not Last Line Number+1")
                continue
            if line.checksum is None:
                self._line_error("No Checksum with line number")
                continue
            if not line.checksum_ok:
                self._line_error("checksum mismatch")
                continue
            self._last_n = number
            if self._fault("reset", self.faults.reset_at, number):
                self._reset("watchdog")
                return False
            self._queue.append((number, line.command))
        return True

    def _firmware_loop(self) -> None:
        while self._running:
            with self._cond:
                now = time.monotonic()
                self._thermal_update(now)
                if not (self._killed or self._muted):
                    if not self._read_commands():
                        continue
                    if self._current is None and self._queue:
                        number, command = self._queue.popleft()
                        generator = self._execute(number, command)
                        self._current = [number, command, generator, now, now, False]
                        self._next_busy = now + self.busy_interval_s
                    if self._current is not None and now >= self._current[3]:
                        if self._advance(now):
                            continue  # finished one: take the next at once
                    if self._current is not None and not self._current[5] and now >= self._next_busy:
                        self._emit("echo:busy: processing")
                        self._next_busy = now + self.busy_interval_s
                    if now >= self._next_report:
                        self._emit(self._temperature_text())
                        self._next_report = max(self._next_report + self._autoreport_s, now)
                wake = min(
                    self._current[3] if self._current is not None else math.inf,
                    self._next_busy if self._current is not None and not self._current[5] else math.inf,
                    self._next_report,
                    now + 0.25,
                )
                if self._rx.find(b"\n") >= 0 and len(self._queue) < self.bufsize and not self._killed:
                    continue
                if self._current is not None and self._current[3] <= now:
                    continue
                self._cond.wait(max(wake - time.monotonic(), 0.0))

    def _advance(self, now: float) -> bool:
        """Run the current command until it waits or finishes; True when it finished."""
        number, command, generator = self._current[0], self._current[1], self._current[2]
        try:
            wake = next(generator)
        except StopIteration as stop:
            before, ok_suffix = stop.value or ([], "")
            self._current = None
            self._executed.append(Executed(number, command, now))
            if self._killed:
                return True
            if number is not None and self._fault("lost-ok", self.faults.lost_ok_at, number):
                if before:
                    self._emit(*before)
            else:
                self._emit(*before, self._ok_text(ok_suffix))
            if number is not None and self._fault("action", self.faults.action_at, number):
                self.actions_sent += 1
                self._emit(f"//action:{self.faults.action_at[number]}")
            if number is not None and self._fault("drop", self.faults.drop_at, number):
                self._muted = True  # the cable is gone: nothing in, nothing out
                self._rx.clear()
                self._queue.clear()
            return True
        if wake is True:  # quiet wait (heating): temperature lines instead of busy
            self._current[5] = True
            wake = now + 0.01
        self._current[3] = wake
        return False

    def _ok_text(self, suffix: str) -> str:
        if suffix:
            return f"ok {suffix}"
        if self.advanced_ok:
            free_planner = max(self.planner_slots - len(self._planner), 0)
            free_buffer = max(self.bufsize - len(self._queue) - 1, 0)
            return f"ok N{self._last_n} P{free_planner} B{free_buffer}"
        return "ok"

    # -- commands ------------------------------------------------------------------------------

    def _thermal_update(self, now: float) -> None:
        dt_real = now - self._last_thermal
        self._last_thermal = now
        dt = math.inf if self.time_scale == 0 else dt_real / self.time_scale
        for heater in self.heaters.values():
            heater.update(dt, self.ambient_c)

    def _temperature_text(self) -> str:
        hot, bed = self.heaters["T0"], self.heaters["B"]
        return (
            f"T:{hot.temperature:.2f} /{hot.target:.2f} B:{bed.temperature:.2f} /{bed.target:.2f} "
            f"@:{hot.power} B@:{bed.power}"
        )

    def _scaled(self, seconds: float) -> float:
        return seconds * self.time_scale

    def _prune_planner(self, now: float) -> None:
        while self._planner and self._planner[0] <= now:
            self._planner.popleft()

    def _wait_planner_empty(self):
        while True:
            now = time.monotonic()
            self._prune_planner(now)
            if not self._planner:
                return
            yield self._planner[-1]

    def _execute(self, number, command):
        extra = self.faults.busy_at.get(number) if number is not None else None
        if extra is not None and self._fault("busy", self.faults.busy_at, number):
            until = time.monotonic() + extra
            while time.monotonic() < until:
                yield until
        code = command_code(command)
        handler = getattr(self, "_cmd_" + code, None)
        if handler is None:
            if code.startswith("T") and code[1:].isdigit():
                return [], ""
            return [f'echo:Unknown command: "{command}"'], ""
        result = handler(command_words(command), command)
        if hasattr(result, "__next__"):
            result = yield from result
        return result or ([], "")

    def _cmd_G0(self, words, command):
        return (yield from self._cmd_G1(words, command))

    def _cmd_G1(self, words, command):
        target = dataclasses.replace(self._modal)
        target.apply(command, "G1", words)
        if target.feedrate is None or target.feedrate <= 0:
            target.feedrate = self._modal.feedrate  # F0 is ignored, as Marlin does
        before, after = self._modal.position, target.position
        distance = math.dist([after[a] for a in "XYZ"], [before[a] for a in "XYZ"])
        if distance == 0:
            distance = abs(after["E"] - before["E"])
        duration = self._scaled(distance / (target.feedrate / 60.0))
        if duration > 0:
            while True:
                now = time.monotonic()
                self._prune_planner(now)
                if len(self._planner) < self.planner_slots:
                    break
                yield self._planner[0]  # back-pressure: no ok until a slot frees
            start = max(now, self._planner[-1]) if self._planner else now
            self._planner.append(start + duration)
        self._modal = target
        return [], ""

    def _cmd_G4(self, words, command):
        yield from self._wait_planner_empty()
        seconds = words.get("S", 0.0) + words.get("P", 0.0) / 1000.0
        until = time.monotonic() + self._scaled(seconds)
        while time.monotonic() < until:
            yield until
        return [], ""

    def _cmd_G28(self, words, command):
        yield from self._wait_planner_empty()
        until = time.monotonic() + self._scaled(self.HOMING_S)
        while time.monotonic() < until:
            yield until
        self._modal.apply(command)
        return [], ""

    def _modal_only(self, words, command):
        self._modal.apply(command, words=words)

    _cmd_G90 = _cmd_G91 = _cmd_G92 = _cmd_M82 = _cmd_M83 = _cmd_M106 = _cmd_M107 = _modal_only

    def _cmd_M400(self, words, command):
        yield from self._wait_planner_empty()
        return [], ""

    def _set_target(self, heater, words):
        if "S" in words:
            self.heaters[heater].target = max(0.0, min(words["S"], self.heaters[heater].max_temperature))
        elif "R" in words:
            self.heaters[heater].target = max(0.0, min(words["R"], self.heaters[heater].max_temperature))

    def _cmd_M104(self, words, command):
        self._set_target("T0", words)

    def _cmd_M140(self, words, command):
        self._set_target("B", words)

    def _wait_heater(self, heater_name, words):
        self._set_target(heater_name, words)
        heater = self.heaters[heater_name]
        next_print = time.monotonic() + 1.0
        while True:
            if heater.target <= 0:
                return [], ""
            close = abs(heater.temperature - heater.target) <= 1.0
            if close or ("S" in words and heater.temperature >= heater.target - 1.0):
                return [], ""
            now = time.monotonic()
            if now >= next_print:  # Marlin prints temperatures while it waits, not busy
                self._emit(self._temperature_text() + " W:?")
                next_print = now + 1.0
            yield True

    def _cmd_M109(self, words, command):
        return (yield from self._wait_heater("T0", words))

    def _cmd_M190(self, words, command):
        return (yield from self._wait_heater("B", words))

    def _cmd_M105(self, words, command):
        return [], self._temperature_text()

    def _cmd_M114(self, words, command):
        p = self._modal.position
        counts = " ".join(f"{axis}:{int(round(p[axis] * 80))}" for axis in "XYZ")
        return [f"X:{p['X']:.2f} Y:{p['Y']:.2f} Z:{p['Z']:.2f} E:{p['E']:.2f} Count {counts}"], ""

    def _cmd_M115(self, words, command):
        caps = {
            "SERIAL_XON_XOFF": 0,
            "BINARY_FILE_TRANSFER": 0,
            "EEPROM": 1,
            "AUTOREPORT_TEMP": int(self.autoreport_temp),
            "AUTOREPORT_POS": 0,
            "PROGRESS": 0,
            "PRINT_JOB": 1,
            "AUTOLEVEL": 0,
            "Z_PROBE": 0,
            "LEVELING_DATA": 0,
            "SOFTWARE_POWER": 0,
            "TOGGLE_LIGHTS": 0,
            "CASE_LIGHT_BRIGHTNESS": 0,
            "EMERGENCY_PARSER": int(self.emergency_parser),
            "HOST_ACTION_COMMANDS": 1,
            "PROMPT_SUPPORT": 0,
            "ADVANCED_OK": int(self.advanced_ok),
            "THERMAL_PROTECTION": 1,
        }
        lines = [
            f"FIRMWARE_NAME:{self.firmware_name} SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
            "PROTOCOL_VERSION:1.0 MACHINE_TYPE:Somana Virtual EXTRUDER_COUNT:1 "
            "UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff"
        ]
        lines += [f"Cap:{name}:{value}" for name, value in caps.items()]
        return lines, ""

    def _cmd_M155(self, words, command):
        if not self.autoreport_temp:
            return [f'echo:Unknown command: "{command}"'], ""
        self._autoreport_s = int(words.get("S", 0))
        self._next_report = time.monotonic() + self._autoreport_s if self._autoreport_s > 0 else math.inf

    def _cmd_M110(self, words, command):
        if "N" in words:
            self._last_n = int(words["N"])

    def _cmd_M112(self, words, command):
        self._kill(time.monotonic(), log=False)
        return [], ""

    def _cmd_M600(self, words, command):
        # Marlin with HOST_ACTION_COMMANDS asks the host to pause for the filament change
        self.actions_sent += 1
        return ["//action:pause"], ""

    def _cmd_M118(self, words, command):
        return ["echo:" + command[4:].strip()], ""

    def _noop(self, words, command):
        return None

    _cmd_M17 = _cmd_M18 = _cmd_M84 = _cmd_M117 = _cmd_M220 = _cmd_M221 = _cmd_M300 = _noop
    _cmd_M201 = _cmd_M203 = _cmd_M204 = _cmd_M205 = _cmd_M999 = _cmd_M108 = _cmd_M73 = _noop
