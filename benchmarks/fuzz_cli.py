"""Command-line fuzz at the issue's scale: N malformed argument sets per sub-command (210 by default,
2,100+ runs in all), each run in this process with the rule of tests/cli/test_cli_fuzz.py: exit 2, one
line on stderr, no traceback, no escape character on the terminal, nothing written.

Each argument set is the sub-command's valid base line plus 1-3 options set to values it must refuse
(the test's pools), sometimes with an unknown option or a stray positional added, in a random order;
a fixed seed makes the run repeatable. `serve`, `lab`, `sim` and `worker` run the same way in child processes (2 at a time).
Prints JSON: runs, failures per sub-command, the first few failures, the load average.

    python benchmarks/fuzz_cli.py [--per-command 210] [--seed 1]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD_DEADLINE_S = 30  # a refused run takes well under a second
EXTRA_BAD = [["--no-such-option"], ["--qty"], ["stray-positional"], ["--set"], ["\x1b[31m"]]


def argument_sets(name: str, argv: list[str], options: dict, count: int, rng: random.Random) -> list[list[str]]:
    """`count` malformed lines for one sub-command: base + 1-3 refused options (+ sometimes junk)."""
    named = [(o, v) for o, vs in options.items() if o is not None for v in vs]
    positional = options.get(None, [])
    runs = []
    for _ in range(count):
        if positional and (not named or rng.random() < 0.4):
            line = argv + [rng.choice(positional)]
            if name == "slice-input":
                line += ["--out", "x.gcode"]
            extra = rng.sample(named, min(len(named), rng.randint(0, 2)))
        else:
            line = list(argv)
            extra = rng.sample(named, min(len(named), rng.randint(1, 3)))
        for option, value in extra:
            line += [option, value]
        if rng.random() < 0.15:
            line += rng.choice(EXTRA_BAD)
        runs.append(line)
    return runs


def tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")}


def run_one(main, argv: list[str], work: Path) -> str | None:
    """None if refused by the rule, else what went wrong."""
    before = tree(work)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException as exc:  # the failure this fuzz looks for
            return f"raised {type(exc).__name__}: {exc}"[:300]
    lines = err.getvalue().strip().splitlines()
    if "Traceback" in err.getvalue():
        return "traceback: " + err.getvalue()[-300:]
    if code != 2:
        return f"exit {code}: {err.getvalue()[-200:]!r}"
    if len(lines) != 1:
        return f"{len(lines)} lines on stderr: {err.getvalue()[-200:]!r}"
    if out.getvalue():
        return f"wrote to stdout: {out.getvalue()[:200]!r}"
    if "\x1b" in err.getvalue():
        return "an escape character reached the terminal"
    if tree(work) != before or Path("-").exists():
        return f"wrote {sorted(set(tree(work)) - set(before))[:5]}"
    return None


def main_fuzz(per_command: int, seed: int) -> dict:
    from somana.cli import main
    from tests.cli.test_cli_fuzz import SUBCOMMANDS, _paths, refused_values

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "home").mkdir()
        os.environ["SOMANA_HOME"] = str(work / "home")
        os.environ.pop("SOMANA_DB_URL", None)
        os.chdir(work)
        pools = refused_values(_paths(work))
        rng = random.Random(seed)
        report = {"per_command": per_command, "seed": seed, "runs": 0, "failures": 0, "by_command": {},
                  "examples": []}
        for name in SUBCOMMANDS:
            argv, options = pools[name]
            failed = 0
            for line in argument_sets(name, argv, options, per_command, rng):
                problem = run_one(main, line, work)
                report["runs"] += 1
                if problem:
                    failed += 1
                    if len(report["examples"]) < 20:
                        report["examples"].append({"argv": line, "problem": problem})
            report["by_command"][name] = {"runs": per_command, "failures": failed}
            report["failures"] += failed
    report["child_processes"] = fuzz_children(per_command, seed)
    report["runs"] += report["child_processes"]["runs"]
    report["failures"] += report["child_processes"]["failures"]
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["load_average"] = open("/proc/loadavg").read().split()[:3]
    return report


def fuzz_children(per_command: int, seed: int, workers: int = 2) -> dict:
    """`serve`, `lab`, `sim` and `worker`, each run in a child process (a case they failed to refuse would
    start a server, JupyterLab, a printer or a worker: a run past CHILD_DEADLINE_S counts as a failure)."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.cli.test_cli_fuzz import child_process_pools, run_child

    rng = random.Random(seed)
    report = {"runs": 0, "failures": 0, "by_command": {}, "examples": []}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "home").mkdir()
        pools = child_process_pools(work)

        def judge(line):
            try:
                done = run_child(line, work, timeout_s=CHILD_DEADLINE_S)
            except subprocess.TimeoutExpired:
                return f"still running after {CHILD_DEADLINE_S} s (not refused)"
            lines = done.stderr.strip().splitlines()
            if done.returncode != 2 or len(lines) != 1 or "Traceback" in done.stderr or done.stdout \
                    or "\x1b" in done.stderr:
                return f"exit {done.returncode}: {done.stderr[-200:]!r}"
            return None

        for name, (argv, options) in pools.items():
            lines = argument_sets(name, argv, options, per_command, rng)
            before = tree(work)
            with ThreadPoolExecutor(workers) as pool:
                problems = [(line, problem) for line, problem in zip(lines, pool.map(judge, lines)) if problem]
            if tree(work) != before:
                problems.append((argv, f"wrote {sorted(set(tree(work)) - set(before))[:5]}"))
            report["runs"] += len(lines)
            report["failures"] += len(problems)
            report["by_command"][name] = {"runs": len(lines), "failures": len(problems)}
            report["examples"] += [{"argv": line, "problem": problem} for line, problem in problems[:5]]
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-command", type=int, default=210)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(main_fuzz(args.per_command, args.seed), indent=1))
