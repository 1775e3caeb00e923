"""The Train tab's training doctor: the run's findings in a "Doctor" tab beside the
settings, and what their fix buttons do.

The tab appears (and is shown) when the run's first finding arrives, and goes when a new
run starts, so it takes no room from the plots and none at all while there is nothing to
say. A continued run shows its earlier segments' findings too (read from its run.json).

A fix (a finding's ``action``, see :mod:`workbench.core.train.doctor.findings`):

- ``set``: written into the app's current Experiment through its change events, the path
  every tab hears (:class:`~workbench.core.events.CurrentExperiment`), after
  :func:`~workbench.core.tune.space.apply_params` has validated it; a bad path or value is
  shown in the status line, nothing changes;
- ``continue``: then continues the run with those settings, through the Train tab's own
  Continue (its dialog asks how far; see :meth:`~workbench.qt.panels.train.control.
  RunControl.continue_run`); a run with no checkpoint says to press Start instead;
- ``open``: "augment" or "model" asks for that tab (``open_requested``, the window switches),
  "lr_finder" opens the learning-rate finder.

Once a fix has set something, every finding shown was found at the settings it changed:
they are shown as addressed (:meth:`~workbench.qt.panels.train.findings.FindingsView.
mark_addressed`), their buttons disabled, until a new run clears them or the continued
run's epochs bring findings of their own. The greying that lasts is run.json's: the
continued run withdraws a finding it shows fixed (``resolved``: "fixed by continuing at lr
0.001: …", :func:`~workbench.core.train.doctor.resolved.withdraw_fixed`), which replaces the
fix's note (a divergence only once the continued run kept an epoch); a restored run greys,
as "Applied: …", the findings whose fix the run was continued with (its experiment.json has
what their fix sets), so a restart offers no fix the run already has. The Doctor tab's
title, icon and colour tell only the findings still open ("Doctor (1)"; "Doctor (fix
applied)", grey, when a fix addressed all, until the run shows them fixed).
A learning-rate sweep still looking for a rate after a divergence is stopped: its proposal
would be a second fix over the one chosen (the line under the plots says so).

A finding whose fix is the network's or the augmentation's ("Open the Model tab", or a fix
that sets ``model.layers`` such as "Remove layer 7 (Softmax)": the network itself is the
cause, :func:`~workbench.core.train.doctor.causes.model_causes`; "Remove the flip": an
augmentation that changes the label) is checked again at each edit of the experiment, and
for a restored run once its own experiment can be loaded (after a restart): when
its cause is gone it is shown as addressed ("Fixed on the Model tab: …"), saying that only
a new run trains the fixed network (continuing goes on with the run's own network and
weights: the Continue dialog says so too, :meth:`TrainFindings.continue_note`). Such a fix
sets the layer or transform list the run had, less the culprit: once that list was edited
since the run, the button opens the tab instead, whose own fix applies to the list as it
is now.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QColor, QIcon

from workbench.core.errors import WorkbenchError

from workbench.qt.evented import subscribe

from workbench.qt.panels.train.after_divergence import LRAfterDivergence
from workbench.qt.panels.train.apply_fix import apply_settings  # (also imported from here)
from workbench.qt.panels.train.finding_texts import done_text, settings_text
from workbench.qt.panels.train.findings import (ADDRESSED, APPLIED, OPENS, WITHDRAWN,
                                                FindingsView, app_text, run_findings,
                                                sentence, severity_colour, severity_icon,
                                                worst)
from workbench.qt.panels.train.saved_run import saved_experiment
from workbench.qt.startup import when_torch_ready


def _elsewhere(action: dict[str, Any]) -> str:
    """The tab whose edit ``action`` is ("Model", "Augment": the network's or the
    augmentation's own fix), or "" for a fix of the run's settings."""
    sets = list(action["set"])
    if action["continue"]:
        return ""
    if not sets:
        return {"model": "Model", "augment": "Augment"}.get(action["open"], "")
    if all(k.startswith("model.layers") for k in sets):
        return "Model"
    return "Augment" if sets == ["augment.transforms"] else ""


class TrainFindings(QObject):
    """The Train panel's findings (:attr:`view`, a tab of ``panel.settings_tabs`` while
    there are some) and their fixes.

    Signals
    -------
    open_requested(name)
        A fix asks for the "augment" or "model" tab.
    """

    open_requested = Signal(str)
    TITLE = "Doctor"

    def __init__(self, panel: Any):
        super().__init__(panel)
        self.panel = panel
        self.view = FindingsView(with_fixes=True, parent=panel.settings_tabs)
        self.view.hide()  # a tab of it once there is a finding (_on_changed)
        self.view.setToolTip("What the training doctor noticed during this run, and a fix "
                             "for each where there is one")
        self.run_dir = ""  # the run the findings are of
        self.view.fix_requested.connect(self.fix)
        self.view.changed.connect(self._on_changed)
        panel.run.finding.connect(self.view.add_finding)
        panel.run.finding.connect(lambda _f: self.recheck())  # (one withdrawn: its cause?)
        panel.run.fit_started.connect(self._on_fit_started)
        panel.run.finished.connect(lambda _summary: self.view.set_running(False))
        panel.run.errored.connect(lambda _message: self.view.set_running(False))
        panel.training_started.connect(self._on_training_started)
        # First of the run's errored handlers: the sweep starts before any message box.
        self.after_divergence = LRAfterDivergence(panel)
        self.trained: Any = None  # the Experiment the run trained (its causes: recheck)
        self.classes: list[str] = []
        self._run_causes: list[Any] | None = None
        self._applying = False  # a fix button's edit is being made (recheck waits)
        self._saved_run = ""  # a restored run whose experiment is not loaded yet
        subscribe(self, panel.current.changed, lambda _s, _f: self.recheck())
        # A restored run's classes may be the scan's (a run that kept no bundle).
        subscribe(self, panel.current.dataset_changed, lambda _index: self.recheck())

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.view.findings

    def shutdown(self) -> None:
        """Stop the learning-rate sweep after a divergence, if one runs (closing)."""
        self.after_divergence.shutdown()

    def fix_button(self, i: int) -> Any:
        """Finding ``i``'s fix button (None when it has none)."""
        return self.view.fix_button(i)

    # -- the run's news ----------------------------------------------------------------------
    @Slot()
    def _on_training_started(self) -> None:
        self.view.set_running(True)
        self._saved_run = ""
        if not self.panel.continue_summary:  # a new run (a continued one: at fit start)
            self.view.clear()
            self.trained, self._run_causes = self.panel.experiment.copy(), None

    @Slot(object)
    def _on_fit_started(self, info: dict) -> None:
        run_dir = str(info.get("run_dir") or "")
        self.classes = [str(c) for c in info.get("classes") or []]
        saved = Path(run_dir) / "experiment.json"
        if run_dir and saved.is_file():  # a continued run trains its own experiment
            from workbench.core.experiment import Experiment

            try:
                self.trained, self._run_causes = Experiment.load(saved), None
            except (OSError, ValueError, WorkbenchError):
                pass
        earlier = info.get("findings")
        if not isinstance(earlier, list):
            earlier = run_findings(run_dir)  # a continued run's earlier segments' findings
        if run_dir != self.run_dir:
            self.view.set_findings(earlier)
        else:
            for f in earlier:
                self.view.add_finding(f)
        self.run_dir = run_dir
        self.recheck()

    def show_saved_run(self, run_dir: str) -> None:
        """Show the findings ``run_dir``'s run.json keeps, with their fix buttons: the last
        session's run, restored (a diverged run's "Train with lr …"). Reads run.json only:
        torch may not be imported yet. Whether the Model or Augment tab fixed one since is
        checked (:meth:`recheck`) once torch is imported and the run's classes are known
        (its bundle's, else the dataset's scan): the run's own experiment is then loaded."""
        self.run_dir = str(run_dir)
        self.trained, self._run_causes, self.classes = None, None, []
        self._saved_run = self.run_dir
        self.view.set_findings(run_findings(run_dir))
        trained = saved_experiment(run_dir)
        for i, row in enumerate(self.view.rows):  # continued with its fix: not offered again
            action = row.finding["action"] or {"set": {}}
            sets, tab = action["set"], _elsewhere(action) if action["set"] else ""
            if not row.note and sets and all(_holds(trained, path, value)
                                             for path, value in sets.items()):
                what = settings_text(sets) if not tab else done_text(action["label"], tab)[0]
                self.view.mark_fixed_elsewhere(i, f"{APPLIED}{what[:1].lower()}{what[1:]}.")
        when_torch_ready(self.recheck, self)

    def _load_saved_run(self) -> bool:
        """The restored run's own experiment (:attr:`trained`) and classes, from its folder,
        once torch is imported (an Experiment's validation imports it: never on the GUI
        thread while the loader thread does) and its classes are known; True when loaded
        now."""
        from workbench.qt.startup import torch_loader

        run_dir = self._saved_run
        if not run_dir or not torch_loader().is_ready():
            return False
        from workbench.core.experiment import Experiment
        from workbench.core.runs.classes import bundle_classes

        index = self.panel.current.dataset
        classes = bundle_classes(Path(run_dir) / "bundle.pt") or \
            list(getattr(index, "classes", None) or [])
        if not classes:
            return False  # (the scan tells them)
        self._saved_run = ""
        try:
            trained = Experiment.load(Path(run_dir) / "experiment.json")
        except (OSError, ValueError, WorkbenchError):
            return False  # (no run's experiment to compare with: the findings stay open)
        self.trained, self._run_causes, self.classes = trained, None, [str(c) for c in classes]
        return True

    @Slot(int)
    def _on_changed(self, count: int) -> None:
        tabs = self.panel.settings_tabs
        i = tabs.indexOf(self.view)
        if count == 0:
            if i >= 0:
                tabs.removeTab(i)
            return
        if i < 0:  # the first finding: show it
            i = tabs.addTab(self.view, self.TITLE)
            tabs.setCurrentIndex(i)
        # Counted and coloured by the findings still open: a fixed divergence is not red.
        open_ = self.view.open_findings()
        noticed = f"The training doctor noticed {count} thing{'' if count == 1 else 's'} " \
                  f"in this run"
        if open_:
            severity = worst(open_)
            fixed = count - len(open_)
            tabs.setTabText(i, f"{self.TITLE} ({len(open_)})")
            tabs.setTabIcon(i, severity_icon(self.view, severity))
            tabs.setTabToolTip(i, noticed + (f"; a fix addresses {fixed} of them" if fixed
                                             else ""))
            colour = severity_colour(severity, tabs.tabBar().palette())
        elif all(n.startswith(WITHDRAWN) for n in self.view.addressed()):
            tabs.setTabText(i, self.TITLE)
            tabs.setTabIcon(i, QIcon())
            tabs.setTabToolTip(i, f"{noticed}; the run showed otherwise since, so the doctor "
                                  f"withdrew {'it' if count == 1 else 'them'}")
            colour = ADDRESSED
        else:  # "fixed" only where a fix was checked (the Model tab's), else "applied"
            applied = any(n.startswith(APPLIED) for n in self.view.addressed())
            tabs.setTabText(i, f"{self.TITLE} ({'fix applied' if applied else 'fixed'})")
            tabs.setTabIcon(i, QIcon())
            tabs.setTabToolTip(i, f"{noticed}; the fix applied addresses "
                                  f"{'it' if count == 1 else 'them'}: train again, or "
                                  f"continue the run, to see whether it worked")
            colour = ADDRESSED
        tabs.tabBar().setTabTextColor(i, QColor(colour))

    # -- fixes -------------------------------------------------------------------------------
    @Slot(object)
    def fix(self, finding: dict[str, Any]) -> None:
        """Apply ``finding``'s action (see the module docstring)."""
        action = finding.get("action")
        panel = self.panel
        if not action:
            return
        settings, label = dict(action["set"]), action["label"]
        if settings and panel.is_running():
            return  # the run trains a snapshot: the button waits for its end
        tab = _elsewhere(action)
        if settings and tab and self._edited_since(settings):
            panel.status.show_message(
                f"“{label}” was worked out for the {_WHAT[tab]} this run trained, which has "
                f"been edited since: the {tab} tab's own fix applies to it as it is now.",
                "warning")
            self.open_requested.emit(tab.lower())
            return
        shown = ""
        if settings:
            self._applying = True  # its own edit: "Fixed: …", not "Fixed on the … tab"
            try:
                shown = apply_settings(panel.current, settings)
            except WorkbenchError as e:
                panel.status.show_message(f"Cannot apply “{label}”: {e}", "error")
                return
            finally:
                self._applying = False
            panel.refresh()  # the forms show the new values
            panel.settings_changed.emit()
            # Its rate would come as a second fix over this one.
            stopped = self.after_divergence.is_running()
            self.after_divergence.stop()
            said = f"{label}: {shown} set.", "with it"
            if tab:  # a layer or transform list: what was done to it, not the list
                said = done_text(label, tab)
                shown, said = said[0][:1].lower() + said[0][1:], (said[0] + ":", said[1])
            if stopped:
                panel.run_label.show_message(f"The LR finder's sweep was stopped: your "
                                             f"choice ({shown}) stands.")
            self.view.mark_addressed(finding, shown)
            self.recheck()  # a withdrawn finding's cause it removed: its button goes
            panel.status.show_message(
                f"{said[0]} Start training trains a new run {said[1]}."
                + (" The LR finder's sweep was stopped: your choice stands." if stopped
                   else ""), "ok")
        if action["continue"]:
            self._continue(label, settings, shown)
        where = action["open"]
        if where == "lr_finder":
            panel.open_lr_finder()
        elif where in ("augment", "model"):
            if not shown:  # what to do there (not "Open the Model tab: see the Model tab")
                fix = sentence(app_text(str(finding.get("fix") or "")))
                panel.status.show_message(f"On {OPENS[where]}: {fix}" if fix else
                                          f"{label}: see {OPENS[where]}.")
            self.open_requested.emit(where)

    def _continue(self, label: str, settings: dict[str, Any], shown: str) -> None:
        panel = self.panel
        run_dir = self.run_dir or panel.last_run_dir
        from workbench.core.runs.store import continuable

        if not run_dir or not continuable(run_dir):
            done = f"{shown} set" if shown else "Nothing to continue"
            panel.status.show_message(f"{label}: {done}. This run kept no checkpoint to "
                                      f"continue from: press Start training to train "
                                      f"again.", "warning")
            return
        panel.continue_run(run_dir, settings=settings)

    def _edited_since(self, settings: dict[str, Any]) -> bool:
        """Whether a list ``settings`` replaces (``model.layers``, ``augment.transforms``)
        differs now from the run's: the fix would undo the edits made since."""
        from workbench.core.experiment import Experiment

        saved = Path(self.run_dir) / "experiment.json" if self.run_dir else None
        try:  # a restored run's (show_saved_run) is its folder's
            trained = self.trained if self.trained is not None or saved is None else \
                Experiment.load(saved)
            then, now = (Experiment.from_dict(e.to_dict()).to_dict()
                         for e in (trained, self.panel.experiment))
        except Exception:  # noqa: BLE001  (no run's experiment, or a half-edited one)
            return False
        paths = {k.split("[", 1)[0] for k in settings}  # "model.layers", "augment.transforms"
        return any(then.get(a, {}).get(b) != now.get(a, {}).get(b)
                   for a, _, b in (p.partition(".") for p in paths))

    # -- fixes made on another tab -----------------------------------------------------------
    def _causes(self, experiment: Any) -> list[Any]:
        from workbench.core.train.doctor.causes import label_cause, model_causes

        n = len(self.classes) or len(getattr(self.panel.index, "classes", []) or [])
        causes = list(model_causes(experiment, n)) if n else []
        label = label_cause(experiment, self.classes) if self.classes else None
        return causes + ([label] if label is not None else [])

    def recheck(self) -> None:
        """Show the findings whose fix is on the Model or Augment tab as fixed there when the
        current experiment no longer has their cause (or open again when it came back)."""
        if self._applying:
            return
        rows = [(i, r) for i, r in enumerate(self.view.rows) if r.finding["action"]
                and _elsewhere(r.finding["action"])
                and (not r.note or r.note.startswith(("Fixed on the ", WITHDRAWN)))]
        # A restored run's first check keeps its "Last run: …" line (the rows say it).
        restored = bool(rows) and self._load_saved_run()
        if not rows or self.trained is None:
            return
        if self._run_causes is None:
            self._run_causes = self._causes(self.trained)
        now = self._causes(self.panel.experiment)
        fixed, takes = [], self._continue_takes_it()  # a Backbone's mode: Continue takes it
        for i, row in rows:
            f = row.finding
            cause = next((c for c in self._run_causes if c.why in f["message"]
                          or (c.fix and f["fix"].startswith(c.fix))), None)
            if cause is None:
                continue  # not a cause the Model or Augment tab fixes (or an older text)
            if row.note.startswith(WITHDRAWN):  # the run learned after all: the cause?
                self.view.keep_fix(i, any(c.why == cause.why for c in now))
                continue
            tab = _elsewhere(f["action"])
            gone = all(c.why != cause.why for c in now) and \
                (tab == "Augment" or not any(c.stops for c in now))
            if gone and not row.note:  # said once (a later edit elsewhere keeps the line)
                fixed.append(tab)
            self.view.mark_fixed_elsewhere(i, _fixed_note(tab, cause.why, takes) if gone else "")
        if fixed and not self.panel.is_running() and not restored:
            what = "network" if "Model" in fixed else "augmentation"
            after = _TAKES if takes and set(fixed) == {"Model"} else _NEW_RUN.format(what=what)
            self.panel.run_label.show_message(
                f"Fixed on the {' and '.join(sorted(set(fixed), reverse=True))} tab since this "
                f"run: {after}", "ok")

    def continue_note(self, run_dir: str) -> str:
        """What the Continue dialog of ``run_dir`` says when a fix made on the Model or
        Augment tab since that run is pending ("" when none is)."""
        if not run_dir or Path(run_dir).resolve() != Path(self.run_dir or ".").resolve():
            return ""
        notes = [r.note for r in self.view.rows if r.note.startswith("Fixed on the ")]
        if not notes:
            return ""
        model = any(n.startswith("Fixed on the Model tab") for n in notes)
        if model and len(notes) == sum(n.startswith("Fixed on the Model tab") for n in notes) \
                and self._continue_takes_it():
            return ""  # the Backbone's mode: the plan takes it, and its note says so
        what, tab = ("network", "Model") if model else ("augmentation", "Augment")
        return (f"The {what} was fixed on the {tab} tab after this run, and continuing "
                f"cannot apply that fix: it goes on with the run's own {what}, from the "
                f"weights trained before the fix"
                + (" (a new initialisation only takes effect in a new run)" if model else "")
                + f". Cancel, then press Start training, to train a new run with the fixed "
                  f"{what}.")


    def _continue_takes_it(self) -> bool:
        """Whether the Model tab's edit since the run is one Continue applies: a Backbone's
        mode or backbone_lr_scale alone (:func:`~workbench.core.train.regroup.taken_from`)."""
        from workbench.core.train.regroup import network_of, taken_from

        run, now = self.trained, self.panel.experiment
        return run is not None and network_of(run.model.layers) == network_of(
            now.model.layers) and bool(taken_from(run, now)[1])


def _holds(experiment: dict[str, Any], path: str, value: Any) -> bool:
    """Whether the dotted ``path`` (no list index) of a plain ``experiment`` is ``value``."""
    node: Any = experiment
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return node == value


_WHAT = {"Model": "network", "Augment": "augmentation"}
_NEW_RUN = ("Start training trains a new run with the fixed {what}; Continue… would go on "
            "from the weights trained before the fix.")
_TAKES = "Continue… goes on from this run's weights with it; Start training trains a new run."


def _fixed_note(tab: str, why: str, takes: bool = False) -> str:
    """The note of a finding whose cause ``why`` was fixed on ``tab`` (``takes``: Continue too)."""
    if tab == "Model":
        title = re.split(r", (?:so|and) ", why, maxsplit=1)[0]
        return (f"Fixed on the Model tab: the Model doctor no longer finds that {title}. "
                + (_TAKES if takes else _NEW_RUN.format(what="network")))
    return (f"Fixed on the Augment tab: it no longer warns that {why}. "
            + _NEW_RUN.format(what="augmentation"))
