"""A built product: its parts (CadQuery solids in print pose), metrics, exports and preview meshes.

Parts are cached by the parameters that affect them (`part_inputs` of the family), so changing the
lid text rebuilds only the lid. Each cached part also keeps its meshes per deflection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from somana_core import catalogue
from somana_core.errors import InputError
from somana_core.geometry import exporters, kernel
from somana_core.geometry.mesh import Mesh, tessellate
from somana_core.geometry.spec import FamilySpec
from somana_core.geometry.plates import pack, plate_path
from somana_core.geometry.transforms import rotation_matrix, translation_matrix

# Fine enough that the STL's volume is within 0.1% of the solid's on the smallest features.
EXPORT_DEFLECTION_MM = 0.02
_CACHE_SIZE = 96


@dataclass
class PartRecord:
    """One built part: its solid in print pose, the matrix back to its own assembled frame, its
    meshes per deflection and its measures (computed once: unchanged parts cost nothing to quote).
    `sold`: the part as the customer gets it when finishing reshapes it after printing (an eyewear
    front heat-formed to its wrap), in the same frame as `shape`; None when it is sold as printed."""

    shape: object
    to_local: np.ndarray
    sold: object | None = None
    meshes: dict = field(default_factory=dict)
    measured: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def measures(self) -> dict:
        """Volume (mm3), area (mm2) and exact bounding box (mm) of the solid, computed once."""
        with self.lock:
            if not self.measured:
                lo, hi = kernel.bounding_box(self.shape)
                self.measured.update(volume_mm3=kernel.volume_mm3(self.shape), area_mm2=kernel.area_mm2(self.shape),
                                     bbox_mm=[float(v) for v in hi - lo], bbox_min=lo)
            return self.measured

    def mesh(self, deflection_mm: float, with_edges: bool = True, sold: bool = False) -> Mesh:
        """The printed part's mesh, or with `sold` the part as sold (the same when nothing reshapes it)."""
        sold = sold and self.sold is not None
        key = (round(float(deflection_mm), 6), with_edges, sold)
        with self.lock:  # BRepMesh writes the triangulation into the shared shape
            if key not in self.meshes:
                self.meshes[key] = tessellate(self.sold if sold else self.shape, deflection_mm, with_edges)
            return self.meshes[key]


_parts: "OrderedDict[tuple, PartRecord]" = OrderedDict()
_parts_lock = threading.Lock()


def _cached_part(spec: FamilySpec, part: str) -> PartRecord:
    inputs = spec.part_values(part)  # the builder sees only these
    key = (spec.family, part, catalogue.geometry_stamp()) + tuple(inputs.items())
    with _parts_lock:
        record = _parts.get(key)
        if record is not None:
            _parts.move_to_end(key)
            return record
    builder = type(spec).builder
    assembled = builder.build_part(part, inputs)
    rotation = builder.print_rotation(part, inputs)
    lift = builder.print_lift(part, inputs)
    if lift is not None:  # the family knows where its part rests: no bounding box to compute
        to_print = translation_matrix(0.0, 0.0, lift) @ rotation
        shape, to_local = kernel.apply_matrix(assembled, to_print), np.linalg.inv(to_print)
    else:
        shape, to_local = kernel.lay_flat(assembled, rotation)
    formed = getattr(builder, "as_sold", None)
    sold = formed(part, shape, inputs) if formed is not None else None
    record = PartRecord(shape=shape, to_local=to_local, sold=sold)
    with _parts_lock:
        _parts[key] = record
        while len(_parts) > _CACHE_SIZE:
            _parts.popitem(last=False)
    return record


def clear_cache() -> None:
    with _parts_lock:
        _parts.clear()
    kernel.text_solid.cache_clear()


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

    def as_sold(self, part: str):
        """The part as the customer gets it, in the frame of `parts[part]` (`placement` assembles it):
        the printed solid itself unless finishing reshapes it (see `PartRecord.sold`)."""
        rec = self._records[self._names(part)[0]]
        return rec.shape if rec.sold is None else rec.sold

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
        row = catalogue.material_row(material)
        density = float(row["density_g_cm3"])
        price = float(row["price_usd_per_kg"])
        parts = {}
        for name, rec in self._records.items():
            measures = rec.measures()
            mass = measures["volume_mm3"] / 1000.0 * density
            # heat_formed: finishing reshapes the printed part (an eyewear front bent to its wrap), which
            # the quote charges as forming labour (economics.costing)
            parts[name] = {"volume_mm3": measures["volume_mm3"], "area_mm2": measures["area_mm2"],
                           "bbox_mm": list(measures["bbox_mm"]), "mass_g": mass,
                           "material_cost_usd": mass / 1000.0 * price, "heat_formed": rec.sold is not None}
        total = {k: sum(p[k] for p in parts.values()) for k in ("volume_mm3", "area_mm2", "mass_g",
                                                                 "material_cost_usd")}
        result = {"parts": parts, "total": total, "material": material}
        checks = getattr(type(self.spec).builder, "checks", None)
        if checks is not None:  # the family's fitness checks in this material (the eyewear temples' grip)
            result["checks"] = checks(self.spec, material)
        return result

    # -- files -----------------------------------------------------------------------------
    def plates(self, part: str | None = None) -> list[dict[str, np.ndarray]]:
        """The parts (or one part) laid out on the chosen printer's bed: one dict per plate, part ->
        4x4 matrix from its print pose to bed coordinates (mm, bed corner at the origin, on z=0)."""
        bed = catalogue.machine_envelope(self.values["machine"])
        names = self._names(part)
        sizes = {n: tuple(self._records[n].measures()["bbox_mm"][:2]) for n in names}
        layouts = []
        for plate in pack(sizes, bed["x_mm"], bed["y_mm"]):
            matrices = {}
            for placed in plate:
                lo = self._records[placed.part].measures()["bbox_min"]
                size_x = self._records[placed.part].measures()["bbox_mm"][0]
                m = translation_matrix(-lo[0], -lo[1], -lo[2])
                if placed.turned:  # (x, y) -> (-y, x), then back into the first quadrant
                    m = translation_matrix(placed.size_x_mm, 0, 0) @ rotation_matrix("z", 90) @ m
                    assert abs(placed.size_y_mm - size_x) < 1e-6
                matrices[placed.part] = translation_matrix(placed.x_mm, placed.y_mm, 0) @ m
            layouts.append({n: matrices[n] for n in names if n in matrices})  # the family's part order
        return layouts

    def plate_layout(self, part: str | None = None) -> dict[str, np.ndarray]:
        """The first plate's layout (all parts when they share one plate)."""
        return self.plates(part)[0]

    def export(self, path, part: str | None = None, deflection_mm: float = EXPORT_DEFLECTION_MM) -> Path:
        """Write .stl/.step/.3mf: the parts laid out on the printer's bed as separate bodies, or one
        part. When they need several plates, plate k goes to NAME.plateK.SUFFIX beside it (see
        `export_plates`). Returns the first plate's path."""
        return self.export_plates(path, part, deflection_mm)[0]

    def export_plates(self, path, part: str | None = None,
                      deflection_mm: float = EXPORT_DEFLECTION_MM) -> list[Path]:
        """Write one file per plate (`plates.plate_path`); returns their paths, first plate first."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".stl", ".step", ".stp", ".3mf"):
            raise InputError("out", f"out={path.name!r}: the file must end in .stl, .step or .3mf")
        written = []
        for index, layout in enumerate(self.plates(part)):
            target = plate_path(path, index)
            self._write_plate(target, suffix, layout, deflection_mm)
            written.append(target)
        return written

    def _write_plate(self, path: Path, suffix: str, layout: dict, deflection_mm: float) -> None:
        if suffix in (".step", ".stp"):
            shapes = [kernel.apply_matrix(self._records[n].shape, m) for n, m in layout.items()]
            exporters.atomic_write(path, lambda tmp: exporters.write_step(tmp, shapes))
            return
        meshes = [(n, self._records[n].mesh(deflection_mm, with_edges=False).transformed(m))
                  for n, m in layout.items()]
        if suffix == ".stl":
            exporters.atomic_write(path, lambda tmp: exporters.write_stl(tmp, [m for _, m in meshes]))
        else:
            exporters.atomic_write(path, lambda tmp: exporters.write_3mf(tmp, meshes))

    def mesh(self, part: str, deflection_mm: float = EXPORT_DEFLECTION_MM, sold: bool = False) -> Mesh:
        """A part's mesh in print pose (what the STL holds for it); with `sold`, the part as sold in the
        same frame (`as_sold`: what printing it already reshaped would mean)."""
        return self._records[self._names(part)[0]].mesh(deflection_mm, with_edges=False, sold=sold)

    def preview(self, deflection_mm: float = 0.1, part: str | None = None) -> dict[str, Mesh]:
        """part -> Mesh of the part as sold (`as_sold`), positioned as in the assembled product (absolute
        deflection in mm). A family whose builder has `preview_extras(spec, deflection_mm)` adds what is
        not printed but helps the customer see the fit (the board inside a board enclosure) when all
        parts are asked for."""
        meshes = {name: self._records[name].mesh(deflection_mm, sold=True).transformed(self._placements[name])
                  for name in self._names(part)}
        extras = getattr(type(self.spec).builder, "preview_extras", None)
        if part is None and extras is not None:
            meshes.update(extras(self.spec, deflection_mm))
        return meshes


def build(spec: FamilySpec, parts: tuple[str, ...] | None = None) -> Product:
    """`parts`: only these (a worker building one part while another builds the rest, see
    somana_core.workers); the Product then measures and previews just those."""
    spec.validate()
    builder = type(spec).builder
    records, placements = {}, {}
    for part in type(spec).parts if parts is None else parts:
        if part not in type(spec).parts:
            raise InputError("part", f"part={part!r} is not a part of {spec.family}; allowed: "
                                     f"{', '.join(type(spec).parts)}")
        record = _cached_part(spec, part)
        records[part] = record
        placements[part] = builder.placement(part, spec) @ record.to_local
    return Product(spec, records, placements)
