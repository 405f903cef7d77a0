"""The look shared by every Somana page: a header bar and CSS of our own (system fonts, no web fonts,
no images from anywhere), so a page served offline draws exactly as it does online."""

from __future__ import annotations

import html

import panel as pn

ACCENT = "#0f6e6e"

# Page-wide rules (custom properties inherit into Panel's shadow roots; class rules do not, so the
# header pane carries CSS as its own stylesheet too).
PAGE_CSS = """
:root { --somana-accent: %(accent)s; --somana-ink: #1f2a30; --somana-muted: #5d6b73; }
body { margin: 0; background: #f3f5f4; color: var(--somana-ink);
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
""" % {"accent": ACCENT}

CSS = """
.somana-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3rem 1.2rem; padding: .7rem 1.4rem;
                 background: var(--somana-accent); color: #fff; }
.somana-header a { color: #fff; text-decoration: none; opacity: .85; }
.somana-header a:hover { opacity: 1; text-decoration: underline; }
.somana-header .brand { font-size: 1.35rem; font-weight: 700; opacity: 1; margin-right: .8rem; }
.somana-header .page { font-weight: 600; opacity: 1; }
.somana-header .spacer { flex: 1; }
"""

# Bokeh's page has no viewport tag, so a phone lays it out 980 px wide and shrinks it: a page meant for
# phones sets this as its document's template (Panel renders `base` around it).
PHONE_READY_TEMPLATE = ('{% extends base %}{% block preamble %}{{ super() }}'
                        '<meta name="viewport" content="width=device-width, initial-scale=1">{% endblock %}')

# (path, label, for staff only): a customer on /configure or /order is never shown the floor's pages
NAV = [("/portfolio", "Portfolio", False), ("/configure", "Configure", False), ("/machines", "Machines", True),
       ("/plan", "Plan", True)]


def header(current: str = "", user: str | None = None) -> pn.pane.HTML:
    """The bar on top of every page; the staff pages' links only for a signed-in staff `user`."""
    links = " ".join(
        f'<a class="{"page" if path == current else ""}" href="{path}">{label}</a>'
        for path, label, staff_only in NAV if user or not staff_only)
    who = (f'<span>{html.escape(user)}</span> <a href="/logout">log out</a>' if user else "")
    return pn.pane.HTML(
        f'<div class="somana-header"><a class="brand" href="/">Somana</a>{links}'
        f'<span class="spacer"></span>{who}</div>',
        sizing_mode="stretch_width", margin=0, stylesheets=[CSS])


def page(*objects, current: str = "", user: str | None = None, **kwargs) -> pn.Column:
    """A full-width page: our header, then the content."""
    if PAGE_CSS not in pn.config.raw_css:
        pn.config.raw_css.append(PAGE_CSS)
    return pn.Column(header(current, user), *objects, sizing_mode="stretch_width", margin=0, **kwargs)


def locked_page(purpose: str, path: str) -> pn.Column:
    """What a staff page shows a guest: why it is locked and the way to the login (one for every staff page)."""
    note = pn.pane.HTML(
        '<div style="padding:2rem 1.4rem"><h2>Staff login required</h2>'
        f'<p>{purpose} is for floor staff. <a id="login-link" href="/login?next={path}">Sign in</a>.</p></div>',
        sizing_mode="stretch_width", name="locked")
    return page(note, current=path)
