"""A new dataset's defaults in the app: chosen from the data, said, and never re-applied to
the same folder; the one-click grayscale suggestion; the flip hint's Remove button."""

from __future__ import annotations

import pytest

from helpers import make_image_folder
from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.qt.panels.data.panel import DataPanel

WAIT_MS = 30000
DIGITS = tuple(str(i) for i in range(10))


@pytest.fixture
def digits(tmp_path):
    """10 digit classes x 2 grayscale 28x28 images (like MNIST)."""
    return make_image_folder(tmp_path / "digits", classes=DIGITS, per_class=2, size=28,
                             mode="L")


def _panel(qtbot, exp: Experiment) -> DataPanel:
    panel = DataPanel(exp)
    qtbot.addWidget(panel)
    return panel


def _preset_like() -> Experiment:
    exp = Experiment()  # 32x32, RGB, a horizontal flip: the app's default
    assert exp.data.input_size == [32, 32] and exp.data.channels == 3
    assert [t.type for t in exp.augment.transforms] == ["RandomHorizontalFlip"]
    return exp


def test_a_new_folder_adopts_the_datas_defaults_and_says_so(qtbot, digits):
    exp = _preset_like()
    panel = _panel(qtbot, exp)
    changed = []
    panel.experiment_changed.connect(lambda: changed.append(1))
    with qtbot.waitSignal(panel.defaults_adopted, timeout=WAIT_MS) as blocker:
        panel.load_folder(digits)
    assert exp.data.input_size == [28, 28] and exp.data.channels == 1
    assert exp.data.mean == [0.5] and exp.data.std == [0.5]
    assert exp.augment.transforms == []
    assert changed  # the Augment and Model tabs hear of it
    text = blocker.args[0]
    assert text == panel.advice.chosen.text() and panel.advice.chosen.isVisibleTo(panel)
    assert "28x28 and 1 channel" in text and "no horizontal flip" in text and "digits" in text
    # The settings show the new values.
    assert (panel.settings.height_spin.value(), panel.settings.width_spin.value()) == (28, 28)
    assert panel.settings.channels_combo.currentData() == 1
    # Nothing left to suggest: the experiment already has one channel.
    assert panel.advice.suggestion_text() == ""


def test_reloading_the_same_folder_changes_nothing(qtbot, digits):
    exp = _preset_like()
    exp.data.folder = digits  # e.g. the app restoring the last session
    before = exp.to_dict()
    panel = _panel(qtbot, exp)
    adopted = []
    panel.defaults_adopted.connect(adopted.append)
    with qtbot.waitSignal(panel.summary_finished, timeout=WAIT_MS):
        panel.load_folder(digits)
    qtbot.waitUntil(lambda: not panel.is_scanning(), timeout=WAIT_MS)
    with qtbot.waitSignal(panel.summary_finished, timeout=WAIT_MS):
        panel.rescan_button.click()
    assert adopted == []
    assert exp.to_dict() == before
    assert panel.advice.chosen.text() == ""


def test_adopt_defaults_can_be_forced_either_way(qtbot, digits, tmp_path):
    exp = _preset_like()
    exp.data.folder = digits
    panel = _panel(qtbot, exp)
    with qtbot.waitSignal(panel.defaults_adopted, timeout=WAIT_MS):
        panel.load_folder(digits, adopt_defaults=True)  # a folder given on the command line
    assert exp.data.channels == 1

    other = make_image_folder(tmp_path / "letters", classes=("a", "b"), per_class=2, size=20,
                              mode="L")
    exp.augment.transforms = [Component("RandomHorizontalFlip")]
    adopted = []
    panel.defaults_adopted.connect(adopted.append)
    with qtbot.waitSignal(panel.summary_finished, timeout=WAIT_MS):
        panel.load_folder(other, adopt_defaults=False)
    assert adopted == [] and exp.data.input_size == [28, 28]
    assert [t.type for t in exp.augment.transforms] == ["RandomHorizontalFlip"]


def test_grayscale_data_kept_as_rgb_gets_a_one_click_suggestion(qtbot, digits):
    exp = _preset_like()
    exp.data.folder = digits
    panel = _panel(qtbot, exp)
    panel.show()
    with qtbot.waitSignal(panel.summary_finished, timeout=WAIT_MS):
        panel.load_folder(digits)
    assert exp.data.channels == 3  # the same folder: nothing adopted...
    assert panel.advice.suggestion_text().startswith("All images are grayscale: use 1 channel")
    assert panel.advice.use_one_channel.isVisible()  # ...but suggested
    with qtbot.waitSignal(panel.experiment_changed, timeout=WAIT_MS):
        panel.advice.use_one_channel.click()
    assert exp.data.channels == 1 and len(exp.data.mean) == 1
    assert panel.settings.channels_combo.currentData() == 1
    assert panel.advice.suggestion_text() == "" and not panel.advice.use_one_channel.isVisible()
    # Back to RGB by hand: the suggestion comes back.
    panel.settings.set_channels(3)
    assert panel.advice.use_one_channel.isVisible()


def test_colour_data_gets_no_grayscale_suggestion(qtbot, image_folder):
    panel = _panel(qtbot, Experiment())
    with qtbot.waitSignal(panel.summary_finished, timeout=WAIT_MS):
        panel.load_folder(str(image_folder))
    assert panel.advice.suggestion_text() == ""


def test_a_new_dataset_in_the_window_refreshes_the_augment_list(qtbot, digits):
    from workbench.qt.main_window import MainWindow

    exp = _preset_like()
    window = MainWindow(exp)
    qtbot.addWidget(window)
    assert window.augment_panel.list.count() == 1
    with qtbot.waitSignal(window.data_panel.defaults_adopted, timeout=WAIT_MS):
        window.load_folder(digits)
    assert window.augment_panel.list.count() == 0  # the flip is gone from the Augment tab


def test_flip_hint_on_digits_offers_to_remove_the_flip(qtbot, digits):
    from workbench.core.data.scan import scan_folder
    from workbench.qt.panels.augment.panel import AugmentPanel

    exp = Experiment()
    exp.data.input_size = [28, 28]
    exp.augment.transforms = [Component("RandomHorizontalFlip", {"p": 0.5}),
                              Component("RandomRotation", {"degrees": 10.0})]
    panel = AugmentPanel(exp)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitSignal(panel.preview_updated, timeout=WAIT_MS).wait()
    panel.set_index(scan_folder(digits))
    assert "Hint: RandomHorizontalFlip may change the label" in panel.hints.text()
    assert "'0'" in panel.hints.text() and "digits" in panel.hints.text()
    assert panel.remove_flips_button.isVisible()
    changed = []
    panel.experiment_changed.connect(lambda: changed.append(1))
    panel.remove_flips_button.click()
    assert [t.type for t in exp.augment.transforms] == ["RandomRotation"]
    assert [panel.list.item(i).text() for i in range(panel.list.count())] == ["RandomRotation"]
    assert changed and not panel.remove_flips_button.isVisible()
    assert "RandomHorizontalFlip" not in panel.hints.text()
    panel.shutdown()


def test_the_chosen_line_counts_what_the_tab_counts_once_damaged_images_are_found(
        qtbot, tmp_path):
    # From a user's day: a cut-off JPEG's header reads, so the line said "modes RGB 11, L 2"
    # while the tab (the image left out once it failed to decode) counted 12 images.
    import io

    from PIL import Image

    root = tmp_path / "d"
    for c in ("cats", "dogs"):
        (root / c).mkdir(parents=True)
        for i in range(5):
            Image.new("RGB", (40, 30), (i * 40, 100, 50)).save(root / c / f"{i}.png")
        Image.new("L", (40, 30), 90).save(root / c / "gray.png")
    buf = io.BytesIO()
    Image.effect_noise((40, 30), 60).convert("RGB").save(buf, "JPEG", quality=95)
    (root / "cats" / "cut.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    exp = Experiment()
    panel = _panel(qtbot, exp)
    with qtbot.waitSignal(panel.dataset_loaded, timeout=WAIT_MS):
        panel.load_folder(str(root))
    assert sum(panel.index.counts().values()) == 12 and len(panel.index.unreadable) == 1
    qtbot.waitUntil(lambda: "modes RGB 10, L 2" in panel.advice.chosen.text(),
                    timeout=WAIT_MS)
    assert exp.data.input_size == [30, 40] and exp.data.channels == 3


def test_the_chosen_line_turns_into_history_once_the_settings_are_changed(qtbot, digits):
    exp = _preset_like()
    panel = _panel(qtbot, exp)
    with qtbot.waitSignal(panel.defaults_adopted, timeout=WAIT_MS):
        panel.load_folder(digits)
    chosen = panel.advice.chosen
    assert chosen.text().startswith("Chosen for this dataset: input 28x28 and 1 channel")
    panel.settings.height_spin.setValue(64)  # the user's own size
    assert exp.data.input_size[0] == 64
    assert chosen.text().startswith("When the folder was opened, Workbench chose input "
                                    "28x28 and 1 channel")
    assert "changed since" in chosen.text() and "Chosen for this dataset" not in chosen.text()
    exp.data.input_size = [28, 28]  # back to what was chosen (e.g. Ctrl+Z)
    assert chosen.text().startswith("Chosen for this dataset: input 28x28")
