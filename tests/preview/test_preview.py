"""The preview payload round-trips the mesh exactly, and stale rebuilds never replace newer ones."""

from types import SimpleNamespace

import numpy as np
import pytest
import trimesh

from somana_core.preview import PreviewTickets, decode_payload, merge_meshes, mesh_payload


def _mesh(extents, shift=(0, 0, 0)):
    box = trimesh.creation.box(extents)
    box.apply_translation(shift)
    return SimpleNamespace(vertices=box.vertices.astype(np.float32), triangles=box.faces.astype(np.uint32),
                           edges=box.vertices[box.edges_unique].astype(np.float32))


def test_payload_round_trips_vertices_triangles_and_edges():
    mesh = _mesh((80, 50, 30))
    payload = mesh_payload(mesh, revision=7, fit=True)
    vertices, triangles, edges = decode_payload(payload)
    np.testing.assert_array_equal(vertices, mesh.vertices)
    np.testing.assert_array_equal(triangles, mesh.triangles)
    np.testing.assert_array_equal(edges, mesh.edges)
    assert payload["triangle_count"] == 12 and payload["vertex_count"] == 8
    assert payload["bbox_mm"] == [-40.0, -25.0, -15.0, 40.0, 25.0, 15.0]
    assert payload["revision"] == 7 and payload["fit"] is True


def test_parts_are_merged_with_their_indices_shifted():
    base, lid = _mesh((80, 50, 30)), _mesh((80, 50, 4), shift=(100, 0, 0))
    vertices, triangles, edges = merge_meshes({"base": base, "lid": lid})
    assert len(vertices) == 16 and len(triangles) == 24 and len(edges) == len(base.edges) + len(lid.edges)
    np.testing.assert_array_equal(vertices[triangles[12:]], lid.vertices[lid.triangles])
    assert mesh_payload({"base": base, "lid": lid})["bbox_mm"][3] == pytest.approx(140.0)


def test_a_triangle_pointing_past_the_vertices_is_refused():
    mesh = _mesh((10, 10, 10))
    mesh.triangles = mesh.triangles + 100
    with pytest.raises(ValueError, match="vertex"):
        merge_meshes(mesh)


def test_only_the_newest_rebuild_is_shown_and_a_failure_ends_busy():
    tickets = PreviewTickets()
    first, second = tickets.take(), tickets.take()
    assert tickets.busy
    assert not tickets.accept(first)        # finished late: overtaken by the second change
    assert tickets.accept(second) and tickets.shown == second and not tickets.busy
    third = tickets.take()
    tickets.reject(third)                   # an invalid value: the last good view stays
    assert tickets.shown == second and not tickets.busy


def test_metrics_are_measured_once_per_part_inputs_by_the_geometry_cache(monkeypatch):
    """The one cache of part metrics: building the same values again and quoting them in another
    material measures no solid again; a lid-only change measures only the lid."""
    from somana_core import quote
    from somana_core.geometry import build, kernel, make_spec

    measured = []
    real = kernel.volume_mm3
    monkeypatch.setattr(kernel, "volume_mm3", lambda shape: measured.append(shape) or real(shape))
    values = {"wall": 2.3, "text": "Memo"}
    first = quote.product_metrics(build(make_spec("sensor_enclosure", values)), "PLA")
    count = len(measured)
    assert count <= 2  # base and lid at most once each (fewer if an earlier test built them)
    again = build(make_spec("sensor_enclosure", values)).metrics("PETG")
    assert len(measured) == count
    assert again["total"]["volume_mm3"] == first["total"]["volume_mm3"]
    assert again["total"]["mass_g"] > first["total"]["mass_g"]  # PETG is denser
    build(make_spec("sensor_enclosure", {**values, "text": "Memo2"})).metrics("PLA")
    assert len(measured) == count + 1  # only the new lid
