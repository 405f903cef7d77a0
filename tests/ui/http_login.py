"""Plain-HTTP staff login for tests that need a cookie without a browser (the XSRF token included)."""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlparse


class HttpClient:
    """A tiny cookie-keeping HTTP client for one served URL."""

    def __init__(self, base_url: str):
        self.target = urlparse(base_url)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=60)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        response.body = response.read().decode("utf-8", errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["expires"] and "1970" in morsel["expires"] or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        connection.close()
        return response

    def xsrf(self, path: str = "/login") -> str:
        page = self.request("GET", path)
        match = re.search(r'name="_xsrf" value="([^"]+)"', page.body)
        assert match, f"no XSRF token on {path}"
        return match.group(1)

    def login(self, user: str, password: str, next_path: str = "/machines", headers: dict | None = None):
        token = self.xsrf()
        return self.request("POST", "/login", form={"username": user, "password": password, "next": next_path,
                                                    "_xsrf": token}, headers=headers)

    def logout(self):
        token = self.xsrf("/logout")
        return self.request("POST", "/logout", form={"_xsrf": token})
