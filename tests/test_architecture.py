"""The package layout follows the flow of data: no layer reaches up to a later one, no
module imports itself in a circle, and the package root loads nothing heavy."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
LATER = ("engine", "analysis", "output", "viz", "batch", "runner", "cli")
FORBIDDEN = {
    # a package may not import from these (nor the packages after them)
    # reading case logs comes first: it knows no scenario, map or memory budget
    "caselog": ("scenario", "world", "budget", "fit", *LATER),
    "scenario": ("world", "fit", *LATER),
    "world": (*LATER, "fit"),
    "fit": LATER[2:],
    "engine": LATER[1:],
    "analysis": LATER[2:],
}


def _imports(path: Path) -> set[str]:
    """The sim modules ``path`` imports (``sim.engine.model`` → ``engine``), typing ones too."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "sim":
                out |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("sim.")}
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_layer_imports_a_later_one(package: str) -> None:
    for path in sorted((SIM / package).rglob("*.py")):
        bad = _imports(path) & set(FORBIDDEN[package])
        assert not bad, f"{path.relative_to(SIM)} imports {sorted(bad)}"


def test_the_engine_knows_nothing_of_files() -> None:
    for path in sorted((SIM / "engine").rglob("*.py")):
        names = {
            a.name.split(".")[0]
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for a in (
                node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
            )
        }
        assert not names & {"yaml", "json", "pathlib", "os", "shutil"}, path.name


# Still to be split (issue 9); this list may only shrink (it is empty: every module is split).
NOT_YET_SPLIT: set[str] = set()


def test_no_module_is_far_over_500_lines_without_saying_why() -> None:
    for path in sorted(SIM.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.relative_to(SIM).as_posix() in NOT_YET_SPLIT:
            continue
        if text.count("\n") > 550:
            doc = ast.get_docstring(ast.parse(text)) or ""
            assert "one concept" in doc, f"{path.relative_to(SIM)}: split it or say why not"


# ------------------------------------------------------------------ import cycles


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def _type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _run_at_import(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements a module runs when it is imported: at module level and in
    class bodies, not in functions nor under ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or _type_checking(node):
            continue
        else:
            for field in ("body", "orelse", "finalbody"):
                yield from _run_at_import(getattr(node, field, []))
            for handler in getattr(node, "handlers", []):
                yield from _run_at_import(handler.body)


def _edges(module: str, path: Path) -> set[str]:
    """The sim modules whose code runs when ``module`` is imported, one step away.

    ``from sim.a import b`` runs ``sim.a`` (named outright, even a package of the importer)
    and ``sim.a.b`` if that is a module; importing ``sim.a.b`` also runs the packages
    ``sim`` and ``sim.a`` unless the importer is already inside them.
    """
    out: set[str] = set()
    for node in _run_at_import(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                continue
            named = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            out.add(node.module)
        else:
            named = [a.name for a in node.names]
        for name in named:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                inside = module == target or module.startswith(target + ".")
                if target in MODULES and (target == name or not inside):
                    out.add(target)
    out.discard(module)
    return out & set(MODULES)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_of_sim_imports_itself_in_a_circle() -> None:
    graph = {m: _edges(m, p) for m, p in MODULES.items()}
    assert len(graph) >= 100 and graph["sim.runner"]  # it sees every module and its imports
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle_through_a_package() -> None:
    graph = {m: _edges(m, p) for m, p in MODULES.items()}
    # the package root importing the sweep API, which builds worlds that import `from sim`
    graph["sim"] = graph["sim"] | {"sim.batch.sweeps"}
    assert "sim" in graph["sim.world.build"]
    assert any("sim" in group for group in _cycles(graph))


def test_imports_inside_functions_say_why() -> None:
    """An import deferred into a function defers something heavy and says so in a comment
    (on its line, or above its block of imports)."""
    bare = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        deferred = {
            node.lineno
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(fn)
            if isinstance(node, ast.Import | ast.ImportFrom)
        }
        for n in sorted(deferred):
            k = n - 1
            while k > 0 and (k in deferred or not lines[k - 1].strip()):
                k -= 1  # up through the block of imports
            said = "#" in lines[n - 1] or lines[k - 1].strip().startswith("#")
            if not said:
                bare.append(f"{module}:{n}: {lines[n - 1].strip()}")
    assert bare == []


# ------------------------------------------------------------------ function size

LONGEST = 80  # lines, decorators and docstring included; ruff holds statements and complexity


def test_no_function_is_longer_than_a_screen_without_saying_why() -> None:
    """Beyond about 80 lines a function says why in a ``# long: ...`` comment of its own."""
    long = []
    for folder in ("sim", "maps", "calibration", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                end = node.end_lineno or node.lineno
                body = lines[first - 1 : end]
                said = any(line.strip().startswith("# long:") for line in body)
                if end - first + 1 > LONGEST and not said:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert long == []


# ------------------------------------------------------------------ what importing loads


def _loaded(statement: str) -> list[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(out.stdout)
    return loaded


HEAVY_OR_LATER = ("sim.batch", "sim.cli", "sim.viz", "sim.output", "matplotlib")


@pytest.mark.parametrize(
    "statement",
    ["import sim", "import sim.roles", "import sim; sim.run", "import sim.analysis.record"],
)
def test_the_package_root_and_the_simulation_load_no_batch_cli_or_plots(statement: str) -> None:
    loaded = _loaded(statement)
    bad = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY_OR_LATER)]
    assert bad == []
    if statement in ("import sim", "import sim.roles"):
        assert [m for m in loaded if m.startswith("sim")] == ["sim", "sim.roles"][
            : 1 + ("roles" in statement)
        ]


def test_the_public_api_is_loaded_on_first_use() -> None:
    loaded = _loaded("import sim; sim.sweep; sim.optimize; sim.run; sim.load_scenario")
    assert {"sim.batch.sweeps", "sim.batch.staffing", "sim.runner"} <= set(loaded)
    import sim

    assert set(sim.__all__) <= set(dir(sim))
    with pytest.raises(AttributeError):
        sim.no_such_name  # noqa: B018
