"""Checking the data before trusting a model (walker report "hygiene"): Health's Exclude on
a test/ copy of a training image really leaves it out of the test part, exclusions come
back when their folder is opened again, an exclusion follows its file through a Move and
its Undo, and the Data tab reopens on the Health view it was left on."""

from __future__ import annotations

import json

from helpers import LEAK, make_leaky_parts, make_photo_folder
from qt_helpers import fake_label_check, health_experiment, loaded_data_panel, run_health_check
import workbench.qt.app as app
from workbench.core.data.usage import data_use
from workbench.core.session import session_path, session_text, write_session
from workbench.qt.workers import task_pool

WAIT_MS = 30000


def _load(qtbot, panel, folder) -> None:
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.load_folder(str(folder))


def test_excluding_the_test_copy_of_a_leak_leaves_it_out_of_the_test_part(qtbot, tmp_path):
    root = make_leaky_parts(tmp_path / "d")
    panel = loaded_data_panel(qtbot, root, health_experiment("hygiene"))
    health = panel.health
    [leak] = [f for f in run_health_check(qtbot, health) if f.kind == "leak"]
    health.select(leak, image=leak.sides.index("test"))
    assert health.chosen_path() == str(root / LEAK)
    assert health.exclude_button.isEnabled()
    assert health.exclude_button.text() == "Exclude from evaluation"  # it never trains
    health.exclude_button.click()
    exp = panel.experiment
    assert exp.data.exclude == [LEAK]
    assert health.status.text() == f"Excluded {LEAK} from evaluation on the test part."
    # It names an image: no "matches no image" line, no greyed entry in the list.
    assert not panel.exclusions.unmatched.text()
    assert health.excluded.title() == "Excluded images (1)"
    assert str(root / LEAK) in health.model.excluded
    assert health.exclude_button.text() == "Include again"
    assert data_use(panel.index, exp.data).to_json()["test"] == 18  # run.json's count
    # Checked again: the copy is left out, so the leak is settled.
    assert [f for f in run_health_check(qtbot, health) if f.kind == "leak"] == []
    assert "leaving out 1 excluded" in health.summary.text()


def test_a_test_copy_leak_chooses_the_test_copy_and_its_exclusion_settles_it(qtbot,
                                                                             tmp_path):
    """Walk (ui): the leak's row chose the train/ copy, so one click on "Exclude from
    training" dropped a good training image; after excluding the test/ copy the summary
    still warned "1 leak between parts" and the tab still counted it."""
    root = make_leaky_parts(tmp_path / "d")
    panel = loaded_data_panel(qtbot, root, health_experiment("hygiene"))
    health = panel.health
    titles: list[str] = []
    health.title_changed.connect(titles.append)
    findings = run_health_check(qtbot, health)
    [leak] = [f for f in findings if f.kind == "leak"]
    assert leak.sides[-1] == "train"  # the training copy is the last shown
    health.select(leak)  # no image clicked: the default one
    assert health.chosen_path() == str(root / LEAK)
    assert health.exclude_button.text() == "Exclude from evaluation"
    assert "1 leak between parts" in health.summary.text()
    assert titles[-1] == f"Health ({len(findings)})"
    health.exclude_button.click()
    assert panel.experiment.data.exclude == [LEAK]  # not the training image
    # Settled, as a check made now would find: said so, and no longer counted.
    assert "1 leak between parts (1 settled by an exclusion since)" in health.summary.text()
    others = len(findings) - 1
    assert titles[-1] == (f"Health ({others})" if others else "Health")
    if not others:
        assert health.summary.level == "ok"
    health.exclude_button.click()  # Include again: a leak again
    assert "settled" not in health.summary.text() and health.summary.level == "warning"
    assert titles[-1] == f"Health ({len(findings)})"


def test_exclusions_come_back_when_their_folder_is_opened_again(qtbot, tmp_path):
    a = make_photo_folder(tmp_path / "dsA", per_class=6)
    b = make_photo_folder(tmp_path / "dsB", per_class=4, seed=1)
    panel = loaded_data_panel(qtbot, a, health_experiment("hygiene"))
    health = panel.health
    run_health_check(qtbot, health)
    health.set_excluded([str(a / "cats" / "cats_01.png"), str(a / "dogs" / "dogs_02.png")])
    made = list(panel.experiment.data.exclude)
    _load(qtbot, panel, b)
    assert panel.experiment.data.exclude == []
    assert panel.exclusions.cleared.text().endswith(
        "Opening that folder again brings them back.")

    changed = []
    panel.experiment_changed.connect(lambda: changed.append(True))
    _load(qtbot, panel, a)
    notice = panel.exclusions
    assert panel.experiment.data.exclude == made and changed
    assert notice.cleared.text() == ("Restored the 2 exclusions made for this folder, "
                                     "cleared when another folder was opened.")
    assert notice.keep_button.text() == "Clear them" and notice.isVisibleTo(panel)
    assert "; 2 excluded from training" in panel.total_label.text()
    assert health.excluded.title() == "Excluded images (2)"
    assert "leaving out" not in health.summary.text()  # the check shown was made before
    # Made in the view after that check, as shown then: not called a change of it.
    assert health.stale.text().startswith("Shown: the check of ")
    # Back once: opening B and A again does not bring them twice, nor after Clear them.
    notice.keep_button.click()
    assert panel.experiment.data.exclude == []
    _load(qtbot, panel, b)
    _load(qtbot, panel, a)
    assert panel.experiment.data.exclude == [] and not notice.cleared.text()


def test_an_exclusion_follows_its_file_through_a_move_and_its_undo(
        qtbot, tmp_path, monkeypatch):
    fake_label_check(monkeypatch)
    root = make_photo_folder(tmp_path / "d", per_class=12)
    panel = loaded_data_panel(qtbot, root, health_experiment("hygiene"))
    health = panel.health
    findings = run_health_check(qtbot, health, labels=True)
    source, target = root / "cats" / "cats_03.png", root / "dogs" / "cats_03.png"
    [issue] = [f for f in findings if f.paths == (str(source),)]
    health.select(issue)
    health.confirm = lambda parent, title, text: True
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        health.move_button.click()
    health.set_excluded([str(target)])  # excluded at its new place, from the grid
    assert panel.experiment.data.exclude == ["dogs/cats_03.png"]
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        health.undo_button.click()
    assert source.is_file() and not target.exists()
    assert panel.experiment.data.exclude == ["cats/cats_03.png"]
    assert health.status.text() == (
        "Moved cats/cats_03.png back. Its exclusion (data.exclude) follows it, so it stays "
        "out of training.")
    assert not panel.exclusions.unmatched.text()  # it names the image, where it is now
    train, val = panel.split_counts()
    assert train["cats"] + val["cats"] == 11  # still left out of training


def test_the_data_tab_reopens_on_its_health_view(qtbot, tmp_path):
    folder = make_photo_folder(tmp_path / "d", per_class=4)
    exp = health_experiment("hygiene")
    exp.data.folder = str(folder)
    write_session(session_text(exp, b"", "Data"))
    window = app.create_window()
    qtbot.addWidget(window)
    views = window.data_panel.views
    assert views.currentIndex() == 0
    views.setCurrentWidget(window.data_panel.health)
    window.close()
    again = app.create_window()
    qtbot.addWidget(again)
    assert again.data_panel.views.currentWidget() is again.data_panel.health
    again.data_panel.views.setCurrentIndex(0)
    again.close()
    assert "data.views" not in json.loads(session_path().read_text())["window"].get(
        "splitters", {})  # the Dataset view, the default: nothing kept
    task_pool().waitForDone()


def test_the_health_views_own_exclusions_keep_its_check_after_a_restart(qtbot, tmp_path):
    # Measured before: check, exclude the flagged test/ copy, restart: "The exclusions
    # changed since this check ... Check again", of the view's own exclusion.
    root = make_leaky_parts(tmp_path / "d")
    panel = loaded_data_panel(qtbot, root, health_experiment("hygiene"))
    [leak] = [f for f in run_health_check(qtbot, panel.health) if f.kind == "leak"]
    panel.health.select(leak, image=leak.sides.index("test"))
    panel.health.exclude_button.click()
    assert not panel.health.stale.isVisibleTo(panel.health)  # this session: not stale
    exp = panel.experiment.copy()
    assert exp.data.exclude == [LEAK]
    again = loaded_data_panel(qtbot, root, exp)  # the app started again
    said = again.health.stale.label.text()
    assert said.startswith("Shown: the check of ") and "exclusions changed" not in said
