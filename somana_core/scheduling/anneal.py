"""Simulated annealing on a plan's sequences, every move timed exactly.

The objective is each printer's span (its availability to its last plate's end) plus TARDINESS_WEIGHT x
its weighted tardiness, summed (the prints' own minutes are the same in every plan): so a move that
changes two printers' sequences changes only their two terms. Each printer's plates keep the times the
rules give them (changeover inside a staffed shift, at most `staff` people at once, at most the heat-up
cap per station); the staff and heat-up slots of every other printer stay where they are while a move
is timed, so the plan is feasible after every move, not just after a final re-timing. A move re-times
the changed printers from the first plate it touched (the plates before keep their times) until a plate
ends when it did with the same plates after it (the rest keeps its times): 36,000-40,000 moves in the
~3 s `plan.solve` leaves it on 20 x 500 (most of the week's-end moves touch two plates or three). Stopping
also when it ends earlier (the rest then keeps times it could improve on) was faster but worse: 231,799-
232,708 against 230,742-230,916 (3 instances x 2 seeds, 3.5 s each, summed).

Moves, by share (measured on 20 x 500, seeds 0-2, tight and loose due dates, in `plan.solve`'s 10 s):
- the week's end (`TAIL_MOVES`): one of a printer's last two plates to one of the last places of another
  printer that can take it. Its printers then end a night earlier (4 of 20 stop on Thursday evening on
  seed 1 tight) and nobody works on into Saturday. The 10 s plans' objective summed over the six
  instances: 250,727 with the night swaps that came before; annealing without this move 243,664-244,389,
  with it as 15 % of the moves 235,342, as 45-60 % 229,071-231,561;
- the nights (`NIGHT_MOVES`): a plate followed by idle (mostly: its print ends at night) swapped for a
  longer plate (half the time one of the printers' last three: the shorter one ends that printer
  sooner), or a later plate pulled from the end of some printer's plan into the evening before it;
- the rest: a plate moved anywhere a printer can take it, or swapped with one of about its length
  (the later plates then mostly keep their times) or with any.
Worse moves are taken with probability exp(-delta / T), T falling geometrically from T_START to T_END
minutes over the time given; the best plan seen is returned. Tried and dropped: the plates' ends (a
sum-of-completion-times term, 0.02-0.1 per minute) added to what the moves are judged by, so work moves
early and the waste late: no gain over the noise (two seeds); T from 120 or 300 minutes: worse (most
moves then taken are nights lost); T from 3 or 40: the same within the noise; a printer among the four
ending first giving up its whole last day, each plate to the best of the other printers' last three
places (1-5 % of the moves): never taken (+233 to +65,000 min on 20 x 500 seed 0), the others' last
days cannot take the work without a Saturday; one of a printer's last two plates swapped with a plate
up to 4 % of the plates longer (30 % of the week's-end moves): no gain over the noise. Left alone: the
annealing runs on one core (the machine has two; a process pool would start inside a server's threads).
"""

from __future__ import annotations

import math
import random
import time

from somana_core.scheduling.dispatch import Intervals, _first_clash, earliest_slot
from somana_core.scheduling.model import TARDINESS_WEIGHT, Instance, Schedule, figures, sequence_times

T_START = 10.0  # minutes of objective a worse move may cost and still be taken often, at the start
T_END = 0.5
TAIL_MOVES = 0.5  # shares of the moves tried (see above); the rest are moves and swaps anywhere
NIGHT_MOVES = 0.4


class _Timed:
    """Every printer's sequence with its plates' (changeover start, print start, end), the staff and
    heat-up slots they hold, and each printer's cost."""

    def __init__(self, instance: Instance, plan: Schedule):
        co = instance.changeovers
        self.instance = instance
        self.cal = instance.calendar
        self.plate = co.plate_clear_min
        self.heat = co.heat_up_min
        self.cap = co.heat_up_cap_per_station
        self.jobs = {j.id: j for j in instance.plannable()}
        self.dur = {jid: instance.duration(j) for jid, j in self.jobs.items()}
        self.printers = {p.id: p for p in instance.printers if p.online}
        self.fits = {jid: [p.id for p in instance.eligible(j) if p.id in self.printers]
                     for jid, j in self.jobs.items()}
        self.staff_iv = Intervals(co.plate_clear_min + co.spool_swap_min + co.colour_purge_min + co.nozzle_swap_min)
        self.heat_iv = {p.station: Intervals(co.heat_up_min) for p in instance.printers}
        self.station = {p.id: p.station for p in instance.printers}
        self._setup: dict = {}
        self.kept = [a for a in plan.assignments  # printing now, or not planned here: fixed obstacles
                     if a.fixed or a.printer not in self.printers or a.job_id not in self.jobs]
        for a in self.kept:
            self.heat_iv[self.station[a.printer]].add(a.start, a.start + self.heat)
            if a.start > a.changeover_start:
                self.staff_iv.add(a.changeover_start, a.start)
        self.seq: dict[str, list[str]] = {pid: [] for pid in self.printers}
        self.times: dict[str, list[tuple[int, int, int]]] = {pid: [] for pid in self.printers}
        for pid, rows in plan.by_printer().items():
            rows = [a for a in rows if not a.fixed and a.job_id in self.jobs]
            if pid not in self.printers or not rows:
                continue
            self.seq[pid] = [a.job_id for a in rows]
            self.times[pid] = [(a.changeover_start, a.start, a.end) for a in rows]
            for cs, s, _e in self.times[pid]:
                self._hold(pid, cs, s)
        self.cost = {pid: self._cost(pid, self.seq[pid], self.times[pid]) for pid in self.printers}

    def setup(self, state, job) -> int:
        key = (state, job.group)
        if key not in self._setup:
            self._setup[key] = self.instance.changeovers.setup_min(*state, job)
        return self._setup[key]

    def _hold(self, pid: str, cs: int, s: int) -> None:
        if s > cs:
            self.staff_iv.add(cs, s)
        self.heat_iv[self.station[pid]].add(s, s + self.heat)

    def _hold_if_free(self, pid: str, times: list[tuple[int, int, int]], verify: bool) -> bool:
        """Hold these slots again if nothing placed since took them (the printer re-timed before this one
        in the same move may have: `verify`); else hold none."""
        if not verify:  # nothing else moved; this printer's new plates all end before these begin
            for cs, s, _e in times:
                self._hold(pid, cs, s)
            return True
        station = self.heat_iv[self.station[pid]]
        held = []
        for cs, s, _e in times:
            if _first_clash(self.staff_iv, cs, s, self.cal.staff_at(cs)) is not None \
                    or _first_clash(station, s, s + self.heat, self.cap) is not None:
                for cs_, s_ in held:
                    self._release(pid, cs_, s_)
                return False
            self._hold(pid, cs, s)
            held.append((cs, s))
        return True

    def _release(self, pid: str, cs: int, s: int) -> None:
        if s > cs:
            self.staff_iv.remove(cs, s)
        self.heat_iv[self.station[pid]].remove(s, s + self.heat)

    def _cost(self, pid: str, seq: list[str], times: list[tuple[int, int, int]]) -> float:
        if not seq:
            return 0.0
        late = 0
        for jid, (_cs, _s, end) in zip(seq, times):
            job = self.jobs[jid]
            if end > job.due_min:
                late += job.weight * (end - job.due_min)
        return times[-1][2] - self.printers[pid].available_min + TARDINESS_WEIGHT * late

    def _state_before(self, pid: str, seq: list[str], k: int):
        if k == 0:
            p = self.printers[pid]
            return (p.material, p.colour, p.nozzle_mm), p.available_min
        return self.jobs[seq[k - 1]].group, self.times[pid][k - 1][2]

    def retime_from(self, pid: str, seq: list[str], k: int, old_seq: list[str] | None = None,
                    old_times: list[tuple[int, int, int]] | None = None, verify: bool = True
                    ) -> list[tuple[int, int, int]] | None:
        """Times of `seq[k:]` on `pid` after the kept prefix, holding their slots as they are placed;
        None (and nothing held) when a plate finds no staffed shift in the calendar. With the old
        sequence and times (their slots released): once a plate ends when it did, with the same
        plates after it, the rest keeps its old times (held again) instead of being placed one by one."""
        state, t = self._state_before(pid, seq, k)
        out = []
        station = self.heat_iv[self.station[pid]]
        shift = len(seq) - len(old_seq) if old_seq is not None else 0
        for m in range(k, len(seq)):
            jid = seq[m]
            job = self.jobs[jid]
            change = self.plate + self.setup(state, job)
            spot = earliest_slot(self.cal, self.staff_iv, station, self.heat, self.cap,
                                 max(t, job.release_min), change)
            if spot is None:
                for cs_, s_, _e in out:
                    self._release(pid, cs_, s_)
                return None
            cs, s = spot
            end = s + self.dur[jid]
            out.append((cs, s, end))
            self._hold(pid, cs, s)
            state, t = job.group, end
            o = m - shift
            if old_times is not None and 0 <= o < len(old_times) and end == old_times[o][2] \
                    and seq[m:] == old_seq[o:]:
                if self._hold_if_free(pid, old_times[o + 1:], verify):
                    return out + old_times[o + 1:]
        return out

    def try_move(self, changes: dict[str, tuple[list[str], int]], accept) -> bool:
        """Re-time each changed printer (new sequence, first changed position), in turn; keep the change
        when `accept(delta)` says so, else put every slot back as it was."""
        old = {}
        for pid, (_seq, k) in changes.items():
            old[pid] = (self.seq[pid], self.times[pid], self.cost[pid], k)
            for cs, s, _e in self.times[pid][k:]:
                self._release(pid, cs, s)
        new = {}
        ok = True
        for pid, (seq, k) in changes.items():
            timed = self.retime_from(pid, seq, k, old[pid][0], old[pid][1], verify=bool(new))
            if timed is None:
                ok = False
                break
            times = self.times[pid][:k] + timed
            new[pid] = (seq, times, self._cost(pid, seq, times), k)
        if ok:
            delta = sum(new[p][2] - old[p][2] for p in new)
            if accept(delta):
                for pid, (seq, times, cost, _k) in new.items():
                    self.seq[pid], self.times[pid], self.cost[pid] = seq, times, cost
                return True
        for pid, (_seq, times, _cost, k) in new.items():
            for cs, s, _e in times[k:]:
                self._release(pid, cs, s)
        for pid, (_seq, times, _cost, k) in old.items():
            for cs, s, _e in times[k:]:
                self._hold(pid, cs, s)
        return False

    def schedule(self, method: str) -> Schedule:
        assignments = list(self.kept)
        for pid, seq in self.seq.items():
            if seq:
                assignments += sequence_times(self.instance, self.printers[pid], [self.jobs[j] for j in seq],
                                              [(cs, s) for cs, s, _e in self.times[pid]])
        return Schedule(assignments, method=method, status="heuristic")


def anneal(instance: Instance, plan: Schedule, seconds: float, seed: int = 0) -> Schedule:
    """The best plan seen while annealing `plan`'s sequences for `seconds` (see the module's note).
    A plan with unplaced plates is returned as it is (the moves only rearrange placed ones)."""
    if plan.unplaced or seconds <= 0:
        return plan
    started = time.perf_counter()
    rng = random.Random(seed)
    timed = _Timed(instance, plan)
    where = {jid: pid for pid, seq in timed.seq.items() for jid in seq}
    placed = list(where)
    if len(placed) < 2:
        return plan
    total = sum(timed.cost.values())
    best_total, best = total, None
    temperature = T_START
    tries = taken = 0

    by_length = sorted(placed, key=lambda x: (timed.dur[x], x))
    rank = {x: k for k, x in enumerate(by_length)}
    near = max(2, len(placed) // 50)

    def accept(delta: float) -> bool:
        return delta <= 0 or rng.random() < math.exp(-delta / temperature)

    cal = instance.calendar
    plate = instance.changeovers.plate_clear_min

    def random_move():
        jid = rng.choice(placed)
        a = where[jid]
        seq_a = timed.seq[a]
        i = seq_a.index(jid)
        roll = rng.random()
        if roll < 0.4:  # move it
            b = rng.choice(timed.fits[jid])
            if b == a:
                if len(seq_a) < 2:
                    return None
                new_a = seq_a[:i] + seq_a[i + 1:]
                j = rng.randrange(len(new_a) + 1)
                if j == i:
                    return None
                new_a.insert(j, jid)
                return {a: (new_a, min(i, j))}
            new_b = list(timed.seq[b])
            j = rng.randrange(len(new_b) + 1)
            new_b.insert(j, jid)
            return {a: (seq_a[:i] + seq_a[i + 1:], i), b: (new_b, j)}
        if roll < 0.8:  # swap it with one of about its length (the printers' later plates keep their times)
            k = rank[jid] + rng.randint(-near, near)
            other = by_length[min(max(k, 0), len(placed) - 1)]
        else:
            other = rng.choice(placed)
        return swap(jid, other)

    def swap(jid, other):
        a, b = where[jid], where[other]
        if other == jid or (a != b and (b not in timed.fits[jid] or a not in timed.fits[other])):
            return None
        seq_a = timed.seq[a]
        i = seq_a.index(jid)
        if a == b:
            new_a = list(seq_a)
            j = new_a.index(other)
            new_a[i], new_a[j] = other, jid
            return {a: (new_a, min(i, j))}
        new_a, new_b = list(seq_a), list(timed.seq[b])
        j = new_b.index(other)
        new_a[i], new_b[j] = other, jid
        return {a: (new_a, i), b: (new_b, j)}

    spots: dict[str, list[tuple[int, int]]] = {}  # per printer: (idle after a plate, its position)
    idle_of: dict[str, int] = {}
    stale = set(timed.seq)

    def night_move():
        """A plate followed by idle (mostly: its print ends at night): swap it for a longer plate, or pull
        a plate that fits the evening left before it from the end of some printer's plan."""
        for pid in stale:
            t = timed.times[pid]
            spots[pid] = [(t[k + 1][0] - t[k][2], k) for k in range(len(t) - 1) if t[k + 1][0] - t[k][2] > 30]
            idle_of[pid] = sum(x[0] for x in spots[pid])
        stale.clear()
        if not any(idle_of.values()):
            return None
        q = rng.choices(list(idle_of), weights=list(idle_of.values()))[0]
        idle, k = rng.choices(spots[q], weights=[x[0] for x in spots[q]])[0]
        jid = timed.seq[q][k]
        cs = timed.times[q][k][0]
        if rng.random() < 0.5:
            d = timed.dur[jid]
            # mostly from the printers' last plates: the shorter plate there ends that printer sooner
            source = [x for seq in timed.seq.values() for x in seq[-3:]] if rng.random() < 0.5 else placed
            pool = [x for x in source if d < timed.dur[x] <= d + idle and q in timed.fits[x]
                    and where[x] in timed.fits[jid]]
            group = timed.jobs[jid].group
            pool = [x for x in pool if timed.jobs[x].group == group] or pool
            return swap(jid, rng.choice(pool)) if pool else None
        closes = cal.window_end(cs)
        if closes is None:
            return None
        evening = closes - plate - cs
        pool = [x for pid, seq in timed.seq.items() for x in seq[-3:]
                if x != jid and timed.dur[x] + plate <= evening and q in timed.fits[x]
                and timed.times[pid][timed.seq[pid].index(x)][1] > cs]
        if not pool:
            return None
        x = rng.choice(pool)
        b = where[x]
        if b == q:
            new_q = [y for y in timed.seq[q] if y != x]
            new_q.insert(k, x)
            return {q: (new_q, k)}
        j = timed.seq[b].index(x)
        new_q = list(timed.seq[q])
        new_q.insert(k, x)
        return {q: (new_q, k), b: (timed.seq[b][:j] + timed.seq[b][j + 1:], j)}

    def tail_move():
        """One of a printer's last plates to near the end of another that can take it (the week's last
        prints running through the last night, instead of a printer working on into the weekend)."""
        a = rng.choice([pid for pid, seq in timed.seq.items() if seq])
        seq_a = timed.seq[a]
        i = len(seq_a) - 1 - rng.randrange(min(2, len(seq_a)))
        jid = seq_a[i]
        b = rng.choice(timed.fits[jid])
        if b == a:
            return None
        new_b = list(timed.seq[b])
        j = max(0, len(new_b) - rng.randrange(3))
        new_b.insert(j, jid)
        return {a: (seq_a[:i] + seq_a[i + 1:], i), b: (new_b, j)}

    while True:
        if tries % 50 == 0:
            done = (time.perf_counter() - started) / seconds
            if done >= 1.0:
                break
            temperature = T_START * (T_END / T_START) ** done
        tries += 1
        roll = rng.random()
        changes = tail_move() if roll < TAIL_MOVES else night_move() if roll < TAIL_MOVES + NIGHT_MOVES \
            else random_move()
        if not changes:
            continue
        before = sum(timed.cost[p] for p in changes)
        if timed.try_move(changes, accept):
            taken += 1
            total += sum(timed.cost[p] for p in changes) - before
            for pid, (seq, _k) in changes.items():
                stale.add(pid)
                for x in seq:
                    where[x] = pid
            if total < best_total - 1e-9:
                best_total = total
                best = {pid: (list(seq), list(timed.times[pid])) for pid, seq in timed.seq.items()}
    out = plan
    if best is not None:
        for pid, (seq, times) in best.items():
            timed.seq[pid], timed.times[pid] = seq, times
        out = timed.schedule(plan.method)
        out.notes, out.status = list(plan.notes), plan.status
    out.notes.append(f"annealing: {tries} moves tried, {taken} taken")
    out.solve_s = plan.solve_s
    return out
