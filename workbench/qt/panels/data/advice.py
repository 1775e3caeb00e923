"""The Data panel's image headers and advice: what was chosen from a new dataset, and
one-click suggestions.

:class:`HeaderSummary` reads the loaded dataset's image headers (sizes and colour modes)
off the GUI thread. When the user opens a new dataset, the panel then fits the experiment
to it (:func:`workbench.core.data.defaults.data_defaults`: input size, channels, no flip for
digits or letters) and :class:`DataAdvice` says what it chose and why; once the settings
it chose are changed (on the Data tab, or by a Model tab preset), the line says it as
history ("When the folder was opened, Workbench chose …"), not as what the settings are.
When the images are all grayscale but the experiment keeps three channels, it offers "Use 1
channel".
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workbench.core.experiment import Experiment

from workbench.qt.common import MessageLabel
from workbench.qt.workers import TaskRunner, TaskState


def summarize_headers(folder: str, paths: list[str], state: TaskState) -> tuple:
    """``(folder, summary lines, ImageSummary)`` of ``paths`` (headers only), off the GUI
    thread; ``folder`` tells the panel which dataset the result belongs to."""
    from workbench.core.data.summary import summarize_images

    summary = summarize_images(paths, progress=state.set_progress,
                               is_cancelled=state.is_cancelled)
    return folder, list(summary.describe()), summary


class HeaderSummary(QObject):
    """Reads image headers in the background and shows the summary lines in ``label``; a
    new request supersedes the running one.

    Signals
    -------
    finished(folder, lines, summary)
        The headers of ``folder``'s images are read: the lines shown and the
        :class:`~workbench.core.data.summary.ImageSummary`.
    """

    finished = Signal(str, list, object)

    def __init__(self, label: QLabel, parent: QObject | None = None):
        super().__init__(parent)
        self.label = label
        self._runner = TaskRunner(self, supersede=True)
        self._runner.progressed.connect(self._on_progressed)
        self._runner.finished.connect(self._on_finished)
        self._runner.errored.connect(self._on_errored)

    def start(self, folder: str, paths: list[str]) -> None:
        """Read the headers of ``paths``, the images of ``folder`` (none: clear the label)."""
        if not paths:
            self.cancel_all()
            self.label.setText("")
            return
        self.label.setText(f"Reading the headers of {len(paths):,} images…")
        self._runner.submit(lambda state: summarize_headers(folder, paths, state))

    def cancel_all(self) -> None:
        self._runner.cancel_all()

    @Slot(int, int, int)
    def _on_progressed(self, job: int, done: int, total: int) -> None:
        self.label.setText(f"Reading image headers… {done:,} / {total:,}")

    @Slot(int, object)
    def _on_finished(self, job: int, result: tuple) -> None:
        folder, lines, summary = result
        self.label.setText("\n".join(lines))
        self.finished.emit(folder, list(lines), summary)

    @Slot(int, str)
    def _on_errored(self, job: int, message: str) -> None:
        self.label.setText(f"Could not summarise the images: {message}")


def same_folder(a: str, b: str) -> bool:
    """Whether two dataset paths name the same folder (or CSV file); empty names none."""
    if not a or not b:
        return False

    def norm(p: str) -> str:
        return os.path.normcase(os.path.realpath(os.path.abspath(os.path.expanduser(p))))

    return norm(a) == norm(b)


class DataAdvice(QWidget):
    """Two lines under the Data panel's message: the defaults chosen from a new dataset,
    and a suggestion with its button. Hidden while empty.

    Signals
    -------
    use_one_channel_clicked()
        The user accepted "All images are grayscale: use 1 channel".
    """

    use_one_channel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.chosen = MessageLabel("")
        self.suggestion = MessageLabel("")
        self.use_one_channel = QPushButton("Use 1 channel")
        self.use_one_channel.setToolTip("Train and predict on grayscale images: the network "
                                        "gets one input channel instead of three copies of "
                                        "the same values (a third of the first layer's "
                                        "weights and memory).")
        self.use_one_channel.clicked.connect(self.use_one_channel_clicked)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.suggestion, 1)
        row.addWidget(self.use_one_channel)
        self._row = QWidget()
        self._row.setLayout(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.chosen)
        layout.addWidget(self._row)
        self.show_chosen("")
        self.show_suggestion(None)
        self._adopt_folder = ""  # the new dataset whose header summary sets the defaults
        # (folder, the experiment before, what was chosen, changed) of the last adoption: a
        # later summary of that folder (its damaged images left out) re-words the line.
        self._adopted: tuple[str, Experiment, tuple, bool] | None = None
        # (the sentence's choices, their change hint, the settings right after them): the
        # line reads as history once the experiment's settings differ (:meth:`follow`).
        self._chosen: tuple[str, bool, tuple] | None = None

    # -- a new dataset's defaults ----------------------------------------------------------
    def expect(self, folder: str, adopt: bool | None, current: str) -> None:
        """A scan of ``folder`` starts; ``current`` is ``experiment.data.folder`` before it.
        ``adopt`` None: fit the experiment only when ``folder`` is another dataset."""
        if adopt is None:
            adopt = not same_folder(folder, current)
        self._adopt_folder = folder if adopt else ""
        if adopt:
            self._adopted = None
            self._chosen = None
            self.show_chosen("")

    def cancel(self) -> None:
        """The scan failed or another experiment was opened: adopt nothing."""
        self._adopt_folder = ""
        self._adopted = None

    def summary_ready(self, experiment: Experiment, index: Any, folder: str,
                      summary: Any) -> tuple[bool, str] | None:
        """The header ``summary`` of ``folder`` is read. If that dataset is the new one
        expected, fit ``experiment`` to it and say so: returns ``(changed, text)``; else
        None. Either way the grayscale suggestion follows the summary.

        A later summary of the adopted folder (the images that could not be decoded left
        out) re-words the "Chosen for this dataset" line with its counts, when it would
        choose the same: the line then counts what the rest of the tab counts."""
        adopt = bool(self._adopt_folder) and self._adopt_folder == folder
        self._adopt_folder = ""
        result = None
        if adopt and index is not None:
            before = experiment.copy()
            result = adopt_defaults(experiment, index, summary)
            self._adopted = (folder, before, _choice(result[2]), result[0])
            self._chosen = (result[2].describe(), result[0], chosen_settings(experiment))
            self.show_chosen(result[1])
        elif self._adopted is not None and self._adopted[0] == folder and index is not None:
            from workbench.core.data.defaults import data_defaults

            _, before, chosen, changed = self._adopted
            defaults = data_defaults(before, index, summary)
            if _choice(defaults) == chosen:
                if self._chosen is not None:
                    self._chosen = (defaults.describe(), changed, self._chosen[2])
                self.show_chosen(_chosen_text(defaults, changed))
        self.update_suggestion(experiment, summary)
        return result[:2] if result else None

    def show_chosen(self, text: str, level: str = "info") -> None:
        """The line saying what was chosen from the data ("" hides it)."""
        self.chosen.show_message(text, level)
        self.chosen.setVisible(bool(text))
        self._update_visible()

    def show_suggestion(self, text: str | None) -> None:
        """The grayscale suggestion with its button (None hides both)."""
        self.suggestion.show_message(text or "", "info")
        self._row.setVisible(bool(text))
        self._update_visible()

    def update_suggestion(self, experiment: Experiment, summary: Any) -> None:
        """Show the suggestion when ``summary`` (an ImageSummary, or None) says every image
        is grayscale and ``experiment`` keeps three channels; and re-word the chosen line
        (:meth:`follow`)."""
        self.follow(experiment)
        text = None
        if summary is not None:
            from workbench.core.data.defaults import grayscale_suggestion

            text = grayscale_suggestion(experiment, summary)
            if text:
                text += (" (the network then gets one input channel instead of three copies "
                         "of the same values)")
        self.show_suggestion(text)

    def follow(self, experiment: Experiment) -> None:
        """Say what was chosen as history while ``experiment``'s settings differ from what
        was chosen (the user changed them), as the present again when they are back."""
        if self._chosen is None or not self.chosen.text():
            return
        describe, changed, settings = self._chosen
        if chosen_settings(experiment, settings) == settings:
            text = _chosen_text_of(describe, changed)
        else:
            text = (f"When the folder was opened, Workbench chose {describe}. The settings "
                    f"below have been changed since: they are what training uses.")
        if text != self.chosen.text():
            self.show_chosen(text)

    def suggestion_text(self) -> str:
        return self.suggestion.text() if self._row.isVisibleTo(self) else ""

    def _update_visible(self) -> None:
        self.setVisible(bool(self.chosen.text()) or bool(self.suggestion.text()))


def adopt_defaults(experiment: Experiment, index: Any,
                   summary: Any) -> tuple[bool, str, Any]:
    """Fit ``experiment`` to the dataset ``index`` (sizes and modes from ``summary``), in
    place; returns ``(changed, the sentence saying what was chosen and why, the
    DataDefaults)``."""
    from workbench.core.data.defaults import apply_data_defaults, data_defaults

    defaults = data_defaults(experiment, index, summary)
    changed = apply_data_defaults(experiment, defaults)
    return changed, _chosen_text(defaults, changed), defaults


def chosen_settings(experiment: Experiment, like: tuple | None = None) -> tuple:
    """The data settings the "Chosen for this dataset" line speaks of: input size, channels,
    and mean and std where a pretrained backbone chose them (as in ``like``, when given)."""
    from workbench.core.data.defaults import has_backbone

    d = experiment.data
    out: tuple = ([int(v) for v in d.input_size], int(d.channels))
    if (like is not None and len(like) > 2) or \
            (like is None and has_backbone(experiment) is not None):
        out += ([round(float(v), 6) for v in d.mean], [round(float(v), 6) for v in d.std])
    return out


def _chosen_text(defaults: Any, changed: bool) -> str:
    return _chosen_text_of(defaults.describe(), changed)


def _chosen_text_of(describe: str, changed: bool) -> str:
    text = f"Chosen for this dataset: {describe}."
    if changed:
        text += " Change them in Settings (and Augment) if they do not suit."
    return text


def _choice(defaults: Any) -> tuple:
    """What a DataDefaults decided, without its reasons (to compare two)."""
    return (list(defaults.input_size), int(defaults.channels), list(defaults.removed))
