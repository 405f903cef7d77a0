"""Specs: declared once (unit, bounds, default, step, doc), converted from strings, validated before
any CadQuery call, with messages that name the field, the value and what is allowed."""

from __future__ import annotations

import subprocess
import sys

import param
import pytest

from somana_core.errors import InputError
from somana_core.geometry import FAMILIES, describe_family, get_family, make_spec, materials
from somana_core.geometry.spec import unit_of


def test_the_three_families_are_offered():
    assert set(FAMILIES) == {"sensor_enclosure", "kit_enclosure", "eyewear_frame"}
    assert FAMILIES["eyewear_frame"].parts == ("front", "left_temple", "right_temple")
    assert FAMILIES["sensor_enclosure"].parts == ("base", "lid")


def test_unknown_family_is_refused_with_the_allowed_names():
    with pytest.raises(InputError) as err:
        get_family("teapot")
    assert err.value.field == "family"
    assert "sensor_enclosure, kit_enclosure, eyewear_frame" in err.value.message


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_parameter_is_declared_completely_and_grouped_once(family):
    cls = FAMILIES[family]
    groups = cls.param_groups()
    names = [n for group in groups.values() for n in group]
    declared = [n for n in cls.param if n != "name"]
    assert sorted(names) == sorted(declared), "every parameter in exactly one group"
    assert len(names) == len(set(names))
    for name in names:
        p = cls.param[name]
        assert p.doc and "\n" not in p.doc, name
        if isinstance(p, param.Number) and not isinstance(p, param.Boolean):
            lo, hi = p.bounds
            assert lo < hi and lo <= p.default <= hi, name
            assert p.step and p.step > 0, name
            assert unit_of(p) in ("mm", "deg", "count", ""), name
            if unit_of(p) == "mm":
                assert p.doc.endswith(", mm") and p.label.endswith("(mm)"), name
    # every part's cache key names only declared parameters
    for part, inputs in cls.part_inputs.items():
        assert part in cls.parts and set(inputs) <= set(names)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_defaults_are_a_valid_spec(family):
    spec = make_spec(family, {})
    assert spec.values() == {n: FAMILIES[family].param[n].default for n in spec.values()}


def test_strings_are_converted_to_the_declared_types():
    spec = make_spec("sensor_enclosure", {"wall": "2.4", "text": "Ada", "vent_count": "3", "mount_tabs": "no"})
    assert spec.wall == 2.4 and spec.text == "Ada" and spec.vent_count == 3 and spec.mount_tabs is False


@pytest.mark.parametrize("values, field, words", [
    ({"wall": "0.5"}, "wall", ["wall=0.5 mm", "minimum 0.8 mm"]),
    ({"wall": "9"}, "wall", ["wall=9 mm", "maximum 5 mm"]),
    ({"wall": "thick"}, "wall", ["'thick'", "not a number"]),
    ({"vent_count": "2.5"}, "vent_count", ["whole number"]),
    ({"lid_fit": "glue"}, "lid_fit", ["snap, screw"]),
    ({"mount_tabs": "maybe"}, "mount_tabs", ["true/false"]),
    ({"colour": "red"}, "colour", ["no parameter 'colour'", "wall"]),
    ({"text": "x" * 25}, "text", ["at most 24"]),
])
def test_bad_values_name_the_field_and_what_is_allowed(values, field, words):
    with pytest.raises(InputError) as err:
        make_spec("sensor_enclosure", values)
    assert err.value.field == field
    for word in words:
        assert word in err.value.message


@pytest.mark.parametrize("family, values, field, words", [
    ("sensor_enclosure", {"wall": "1.0"}, "wall", ["snap groove", "lid_fit=screw"]),
    ("sensor_enclosure", {"standoff_diameter": "10", "hole_inset": "2", "clearance": "0.3"},
     "standoff_diameter", ["collides with the wall"]),
    ("sensor_enclosure", {"standoff_diameter": "4", "screw_hole": "3.5"}, "standoff_diameter",
     ["two nozzle widths"]),
    ("sensor_enclosure", {"text": "Alexandria Ocasio-C"}, "text", ["the lid holds", "text_size at most"]),
    ("sensor_enclosure", {"text_depth": "1.5", "lid_thickness": "1.6"}, "text_depth", ["keep at least"]),
    ("sensor_enclosure", {"vent_count": "12", "vent_width": "4"}, "vent_count", ["side wall"]),
    ("sensor_enclosure", {"cable_hole": "2"}, "cable_hole", ["0 (no hole)"]),
    ("sensor_enclosure", {"pcb_length": "160", "pcb_width": "120", "machine": "prusa_mini"}, "machine",
     ["base is", "prusa_mini prints (170 x 170 x 180 mm inside its bed's edge)"]),
    ("kit_enclosure", {"board": "bbc_microbit_v2", "standoff_height": "5"}, "standoff_height",
     ["USB cut-out", "below the board"]),
    ("kit_enclosure", {"board": "arduino_uno_r3", "component_height": "10"}, "component_height", ["USB"]),
    ("eyewear_frame", {"pupillary_distance": "54"}, "pupillary_distance", ["decentration", "5 mm"]),
    ("eyewear_frame", {"lens_width": "62", "bridge_width": "14", "pupillary_distance": "70", "frame_width": "130"},
     "lens_width", ["too wide for frame_width"]),
    ("eyewear_frame", {"text": "W" * 20, "temple_length": "115", "earpiece_length": "45"}, "text",
     ["temple holds"]),
    ("eyewear_frame", {"text": "Ada", "text_size": "5"}, "text_size", ["taller than the 6 mm temple"]),
    ("eyewear_frame", {"temple_thickness": "3", "hinge_pin": "2.5"}, "temple_thickness", ["hinge pin"]),
])
def test_cross_field_rules_are_refused_before_cad(family, values, field, words):
    with pytest.raises(InputError) as err:
        make_spec(family, values)
    assert err.value.field == field
    for word in words:
        assert word in err.value.message, err.value.message


def test_build_volume_names_the_part_and_passes_on_a_larger_printer():
    big = {"pcb_length": "160", "pcb_width": "120"}
    make_spec("sensor_enclosure", {**big, "machine": "prusa_mk3s"})  # fits 250 x 210 x 210
    with pytest.raises(InputError) as err:
        make_spec("sensor_enclosure", {**big, "machine": "prusa_mini"})
    assert "base is 190 x" in err.value.message


@pytest.mark.parametrize("name", ["Zoë", "Ñandú", "Łukasz", "Åsa", "Дмитрий", "Ωμέγα", "Ngô", "e\u0301lise"])
def test_letters_the_font_has_are_accepted(name):
    assert make_spec("kit_enclosure", {"text": name}).text == name


@pytest.mark.parametrize("name, refused", [("李雷", "U+674E"), ("محمد", "U+0645"), ("Ada 🦄", "U+1F984"),
                                            ("q\u0301", "U+0301"), ("tab\there", "U+0009")])
def test_letters_that_cannot_be_engraved_are_refused_by_name(name, refused):
    with pytest.raises(InputError) as err:
        make_spec("kit_enclosure", {"text": name})
    assert err.value.field == "text" and refused in err.value.message and "DejaVu Sans" in err.value.message


def test_validation_does_not_import_cadquery():
    code = ("import sys; from somana_core.geometry import make_spec, describe_family;"
            "make_spec('eyewear_frame', {'text': 'Ada'}); describe_family('kit_enclosure');"
            "assert 'cadquery' not in sys.modules and 'OCP' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_describe_family_lists_units_bounds_defaults():
    described = describe_family("eyewear_frame")
    lens = described["parameters"]["lens_width"]
    assert lens["unit"] == "mm" and lens["bounds"] == [40.0, 62.0] and lens["default"] == 50.0
    assert described["parameters"]["lens_shape"]["choices"] == ["round", "rectangle", "cat_eye", "superellipse"]
    assert described["parts"] == ["front", "left_temple", "right_temple"]


def test_materials_table_has_the_four_materials_with_sources():
    table = materials()
    assert set(table["material"]) >= {"PLA", "PETG", "ASA", "PA12"}
    assert table["source"].str.len().min() > 10
    assert (table["density_g_cm3"].between(0.9, 1.5)).all()


# ----------------------------------------------------------------------------- dynamic bounds
def test_the_range_shown_is_the_range_that_validates_with_the_others():
    """The issue: lens width showed 40-62 but failed above 53 with the default PD, on another field."""
    from somana_core.geometry import field_ranges, get_family

    ranges = field_ranges("eyewear_frame", {})
    lo, hi = ranges["lens_width"]["min"], ranges["lens_width"]["max"]
    declared = get_family("eyewear_frame").param["lens_width"].bounds
    assert declared[0] <= lo < hi < declared[1]
    make_spec("eyewear_frame", {"lens_width": lo})
    make_spec("eyewear_frame", {"lens_width": hi})
    step = get_family("eyewear_frame").param["lens_width"].step
    with pytest.raises(InputError):
        make_spec("eyewear_frame", {"lens_width": hi + step})


@pytest.mark.parametrize("family", ["sensor_enclosure", "kit_enclosure", "eyewear_frame"])
def test_every_shown_range_end_validates_for_every_number(family):
    from somana_core.geometry import field_ranges, get_family

    cls = get_family(family)
    for name, allowed in field_ranges(family, {}).items():
        if allowed and "min" in allowed:
            for end in (allowed["min"], allowed["max"]):
                make_spec(family, {name: end})
        elif allowed:
            for choice in allowed["choices"]:
                make_spec(family, {name: choice})
    assert cls  # every default family validates at its own range ends


def test_the_message_lands_on_the_field_the_person_changed():
    with pytest.raises(InputError) as err:
        make_spec("eyewear_frame", {"lens_width": 58}, changed="lens_width")
    assert err.value.field == "lens_width"
    assert "lens_width can be 40 to 53 mm" in err.value.message and "decentration" in err.value.message
    with pytest.raises(InputError) as err:
        make_spec("kit_enclosure", {"board": "esp32_devkitc_v4", "standoff_height": 5}, changed="board")
    assert err.value.field == "board" and "standoff_height" in err.value.message


def test_families_json_carries_the_dynamic_range_for_given_values():
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "somana", "families", "--json", "--family", "kit_enclosure",
                             "--set", "board=esp32_devkitc_v4", "--set", "standoff_height=5"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    standoff = json.loads(result.stdout)["families"][0]["parameters"]["standoff_height"]
    assert standoff["bounds"] == [3.0, 15.0] and standoff["range"] == {"min": 9.0, "max": 15.0}
