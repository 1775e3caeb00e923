"""The training doctor's findings read as the app's, not the command line's: the fix on a
line of its own under the finding (run on after it, "…lower it  Fix: start again…", the
two read as one), without the flags and commands a terminal user types ("(--lr 0.038)",
"(workbench lr-find)"), each a sentence. The core's texts keep them for the command line
(UI review)."""

from __future__ import annotations

from workbench.core.train.doctor.fixes import diverged_fix
from workbench.qt.panels.train.findings import FindingRow, FindingsView, app_text, sentence

DIVERGED = ("training diverged: the loss exploded to 2.84e+19 at batch 5 of epoch 1, over 100 "
            "times the 1.39 of guessing every class equally. The learning rate (10) is far "
            "too large: lower it")


def diverged(fix: str) -> dict:
    return {"kind": "diverged", "epoch": 1, "severity": "error", "message": DIVERGED,
            "fix": fix, "action": {"label": "Train with lr 0.038", "continue": False,
                                   "set": {"optimizer.params.lr": 0.038}, "open": ""}}


def test_the_fix_is_a_line_of_its_own_without_command_line_syntax(qtbot):
    fix, _action = diverged_fix(0.038, 0, None, "the LR finder's rate for this network")
    assert "(--lr 0.038)" in fix  # the core's text, for the command line
    row = FindingRow(diverged(fix + ", or find one with the LR finder (workbench lr-find)"))
    qtbot.addWidget(row)
    assert row.plain == (
        "Epoch 1: Training diverged: the loss exploded to 2.84e+19 at batch 5 of epoch 1, "
        "over 100 times the 1.39 of guessing every class equally. The learning rate (10) is "
        "far too large: lower it.\n"
        "Fix: Train again from the start at a learning rate of 0.038, the LR finder's rate "
        "for this network, or find one with the LR finder (Find learning rate… on the Train "
        "tab).")
    shown = row.text.text()
    assert "lower it.<br><i>Fix: Train again from the start" in shown
    assert "--" not in shown and "workbench" not in shown
    assert "--" not in row.text.toolTip() and \
        "\n\nFix: Train again from the start" in row.text.toolTip()


def test_a_continued_runs_fix_loses_its_command_even_with_a_folder_in_parentheses(qtbot):
    fix, _action = diverged_fix(0.01, 2, "/runs/cats (copy)")
    assert "workbench resume '/runs/cats (copy)' --lr 0.01" in fix
    assert sentence(app_text(fix)) == ("Continue from the last good checkpoint (epoch 2) at a "
                                       "learning rate of 0.01.")
    # A run trained under torchrun (2 processes), shown in the app: the command goes too.
    fix = ("continue from the last good checkpoint (epoch 2) at a learning rate of 0.01 "
           "(torchrun --nproc-per-node 2 -m workbench resume '/runs/cats (copy)' --lr 0.01)")
    assert sentence(app_text(fix)) == ("Continue from the last good checkpoint (epoch 2) at a "
                                       "learning rate of 0.01.")


def test_settings_are_named_as_the_forms_name_them():
    # The words say the setting and the button sets it: no experiment names in the app.
    assert app_text("or clip the gradients (--set training.grad_clip=1.0)") == \
        "or clip the gradients"
    assert app_text("use a class-weighted loss, where an image of 'a' counts 9 times one of "
                    "'b' (--set data.balance=weighted_loss), or balanced batches") == \
        "use a class-weighted loss, where an image of 'a' counts 9 times one of 'b', or " \
        "balanced batches"
    assert app_text("weight them in the loss's class weights (loss.params.class_weights)") == \
        "weight them in the loss's class weights"
    # What is not a command stays.
    kept = "the run keeps its best epoch's weights (checkpoints/best.pt) (e.g. 0.01)"
    assert app_text(kept) == kept


def test_the_runs_tab_shows_them_the_same_way(qtbot):
    view = FindingsView(with_fixes=False)
    qtbot.addWidget(view)
    view.set_findings([diverged("start again at a learning rate of 0.01 (--lr 0.01)")])
    assert view.texts()[0].endswith("lower it.\nFix: Start again at a learning rate of 0.01.")


def test_an_applied_fix_is_said_in_the_forms_words():
    from workbench.qt.panels.train.fixes import settings_text

    assert settings_text({"data.balance": "weighted_loss"}) == "a class-weighted loss"
    assert settings_text({"training.early_stopping": True}) == "early stopping on"
    assert settings_text({"optimizer.params.lr": 1e-06}) == "lr = 1e-6"
    assert settings_text({"data.batch_size": 32}) == "batch_size = 32"
