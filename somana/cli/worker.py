"""`somana worker tcp://HOST:8786`: a Dask worker machine for `somana serve --workers tcp://HOST:8786`.

It is `dask worker` with what Somana's jobs need: one thread per process (a CAD build is
single-threaded CPU work), this checkout's data tables (`--data`, else the `data/` beside the code,
or $SOMANA_DATA_DIR), and the server's warm-up plugin applied when it joins. `dask worker
tcp://HOST:8786 --nthreads 1` works as well on a machine with the same checkout installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from somana_core.errors import InputError

SCHEMES = ("tcp://", "tls://", "ws://", "wss://")


def configure(parser):
    parser.add_argument("scheduler", metavar="URL", help="the Dask scheduler, e.g. tcp://HOST:8786")
    parser.add_argument("--nworkers", type=int, default=None,
                        help="worker processes on this machine (default: one per core)")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="the data tables the jobs read (default: $SOMANA_DATA_DIR or the checkout's data/)")
    parser.add_argument("--name", default=None, help="a name for the worker in the scheduler's list")


def command(args) -> list[str]:
    """The `dask worker` command line this runs (checked first: nothing starts on bad input)."""
    from somana_core import workers

    if not args.scheduler.startswith(SCHEMES):
        raise InputError("URL", f"URL {args.scheduler!r} is not a Dask scheduler address (e.g. tcp://HOST:8786)")
    count = args.nworkers if args.nworkers is not None else workers.default_worker_count()
    if not 1 <= count <= 64:
        raise InputError("--nworkers", f"--nworkers {count} is outside 1-64")
    if args.data is not None and not (Path(args.data) / "materials.csv").is_file():
        raise InputError("--data", f"--data {args.data}: no data tables there (materials.csv is missing)")
    line = [sys.executable, "-m", "distributed.cli.dask_worker", args.scheduler, "--nworkers", str(count),
            "--nthreads", "1", "--no-dashboard"]
    if args.name:
        line += ["--name", args.name]
    return line


def run(args) -> int:
    line = command(args)
    if args.data is not None:
        os.environ["SOMANA_DATA_DIR"] = str(Path(args.data).resolve())
    os.execv(sys.executable, line)  # the worker replaces this process: signals reach it directly
    return 0  # not reached
