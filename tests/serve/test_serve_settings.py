"""`somana serve` settings: printers from the command line or a config file, refusals for bad input,
and the login redirect that never leaves the site."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from dashboards.web_auth import _safe_next, is_protected
from somana.cli import serve
from somana_core.errors import InputError


def args(*argv):
    parser = argparse.ArgumentParser()
    serve.configure(parser)
    return parser.parse_args(list(argv))


def test_defaults_are_one_virtual_printer_and_the_sqlite_store():
    options = serve.settings(args())
    assert options["port"] == serve.DEFAULT_PORT
    assert options["printers"] == [{"name": "sim", "port": "sim"}]
    assert options["db"] is None and options["warm"]


def test_repeated_printer_options_give_distinct_printers():
    options = serve.settings(args("--printer", "sim", "--printer", "/dev/ttyUSB0", "--baud", "250000"))
    assert options["printers"] == [{"name": "sim", "port": "sim", "baud": 250000},
                                   {"name": "printer-2", "port": "/dev/ttyUSB0", "baud": 250000}]


def test_a_printer_named_on_the_command_line_keeps_its_name_so_the_plan_can_follow_it():
    options = serve.settings(args("--printer", "p1=sim", "--printer", "p2=/dev/ttyUSB0",
                                  "--printer", "rfc2217://host:4000?logging=debug"))
    assert options["printers"] == [{"name": "p1", "port": "sim"}, {"name": "p2", "port": "/dev/ttyUSB0"},
                                   {"name": "printer-3", "port": "rfc2217://host:4000?logging=debug"}]
    with pytest.raises(InputError) as refused:
        serve.settings(args("--printer", "p1="))
    assert refused.value.field == "--printer" and "has no port" in refused.value.message


def test_config_file_gives_printers_port_and_database(tmp_path):
    config = tmp_path / "somana.toml"
    config.write_text('[server]\nport = 6100\ndb = "postgresql+psycopg://floor@db/somana"\n\n'
                      '[[printers]]\nname = "mk4-left"\nport = "/dev/ttyACM0"\nbaud = 115200\n\n'
                      '[[printers]]\nname = "demo"\nport = "sim"\n')
    options = serve.settings(args("--config", str(config)))
    assert options["port"] == 6100 and options["db"].startswith("postgresql")
    assert [p["name"] for p in options["printers"]] == ["mk4-left", "demo"]
    assert serve.settings(args("--config", str(config), "--port", "7000"))["port"] == 7000


@pytest.mark.parametrize("argv", [("--port", "70000"), ("--port", "0x10"), ("--num-threads", "0"),
                                  ("--baud", "99999999999999999999")])
def test_bad_numbers_are_refused_by_the_parser_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        args(*argv)
    assert exit_.value.code == 2


@pytest.mark.parametrize("config_text, field", [
    ("[server]\nport = 70000\n", "port"), ('[server]\nport = "abc"\n', "port"),
    ("[server]\nnum_threads = 0\n", "num_threads"), ('[server]\ndb = "not a url"\n', "db"),
    ('[[printers]]\nport = "sim"\nbaud = "fast"\n', "baud"), ("server = 3\n", "--config"),
    ("not toml at all [", "--config")])
def test_bad_config_values_are_refused(tmp_path, config_text, field):
    config = tmp_path / "bad.toml"
    config.write_text(config_text)
    with pytest.raises(InputError) as err:
        serve.settings(args("--config", str(config)))
    assert err.value.field == field


@pytest.mark.parametrize("path", ["/nonexistent/somana.toml", "/tmp", "/proc/self/mem"])
def test_a_config_path_that_cannot_be_read_is_refused(path):
    with pytest.raises(InputError) as err:
        serve.settings(args("--config", path))
    assert err.value.field == "--config"


def test_config_printers_need_a_port_and_distinct_names(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[[printers]]\nname = "a"\n')
    with pytest.raises(InputError, match="needs a port"):
        serve.settings(args("--config", str(config)))
    config.write_text('[[printers]]\nname = "a"\nport = "sim"\n[[printers]]\nname = "a"\nport = "/dev/ttyUSB0"\n')
    with pytest.raises(InputError, match="must differ"):
        serve.settings(args("--config", str(config)))


def test_every_app_gets_a_route_to_its_script():
    routes = serve.app_routes()
    assert set(routes) == set(serve.APPS) and {"/", "/portfolio", "/configure", "/machines"} <= set(routes)
    assert all(Path(script).is_file() for script in routes.values())


@pytest.mark.parametrize("target, expected", [
    ("/machines", "/machines"), ("/machines?tab=2", "/machines?tab=2"), (None, "/machines"),
    ("https://evil.example/", "/machines"), ("//evil.example/x", "/machines"), ("javascript:alert(1)", "/machines")])
def test_login_only_redirects_within_the_site(target, expected):
    assert _safe_next(target) == expected


@pytest.mark.parametrize("path, protected", [("/machines", True), ("/machines/ws", True), ("/machines/", True),
                                             ("/machinesX", False), ("/", False), ("/portfolio/ws", False)])
def test_only_machine_paths_need_a_login(path, protected):
    assert is_protected(path) == protected


def test_a_port_already_listened_on_is_refused_before_anything_starts():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InputError) as err:
            serve._port_free(port, None)
    assert err.value.field == "port" and f"--port {port}" in err.value.message and "in use" in err.value.message
    serve._port_free(port, "127.0.0.1")  # free again once its listener is closed
