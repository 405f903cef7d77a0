"""The `somana` command line: one module per sub-command, imported only when it runs.

Each sub-command module defines `configure(parser)` and `run(args) -> int`. Modules must keep
heavy imports (CadQuery, Panel) inside `run`, so `somana --help` and `somana families` start fast.
Bad input raises `InputError`: a one-line message on stderr and exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
import importlib
import sys

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
    "station": ("somana.cli.station", "own printers and run their jobs over the MQTT bus"),
    "printers": ("somana.cli.printers", "every printer of every station on the bus"),
    "estop": ("somana.cli.estop", "emergency stop through the bus (PRINTER or --all)"),
    "plan": ("somana.cli.plan", "the current schedule of every printer"),
    "simulate": ("somana.cli.simulate", "a simulated factory week under a scheduling policy"),
}


def _available_commands():
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # not built yet
            raise
        yield name, module, help_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="somana", description="Somana batch-of-one micro-factory")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module, help_text in _available_commands():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except InputError as exc:
        print(f"somana {args.command}: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"somana {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`somana families | head`): not an error of ours
        sys.stderr.close()
        return 0


def parse_assignments(pairs: list[str] | None) -> dict[str, str]:
    """`--set name=value` pairs as a dict of strings (the spec converts and validates them)."""
    values: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError("--set", f"--set {pair!r} is not of the form name=value")
        values[name.strip()] = value
    return values


if __name__ == "__main__":
    sys.exit(main())
