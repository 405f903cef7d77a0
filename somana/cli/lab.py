"""`somana lab`: JupyterLab on the founders' notebooks, set up to draw every chart offline.

Inside JupyterLab, HoloViews and Panel load Bokeh's and Panel's JavaScript and stylesheets from
their CDNs unless told otherwise, and offline that leaves every chart blank. The notebooks ask for
inline JavaScript themselves (`pn.extension(..., inline=True)`, `hv.extension("bokeh", inline=True)`);
Panel's stylesheets still come from `PANEL_CDN_ROOT`, so this command serves Panel's own `dist`
folder through the Jupyter server's static files and points the kernels' `PANEL_CDN_ROOT` at it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATIC_NAME = "panel-cdn"  # served as <base_url>static/panel-cdn/<panel version>/dist/...


def configure(parser):
    parser.add_argument("--port", type=int, default=8888, help="HTTP port (default 8888)")
    parser.add_argument("--ip", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--token", default=None, help="access token (default: JupyterLab generates one)")
    parser.add_argument("--notebook-dir", default=str(REPO / "notebooks"), metavar="DIR",
                        help="folder to open (default: the repository's notebooks/)")


PANEL_DIST_PARTS = ("css", "images", "bundled/theme", "bundled/reactiveesm")  # what notebook output loads


def offline_static_dir(state: Path) -> Path:
    """A folder whose `panel-cdn/<version>/dist` holds Panel's stylesheets and images (copied once;
    the Jupyter server refuses symlinks that leave its static folders)."""
    import shutil

    from panel.io.resources import DIST_DIR, JS_VERSION

    root = state / "jupyter-static"
    dist = root / STATIC_NAME / JS_VERSION / "dist"
    for part in PANEL_DIST_PARTS:
        if not (dist / part).is_dir():
            shutil.copytree(Path(DIST_DIR) / part, dist / part, dirs_exist_ok=True)
    return root


def lab_environment(ip: str, port: int, base_url: str = "/") -> dict[str, str]:
    """The server's (and so the kernels') environment: the project importable, Panel's CDN local.

    The root is an absolute URL: Panel turns a bare path into one relative to the notebook's page.
    """
    env = dict(os.environ)
    host = "localhost" if ip in ("", "0.0.0.0", "::", "127.0.0.1") else ip
    env["PANEL_CDN_ROOT"] = f"http://{host}:{port}{base_url}static/{STATIC_NAME}/"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def lab_command(args, static_dir: Path) -> list[str]:
    argv = [sys.executable, "-m", "jupyterlab", f"--port={args.port}", f"--ip={args.ip}",
            f"--ServerApp.root_dir={args.notebook_dir}", f"--ServerApp.extra_static_paths={[str(static_dir)]!r}",
            "--ServerApp.port_retries=0"]
    if args.no_browser:
        argv.append("--no-browser")
    if args.token is not None:
        argv.append(f"--IdentityProvider.token={args.token}")
    if os.geteuid() == 0:
        argv.append("--allow-root")
    return argv


def run(args) -> int:
    from somana.cli import listen_address
    from somana_core.data import state_dir
    from somana_core.errors import InputError

    if not 0 < args.port < 65536:
        raise InputError("--port", f"--port {args.port} is outside 1-65535")
    if not args.notebook_dir.strip() or not Path(args.notebook_dir).is_dir():  # '' would be the current folder
        raise InputError("--notebook-dir", f"--notebook-dir {args.notebook_dir!r}: no such folder")
    listen_address("--ip", args.ip)
    static_dir = offline_static_dir(state_dir())
    argv = lab_command(args, static_dir)
    os.execve(argv[0], argv, lab_environment(args.ip, args.port))
    return 0  # not reached: JupyterLab replaces this process
