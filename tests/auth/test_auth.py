"""Staff logins: salted hashes only, no default user, clear refusals for bad names and passwords."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from somana_core import auth
from somana_core.errors import InputError


def test_no_user_exists_until_one_is_added(somana_home):
    assert auth.load_users() == {}
    assert not auth.verify("floor", "anything-at-all")


def test_added_user_verifies_with_its_password_only(somana_home):
    assert auth.add_user("floor", "correct horse battery")
    assert auth.verify("floor", "correct horse battery")
    assert not auth.verify("floor", "correct horse battery!")
    assert not auth.verify("other", "correct horse battery")


def test_users_file_holds_salted_hashes_not_passwords(somana_home):
    auth.add_user("floor", "correct horse battery")
    auth.add_user("night", "correct horse battery")
    path = auth.users_path()
    text = path.read_text()
    assert "correct horse battery" not in text
    users = json.loads(text)
    assert users["floor"]["salt"] != users["night"]["salt"]
    assert users["floor"]["hash"] != users["night"]["hash"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_replacing_a_user_changes_the_password(somana_home):
    assert auth.add_user("floor", "first password 1")
    assert not auth.add_user("floor", "second password 2")
    assert auth.verify("floor", "second password 2")
    assert not auth.verify("floor", "first password 1")


@pytest.mark.parametrize("password, words", [("", "empty"), ("short", "minimum"), (" padded-password ", "white space")])
def test_bad_passwords_are_refused_with_the_reason(somana_home, password, words):
    with pytest.raises(InputError) as err:
        auth.add_user("floor", password)
    assert err.value.field == "password" and words in err.value.message
    assert not auth.users_path().exists()


@pytest.mark.parametrize("name", ["", "a", "Floor", "has space", "../etc", "x" * 40])
def test_bad_names_are_refused(somana_home, name):
    with pytest.raises(InputError) as err:
        auth.add_user(name, "a good long password")
    assert err.value.field == "name"


def test_server_secrets_are_generated_once_and_kept(somana_home):
    first = auth.server_secrets()
    assert len(first["cookie_secret"]) >= 40 and first["cookie_secret"] != first["session_secret"]
    assert auth.server_secrets() == first
    assert stat.S_IMODE((somana_home / auth.SECRETS_FILE).stat().st_mode) == 0o600


def test_users_add_command_reads_the_password_from_stdin(somana_home):
    run = subprocess.run([sys.executable, "-m", "somana", "users", "add", "floor", "--password-stdin"],
                         input="from-stdin-password\n", text=True, capture_output=True)
    assert run.returncode == 0, run.stderr
    assert auth.verify("floor", "from-stdin-password")


def test_users_add_command_refuses_a_short_password_with_exit_2(somana_home):
    run = subprocess.run([sys.executable, "-m", "somana", "users", "add", "floor", "--password-stdin"],
                         input="short\n", text=True, capture_output=True)
    assert run.returncode == 2
    assert "minimum" in run.stderr and run.stderr.count("\n") == 1
    assert auth.load_users() == {}
