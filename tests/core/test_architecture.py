"""The layering rules of ARCHITECTURE.md, enforced rather than remembered."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import workbench

PKG = Path(workbench.__file__).parent
FORBIDDEN_IN_CORE = ("PySide6", "shiboken6", "pyqtgraph", "workbench.qt")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:  # resolve relative imports against the file's package
                parts = path.relative_to(PKG.parent).with_suffix("").parts[:-node.level]
                mod = ".".join(parts + ((mod,) if mod else ()))
            names.append(mod)
    return names


def test_core_never_imports_qt():
    offenders = []
    for path in (PKG / "core").rglob("*.py"):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_CORE):
                offenders.append(f"{path.relative_to(PKG)} imports {name}")
    assert not offenders, offenders


def test_core_is_not_empty():
    # Guards the test above against scanning the wrong folder.
    assert len(list((PKG / "core").rglob("*.py"))) > 10


def test_importing_workbench_pulls_in_neither_qt_nor_torch():
    code = ("import sys, workbench, workbench.cli; "
            "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_qt_is_really_blocked_in_the_headless_run():
    # scripts/test runs the core suite with WORKBENCH_BLOCK_QT=1; prove the block works,
    # or the "core never needs Qt" run would prove nothing.
    import os

    import pytest

    if not os.environ.get("WORKBENCH_BLOCK_QT"):
        pytest.skip("only meaningful in the Qt-blocked run of scripts/test")
    with pytest.raises(ImportError):
        import PySide6  # noqa: F401


# -- import cycles, file sizes, the Experiment as a leaf (issue 17) -------------------------
# Read from the source with ast (tests/import_graph.py), so these need neither Qt nor torch
# and run on a fresh clone.
import import_graph  # noqa: E402

#: Subpackages the Experiment must not import: it is plain data, validated by the catalog.
REGISTRY_PACKAGES = ("workbench.core.data", "workbench.core.model", "workbench.core.train")
MAX_LINES = 450
REASON = "Over 450 lines:"


def _cycles(package: str) -> list[list[str]]:
    root = PKG.joinpath(*package.split(".")[1:])
    return import_graph.cycles(import_graph.graph(root, package))


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    # Guards the two tests below against a finder that finds nothing.
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import x\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import a\n")  # a lazy import counts
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from pkg import a\n")  # never runs
    (pkg / "d.py").write_text("from . import c\n")
    assert import_graph.cycles(import_graph.graph(pkg, "pkg")) == [["pkg.a", "pkg.b"]]


def test_no_import_cycle_inside_core():
    found = _cycles("workbench.core")
    assert not found, "import cycles in workbench.core (move the shared piece to a module " \
                      "both can import): " + "; ".join(" <-> ".join(c) for c in found)


def test_no_import_cycle_inside_qt():
    found = _cycles("workbench.qt")
    assert not found, "import cycles in workbench.qt (move the shared piece to a module " \
                      "both can import): " + "; ".join(" <-> ".join(c) for c in found)


def test_no_source_file_over_450_lines_without_a_reason():
    too_long = []
    for path in sorted(PKG.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        n = len(text.splitlines())
        if n <= MAX_LINES:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        reasons = [line.split(REASON, 1)[1].strip() for line in doc.splitlines()
                   if REASON in line]
        if not any(reasons):
            too_long.append(f"{path.relative_to(PKG.parent)} ({n} lines)")
    assert not too_long, (f"split these by concern, or say why not in a line of the module "
                          f"docstring containing {REASON!r}: " + ", ".join(too_long))


def test_the_experiment_imports_no_registry():
    path = PKG / "core" / "experiment.py"
    everywhere = import_graph.imported_names("workbench.core.experiment", path)
    at_import = import_graph.imported_names("workbench.core.experiment", path,
                                            top_level_only=True)
    reaching = sorted(n for n in everywhere
                      if any(n == p or n.startswith(p + ".") for p in REGISTRY_PACKAGES))
    assert not reaching, f"experiment.py imports {reaching}: the Experiment is a leaf; " \
                         f"checks against the registries belong in workbench.core.catalog"
    # Experiment.validate() may import the catalog when called, never when imported.
    assert not [n for n in at_import if n.startswith("workbench.core.catalog")]


def _python_prints(code: str) -> str:
    """What a fresh interpreter running ``code`` prints (it must succeed)."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_experiment_loads_without_torch():
    # The app reads its session file before the first paint, before torch is imported.
    code = ("import sys; from workbench.core.experiment import Experiment; "
            "Experiment.from_dict(Experiment().to_dict(), validate=False); "
            "print('torch' in sys.modules)")
    assert _python_prints(code).strip() == "False"


def test_every_registry_is_complete_from_its_own_module():
    # A registry's entries may be declared in several modules; whoever imports the registry
    # from its module (the palettes, the builder) gets every entry, with nothing else
    # imported first.
    code = ("import sys; from workbench.core.data.augment.transforms import TRANSFORMS; "
            "from workbench.core.model.layers import LAYERS; "
            "print(','.join(TRANSFORMS.names())); print(','.join(LAYERS.names()))")
    transforms, layers = _python_prints(code).split()
    from workbench.core import catalog

    assert transforms.split(",") == catalog.TRANSFORMS.names()
    assert layers.split(",") == catalog.LAYERS.names()
    assert {"RandomAffine", "MixUp", "CutMix"} <= set(catalog.TRANSFORMS.names())
    assert "Backbone" in catalog.LAYERS


def _module_exists(base: Path, dotted: str) -> bool:
    path = base.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_docstrings_name_modules_that_exist():
    # A docstring's cross-reference is how a newcomer finds the code it speaks of; after a
    # move, a reference to the old module name misleads. Relative references (":mod:`.jobs`",
    # ":class:`~..bundle.Bundle`") must start with a module beside (or above) the file;
    # absolute ones ("workbench.core.train.run") must name a module, plus at most an
    # attribute and its attribute.
    role = re.compile(r":(?:mod|class|meth|func|attr|data):`~?(\.*)([A-Za-z_][\w.]*)`")
    stale = []
    for path in sorted(PKG.rglob("*.py")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for dots, name in role.findall(line):
                parts = name.split(".")
                if dots:
                    base = path.parent
                    for _ in range(len(dots) - 1):
                        base = base.parent
                    ok = _module_exists(base, parts[0]) or not parts[0].islower()
                elif parts[0] == "workbench":
                    known = max((i for i in range(1, len(parts) + 1)
                                 if _module_exists(PKG.parent, ".".join(parts[:i]))),
                                default=0)
                    ok = len(parts) - known <= 2
                else:
                    continue
                if not ok:
                    stale.append(f"{path.relative_to(PKG.parent)}:{lineno} {dots}{name}")
    assert not stale, "docstrings name modules that do not exist: " + ", ".join(stale)
