"""The report's Chinese web font: the shipped Noto Sans CJK SC subset, cut to the glyphs used.

A report must show Chinese names on a machine without a CJK font, from disk, with no
network. The shipped subset (``sim/fonts``, 2.9 MB) is cut again with fontTools to just
the characters the page contains (a few hundred at most: office, category and role
names) and embedded as WOFF bytes: kilobytes, not megabytes. The font's licence
(SIL OFL 1.1) allows embedding; its notice goes into the page.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np

from sim.world import cache

FONT = Path(__file__).resolve().parents[2] / "fonts" / "NotoSansCJKsc-Subset.otf"
FAMILY = "Report CJK"
NOTICE = "Noto Sans CJK SC, © Adobe and Google, SIL Open Font License 1.1 (subset)"


_WIDE = re.compile("[\u2e80-\U0010ffff]")


def wide_characters(text: str) -> str:
    """The characters of ``text`` beyond Latin and general punctuation, sorted, once each."""
    return "".join(sorted(set(_WIDE.findall(text))))


def font_script(text: str) -> str:
    """A ``<script>`` that registers the glyphs of ``text`` as the font :data:`FAMILY`
    (empty if the text needs none).

    The font is handed to the browser as bytes through the CSS Font Loading API before
    the body is parsed, so it is ready for the first paint: Chromium draws the first text
    it lays out with a CSS ``@font-face`` data URL as missing-glyph boxes.
    """
    chars = wide_characters(text)
    if not chars or not FONT.is_file():
        return ""
    data = base64.b64encode(subset_woff(chars)).decode("ascii")
    return (
        f"<script>/* {NOTICE} */\n(function () {{ const s = atob('{data}'); "
        "const u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) "
        f"u[i] = s.charCodeAt(i); document.fonts.add(new FontFace('{FAMILY}', u.buffer)); }})();"
        "</script>"
    )


def subset_woff(chars: str) -> bytes:
    """The shipped font cut to ``chars``, as WOFF, from the cache when it was cut before
    (the same names give the same glyphs: a scenario's runs share one entry)."""
    key = cache.digest([chars, cache.file_digest(FONT)])
    hit = cache.load("webfont", key)
    if hit is not None and "woff" in hit:
        return bytes(hit["woff"].tobytes())
    data = _subset(chars)
    cache.store("webfont", key, {"woff": np.frombuffer(data, dtype=np.uint8)})
    return data


def _subset(chars: str) -> bytes:
    """The shipped font cut to ``chars``, as WOFF (zlib; no extra dependency)."""
    # deferred: fontTools.subset takes a quarter of a second to import, and a cached
    # subset does not need it
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.hinting = True  # dropping the hints costs more time than their bytes
    options.layout_features = []
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # copyright and licence kept
    options.notdef_outline = True
    font = TTFont(FONT, lazy=True)
    sub = subset.Subsetter(options)
    sub.populate(text=chars)
    sub.subset(font)
    out = io.BytesIO()
    font.flavor = "woff"
    font.save(out)
    return out.getvalue()
