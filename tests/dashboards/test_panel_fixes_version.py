"""dashboards/panel_fixes.py patches Panel's private write path: an upgrade of Panel must be noticed."""

import panel

from dashboards import panel_fixes


def test_the_panel_fixes_are_written_for_the_installed_panel():
    """When this fails after an upgrade: run tests/ui/test_panel_fixes.py's "without the fix" test and
    read dashboards/panel_fixes.py; move PANEL_VERSION only if both bugs and their code are unchanged."""
    assert panel.__version__ == panel_fixes.PANEL_VERSION
    assert panel_fixes.apply()
    from panel.io import document

    assert document._drain_unconnected_events is panel_fixes._drain_unconnected_events
    assert getattr(document._dispatch_msgs, "somana_fix", False)
    import importlib

    assert all(importlib.import_module(name).push is panel_fixes._push_in_order for name in panel_fixes.PUSH_USERS)
