"""The customer's own KiCad board in the configurator: a file upload that fills the board-fitted
enclosure's form, a summary of what was read (size, holes, KiCad release), and one switch per
recognised connector, button, LED or display saying whether it opens through the wall or lid.

View only: `somana_core.intake` reads, checks and keeps the file and says what is on the board; this
component writes the result into the form's `board_file` and `openings` inputs, and the
configurator rebuilds from there as from any other change.
"""

from __future__ import annotations

import html

import panel as pn
import param

from somana_core.errors import InputError

CSS = """
:host(.somana-board-error) { color: #b3261e; font-size: 12px; }
:host(.somana-board-summary) { font-size: 13px; }
"""


class BoardIntake(pn.viewable.Viewer):
    """Upload + summary + opening switches, writing into a form's `board_file` and `openings` widgets."""

    board_file = param.String(default="", doc="where the uploaded board is kept (empty: the sample board)")
    openings = param.String(default="auto", doc="the references that open, comma separated")
    message = param.String(default="", doc="the last problem with an upload, or empty")

    def __init__(self, form_widgets: dict, **params):
        super().__init__(**params)
        self._form = form_widgets  # SpecControls.widgets of the board family: name -> widget
        for name in ("board_file", "openings"):  # set from here, not typed (their error lines stay)
            self._form[name].visible = False
        self.board_file = str(self._form["board_file"].value or "")
        self.upload = pn.widgets.FileInput(accept=".kicad_pcb", multiple=False, sizing_mode="stretch_width",
                                           css_classes=["board-upload"], label="KiCad board (.kicad_pcb)")
        self.upload.param.watch(self._uploaded, "value")
        self.error = pn.pane.HTML("", css_classes=["somana-board-error"], stylesheets=[CSS], visible=False,
                                  sizing_mode="stretch_width", margin=(0, 10))
        self.summary = pn.pane.HTML("", css_classes=["somana-board-summary"], stylesheets=[CSS],
                                    sizing_mode="stretch_width", margin=(0, 10))
        self.switches: dict[str, pn.widgets.Checkbox] = {}
        self.switch_area = pn.Column(sizing_mode="stretch_width", margin=(0, 10))
        self._show_board()

    # -- what the person does
    def _uploaded(self, event):
        if not event.new:
            return
        from somana_core.intake import store_upload

        try:
            path = store_upload(event.new, self.upload.filename or "board.kicad_pcb")
        except InputError as exc:
            self.message = exc.message
            self.error.object, self.error.visible = html.escape(exc.message), True
            return
        self.message = ""
        self.error.object, self.error.visible = "", False
        self.board_file = str(path)
        self._show_board()
        self._form["board_file"].value = self.board_file  # the configurator rebuilds on this change

    def _switched(self, event=None):
        chosen = [ref for ref, box in self.switches.items() if box.value]
        self.openings = ",".join(chosen) if chosen else "none"
        self._form["openings"].value = self.openings

    # -- what is shown
    def _show_board(self):
        from somana_core.intake import board_summary, load_board

        try:
            info = board_summary(load_board(self.board_file))
        except InputError as exc:
            self.summary.object = html.escape(exc.message)
            self.switch_area.objects = []
            return
        name = self.upload.filename if self.board_file and self.upload.filename else (
            "the sample board" if not self.board_file else "your board")
        w, h = info["size_mm"]
        self.summary.object = (f"<b>{html.escape(str(name))}</b>: {w:g} x {h:g} mm, {info['thickness_mm']:g} mm thick, "
                               f"{info['holes']} mounting holes, {info['footprints']} parts (KiCad {info['kicad']})")
        self.switches = {}
        for row in info["openings"]:
            label = f"{row['reference']}: {row['kind']} (through the {row['opens']})"
            box = pn.widgets.Checkbox(label=label, value=bool(row["default_open"]),
                                      css_classes=[f"opening-{row['reference']}"], margin=(2, 0))
            box.param.watch(self._switched, "value")
            self.switches[row["reference"]] = box
        header = pn.pane.HTML("<b>Openings</b> (switch off what stays closed)" if self.switches else
                              "No connector, button, LED or display recognised at the edge or facing up.",
                              margin=(4, 0))
        self.switch_area.objects = [header, *self.switches.values()]
        self._switched()

    def __panel__(self):
        return pn.Card(self.upload, self.error, self.summary, self.switch_area, title="Your board",
                       collapsible=True, sizing_mode="stretch_width", margin=(4, 0))
