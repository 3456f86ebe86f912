"""One self-contained HTML page: sections, Plotly figures, data, the web font, no network.

Plotly's JavaScript (MIT) is inlined from the ``plotly`` package, the page's Chinese
glyphs are embedded as a web font (:mod:`sim.output.report.webfont`), and figures and
data travel as JSON in ``<script type="application/json">`` blocks, so the file opens
from disk with no CDN, no map tiles and no token. The hand-written parts are the
stylesheet, the table sorter and the replay's canvas player (``report.js``,
``player.js``, ``report.css`` beside this module).
"""

from __future__ import annotations

import html
import importlib.util
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from sim.output.report.webfont import FAMILY, font_script
from sim.output.strictjson import jsonable

FONT_STACK = (
    f'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "{FAMILY}", '
    '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif'
)
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element (strict: NaN and infinities become null)."""
    text = json.dumps(jsonable(data), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/")


@cache
def asset(name: str) -> str:
    """A hand-written asset shipped beside this module (``report.css``, ``player.js`` …)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def plotly_js() -> str:
    """plotly.js as the ``plotly`` package ships it (read as a file: importing the Python
    package would cost more than the page)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the plotly package is not installed (pip install plotly)")
    path = Path(spec.submodule_search_locations[0]) / "package_data" / "plotly.min.js"
    return path.read_text(encoding="utf-8")


@dataclass
class Section:
    id: str
    title: str
    body: str


@dataclass
class Page:
    """A report page being put together: sections, figures and data blocks."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # JSON blocks by element id
    scripts: list[str] = field(default_factory=list)  # asset names run after the figures
    footer: str = ""

    def add(self, id: str, title: str, body: str) -> None:
        self.sections.append(Section(id, title, body))

    def figure(self, id: str, fig: dict[str, Any], css: str = "figure") -> str:
        """Register a Plotly figure (``data``, ``layout``) and return its placeholder."""
        layout = fig.setdefault("layout", {})
        layout.setdefault("font", {"family": FONT_STACK, "size": 12})
        layout.setdefault("hoverlabel", {}).setdefault("font", {"family": FONT_STACK})
        layout.setdefault("paper_bgcolor", "rgba(0,0,0,0)")
        layout.setdefault("plot_bgcolor", "#ffffff")
        layout.setdefault("margin", {"l": 60, "r": 20, "t": 40, "b": 50})
        self.figures[id] = fig
        return f'<div id="{esc(id)}" class="{esc(css)}"></div>'

    def render(self) -> str:
        nav = "".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in self.sections)
        body = "\n".join(
            f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>\n{s.body}\n</section>'
            for s in self.sections
        )
        blocks = {"report-figures": self.figures, **self.data}
        data = "\n".join(
            f'<script type="application/json" id="{esc(k)}">{script_json(v)}</script>'
            for k, v in blocks.items()
        )
        head = f"<h1>{esc(self.title)}</h1>" + (
            f'<p class="subtitle">{esc(self.subtitle)}</p>' if self.subtitle else ""
        )
        text = head + nav + body + data + self.footer
        scripts = "\n".join(f"<script>{asset(name)}</script>" for name in self.scripts)
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(self.title)}</title>\n"
            f"{font_script(text)}\n<style>\n:root {{ --font: {FONT_STACK}; }}\n"
            f"{asset('report.css')}</style>\n"
            f"<script>{plotly_js()}</script>\n</head>\n<body>\n"
            f"<header>{head}<nav>{nav}</nav></header>\n<main>\n{body}\n</main>\n"
            f"<footer>{self.footer}</footer>\n{data}\n"
            f"<script>const PLOTLY_CONFIG = {script_json(PLOTLY_CONFIG)};\n{asset('report.js')}</script>\n"
            f"{scripts}\n</body>\n</html>\n"
        )
