"""Staff logins for the machine-control app: a users file of salted scrypt hashes, and the server's secrets.

Both live in `state_dir()`, created with owner-only permissions. There is no default user and no
default password: `somana users add NAME` is the only way in. No Panel import here (the server and
the command line both use this module).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

from somana_core.data import state_dir
from somana_core.errors import InputError

USERS_FILE = "users.json"
SECRETS_FILE = "server_secrets.json"

MIN_PASSWORD_LENGTH = 10  # characters; a floor login guards heaters and motors
MAX_PASSWORD_LENGTH = 1024
MIN_DISTINCT_CHARACTERS = 6  # 'aaaaaaaaaa' and '1212121212' are long but guessable
USER_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
USER_NAME_RULE = "2-32 characters: a lower-case letter, then lower-case letters, digits, '_', '.' or '-'"

# scrypt cost: about 50 ms and 16 MB per check on this class of machine (slow enough against guessing)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32


def users_path() -> Path:
    return state_dir() / USERS_FILE


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, replacing any old one atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def check_user_name(name: str) -> str:
    if not isinstance(name, str) or not USER_NAME.match(name):
        raise InputError("name", f"user name {name!r} is not allowed: {USER_NAME_RULE}")
    return name


def check_password(password: str, name: str | None = None) -> str:
    if not password:
        raise InputError("password", "the password is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError("password", f"the password has {len(password)} characters; "
                                     f"the minimum is {MIN_PASSWORD_LENGTH}")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError("password", f"the password has {len(password)} characters; "
                                     f"the maximum is {MAX_PASSWORD_LENGTH}")
    if password != password.strip():
        raise InputError("password", "the password starts or ends with white space")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise InputError("password", f"the password has only {len(set(password))} different characters; "
                                     f"use at least {MIN_DISTINCT_CHARACTERS}")
    folded = password.lower()
    if name and name.lower() in folded:
        raise InputError("password", "the password contains the user name")
    if folded in _common_passwords() or _is_run(folded):
        raise InputError("password", "the password is on the list of common passwords or is a keyboard run; "
                                     "choose a less guessable one")
    return password


def _common_passwords() -> frozenset[str]:
    """Passwords that guessing tools try first (data/common_passwords.txt, one per line)."""
    from somana_core.data import data_path

    lines = data_path("common_passwords.txt").read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _is_run(text: str) -> bool:
    """A straight run such as 'abcdefghij', '0123456789' or 'qwertyuiop' (ascending or descending)."""
    for row in ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"):
        if text in row or text in row[::-1]:
            return True
    return False


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=HASH_BYTES)


def hash_password(password: str) -> dict:
    """A salted scrypt record for one password (the password itself is never stored)."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {"algorithm": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
            "salt": salt.hex(), "hash": digest.hex()}


def load_users() -> dict[str, dict]:
    path = users_path()
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def _save_users(users: dict[str, dict]) -> None:
    _write_private(users_path(), json.dumps(users, indent=2, sort_keys=True))


def add_user(name: str, password: str) -> bool:
    """Create or replace a staff login. Returns True if the user is new.

    Replacing a password moves the user to a new session generation: every browser still signed
    in with the old password is signed out (its cookie names the old generation).
    """
    check_user_name(name)
    check_password(password, name)
    users = load_users()
    is_new = name not in users
    generation = 1 if is_new else int(users[name].get("generation", 1)) + 1
    users[name] = {**hash_password(password), "generation": generation}
    _save_users(users)
    return is_new


def remove_user(name: str) -> None:
    """Delete a staff login; its open sessions end (the page and websocket check the users file)."""
    check_user_name(name)
    users = load_users()
    if name not in users:
        raise InputError("name", f"there is no staff user {name!r} (see `somana users list`)")
    del users[name]
    _save_users(users)


def session_generation(name: str | None) -> int | None:
    """The user's current session generation, or None if there is no such user."""
    record = load_users().get(name) if name else None
    return None if record is None else int(record.get("generation", 1))


def end_sessions(name: str) -> None:
    """Sign a user out everywhere (logout): cookies of the old generation stop working."""
    users = load_users()
    if name in users:
        users[name]["generation"] = int(users[name].get("generation", 1)) + 1
        _save_users(users)


def session_value(name: str) -> str:
    """What the signed staff cookie carries: the user and the generation it was issued in."""
    return f"{name}:{session_generation(name)}"


def user_of_session(value: str | None) -> str | None:
    """The user a (signature-checked) session value names, if that user and generation still hold."""
    if not value or ":" not in value:
        return None
    name, _, generation = value.rpartition(":")
    current = session_generation(name)
    return name if current is not None and generation == str(current) else None


def verify(name: str, password: str) -> bool:
    """True if `name` is a staff user and `password` is theirs. Takes the same time for unknown names."""
    record = load_users().get(name) if isinstance(name, str) else None
    if record is None or record.get("algorithm") != "scrypt":
        # spend the same work so a caller cannot tell unknown names from wrong passwords
        _scrypt(password or "", b"\0" * SALT_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    digest = _scrypt(password or "", bytes.fromhex(record["salt"]), record["n"], record["r"], record["p"])
    return hmac.compare_digest(digest.hex(), record["hash"])


def is_user(name: str | None) -> bool:
    return bool(name) and name in load_users()


def server_secrets() -> dict[str, str]:
    """The cookie secret and the session-signing key, generated on first start and kept in state_dir()."""
    path = state_dir() / SECRETS_FILE
    if path.exists():
        stored = json.loads(path.read_text())
        if stored.get("cookie_secret") and stored.get("session_secret"):
            return stored
    stored = {"cookie_secret": secrets.token_urlsafe(48), "session_secret": secrets.token_urlsafe(48)}
    _write_private(path, json.dumps(stored))
    return stored
