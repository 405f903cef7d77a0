"""The shop's catalogue: printers (data/machines.csv), materials (materials.csv), boards (boards.csv),
battery packs (batteries.csv), stock lens blanks (lens_blanks.csv) and the eyewear fitting
ranges (eyewear_fit.csv).

The only reader of those tables: geometry, quote, slicing and the views ask here, so a column is
parsed and an unknown id is refused in one place, with one message naming the field and what is
allowed. Rows come back as plain dicts; the tables are re-read when a file changes on disk.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from somana_core.data import data_dir, data_path, read_table
from somana_core.errors import InputError

MACHINES = "machines.csv"
MATERIALS = "materials.csv"
BOARDS = "boards.csv"
BATTERIES = "batteries.csv"
LENS_BLANKS = "lens_blanks.csv"
EYEWEAR_FIT = "eyewear_fit.csv"
# Tables whose rows become geometry (board outlines, battery sizes, nozzle widths, blank sizes):
# a cache of built parts must be keyed by their modification times (see `geometry_stamp`).
GEOMETRY_TABLES = (BOARDS, BATTERIES, MACHINES, LENS_BLANKS, EYEWEAR_FIT)


def _table(name: str) -> pd.DataFrame:
    return read_table(name)


@lru_cache(maxsize=32)
def _indexed(name: str, column: str, _stamp: tuple) -> dict[str, dict]:
    """id -> row (first row of each id, in table order), read once per version of the file."""
    rows: dict[str, dict] = {}
    for row in _table(name).to_dict("records"):
        rows.setdefault(str(row[column]), row)
    return rows


def _rows(name: str, column: str) -> dict[str, dict]:
    path = data_path(name)
    return _indexed(name, column, (str(path), path.stat().st_mtime_ns))


def _ids(name: str, column: str) -> list[str]:
    return list(_rows(name, column))


def _row(name: str, column: str, field: str, value: str) -> dict:
    rows = _rows(name, column)
    row = rows.get(str(value))
    if row is None:
        raise InputError(field, f"{field}={value!r} is not in data/{name}; allowed: {', '.join(rows)}")
    return dict(row)


# ----------------------------------------------------------------------------- machines
def machines() -> pd.DataFrame:
    """The printers table (a copy): build volume and nozzle per machine id."""
    return _table(MACHINES)


def machine_ids() -> list[str]:
    return _ids(MACHINES, "machine")


def default_machine() -> str:
    """The first machine in data/machines.csv is the one the floor uses by default."""
    return machine_ids()[0]


def machine_row(machine: str) -> dict:
    return _row(MACHINES, "machine", "machine", machine)


def machine_envelope(machine: str) -> dict:
    """Build volume (mm) and nozzle (mm) of a machine."""
    row = machine_row(machine)
    return {"x_mm": float(row["build_x_mm"]), "y_mm": float(row["build_y_mm"]),
            "z_mm": float(row["build_z_mm"]), "nozzle_mm": float(row["nozzle_mm"])}


def nozzle_mm(machine: str) -> float:
    return float(machine_row(machine)["nozzle_mm"])


# ----------------------------------------------------------------------------- materials
def materials() -> pd.DataFrame:
    """The materials table (a copy): density and price per kg per material id."""
    return _table(MATERIALS)


def material_ids() -> list[str]:
    return _ids(MATERIALS, "material")


def material_row(material: str) -> dict:
    return _row(MATERIALS, "material", "material", material)


def material_density_g_cm3(material: str) -> float:
    return float(material_row(material)["density_g_cm3"])


def material_price_usd_per_kg(material: str) -> float:
    return float(material_row(material)["price_usd_per_kg"])


def material_flexural_modulus_mpa(material: str) -> float:
    """Bending stiffness of a part printed flat in this material (MPa): the eyewear temples' grip."""
    return float(material_row(material)["flexural_modulus_mpa"])


# ----------------------------------------------------------------------------- boards, batteries
def boards() -> pd.DataFrame:
    return _table(BOARDS)


def board_ids() -> list[str]:
    return _ids(BOARDS, "board")


def board_row(board: str) -> dict:
    return _row(BOARDS, "board", "board", board)


def batteries() -> pd.DataFrame:
    return _table(BATTERIES)


def battery_ids() -> list[str]:
    return _ids(BATTERIES, "battery")


def battery_row(battery: str) -> dict:
    return _row(BATTERIES, "battery", "battery", battery)


# ----------------------------------------------------------------------------- lens blanks
def lens_blank_diameters_mm() -> list[float]:
    """Stock lens blank diameters (mm), smallest first."""
    path = data_dir() / LENS_BLANKS
    if not path.exists():
        return []
    return sorted(float(d) for d in _table(LENS_BLANKS)["diameter_mm"])


# ----------------------------------------------------------------------------- eyewear fitting ranges
def eyewear_fit() -> dict[str, dict]:
    """quantity -> {"min", "default", "max"} (floats, in the row's unit) and its unit, kind and source."""
    rows = {}
    for row in _rows(EYEWEAR_FIT, "quantity").values():
        rows[str(row["quantity"])] = {**row, **{k: float(row[k]) for k in ("min", "default", "max")}}
    return rows


# ----------------------------------------------------------------------------- cache keys
def geometry_stamp() -> tuple:
    """(path, modification time) of every table that becomes geometry: part caches key on it, so an
    edited board row is never hidden by a part built from the old one."""
    folder = data_dir()
    stamps = []
    for name in GEOMETRY_TABLES:
        path = folder / name
        stamps.append((str(path), path.stat().st_mtime_ns if path.exists() else None))
    return tuple(stamps)
