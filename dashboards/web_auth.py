"""The server's staff login: a Bokeh auth provider over `somana_core.auth`, with our own login page.

Public pages (home, portfolio, configure) are open to anyone; every request under a protected
prefix (`/machines`, `/plan`: the page AND its websocket) needs the signed `user` cookie of a staff
login. The login page is one self-contained HTML file (inline CSS, no fonts or images from anywhere).

What keeps the login honest:
- the cookie names the user AND the user's session generation: a password change, `somana users
  remove` or a logout (POST) moves the generation on, so every old cookie stops opening the page
  and its websocket at once (not after the cookie's day);
- failed logins are throttled per account and per address with a growing delay, and locked out
  (logged) after `LOCKOUT_FAILURES` failures in `LOCKOUT_WINDOW_S`, counted in the state store so a
  restart does not clear a lockout;
- forms carry Tornado's XSRF token and POSTs from another origin are refused;
- `next` redirects only to same-site paths, checked after normalising backslashes and escapes;
- the cookie never enters the page: the server is told to leave it (and the Cookie header) out of
  Bokeh's session token, and hands the page only the user's name through `StaffUserHandler`.
"""

from __future__ import annotations

import asyncio
import html
import logging
from pathlib import Path
from string import Template
from urllib.parse import unquote, urlparse

from bokeh.application.handlers.handler import Handler
from bokeh.server.auth_provider import AuthProvider
from tornado.ioloop import IOLoop
from tornado.web import HTTPError, RequestHandler, decode_signed_value

from somana_core import auth, login_failures

log = logging.getLogger("somana.login")

TEMPLATES = Path(__file__).resolve().parent / "templates"
PROTECTED_PREFIXES = ("/machines", "/plan")
LOGIN_URL = "/login"
LOGOUT_URL = "/logout"
COOKIE_NAME = "user"
COOKIE_DAYS = 1  # a floor shift; the cookie is signed with the server's cookie secret
TOKEN_PAYLOAD_KEY = "somana_staff_user"
# Cookies and headers Bokeh must not copy into the page's session token (a script could read them).
SECRET_COOKIES = [COOKIE_NAME, "_xsrf"]
SECRET_HEADERS = ["Cookie", "Authorization"]

FAILED_LOGIN_BASE_DELAY_S = 0.5  # doubled per recent failure of the account or address...
FAILED_LOGIN_MAX_DELAY_S = 8.0  # ...up to this
LOCKOUT_FAILURES = 10  # failures of one account or one address within the window lock it
LOCKOUT_WINDOW_S = 15 * 60.0


def is_protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES)


def _cookie_secret() -> str:
    return auth.server_secrets()["cookie_secret"]


def user_from_cookie(signed_value: str | bytes | None) -> str | None:
    """The staff user a signed cookie value names, if its signature, user and generation still hold."""
    if not signed_value:
        return None
    raw = decode_signed_value(_cookie_secret(), COOKIE_NAME, signed_value, max_age_days=COOKIE_DAYS)
    return auth.user_of_session(raw.decode("utf-8")) if raw else None


def staff_user(handler: RequestHandler) -> str | None:
    """The staff login named by the request's signed cookie, if it is still valid."""
    return user_from_cookie(handler.get_cookie(COOKIE_NAME))


def safe_next(target: str | None, default: str = "/machines") -> str:
    """Only same-site paths: an open redirect would let a link send a logged-in user anywhere.

    Browsers read `\\` as `/` and decode escapes, so `/%5Cevil.example` is `//evil.example`:
    normalise first, then require one leading slash and no scheme or host.
    """
    if not target or len(target) > 2000:
        return default
    normalised = unquote(unquote(target)).replace("\\", "/")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in normalised):
        return default
    parsed = urlparse(normalised)
    if parsed.scheme or parsed.netloc or not normalised.startswith("/") or normalised.startswith("//"):
        return default
    return target if target == normalised else normalised


_safe_next = safe_next  # the name earlier tests used


class LoginThrottle:
    """Growing delays and a lockout for failed logins, per account and per address.

    The failures are kept in the factory's state store (`somana_core.login_failures`: a table beside
    the orders, the SQLite file by default), not in this process: restarting the server keeps a
    lockout, and several web processes on one database share the count. Times are wall-clock
    seconds since the epoch for the same reason. `url=None`: the default store, read at each call
    (so a test's SOMANA_HOME applies)."""

    def __init__(self, window_s: float = LOCKOUT_WINDOW_S, lockout_failures: int = LOCKOUT_FAILURES,
                 url: str | None = None):
        self.window_s = window_s
        self.lockout_failures = lockout_failures
        self.url = url

    def locked(self, keys: list[str], now: float | None = None) -> bool:
        recent = login_failures.recent(keys, self.window_s, url=self.url, now=now)
        return any(len(times) >= self.lockout_failures for times in recent.values())

    def record_failure(self, keys: list[str], now: float | None = None) -> float:
        """Count a failure; return the delay (s) the reply should wait, longer for repeat offenders."""
        counts = login_failures.record(keys, self.window_s, url=self.url, now=now)
        for key, count in zip(keys, counts):
            if count == self.lockout_failures:
                log.warning("login locked out for %s after %d failures in %.0f min",
                            key, count, self.window_s / 60)
        return min(FAILED_LOGIN_BASE_DELAY_S * 2 ** (max(counts) - 1), FAILED_LOGIN_MAX_DELAY_S)

    def record_success(self, keys: list[str]) -> None:
        login_failures.clear(keys, url=self.url)


THROTTLE = LoginThrottle()


class _FormHandler(RequestHandler):
    """Shared by login and logout: XSRF token on every form, same-origin POSTs only."""

    def check_same_origin(self) -> None:
        host = self.request.host
        origin = self.request.headers.get("Origin") or self.request.headers.get("Referer")
        if origin and urlparse(origin).netloc != host:
            raise HTTPError(403, "cross-origin form post refused")
        self.check_xsrf_cookie()

    def prepare(self):
        if self.request.method == "POST":
            self.check_same_origin()

    def _set_xsrf_cookie(self) -> str:
        token = self.xsrf_token  # sets the _xsrf cookie
        return token.decode("ascii") if isinstance(token, bytes) else token


class LoginHandler(_FormHandler):
    def _page(self, message: str = "", status: int = 200) -> None:
        page = Template((TEMPLATES / "login.html").read_text())
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.write(page.substitute(
            next=html.escape(safe_next(self.get_argument("next", None)), quote=True),
            message=html.escape(message),
            message_class="error" if message else "hidden",
            xsrf=html.escape(self._set_xsrf_cookie(), quote=True),
        ))

    def get(self):
        self._page()

    async def post(self):
        name = self.get_argument("username", "").strip()[:64]
        password = self.get_argument("password", "")[: auth.MAX_PASSWORD_LENGTH + 1]
        keys = [f"account:{name.lower()}", f"address:{self.request.remote_ip}"]
        loop = IOLoop.current()
        # the counts are in the database (a write is an fsync): off the event loop, like scrypt
        if await loop.run_in_executor(None, THROTTLE.locked, keys):
            self._page("Too many failed sign-ins: this login is locked for 15 minutes. "
                       "Ask a supervisor if you need in sooner.", status=429)
            return
        # scrypt takes tens of milliseconds: keep it off the event loop
        ok = await loop.run_in_executor(None, auth.verify, name, password)
        if not ok:
            await asyncio.sleep(await loop.run_in_executor(None, THROTTLE.record_failure, keys))
            self._page("Unknown user or wrong password.", status=401)
            return
        await loop.run_in_executor(None, THROTTLE.record_success, keys)
        self.set_secure_cookie(COOKIE_NAME, auth.session_value(name), expires_days=COOKIE_DAYS,
                               httponly=True, samesite="Strict")
        self.redirect(safe_next(self.get_argument("next", None)))


class LogoutHandler(_FormHandler):
    """GET shows a one-button form; POST signs the user out on every device."""

    def get(self):
        token = html.escape(self._set_xsrf_cookie(), quote=True)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.write(Template((TEMPLATES / "logout.html").read_text()).substitute(xsrf=token))

    def post(self):
        user = staff_user(self)
        if user:
            auth.end_sessions(user)
        self.clear_cookie(COOKIE_NAME)
        self.redirect("/")


class StaffAuthProvider(AuthProvider):
    """Guests everywhere except under the protected prefixes, where only a valid staff cookie gets through."""

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


class StaffUserHandler(Handler):
    """Adds the staff user's NAME (never the cookie) to a page's signed session token."""

    def modify_document(self, doc) -> None:  # the app's own script draws the page
        pass

    def process_request(self, request) -> dict:
        cookie = request.cookies.get(COOKIE_NAME)
        user = user_from_cookie(cookie.value if cookie else None)
        return {TOKEN_PAYLOAD_KEY: auth.session_value(user) if user else None}


def application_with_staff_user(script: str):
    """A Bokeh application for a page's script whose session token carries the staff user's name."""
    from panel.io.application import build_single_handler_application

    application = build_single_handler_application(script)
    application.add(StaffUserHandler())
    return application


def session_staff_user() -> str | None:
    """The staff user of the current Panel session, re-checked against the users file (None for guests).

    Reads the server-signed session token, so a client cannot forge it; a password change,
    logout or removal since the page was opened ends it too.
    """
    import panel as pn

    context = pn.state.curdoc.session_context if pn.state.curdoc else None
    try:
        payload = context.token_payload
    except (AttributeError, AssertionError, TypeError):  # no session (warm-up, a script run by hand)
        return None
    return auth.user_of_session(payload.get(TOKEN_PAYLOAD_KEY))
