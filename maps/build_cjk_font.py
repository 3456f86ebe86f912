"""Build the Chinese font the pictures use: a subset of Noto Sans CJK SC (SIL OFL 1.1).

A fresh install has no font that draws Chinese, and a full CJK font is 16 MB (a
pip package bundling several, 85 MB). Office and category names need only common
characters, so the project ships a subset: ASCII and Latin-1, CJK punctuation and
full-width forms, every hanzi of GB 2312 (the 6,763 characters of everyday simplified
Chinese, which cover the street-office and place names of Zhengzhou) and any other
character that the shipped scenarios, maps and default categories name. About 2-3 MB.

Run from the repository root, with the full font at hand (for example from the
``mplfonts`` wheel, or Debian's ``fonts-noto-cjk``)::

    python maps/build_cjk_font.py /path/to/NotoSansCJKsc-Regular.otf

It writes ``sim/fonts/NotoSansCJKsc-Subset.otf`` and prints what it covers.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sim" / "fonts" / "NotoSansCJKsc-Subset.otf"


def gb2312_hanzi() -> set[str]:
    """The 6,763 hanzi of GB 2312 (rows 0xB0-0xF7)."""
    chars = set()
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):  # unassigned code points
                chars.add(bytes([hi, lo]).decode("gb2312"))
    return chars


def project_text() -> set[str]:
    """Every non-ASCII character in the shipped scenarios, map data and the schema."""
    chars: set[str] = set()
    files = sorted((ROOT / "sim" / "scenario").glob("*.py"))
    for folder in ("scenarios", "maps"):
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".yaml", ".geojson", ".md")]
    for p in files:
        chars |= {c for c in p.read_text(encoding="utf-8") if ord(c) > 0x2E7F}
    return chars


def main(source: str) -> None:
    """Subset the font at ``source`` to what the project draws and save it into sim/fonts."""
    wanted = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    wanted |= {chr(c) for c in range(0x2000, 0x2070)}  # general punctuation
    wanted |= {chr(c) for c in range(0x3000, 0x3040)}  # CJK symbols and punctuation
    wanted |= {chr(c) for c in range(0xFF00, 0xFFF0)}  # full-width forms
    wanted |= {"·", "²", "×", "→", "±", "≤", "≥", "–"}
    wanted |= gb2312_hanzi() | project_text()
    font = TTFont(source)
    cmap = font.getBestCmap()
    have = {c for c in wanted if ord(c) in cmap}
    missing = sorted(c for c in project_text() if ord(c) not in cmap)
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # drawn at figure sizes by FreeType's autohinter anyway
    sub = subset.Subsetter(options)
    sub.populate(unicodes=sorted(ord(c) for c in have))
    sub.subset(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.save(OUT)
    print(
        f"{OUT.relative_to(ROOT)}: {len(have):,} characters, {OUT.stat().st_size / 1e6:.2f} MB"
        + (f"; not in the source font: {''.join(missing)}" if missing else "")
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
