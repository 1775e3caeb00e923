"""Where exported code finds each layer class: torch's own, or ours copied in.

A layer class from torch or torchvision is referred to by name (``nn.Conv2d``,
``torchvision.models.resnet18``). Any other class (ours, e.g.
``workbench.core.model.recurrent.RowLSTM``) has its source copied into the exported file,
together with whatever its module defines at top level that the class uses: helper
functions, constants, base classes, and the import statements that bind the names it
refers to (``math``, ``torch.nn.functional as F``...). The copy is found by reading the
module's syntax tree, so nothing is listed by hand. A class that leans on another Workbench
module (a relative import, ``from workbench...``) cannot stand alone and is refused.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import numbers
from typing import Iterable

from workbench.core.errors import WorkbenchError

# Packages the exported file imports rather than copies: a PyTorch install has them.
_REFERENCED = ("torch", "torchvision")
_ALWAYS_IMPORTED = ("import torch", "from torch import nn")


def class_reference(qualname: str) -> tuple[str, str | None]:
    """How exported code spells a layer class, and the import it needs (or None).

    ``"torch.nn.Conv2d"`` -> ``("nn.Conv2d", None)``; ``"torchvision.ops.Permute"`` ->
    ``("torchvision.ops.Permute", "import torchvision.ops")``; a class of ours -> its bare
    name (its source is copied into the file).
    """
    module, _, name = qualname.rpartition(".")
    top = module.split(".")[0]
    if module == "torch.nn":
        return f"nn.{name}", None
    if top == "torch":
        return qualname, None if module == "torch" else f"import {module}"
    if top == "torchvision":
        return qualname, f"import {module}"
    return name, None


def custom_sources(qualnames: Iterable[str]) -> tuple[list[str], list[str]]:
    """The import lines and source blocks that define the classes named in ``qualnames``.

    Parameters
    ----------
    qualnames
        Qualified class names (duplicates allowed). Those from torch and torchvision give
        only an import line, when one is needed beyond ``import torch``.

    Returns
    -------
    (imports, blocks)
        Import statements (deduplicated, ``import torch`` and ``from torch import nn`` left
        out: the file always has them) and top-level definitions, in source order per module.

    Raises
    ------
    WorkbenchError
        When a class's module cannot be read, or the class needs another Workbench module.
    """
    imports: list[str] = []
    blocks: list[str] = []
    owners: dict[str, str] = {}  # top-level name copied -> the module it came from
    for qualname in dict.fromkeys(q for q in qualnames if q):
        module, _, name = qualname.rpartition(".")
        if module.split(".")[0] in _REFERENCED:
            line = class_reference(qualname)[1]
            if line and line not in imports:
                imports.append(line)
            continue
        mod_imports, mod_blocks = _definitions(module, name)
        for line in mod_imports:
            if line not in imports and line not in _ALWAYS_IMPORTED:
                imports.append(line)
        for bound, text in mod_blocks:
            if owners.get(bound, module) != module:
                raise WorkbenchError(f"cannot export {qualname}: {bound} is defined both in "
                                     f"{owners[bound]} and in {module}; rename one of them")
            if bound not in owners:
                owners[bound] = module
                blocks.append(text)
    return imports, blocks


def _bound_names(node: ast.stmt) -> list[str]:
    """Names a top-level statement binds in its module."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Import):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [a.asname or a.name for a in node.names]
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, ast.AnnAssign) else []
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _import_line(node: ast.Import | ast.ImportFrom, name: str, where: str) -> str | None:
    """The import statement binding ``name`` alone, or None for ``from __future__``."""
    for alias in node.names:
        bound = alias.asname or (alias.name if isinstance(node, ast.ImportFrom)
                                 else alias.name.split(".")[0])
        if bound != name:
            continue
        source = alias.name if isinstance(node, ast.Import) else node.module or ""
        if isinstance(node, ast.ImportFrom) and node.level:
            source = "." * node.level + source
        if source == "__future__":
            return None
        if source.startswith(".") or source.split(".")[0] == "workbench":
            raise WorkbenchError(f"cannot export {where}: it uses {name} from {source}, and "
                                 f"exported code must stand alone (torch, torchvision and the "
                                 f"standard library only)")
        suffix = f" as {alias.asname}" if alias.asname else ""
        if isinstance(node, ast.Import):
            return f"import {alias.name}{suffix}"
        return f"from {source} import {alias.name}{suffix}"
    return None


def _definitions(module_name: str, class_name: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Imports and ``(name, source)`` blocks the class needs from its own module."""
    where = f"{module_name}.{class_name}"
    try:
        module = importlib.import_module(module_name)
        source = inspect.getsource(module)
    except (ImportError, OSError, TypeError) as e:
        raise WorkbenchError(f"cannot export {where}: its source cannot be read ({e})") from None
    tree = ast.parse(source)
    defs: dict[str, ast.stmt] = {}
    for node in tree.body:
        for bound in _bound_names(node):
            defs[bound] = node
    if class_name not in defs:
        raise WorkbenchError(f"cannot export {where}: {module_name} defines no {class_name} "
                             f"at top level")
    lines = source.splitlines()
    imports: list[str] = []
    chosen: dict[int, tuple[str, ast.stmt]] = {}
    seen, queue = {class_name}, [class_name]
    while queue:
        name = queue.pop()
        node = defs[name]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            line = _import_line(node, name, where)
            if line and line not in imports:
                imports.append(line)
            continue
        chosen.setdefault(id(node), (name, node))
        # Every name the definition mentions that the module defines: over-inclusion (a
        # local that shadows a module name) costs a few lines, a miss breaks the file.
        for ref in sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)}):
            if ref in defs and ref not in seen:
                seen.add(ref)
                queue.append(ref)
    blocks = []
    for name, node in sorted(chosen.values(), key=lambda item: item[1].lineno):
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        blocks.append((name, "\n".join(lines[first - 1:node.end_lineno])))
    return imports, blocks




def literal(value: object) -> str:
    """A value as Python source that reads back equal to it, strings in double quotes like
    the rest of the exported file (``"same"``, ``[0.5, 0.5]``, ``True``, ``{"a": None}``).

    Strings keep every printable character as itself (``"🐦 bird"``, ``"日本語"``): JSON's
    ``\\ud83d\\udc26`` would read back in Python as two lone surrogates, not the emoji.
    Infinite and NaN floats are written as ``float("inf")`` / ``float("nan")``.
    """
    if isinstance(value, str):
        return '"' + "".join(_string_char(c) for c in value) + '"'
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, numbers.Integral):  # a numpy or torch integer too: plain int
        return repr(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isfinite(value):
            return repr(value)
        return f'float("{value!r}")'  # "inf", "-inf", "nan": not Python names
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def comment_text(text: str) -> str:
    """``text`` safe to write after a ``#``: every character that is not printable (a
    newline or carriage return, which would end the comment and start a line of code; a
    tab, a line separator, a bidirectional override) as its escape (``\\n``, ``\\u2028``)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _string_char(c: str) -> str:
    """One character inside a double-quoted Python string literal."""
    if c in '\\"':
        return "\\" + c
    # Printable characters stay themselves; the rest (newline, tab, control characters,
    # line separators, a lone surrogate) take the escape repr gives them.
    return c if c.isprintable() else repr(c)[1:-1]


__all__ = ["class_reference", "comment_text", "custom_sources", "literal"]
