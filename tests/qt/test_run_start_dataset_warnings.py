"""A run started from the Train tab keeps the dataset's warnings in run.json's
start_warnings, as ``workbench train`` of the same folder does (from a user's day: the
app's run of a folder with ``Boletus`` and ``boletus`` kept ``start_warnings: []``, so after
a restart the Train tab's "Last run … started with these notes" and the report left the
case clash out). The Data tab's scan is handed to the run: no second scan."""

from __future__ import annotations

import json

import pytest

from helpers import make_image_folder

RUN_TIMEOUT_MS = 120000
CLASH = "differ only in case"


@pytest.fixture
def clash_folder(tmp_path):
    return make_image_folder(tmp_path / "fungi", classes=("Boletus", "boletus", "red"),
                             per_class=8, size=16)


def _cli_lines(experiment) -> list[str]:
    """What ``workbench train`` keeps in run.json of the dataset's warnings."""
    from workbench.cli.run_warnings import warnings_and_index

    return [w for w in warnings_and_index(experiment)[0] if CLASH in w]


@pytest.mark.parametrize("handed", [True, False], ids=["data-tab-scan", "run-scans"])
def test_an_app_run_keeps_the_case_clash_as_the_cli_does(qtbot, monkeypatch, train_panel,
                                                         tiny_experiment, clash_folder,
                                                         handed):
    import workbench.core.data.scan as scan
    from workbench.core.data.scan import scan_folder

    tiny_experiment.data.folder = clash_folder
    expected = _cli_lines(tiny_experiment)
    assert len(expected) == 1 and "'Boletus' and 'boletus'" in expected[0]
    panel = train_panel(epochs=1)
    scans = []
    if handed:  # as the window does once the Data tab has scanned the folder
        panel.set_dataset(scan_folder(clash_folder))
        monkeypatch.setattr(scan, "scan_folder", lambda *a, **k: scans.append(a))
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    assert not scans  # the Data tab's scan was used, not a second one
    run = done.args[0]["run_dir"]
    info = json.loads(open(f"{run}/run.json").read())
    assert [w for w in info["start_warnings"] if CLASH in w] == expected

    # In the Train tab it is said once: after a restart, under "Last run … started with
    # these notes" (the run line and the notes of this session do not repeat it).
    shown = panel.run_label.text() + panel.notes_label.text()
    assert shown.count(CLASH) <= 1
    again = train_panel()
    assert again.restore_last_run(run)
    text = again.notes_label.text()
    assert text.startswith("Last run (") and not again.notes_label.isHidden()
    assert text.count(CLASH) == 1 and f"Warning: {expected[0]}" in text


def test_a_run_keeps_the_same_dataset_warnings_as_the_cli(qtbot, train_panel,
                                                          tiny_experiment):
    """A folder without a clash: what workbench train keeps of it, no more, no less (the
    tiny dataset's 9-image validation split is warned about by both)."""
    from workbench.cli.run_warnings import warnings_and_index

    expected = warnings_and_index(tiny_experiment)[0]
    assert any("validation" in w for w in expected)
    panel = train_panel(epochs=1)
    with qtbot.waitSignal(panel.training_finished, timeout=RUN_TIMEOUT_MS) as done:
        panel.start_button.click()
    info = json.loads(open(f"{done.args[0]['run_dir']}/run.json").read())
    assert info["start_warnings"] == expected
