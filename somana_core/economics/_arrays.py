"""Shared plumbing for the economics models: scalar-or-array inputs, validation, undefined results.

Conventions every model follows (documented once here, referenced from each docstring):

* Inputs are numbers or anything numpy can turn into a float array; they broadcast together.
  All-scalar input gives Python floats in the result; any array input gives numpy arrays of the
  broadcast shape.
* A field that can be *undefined* (a break-even volume when the contribution margin is not
  positive, a crossover that does not exist, a ratio that overflows float range) is ``None`` for
  scalar input. For array input it is a
  ``numpy.ma.MaskedArray``: undefined entries are masked (their hidden data is 0, never NaN), so
  ``result.field.mask`` says where the answer does not exist. No result ever contains NaN.
* Bad input raises ``InputError`` (a ``ValueError``) naming the parameter, the offending value and
  the allowed range. Non-finite input (NaN, inf) is always bad input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from somana_core.errors import InputError


class Inputs:
    """Named float arrays broadcast to one shape, and whether every input was a scalar."""

    def __init__(self, **named: Any):
        arrays = {}
        for name, value in named.items():
            try:
                array = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise InputError(name, f"{name}={value!r} is not a number") from None
            if not np.all(np.isfinite(array)):
                bad = array[~np.isfinite(array)].flat[0] if array.ndim else array
                raise InputError(name, f"{name}={float(bad)} is not allowed: it must be a finite number")
            arrays[name] = array
        self.scalar = all(a.ndim == 0 for a in arrays.values())
        try:
            broadcast = np.broadcast_arrays(*arrays.values())
        except ValueError:
            shapes = ", ".join(f"{n}{a.shape}" for n, a in arrays.items())
            raise InputError(next(iter(arrays)), f"input shapes do not broadcast together: {shapes}") from None
        self._arrays = dict(zip(arrays, broadcast))
        self.shape = broadcast[0].shape if broadcast else ()

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def values(self, *names: str) -> tuple[np.ndarray, ...]:
        return tuple(self._arrays[n] for n in names)

    def out(self, value) -> Any:
        """An always-defined field: float for scalar input, array of the broadcast shape otherwise."""
        array = np.broadcast_to(np.asarray(value, dtype=float), self.shape)
        if self.scalar:
            return float(array)
        return np.array(array)  # a writable copy, never a view on the caller's data

    def optional(self, value, defined) -> Any:
        """A field that may not exist: None / masked where `defined` is False (never NaN)."""
        value = np.broadcast_to(np.asarray(value, dtype=float), self.shape)
        # A ratio that overflowed (a denominator like 1e-310) has no usable answer either.
        defined = np.broadcast_to(np.asarray(defined, dtype=bool), self.shape) & np.isfinite(value)
        data = np.where(defined, value, 0.0)
        if self.scalar:
            return float(data) if bool(defined) else None
        return np.ma.MaskedArray(data, mask=~defined)

    def optional_label(self, labels, defined) -> Any:
        """A text field ("a", "b", a process name) that may not exist: None / masked where undefined."""
        labels = np.broadcast_to(np.asarray(labels), self.shape)
        defined = np.broadcast_to(np.asarray(defined, dtype=bool), self.shape)
        if self.scalar:
            return str(labels) if bool(defined) else None
        return np.ma.MaskedArray(np.where(defined, labels, ""), mask=~defined)


def _first_bad(array: np.ndarray, bad: np.ndarray) -> float:
    if array.ndim == 0:
        return float(array)
    return float(np.broadcast_to(array, bad.shape)[bad].flat[0])


def require(name: str, array: np.ndarray, bad, allowed: str) -> None:
    """Raise InputError for the first element where `bad` holds. `allowed` says what is allowed."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        value = _first_bad(np.asarray(array), bad)
        raise InputError(name, f"{name}={value:g} is not allowed: {allowed}")


def at_least(name: str, array: np.ndarray, minimum: float, unit: str = "") -> None:
    require(name, array, array < minimum, f"it must be >= {minimum:g}{' ' + unit if unit else ''}")


def above(name: str, array: np.ndarray, minimum: float, unit: str = "") -> None:
    require(name, array, array <= minimum, f"it must be > {minimum:g}{' ' + unit if unit else ''}")


def whole(name: str, array: np.ndarray, minimum: int) -> None:
    require(name, array, (array < minimum) | (array != np.floor(array)),
            f"it must be a whole number >= {minimum}")


def safe_divide(numerator, denominator, where) -> np.ndarray:
    """numerator / denominator where `where` holds, 0 elsewhere, without a warning or NaN."""
    numerator, denominator, where = np.broadcast_arrays(
        np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float), np.asarray(where, dtype=bool))
    out = np.zeros(numerator.shape, dtype=float)
    with np.errstate(over="ignore"):  # overflow gives inf, which `Inputs.optional` treats as undefined
        np.divide(numerator, denominator, out=out, where=where)
    return out


def jsonable(result: Any) -> Any:
    """A model result as plain Python (dicts, lists, floats, str, None) for JSON output.

    Dataclasses become dicts, arrays become nested lists, masked (undefined) entries become None.
    """
    import dataclasses

    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {f.name: jsonable(getattr(result, f.name)) for f in dataclasses.fields(result)}
    if isinstance(result, (list, tuple)):
        return [jsonable(v) for v in result]
    if isinstance(result, np.ma.MaskedArray):
        values = np.ma.getdata(result).astype(object)
        values[np.ma.getmaskarray(result)] = None
        return values.tolist()
    if isinstance(result, np.ndarray):
        return result.tolist()
    if isinstance(result, np.generic):
        return result.item()
    return result
