"""The engraving font shipped with the package (DejaVu Sans, free licence: see LICENSE.txt), and what
it can write: glyph coverage (fontTools cmap) and text widths, answered without CadQuery."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

FONT_PATH = Path(__file__).resolve().parent / "DejaVuSans.ttf"
FONT_NAME = "DejaVu Sans"


@lru_cache(maxsize=1)
def _font_tables():
    from fontTools.ttLib import TTFont

    font = TTFont(str(FONT_PATH), lazy=True)
    ascender = font["hhea"].ascent
    return font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm, ascender


def unsupported_characters(text: str) -> list[str]:
    """Characters the shipped font cannot engrave correctly: no glyph, or they need text shaping
    (right-to-left scripts, combining marks) that OpenCascade's glyph-by-glyph layout lacks."""
    cmap = _font_tables()[0]
    bad = []
    for ch in unicodedata.normalize("NFC", text):
        if ch == " ":
            continue
        category = unicodedata.category(ch)
        no_glyph = ord(ch) not in cmap
        needs_shaping = unicodedata.bidirectional(ch) in ("R", "AL") or category in ("Mn", "Me", "Mc")
        invisible = category.startswith("C") or category.startswith("Z")
        if (no_glyph or needs_shaping or invisible) and ch not in bad:
            bad.append(ch)
    return bad


def describe_characters(chars: list[str]) -> str:
    return ", ".join(f"'{c}' (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})" for c in chars)


def text_width_mm(text: str, size_mm: float) -> float:
    """Advance width of one line of text at a font size (em height) in mm."""
    cmap, metrics, units_per_em, _ = _font_tables()
    total = 0
    for ch in unicodedata.normalize("NFC", text):
        glyph = cmap.get(ord(ch))
        if glyph is not None:
            total += metrics[glyph][0]
    return total * size_mm / units_per_em
