"""The real slicer: PrusaSlicer's command line turns an STL/3MF into G-code with its own
print-time and filament estimate.

Profiles live in `data/slicer/` (`printer_<machine>.ini`, `filament_<material>.ini`); the build
volume and nozzle come from `data/machines.csv`, so a machine's size is written down once.
G-code is written to a temporary file beside the target and renamed at the end: a failed,
timed-out or killed slice never leaves a half-written file under the requested name.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from somana_core.catalogue import default_machine, machine_envelope  # noqa: F401 - re-exported
from somana_core.catalogue import machine_ids as machines  # noqa: F401
from somana_core.catalogue import material_density_g_cm3 as _density_g_cm3
from somana_core.data import data_dir
from somana_core.errors import InputError

SLICER_ENV = "SOMANA_SLICER"  # path to the prusa-slicer executable, when not on PATH
DEFAULT_TIMEOUT_S = 120.0
_TAIL_BYTES = 256 * 1024
_MACOS_APP = "/Applications/PrusaSlicer.app/Contents/MacOS/PrusaSlicer"  # the estimate lines sit just before the config block at the end


class SlicerError(RuntimeError):
    """The slicer could not produce G-code; the message says why in a floor worker's words."""


class SlicerMissing(SlicerError):
    pass


class SlicerFailed(SlicerError):
    pass


class SlicerTimeout(SlicerError):
    pass


class PartDoesNotFit(SlicerError, InputError):
    """The part is larger than the machine's build volume (bad input, so also an InputError)."""

    def __init__(self, message: str):
        SlicerError.__init__(self, message)
        self.field = "size"
        self.message = message


@dataclass(frozen=True)
class SliceResult:
    gcode_path: str
    print_time_s: float
    filament_mm: float
    filament_cm3: float
    filament_g: float  # cm3 x the material's density from data/materials.csv
    machine: str
    material: str
    slicer: str
    elapsed_s: float

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- finding things


def find_slicer() -> str:
    """Path of the prusa-slicer executable, or SlicerMissing with how to install it."""
    configured = os.environ.get(SLICER_ENV)
    candidates = [configured] if configured else ["prusa-slicer", "PrusaSlicer", "prusaslicer"]
    for name in candidates:
        path = shutil.which(name) if name else None
        if path:
            return path
    if not configured and os.access(_MACOS_APP, os.X_OK):  # Homebrew's cask installs the app bundle
        return _MACOS_APP
    raise SlicerMissing(
        "the slicer prusa-slicer is not installed (Debian/Ubuntu: apt-get install prusa-slicer, "
        "or run `make install`; macOS: brew install --cask prusaslicer; or set "
        f"{SLICER_ENV} to its path)"
    )


def profile_paths(machine: str, material: str) -> list[Path]:
    """The .ini files loaded for this machine and material, in load order (later wins)."""
    folder = data_dir() / "slicer"
    printer = folder / f"printer_{machine}.ini"
    filament = folder / f"filament_{material}.ini"
    if not printer.exists():
        raise InputError("machine", f"machine={machine!r} has no slicer profile {printer.name} in {folder}")
    if not filament.exists():
        known = sorted(p.stem.removeprefix("filament_") for p in folder.glob("filament_*.ini"))
        raise InputError("material", f"material={material!r} has no slicer profile; known: {known}")
    return [printer, filament]


def profile_setting(machine: str, material: str, key: str) -> str | None:
    """A setting as the slicer sees it after loading the machine's and material's profiles (the last
    profile that sets it wins), or None when neither sets it (PrusaSlicer's own default)."""
    value = None
    for path in profile_paths(machine, material):
        for line in path.read_text().splitlines():
            name, sep, text = line.partition("=")
            if sep and not line.lstrip().startswith("#") and name.strip() == key:
                value = text.strip()
    return value


# ---------------------------------------------------------------- reading G-code

_TIME_RE = re.compile(r"^; estimated printing time \(normal mode\) = (.+)$", re.M)
_MM_RE = re.compile(r"^; filament used \[mm\] = ([\d.]+)", re.M)
_CM3_RE = re.compile(r"^; filament used \[cm3\] = ([\d.]+)", re.M)
_UNIT_S = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> float:
    """PrusaSlicer's `1d 2h 3m 4s` (any subset) in seconds."""
    parts = re.findall(r"(\d+)\s*([dhms])", text)
    if not parts:
        raise ValueError(f"not a PrusaSlicer duration: {text!r}")
    return float(sum(int(n) * _UNIT_S[u] for n, u in parts))


def read_estimates(gcode_path: str | Path) -> dict:
    """The slicer's own print time (s) and filament use (mm, cm3) from the end of a G-code file."""
    path = Path(gcode_path)
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - _TAIL_BYTES))
        tail = fh.read().decode("utf-8", "replace")
    found = _TIME_RE.search(tail), _MM_RE.search(tail), _CM3_RE.search(tail)
    if not all(found):
        raise SlicerFailed(f"{path.name} has no PrusaSlicer estimate lines (not sliced by PrusaSlicer?)")
    return {
        "print_time_s": parse_duration(found[0].group(1)),
        "filament_mm": float(found[1].group(1)),
        "filament_cm3": float(found[2].group(1)),
    }


# ---------------------------------------------------------------- slicing


def _mesh_extent_mm(path: Path) -> tuple[float, float, float] | None:
    """Bounding-box size of an STL/3MF (None if the file cannot be read as a mesh here)."""
    import trimesh  # light, and only needed when slicing

    try:
        mesh = trimesh.load(str(path), force="mesh")
    except Exception:  # the slicer gives its own message for a file it cannot read
        return None
    if mesh.is_empty:
        return None
    return tuple(float(v) for v in mesh.extents)


def _check_fits(path: Path, machine: str, envelope: dict) -> None:
    extent = _mesh_extent_mm(path)
    if extent is None:
        return
    x, y, z = extent
    # the slicer may rotate a part about Z to fit, so compare sorted XY sizes
    part_xy, bed_xy = sorted((x, y)), sorted((envelope["x_mm"], envelope["y_mm"]))
    if part_xy[0] > bed_xy[0] or part_xy[1] > bed_xy[1] or z > envelope["z_mm"]:
        raise PartDoesNotFit(
            f"part {x:.0f} x {y:.0f} x {z:.0f} mm does not fit the build volume of {machine} "
            f"({envelope['x_mm']:.0f} x {envelope['y_mm']:.0f} x {envelope['z_mm']:.0f} mm)"
        )


def slice_file(
    model_path: str | Path,
    out_path: str | Path,
    material: str = "PLA",
    machine: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    options: dict[str, str] | None = None,
) -> SliceResult:
    """Slice an STL/3MF into G-code at `out_path` with the machine's and material's profiles.
    `options`: PrusaSlicer settings that override the profiles for this slice (`{"support_material":
    "1"}`: what a comparison needs; the shop's settings live in the profiles)."""
    model = Path(model_path)
    out = Path(out_path)
    if not model.is_file():
        raise InputError("file", f"file={str(model)!r} does not exist")
    if model.suffix.lower() not in (".stl", ".3mf", ".obj", ".amf"):
        raise InputError("file", f"file={model.name!r} is not an STL or 3MF file")
    machine = machine or default_machine()
    envelope = machine_envelope(machine)
    profiles = profile_paths(machine, material)
    density = _density_g_cm3(material)
    slicer = find_slicer()
    _check_fits(model, machine, envelope)

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part.gcode", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    x, y = envelope["x_mm"], envelope["y_mm"]
    cmd = [slicer, "--export-gcode"]
    for profile in profiles:
        cmd += ["--load", str(profile)]
    cmd += [
        "--bed-shape", f"0x0,{x:g}x0,{x:g}x{y:g},0x{y:g}",
        "--center", f"{x / 2:g},{y / 2:g}",
        "--max-print-height", f"{envelope['z_mm']:g}",
        "--nozzle-diameter", f"{envelope['nozzle_mm']:g}",
        "--output", str(tmp),
    ]
    overrides = None
    if options:  # an .ini loaded after the profiles (the last load wins); flags and values alike
        overrides = tmp.with_suffix(".options.ini")
        overrides.write_text("".join(f"{key} = {value}\n" for key, value in options.items()))
        cmd[cmd.index("--bed-shape"):cmd.index("--bed-shape")] = ["--load", str(overrides)]
    cmd.append(str(model))
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            output, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise SlicerTimeout(f"the slicer took longer than {timeout_s:g} s on {model.name}; stopped it")
        except BaseException:  # Ctrl-C or a killed caller: the slicer runs in its own session
            _stop(proc)
            raise
        text = output.decode("utf-8", "replace")
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            raise _failure(text, proc.returncode, model, machine)
        estimates = read_estimates(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp made it private; a G-code file is not
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        if overrides is not None:
            overrides.unlink(missing_ok=True)
        # PrusaSlicer writes OUT.tmp itself before renaming; never leave one behind
        Path(str(tmp) + ".tmp").unlink(missing_ok=True)
    return SliceResult(
        gcode_path=str(out),
        print_time_s=estimates["print_time_s"],
        filament_mm=estimates["filament_mm"],
        filament_cm3=estimates["filament_cm3"],
        filament_g=round(estimates["filament_cm3"] * density, 2),
        machine=machine,
        material=material,
        slicer=slicer,
        elapsed_s=time.perf_counter() - started,
    )


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # once, at import: os.umask is process-wide and not thread-safe


def _failure(text: str, returncode: int, model: Path, machine: str) -> SlicerError:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "[trace]" not in ln]
    if any("could not fit" in ln.lower() or "outside of the print volume" in ln.lower() for ln in lines):
        return PartDoesNotFit(f"part {model.name} does not fit the build volume of {machine} (slicer)")
    # the last lines that are not progress lines say what went wrong
    useful = [ln for ln in lines if not re.match(r"^\d+ => ", ln)]
    reason = useful[-1] if useful else f"exit status {returncode}"
    if reason.startswith("what():"):
        reason = reason.removeprefix("what():").strip()
    return SlicerFailed(f"the slicer failed on {model.name}: {reason}")


def slice_product(
    product,
    out_path: str | Path,
    material: str = "PLA",
    machine: str | None = None,
    stl_path: str | Path | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    part: str | None = None,
) -> SliceResult:
    """Export a built product's plate (all parts side by side, or only `part`) and slice it. The
    STL goes to `stl_path` when given (kept), else to a temporary file (removed)."""
    machine = machine or getattr(product, "values", {}).get("machine")
    if stl_path is not None:
        product.export(stl_path, part=part)
        return slice_file(stl_path, out_path, material=material, machine=machine, timeout_s=timeout_s)
    with tempfile.TemporaryDirectory(prefix="somana-slice-") as folder:
        stl = Path(folder) / f"{product.family}.stl"
        product.export(stl, part=part)
        return slice_file(stl, out_path, material=material, machine=machine, timeout_s=timeout_s)
