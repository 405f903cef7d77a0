"""`somana worker URL` joins an existing Dask scheduler and serves the jobs of a server attached to it
with `--workers URL` (here: a real scheduler with no workers of its own, started by the test)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from somana_core import workers


@pytest.fixture
def scheduler():
    import logging

    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=0, processes=True, scheduler_port=0, host="127.0.0.1", dashboard_address=":0",
                           silence_logs=logging.ERROR)
    yield cluster.scheduler_address
    cluster.close()


def test_a_somana_worker_joins_the_scheduler_and_builds_for_an_attached_pool(scheduler):
    worker = subprocess.Popen([sys.executable, "-m", "somana", "worker", scheduler, "--nworkers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    pool = workers.attach(scheduler)
    try:
        pool.wait_for_workers(1, timeout_s=120)
        done = pool.submit("quote", family="sensor_enclosure", values={"wall": 2.2}).result(timeout=120)
        assert done["values"]["wall"] == 2.2 and done["quote"].unit_price > 0
        assert pool.worker_count == 1
    finally:
        pool.close()
        worker.terminate()
        worker.wait(timeout=60)


@pytest.mark.parametrize("argv, message", [
    (["http://host:8786"], "URL 'http://host:8786' is not a Dask scheduler address"),
    (["tcp://127.0.0.1:1", "--nworkers", "0"], "--nworkers 0 is outside 1-64"),
    (["tcp://127.0.0.1:1", "--data", "/nonexistent"], "--data /nonexistent: no data tables there"),
])
def test_bad_worker_input_is_one_line_and_exit_2(argv, message):
    done = subprocess.run([sys.executable, "-m", "somana", "worker", *argv], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_attaching_to_an_address_that_is_not_a_scheduler_is_refused():
    with pytest.raises(workers.InputError, match="is not a Dask scheduler address"):
        workers.attach("localhost:8786")
