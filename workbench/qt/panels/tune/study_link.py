"""Which study the Tune tab's table shows, and to which experiment its best trial goes.

:class:`StudyFollower` keeps the trials table on the study that the Study name and Storage
fields name (a blank name: ``<dataset>-<network>`` of the open experiment, as Start names
it): when either field changes, or another experiment is opened, the table is emptied and
that study's stored trials are listed (off the GUI thread, :class:`.state.StoredStudy`).
The study shown is listed again (:meth:`StudyFollower.relist`) when the tab is shown, the
window activated, Apply best pressed, and every :data:`RELIST_MS` while the tab is visible:
trials a terminal's ``workbench tune`` adds to it are merged in.
A caption above the table names the study shown and the experiment it searched.

:func:`check_apply` guards "Apply best": the study's best trial goes into the open
experiment only when the table shows the study the fields name, and, when the study
searched another experiment (another dataset or network, :mod:`workbench.core.tune.
provenance`), only once the user says so. :func:`metric_refusal` keeps Start from
continuing a study with another Metric than the one it measures: Start refuses from the
metric the listing read (:meth:`StudyFollower.refusal`), the study's worker from the
storage (:class:`.worker.StudyWorker`), so no storage is opened on the GUI thread (a
database that does not answer would freeze the window).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from workbench.core.runs.names import run_name_base

#: How long typing in the Study name or Storage field rests before the study is listed.
FOLLOW_DELAY_MS = 400
#: How often the shown study is listed again while the tab is visible and no study runs
#: here: a terminal's ``workbench tune`` adds trials to it.
RELIST_MS = 10000


def ask_apply_other(parent: QWidget, text: str) -> bool:
    """Whether to apply a study's best trial to an experiment it did not search."""
    answer = QMessageBox.question(parent, "Apply another experiment's best trial?", text,
                                  QMessageBox.StandardButton.Apply
                                  | QMessageBox.StandardButton.Cancel,
                                  QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Apply


class StudyFollower(QObject):
    """Keeps the Tune ``panel``'s table on the study its fields name (module docstring)."""

    def __init__(self, panel: Any):
        super().__init__(panel)
        from workbench.qt.panels.tune.state import StoredStudy

        self.panel = panel
        self.lister = StoredStudy(panel)
        #: The experiment the shown study searched (its mark), once known.
        self.mark: dict[str, Any] | None = None
        #: The metric the shown study measures, once listed (None: unknown, or none named).
        self.metric: str | None = None
        self.timer = QTimer(self, singleShot=True, interval=FOLLOW_DELAY_MS)
        self.timer.timeout.connect(self.follow)
        panel.name_edit.textChanged.connect(lambda _t: self.timer.start())
        panel.storage_edit.textChanged.connect(lambda _t: self.timer.start())
        self.poll = QTimer(self, interval=RELIST_MS)
        self.poll.timeout.connect(lambda: panel.isVisible() and self.relist())
        self.poll.start()

    def key(self) -> tuple[str, str]:
        """The storage URL and study name the fields name now."""
        from workbench.core.tune.storage import storage_url

        panel = self.panel
        url = storage_url(panel.storage_edit.text()) or panel.default_storage_text()
        name = panel.name_edit.text().strip() or run_name_base(panel.experiment)
        return url, name

    def shows_named_study(self) -> bool:
        return self.panel.results.study == self.key()

    def follow(self) -> bool:
        """Show the study the fields name, when the table shows another (not while a study
        runs: its table is that study's). Returns whether the table was emptied."""
        self.timer.stop()
        panel = self.panel
        if panel.is_running() or self.shows_named_study():
            return False
        url, name = self.key()
        panel.summary = None
        self.mark = self.metric = None
        panel.results.reset(url, name, panel.metric_combo.currentText(),
                            not panel.metric_combo.currentText().endswith("loss"))
        self.show_caption()
        from workbench.qt.startup import torch_loader

        # Optuna is imported in a pool thread: never alongside torch's first import.
        torch_loader().call_when_ready(self.lister.list, panel)
        return True

    def relist(self) -> bool:
        """List the shown study again, when it is the one named and no study runs here (its
        table is live then): trials another process added since are merged into the
        table (:meth:`.state.StoredStudy._merge`). Returns whether it was asked for."""
        panel = self.panel
        if panel.is_running() or panel._shut_down or not panel.results.study[1] \
                or not self.shows_named_study():
            return False
        from workbench.qt.startup import torch_loader

        torch_loader().call_when_ready(lambda: self.lister.list(again=True), panel)
        return True

    def shown(self, summary: Any, metric: str | None = None) -> None:
        """The table now shows ``summary``'s study (listed, or run here), which measures
        ``metric`` (None: it names none, or unknown)."""
        self.mark = getattr(summary, "experiment", None)
        self.metric = metric
        self.show_caption(len(summary.trials))

    def refusal(self, metric: str) -> str | None:
        """Why Start must not run the named study with ``metric``, from what its listing
        read (:func:`metric_refusal`); None when it was not listed (the worker checks)."""
        if not self.shows_named_study():
            return None
        return metric_refusal(self.key()[1], self.metric, metric)

    def show_caption(self, count: int | None = None) -> None:
        from workbench.core.tune.provenance import mark_name

        url, name = self.panel.results.study
        if not name:
            self.panel.results.caption.setText("")
            return
        trials = ("" if count is None else
                  f": {count} trial(s)" if count else ": no trials stored yet")
        searched = mark_name(self.mark)
        text = (f"Study {name}{trials}" + (f" (searched on experiment \"{searched}\")"
                                            if searched else ""))
        self.panel.results.caption.setText(text)
        self.panel.results.caption.setToolTip(f"{text}\nStorage: {url}")


def metric_refusal(name: str, stored: str | None, metric: str) -> str | None:
    """Why Start must not run study ``name``, which measures ``stored`` (None: no such
    study yet, or it names none), with ``metric``: its values are of the stored metric,
    and its direction follows it. None when it may."""
    if stored is None or stored == metric:
        return None
    return f"Study {name} measures {stored}: set Metric to {stored}, or type another Study name"


def check_apply(panel: Any, follower: StudyFollower,
                ask: Callable[[QWidget, str], bool]) -> bool:
    """Whether "Apply best" may write the shown study's best trial into the open
    experiment; says why not on the message line."""
    from workbench.core.tune.provenance import mark_differences, mark_name

    if not panel.is_running() and follower.follow():
        panel.message.show_message(
            f"The table showed another study than the one named: listing study "
            f"{follower.key()[1]} now; press Apply best once its trials are shown",
            "warning")
        return False
    differences = mark_differences(follower.mark, panel.experiment)
    if not differences:
        return True
    name = panel.results.study[1]
    searched = mark_name(follower.mark)
    what = f"experiment {searched}" if searched else "another experiment"
    text = (f"Study {name} searched {what}, not the one open now: {'; '.join(differences)}. Its best trial's values may "
            f"not suit this experiment. Apply them anyway?")
    if ask(panel, text):
        return True
    panel.message.show_message(
        f"Did not apply study {name}'s best trial: it searched another experiment "
        f"({'; '.join(differences)}). Open that experiment, or start a study on this one",
        "warning")
    return False


def show_run_in_runs(window: Any, path: str) -> None:
    """Show the Runs tab of ``window`` with run folder ``path`` selected (a Tune row's run);
    a run not listed yet (the trial just ended) is selected once the tab has re-read the
    runs folder, and one still not there (deleted, or in another runs folder) is named on
    the tab's message line."""
    runs = window.runs_panel
    window.tabs.setCurrentWidget(runs)

    def select(_count: int = 0) -> bool:
        runs.select_paths([path])
        rows = runs.table.selectionModel().selectedRows()
        if rows:
            runs.table.scrollTo(rows[0])
        return bool(rows)

    if not select():
        def once(count: int) -> None:
            runs.refreshed.disconnect(once)
            if not select(count):
                runs.message.show_message(
                    f"The trial's run {path} is not in the runs listed here: it was deleted, "
                    f"or is in another runs folder", "warning")
        runs.refreshed.connect(once)
        runs.refresh()
