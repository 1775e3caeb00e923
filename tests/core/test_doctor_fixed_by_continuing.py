"""Learner walk (walk-learner 1 and 5): findings from before a fix that a continued run made.

1. A run at lr 1e-7 got ``lr_too_low`` (and ``not_learning``); ``workbench resume --lr
   0.001`` (the app's "Continue with lr 0.001") reached 76-91%, yet run.json kept both with
   ``"resolved": ""``, no ``withdrawn`` line was printed, and after a restart the app offered
   the fixes again: only findings of the current settings were ever withdrawn.
5. On arrows behind a flip that swaps the classes, ``not_learning`` (naming the flip) was
   withdrawn at 67% of 24 validation images (4 images above chance: noise), leaving an
   ``underfitting`` that recommended a larger network or a higher rate.
"""

from __future__ import annotations

import json

from helpers import flip_cause, run_cli
from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.resolved import withdraw

ARROWS = ["left_arrow", "right_arrow"]


def history(val_acc, train_loss=None, first=1):
    train_loss = train_loss or [0.69] * len(val_acc)
    return [{"epoch": first + i, "train_loss": t, "val_loss": t + 0.01, "train_acc": a,
             "val_acc": a} for i, (a, t) in enumerate(zip(val_acc, train_loss))]


def view(hist, classes=ARROWS, val_counts=(12, 12), **kw):
    kw.setdefault("chance", max(val_counts) / sum(val_counts))
    kw.setdefault("lr", 1e-3)
    return C.RunView(classes=list(classes), history=hist, default_lr=1e-3, first_loss=0.7,
                     val_counts=list(val_counts), **kw)


def test_resuming_at_the_fixed_rate_withdraws_the_earlier_finding_in_run_json(
        tiny_experiment, tmp_path, capsys):
    tiny_experiment.optimizer.params["lr"] = 1e-7
    tiny_experiment.training.epochs = 2
    exp_file, run = tmp_path / "e.json", tmp_path / "run"
    tiny_experiment.save(exp_file)
    code, out, err = run_cli(capsys, "train", exp_file, "--out", run)
    assert code == 0, err
    assert "doctor: lr_too_low at epoch 2 (warning)" in out

    def kept():
        (f,) = [f for f in json.loads((run / "run.json").read_text())["findings"]
                if f["kind"] == "lr_too_low"]
        return f

    # Continued at its own rate: nothing was fixed, nothing is withdrawn.
    code, out, err = run_cli(capsys, "resume", run, "--epochs", 1)
    assert code == 0 and "withdrawn" not in out and kept()["resolved"] == ""
    # Continued at the rate the finding proposed: once the loss moves, it is withdrawn.
    code, out, err = run_cli(capsys, "resume", run, "--lr", 0.01, "--epochs", 2)
    assert code == 0, err
    why = kept()["resolved"]
    assert why.startswith("fixed by continuing at lr 0.01: at epoch 5 the training loss is ")
    assert why.endswith(" before the change")
    assert f"doctor: lr_too_low at epoch 2 withdrawn: {why}" in out
    from workbench.core.runs.report import write_report  # the report says so too

    write_report(run, tmp_path / "r.html")
    assert "<b>Withdrawn: fixed by continuing at lr 0.01" in (tmp_path / "r.html").read_text()


def test_an_earlier_not_learning_is_withdrawn_by_a_continued_segment_that_learns():
    from workbench.core.train.doctor.resolved import continued_with, withdraw_fixed

    stuck = history([0.5] * 3)
    said = C.not_learning(view(stuck, weight_change=1e-5, lr=1e-7)).to_dict()
    assert said["action"]["set"] == {"optimizer.params.lr": 0.001}
    then, now = {"optimizer.params.lr": 1e-7}, {"optimizer.params.lr": 0.001}
    assert continued_with(said, then, then) == ""  # its own settings: nothing changed
    assert continued_with(said, {**then, "data.balance": "none"},
                          {**then, "data.balance": "weighted_loss"}) == ""  # not what it blamed
    what = continued_with(said, then, now)
    assert what == "at lr 0.001"
    one = stuck + history([0.9], first=4)
    assert withdraw_fixed(view(one, since=3), [(said, what)]) == []  # one epoch: maybe noise
    two = one + history([0.95], first=5)
    (f,) = withdraw_fixed(view(two, since=3), [(said, what)])
    assert f is said and said["resolved"] == (
        "fixed by continuing at lr 0.001: at epoch 5 the validation accuracy is 95% (90% the "
        "epoch before), clear of the 50% of always answering the most common class")
    assert withdraw_fixed(view(two, since=3), [(said, what)]) == []  # once


def test_a_few_validation_images_above_chance_do_not_withdraw_not_learning():
    said = [{"kind": "not_learning", "epoch": 3, "message": "Nothing learned yet."}]
    # 24 images, 12 of chance: 16 right (67%) for two epochs is 4 images: noise.
    assert withdraw(view(history([0.5] * 6 + [16 / 24, 16 / 24])), said) == []
    # 3 shapes, 12 images (4 of chance): 5 then 6 right (42%, 50%).
    shapes = ["circle", "square", "triangle"]
    assert withdraw(view(history([1 / 3] * 3 + [5 / 12, 6 / 12]), classes=shapes,
                         val_counts=(4, 4, 4)), said) == []
    # 5 images above chance (17 of 24, 71%) for two epochs: it learns.
    (f,) = withdraw(view(history([0.5] * 6 + [17 / 24, 17 / 24])), said)
    assert f["resolved"].startswith("at epoch 8 the validation accuracy is 71%")
    # A large split: the 5 points decide, as before (200 images, 25% chance, 31% is 12 above).
    many = [{"kind": "not_learning", "epoch": 3, "message": "Nothing learned yet."}]
    four = ["a", "b", "c", "d"]
    assert withdraw(view(history([0.25] * 3 + [0.31, 0.31]), classes=four,
                         val_counts=(50,) * 4), many) != []


def test_not_learning_that_blames_the_flip_stays_while_the_flip_trains():
    change = flip_cause(ARROWS)
    stuck = history([0.5] * 3)
    said = C.not_learning(view(stuck, label_change=change)).to_dict()
    assert change.why in said["message"] and said["action"] == change.action
    learned = stuck + history([0.9, 0.95], first=4)
    assert withdraw(view(learned, label_change=change), [said]) == []  # the flip is still in
    # Continued without the flip (its own fix): once it learns, fixed by continuing.
    from workbench.core.train.doctor.resolved import continued_with, withdraw_fixed

    what = continued_with(said, {"augment.transforms": [{"type": "RandomHorizontalFlip"}]},
                          {"augment.transforms": []})
    assert what == f"after “{change.action['label']}”"
    (f,) = withdraw_fixed(view(learned, since=3), [(said, what)])
    assert f["resolved"].startswith(f"fixed by continuing {what}: at epoch 5 the validation "
                                    f"accuracy is 95%")


def test_underfitting_names_the_flip_before_a_size_or_a_rate():
    change = flip_cause(ARROWS)
    flat = [{"epoch": i + 1, "train_loss": 0.69, "val_loss": 0.69, "train_acc": 0.62,
             "val_acc": 0.67} for i in range(7)]
    plain = C.underfitting(view(flat))
    assert plain is not None and "a larger network" in plain.fix  # no flip: size or rate
    f = C.underfitting(view(flat, label_change=change))
    assert f is not None and f.kind == "underfitting"
    assert f"The likely cause is the augmentation: {change.why}." in f.message
    assert f.fix == change.fix and f.action == change.action
    assert "larger network" not in f.fix and "lr" not in f.action["label"]
    # Named already (by not_learning at epoch 3): one cause, one finding.
    v = view(flat, label_change=change, messages=[f"Nothing. {change.why}."])
    assert C.underfitting(v) is None
