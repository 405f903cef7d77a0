"""`somana publish OUTDIR`: the static investor site (index.html, pages, assets/), offline from file://.

The pages are drawn by `dashboards.publish` (Panel/HoloViews), imported here only when the command
runs. Panel reads PANEL_CDN_ROOT when it is imported, so a process that already imported Panel
re-runs the command in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from somana_core.errors import InputError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PIPELINE_RESULTS = REPO / "benchmarks" / "results" / "pipeline.json"
PANEL_CDN_ROOT = "assets/panel/"  # pages point here (relative) for Panel's CSS; dashboards.publish copies it


def configure(parser):
    parser.add_argument("outdir", help="folder to write (created; existing pages are replaced)")
    parser.add_argument("--pipeline-results", default=None, metavar="FILE",
                        help="JSON printed by benchmarks/pipeline.py (default: benchmarks/results/pipeline.json; "
                             "measured now with one run when missing)")
    parser.add_argument("--no-measure", action="store_true",
                        help="do not run the pipeline benchmark when its results file is missing")
    parser.add_argument("--workers", default=None, metavar="URL",
                        help="build the gallery's parts on this Dask scheduler's workers (tcp://HOST:8786); "
                             "default: a local cluster, one worker process per core")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")


def measure_pipeline(path: Path) -> Path:
    """Run benchmarks/pipeline.py once (one run per family) and keep its JSON in `path`."""
    script = REPO / "benchmarks" / "pipeline.py"
    done = subprocess.run([sys.executable, str(script), "--runs", "1"], capture_output=True, text=True)
    if done.returncode != 0:
        raise InputError("--pipeline-results", f"benchmarks/pipeline.py failed: {done.stderr.strip()[-300:]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(done.stdout)
    return path


def check_outdir(text: str) -> Path:
    """The folder to publish into: named, not a file, and somewhere this user can write."""
    if not text or not text.strip():
        raise InputError("outdir", "outdir is empty: name the folder to write the site into, e.g. site/")
    if any(ord(ch) < 32 for ch in text):
        raise InputError("outdir", f"outdir={text!r} contains control characters")
    outdir = Path(text).expanduser()
    resolved = outdir.resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise InputError("outdir", f"outdir={text!r} is {resolved}: publish into a folder of its own")
    if outdir.exists() and not outdir.is_dir():
        raise InputError("outdir", f"outdir={text!r} is a file, not a folder")
    parent = next((p for p in [resolved, *resolved.parents] if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK) \
            or str(resolved).startswith(("/proc/", "/sys/", "/dev/")):
        raise InputError("outdir", f"outdir={text!r}: cannot create or write {resolved}")
    if outdir.is_dir() and any(outdir.iterdir()) and not (outdir / "index.html").exists():
        raise InputError("outdir", f"outdir={text!r} is a folder with other files in it: "
                                   "name a new folder or an earlier published site")
    return outdir


def check_pipeline_results(path: Path) -> Path:
    """A results file as benchmarks/pipeline.py prints it: {"families": {name: {"median_s": {stage: s}}}}."""
    label = f"--pipeline-results {path}"
    if not path.exists():
        raise InputError("--pipeline-results", f"{label}: no such file")
    if not path.is_file():
        raise InputError("--pipeline-results", f"{label} is not a file")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError("--pipeline-results", f"{label} is not readable JSON ({type(exc).__name__})") from None
    families = data.get("families") if isinstance(data, dict) else None
    if not isinstance(families, dict) or not families:
        raise InputError("--pipeline-results", f"{label} has no \"families\" object (the output of "
                                               "benchmarks/pipeline.py)")
    for family, figures in families.items():
        stages = figures.get("median_s") if isinstance(figures, dict) else None
        if not isinstance(stages, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e6 for v in stages.values()):
            raise InputError("--pipeline-results", f"{label}: families.{str(family)[:40]}.median_s must map "
                                                   "stages to seconds (0 to 1e6)")
    return path


def run(args) -> int:
    outdir = check_outdir(args.outdir)
    if args.pipeline_results is not None and not args.pipeline_results.strip():
        raise InputError("--pipeline-results", "--pipeline-results is empty: name the JSON file "
                                               "benchmarks/pipeline.py wrote, or leave the option out")
    results = Path(args.pipeline_results) if args.pipeline_results else DEFAULT_PIPELINE_RESULTS
    if args.pipeline_results:
        check_pipeline_results(results)
    elif results.exists():
        check_pipeline_results(results)
    if args.workers is not None and not args.workers.startswith(("tcp://", "tls://", "ws://", "wss://")):
        raise InputError("--workers", f"--workers {args.workers!r} is not a Dask scheduler address "
                                      "(tcp://HOST:8786)")
    if not results.exists() and not args.no_measure:
        results = measure_pipeline(Path(tempfile.mkdtemp(prefix="somana-pipeline-")) / "pipeline.json")
    if "panel" in sys.modules:  # Panel already loaded without our CDN root: start clean
        argv = [sys.executable, "-m", "somana", "publish", str(outdir), "--no-measure"]
        argv += ["--pipeline-results", str(results)] if results.exists() else []
        argv += ["--json"] if args.json else []
        argv += ["--workers", args.workers] if args.workers else []
        return subprocess.run(argv).returncode

    os.environ["PANEL_CDN_ROOT"] = PANEL_CDN_ROOT
    from dashboards.publish import build_site
    from somana_core import workers

    pool = workers.connect(args.workers)  # the gallery's CAD runs in worker processes, not in this one
    try:
        report = _build_whole_or_nothing(lambda staging, found: build_site(staging, found, pool=pool), outdir,
                                         results if results.exists() else None)
    finally:
        workers.shutdown()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"somana publish: {len(report['pages'])} pages in {report['outdir']} ({report['size_mb']} MB, "
              f"{report['embedded_states_total']} embedded states); open {Path(report['outdir']) / 'index.html'}")
    return 0


def _build_whole_or_nothing(build_site, outdir: Path, results: Path | None) -> dict:
    """Build into a fresh sibling folder, then swap it in: a failure leaves OUTDIR as it was."""
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.publishing-", dir=outdir.parent))
    staging.chmod(0o755)  # a site to hand out, not private state (mkdtemp makes it 0700)
    try:
        report = build_site(staging, results)
        if outdir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.old-", dir=outdir.parent))
            outdir.rename(old / "site")
            staging.rename(outdir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report["outdir"] = str(outdir)
    return report
