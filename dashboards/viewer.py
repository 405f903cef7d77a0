"""A reusable 3D part viewer: three.js (vendored from npm, served locally) inside a Panel JSComponent.

Feed it `somana_core.preview.mesh_payload(...)`; it keeps the last drawn mesh on screen until a
new payload arrives, shows a busy indicator while `busy` is True, and reports the revision it
has drawn back in `drawn_revision` (tests and benchmarks wait on it).

Serving: `somana serve` must serve STATIC_DIR under STATIC_URL (the import map points there).
"""

from __future__ import annotations

from pathlib import Path

import panel as pn
import param

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/assets"  # somana serve serves STATIC_DIR here (Bokeh reserves /static): /assets/three/build/three.module.min.js
VIEWER_JS = STATIC_DIR / "viewer.js"
THREE_DIR = STATIC_DIR / "three"
THREE_MODULE = "three/build/three.module.min.js"
ORBIT_CONTROLS = "three/examples/jsm/controls/OrbitControls.js"


def importmap(base_url: str = STATIC_URL) -> dict:
    """The import map the viewer's module needs, with three.js under `base_url`."""
    base = base_url.rstrip("/")
    return {"imports": {"three": f"{base}/{THREE_MODULE}",
                        "three/addons/": f"{base}/three/examples/jsm/"}}


class MeshViewer(pn.custom.JSComponent):
    """Rotate (drag), zoom (wheel) and pan (right drag) a part; the payload comes from the core."""

    payload = param.Dict(default={}, doc="somana_core.preview.mesh_payload(...): base64 buffers and revision")
    busy = param.Boolean(default=False, doc="show the 'updating' indicator (the last view stays)")
    note = param.String(default="", doc="a caption drawn in the corner of the view")
    drawn_revision = param.Integer(default=-1, doc="set by the browser once a payload's mesh is drawn")

    _esm = VIEWER_JS
    _importmap = importmap()

    def __init__(self, **params):
        params.setdefault("min_height", 320)
        params.setdefault("sizing_mode", "stretch_both")
        super().__init__(**params)
