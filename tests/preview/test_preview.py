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


def test_metrics_are_measured_once_per_values_and_material():
    from somana_core.preview import MetricsMemo

    calls = []
    spec = SimpleNamespace(family="f", values=lambda: {"wall": 2.0})
    memo = MetricsMemo(size=2)
    measure = lambda material: calls.append(material) or {"material": material}  # noqa: E731
    assert memo.get(spec, "PLA", measure) == {"material": "PLA"}
    assert memo.get(spec, "PLA", measure) == {"material": "PLA"} and calls == ["PLA"]
    memo.get(spec, "PETG", measure)
    memo.get(SimpleNamespace(family="f", values=lambda: {"wall": 3.0}), "PLA", measure)
    memo.get(spec, "PLA", measure)  # pushed out by the two newer entries
    assert calls == ["PLA", "PETG", "PLA", "PLA"]
