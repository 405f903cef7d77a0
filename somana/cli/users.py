"""`somana users add|remove|list`: staff logins for the machine-control app."""

from __future__ import annotations

import getpass
import sys


def configure(parser):
    sub = parser.add_subparsers(dest="users_command", metavar="ACTION")
    sub.required = True
    add = sub.add_parser("add", help="create or replace a staff login (asks for the password twice)")
    add.add_argument("name", help="login name, e.g. floor")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input (for scripts)")
    sub.add_parser("list", help="list staff logins (names only)")
    remove = sub.add_parser("remove", help="delete a staff login (its open sessions end)")
    remove.add_argument("name", help="login name")


def _read_password(args) -> str:
    from somana_core.errors import InputError

    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("password", "no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass(f"Password for {args.name}: ")
    second = getpass.getpass("Same password again: ")
    if first != second:
        raise InputError("password", "the two passwords differ")
    return first


def run(args) -> int:
    from somana_core import auth

    if args.users_command == "list":
        for name in sorted(auth.load_users()):
            print(name)
        return 0
    if args.users_command == "remove":
        auth.remove_user(args.name)
        print(f"removed user {args.name}; their sessions have ended")
        return 0
    auth.check_user_name(args.name)  # before asking for a password
    password = _read_password(args)
    is_new = auth.add_user(args.name, password)
    print(f"{'added' if is_new else 'replaced'} user {args.name} in {auth.users_path()}")
    return 0
