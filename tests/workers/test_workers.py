"""The worker pool against a real Dask LocalCluster of worker processes, started here: jobs give the
core's own answers, errors keep their field, a session's superseded job never runs, sessions share
one worker fairly, and the worker processes die with the process that started them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid

import pytest

from somana_core import geometry, quote, workers
from tests.support.waiting import wait_until, wait_until_async

FAMILY = "sensor_enclosure"


@pytest.fixture(scope="module")
def pool():
    """One worker process: what runs when is then decided by the pool alone."""
    started = workers.start_local(worker_count=1)
    started.warm()
    yield started
    started.close()


def slow_values() -> dict:
    """A part no worker has built yet, with engraved text (the slow part of a build: ~0.5 s or more)."""
    return {"text": f"Q{uuid.uuid4().hex[:6]}"}


def test_a_quote_job_gives_the_same_quote_as_the_core_in_this_process(pool):
    values = {"pcb_width": geometry.get_family(FAMILY).param["pcb_width"].default + 4}
    done = pool.submit("quote", family=FAMILY, values=values, qty=3, material="PETG").result(timeout=120)
    spec = geometry.make_spec(FAMILY, values)
    here = quote.quote_product(geometry.build(spec).metrics("PETG"), FAMILY, qty=3, material="PETG",
                               machine=spec.machine)
    assert done["quote"] == here and done["values"] == spec.values()
    assert done["worker"] in pool.client.scheduler_info()["workers"]


def test_a_preview_job_is_the_mesh_payload_of_the_part(pool):
    from somana_core.preview import decode_payload

    payload = pool.submit("preview", family=FAMILY, values={}, revision=7, fit=True).result(timeout=120)
    vertices, triangles, _ = decode_payload(payload)
    assert payload["revision"] == 7 and payload["fit"] is True and len(triangles) > 1000
    assert triangles.max() < len(vertices)


def test_a_ranges_job_gives_the_cores_field_ranges(pool):
    values = {"pcb_width": geometry.get_family(FAMILY).param["pcb_width"].default + 6}
    assert pool.submit("ranges", family=FAMILY, values=values).result(timeout=120) == \
        geometry.field_ranges(FAMILY, values)


def test_an_export_job_returns_the_file_bytes(pool):
    stl = pool.submit("export", family=FAMILY, values={}, suffix="stl").result(timeout=120)
    assert stl[:5] != b"solid" or b"facet" in stl  # binary or ASCII STL, with triangles
    assert len(stl) > 10_000


def test_a_bad_value_fails_in_the_worker_with_its_field_and_message(pool):
    low = geometry.get_family(FAMILY).param["wall"].bounds[0]
    future = pool.submit("quote", family=FAMILY, values={"wall": low / 2})
    with pytest.raises(workers.InputError) as raised:
        future.result(timeout=120)
    with pytest.raises(workers.InputError) as expected:
        geometry.make_spec(FAMILY, {"wall": low / 2})
    assert raised.value.field == "wall" and raised.value.message == expected.value.message


def test_an_unknown_job_kind_is_refused_before_it_reaches_a_worker(pool):
    with pytest.raises(workers.InputError, match="kind='carve' is not a worker job"):
        pool.submit("carve", family=FAMILY)


def test_a_newer_change_cancels_the_queued_one_which_never_runs(pool):
    pool.clear_run_log()
    blocker = pool.submit("quote", family=FAMILY, values=slow_values())  # the only worker is busy
    session = workers.LatestWins(pool)

    async def changes():
        async def change(width):
            try:
                return await session.run("quote", family=FAMILY, values={"pcb_width": width})
            except workers.Superseded:
                return "superseded"
        first = asyncio.ensure_future(change(61.0))
        await wait_until_async(lambda: session.stats.requests == 1, message="the first change submitted")
        second = asyncio.ensure_future(change(62.0))
        await wait_until_async(lambda: session.stats.requests == 2, message="the second change submitted")
        last = asyncio.ensure_future(change(63.0))
        return [await first, await second, await last]

    first, second, last = asyncio.run(changes())
    blocker.result(timeout=120)
    assert first == "superseded" and second == "superseded"
    assert last["values"]["pcb_width"] == 63.0
    assert session.stats.requests == 3 and session.stats.superseded == 2
    parts = geometry.get_family(FAMILY).parts
    ran = wait_until(lambda: [e for e in pool.run_log() if e["kind"] == "part"] or None, timeout_s=10)
    assert len(ran) == len(parts)  # one job per part of the last change: the two superseded ones never started
    assert {e["request"] for e in ran} == set(session.last_keys)


def test_a_session_asking_often_waits_behind_one_that_asked_once(pool):
    pool.clear_run_log()
    blocker = pool.submit("quote", family=FAMILY, values=slow_values())
    dragging, patient = workers.LatestWins(pool), workers.LatestWins(pool)
    keys = {}

    async def both():
        async def ask(session, name, values):
            try:
                value = await session.run("quote", family=FAMILY, values=values)
                keys[name] = session.last_keys[0]
                return value
            except workers.Superseded:
                return None
        tasks = [asyncio.ensure_future(ask(dragging, f"drag{i}", {"pcb_width": 60.0 + i})) for i in range(3)]
        await wait_until_async(lambda: dragging.stats.requests == 3, message="the three drags submitted")
        tasks.append(asyncio.ensure_future(ask(patient, "patient", {"pcb_width": 70.0})))
        await wait_until_async(lambda: patient.stats.requests == 1, message="the patient request submitted")
        tasks.append(asyncio.ensure_future(ask(dragging, "drag3", {"pcb_width": 63.0})))
        return await asyncio.gather(*tasks)

    results = asyncio.run(both())
    blocker.result(timeout=120)
    assert results[3]["values"]["pcb_width"] == 70.0 and results[4]["values"]["pcb_width"] == 63.0
    order = [e["request"] for e in pool.run_log() if e["kind"] == "part"]
    assert order.index(keys["patient"]) < order.index(keys["drag3"])  # asked later, served first


def test_a_job_that_takes_too_long_is_reported_as_timed_out(pool):
    session = workers.LatestWins(pool, timeout_s=0.001)

    async def ask():
        return await session.run("quote", family=FAMILY, values=slow_values())

    with pytest.raises(workers.JobTimedOut):
        asyncio.run(ask())
    assert session.stats.timed_out == 1


ORPHAN_SCRIPT = """
import os, sys
from somana_core import workers
pool = workers.start_local(worker_count=2)
pool.wait_for_workers(2)
print(" ".join(str(p) for p in pool.client.run(os.getpid).values()), flush=True)
sys.stdin.read()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, waiting for its parent to reap it
        return stat.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_worker_processes_end_with_the_process_that_started_them(stop):
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ))
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        parent.send_signal(stop)
        parent.wait(timeout=30)
        wait_until(lambda: not any(_alive(p) for p in pids), timeout_s=30, message="worker processes to exit")
    finally:
        if parent.poll() is None:
            parent.kill()


def _threading_of_this_worker(dask_worker) -> dict:
    return {"nthreads": dask_worker.state.nthreads,
            **{name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}


def test_each_worker_runs_one_job_at_a_time_with_single_threaded_maths_libraries(pool):
    """Two workers on two cores must not each spread over both: one job thread per worker process and
    OpenMP/OpenBLAS/MKL at one thread (Dask's nanny sets these before the process starts)."""
    for seen in pool.client.run(_threading_of_this_worker).values():
        assert seen["nthreads"] == 1
        assert seen["OMP_NUM_THREADS"] == seen["OPENBLAS_NUM_THREADS"] == seen["MKL_NUM_THREADS"] == "1"


QUIET_SCRIPT = """
import logging
from somana_core import workers

def complain(text):
    logging.getLogger("distributed.worker").error(text)

if __name__ == "__main__":
    pool = workers.start_local(worker_count=1)
    pool.wait_for_workers(1)
    pool.client.run(complain, "while working")
    pool.close()  # silences the workers first, then closes them
    pool = workers.start_local(worker_count=1)
    pool.wait_for_workers(1)
    pool._quiet_shutdown()
    pool.client.run(complain, "once closing")
    pool.client.close()
    pool.cluster.close()
"""


def test_closing_our_own_workers_prints_nothing_but_their_errors_while_working_still_print(tmp_path):
    """A heartbeat caught by the close once printed a traceback after `somana publish`'s own message."""
    script = tmp_path / "quiet.py"
    script.write_text(QUIET_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=os.getcwd()))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "while working" in done.stderr
    assert "once closing" not in done.stderr
