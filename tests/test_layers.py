"""The package's plan, checked from its import statements: no import circle, and layers point down."""

from __future__ import annotations

import ast
from pathlib import Path

import emoethics

ROOT = Path(emoethics.__file__).parent

#: (layer, first name below emoethics): lower numbers are further down.
LAYERS = {
    "errors": 0,
    "config": 0,
    "textio": 0,
    "prompting": 0,
    "datafiles": 0,
    "schema": 1,
    "encoders": 1,
    "llm": 2,
    "store": 2,
    "sensors": 2,
    "emotions": 3,
    "ethics": 3,
    "session": 4,
    "api": 4,
    "plugins": 4,
    "workspace": 4,
    "evals": 5,
}
INTERFACES = 6
#: The interfaces: they may import any layer below and each other.
INTERFACE_NAMES = {"cli", "service", "batch", "proxy", "render", "render_ethics", "plots", "__main__"}


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ("emoethics", *path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The emoethics modules ``name`` imports, at any depth of its code (type-checking imports too)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for a in node.names:
                full = f"{module}.{a.name}"
                found.add(full if full in known else module)
    return {m for m in found if m in known and m != name}


def layer(name: str) -> int:
    parts = name.split(".")
    return LAYERS.get(parts[1], INTERFACES) if len(parts) > 1 else INTERFACES


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_every_module_has_a_layer_or_is_an_interface():
    names = {n.split(".")[1] for n in modules() if "." in n}
    assert names - set(LAYERS) - INTERFACE_NAMES == set()


def test_no_module_imports_a_module_of_a_layer_above_it():
    upward = sorted(
        f"{a} -> {b}"
        for a, deps in graph().items()
        for b in deps
        if layer(b) > layer(a) and not (layer(a) == layer(b) == INTERFACES)
    )
    assert upward == []


def test_there_is_no_import_circle():
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in g:
        if v not in index:
            visit(v)
    assert circles == []


def test_the_command_line_helpers_module_imports_no_command_module():
    deps = graph()["emoethics.cli.app"]
    assert not {d for d in deps if d.startswith("emoethics.cli.")}


def test_no_function_in_src_has_a_body_over_80_lines():
    import importlib.util

    script = Path(__file__).parents[1] / "scripts" / "check_function_length.py"
    spec = importlib.util.spec_from_file_location("check_function_length", script)
    assert spec is not None and spec.loader is not None
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    assert check.long_functions(sorted(ROOT.rglob("*.py")), 80) == []
