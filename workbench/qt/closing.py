"""Closing the window while a run trains (or a study searches, or labels are checked):
ask first.

A user who closes the window (or presses Ctrl+Q) mid-run may have forgotten the run, and
quitting stops it: the finished epochs, their checkpoint and a model are kept, but the
epochs still planned are not trained (and before its first epoch has finished, nothing of
the run is kept: the last run stays the one Continue… goes on from).
:func:`ask_stop_training` says that and asks; the window only closes on "Stop and quit"
(:class:`~workbench.qt.main_window.MainWindow`'s ``confirm_close``, replaceable in tests).
Ctrl+C in the terminal and SIGTERM (``kill``, a logout) close without asking
(:func:`may_close`): nobody is there to answer.

The run trains on while the question waits: its text follows it (:class:`LiveQuestion`),
so it never names an epoch the run has left behind, and once the run has ended it says so
and offers to quit (nothing is stopped then).

The same goes for the other work whose result the user waits minutes for
(:func:`questions`): a Tune study (its trial is a training run; "Stop and quit" stops it
as the Stop button does, so the trial is recorded as stopped, :class:`StudyQuestion`) and
the Data tab's label check (its findings are saved when it ends). The shorter jobs are
stopped without a question, none leaving a file half-written: Evaluate, Predict and the
LR finder keep their results in memory only, a fast health check takes seconds, and an
export, whose files are written whole (to a temporary file, then renamed), is waited for.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

#: Set on the application when a signal closes the windows: none asks a question first.
QUIT_WITHOUT_ASKING = "workbench_quit_without_asking"


def stop_training_question(panel: Any) -> str:
    """What the question says for the Train panel ``panel`` and its running run: what
    quitting keeps (nothing, before the run's first epoch has finished)."""
    from workbench.core.runs.store import read_run_info

    info = getattr(panel, "info", None) or {}
    epochs = int(info.get("epochs") or panel.experiment.training.epochs)
    done = int(panel.plots.point_counts().get("epochs", 0))  # the epochs drawn: finished
    run_dir = str(info.get("run_dir") or "")
    run = _run_name(panel) or "A run"
    text = f"{run} is training: epoch {min(done + 1, epochs)} of {epochs}.\n\n"
    if done:
        return text + ("Quitting stops it. The finished epochs, their checkpoint and a model "
                       "are kept, and Continue… on the Train tab trains it further after "
                       "the next start.")  # the app's words: no terminal command here
    text += "No epoch has finished yet: quitting now keeps nothing of this run."
    last = str(getattr(panel, "last_run_dir", "") or "")
    if last and last != run_dir and os.path.isfile(os.path.join(last, "checkpoints",
                                                                "last.pt")):
        last_name = read_run_info(last).get("name") or os.path.basename(last)
        text += (f" The last run, “{last_name}”, stays as it was: Continue… on the Train "
                 f"tab trains it further after the next start.")
    return text


def _run_name(panel: Any) -> str:
    """``“name”`` of ``panel``'s run as the Runs tab shows it (not its folder's), or ``""``
    before it has a folder."""
    from workbench.core.runs.store import read_run_info

    run_dir = str((getattr(panel, "info", None) or {}).get("run_dir") or "")
    if not run_dir:
        return ""
    return f"“{read_run_info(run_dir).get('name') or os.path.basename(run_dir)}”"


def ended_question(panel: Any) -> str:
    """What the question says once the run it asked about has ended."""
    return (f"{_run_name(panel) or 'The run'} has ended (the Train tab says how). Nothing "
            f"is training now: quitting stops nothing.")


class Question(QObject):
    """A "Stop and quit?" box (``title``, ``text``) whose answer :meth:`ask` returns;
    :meth:`ended` turns it into "Quit?" once the work it asks about has ended.

    Attributes
    ----------
    box
        The :class:`QMessageBox` (its parent ``parent``); :attr:`stop` and :attr:`keep` its
        buttons ("Stop and quit", and ``keep``, the default).
    """

    def __init__(self, title: str, text: str, keep: str, parent: QWidget | None = None):
        self.box = QMessageBox(QMessageBox.Icon.Question, title, text,
                               QMessageBox.StandardButton.NoButton, parent)
        super().__init__(self.box)  # goes with the box, and its connections with it
        self.stop = self.box.addButton("Stop and quit", QMessageBox.ButtonRole.DestructiveRole)
        self.keep = self.box.addButton(keep, QMessageBox.ButtonRole.RejectRole)
        self.box.setDefaultButton(self.keep)
        self.box.setEscapeButton(self.keep)

    def ended(self, text: str) -> None:
        """The work has ended (``text`` says so): quitting stops nothing now."""
        self.box.setWindowTitle("Quit?")
        self.box.setText(text)
        self.stop.setText("Quit")
        self.keep.setText("Don't quit")

    def ask(self) -> bool:
        """Show the question (modal) until answered; True for "Stop and quit" (or "Quit")."""
        try:
            self.box.exec()
            return self.box.clickedButton() is self.stop
        finally:
            self.box.deleteLater()


class LiveQuestion(Question):
    """The quit question for the Train panel ``panel``'s running run, kept true while it is
    asked: after each epoch the text is said again (the epoch, what quitting keeps), and
    when the run ends, it says so and its buttons become "Quit" and "Don't quit"."""

    def __init__(self, panel: Any, parent: QWidget | None = None):
        super().__init__("Stop training and quit?", stop_training_question(panel),
                         "Keep training", parent)
        self.panel = panel
        # After the panel's own handlers (connected first): the plots hold the new epoch.
        panel.run.epoch_finished.connect(self._on_epoch_finished)
        panel.run.finished.connect(self._on_run_ended)
        panel.run.errored.connect(self._on_run_ended)

    @Slot(object)
    def _on_epoch_finished(self, _metrics: Any) -> None:
        if self.panel.is_running():
            self.box.setText(stop_training_question(self.panel))

    def _on_run_ended(self, *_outcome: Any) -> None:  # finished(summary), errored(message)
        self.ended(ended_question(self.panel))


def study_question(run: Any) -> str:
    """What the question says for the Tune tab's running study (its
    :class:`~workbench.qt.panels.tune.worker.StudyRun` ``run``): the study, its running
    trial and epoch, and what quitting keeps of them."""
    name = f"“{run.study_name}”"
    again = f"To go on with it later, start study {name} again on the Tune tab."
    earlier = ("" if not run.trials_done else " The trial it has finished is kept."
               if run.trials_done == 1 else
               f" The {run.trials_done} trials it has finished are kept.")
    if run.trial is None:
        return (f"Study {name} is searching: its next trial is starting.\n\nQuitting stops "
                f"the study: no more trials start.{earlier} {again}")
    done, epochs = int(run.epoch.get("epoch") or 0), run.epoch.get("epochs")
    if not done:
        return (f"Study {name} is running trial {run.trial}: its first epoch has not "
                f"finished yet.\n\nQuitting stops the study: nothing of trial {run.trial} "
                f"is kept, and no more trials start.{earlier} {again}")
    now, of = (min(done + 1, int(epochs)), f" of {epochs}") if epochs else (done + 1, "")
    return (f"Study {name} is running trial {run.trial}: epoch {now}{of}."
            f"\n\nQuitting stops the study, as its Stop button does: trial {run.trial} is "
            f"recorded as stopped (its {_plural(done, 'finished epoch')} and their "
            f"checkpoint are kept, as a run on the Runs tab), and no more trials start."
            f"{earlier} {again}")


class StudyQuestion(Question):
    """The quit question for the Tune panel ``panel``'s running study, kept true while it
    is asked (each trial started and epoch finished), and "Quit?" once the study ended."""

    def __init__(self, panel: Any, parent: QWidget | None = None):
        super().__init__("Stop the study and quit?", study_question(panel.run),
                         "Keep searching", parent)
        self.panel = panel
        run = panel.run
        for signal in (run.trial_started, run.epoch_finished, run.trial_finished):
            signal.connect(self._on_news)
        run.finished.connect(self._on_study_ended)
        run.errored.connect(self._on_study_ended)

    def _on_news(self, *_args: Any) -> None:
        if self.panel.is_running():
            self.box.setText(study_question(self.panel.run))

    def _on_study_ended(self, *_outcome: Any) -> None:
        self.ended(f"Study “{self.panel.run.study_name}” has ended (the Tune tab says how). "
                   f"Nothing is searching now: quitting stops nothing.")


def labels_question() -> str:
    """What the question says while the Data tab checks the labels."""
    return ("Check labels is running on the Data tab: it trains the network 5 times, which "
            "takes minutes.\n\nQuitting stops it, and none of its findings are kept (the "
            "findings of the last check stay as they were): press Check labels again after "
            "the next start.")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def ask_stop_training(window: QWidget) -> bool:
    """Ask whether to stop the run and quit; True to go on closing."""
    return LiveQuestion(window.train_panel, window).ask()


def questions(window: Any) -> list[Callable[[], bool]]:
    """One question for each piece of work in ``window`` that quitting would stop and that
    is worth asking about (see the module's docstring): each, called, asks and returns True
    for "Stop and quit". Empty when there is none (a tab never built runs nothing)."""
    asks: list[Callable[[], bool]] = []
    train = window.tabs.built_page("train")
    if train is not None and train.is_running():
        asks.append(lambda: LiveQuestion(train, window).ask())
    tune = window.tabs.built_page("tune")
    if tune is not None and tune.is_running():
        asks.append(lambda: StudyQuestion(tune, window).ask())
    data = window.tabs.built_page("data")
    if data is not None and data.health.is_checking(labels=True):
        asks.append(lambda: Question("Stop checking labels and quit?", labels_question(),
                                     "Keep checking", window).ask())
    return asks


def ask_stop_work(window: Any) -> bool:
    """Ask about each piece of work quitting would stop (:func:`questions`), one after
    the other; True when every answer was "Stop and quit" (go on closing)."""
    return all(ask() for ask in questions(window))


def may_close(window: Any) -> bool:
    """Whether ``window`` may close now: nothing runs that quitting would stop unasked, a
    signal is quitting the app, or the user said "Stop and quit" to each
    (``window.confirm_close``)."""
    app = QApplication.instance()
    if not questions(window) or (app is not None and app.property(QUIT_WITHOUT_ASKING)):
        return True
    return bool(window.confirm_close(window))
