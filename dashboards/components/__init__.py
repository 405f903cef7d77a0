"""Reusable Panel components (param classes and `pn.viewable.Viewer`s) that the apps and notebooks share."""
