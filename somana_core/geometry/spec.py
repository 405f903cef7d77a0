"""Product-family specs: one `param` declaration per parameter (unit, bounds, default, step, doc),
string conversion and validation (ranges, then cross-field rules), all before any CadQuery call.

No CadQuery import here: `somana families`, forms and validation stay fast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

import param

from somana_core.catalogue import machine_ids, machine_row, material_row, materials  # noqa: F401 - re-exported
from somana_core.errors import InputError

# ----------------------------------------------------------------------------- declarations
_UNIT_WORDS = {"mm": "mm", "deg": "degrees", "count": "count"}


def length(default: float, bounds: tuple[float, float], step: float, doc: str, label: str) -> param.Number:
    """A length in mm (the unit sits in both the label and the doc, for forms and `somana families`)."""
    return param.Number(default, bounds=bounds, step=step, doc=f"{doc}, mm", label=f"{label} (mm)")


def angle(default: float, bounds: tuple[float, float], step: float, doc: str, label: str) -> param.Number:
    return param.Number(default, bounds=bounds, step=step, doc=f"{doc}, degrees", label=f"{label} (deg)")


def number(default: float, bounds: tuple[float, float], step: float, doc: str, label: str) -> param.Number:
    """A dimensionless number (an exponent, a ratio)."""
    return param.Number(default, bounds=bounds, step=step, doc=f"{doc}, no unit", label=label)


def count(default: int, bounds: tuple[int, int], doc: str, label: str) -> param.Integer:
    return param.Integer(default, bounds=bounds, step=1, doc=f"{doc}, count", label=f"{label} (count)")


def choice(default: str, objects: list[str], doc: str, label: str) -> param.Selector:
    return param.Selector(default=default, objects=list(objects), doc=doc, label=label)


def flag(default: bool, doc: str, label: str) -> param.Boolean:
    return param.Boolean(default, doc=doc, label=label)


def text(default: str, max_chars: int, doc: str, label: str) -> param.String:
    p = param.String(default, doc=f"{doc} (at most {max_chars} characters)", label=label)
    return p


def unit_of(p: param.Parameter) -> str:
    """The unit of a declared parameter ('mm', 'deg', 'count', '' for choices and text)."""
    label = p.label or ""
    if label.endswith(")") and "(" in label:
        return label[label.rindex("(") + 1:-1]
    return ""


# ----------------------------------------------------------------------------- the builder contract
class PartInputs(Mapping):
    """The values one part's geometry reads: exactly the names its family lists in `part_inputs`
    (the part cache's key). Read as attributes (`inputs.wall`); reading a name that is not listed is a
    bug that would make the cache serve a stale part, so it raises AttributeError naming the fix."""

    __slots__ = ("_family", "_part", "_values")

    def __init__(self, family: str, part: str, values: Mapping[str, Any]):
        object.__setattr__(self, "_family", family)
        object.__setattr__(self, "_part", part)
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{self._family} {self._part} does not read {name!r}: add it to "
                                 f"part_inputs[{self._part!r}]") from None

    def __setattr__(self, name, value):
        raise AttributeError("part inputs are read-only")

    def __getitem__(self, name: str):
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"PartInputs({self._family}.{self._part}, {self._values!r})"


@runtime_checkable
class Builder(Protocol):
    """How a family's parts are made (registered as `builder` on its spec class). Every method is
    called with CadQuery available; the module defining the builder must not import it at top level.

    - build_part(part, inputs): the part as a kernel solid in its own assembled frame, from only
      `inputs` (the values its `part_inputs` lists).
    - print_rotation(part, inputs): 4x4 rotation from that frame to the print pose (flat face down,
      nothing that needs support).
    - print_lift(part, inputs): how far the rotated part rises to rest on z=0, mm, computed from the
      parameters (exact and free); None to have it measured from the solid.
    - placement(part, spec): 4x4 matrix from the part's own frame to the assembled product view.
    """

    def build_part(self, part: str, inputs: PartInputs) -> Any: ...

    def print_rotation(self, part: str, inputs: PartInputs) -> Any: ...

    def print_lift(self, part: str, inputs: PartInputs) -> float | None: ...

    def placement(self, part: str, spec: "FamilySpec") -> Any: ...


# ----------------------------------------------------------------------------- the base spec
class FamilySpec(param.Parameterized):
    """A product family's parameters. Subclasses declare params and the class attributes below."""

    # how the parts are made: set beside the subclass in its module (see Builder)
    builder: ClassVar[Builder | None] = None

    family: ClassVar[str] = ""
    title: ClassVar[str] = ""
    parts: ClassVar[tuple[str, ...]] = ()
    groups: ClassVar[dict[str, list[str]]] = {}
    # part -> the parameters its geometry reads (the cache key; the builder sees only these)
    part_inputs: ClassVar[dict[str, list[str]]] = {}
    # parameter -> max characters (text fields)
    text_limits: ClassVar[dict[str, int]] = {}

    @classmethod
    def param_groups(cls) -> dict[str, list[str]]:
        """Ordered {group label: [parameter names]} for forms and `somana families`."""
        return {label: list(names) for label, names in cls.groups.items()}

    @classmethod
    def parameter_names(cls) -> list[str]:
        return [name for names in cls.groups.values() for name in names]

    def values(self) -> dict:
        return {name: getattr(self, name) for name in self.parameter_names()}

    def part_values(self, part: str) -> PartInputs:
        """The inputs of one part (what its builder may read, and the part cache's key)."""
        return PartInputs(self.family, part, {n: getattr(self, n) for n in self.part_inputs[part]})

    # -- validation --------------------------------------------------------------------------
    def validate(self) -> None:
        """Every range, then the family's cross-field rules, then the printer's build volume."""
        for name in self.parameter_names():
            check_range(type(self), name, getattr(self, name))
        self.cross_check()
        self.check_build_volume()

    def cross_check(self) -> None:
        """Family rules that involve several fields; raise InputError(field, message)."""

    def part_envelopes(self) -> dict[str, tuple[float, float, float]]:
        """Each part's size x, y, z in mm in its print pose, from the parameters alone (no CAD)."""
        return {}

    def nozzle_mm(self) -> float:
        return float(machine_row(self.machine)["nozzle_mm"])

    def min_wall_mm(self) -> float:
        """Thinnest wall the chosen printer makes solid: two nozzle widths."""
        return 2 * self.nozzle_mm()

    def check_build_volume(self) -> None:
        """Every part fits the printer's usable bed (turned about z if need be) and height."""
        from somana_core.geometry.plates import fits_bed, usable_bed

        row = machine_row(self.machine)
        bed_x, bed_y, bed_z = float(row["build_x_mm"]), float(row["build_y_mm"]), float(row["build_z_mm"])
        ux, uy = usable_bed(bed_x, bed_y)
        for part, (x, y, z) in self.part_envelopes().items():
            if z > bed_z or not fits_bed(x, y, bed_x, bed_y):
                raise InputError("machine", f"{part} is {x:.0f} x {y:.0f} x {z:.0f} mm, larger than what "
                                            f"{self.machine} prints ({ux:.0f} x {uy:.0f} x {bed_z:.0f} mm inside "
                                            f"its bed's edge): make it smaller or choose a larger printer")


def _fmt(value: float) -> str:
    return f"{value:g}"


def check_range(cls: type[FamilySpec], name: str, value) -> None:
    p = cls.param[name]
    unit = unit_of(p)
    unit_s = f" {unit}" if unit and unit != "count" else ""
    if isinstance(p, param.Number) and not isinstance(p, param.Boolean):
        lo, hi = p.bounds or (None, None)
        if value is None or not math.isfinite(value):
            raise InputError(name, f"{name} must be a number")
        if lo is not None and value < lo:
            raise InputError(name, f"{name}={_fmt(value)}{unit_s} is below the minimum {_fmt(lo)}{unit_s}"
                                   f" (allowed {_fmt(lo)} to {_fmt(hi)}{unit_s})")
        if hi is not None and value > hi:
            raise InputError(name, f"{name}={_fmt(value)}{unit_s} is above the maximum {_fmt(hi)}{unit_s}"
                                   f" (allowed {_fmt(lo)} to {_fmt(hi)}{unit_s})")
    elif isinstance(p, param.Selector):
        if value not in p.objects:
            raise InputError(name, f"{name}={value!r} is not one of: {', '.join(map(str, p.objects))}")
    elif isinstance(p, param.String):
        limit = cls.text_limits.get(name)
        if limit is not None and len(value) > limit:
            raise InputError(name, f"{name} has {len(value)} characters; at most {limit} fit")


_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}


def convert(cls: type[FamilySpec], name: str, raw):
    """A typed value for one parameter from a string (command line, form) or a typed value."""
    p = cls.param[name]
    if isinstance(p, param.Boolean):
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise InputError(name, f"{name}={raw!r} is not yes or no (use true/false)")
    if isinstance(p, param.Integer):
        try:
            number_value = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
        except (TypeError, ValueError):
            raise InputError(name, f"{name}={raw!r} is not a whole number") from None
        if not number_value.is_integer():
            raise InputError(name, f"{name}={raw!r} is not a whole number")
        return int(number_value)
    if isinstance(p, param.Number):
        try:
            value = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
        except (TypeError, ValueError):
            raise InputError(name, f"{name}={raw!r} is not a number ({unit_of(p)})") from None
        if not math.isfinite(value):
            raise InputError(name, f"{name}={raw!r} is not a finite number")
        return value
    if isinstance(p, param.Selector):
        return str(raw).strip()
    if isinstance(p, param.String):
        return str(raw)
    return raw


def new_spec(cls: type[FamilySpec], values: dict) -> FamilySpec:
    allowed = cls.parameter_names()
    typed = {}
    for name, raw in (values or {}).items():
        if name not in allowed:
            raise InputError(name, f"{cls.family} has no parameter {name!r}; allowed: {', '.join(allowed)}")
        typed[name] = convert(cls, name, raw)
        check_range(cls, name, typed[name])
    spec = cls(**typed)
    spec.validate()
    return spec


def describe(cls: type[FamilySpec]) -> dict:
    """A family's parameters as plain data (for `somana families --json` and generated forms)."""
    params = {}
    for group, names in cls.param_groups().items():
        for name in names:
            p = cls.param[name]
            entry = {"group": group, "label": p.label, "unit": unit_of(p), "doc": p.doc, "default": p.default}
            if isinstance(p, param.Boolean):
                entry["type"] = "boolean"
            elif isinstance(p, param.Integer):
                entry.update(type="integer", bounds=list(p.bounds), step=p.step)
            elif isinstance(p, param.Number):
                entry.update(type="number", bounds=list(p.bounds), step=p.step)
            elif isinstance(p, param.Selector):
                entry.update(type="choice", choices=list(p.objects))
            elif isinstance(p, param.String):
                entry.update(type="text", max_chars=cls.text_limits.get(name))
            params[name] = entry
    return {"family": cls.family, "title": cls.title, "parts": list(cls.parts),
            "groups": cls.param_groups(), "parameters": params}
