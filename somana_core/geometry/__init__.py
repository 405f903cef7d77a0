"""Parametric product families (CadQuery): specs, validation, build, metrics, export, preview.

    from somana_core.geometry import FAMILIES, get_family, make_spec, build
    spec = make_spec("sensor_enclosure", {"wall": "2.4", "text": "Ada"})   # validated, no CAD yet
    product = build(spec)                                                 # parts cached per inputs
    product.metrics("PLA"); product.export("out.stl"); product.preview(0.1)

Importing this package does not import CadQuery (specs and validation are plain `param`); `build`
does, on first use.
"""

from __future__ import annotations

import importlib

from somana_core.errors import InputError
from somana_core.geometry.eyewear_frame import EyewearFrame
from somana_core.geometry.kit_enclosure import KitEnclosure
from somana_core.geometry.sensor_enclosure import SensorEnclosure
from somana_core.geometry.spec import FamilySpec, describe, machine_row, material_row, materials, new_spec

FAMILIES: dict[str, type[FamilySpec]] = {
    SensorEnclosure.family: SensorEnclosure,
    KitEnclosure.family: KitEnclosure,
    EyewearFrame.family: EyewearFrame,
}

_MODULES = {
    "sensor_enclosure": "somana_core.geometry.sensor_enclosure",
    "kit_enclosure": "somana_core.geometry.kit_enclosure",
    "eyewear_frame": "somana_core.geometry.eyewear_frame",
}


def get_family(name: str) -> type[FamilySpec]:
    """The spec class of a product family."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise InputError("family", f"family={name!r} is not a product family; allowed: "
                                   f"{', '.join(FAMILIES)}") from None


def family_module(name: str):
    get_family(name)
    return importlib.import_module(_MODULES[name])


def make_spec(family: str, values: dict | None = None) -> FamilySpec:
    """A validated spec from {name: value} (strings are converted). Raises InputError(field, message)
    for unknown names, bad values, out-of-range values, cross-field rules and the build volume."""
    return new_spec(get_family(family), values or {})


def describe_family(name: str) -> dict:
    """Parameters (group, unit, bounds, default, step, doc) and parts of one family, as plain data."""
    return describe(get_family(name))


def check_build_volume(spec: FamilySpec, machine: str | None = None) -> None:
    """Raise InputError naming the part and the printer's volume if a part does not fit."""
    if machine is not None and machine != spec.machine:
        spec = type(spec)(**{**spec.values(), "machine": machine})
    spec.check_build_volume()


def build(spec: FamilySpec):
    """Build (or fetch from the per-part cache) every part of a validated spec -> Product."""
    from somana_core.geometry.product import build as _build

    return _build(spec)


__all__ = ["FAMILIES", "InputError", "build", "check_build_volume", "describe_family", "family_module",
           "get_family", "machine_row", "make_spec", "material_row", "materials"]
