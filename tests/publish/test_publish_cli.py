"""`somana publish` refuses what it cannot do before writing anything, and never leaves half a site."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from pathlib import Path

GOOD_RESULTS = {"runs": 1, "families": {"sensor_enclosure": {"median_s": {"build": 0.2, "total": 1.5}}}}


def _publish(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "somana", "publish", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=dict(os.environ, PYTHONPATH=os.getcwd()))


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*"))


def _bad_results(tmp_path):
    cases = {
        "not-json.json": "{ this is not json",
        "list.json": "[1, 2, 3]",
        "no-families.json": json.dumps({"runs": 3}),
        "bad-stage.json": json.dumps({"families": {"x": {"median_s": {"build": "slow"}}}}),
        "negative.json": json.dumps({"families": {"x": {"median_s": {"build": -1}}}}),
        "binary.json": None,
    }
    paths = []
    for name, text in cases.items():
        path = tmp_path / name
        if text is None:
            path.write_bytes(os.urandom(256))
        else:
            path.write_text(text)
        paths.append(path)
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    return paths + [folder, tmp_path / "missing.json", Path("")]


def test_bad_results_files_are_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "site"
    for results in _bad_results(tmp_path):
        done = _publish(str(out), "--pipeline-results", "" if results == Path("") else str(results))
        assert done.returncode == 2, (results.name, done.stderr)
        assert done.stderr.count("\n") == 1 and "--pipeline-results" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert not out.exists(), results.name


@pytest.mark.parametrize("outdir", ["", "   ", "/proc/somana-site", "/", "~"])
def test_unusable_output_folders_are_refused(tmp_path, outdir):
    before = _files(tmp_path)
    results = tmp_path / "ok.json"
    results.write_text(json.dumps(GOOD_RESULTS))
    done = _publish(outdir, "--pipeline-results", str(results), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "outdir" in done.stderr
    assert _files(tmp_path) == sorted(before + [results.relative_to(tmp_path)])


def test_a_folder_holding_other_files_is_not_overwritten(tmp_path):
    keep = tmp_path / "thesis"
    keep.mkdir()
    (keep / "chapter1.tex").write_text("precious")
    done = _publish(str(keep), "--no-measure")
    assert done.returncode == 2 and "other files" in done.stderr
    assert _files(keep) == [keep.joinpath("chapter1.tex").relative_to(keep)]


def test_a_failure_half_way_leaves_the_earlier_site_as_it_was(tmp_path):
    """A gallery row the geometry refuses fails the build after the story pages were drawn."""
    import shutil

    from somana_core.data import data_dir

    data = tmp_path / "data"
    shutil.copytree(data_dir(), data)
    with open(data / "gallery_variants.csv", "a") as table:
        table.write("sensor_enclosure,broken,Broken row,pcb_length=9999,example,test\n")
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("the earlier site")
    results = tmp_path / "ok.json"
    results.write_text(json.dumps(GOOD_RESULTS))
    done = subprocess.run([sys.executable, "-m", "somana", "publish", str(out), "--pipeline-results", str(results)],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=os.getcwd(), SOMANA_DATA_DIR=str(data)))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "pcb_length" in done.stderr and done.stderr.count("\n") == 1
    assert _files(out) == [out.joinpath("index.html").relative_to(out)]
    assert (out / "index.html").read_text() == "the earlier site"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "ok.json", "site"]  # no staging left behind
