"""Parametric product families (CadQuery): specs, validation, build, metrics, export, preview.

    from somana_core.geometry import FAMILIES, get_family, make_spec, build
    spec = make_spec("sensor_enclosure", {"wall": "2.4", "text": "Ada"})   # validated, no CAD yet
    product = build(spec)                                                 # parts cached per inputs
    product.metrics("PLA"); product.export("out.stl"); product.preview(0.1)

Importing this package does not import CadQuery (specs and validation are plain `param`); `build`
does, on first use.

Layout: `spec` (parameters, validation, the `Builder` protocol and `PartInputs`), one module per
family, `enclosure` (what the box families share), `kernel` (the only module that imports CadQuery
or OCP), `mesh` (tessellation into `Mesh`), `exporters` (STL/3MF/STEP, atomic), `transforms` (4x4
matrices), `product` (the part cache, metrics, plates, exports). Tables (printers, materials, boards,
batteries, lens blanks) are read only through `somana_core.catalogue`.

How to add a family: write `somana_core/geometry/my_family.py` with a `FamilySpec` subclass that
declares each parameter once (`length(...)`, `choice(...)`: unit, bounds, default, doc), its `parts`,
`groups` (form sections) and `part_inputs` (part -> the parameters its geometry reads: the cache key);
put the rules that involve several fields in `cross_check` (raise `InputError(field, message)` naming
the field the person changed) and each part's size in `part_envelopes` (checked against the printer
before any CAD). Beside it write a class with `build_part`, `print_rotation`, `print_lift` and
`placement` (the `Builder` protocol in `spec`), calling only `kernel` functions for geometry and
importing nothing from CadQuery, and register it: `MyFamily.builder = MyFamilyBuilder()`. Add the
spec to `FAMILIES` below; the command line, the configurator and the fuzz tests pick it up from there.
A lidded box can start from `enclosure.LiddedBox` and `enclosure.BoxBuilder` (shared walls, lid,
standoff and text rules).
"""

from __future__ import annotations

from somana_core.catalogue import machine_row, material_row, materials
from somana_core.errors import InputError
from somana_core.geometry.board_enclosure import BoardEnclosure
from somana_core.geometry.eyewear_frame import EyewearFrame
from somana_core.geometry.kit_enclosure import KitEnclosure
from somana_core.geometry.sensor_enclosure import SensorEnclosure
from somana_core.geometry.spec import Builder, FamilySpec, PartInputs, describe, dynamic_bounds, new_spec

FAMILIES: dict[str, type[FamilySpec]] = {
    SensorEnclosure.family: SensorEnclosure,
    KitEnclosure.family: KitEnclosure,
    EyewearFrame.family: EyewearFrame,
}

# Families made from what a customer brings (their KiCad board): built, validated and exported like
# the others, but sold and priced as the product line they belong to (`product_line`), so they are
# not listed among the products (portfolio, gallery, the configurator's family list).
FITTED: dict[str, type[FamilySpec]] = {
    BoardEnclosure.family: BoardEnclosure,
}



def get_family(name: str) -> type[FamilySpec]:
    """The spec class of a product family."""
    try:
        return FAMILIES[name] if name in FAMILIES else FITTED[name]
    except KeyError:
        raise InputError("family", f"family={name!r} is not a product family; allowed: "
                                   f"{', '.join(FAMILIES)}") from None


def product_line(family: str) -> str:
    """The product line a family is sold as (its portfolio row): itself, or for a fitted family the
    line it belongs to (a board enclosure is a sensor enclosure)."""
    cls = FAMILIES.get(family) or FITTED.get(family)
    return getattr(cls, "product_line", None) or family


def make_spec(family: str, values: dict | None = None, changed: str | None = None) -> FamilySpec:
    """A validated spec from {name: value} (strings are converted). Raises InputError(field, message)
    for unknown names, bad values, out-of-range values, cross-field rules and the build volume; with
    `changed` (the field a person just edited) a rule's message lands on that field, with its range."""
    return new_spec(get_family(family), values or {}, changed)


def describe_family(name: str, values: dict | None = None) -> dict:
    """Parameters (group, unit, bounds, default, step, doc, and `range`: the bounds each really has
    given the other fields' `values` or defaults) and parts of one family, as plain data."""
    return describe(get_family(name), values)


def field_ranges(family: str, values: dict | None = None) -> dict:
    """Dynamic bounds of every field of a family given the others (for forms): see spec.field_range."""
    return dynamic_bounds(get_family(family), values)


def build(spec: FamilySpec, parts: tuple[str, ...] | None = None):
    """Build (or fetch from the per-part cache) every part (or only `parts`) of a validated spec -> Product."""
    from somana_core.geometry.product import build as _build

    return _build(spec, parts)


__all__ = ["FAMILIES", "FITTED", "Builder", "InputError", "PartInputs", "build", "describe_family", "get_family",
           "machine_row", "make_spec", "material_row", "materials", "product_line"]
