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


@pytest.mark.parametrize("password, words", [
    ("aaaaaaaaaa", "different characters"),
    ("1212121212ab", "different characters"),
    ("qwertyuiop", "common"),
    ("Password123", "common"),
    ("floor-is-my-password", "user name"),
])
def test_guessable_passwords_are_refused_with_the_reason(somana_home, password, words):
    with pytest.raises(InputError) as err:
        auth.add_user("floor", password)
    assert err.value.field == "password" and words in err.value.message
    assert not auth.users_path().exists()


def test_a_password_change_moves_the_session_generation_on(somana_home):
    auth.add_user("floor", "correct horse battery")
    first = auth.session_value("floor")
    assert auth.user_of_session(first) == "floor"
    auth.add_user("floor", "another horse battery")
    assert auth.user_of_session(first) is None
    assert auth.user_of_session(auth.session_value("floor")) == "floor"


def test_ending_sessions_and_removing_a_user_invalidate_their_session_values(somana_home):
    auth.add_user("floor", "correct horse battery")
    value = auth.session_value("floor")
    auth.end_sessions("floor")
    assert auth.user_of_session(value) is None
    assert auth.verify("floor", "correct horse battery")  # signing out does not lock the account
    value = auth.session_value("floor")
    auth.remove_user("floor")
    assert auth.user_of_session(value) is None and not auth.is_user("floor")
    with pytest.raises(InputError) as err:
        auth.remove_user("floor")
    assert err.value.field == "name"


@pytest.mark.parametrize("value", [None, "", "floor", "floor:", "floor:x", ":1", "ghost:1"])
def test_malformed_or_unknown_session_values_name_nobody(somana_home, value):
    auth.add_user("floor", "correct horse battery")
    assert auth.user_of_session(value) is None


def test_state_folder_is_created_owner_only(tmp_path, monkeypatch):
    from somana_core.data import private_file, state_dir

    home = tmp_path / "fresh-home"
    monkeypatch.setenv("SOMANA_HOME", str(home))
    assert stat.S_IMODE(state_dir().stat().st_mode) == 0o700
    home.chmod(0o755)
    assert stat.S_IMODE(state_dir().stat().st_mode) == 0o700  # loosened by hand: tightened again
    db = private_file(home / "orders.sqlite")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_login_throttle_grows_the_delay_and_locks_out_after_the_limit(somana_home):
    from dashboards.web_auth import FAILED_LOGIN_BASE_DELAY_S, FAILED_LOGIN_MAX_DELAY_S, LoginThrottle

    throttle = LoginThrottle(window_s=60.0, lockout_failures=5)
    keys = ["account:floor", "address:10.0.0.9"]
    delays = [throttle.record_failure(keys, now=100.0 + i) for i in range(4)]
    assert delays == [FAILED_LOGIN_BASE_DELAY_S * 2 ** i for i in range(4)]
    assert not throttle.locked(keys, now=104.0)
    assert throttle.record_failure(keys, now=104.0) <= FAILED_LOGIN_MAX_DELAY_S
    assert throttle.locked(keys, now=105.0)
    assert throttle.locked(["account:other", "address:10.0.0.9"], now=105.0)  # the address is locked too
    assert not throttle.locked(["account:other", "address:10.0.0.8"], now=105.0)
    assert not throttle.locked(keys, now=100.0 + 61.0 + 4)  # the window passed
    throttle.record_failure(keys, now=200.0)
    throttle.record_success(keys)
    assert throttle.record_failure(keys, now=201.0) == FAILED_LOGIN_BASE_DELAY_S


_LOCK_OUT_SCRIPT = """
import sys, time
from dashboards.web_auth import LoginThrottle
throttle = LoginThrottle(window_s=600.0, lockout_failures=3)
keys = ["account:floor", "address:192.0.2.7"]
if sys.argv[1] == "fail":
    for _ in range(3):
        throttle.record_failure(keys)
print("locked" if throttle.locked(keys) else "open")
"""


def test_a_lockout_outlives_a_restart_of_the_server_process(somana_home):
    """The failures are counted in the state store, not in a process: a new process sees the lockout
    the old one recorded (a restart clears nothing), and a correct login still clears it."""
    import subprocess
    import sys

    from dashboards.web_auth import LoginThrottle
    from somana_core import login_failures

    def process(mode):
        return subprocess.run([sys.executable, "-c", _LOCK_OUT_SCRIPT, mode], capture_output=True, text=True,
                              check=True, timeout=120).stdout.strip()

    assert process("check") == "open"
    assert process("fail") == "locked"  # three failures in the first process
    assert process("check") == "locked"  # a second process (the restarted server) still refuses
    assert login_failures.count() == 6  # one row per failure and key, in the SQLite file
    assert (somana_home / "orders.sqlite").exists()
    throttle = LoginThrottle(window_s=600.0, lockout_failures=3)
    assert throttle.locked(["account:other", "address:192.0.2.7"])  # the address is locked for any account
    throttle.record_success(["account:floor", "address:192.0.2.7"])
    assert process("check") == "open"


@pytest.mark.parametrize("target, expected", [
    ("/machines", "/machines"), ("/machines?printer=a", "/machines?printer=a"), (None, "/machines"),
    ("/%5Cevil.example/phish", "/machines"), ("/\\evil.example", "/machines"), ("//evil.example", "/machines"),
    ("https://evil.example/x", "/machines"), ("/%252F%252Fevil.example", "/machines"),
    ("javascript:alert(1)", "/machines"), ("/ok\r\nSet-Cookie: x=1", "/machines"), ("machines", "/machines"),
])
def test_safe_next_allows_only_same_site_paths(target, expected):
    from dashboards.web_auth import safe_next

    assert safe_next(target) == expected
