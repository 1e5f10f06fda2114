"""The import graph of ``emix/``: no circles, and no module imports from a layer above its own.

The layers, from the bottom up (docs/design.md draws them). A module may import
from its own layer's modules of the same package and from any layer below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "emix"

#: bottom first; each entry is a list of module prefixes (dotted, under emix)
LAYERS: list[tuple[str, ...]] = [
    ("exceptions", "_version", "_files", "datasets"),  # nothing of emix below them
    ("_validation", "_params", "_linalg", "_kernels"),  # checked input, numerics, the numba switch
    ("sources",),  # where rows come from
    ("families",),  # what a component is
    ("init", "engine"),  # starting points; one pass, the driver, convergence, acceleration
    ("io",),  # the model file format
    ("estimators",),  # scikit-learn's conventions over the engine
    ("teach",),  # EM step by step, pictures
    ("selection", "uncertainty"),  # BIC / ICL grids; the bootstrap
    ("cli",),  # the command line
    ("__init__", "__main__"),  # the public face
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Modules of emix that ``path`` imports (relative imports resolved), dotted under emix."""
    name = _module_name(path)
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg and name != "__init__" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base[: len(base) - (node.level - 1)] if node.level > 1 else list(base)
                target = ".".join(parts + ([node.module] if node.module else []))
            elif node.module and (node.module == "emix" or node.module.startswith("emix.")):
                target = node.module[5:]
            else:
                continue
            if node.module is None:  # "from . import x": x may be a module
                for alias in node.names:
                    found.add(f"{target}.{alias.name}".strip("."))
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("emix."):
                    found.add(alias.name[5:])
    modules = _all_modules()
    resolved = set()
    for t in found:
        while t and t not in modules:
            t = t.rpartition(".")[0]
        if t and t != name:
            resolved.add(t)
    return resolved


def _all_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> int:
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if module == p or module.startswith(p + "."):
                return i
    raise AssertionError(f"emix.{module} is in no layer: add it to LAYERS in {__file__}")


def _graph() -> dict[str, set[str]]:
    return {name: _imports(path) for name, path in _all_modules().items()}


def test_every_module_has_a_layer():
    for name in _all_modules():
        _layer(name)


def test_no_module_imports_a_layer_above_its_own():
    upward = [
        f"emix.{a} (layer {_layer(a)}) imports emix.{b} (layer {_layer(b)})"
        for a, targets in _graph().items()
        for b in targets
        if _layer(b) > _layer(a)
    ]
    assert not upward, "imports that run back up:\n" + "\n".join(upward)


def test_no_import_circles():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_sibling_packages_of_one_layer_do_not_import_each_other_both_ways():
    graph = _graph()
    top = {name: name.split(".")[0] for name in graph}
    pairs = {(top[a], top[b]) for a, t in graph.items() for b in t if top[a] != top[b]}
    both = sorted({tuple(sorted(p)) for p in pairs if (p[1], p[0]) in pairs})
    assert not both, f"packages importing each other: {both}"


def _file_code_lines(path: Path) -> int:
    """Lines of ``path`` outside its docstrings (module, class and function docstrings).

    The limit is on code: a file that grows past it holds two ideas. Docstrings
    (numpydoc sections, examples) document one idea and are not counted, as in
    the limit on functions below.
    """
    text = path.read_text()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    docstrings.update(range(first.lineno, first.end_lineno + 1))
    return len(text.splitlines()) - len(docstrings)


@pytest.mark.parametrize("limit", [500])
def test_no_source_file_over_the_limit(limit):
    """Every line counts, docstrings included: a file past the limit is two ideas."""
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > limit
    }
    assert not long, f"files over {limit} lines: {long}"


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function from its first statement after the docstring to its end."""
    body = node.body
    first = body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return node.end_lineno - first.end_lineno if len(body) > 1 else 0
    return node.end_lineno - first.lineno + 1


def test_no_function_over_eighty_lines_of_code():
    long = [
        f"{p.relative_to(PACKAGE)}:{n.name} ({_code_lines(n)} lines)"
        for p in PACKAGE.rglob("*.py")
        for n in ast.walk(ast.parse(p.read_text()))
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _code_lines(n) > 80
    ]
    assert not long, "functions over 80 lines of code (docstrings not counted): " + ", ".join(long)
