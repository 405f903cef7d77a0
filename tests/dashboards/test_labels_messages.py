"""A spec's message in the form's words: field names become the labels the customer sees."""

import pytest

from somana_core import geometry, labels


def test_a_rule_message_names_fields_by_their_labels():
    cls = geometry.get_family("eyewear_frame")
    with pytest.raises(geometry.InputError) as raised:
        geometry.make_spec("eyewear_frame", {"lens_width": 60}, changed="lens_width")
    text = labels.human_message(cls, raised.value.message)
    assert text.startswith("Lens width 60 mm does not fit")
    assert "lens_width" not in text and "pupillary_distance" not in text and "bridge_width" not in text
    assert "pupillary distance" in text and "bridge width" in text


def test_an_acronym_label_keeps_its_capitals():
    cls = geometry.get_family("sensor_enclosure")
    assert labels.human_message(cls, "pcb_length=500 mm is above the maximum 160 mm") == \
        "PCB length 500 mm is above the maximum 160 mm"
