"""A small tolerant S-expression reader for KiCad files.

Why not `sexpdata`: it took 1.9 s on the 7.4 MB `video.kicad_pcb` demo (the preview budget is 2 s)
and turns every word into a Symbol object. KiCad's own grammar is simple (lists, quoted strings
with backslash escapes, bare words and numbers), so one regular expression tokenises it at C speed
and a stack builds plain lists of str; whole top-level nodes the intake never reads (tracks, vias,
zones: most of a routed board) are skipped without building them.
"""

from __future__ import annotations

import re

from somana_core.errors import InputError

# a quoted string (with \" escapes), a parenthesis, or a bare word
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([()])|([^\s()"]+)', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)


class Quoted(str):
    """A token that was written in quotes (KiCad quotes names; a name may look like a number)."""


def parse(text: str, skip_top: frozenset[str] = frozenset(), field: str = "board") -> list:
    """The first top-level list of `text` as nested lists of str; nodes at depth 1 whose head is in
    `skip_top` are left out. Raises InputError(field) on unbalanced parentheses."""
    stack: list[list] = []
    current: list | None = None
    root: list | None = None
    skip_depth = 0
    for m in _TOKEN.finditer(text):
        quoted, paren, word = m.groups()
        if skip_depth:
            if paren == "(":
                skip_depth += 1
            elif paren == ")":
                skip_depth -= 1
            continue
        if paren == "(":
            node: list = []
            if current is not None:
                stack.append(current)
            current = node
            continue
        if paren == ")":
            if current is None:
                raise InputError(field, f"{field}: unbalanced ')' at character {m.start()}")
            done = current
            if stack:
                current = stack.pop()
                current.append(done)
            else:
                root = done
                break
            continue
        if current is None:
            if root is None and word is not None:
                raise InputError(field, f"{field}: text before the first '(' ({word[:20]!r}); not an S-expression")
            continue
        token = Quoted(_ESCAPE.sub(r"\1", quoted)) if quoted is not None else word
        if skip_top and len(stack) == 1 and not current and token in skip_top:
            # the head of a depth-1 node we do not read: drop it and skip to its ')'
            current = stack.pop()
            skip_depth = 1
            continue
        current.append(token)
    if root is None:
        raise InputError(field, f"{field}: the S-expression is not closed (missing ')'); is the file cut short?")
    return root
