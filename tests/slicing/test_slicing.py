"""The real slicer: G-code with its own estimates, clear errors, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import trimesh

from somana_core.data import data_dir, read_table
from somana_core.errors import InputError
from somana_core.slicing import (
    PartDoesNotFit, SlicerFailed, SlicerMissing, SlicerTimeout, find_slicer, machine_envelope,
    parse_duration, read_estimates, slice_file,
)


def _leftovers(folder, keep=()):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_box_slices_to_gcode_with_the_slicers_own_estimates(box_stl, tmp_path):
    out = tmp_path / "out" / "box.gcode"
    result = slice_file(box_stl, out)
    assert out.exists() and result.gcode_path == str(out)
    text = out.read_text()
    assert "G1 " in text and "; estimated printing time (normal mode) = " in text
    assert read_estimates(out) == {
        "print_time_s": result.print_time_s, "filament_mm": result.filament_mm, "filament_cm3": result.filament_cm3,
    }
    # a 40x30x20 mm box at 15% infill: several minutes and a few cm3, less than the solid 24 cm3
    assert 600 < result.print_time_s < 3 * 3600
    assert 2 < result.filament_cm3 < 24
    density = float(read_table("materials.csv").set_index("material").loc["PLA", "density_g_cm3"])
    assert result.filament_g == pytest.approx(result.filament_cm3 * density, abs=0.01)
    assert _leftovers(out.parent) == ["box.gcode"]
    assert out.stat().st_mode & 0o044 == 0o044  # readable by the print host, not private to us


@pytest.mark.parametrize("machine", list(read_table("machines.csv")["machine"]))
def test_every_material_profile_slices_on_every_machine_with_its_temperature(box_stl, tmp_path, machine):
    table = read_table("materials.csv")
    for material in table["material"]:
        out = tmp_path / f"{machine}_{material}.gcode"
        slice_file(box_stl, out, material=material, machine=machine)
        ini = (data_dir() / "slicer" / f"filament_{material}.ini").read_text()
        first_temp = [ln.split("=")[1].strip() for ln in ini.splitlines() if ln.startswith("first_layer_temperature")][0]
        text = out.read_text()
        assert f"M109 S{first_temp}" in text, (machine, material)
        env = machine_envelope(machine)
        assert f"; bed_shape = 0x0,{env['x_mm']:g}x0" in text
        assert f"; max_print_height = {env['z_mm']:g}" in text


def test_duration_text_in_seconds():
    assert parse_duration("1h 36m 17s") == 3600 + 36 * 60 + 17
    assert parse_duration("33m 1s") == 1981
    assert parse_duration("2d 0h 1m 0s") == 2 * 86400 + 60
    assert parse_duration("45s") == 45
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_part_larger_than_the_machine_is_refused_before_slicing(tmp_path):
    env = machine_envelope("prusa_mini")
    big = tmp_path / "big.stl"
    trimesh.creation.box((env["x_mm"] + 10, 20, 10)).export(big)
    out = tmp_path / "big.gcode"
    with pytest.raises(PartDoesNotFit) as err:
        slice_file(big, out, machine="prusa_mini")
    assert isinstance(err.value, InputError) and "does not fit" in err.value.message
    assert not out.exists() and _leftovers(tmp_path) == ["big.stl"]


def test_a_file_the_slicer_cannot_read_is_a_slicer_failure_and_keeps_the_old_gcode(tmp_path):
    junk = tmp_path / "junk.stl"
    junk.write_text("solid nothing here\n")
    out = tmp_path / "part.gcode"
    out.write_text("; the previous good G-code\n")
    with pytest.raises(SlicerFailed) as err:
        slice_file(junk, out)
    assert "junk.stl" in str(err.value)
    assert out.read_text() == "; the previous good G-code\n"
    assert _leftovers(tmp_path) == ["junk.stl", "part.gcode"]


def test_a_slow_slice_times_out_and_leaves_nothing(box_stl, tmp_path):
    out = tmp_path / "slow" / "box.gcode"
    with pytest.raises(SlicerTimeout) as err:
        slice_file(box_stl, out, timeout_s=0.01)
    assert "longer than" in str(err.value)
    assert _leftovers(out.parent) == []


def test_missing_slicer_says_how_to_install_it(box_stl, tmp_path, monkeypatch):
    monkeypatch.setenv("SOMANA_SLICER", str(tmp_path / "no-such-slicer"))
    with pytest.raises(SlicerMissing) as err:
        find_slicer()
    assert "apt-get install prusa-slicer" in str(err.value)
    with pytest.raises(SlicerMissing):
        slice_file(box_stl, tmp_path / "box.gcode")
    assert not (tmp_path / "box.gcode").exists()


def test_unknown_material_and_machine_are_input_errors(box_stl, tmp_path):
    with pytest.raises(InputError) as err:
        slice_file(box_stl, tmp_path / "x.gcode", material="UNOBTAINIUM")
    assert err.value.field == "material" and "PLA" in err.value.message
    with pytest.raises(InputError) as err:
        slice_file(box_stl, tmp_path / "x.gcode", machine="nope")
    assert err.value.field == "machine"
    with pytest.raises(InputError) as err:
        slice_file(tmp_path / "missing.stl", tmp_path / "x.gcode")
    assert err.value.field == "file"
    assert not (tmp_path / "x.gcode").exists()


def _somana(*args, env=None):
    return subprocess.run([sys.executable, "-m", "somana", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_cli_slices_and_reports_json(box_stl, tmp_path):
    import json

    out = tmp_path / "cli.gcode"
    done = _somana("slice", str(box_stl), "--out", str(out), "--material", "PETG", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["material"] == "PETG" and result["print_time_s"] > 0 and out.exists()


def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(box_stl, tmp_path):
    out = tmp_path / "cli.gcode"
    done = _somana("slice", str(box_stl), "--out", str(out), "--material", "WOOD")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "material" in done.stderr
    assert not out.exists()


def test_cli_slicer_failure_exits_1_with_the_reason(tmp_path):
    junk = tmp_path / "junk.stl"
    junk.write_text("solid nothing\n")
    done = _somana("slice", str(junk), "--out", str(tmp_path / "j.gcode"))
    assert done.returncode == 1 and "junk.stl" in done.stderr
    assert not (tmp_path / "j.gcode").exists()


SUPPORTS = {"support_material": 1, "support_material_auto": 1, "support_material_buildplate_only": 1,
            "support_material_threshold": 45, "support_material_interface_layers": 2}


def test_options_override_the_profiles_for_one_slice_and_leave_nothing(tmp_path):
    """A shelf 15 mm up (a Γ: post 10 x 20 mm, arm reaching 20 mm out): the profiles print it without
    supports; with the support options the slicer adds support under the arm, so more filament and time."""
    import numpy as np

    from somana_core.slicing import profile_setting

    points = np.array([(0, 0), (10, 0), (10, 15), (30, 15), (30, 20), (10, 20), (0, 20)], float)
    faces = np.array([(0, 1, 2), (0, 2, 6), (2, 5, 6), (2, 3, 4), (2, 4, 5)])
    shelf = trimesh.creation.extrude_triangulation(points, faces, 10.0)
    shelf.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (1, 0, 0)))  # drawn y -> z
    stl = tmp_path / "shelf.stl"
    shelf.export(stl)
    assert profile_setting("prusa_mk3s", "PLA", "support_material") == "0"
    plain = slice_file(stl, tmp_path / "plain.gcode")
    supported = slice_file(stl, tmp_path / "supported.gcode", options=SUPPORTS)
    assert "; support_material = 1" in (tmp_path / "supported.gcode").read_text()
    assert "; support_material = 0" in (tmp_path / "plain.gcode").read_text()
    assert supported.filament_mm > plain.filament_mm and supported.print_time_s > plain.print_time_s
    assert _leftovers(tmp_path, keep=("shelf.stl",)) == ["plain.gcode", "supported.gcode"]
