"""The `somana` command line: one module per sub-command, imported only when it runs.

Each sub-command module defines `configure(parser)` and `run(args) -> int`. Modules must keep
heavy imports (CadQuery, Panel) inside `run`, so `somana --help` and `somana families` start fast.
Bad input raises `InputError`: a one-line message on stderr and exit status 2, nothing written.
Paths a person types are checked before anything is written (`output_path`, `input_path`), and
every text taken from the store or a file is passed through `terminal_safe` before it is printed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from pathlib import Path

from somana_core.errors import InputError

# name -> (module, one-line help). The module is imported when its parser is built.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("somana.cli.serve", "serve all apps (virtual printer and SQLite by default)"),
    "families": ("somana.cli.families", "product families: parameters, units, bounds, defaults"),
    "make": ("somana.cli.make", "build a part and export it (optionally slice it)"),
    "quote": ("somana.cli.quote", "itemised quote for a part"),
    "slice": ("somana.cli.slice", "slice an STL/3MF with the real slicer"),
    "order": ("somana.cli.order", "the order store: place, list, show"),
    "sim": ("somana.cli.sim", "run the virtual printer on a pseudo-terminal"),
    "print": ("somana.cli.print_job", "stream a G-code file to a printer, with progress"),
    "users": ("somana.cli.users", "staff logins for /machines"),
    "publish": ("somana.cli.publish", "write the static investor demo pages"),
    "lab": ("somana.cli.lab", "JupyterLab on the founders' notebooks, charts drawn offline"),
    "station": ("somana.cli.station", "own printers and run their jobs over the MQTT bus"),
    "printers": ("somana.cli.printers", "every printer of every station on the bus"),
    "estop": ("somana.cli.estop", "emergency stop through the bus (PRINTER or --all)"),
    "spool": ("somana.cli.spool", "an operator loaded another spool on a printer (the plan re-plans)"),
    "plan": ("somana.cli.plan", "the current schedule of every printer"),
    "worker": ("somana.cli.worker", "a Dask worker for `somana serve --workers tcp://HOST:8786` (CAD and slicing)"),
    "simulate": ("somana.cli.simulate", "a simulated factory week under a scheduling policy"),
    "typical-units": ("somana.cli.typical_units", "each family's typical order: the table against its built default part"),
}


class _Parser(argparse.ArgumentParser):
    """argparse with the command line's error contract: ONE line on stderr, exit status 2
    (argparse's own error prints the usage block first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {terminal_safe(message)} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every sub-command's parser; with `only`, just that one is configured (its module alone is
    imported: `somana estop` must not wait for pandas, imported by other commands' modules)."""
    parser = _Parser(prog="somana", description="Somana batch-of-one micro-factory")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=help_text, description=help_text)
            continue
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words[:1] == ["estop"]:  # the emergency stop goes out before any parser is built
        from somana.cli.estop import fast_path

        status = fast_path(words[1:])
        if status is not None:
            return status
    parser = build_parser(words[0] if words and words[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except InputError as exc:
        print(f"somana {args.command}: {terminal_safe(exc.message)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"somana {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`somana families | head`): not an error of ours
        sys.stderr.close()
        return 0


_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text, keep_newlines: bool = False) -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\u202e`), so a name
    from the store cannot move the cursor, recolour or rewrite the terminal. Tabs and (with
    `keep_newlines`) line breaks stay."""
    text = str(text)
    if not keep_newlines:
        text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    else:
        text = text.replace("\r", "\\r")
    return _TERMINAL_UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def output_path(field: str, raw: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """A file the command will write, checked before any work: not empty, not `-`, not a folder,
    in an existing folder we may write to, with one of `suffixes` when given. InputError otherwise."""
    shown = terminal_safe(raw)
    if not raw or not raw.strip():
        raise InputError(field, f"--{field} is empty: name the file to write")
    if raw == "-":
        raise InputError(field, f"--{field} -: writing to standard output is not supported; name a file")
    if "\x00" in raw:
        raise InputError(field, f"--{field} {shown}: a path cannot hold a NUL character")
    path = Path(raw)
    if raw.endswith(("/", os.sep)) or path.is_dir():
        raise InputError(field, f"--{field} {shown} is a folder: name a file inside it")
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(field, f"--{field} {shown}: the file must end in {', '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(field, f"--{field} {shown}: the folder {terminal_safe(folder)} does not exist")
    if path.exists() and not path.is_file():
        raise InputError(field, f"--{field} {shown} exists and is not a regular file")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)) \
            or _pseudo_filesystem(folder):
        raise InputError(field, f"--{field} {shown}: cannot write there (permission denied or not a disk folder)")
    return path


def input_path(field: str, raw: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """A file the command will read: it exists, is a regular file we may read."""
    shown = terminal_safe(raw)
    if not raw or not raw.strip() or "\x00" in raw:
        raise InputError(field, f"--{field} {shown!r} is not a file name")
    path = Path(raw)
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(field, f"{field} {shown}: the file must end in {', '.join(suffixes)}")
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise InputError(field, f"{field} {shown} {what}: name a file")
    if not os.access(path, os.R_OK):
        raise InputError(field, f"{field} {shown}: permission denied")
    return path


def _pseudo_filesystem(folder: Path) -> bool:
    # /proc and /sys accept opens as root but are not storage: a file "written" there is not kept
    resolved = folder.resolve()
    return any(resolved == Path(p) or Path(p) in resolved.parents for p in ("/proc", "/sys", "/dev"))


def bounded_int(field: str, low: int, high: int):
    """An argparse `type` for a whole number in low..high (one-line error naming the range)."""
    def parse(raw: str) -> int:
        if not re.fullmatch(r"\s*[+-]?\d{1,20}\s*", raw or ""):
            raise argparse.ArgumentTypeError(f"{terminal_safe(raw)[:40]!r} is not a whole number ({low}-{high})")
        value = int(raw)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high}")
        return value
    parse.__name__ = field  # argparse names the type in its messages
    return parse


def bounded_float(field: str, low: float, high: float):
    """An argparse `type` for a finite number in low..high."""
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{terminal_safe(raw)[:40]!r} is not a number ({low:g}-{high:g})") from None
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{value:g} is outside {low:g}-{high:g}")
        return value
    parse.__name__ = field
    return parse


def parse_assignments(pairs: list[str] | None) -> dict[str, str]:
    """`--set name=value` pairs as a dict of strings (the spec converts and validates them)."""
    values: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError("--set", f"--set {pair!r} is not of the form name=value")
        values[name.strip()] = value
    return values


def listen_address(field: str, raw: str) -> str:
    """An address this machine can listen on: an IP literal (0.0.0.0 or :: for every interface) or
    `localhost` (a name that does not resolve ended `serve` and `lab` in a socket traceback)."""
    import ipaddress

    if raw == "localhost":
        return raw
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise InputError(field, f"{field} {terminal_safe(raw)[:60]!r} is not an IP address (e.g. 127.0.0.1, or "
                                "0.0.0.0 for every interface)") from None


if __name__ == "__main__":
    sys.exit(main())
