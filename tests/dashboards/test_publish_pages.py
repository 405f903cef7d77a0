"""The published pages are computed from the data tables when they are written: edit a table, publish
again, and the page says something else (no browser: the HTML is read directly)."""

import math
import re
import shutil

from dashboards import publish
from somana_core import story
from somana_core.data import data_dir


def _figure(html_text: str, name: str) -> str:
    return re.search(rf"data-figure='{name}'>([^<]*)<", html_text).group(1)


def test_index_break_even_follows_the_factory_assumptions(tmp_path, monkeypatch):
    chapters = publish._chapters()
    before = _figure(publish.index_page([], chapters, 0), "break_even_units")
    assert before == f"{math.ceil(story.break_even_story(1.0, 0.0)['break_even_units_per_month']):,d}"
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    table = copy / "factory_assumptions.csv"
    table.write_text(table.read_text().replace("rent_per_month,,2500,", "rent_per_month,,5000,"))
    monkeypatch.setenv("SOMANA_DATA_DIR", str(copy))
    after = _figure(publish.index_page([], chapters, 0), "break_even_units")
    assert int(after.replace(",", "")) > int(before.replace(",", ""))


def test_order_flow_without_a_measurement_says_how_to_make_one():
    page = publish.order_flow_page([], None, "missing.json")
    assert "benchmarks/pipeline.py" in page and "data-figure='no-results'" in page


def test_gallery_variants_come_from_the_table_for_existing_families():
    from somana_core.geometry import FAMILIES

    variants = publish.gallery_variants()
    assert {v["family"] for v in variants} == set(FAMILIES)
    assert all(isinstance(v["settings"], dict) for v in variants)


def test_the_command_refuses_a_file_as_folder_and_a_missing_results_file(tmp_path):
    import subprocess
    import sys

    a_file = tmp_path / "site"
    a_file.write_text("")
    done = subprocess.run([sys.executable, "-m", "somana", "publish", str(a_file)], capture_output=True, text=True)
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr
    done = subprocess.run([sys.executable, "-m", "somana", "publish", str(tmp_path / "out"), "--pipeline-results",
                           str(tmp_path / "none.json")], capture_output=True, text=True)
    assert done.returncode == 2 and "no such file" in done.stderr and not (tmp_path / "out").exists()
