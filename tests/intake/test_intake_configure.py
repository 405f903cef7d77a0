"""/configure with a customer's board, end to end without a browser: the upload fills the form, a
real Dask worker builds the fitted enclosure, and the view gets the enclosure with the board inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards.components.board_intake import BoardIntake
from dashboards.configure import Configurator
from somana_core import workers
from somana_core.geometry import board_enclosure, build, make_spec
from somana_core.preview import decode_payload

BOARDS = Path(__file__).resolve().parent / "boards"


@pytest.fixture(scope="module")
def pool():
    started = workers.start_local(worker_count=1)
    yield started
    started.close()


def test_upload_builds_the_fitted_enclosure_with_the_board_in_view(somana_home, pool):
    app = Configurator(family="board_enclosure", pool=pool)
    intake = [app.board_intake]
    assert isinstance(intake[0], BoardIntake) and app.valid
    board = BOARDS / "kicad8_l_shape.kicad_pcb"
    intake[0].upload.filename = board.name
    intake[0].upload.value = board.read_bytes()
    values = app._controls.values
    assert Path(values["board_file"]).parent == somana_home / "boards" and values["openings"] == "J1,J2"
    assert app.valid and app.quote is not None and app.quote.family == "sensor_enclosure"
    vertices, _, _ = decode_payload(app.viewer.payload)
    spec = make_spec("board_enclosure", values)
    lay = spec.layout()
    # the view holds the base, the lid lifted off it and the board at its height inside
    assert vertices[:, 2].max() == pytest.approx(lay.base_h + board_enclosure.PREVIEW_LID_LIFT_MM
                                                 + spec.lid_thickness, abs=0.05)
    expected = build(spec).preview(0.1)
    assert len(vertices) == sum(len(m.vertices) for m in expected.values())
    intake[0].switches["J1"].value = False
    assert app._controls.values["openings"] == "J2" and app.valid
