"""What continuing a run does not use: the settings the app's experiment has now that
differ from the run's own (:func:`unused_settings`), in a learner's words, grouped by the
tab that edits them, and the note saying so (:func:`unused_note`).

A run is continued with its own settings (:mod:`workbench.core.runs.plan`): a Dropout
added on the Model tab since, or a validation fraction changed on the Data tab, is not
used, while the app keeps showing it. The Continue dialog says so before the user
accepts, from :func:`~workbench.core.runs.plan.continue_plan`'s notes.

Left out: what continuing takes from elsewhere (the epochs and the learning rate, chosen
in the dialog; the dataset folder, whose note :func:`~workbench.core.runs.plan.
choose_dataset` gives), the name, what no tab edits (the decoded-image cache), and
``data.exclude`` entries of the folder's test part (they change evaluation only). Every
other setting of the Experiment is compared, so a field added later is said too, named by
its declaration.
"""

from __future__ import annotations

import difflib
import math
import os
from typing import Any, Iterable

from workbench.core.data.index import listing
from workbench.core.experiment import Experiment

#: Never named: chosen elsewhere (epochs, folder), not a setting, or on no tab.
SKIPPED = frozenset({"name", "format_version", "data.folder", "training.epochs",
                     "model.preset", "data.cache", "data.cache_budget_mb"})
#: Said at most this many per tab (then "and N more").
SHOWN = 4
#: The tabs, in their order, and the parts of the Experiment each edits.
TABS = (("Data", ("data",)), ("Augment", ("augment",)), ("Model", ("model", "init")),
        ("Train", ("data.batch_size", "data.num_workers", "optimizer", "scheduler", "loss",
                   "training")))
#: The words the tabs use, where a field's name is not them.
WORDS = {"data.val_fraction": "validation fraction", "data.seed": "split seed",
         "data.stratified": "stratified split",
         "data.use_folder_split": "the folder's own train/ and val/",
         "data.mean": "normalisation mean", "data.std": "normalisation std",
         "data.balance": "class balance", "data.num_workers": "loader workers",
         "training.seed": "training seed", "optimizer": "optimizer", "scheduler": "schedule",
         "loss": "loss", "init": "initialisation"}


def unused_settings(run: Experiment, now: Experiment, applied: Iterable[str] = ()
                    ) -> list[str]:
    """How ``now`` (the app's experiment) differs from ``run`` (the settings the run is
    continued with), one line per tab: ``"Model tab: the network (Dropout added)"``,
    ``"Data tab: validation fraction 0.4 (the run's 0.2)"``. ``applied``: dotted paths
    the continuation sets too (a training doctor's fix), not said. ``[]``: no difference."""
    skip = tuple(applied)
    changes: dict[str, list[str]] = {}
    for path, text in _differences(run, now):
        if path in SKIPPED or any(path.startswith(p) or p.startswith(path) for p in skip):
            continue
        tab = next(t for t, parts in reversed(TABS)
                   if any(path == p or path.startswith(p + ".") for p in parts))
        changes.setdefault(tab, []).append(text)
    lines = []
    for tab, _parts in TABS:
        items = changes.get(tab, [])
        if items:
            more = len(items) - SHOWN
            lines.append(f"{tab} tab: {', '.join(items[:SHOWN])}"
                         + (f", and {more} more" if more > 0 else ""))
    return lines


def unused_note(lines: list[str]) -> str:
    """The note saying that continuing does not use ``lines`` (:func:`unused_settings`);
    ``""`` for none."""
    if not lines:
        return ""
    return ("the tabs differ from this run in these settings, which continuing does not "
            "use (it keeps the run's own; Start training trains a new run with them):\n"
            + "\n".join(f"• {line}" for line in lines))


# -- comparing -----------------------------------------------------------------------------
def _differences(run: Experiment, now: Experiment) -> list[tuple[str, str]]:
    """``(path, words)`` for each setting that differs, in the Experiment's order."""
    old, new = _plain(run), _plain(now)
    test = _test_part(now.data.folder)
    for d in (old, new):  # an excluded test image is left out of evaluation, not training
        d["data"]["exclude"] = [e for e in d["data"].get("exclude") or []
                                if not _in_test_part(e, test)]
    out: list[tuple[str, str]] = []
    for section in new:
        a, b = old.get(section), new[section]
        if a == b:
            continue
        if section == "model":
            out += [(f"model.{k}", _listed("the network", a.get(k), b[k]) if k == "layers"
                     else _changed(f"model.{k}", a.get(k), b[k]))
                    for k in b if a.get(k) != b[k]]
        elif section == "augment":
            out.append(("augment.transforms",
                        _listed("the augmentation", a.get("transforms"), b["transforms"])))
        elif isinstance(b, dict) and "type" in b and "params" in b:  # a component
            out += _component(section, a or {}, b)
        elif isinstance(b, dict):
            out += [(f"{section}.{k}", _changed(f"{section}.{k}", (a or {}).get(k), b[k]))
                    for k in b if (a or {}).get(k) != b[k]]
        else:
            out.append((section, _changed(section, a, b)))
    return out


#: A component parameter said in words ("learning rate", as the Continue dialog's field).
PARAM_WORDS = {("optimizer", "lr"): "learning rate"}


def _component(section: str, a: dict, b: dict) -> list[tuple[str, str]]:
    label = WORDS.get(section, section)
    if a.get("type") != b.get("type"):
        return [(f"{section}.type", f"{label} {b.get('type')} (the run's {a.get('type')})")]
    pa, pb = a.get("params") or {}, b.get("params") or {}
    return [(f"{section}.params.{k}", f"{PARAM_WORDS.get((section, k), f'{label} {k}')} "
                                      f"{_value(pb.get(k))} (the run's {_value(pa.get(k))})")
            for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)]


def _changed(path: str, old: Any, new: Any) -> str:
    label = WORDS.get(path, path.rsplit(".", 1)[-1].replace("_", " "))
    if path == "data.exclude":
        return (f"{_count(len(new or []), 'excluded image')} (the run's "
                f"{len(old or [])})" if len(new or []) != len(old or [])
                else "other images excluded")
    return f"{label} {_value(new, path)} (the run's {_value(old, path)})"


def _listed(label: str, old: Any, new: Any) -> str:
    """``the network (Dropout added, Linear changed)``: what was added, removed or changed
    in a list of components, by their type."""
    old, new = list(old or []), list(new or [])
    seq = difflib.SequenceMatcher(a=[c.get("type") for c in old],
                                  b=[c.get("type") for c in new], autojunk=False)
    added: list[str] = []
    removed: list[str] = []
    changed: list[str] = []
    for op, i1, i2, j1, j2 in seq.get_opcodes():
        if op == "equal":
            changed += [new[j].get("type") for i, j in zip(range(i1, i2), range(j1, j2))
                        if old[i] != new[j]]
        else:
            removed += [c.get("type") for c in old[i1:i2]]
            added += [c.get("type") for c in new[j1:j2]]
    parts = [f"{listing([str(n) for n in names], 3)} {what}" for names, what in
             ((added, "added"), (removed, "removed"), (changed, "changed")) if names]
    return f"{label} ({', '.join(parts) or 'reordered'})"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _value(value: Any, path: str = "") -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, list):
        sep = " × " if path == "data.input_size" else ", "
        return sep.join(_value(v) for v in value) or "none"
    return str(value)


def _test_part(folder: str) -> tuple[str, str] | None:
    """``(dataset folder, its test part's folder)`` of the folder ``folder`` (its wrappers
    gone through, as a scan does), or None: no test part, or not a folder."""
    from workbench.core.data.layouts import find_splits, unwrap
    from workbench.core.errors import DataError

    try:
        if not folder or not os.path.isdir(folder):
            return None
        root = unwrap(folder)[0]
        splits = find_splits(root)
    except (DataError, OSError):
        return None
    return (root, splits["test"]) if splits and splits["test"] else None


def _in_test_part(entry: str, test: tuple[str, str] | None) -> bool:
    """Whether the ``data.exclude`` entry ``entry`` names an image of the test part
    ``test`` (:func:`_test_part`): it never changes training."""
    if test is None:
        return False
    path = os.path.normpath(os.path.join(test[0], entry.replace("\\", "/")))
    return path.startswith(os.path.normpath(test[1]) + os.sep)


def _plain(exp: Experiment) -> dict[str, Any]:
    """``exp`` as a dict, each component's parameters with their defaults filled (as
    validating fills them), so a parameter left out and one at its default are alike."""
    d = exp.to_dict()
    try:
        from workbench.core.catalog import REGISTRIES
    except ImportError:  # pragma: no cover  (torch missing: compared as written)
        return d
    for key, where in (("transform", d.get("augment", {}).get("transforms")),
                       ("layer", d.get("model", {}).get("layers"))):
        for comp in where or []:
            _fill(comp, REGISTRIES[key])
    for key in ("init", "optimizer", "loss", "scheduler"):
        if isinstance(d.get(key), dict):
            _fill(d[key], REGISTRIES[key])
    return d


def _fill(comp: dict, registry: Any) -> None:
    try:
        comp["params"] = registry.get(comp.get("type")).validate(
            dict(comp.get("params") or {}))
    except Exception:  # noqa: BLE001  (an invalid one is compared as written)
        pass
