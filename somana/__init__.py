"""The composition root: the `somana` command line, which may import the views, the core and device_io."""
