"""The G-code upload on /machines: a file dropper whose chunks go to a file on disk as they arrive.

Panel's FileInput sends the whole file as one base64 websocket message and keeps it in memory (a
file above about 75 MB overflowed Tornado's 100 MB read buffer and dropped the page's websocket, the
e-stop included). Panel's FileDropper sends it in chunks (`gcode_upload_chunk_bytes`) but joins them
in memory; this subclass writes each chunk to a private file under the state folder instead, stops
writing (and says why) once the file passes `gcode_upload_max_bytes`, and the browser refuses a
larger file before sending any of it (FilePond's size check). Limits: data/upload_limits.csv.
Printing it hands the file to the station in chunks over the bus (`send_to`, somana_core.floor.handoff).

Chunks are written in the order they arrive, on the server's event loop, before the next websocket
message is read. Panel 1.9.4 hands every widget event to its thread pool when there is one (`somana
serve --num-threads`; reactive.py `_comm_event`), where they run side by side: a later chunk could be
written before an earlier one, and the "Print" click that follows "Upload complete" could run while
the last chunk was still being written ("choose a G-code file first"; tests/ui/test_gcode_upload_browser.py
failed 2 runs in 9 at load 31-36 this way). `tests/ui/test_upload_order.py` reproduces it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import panel as pn
import param

from somana_core.data import state_dir
from somana_core.gcode_check import gcode_upload_max_bytes, megabytes, upload_limit

UPLOAD_FOLDER = "uploads"


def upload_folder() -> Path:
    folder = state_dir() / UPLOAD_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


class GcodeUpload(pn.widgets.FileDropper):
    """One G-code file, streamed to disk. `path` is the finished file (None until the last chunk),
    `filename` its name, `size_bytes` its size; `problem` says why an upload was refused."""

    path = param.Parameter(default=None, doc="the uploaded file on disk, once complete")
    filename = param.String(default=None, allow_None=True)
    size_bytes = param.Integer(default=0)
    problem = param.String(default="")

    # server-side only: none of these goes to the browser's model
    _rename = {**pn.widgets.FileDropper._rename, "path": None, "filename": None, "size_bytes": None, "problem": None}

    def __init__(self, **params):
        self.max_bytes = gcode_upload_max_bytes()
        params.setdefault("chunk_size", upload_limit("gcode_upload_chunk_bytes"))
        params.setdefault("max_file_size", f"{self.max_bytes // 1000}KB")  # FilePond: 1 KB = 1000 bytes
        # no type filter in the browser: a .gcode file has no MIME type there (Chromium sends ""), so
        # FilePond refused real G-code as "invalid type"; the server reads the content instead
        params.setdefault("accepted_filetypes", [])
        params.setdefault("previews", [])
        params.setdefault("multiple", False)
        params.setdefault("layout", "compact")
        params.setdefault("name", f"G-code file to print (text, up to {megabytes(self.max_bytes)})")
        super().__init__(**params)
        self._partial = None  # (name, open file, path, bytes written) while chunks arrive
        self._lock = threading.RLock()  # chunks arrive on the loop; Print runs in Panel's thread pool

    # Panel calls this for every upload chunk and for a removal (FileDropper._process_event)
    @staticmethod
    def load_on_page() -> None:
        """Call while a page's script runs (before it is drawn) on any page that may show the upload
        later: FileDropper's JavaScript (FilePond, from Panel's local bundle) is only sent with pages
        that asked for it, and a widget created in a later callback is too late to ask (the
        /machines detail panel came up blank with "FilePond.registerPlugin" errors)."""
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.extension("filedropper")

    def _server_event(self, doc, event) -> None:
        # in arrival order, here on the loop (as Panel does without a thread pool): see the module's doc
        self._process_bokeh_event(doc, event)

    @property
    def uploading(self) -> str | None:
        """The name of an upload whose chunks are still arriving, else None."""
        partial = self._partial
        return partial[0] if partial is not None else None

    def _process_event(self, event):
        with self._lock:
            self._take(event)

    def _take(self, event):
        data = event.data
        name = str(data.get("name") or "upload.gcode").rsplit("/", 1)[-1][:120]
        if event.event_name == "delete_event":
            if name == self.filename or self._partial is not None:
                self.discard()
            return
        chunk, total = int(data["chunk"]), int(data["total_chunks"])
        if chunk == 1:
            self.discard()
            fd, tmp = tempfile.mkstemp(prefix="gcode-", suffix=".part", dir=upload_folder())
            self._partial = [name, os.fdopen(fd, "wb"), Path(tmp), 0]
        if self._partial is None or self._partial[0] != name:
            return  # the rest of an upload already refused
        payload = data.get("data") or b""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        self._partial[3] += len(payload)
        if self._partial[3] > self.max_bytes:
            self.discard()
            self.problem = f"{name} is larger than {megabytes(self.max_bytes)}, the largest G-code upload"
            return
        self._partial[1].write(payload)
        if chunk == total:
            _, handle, tmp, written = self._partial
            handle.close()
            self._partial = None
            self.param.update(path=tmp, filename=name, size_bytes=written, problem="")

    def send_to(self, fleet, printer_key: str) -> dict:
        """Hand the finished upload to `printer_key`'s station in chunks (Fleet.send_file: the web
        process holds a few 512 KB pieces, never the file), then delete it here; returns the transfer
        to name in the `start` command. OSError if the broker does not take it (the file is kept)."""
        sent = self.path
        transfer = fleet.send_file(printer_key, sent)
        with self._lock:
            if self.path == sent:
                self.discard()  # the station has its own copy now (the page then shows an empty box:
                # PrinterDetail._empty_upload_box, as FilePond's own list cannot be cleared from here)
            else:  # another upload began meanwhile: keep it
                Path(sent).unlink(missing_ok=True)
        return transfer

    def discard(self) -> None:
        """Forget the upload (complete or partial) and delete its file."""
        with self._lock:
            self._forget()

    def _forget(self) -> None:
        if self._partial is not None:
            self._partial[1].close()
            self._partial[2].unlink(missing_ok=True)
            self._partial = None
        if self.path is not None:
            Path(self.path).unlink(missing_ok=True)
        self.param.update(path=None, filename=None, size_bytes=0, problem="")


CLEARER_ESM = """
// FilePond keeps listing a file as "Upload complete" until the person removes it; the server cannot
// clear that list (Panel's FileDropper has no property for it), so this empties the box whose host
// element has the class `box_class` (inside Panel's shadow roots) each time `clears` goes up.
function boxes(root, cls, out) {
  root.querySelectorAll("." + cls).forEach((el) => out.push(el))
  for (const el of root.querySelectorAll("*")) if (el.shadowRoot) boxes(el.shadowRoot, cls, out)
  return out
}
export function render({ model }) {
  model.on("clears", () => {
    for (const host of boxes(document, model.box_class, [])) {
      const root = (host.shadowRoot || host).querySelector(".filepond--root")
      const pond = root && window.FilePond ? window.FilePond.find(root) : null
      if (pond) pond.removeFiles()
    }
  })
}
"""


class UploadBoxClearer(pn.custom.JSComponent):
    """Empties a GcodeUpload's box in the browser when `clears` is raised (the job started or the file
    was refused: a box still saying "Upload complete" invites printing the same file twice)."""

    box_class = param.String(doc="the css class naming the one GcodeUpload to clear")
    clears = param.Integer(default=0, doc="raised by the server: each raise empties the box once")

    _esm = CLEARER_ESM
