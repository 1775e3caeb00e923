"""The fitted labels (never cut, never laid over) are the Qt layer's own widgets: the Train
tab took its memory line from the Explain dialog's module, loading it with the tab."""

from __future__ import annotations

import subprocess
import sys


def test_the_train_tab_does_not_load_the_explain_dialog():
    code = ("import sys\n"
            "import workbench.qt.panels.train.setup\n"
            "from workbench.qt.fitted import FittedLabel, FittedMessageLabel\n"
            "print(sorted(m for m in sys.modules\n"
            "             if m.startswith('workbench.qt.panels.explain')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
