"""The Tune panel's SPACE.json: what its controls show, and what a loaded file holds that
they cannot show, carried through to Start and Save space.

The tab shows each searched field's kind, ends, log scale or choices, and the sampler,
pruner type, metric and epochs. A space file can say more: an int or float range's
``step``, the ``seed``, the pruner's options (``n_startup_trials``, a threshold's
``lower``/``upper``) and a ``direction``. :class:`SpaceFile` keeps those from the file it
loaded (:attr:`SpaceFile.carried`) and adds them back to the space the tab makes, as long
as they still apply (the field still searched as a range of that kind, the same pruner,
the same metric), so a loaded space searches what its file says and Save space writes it
whole. Loading says what is carried.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

#: Pruners the Pruner box offers; "threshold" needs its bounds, so it is offered only
#: once a loaded space gave them (carried).
PRUNERS = ("median", "hyperband", "none")
PRUNER_TIP = ("Stops poor trials early, judged on the metric after each epoch. The threshold "
              "pruner needs its lower/upper bounds: load a space file that gives them")


class SpaceFile:
    """Reads and writes the Tune ``panel``'s space (see the module docstring)."""

    def __init__(self, panel: Any):
        self.panel = panel
        #: From the loaded file: ``{"steps": {path: [kind, step]}, "seed", "pruner",
        #: "direction": [metric, direction]}`` (plain JSON values, kept in the session).
        self.carried: dict[str, Any] = {}

    # -- the space the tab shows ---------------------------------------------------------
    def space_dict(self) -> dict[str, Any]:
        """The SPACE.json the panel shows, with what is carried (SpecError for a cell the
        editor cannot read)."""
        panel = self.panel
        params = panel.editor.space_params()
        for path, (kind, step) in (self.carried.get("steps") or {}).items():
            if path in params and params[path].get("type") == kind \
                    and not params[path].get("log"):
                params[path]["step"] = step
        pruner: Any = panel.pruner_combo.currentText()
        carried_pruner = self.carried.get("pruner")
        if isinstance(carried_pruner, dict) and carried_pruner.get("type") == pruner:
            pruner = dict(carried_pruner)
        space: dict[str, Any] = {"format_version": 1, "params": params,
                                 "sampler": panel.sampler_combo.currentText(),
                                 "pruner": pruner,
                                 "metric": panel.metric_combo.currentText()}
        if panel.epochs_spin.value() > 0:
            space["epochs"] = panel.epochs_spin.value()
        if isinstance(self.carried.get("seed"), int):
            space["seed"] = self.carried["seed"]
        direction = self.carried.get("direction")
        if isinstance(direction, list) and direction[0] == space["metric"]:
            space["direction"] = direction[1]
        return space

    def save(self) -> None:
        panel = self.panel
        try:
            from workbench.core.tune.space import SearchSpace

            text = json.dumps(SearchSpace.from_dict(self.space_dict()).to_dict(), indent=2)
        except WorkbenchError as e:
            panel.message.show_message(str(e), "error")
            return
        path = panel.ask_save_path(panel, f"{panel.experiment.name}-space.json")
        if not path:
            return
        try:
            Path(path).write_text(text + "\n", encoding="utf-8")
        except OSError as e:
            panel.message.show_message(f"cannot write {path}: {e.strerror}; choose another "
                                       f"folder", "error")
            return
        panel.message.show_message(f"Saved the search space to {path}", "ok")

    def load(self) -> None:
        from workbench.core.tune.space import SearchSpace

        panel = self.panel
        path = panel.ask_open_path(panel)
        if not path:
            return
        try:
            space = SearchSpace.load(path)
        except WorkbenchError as e:
            panel.message.show_message(str(e), "error")
            return
        panel.editor.set_params({p: s.to_dict() for p, s in space.params.items()})
        panel.sampler_combo.setCurrentText(space.sampler)
        self.carried = carried_of(space)
        self.offer_pruner(space.pruner.get("type", "median"))
        panel.pruner_combo.setCurrentText(space.pruner.get("type", "median"))
        panel.metric_combo.setCurrentText(space.metric)
        panel.epochs_spin.setValue(space.epochs or 0)
        kept = self.describe(space)
        panel.message.show_message(
            f"Loaded the search space {path}"
            + (f". Not shown here, but kept for Start and Save space: {kept}" if kept
               else ""), "ok")

    # -- what is carried -----------------------------------------------------------------
    def offer_pruner(self, kind: str) -> None:
        """Add ``kind`` to the Pruner box when it is not there (a threshold pruner whose
        bounds a file gave)."""
        combo = self.panel.pruner_combo
        if combo.findText(kind) < 0:
            combo.addItem(kind)

    def restore(self, carried: Any) -> None:
        """Take back what a session kept (a value of the wrong shape is dropped)."""
        self.carried = carried if isinstance(carried, dict) else {}
        pruner = self.carried.get("pruner")
        if isinstance(pruner, dict) and isinstance(pruner.get("type"), str):
            self.offer_pruner(pruner["type"])

    def describe(self, space: Any) -> str:
        """What a loaded space holds that the tab does not show, in words ("" for none)."""
        parts = [f"step {step:g} of {self.panel.editor.label_of(path)}"
                 for path, (_kind, step) in (self.carried.get("steps") or {}).items()]
        if "seed" in self.carried:
            parts.append(f"seed {self.carried['seed']}")
        pruner = self.carried.get("pruner")
        if isinstance(pruner, dict):
            options = ", ".join(f"{k}={v}" for k, v in pruner.items() if k != "type")
            parts.append(f"the {pruner['type']} pruner's options {options}")
        if "direction" in self.carried:
            parts.append(f"direction {space.direction}")
        return "; ".join(parts)


def carried_of(space: Any) -> dict[str, Any]:
    """What of a :class:`~workbench.core.tune.space.SearchSpace` the tab does not show."""
    carried: dict[str, Any] = {}
    steps = {path: [p.kind, p.step] for path, p in space.params.items()
             if p.kind != "categorical" and p.step is not None}
    if steps:
        carried["steps"] = steps
    if space.seed is not None:
        carried["seed"] = space.seed
    if set(space.pruner) - {"type"}:
        carried["pruner"] = dict(space.pruner)
    default = "minimize" if space.metric.endswith("loss") else "maximize"
    if space.direction != default:
        carried["direction"] = [space.metric, space.direction]
    return carried
