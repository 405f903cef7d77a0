"""Every malformed argument set exits 2 with ONE line on stderr, no traceback, and writes nothing.

Bounded fuzz: for each sub-command, a valid base command line, and for each of its options every
value from a pool of values that option must refuse (empty, `-`, a folder, /proc, huge, negative,
not a number, NaN, control characters, too long...), one option at a time; then a fixed-seed sample
of pairs of bad options. The sub-commands run in this process (they fail before any work); `serve`
runs in a child process with a deadline, since a case it failed to refuse would start a server.
"""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from somana.cli import main

ROOT = Path(__file__).resolve().parents[2]
ESC = "\x1b[2J\x1b[31m"
HUGE = "99999999999999999999"
NUMBER_BAD = ["", "abc", "nan", "inf", "-inf", "1e308", HUGE, "-" + HUGE, "0x10", "1,5", ESC]
COUNT_BAD = NUMBER_BAD + ["0", "-5", "1.5", "101"]


def _paths(work: Path) -> dict[str, str]:
    (work / "afolder").mkdir(exist_ok=True)
    (work / "model.stl").write_text("solid x\nendsolid x\n")
    (work / "job.gcode").write_text("G28\nG1 X1\n")
    (work / "bad.json").write_text("{not json")
    (work / "list.json").write_text("[1, 2]")
    return {"bad.json": str(work / "bad.json"), "list.json": str(work / "list.json"),
            "dir": str(work / "afolder"), "dir/": str(work / "afolder") + "/", "missing": str(work / "no" / "x"),
            "stl": str(work / "model.stl"), "gcode": str(work / "job.gcode")}


def _out_bad(p, suffix):
    return ["", "-", p["dir"], p["dir/"], f"/proc/x{suffix}", f"{p['missing']}{suffix}", "x.txt", "a\x00b" + suffix]


def refused_values(p: dict[str, str]) -> dict[str, tuple[list[str], dict]]:
    """sub-command -> (a valid base command line, {option or None for a positional: values it must refuse})."""
    return {
        "order-place": (["order", "place", "kit_enclosure", "--customer", "Ada", "--no-slice"], {
            "--customer": ["", "   ", "x" * 500, f"Eve{ESC}", "a\u202eb"],
            "--qty": COUNT_BAD,
            "--material": ["", "WOOD", ESC],
            "--set": ["nonsense", "=3", "wall=abc", "wall=nan", "wall=1e308", "wall=-1", "nosuch=1"],
            "--idempotency-key": ["", "short", "x" * 65, "with space", ESC],
            "--db": ["not a url", "nosuchdb://x", "sqlite:////nonexistent/folder/x.sqlite"],
        }),
        "order-list": (["order", "list"], {
            "--limit": COUNT_BAD[:-1] + ["-1"], "--state": ["", "shipped", ESC], "--db": ["not a url", ""],
        }),
        "order-export": (["order", "export", "SO-000001"], {
            "--out": _out_bad(p, ".gcode")[:-2], "--kind": ["", "exe", ESC],
        }),
        "order-show": (["order", "show"], {None: ["", "SO-", "'; drop table orders; --", f"SO-1{ESC}", "x" * 5000]}),
        "order-set": (["order", "set", "SO-000001", "done"], {"--note": ["x" * 600, f"a{ESC}", "two\nlines"]}),
        "order-state": (["order", "set", "SO-000001"], {None: ["shipped", "", ESC]}),
        "quote": (["quote", "kit_enclosure"], {
            "--qty": COUNT_BAD, "--material": ["", "WOOD"], "--db": ["not a url", "nosuchdb://x"],
            "--set": ["nonsense", "wall=abc", "wall=nan", "wall=inf", "wall=-1e308"],
        }),
        "make": (["make", "kit_enclosure", "--out", str(Path(p["dir"]) / "ok.stl")], {
            "--out": _out_bad(p, ".stl"), "--gcode": _out_bad(p, ".gcode"), "--part": ["", "nosuchpart"],
            "--material": ["", "WOOD"], "--set": ["wall=abc", "wall=-1", "wall=nan"],
        }),
        "slice": (["slice", p["stl"], "--out", str(Path(p["dir"]) / "ok.gcode")], {
            "--out": _out_bad(p, ".gcode"), "--timeout": NUMBER_BAD + ["-1", "0"], "--machine": ["", "nosuch"],
            "--material": ["", "WOOD"],
        }),
        "slice-input": (["slice"], {None: ["", p["dir"], p["missing"] + ".stl", str(ROOT / "README.md")]}),
        # the sub-commands other areas own: their own refusals, checked by the same rule
        "print": (["print", p["gcode"], "--port", p["missing"]], {
            "--baud": ["", "abc", HUGE, "-1"], "--from-line": ["", "abc", "-1", HUGE], "--timeout": NUMBER_BAD[:8],
            "--rx-buffer-bytes": ["abc", "-1", HUGE],
        }),
        "print-file": (["print", "--port", "sim"], {None: ["", p["dir"], p["missing"] + ".gcode"]}),
        "publish": (["publish", str(Path(p["dir"]) / "site")], {"--pipeline-results": [p["dir"], p["missing"], p["bad.json"], p["list.json"], p["gcode"]]}),
        "publish-out": (["publish"], {None: ["", "/proc/site"]}),
        "users": (["users", "add"], {None: ["", "A", "x" * 100, ESC, "-"]}),
        "plan": (["plan"], {"--db": ["not a url", "nosuchdb://x"], "--seconds": NUMBER_BAD[:8] + ["-1"],
                            "--policy": ["", "nosuch"]}),
        "simulate": (["simulate", "--json"], {
            "--days": NUMBER_BAD[:8] + ["0", "-1"], "--printers": COUNT_BAD[:10], "--policy": ["", "nosuch"],
            "--seed": ["abc", "1.5"], "--rate": NUMBER_BAD[:6] + ["-1"],
            "--orders": [p["dir"], p["missing"], p["bad.json"], p["list.json"], p["gcode"]],
        }),
        "estop": (["estop"], {"--confirm": NUMBER_BAD[:6], None: ["", ESC]}),
        "spool": (["spool", "p1", "--material", "PLA", "--colour", "red", "--broker", "mqtt://127.0.0.1:9"], {
            "--material": ["", "WOOD", ESC], "--colour": ["", "r3d", ESC, "x" * 40], "--wait": NUMBER_BAD[:6]}),
        # (a station that failed to refuse would try the unreachable broker of the base line and exit 1)
        "station": (["station", "--name", "s1", "--broker", "mqtt://127.0.0.1:9"], {
            "--broker": ["", "not a url", f"mqtt://a{ESC}", "nosuch://x"], "--db": ["not a url", "nosuchdb://x"],
            "--sim-time-scale": NUMBER_BAD[:8] + ["-1", "11"], "--name": ["", "bad name!", ESC]}),
        "families": (["families"], {"--family": ["", "nosuch", ESC], "--set": ["wall=1"]}),
        "printers": (["printers", "--broker", "mqtt://127.0.0.1:9"], {
            "--wait": NUMBER_BAD[:8] + ["-1"], "--broker": ["", "not a url", "nosuch://x"]}),
    }


def cases(p: dict[str, str]) -> dict[str, list[list[str]]]:
    """sub-command -> malformed argument lists: each refused value alone, then a sample of pairs."""
    out: dict[str, list[list[str]]] = {}
    for name, (argv, options) in refused_values(p).items():
        runs = []
        for option, values in options.items():
            for value in values:
                if option is None:  # a positional argument
                    runs.append(argv + [value] + (["--out", str(Path(p["dir"]) / "x.gcode")] if name == "slice-input" else []))
                else:
                    runs.append(argv + [option, value])
        pairs = [(o, v) for o, vs in options.items() if o is not None for v in vs]
        for (o1, v1), (o2, v2) in random.Random(name).sample(list(itertools.combinations(pairs, 2)),
                                                             min(6, len(pairs) * (len(pairs) - 1) // 2)):
            if o1 != o2:
                runs.append(argv + [o1, v1, o2, v2])
        out[name] = runs
    return out


def _tree(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_size for path in folder.rglob("*")}


def _assert_refused(argv, code, out, err):
    lines = err.strip().splitlines()
    assert code == 2, f"{argv!r}: exit {code}, stderr {err[-500:]!r}"
    assert len(lines) == 1, f"{argv!r}: {len(lines)} lines on stderr: {err[-500:]!r}"
    assert "Traceback" not in err and out == "", f"{argv!r}: {out[-200:]!r} {err[-200:]!r}"
    assert "\x1b" not in err, f"{argv!r}: an escape character reached the terminal"


@pytest.fixture
def work(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SOMANA_HOME", str(home))
    monkeypatch.delenv("SOMANA_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


SUBCOMMANDS = ["order-place", "order-list", "order-export", "order-show", "order-set", "order-state", "quote", "make",
               "slice", "slice-input", "print", "print-file", "publish", "publish-out", "users", "plan", "simulate",
               "estop", "spool", "station", "families", "printers"]


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_malformed_arguments_exit_2_with_one_line_and_write_nothing(work, capsys, name):
    runs = cases(_paths(work))[name]
    assert len(runs) >= 2
    for argv in runs:
        before = _tree(work)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's refusals
            code = exc.code
        captured = capsys.readouterr()
        _assert_refused(argv, code, captured.out, captured.err)
        assert _tree(work) == before, f"{argv!r} wrote {set(_tree(work)) - set(before)}"
        assert not Path("-").exists()


def child_process_pools(work: Path) -> dict[str, tuple[list[str], dict]]:
    """Like `refused_values`, for the sub-commands that run in a child process (a case they failed to
    refuse would start a server, or replace the process with JupyterLab): base line, option -> values."""
    folder = work / "afolder"
    folder.mkdir(exist_ok=True)
    bad_toml = work / "bad.toml"
    bad_toml.write_text("[server\nport = 1\n")
    return {
        "serve": (["serve", "--no-warm", "--port", "59321"], {  # (a case not refused would serve there)
            "--config": [str(folder), str(work / "missing.toml"), str(bad_toml), ""],
            "--port": ["70000", "abc", HUGE], "--num-threads": ["0", "1e9"], "--baud": ["fast"],
            "--db": ["not a url"],
            # a name that does not resolve ended in a socket traceback; '' listened everywhere; Bokeh's own
            # origin check raised on ''; an empty --workers meant "start local workers"
            "--address": ["not an ip", ""], "--allow-websocket-origin": ["", ESC], "--workers": [""]}),
        "lab": (["lab", "--no-browser", "--port", "59322"], {  # `somana lab` execs JupyterLab once its checks pass
            "--ip": ["not an ip", "", ESC], "--notebook-dir": ["", str(work / "missing")],
            "--port": ["0", "70000"]}),
        "sim": (["sim"], {  # a virtual printer runs until stopped
            "--baud": ["0", "-1", HUGE, "abc"], "--latency-ms": ["nan", "inf", "-1", "1e308", "abc"],
            "--bufsize": ["0", "-1", HUGE], "--rx-buffer-bytes": ["0", "-1", HUGE], "--fault": ["", "garbage", ESC]}),
        "worker": (["worker", "tcp://127.0.0.1:9"], {  # a worker waits for its scheduler
            "--nworkers": ["0", "-1", HUGE, "abc"], "--data": ["", "/proc/x", str(bad_toml)]}),
    }


def run_child(argv: list[str], work: Path, timeout_s: float = 60):
    env = {**os.environ, "SOMANA_HOME": str(work / "home"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "somana", *argv], capture_output=True, text=True, env=env,
                          cwd=work, timeout=timeout_s)


@pytest.mark.parametrize("name", ["serve", "lab", "sim", "worker"])
def test_long_running_commands_refuse_malformed_settings_before_they_start(work, name):
    base, options = child_process_pools(work)[name]
    home_before = _tree(work)
    for option, values in options.items():
        for value in values:
            done = run_child(base + [option, value], work)
            _assert_refused([option, value], done.returncode, done.stdout, done.stderr)
    assert _tree(work) == home_before
