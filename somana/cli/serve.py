"""`somana serve`: every app in ONE Panel server process (one owner per serial port), fully offline.

Routes: `/` (our home page), `/portfolio`, `/configure`, `/order` (a customer's order status), `/machines` (staff login for the page and its websocket). Secrets (cookie secret, session-signing
key) are generated on first start and kept in `state_dir()`. Settings the apps read are handed
over through environment variables, so an app also works under a plain `panel serve`:

    SOMANA_DB_URL     the order store's database URL (SQLite file in state_dir() by default)
    SOMANA_PRINTERS   JSON list of {"name", "port", "baud"}; port "sim" = the built-in virtual printer
    SOMANA_BROKER     the floor's MQTT broker: /machines talks to the printers' station through it only
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import tomllib
from pathlib import Path

from somana.cli import bounded_int, listen_address, terminal_safe
from somana_core.errors import InputError

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
APPS = {"/": "home.py", "/portfolio": "portfolio.py", "/configure": "configure.py", "/machines": "machines.py", "/plan": "plan.py",
        "/order": "order.py"}  # /order?key=KEY: a customer's order status (public; the key is the capability)
DEFAULT_PORT = 5006
DEFAULT_THREADS = 4  # blocking work (slicing, serial waits) runs beside the event loop, not in it
THREADS_RANGE = (1, 64)
BAUD_RANGE = (300, 4_000_000)
ORIGIN = re.compile(r"[A-Za-z0-9.*-]{1,253}(:(\d{1,5}|\*))?")  # Bokeh's allow-list entry, HOST[:PORT], * wildcards
MAX_UPLOAD_BYTES = 128 * 1024 * 1024  # a long print's G-code uploaded on /machines (Bokeh's default is 20 MB)


def configure(parser):
    parser.add_argument("--port", type=bounded_int("port", 1, 65535), default=None,
                        help=f"HTTP port (default {DEFAULT_PORT})")
    parser.add_argument("--address", default=None, help="listen address (default: all interfaces)")
    parser.add_argument("--printer", action="append", default=None, metavar="[NAME=]sim|PORT",
                        help="a printer: 'sim' for the built-in virtual printer or a serial port / pyserial URL, "
                             "NAME= to name it as data/printers.csv does so the plan follows it "
                             "(repeatable; default: one virtual printer)")
    parser.add_argument("--baud", type=bounded_int("baud", *BAUD_RANGE), default=None,
                        help="baud rate for --printer ports (default 115200)")
    parser.add_argument("--db", default=None, metavar="URL", help="order store database URL (default: SQLite in state dir)")
    parser.add_argument("--broker", default=None, metavar="URL",
                        help="MQTT broker of the floor's stations (default: a private Mosquitto and one station here)")
    parser.add_argument("--config", default=None, metavar="FILE",
                        help="TOML file: [server] port/address/db/num_threads/allow_websocket_origin, "
                             "[[printers]] name/port/baud")
    parser.add_argument("--num-threads", type=bounded_int("num-threads", *THREADS_RANGE), default=None,
                        help=f"worker threads (default {DEFAULT_THREADS})")
    parser.add_argument("--allow-websocket-origin", action="append", default=None, metavar="HOST[:PORT]",
                        help="extra host allowed to open websockets (e.g. the floor PC's name)")
    parser.add_argument("--no-warm", action="store_true", help="do not run each app once before serving")
    parser.add_argument("--workers", default=None, metavar="URL",
                        help="Dask scheduler for CAD and slicing, e.g. tcp://HOST:8786 (add machines with "
                             "`dask worker tcp://HOST:8786`); default: a local cluster, one worker per core")


def load_config(path: str | None) -> dict:
    if path is None:
        return {}
    shown = terminal_safe(path)
    try:
        with open(path, "rb") as handle:
            config = tomllib.load(handle)
    except FileNotFoundError:
        raise InputError("--config", f"--config {shown}: no such file") from None
    except IsADirectoryError:
        raise InputError("--config", f"--config {shown} is a folder: name a TOML file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError("--config", f"--config {shown} is not valid TOML: {terminal_safe(exc)}") from None
    except OSError as exc:
        raise InputError("--config", f"--config {shown} cannot be read: {exc.strerror}") from None
    if not isinstance(config.get("server", {}), dict) or not isinstance(config.get("printers", []), list):
        raise InputError("--config", f"--config {shown}: [server] must be a table and [[printers]] a list of tables")
    return config


def _config_int(field: str, value, low: int, high: int) -> int:
    """A whole number from the config file, in low..high."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(field, f"{field} = {terminal_safe(value)[:30]} in --config is not a whole number "
                                f"from {low} to {high}")
    return value


def printer_specs(cli_printers: list[str] | None, baud: int | None, config: dict) -> list[dict]:
    """The printers to serve: command line first, then the config file, else one virtual printer."""
    if cli_printers:
        from somana_core.floor.bus import NAME_PATTERN

        specs = []
        for i, value in enumerate(cli_printers):  # NAME=PORT as `somana station` reads it
            name, sep, port = value.partition("=")
            if not (sep and NAME_PATTERN.fullmatch(name.strip())):  # a port (a pyserial URL may hold '=')
                name, port = ("sim" if value == "sim" else f"printer-{i + 1}"), value
            if not port.strip():
                raise InputError("--printer", f"--printer {value!r} has no port (use sim, a device path or NAME=PORT)")
            specs.append({"name": name.strip(), "port": port.strip()})
        names = [s["name"] for s in specs]
        for i, spec in enumerate(specs):  # several virtual printers need distinct names
            if names.count(spec["name"]) > 1:
                spec["name"] = f"{spec['name']}-{i + 1}"
        if baud:
            for spec in specs:
                spec["baud"] = baud
    elif config.get("printers"):
        specs = []
        for i, entry in enumerate(config["printers"]):
            if not isinstance(entry, dict) or not entry.get("port"):
                raise InputError("printers", f"[[printers]] entry {i + 1} needs a port ('sim' or a device path)")
            specs.append({"name": str(entry.get("name") or f"printer-{i + 1}"), "port": str(entry["port"]),
                          **({"baud": _config_int("baud", entry["baud"], *BAUD_RANGE)} if entry.get("baud") else {})})
    else:
        specs = [{"name": "sim", "port": "sim"}]
    names = [s["name"] for s in specs]
    if len(set(names)) != len(names):
        raise InputError("printers", f"printer names must differ: {names}")
    return specs


def settings(args) -> dict:
    config = load_config(args.config)
    server = config.get("server", {})
    port = args.port if args.port is not None else _config_int("port", server.get("port", DEFAULT_PORT), 1, 65535)
    threads = args.num_threads if args.num_threads is not None else \
        _config_int("num_threads", server.get("num_threads", DEFAULT_THREADS), *THREADS_RANGE)
    origins = list(args.allow_websocket_origin or server.get("allow_websocket_origin", []))
    for origin in origins:  # Bokeh's own check ended in a traceback ('') or let control characters through
        if not ORIGIN.fullmatch(str(origin)):
            raise InputError("allow_websocket_origin", f"--allow-websocket-origin {terminal_safe(str(origin))[:60]!r} "
                                                       "is not HOST[:PORT] (e.g. shop.example:443)")
    address = args.address if args.address is not None else server.get("address")
    if address is not None:
        address = listen_address("--address", str(address))
    if args.workers is not None and not args.workers.strip():
        raise InputError("workers", "--workers is empty: give the Dask scheduler's URL (tcp://HOST:8786) or leave "
                                    "the option out for workers on this machine")
    db = args.db or server.get("db")
    if db is not None:
        from somana_core.orders import check_url

        check_url(str(db))
    return {
        "port": port,
        "address": address,
        "db": db,
        "num_threads": threads,
        "printers": printer_specs(args.printer, args.baud, config),
        "origins": origins,
        "warm": not args.no_warm,
        "workers": args.workers or server.get("workers"),
    }


def app_routes() -> dict[str, str]:
    """Route -> script path of every app."""
    return {route: str(DASHBOARDS / name) for route, name in APPS.items()}


def _port_free(port: int, address: str | None) -> None:
    """Refuse a port something already listens on, before anything is started (Tornado binds the same way)."""
    from tornado.netutil import bind_sockets

    try:
        for sock in bind_sockets(port, address=address):
            sock.close()
    except OSError as exc:
        raise InputError("port", f"--port {port}: cannot listen there ({exc.strerror}); another server may be "
                                 "using it: choose another --port") from None


def run(args) -> int:
    options = settings(args)
    _port_free(options["port"], options["address"])
    from somana_core import auth

    secrets_ = auth.server_secrets()
    # Before Bokeh is imported: its defaults read these at import time.
    os.environ["BOKEH_SECRET_KEY"] = secrets_["session_secret"]
    os.environ["BOKEH_SIGN_SESSIONS"] = "yes"
    os.environ["SOMANA_PRINTERS"] = json.dumps(options["printers"])
    if options["db"]:
        from somana_core.orders import DB_URL_ENV

        os.environ[DB_URL_ENV] = options["db"]  # read by orders.default_url() in the apps and the station

    import panel as pn

    from dashboards import web_auth

    pn.config.nthreads = options["num_threads"]
    pn.config.cookie_secret = secrets_["cookie_secret"]
    if not auth.load_users():
        print("somana serve: no staff login yet; /machines stays locked until `somana users add NAME`")

    import atexit

    from dashboards.machine_hosts import web_routes
    from somana.cli.station import start_for_serve

    # /machines talks to printers only through the bus: a private Mosquitto and one station child
    # for --printer (or the given --broker); stopped at exit, the station making its printers safe.
    atexit.register(start_for_serve(options["printers"], getattr(args, "broker", None), options["db"]).stop)
    _start_live_plan()
    # CAD and slicing run in worker processes (somana_core.workers), never in this one; their
    # warm-up (CadQuery import, each family's default built) happens before anyone is served.
    from somana_core import workers

    print(f"somana serve: {workers.serve_pool(options['workers'], warm=options['warm'])}", flush=True)
    port = options["port"]
    origins = [f"localhost:{port}", f"127.0.0.1:{port}"] + options["origins"]
    routes = app_routes()
    print(f"somana serve: http://localhost:{port}/  apps: {', '.join(routes)}  "
          f"printers: {', '.join(p['name'] + '=' + p['port'] for p in options['printers'])}", flush=True)
    from panel.io.server import get_server

    # `kill` (SIGTERM) ends the server like Ctrl-C does, so the printers are disconnected cleanly
    # (heaters off by the host) by the registry's exit handler instead of dying mid-stream.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    # Every page carries the staff user's name (or none) in its signed session token; the cookie
    # itself (and the Cookie header) stays out of the token, so no script in the page can read it.
    routes = {route: web_auth.application_with_staff_user(script) for route, script in routes.items()}
    from dashboards.closed_tabs import quiet_closed_tabs

    quiet_closed_tabs()  # a tab closed mid-update is logged as one line, not as a WebSocketClosedError traceback
    get_server(
        routes,
        port=port,
        address=options["address"],
        websocket_origin=origins,
        show=False,
        start=True,
        title={"/": "Somana", "/portfolio": "Somana · portfolio", "/configure": "Somana · configure",
               "/machines": "Somana · machines", "/plan": "Somana · plan",
               "/order": "Somana · your order"},
        warm=options["warm"],
        cookie_secret=secrets_["cookie_secret"],
        auth_provider=web_auth.StaffAuthProvider(),
        secret_key=secrets_["session_secret"].encode("utf-8"),
        sign_sessions=True,
        num_procs=1,
        websocket_max_message_size=MAX_UPLOAD_BYTES,
        exclude_cookies=web_auth.SECRET_COOKIES,
        exclude_headers=web_auth.SECRET_HEADERS,
        static_dirs=_static_dirs(),
        extra_patterns=web_routes(),  # the /machines e-stop fast path
    )
    return 0


def _start_live_plan() -> None:
    """The floor's plan lives in this process, fed by the stations' bus (somana_core.scheduling.live):
    /plan draws it and /configure promises from it. Built in the background (a first solve takes seconds)."""
    import threading

    from somana_core.floor.bus import BROKER_ENV
    from somana_core.scheduling import live

    def build():
        try:
            live.start(broker_url=os.environ.get(BROKER_ENV))
        except Exception as exc:  # noqa: BLE001 - no plan yet: /plan and the promise build their own
            print(f"somana serve: live plan not started: {exc}", flush=True)

    threading.Thread(target=build, name="somana live plan start", daemon=True).start()


def _static_dirs() -> dict[str, str]:
    """Local assets (the configurator's vendored three.js) where `dashboards.viewer` says they are."""
    from dashboards.viewer import STATIC_DIR, STATIC_URL

    return {STATIC_URL.strip("/"): str(STATIC_DIR)} if Path(STATIC_DIR).is_dir() else {}
