"""Human words for what customers and investors read: catalogue ids become their names from `data/`
(`arduino_uno_r3` -> "Arduino Uno R3"), parameters their labels with units. Raw ids stay in JSON.
"""

from __future__ import annotations

import re

from somana_core import catalogue

# A choice parameter whose values are ids of a catalogue table -> the function giving that table.
_CATALOGUE_TABLES = {
    "board": catalogue.boards,
    "battery": catalogue.batteries,
    "machine": catalogue.machines,
    "material": catalogue.materials,
}


def id_name(kind: str, value: str) -> str:
    """The `name` of catalogue row `value` of `kind` (board, battery, machine, material), else a tidy id."""
    table_of = _CATALOGUE_TABLES.get(kind)
    if table_of is not None:
        table = table_of()
        rows = table[table[kind].astype(str) == str(value)]
        if not rows.empty and "name" in rows and str(rows.iloc[0]["name"]).strip():
            return str(rows.iloc[0]["name"]).strip()
    return tidy(value)


def tidy(value) -> str:
    """An identifier or flag as words: `aa_2x_holder` -> "aa 2x holder", True -> "yes"."""
    if isinstance(value, bool) or str(value).lower() in ("true", "false"):
        return "yes" if str(value).lower() == "true" else "no"
    return str(value).replace("_", " ")


def setting_phrase(spec, name: str, value) -> str:
    """One setting as a customer reads it: "PCB length 35 mm", "Board: Raspberry Pi Pico"."""
    parameter = spec.param[name]
    label = str(parameter.label or name).split(" (")[0]  # "PCB length (mm)" -> "PCB length"
    unit = _unit(parameter)
    if isinstance(value, str) and name in _CATALOGUE_TABLES:
        return f"{label}: {id_name(name, value)}"
    if isinstance(value, bool) or str(value).lower() in ("true", "false"):
        return f"{label}: {tidy(value)}"
    if isinstance(value, str) and not _is_number(value):
        return f"{label}: \u201c{value}\u201d" if name == "text" else f"{label}: {tidy(value)}"
    return f"{label} {_number(value)}{' ' + unit if unit else ''}"


def settings_caption(spec, settings: dict) -> str:
    """Several settings as one caption; the family's defaults when there are none."""
    if not settings:
        return "the standard design"
    return ", ".join(setting_phrase(spec, name, value) for name, value in settings.items())


def _unit(parameter) -> str:
    label = str(parameter.label or "")
    if "(" in label and label.endswith(")"):
        unit = label[label.rindex("(") + 1:-1]
        return "" if unit in ("count", "-", "") else unit
    return ""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(value) -> str:
    number = float(value)
    return f"{number:g}"


def human_message(family_cls, message: str) -> str:
    """A spec's message with its field names as the form's labels: `lens_width=60 mm is ...` ->
    "Lens width 60 mm is ...", and `bridge_width` -> "bridge width" inside the sentence."""
    names = sorted(family_cls.parameter_names(), key=len, reverse=True)  # pcb_length before length
    text = str(message)
    for name in names:
        label = str(family_cls.param[name].label or tidy(name)).split(" (")[0]
        inside = label if label[:2].isupper() else label[:1].lower() + label[1:]  # "PCB length" stays
        text = re.sub(rf"\b{re.escape(name)}=", f"{inside} ", text)
        text = re.sub(rf"\b{re.escape(name)}\b", inside, text)
    return text[:1].upper() + text[1:]
