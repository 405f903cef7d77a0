"""The order configurator in a notebook (the founders' way in, beside the page): in a real Jupyter kernel,
whose asyncio loop is already running, the part is built on a worker process between cells and
`await app.place_order()` stores the order (a plain `asyncio.run` there refused to start)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from somana_core.orders import OrderStore

REPO = Path(__file__).resolve().parents[2]

CELLS = [
    """import asyncio
from somana_core import workers
from dashboards.configure import Configurator

pool = workers.connect(None, worker_count=1)
app = Configurator(family="sensor_enclosure", pool=pool)
app.customer = "Ada Lovelace"
app.qty = 2""",
    """for _ in range(1200):  # the first build on a cold worker takes a few seconds
    if app.valid and not app.viewer.busy and app.quote is not None:
        break
    await asyncio.sleep(0.1)
print(app.quote.unit_price)""",
    """order = await app.place_order()
import json
print(json.dumps({"number": order.number, "qty": order.qty, "unit_price": order.quote["unit_price"]}))
assert app.order_number == order.number""",
]


def _texts(notebook) -> list[str]:
    return ["".join(out.get("text", "") for out in cell.get("outputs", [])) for cell in notebook.cells]


def test_a_notebook_places_an_order_with_await(somana_home):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()  # raises on a failing cell
    priced, placed = _texts(notebook)[1:]
    placed = json.loads(placed)
    with OrderStore() as store:
        stored = store.get(placed["number"])
    assert stored.customer == "Ada Lovelace" and stored.qty == placed["qty"] == 2
    assert stored.quote["unit_price"] == placed["unit_price"] == float(priced)
    assert sorted(f.kind for f in stored.files) == ["step", "stl"]
