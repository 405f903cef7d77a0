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
    Optional: as_sold(part, shape, inputs): the part as sold when finishing reshapes the printed solid
    `shape` (same frame), else None; finishing(spec, material): those steps in the floor's words;
    checks(spec, material): {name: {..., "warning": message or None}}, fitness figures `Product.metrics`
    reports (a value outside its comfortable range is warned, not refused: the material is chosen later).
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


def _typed(cls: type[FamilySpec], values: dict) -> dict:
    allowed = cls.parameter_names()
    typed = {}
    for name, raw in (values or {}).items():
        if name not in allowed:
            raise InputError(name, f"{cls.family} has no parameter {name!r}; allowed: {', '.join(allowed)}")
        typed[name] = convert(cls, name, raw)
        check_range(cls, name, typed[name])
    return typed


def new_spec(cls: type[FamilySpec], values: dict, changed: str | None = None) -> FamilySpec:
    """A validated spec. `changed`: the field the person just changed; when the values fail a rule
    that another field reports, the message goes to `changed` instead, with the range it can take
    given the others (so a form shows it under the control that was touched)."""
    typed = _typed(cls, values)
    spec = cls(**typed)
    try:
        spec.validate()
    except InputError as err:
        if changed is None or err.field == changed or changed not in cls.parameter_names():
            raise
        raise InputError(changed, _changed_message(cls, changed, {**spec.values(), **typed}, err)) from None
    return spec


def _changed_message(cls, changed: str, values: dict, err: InputError) -> str:
    p = cls.param[changed]
    unit = unit_of(p)
    unit_s = f" {unit}" if unit and unit != "count" else ""
    shown = _fmt(values[changed]) if isinstance(values[changed], (int, float)) and not isinstance(
        values[changed], bool) else repr(values[changed])
    allowed = field_range(cls, changed, values)
    if allowed is None:
        hint = f"no value of {changed} works with the other fields as they are"
    elif "min" in allowed:
        hint = f"with the other fields as they are, {changed} can be {_fmt(allowed['min'])} to {_fmt(allowed['max'])}{unit_s}"
    else:
        hint = f"with the other fields as they are, {changed} can be {', '.join(map(str, allowed['choices']))}"
    return f"{changed}={shown}{unit_s} does not fit the other fields ({err.field}: {err.message}); {hint}"


def _passes(cls: type[FamilySpec], values: dict) -> bool:
    try:
        cls(**values).validate()
    except (InputError, ValueError):
        return False
    return True


def field_range(cls: type[FamilySpec], name: str, values: dict) -> dict | None:
    """The values `name` can really take with every other field as in `values` (dynamic bounds):
    {"min": lo, "max": hi} for a number (on its step grid, the run of valid values around the current
    one, or the nearest run if the current value fails), {"choices": [...]} for a choice or yes/no;
    None when no value works. Validation only: no CAD."""
    p = cls.param[name]
    values = dict(values)
    if isinstance(p, param.Boolean):
        ok = [v for v in (False, True) if _passes(cls, {**values, name: v})]
        return {"choices": ok} if ok else None
    if isinstance(p, param.Selector):
        ok = [v for v in p.objects if _passes(cls, {**values, name: v})]
        return {"choices": ok} if ok else None
    if not isinstance(p, param.Number):
        return None
    lo, hi = p.bounds
    step = p.step or (hi - lo) / 100
    n = int(round((hi - lo) / step))
    is_int = isinstance(p, param.Integer)

    def at(i: int):
        v = lo + i * step
        v = min(max(v, lo), hi)
        return int(round(v)) if is_int else round(v, 9)

    def ok(i: int) -> bool:
        return _passes(cls, {**values, name: at(i)})

    current = values.get(name, p.default)
    here = int(round((current - lo) / step)) if current is not None else 0
    here = min(max(here, 0), n)
    if not ok(here):  # find the nearest valid grid value (a coarse-to-fine scan, both directions)
        order = sorted(range(n + 1), key=lambda i: abs(i - here))
        here = next((i for i in order if ok(i)), None)
        if here is None:
            return None
    # validity is one run around `here` (the rules are thresholds): binary-search both of its ends
    a, b = 0, here          # smallest valid index in [a, here]
    while a < b:
        mid = (a + b) // 2
        if ok(mid):
            b = mid
        else:
            a = mid + 1
    low_end = a
    a, b = here, n          # largest valid index in [here, b]
    while a < b:
        mid = (a + b + 1) // 2
        if ok(mid):
            a = mid
        else:
            b = mid - 1
    return {"min": at(low_end), "max": at(a)}


def dynamic_bounds(cls: type[FamilySpec], values: dict | None = None) -> dict[str, dict | None]:
    """field_range of every number, choice and yes/no field, given `values` (defaults for the rest)."""
    base = {n: cls.param[n].default for n in cls.parameter_names()}
    base.update(_typed(cls, values or {}))
    return {name: field_range(cls, name, base) for name in cls.parameter_names()
            if not isinstance(cls.param[name], param.String) or isinstance(cls.param[name], param.Selector)}


def describe(cls: type[FamilySpec], values: dict | None = None) -> dict:
    """A family's parameters as plain data (for `somana families --json` and generated forms), each
    with its declared `bounds` and the `range` it really has given the other fields (`values`, or the
    defaults): see `field_range`."""
    ranges = dynamic_bounds(cls, values)
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
            if name in ranges:
                entry["range"] = ranges[name]
            params[name] = entry
    return {"family": cls.family, "title": cls.title, "parts": list(cls.parts),
            "groups": cls.param_groups(), "parameters": params}
