"""The configurator's board upload component, driven as the browser would drive it (widget values):
it writes the board and the chosen openings into the form, and refuses a bad file with the reason."""

from __future__ import annotations

from pathlib import Path

import panel as pn

from dashboards.components.board_intake import BoardIntake

BOARDS = Path(__file__).resolve().parent / "boards"


def _form():
    return {"board_file": pn.widgets.TextInput(value=""), "openings": pn.widgets.TextInput(value="auto")}


def _upload(component, path: Path, name: str | None = None):
    component.upload.filename = name or path.name
    component.upload.value = path.read_bytes()


def test_sample_board_is_shown_before_an_upload():
    form = _form()
    intake = BoardIntake(form)
    assert "the sample board" in intake.summary.object and "4 mounting holes" in intake.summary.object
    assert set(intake.switches) == {"J1", "SW1", "D1"}
    assert form["openings"].value == "J1,SW1"  # the table's defaults (an LED stays closed)


def test_upload_fills_the_form_and_lists_the_connectors(somana_home):
    form = _form()
    intake = BoardIntake(form)
    _upload(intake, BOARDS / "kicad8_l_shape.kicad_pcb")
    assert Path(form["board_file"].value).parent == somana_home / "boards"
    assert "90 x 70 mm" in intake.summary.object and "KiCad 8" in intake.summary.object
    assert set(intake.switches) == {"J1", "J2", "J3", "D1"}
    assert form["openings"].value == "J1,J2"
    intake.switches["J3"].value = True
    intake.switches["J1"].value = False
    assert form["openings"].value == "J2,J3"
    for box in intake.switches.values():
        box.value = False
    assert form["openings"].value == "none"


def test_a_bad_upload_says_why_and_keeps_the_form(somana_home):
    form = _form()
    intake = BoardIntake(form)
    _upload(intake, Path("/usr/share/kicad/demos/ecc83/ecc83-pp_v2.kicad_pcb"))
    assert "no mounting holes" in intake.message and intake.error.visible
    assert form["board_file"].value == ""
    assert not (somana_home / "boards").exists() or not any((somana_home / "boards").iterdir())
