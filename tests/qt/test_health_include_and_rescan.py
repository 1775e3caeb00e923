"""Bringing excluded images back, and a broken file added meanwhile (walker report
"walk-health"): "Include all" asks first when more than a few images would come back, and
every include says which images are back (the line kept saying "Excluded … from
training." of an image no longer excluded); images the check left out that are included
again mark it out of date at once, as a restart did; a broken file added while the app
is open is "1 unreadable file added", on the Data tab's line and the Health tab's bar."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from helpers import LEAK, make_leaky_parts, make_photo_folder
from qt_helpers import health_experiment, loaded_data_panel, run_health_check

WAIT_MS = 30000


def _asked(health, answer: bool) -> list[str]:
    """Answer the view's questions with ``answer``; returns what it asked."""
    asked: list[str] = []
    health.confirm = lambda _parent, _title, text: asked.append(text) or answer
    return asked


def test_include_all_asks_first_and_every_include_says_what_came_back(qtbot, tmp_path):
    root = make_leaky_parts(tmp_path / "d")
    panel = loaded_data_panel(qtbot, root, health_experiment("walk"))
    health = panel.health
    run_health_check(qtbot, health)
    train = [str(root / "train" / "dogs" / f"dogs_0{i}.png") for i in range(4)]
    health.set_excluded(train + [str(root / LEAK)])
    made = list(panel.experiment.data.exclude)
    assert len(made) == 5 and health.status.text().startswith("Excluded 4 images")

    asked = _asked(health, False)  # pressed by accident: No keeps every exclusion
    health.excluded.include_all_button.click()
    assert asked == ["Bring all 5 excluded images back into training and evaluation?\n\n"
                     "data.exclude is emptied: to leave them out again, exclude each one "
                     "again."]
    assert panel.experiment.data.exclude == made

    health.excluded.list.item(0).setSelected(True)  # Include again: chosen, not asked
    health.excluded.include_button.click()
    assert len(asked) == 1 and panel.experiment.data.exclude == made[1:]
    assert health.status.text() == \
        "train/dogs/dogs_00.png is included in training again."

    _asked(health, True)
    health.excluded.include_all_button.click()
    assert panel.experiment.data.exclude == []
    assert health.status.text() == (
        "3 images are included in training again, and test/cats/cats_from_train.png in "
        "evaluation on the test part.")


def test_a_few_are_included_without_asking(qtbot, tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    panel = loaded_data_panel(qtbot, root, health_experiment("walk"))
    health = panel.health
    health.set_excluded([str(root / "cats" / "cats_01.png")])
    panel.experiment.data.exclude = panel.experiment.data.exclude + ["cats/typo.png"]
    asked = _asked(health, False)
    health.excluded.include_all_button.click()
    assert asked == [] and panel.experiment.data.exclude == []
    assert health.status.text() == ("cats/cats_01.png is included in training again. "
                                    "Removed 1 entry that matched no image from "
                                    "data.exclude.")


def test_an_image_the_check_left_out_included_again_marks_it_out_of_date_at_once(
        qtbot, tmp_path):
    root = make_leaky_parts(tmp_path / "d")
    panel = loaded_data_panel(qtbot, root, health_experiment("walk"))
    health = panel.health
    health.set_excluded([str(root / LEAK)])
    run_health_check(qtbot, health)  # the leak's test/ copy left out: no leak
    assert not [f for f in health.model.findings if f.kind == "leak"]
    assert not health.stale.isVisibleTo(health)

    health.excluded.include_all_button.click()  # one image: not asked
    said = ("The exclusions changed since this check: 1 image you included again was not "
            "checked (data.exclude had 1 entry then, none now). Check again to check it.")
    assert health.stale.text() == said
    # What a restart shows (it did before too): the same words.
    again = loaded_data_panel(qtbot, root, panel.experiment.copy())
    assert again.health.stale.label.text() == said
    again.close()

    health.set_excluded([str(root / LEAK)])  # as it was checked: no longer out of date
    assert not health.stale.isVisibleTo(health)
    health.excluded.include_all_button.click()
    assert health.stale.text() == said
    # The folder changed too: that says more (as after a restart).
    (root / "train" / "dogs" / "late.png").write_bytes((root / LEAK).read_bytes())
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        QApplication.instance().applicationStateChanged.emit(
            Qt.ApplicationState.ApplicationActive)
    assert health.stale.text().startswith("The folder changed since this check (1 image ")


def test_an_added_broken_file_is_an_unreadable_file_not_an_image(qtbot, tmp_path):
    root = make_photo_folder(tmp_path / "d", per_class=6)
    panel = loaded_data_panel(qtbot, root)
    health = panel.health
    run_health_check(qtbot, health)
    (root / "dogs" / "broken_new.jpg").write_bytes(b"not a jpeg")
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        QApplication.instance().applicationStateChanged.emit(
            Qt.ApplicationState.ApplicationActive)
    assert panel.message.text().startswith(
        "The folder changed: 1 unreadable file added (rescanned).")
    assert health.stale.text().startswith(
        "The folder changed since this check (1 unreadable file added): ")
