"""Inputs that hand the page whatever the browser sent, so the page's own check answers beside the field.

Panel 1.9.4's IntInput and Select validate a value from the browser themselves: a quantity of 1.5 or a
material that is not in the list (sent over the websocket by a modified page) raised a ValueError in the
server's log, the page said nothing, and the server kept the previous value, so an order could be placed
with a quantity or material the customer no longer saw. These pass the value on; the page checks it
(somana_core.fulfilment.check_qty / check_material, the family's spec for its own fields) and shows the
one-line reason beside the field. /configure uses them for every whole number and every list.
"""

from __future__ import annotations

import panel as pn
import param


class IntInputAsSent(pn.widgets.IntInput):
    """A whole-number box whose `value` is whatever number the browser sent (the page checks it)."""

    value = param.Number(default=1, allow_None=True, doc="as sent: the page refuses what is not a whole number")
    value_throttled = param.Number(default=None, constant=True, allow_None=True)


class SelectAsSent(pn.widgets.Select):
    """A list whose `value` is the option's value, or the text the browser sent when it is no option's
    label (the page checks it)."""

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
