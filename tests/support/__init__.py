"""Helpers shared by every test package: waiting on conditions instead of sleeping."""
