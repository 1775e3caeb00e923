"""An unwritable WORKBENCH_HOME and no dataset (walk-paths defect 7): the window opens
anyway, with no dataset and a message on the Data tab saying why and what to do, as a
missing dataset folder does, rather than the app ending with one line in a terminal."""

from __future__ import annotations

import workbench.qt.app as app


def test_the_window_opens_saying_the_demo_cannot_be_made(qtbot, monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder")  # as unwritable as a read-only mount, even for root
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    window = app.create_window()
    qtbot.addWidget(window)
    assert window.experiment.data.folder == ""
    assert window.tabs.currentWidget() is window.data_panel
    text = window.data_panel.message.text()
    assert text.startswith("No dataset is open: cannot create the demo dataset in")
    assert "WORKBENCH_HOME" in text and "File → Open dataset folder…" in text
    assert window.data_panel.index is None
    window.shutdown()
