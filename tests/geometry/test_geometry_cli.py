"""`somana families` and `somana make`: the command line other tools and people rely on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import trimesh

from somana_core.geometry import FAMILIES, FITTED


def somana(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "somana", *args], capture_output=True, text=True, cwd=cwd)


def test_families_json_lists_every_parameter_with_unit_bounds_default():
    result = somana("families", "--json")
    assert result.returncode == 0, result.stderr
    families = {f["family"]: f for f in json.loads(result.stdout)["families"]}
    assert set(families) == set(FAMILIES) | set(FITTED)
    board = families["board_enclosure"]
    assert "--board FILE.kicad_pcb" in board["needs"]["board"] and board["sold_as"] == "sensor_enclosure"
    assert board["parameters"]["clearance"]["unit"] == "mm" and "needs" not in families["sensor_enclosure"]
    wall = families["sensor_enclosure"]["parameters"]["wall"]
    assert wall["unit"] == "mm" and wall["bounds"] == [0.8, 5.0] and wall["default"] == 2.0 and wall["step"] == 0.1
    assert "arduino_uno_r3" in families["kit_enclosure"]["parameters"]["board"]["choices"]
    for fam in families.values():
        assert sum(len(names) for names in fam["groups"].values()) == len(fam["parameters"])


def test_families_text_is_readable():
    result = somana("families")
    assert result.returncode == 0
    assert "eyewear_frame" in result.stdout and "pupillary_distance" in result.stdout and "40..62 mm" in result.stdout
    fitted = result.stdout[result.stdout.index("board_enclosure:"):]
    assert fitted.splitlines()[1].strip().startswith("needs --board FILE.kicad_pcb")
    assert "somana make sensor_enclosure --board FILE.kicad_pcb" in fitted


def test_make_writes_all_parts_and_prints_metrics_json(tmp_path):
    out = tmp_path / "box.stl"
    result = somana("make", "kit_enclosure", "--set", "board=raspberry_pi_pico", "--set", "text=Zoë",
                    "--out", str(out), "--json", "--material", "PETG")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["family"] == "kit_enclosure" and report["values"]["text"] == "Zoë"
    assert set(report["metrics"]["parts"]) == {"base", "lid"} and report["metrics"]["material"] == "PETG"
    mesh = trimesh.load(out, process=False)
    mesh.merge_vertices()
    assert len(mesh.split(only_watertight=False)) == 2
    assert mesh.volume == pytest.approx(report["metrics"]["total"]["volume_mm3"], rel=0.005)


def test_make_one_part_as_3mf_with_text_output(tmp_path):
    out = tmp_path / "front.3mf"
    result = somana("make", "eyewear_frame", "--set", "lens_shape=cat_eye", "--out", str(out), "--part", "front")
    assert result.returncode == 0, result.stderr
    assert out.exists() and "front" in result.stdout and "g" in result.stdout
    assert "left_temple" not in result.stdout
    assert "check: the temples grip 0.15 N in PLA (comfortable 0.15-1 N)" in result.stdout


@pytest.mark.parametrize("args, words", [
    (["sensor_enclosure", "--set", "wall=0.5"], ["wall=0.5 mm", "minimum 0.8 mm"]),
    (["sensor_enclosure", "--set", "text=李雷"], ["text", "U+674E"]),
    (["eyewear_frame", "--set", "pupillary_distance=54"], ["pupillary_distance", "decentration"]),
    (["sensor_enclosure", "--set", "pcb_length=160", "--set", "pcb_width=120", "--set", "machine=prusa_mini"],
     ["base is", "prusa_mini"]),
    (["teapot"], ["family", "sensor_enclosure"]),
    (["sensor_enclosure", "--part", "handle"], ["--part 'handle'", "base, lid"]),
    (["sensor_enclosure", "--set", "wall"], ["name=value"]),
    (["sensor_enclosure", "--material", "gold"], ["material='gold'", "PLA"]),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args, words):
    out = tmp_path / "part.stl"
    result = somana("make", *args, "--out", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("somana make: ")
    for word in words:
        assert word in lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_bad_suffix_is_refused_before_building(tmp_path):
    result = somana("make", "sensor_enclosure", "--out", str(tmp_path / "part.obj"))
    assert result.returncode == 2 and ".stl, .step or .3mf" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_make_splits_a_large_order_over_plates_that_each_slice(tmp_path):
    """The issue's example: a 120 x 90 mm board on a Prusa MINI used to exit 2 and leave x.stl."""
    out, gcode = tmp_path / "x.stl", tmp_path / "x.gcode"
    result = somana("make", "sensor_enclosure", "--set", "pcb_length=120", "--set", "pcb_width=90",
                    "--set", "machine=prusa_mini", "--out", str(out), "--gcode", str(gcode), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["plates"] == [str(out), str(tmp_path / "x.plate2.stl")]
    assert [p["gcode_path"] for p in report["gcode"]["plates"]] == [str(gcode), str(tmp_path / "x.plate2.gcode")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.gcode", "x.plate2.gcode", "x.plate2.stl", "x.stl"]
    for plate in (out, tmp_path / "x.plate2.stl"):
        lo, hi = trimesh.load(plate, process=False).bounds
        assert (hi - lo)[0] <= 180 - 10 and (hi - lo)[1] <= 180 - 10  # inside the MINI's bed edge


def test_make_writes_nothing_when_the_slicer_fails(tmp_path):
    """A failing slicer (here `false`, a real program that exits 1) after a good export: no STL is left."""
    import os
    import shutil

    env = {**os.environ, "SOMANA_SLICER": shutil.which("false")}
    result = subprocess.run([sys.executable, "-m", "somana", "make", "kit_enclosure", "--out",
                             str(tmp_path / "x.stl"), "--gcode", str(tmp_path / "x.gcode")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1 and "slicer" in result.stderr
    assert list(tmp_path.iterdir()) == []
