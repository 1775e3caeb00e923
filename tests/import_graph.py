"""The import graph of a package, read from its source with :mod:`ast` (no import runs).

Used by ``tests/core/test_architecture.py`` to fail on import cycles; also a small tool:
``python tests/import_graph.py workbench/core workbench.core`` prints each cycle and, last,
``cycles=N``. Imports at module level and inside functions count alike (a lazy import still
ties two modules together); imports under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` file under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = package.split(".") + list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                skip.update(id(s) for s in ast.walk(sub))
    return skip


def imported_names(name: str, path: Path, top_level_only: bool = False) -> set[str]:
    """Every dotted name module ``name`` (in ``path``) imports, ``from m import x`` giving
    both ``m`` and ``m.x`` (``x`` may be a submodule). ``top_level_only``: only imports that
    run when the module is imported (not inside functions or classes' methods)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    if top_level_only:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                skip.update(id(s) for s in ast.walk(node))
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def graph(root: Path, package: str, top_level_only: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (an import of a module's own
    parent package is left out: Python has already started importing it)."""
    mods = modules(root, package)
    out = {}
    for name, path in mods.items():
        targets = set()
        for t in imported_names(name, path, top_level_only):
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t and t != name and not name.startswith(t + "."):
                targets.add(t)
        out[name] = targets
    return out


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in g:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10000))
    try:
        for v in sorted(g):
            if v not in index:
                strong(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


if __name__ == "__main__":
    found = cycles(graph(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2
                         else Path(sys.argv[1]).name))
    for comp in found:
        print(f"cycle of {len(comp)}: " + ", ".join(comp))
    print(f"cycles={len(found)}")
