"""`somana publish OUTDIR`: the static investor site (index.html, pages, assets/), offline from file://.

The pages are drawn by `dashboards.publish` (Panel/HoloViews), imported here only when the command
runs. Panel reads PANEL_CDN_ROOT when it is imported, so a process that already imported Panel
re-runs the command in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def run(args) -> int:
    outdir = Path(args.outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputError("outdir", f"outdir={args.outdir!r} is a file, not a folder")
    results = Path(args.pipeline_results) if args.pipeline_results else DEFAULT_PIPELINE_RESULTS
    if args.pipeline_results and not results.exists():
        raise InputError("--pipeline-results", f"--pipeline-results {results}: no such file")
    if not results.exists() and not args.no_measure:
        results = measure_pipeline(outdir / "assets" / "pipeline.json")
    if "panel" in sys.modules:  # Panel already loaded without our CDN root: start clean
        argv = [sys.executable, "-m", "somana", "publish", str(outdir), "--no-measure"]
        argv += ["--pipeline-results", str(results)] if results.exists() else []
        argv += ["--json"] if args.json else []
        return subprocess.run(argv).returncode

    os.environ["PANEL_CDN_ROOT"] = PANEL_CDN_ROOT
    from dashboards.publish import build_site

    report = build_site(outdir, results if results.exists() else None)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"somana publish: {len(report['pages'])} pages in {report['outdir']} ({report['size_mb']} MB, "
              f"{report['embedded_states_total']} embedded states); open {Path(report['outdir']) / 'index.html'}")
    return 0
