"""A built product: its parts (CadQuery solids in print pose), metrics, exports and preview meshes.

Parts are cached by the parameters that affect them (`part_inputs` of the family), so changing the
lid text rebuilds only the lid. Each cached part also keeps its meshes per deflection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from somana_core.errors import InputError
from somana_core.geometry import toolkit as tk
from somana_core.geometry.spec import material_row
from somana_core.geometry.toolkit import Mesh

# Fine enough that the STL's volume is within 0.1% of the solid's on the smallest features.
EXPORT_DEFLECTION_MM = 0.02
PLATE_GAP_MM = 10.0          # gap between parts laid out on the build plate
_CACHE_SIZE = 96


@dataclass
class PartRecord:
    """One built part: its solid in print pose, the matrix back to its own assembled frame, its
    meshes per deflection and its measures (computed once: unchanged parts cost nothing to quote)."""

    shape: object
    to_local: np.ndarray
    meshes: dict = field(default_factory=dict)
    measured: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def measures(self) -> dict:
        """Volume (mm3), area (mm2) and exact bounding box (mm) of the solid, computed once."""
        with self.lock:
            if not self.measured:
                lo, hi = tk.bounding_box(self.shape)
                self.measured.update(volume_mm3=self.shape.Volume(), area_mm2=self.shape.Area(),
                                     bbox_mm=[float(v) for v in hi - lo], bbox_min=lo)
            return self.measured

    def mesh(self, deflection_mm: float, with_edges: bool = True) -> Mesh:
        key = (round(float(deflection_mm), 6), with_edges)
        with self.lock:  # BRepMesh writes the triangulation into the shared shape
            if key not in self.meshes:
                self.meshes[key] = tk.tessellate(self.shape, deflection_mm, with_edges)
            return self.meshes[key]


_parts: "OrderedDict[tuple, PartRecord]" = OrderedDict()
_parts_lock = threading.Lock()


# Tables whose rows become geometry (board outlines, battery sizes, nozzle widths): an edit to
# one of them must not be hidden by the cache.
_GEOMETRY_TABLES = ("boards.csv", "batteries.csv", "machines.csv")


def _data_stamp() -> tuple:
    from somana_core.data import data_dir

    folder = data_dir()
    stamps = []
    for name in _GEOMETRY_TABLES:
        path = folder / name
        stamps.append((str(path), path.stat().st_mtime_ns if path.exists() else None))
    return tuple(stamps)


def _cached_part(family_module, spec_cls, part: str, values: dict) -> PartRecord:
    names = spec_cls.part_inputs[part]
    key = (spec_cls.family, part, _data_stamp()) + tuple((n, values[n]) for n in names)
    with _parts_lock:
        record = _parts.get(key)
        if record is not None:
            _parts.move_to_end(key)
            return record
    inputs = SimpleNamespace(**{n: values[n] for n in names})  # the builder sees only its inputs
    assembled = family_module.build_part(part, inputs)
    rotation = family_module.print_rotation(part, inputs)
    lift = getattr(family_module, "print_lift", None)
    if lift is not None:  # the family knows where its part rests: no bounding box to compute
        to_print = tk.translation_matrix(0.0, 0.0, lift(part, inputs)) @ rotation
        shape, to_local = tk.apply_matrix(assembled, to_print), np.linalg.inv(to_print)
    else:
        shape, to_local = tk.lay_flat(assembled, rotation)
    record = PartRecord(shape=shape, to_local=to_local)
    with _parts_lock:
        _parts[key] = record
        while len(_parts) > _CACHE_SIZE:
            _parts.popitem(last=False)
    return record


def clear_cache() -> None:
    with _parts_lock:
        _parts.clear()
    tk.text_solid.cache_clear()


class Product:
    """A family's parts built from one spec."""

    def __init__(self, spec, records: dict[str, PartRecord], placements: dict[str, np.ndarray]):
        self.spec = spec
        self.family = spec.family
        self.values = spec.values()
        self._records = records
        self._placements = placements  # part -> print pose -> assembled product view

    @property
    def parts(self) -> dict:
        """part name -> CadQuery solid, in its print pose (resting on z=0, ready to slice)."""
        return {name: rec.shape for name, rec in self._records.items()}

    def placement(self, part: str) -> np.ndarray:
        """4x4 matrix taking a part from its print pose (`parts[part]`) to the assembled product view."""
        return self._placements[self._names(part)[0]].copy()

    def _names(self, part: str | None) -> list[str]:
        if part is None:
            return list(self._records)
        if part not in self._records:
            raise InputError("part", f"part={part!r} is not a part of {self.family}; allowed: "
                                     f"{', '.join(self._records)}")
        return [part]

    # -- numbers ---------------------------------------------------------------------------
    def metrics(self, material: str = "PLA") -> dict:
        row = material_row(material)
        density = float(row["density_g_cm3"])
        price = float(row["price_usd_per_kg"])
        parts = {}
        for name, rec in self._records.items():
            measures = rec.measures()
            mass = measures["volume_mm3"] / 1000.0 * density
            parts[name] = {"volume_mm3": measures["volume_mm3"], "area_mm2": measures["area_mm2"],
                           "bbox_mm": list(measures["bbox_mm"]), "mass_g": mass,
                           "material_cost_usd": mass / 1000.0 * price}
        total = {k: sum(p[k] for p in parts.values()) for k in ("volume_mm3", "area_mm2", "mass_g",
                                                                 "material_cost_usd")}
        return {"parts": parts, "total": total, "material": material}

    # -- files -----------------------------------------------------------------------------
    def plate_layout(self, part: str | None = None) -> dict[str, np.ndarray]:
        """Translation per part so parts lie side by side on the plate (rows wrap at the bed width)."""
        from somana_core.geometry.spec import machine_row

        bed_x = float(machine_row(self.values["machine"])["build_x_mm"])
        offsets, x, y, row_depth = {}, 0.0, 0.0, 0.0
        for name in self._names(part):
            measures = self._records[name].measures()
            lo, size = measures["bbox_min"], np.array(measures["bbox_mm"])
            if x > 0 and x + size[0] > bed_x:
                x, y, row_depth = 0.0, y + row_depth + PLATE_GAP_MM, 0.0
            offsets[name] = tk.translation_matrix(x - lo[0], y - lo[1], -lo[2])
            x += size[0] + PLATE_GAP_MM
            row_depth = max(row_depth, size[1])
        return offsets

    def export(self, path, part: str | None = None, deflection_mm: float = EXPORT_DEFLECTION_MM) -> Path:
        """Write .stl/.step/.3mf: all parts side by side on the plate as separate bodies, or one part."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".stl", ".step", ".stp", ".3mf"):
            raise InputError("out", f"out={path.name!r}: the file must end in .stl, .step or .3mf")
        layout = self.plate_layout(part)
        if suffix in (".step", ".stp"):
            shapes = [tk.apply_matrix(self._records[n].shape, m) for n, m in layout.items()]
            tk.atomic_write(path, lambda tmp: tk.write_step(tmp, shapes))
        else:
            meshes = [(n, self._records[n].mesh(deflection_mm, with_edges=False).transformed(m))
                      for n, m in layout.items()]
            if suffix == ".stl":
                tk.atomic_write(path, lambda tmp: tk.write_stl(tmp, [m for _, m in meshes]))
            else:
                tk.atomic_write(path, lambda tmp: tk.write_3mf(tmp, meshes))
        return path

    def mesh(self, part: str, deflection_mm: float = EXPORT_DEFLECTION_MM) -> Mesh:
        """A part's mesh in print pose (what the STL holds for it)."""
        return self._records[self._names(part)[0]].mesh(deflection_mm, with_edges=False)

    def preview(self, deflection_mm: float = 0.1, part: str | None = None) -> dict[str, Mesh]:
        """part -> Mesh positioned as in the assembled product (absolute deflection in mm)."""
        return {name: self._records[name].mesh(deflection_mm).transformed(self._placements[name])
                for name in self._names(part)}


def build(spec) -> Product:
    from somana_core.geometry import family_module

    spec.validate()
    module = family_module(spec.family)
    values = spec.values()
    records, placements = {}, {}
    for part in type(spec).parts:
        record = _cached_part(module, type(spec), part, values)
        records[part] = record
        placements[part] = module.placement(part, spec) @ record.to_local
    return Product(spec, records, placements)
