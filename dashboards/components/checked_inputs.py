"""Inputs that hand the page whatever the browser sent, so the page's own check answers beside the field.

Panel 1.9.4's IntInput and Select validate a value from the browser themselves: a quantity of 1.5 or a
material that is not in the list (sent over the websocket by a modified page) raised a ValueError in the
server's log, the page said nothing, and the server kept the previous value, so an order could be placed
with a quantity or material the customer no longer saw. These pass the value on; the page checks it
(somana_core.fulfilment.check_qty / check_material, the family's spec for its own fields) and shows the
one-line reason beside the field. /configure uses them for every whole number and every list.

What the widget itself can tell (a number that is not whole, a choice that is not in its list) it says
in the form's words (`refusal`): the field's label, the value as sent, and what the field takes (the
choices by their labels, the range) - never a parameter name or a catalogue id.
"""

from __future__ import annotations

import math
import numbers

import panel as pn
import param

SHOWN_CHARS = 30  # of a value as sent, in a message (a hostile client may send megabytes)


def _as_sent(value) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def _field(label: str) -> str:
    return str(label or "This field").split(" (")[0]  # "Vent slots (count)" -> "Vent slots"


class IntInputAsSent(pn.widgets.IntInput):
    """A whole-number box whose `value` is whatever the browser sent (the page checks it); `bounds`
    (server side only) is the range its message names."""

    value = param.Parameter(default=1, doc="as sent: the page refuses what is not a whole number")
    value_throttled = param.Number(default=None, constant=True, allow_None=True)
    bounds = param.Tuple(default=None, allow_None=True, length=2, doc="(lowest, highest) the field takes, for its message")

    _rename = {**pn.widgets.IntInput._rename, "bounds": None}

    def allowed(self) -> str:
        low, high = self.bounds or (None, None)
        if low is not None and high is not None:
            return f"a whole number from {low:g} to {high:g}"
        if low is not None or high is not None:
            return f"a whole number from {low:g}" if low is not None else f"a whole number up to {high:g}"
        return "a whole number"

    def refusal(self, value) -> str | None:
        """Why `value` (as the browser sent it) is no whole number, in the form's words; None if it is one."""
        whole = (isinstance(value, numbers.Integral) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer())
        if whole:
            return None
        return f"{_field(self.label)}: {_as_sent(value)} is not {self.allowed()}"


class SelectAsSent(pn.widgets.Select):
    """A list whose `value` is the option's value, or the text the browser sent when it is no option's
    label (the page checks it)."""

    def refusal(self, value) -> str | None:
        """Why `value` is none of the choices, naming the choices as the list shows them; None if it is one."""
        if value in self.values:
            return None
        return f"{_field(self.label)}: {_as_sent(value)} is not one of the choices ({', '.join(self.labels)})"

    def _process_param_change(self, params):
        # Panel replaces a value that is no option by the first option here, silently: keep it for the check
        if "value" in params and params["value"] not in self.values:
            params = {k: v for k, v in params.items() if k != "value"}
        return super()._process_param_change(params)

    def _process_property_change(self, props):
        label = props.get("value")
        try:
            return super()._process_property_change(props)
        except ValueError:  # not one of the options: passed on as sent
            props.pop("options", None)
            return {**props, "value": label}
