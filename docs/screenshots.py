"""Take the README's pictures of report.html from a real browser (headless Chromium).

    python -m sim run scenarios/jinshui.yaml --out /tmp/jinshui
    python docs/screenshots.py /tmp/jinshui/report.html

Writes docs/images/report_overview.png (headline and maps, an office hovered) and
docs/images/report_replay.png (the replay at 19:30 of the worst day), reduced to a
256-colour palette so that each stays small.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "images"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def small(path: Path, width: int = 1100) -> None:
    im = Image.open(path).convert("RGB")
    im = im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS)
    im.quantize(colors=256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


def main(report: str) -> None:
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path="/usr/bin/chromium", headless=True, args=FLAGS,
            viewport={"width": 1360, "height": 1000}, device_scale_factor=1,
        )  # fmt: skip
        page = ctx.new_page()
        page.goto(Path(report).resolve().as_uri())
        page.wait_for_function("document.querySelectorAll('#map-grids path.js-fill').length > 0")
        page.evaluate("document.fonts.ready")
        box = page.locator("#map-offices").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] * 0.42, box["y"] + box["height"] * 0.45)
        page.wait_for_timeout(400)
        top = page.locator("#headline").bounding_box()
        bottom = page.locator("#map").bounding_box()
        assert top is not None and bottom is not None
        clip = {"x": 0, "y": top["y"] - 8, "width": 1360,
                "height": bottom["y"] + bottom["height"] - top["y"] + 16}  # fmt: skip
        page.screenshot(path=OUT / "report_overview.png", clip=clip, full_page=True)
        page.evaluate(
            "() => { const s = document.getElementById('replay-time'); s.value = '1170';"
            " s.dispatchEvent(new Event('input')); }"
        )
        page.wait_for_timeout(300)
        page.locator("#replay").screenshot(path=OUT / "report_replay.png")
        ctx.close()
    for name in ("report_overview.png", "report_replay.png"):
        small(OUT / name)
        print(f"{OUT / name}: {(OUT / name).stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main(sys.argv[1])
