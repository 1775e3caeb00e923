"""Exported code never runs text from the bundle: an experiment name or bundle file name
holding a newline, a carriage return, a line separator, triple quotes, a backslash or a
PEP 263 "coding:" declaration is written so that it stays inside its comment. The module
received from someone else's bundle imports and runs as the same code a plain name gives."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest

from workbench.core.bundle import save_bundle
from workbench.core.experiment import Experiment
from workbench.core.export.code import export_code
from workbench.core.model.builder import build_network
from workbench.core.registry import Component as C

CLASSES = ["cat", "dog"]


def _payloads(marker):
    """Names that would each run ``open(marker, "w")`` if written raw into a comment."""
    code = f"open({str(marker)!r}, 'w')  #"
    return ["evil\n" + code,
            "evil\r" + code,
            "evil\r\n" + code,
            "evil\x0c\n" + code,
            "evil\u2028" + code + "\u2029" + code + "\x85" + code,
            '"""\n' + code + '\n"""',
            "back\\\n" + code,
            "\u202e evil \u202c\n" + code,  # a bidirectional override (Trojan Source)
            # A coding declaration on line 1 or 2 makes Python decode the file as UTF-7,
            # where "+AAo-" is a newline: the rest of the line is code.
            "x -*- coding: utf_7 -*- +AAo-" + code]


def _bundle(path, name):
    exp = Experiment()
    exp.name = name
    exp.data.input_size = [8, 8]
    exp.model.layers = [C("Flatten"), C("Linear")]
    exp.validate()
    model, _ = build_network(exp.model.layers, (3, 8, 8), len(CLASSES))
    return save_bundle(path, exp, CLASSES, model.state_dict())


def _tree(path):
    """The module as Python compiles its bytes (their coding declaration honoured),
    comments gone."""
    return ast.dump(ast.parse(path.read_bytes()))


def test_user_text_in_the_header_stays_a_comment(tmp_path):
    marker = tmp_path / "PWNED"
    clean = export_code(_bundle(tmp_path / "bundle.pt", "plain"), tmp_path / "m.py")
    modules = []
    for i, name in enumerate(_payloads(marker)):
        folder = tmp_path / f"evil{i}"
        folder.mkdir()
        # The bundle's file name is in the header's "Or run it" line: it gets one too.
        bundle = _bundle(folder / f"b{i}\nopen({str(marker)!r}, 'w')#.pt", name)
        out = export_code(bundle, folder / "m.py")
        assert _tree(out) == _tree(clean), repr(name)  # nothing but comments differ
        text = out.read_text(encoding="utf-8")
        assert all(line.startswith("#") for line in text.splitlines()[:3]), repr(name)
        modules.append(str(folder))
    script = textwrap.dedent(f"""
        import importlib.util, runpy, sys
        sys.modules["workbench"] = None
        for folder in {modules!r}:
            spec = importlib.util.spec_from_file_location("m", folder + "/m.py")
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
            sys.argv = ["m.py"]
            runpy.run_path(folder + "/m.py", run_name="__main__")
        print("imported", len({modules!r}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"imported {len(modules)}" in proc.stdout
    assert not marker.exists()


@pytest.mark.parametrize("name", ["flowers v2", "Zoë's 🐱 model"])
def test_a_printable_name_is_shown_as_it_is(tmp_path, name):
    text = export_code(_bundle(tmp_path / "bundle.pt", name), tmp_path / "m.py"
                       ).read_text(encoding="utf-8")
    assert f"# Experiment: {name}\n" in text


def test_a_name_with_a_newline_is_shown_as_a_string(tmp_path):
    text = export_code(_bundle(tmp_path / "bundle.pt", 'two\nlines "x"'), tmp_path / "m.py"
                       ).read_text(encoding="utf-8")
    assert '# Experiment: "two\\nlines \\"x\\""\n' in text
