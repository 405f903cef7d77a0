"""The server's staff login: a Bokeh auth provider over `somana_core.auth`, with our own login page.

Public pages (home, portfolio, configure) are open to anyone; every request under `/machines`
(the page AND its websocket) needs the signed `user` cookie of a staff login. The login page is
one self-contained HTML file (inline CSS, no fonts or images from anywhere).
"""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from string import Template
from urllib.parse import urlparse

from bokeh.server.auth_provider import AuthProvider
from tornado.ioloop import IOLoop
from tornado.web import RequestHandler

from somana_core import auth

TEMPLATES = Path(__file__).resolve().parent / "templates"
PROTECTED_PREFIXES = ("/machines",)
LOGIN_URL = "/login"
LOGOUT_URL = "/logout"
COOKIE_DAYS = 1  # a floor shift; the cookie is signed with the server's cookie secret
FAILED_LOGIN_DELAY_S = 1.0  # slows password guessing without blocking anyone else (the wait is async)


def is_protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES)


def staff_user(handler: RequestHandler) -> str | None:
    """The staff login named by the request's signed cookie, if that user still exists."""
    raw = handler.get_secure_cookie("user", max_age_days=COOKIE_DAYS)
    if not raw:
        return None
    name = raw.decode("utf-8")
    return name if auth.is_user(name) else None


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would let a link send a logged-in user anywhere."""
    if not target:
        return "/machines"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/machines"
    return target


class LoginHandler(RequestHandler):
    def _page(self, message: str = "", status: int = 200) -> None:
        page = Template((TEMPLATES / "login.html").read_text())
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.write(page.substitute(
            next=html.escape(_safe_next(self.get_argument("next", None)), quote=True),
            message=html.escape(message),
            message_class="error" if message else "hidden",
        ))

    def get(self):
        self._page()

    async def post(self):
        name = self.get_argument("username", "").strip()
        password = self.get_argument("password", "")
        # scrypt takes tens of milliseconds: keep it off the event loop
        ok = await IOLoop.current().run_in_executor(None, auth.verify, name, password)
        if not ok:
            await asyncio.sleep(FAILED_LOGIN_DELAY_S)
            self._page("Unknown user or wrong password.", status=401)
            return
        self.set_secure_cookie("user", name, expires_days=COOKIE_DAYS, httponly=True, samesite="Lax")
        self.redirect(_safe_next(self.get_argument("next", None)))


class LogoutHandler(RequestHandler):
    def get(self):
        self.clear_cookie("user")
        self.redirect("/")


class StaffAuthProvider(AuthProvider):
    """Guests everywhere except under /machines, where only a signed staff cookie gets through."""

    @property
    def get_user(self):
        def get_user(handler):
            user = staff_user(handler)
            if user:
                return user
            return None if is_protected(handler.request.path) else "guest"
        return get_user

    @property
    def login_url(self):
        return LOGIN_URL

    @property
    def login_handler(self):
        return LoginHandler

    @property
    def logout_url(self):
        return LOGOUT_URL

    @property
    def logout_handler(self):
        return LogoutHandler
