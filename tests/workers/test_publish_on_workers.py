"""`somana publish` builds its gallery on the worker pool: with `--workers URL` on that scheduler's
workers (here a real Dask cluster started by the test), one `product` job per variant, and the
publishing process itself never imports CadQuery."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from somana_core import workers


@pytest.fixture(scope="module")
def pool():
    started = workers.start_local(worker_count=1)
    started.wait_for_workers(1)
    yield started
    started.close()


def _publish(*args, home):
    return subprocess.run([sys.executable, "-m", "somana", "publish", *args], capture_output=True, text=True,
                          env=dict(os.environ, SOMANA_HOME=str(home)), timeout=900)


def test_the_gallery_is_built_on_the_given_workers_not_in_the_publishing_process(pool, tmp_path):
    pool.clear_run_log()
    site = tmp_path / "site"
    done = _publish(str(site), "--no-measure", "--workers", pool.address, "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["gallery_built_by"] == pool.address and report["cadquery_in_this_process"] is False
    built = [e for e in pool.run_log() if e["kind"] == "product"]
    assert len(built) == report["gallery_variants"] > 0
    page = (site / "gallery.html").read_text()
    assert page.count("class='viewer' data-mesh=") == report["gallery_variants"]
    assert page.count('"triangle_count"') == report["gallery_variants"]


@pytest.mark.parametrize("url", ["localhost:8786", "http://localhost:8786", ""])
def test_a_workers_value_that_is_not_a_scheduler_address_is_refused_and_nothing_is_written(tmp_path, url):
    site = tmp_path / "site"
    done = _publish(str(site), "--no-measure", "--workers", url, home=tmp_path)
    assert done.returncode == 2 and "--workers" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not site.exists()
