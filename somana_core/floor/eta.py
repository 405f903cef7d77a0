"""Time left for a print: the slicer's estimate, corrected by the pace the printer actually keeps.

The share of lines (or bytes) sent is a poor clock on its own: heating takes minutes at 0 %, first
layers are slow, infill is fast, so `elapsed x (1 - f) / f` swings by a factor of ten. The slicer's
estimate knows the moves; what it does not know is this printer's pace (firmware acceleration,
a simulator's time scale), which the elapsed time measures better the further the job has gone.
"""

from __future__ import annotations


def eta_s(elapsed_s: float, fraction_done: float, estimate_s: float | None = None) -> float | None:
    """Seconds left. `fraction_done` in 0..1 (bytes acknowledged / bytes of the job), `estimate_s`
    the slicer's whole-job time (None when the file has none: then the plain extrapolation).

    pace = elapsed / (estimate x fraction) is how much slower (>1) or faster (<1) than the slicer
    this job runs; it is trusted in proportion to sqrt(fraction), so early noise (heating) moves
    the answer little and late in the job the measured pace dominates."""
    fraction = min(max(float(fraction_done), 0.0), 1.0)
    if fraction >= 1.0:
        return 0.0
    if not estimate_s or estimate_s <= 0:
        return elapsed_s * (1.0 - fraction) / fraction if fraction > 0 else None
    planned_left_s = estimate_s * (1.0 - fraction)
    if fraction <= 0 or elapsed_s <= 0:
        return planned_left_s
    pace = elapsed_s / (estimate_s * fraction)
    trust = fraction ** 0.5
    return planned_left_s * ((1.0 - trust) + trust * pace)


def gcode_estimate_s(path) -> float | None:
    """The slicer's print time written in a G-code file (PrusaSlicer's comment), or None."""
    from somana_core.slicing import read_estimates

    try:
        return float(read_estimates(path)["print_time_s"])
    except Exception:  # noqa: BLE001 - a file without the comment (or unreadable): no estimate
        return None
