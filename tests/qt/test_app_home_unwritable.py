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


def test_a_disk_full_while_the_demo_is_made_opens_the_window_saying_so(qtbot, monkeypatch,
                                                                        tmp_path):
    """Review: an OSError while the images were written ended the app at start-up."""
    import errno

    from workbench.core.data import demo

    def full(_folder):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(demo, "_generate", full)
    window = app.create_window()
    qtbot.addWidget(window)
    assert window.experiment.data.folder == "" and window.data_panel.index is None
    text = window.data_panel.message.text()
    assert text.startswith(f"No dataset is open: cannot create the demo dataset in "
                           f"{tmp_path / 'home' / 'demo'}: No space left on device; free some "
                           f"space there or set WORKBENCH_HOME to another folder, then start "
                           f"Workbench again")
    assert not list((tmp_path / "home" / "demo").iterdir())  # no half dataset left
    window.shutdown()


def test_a_folder_of_the_users_where_the_demo_goes_is_named_with_what_to_do(
        qtbot, monkeypatch, tmp_path):
    """Review: "…: remove it or choose another folder for the demo and start Workbench
    again": there is no such setting but WORKBENCH_HOME, which it did not name."""
    shapes = tmp_path / "home" / "demo" / "shapes"
    shapes.mkdir(parents=True)
    (shapes / "thesis.txt").write_text("precious")
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    window = app.create_window()
    qtbot.addWidget(window)
    text = window.data_panel.message.text()
    assert text.startswith(f"No dataset is open: {shapes} already exists and is not a "
                           f"Workbench demo dataset: move it away or set WORKBENCH_HOME to "
                           f"another folder, then start Workbench again, or open a dataset "
                           f"folder of your own with File → Open dataset folder…")
    assert (shapes / "thesis.txt").read_text() == "precious"
    window.shutdown()
