"""A practitioner's imbalanced classes (walk-imbalance report, defects 1-3): 320/80/20/5
training images, 80/20/5/1 validation. The class_imbalance finding said "Always answering
'common' scores 94%" when that scores 75% (94% is never answering 'rare' or 'tiny', with
'frequent' learnt); with a class-weighted loss, a run at chance that learnt nothing was
blamed on "80 of 'frequent' are too few to learn from"; and once the network learnt 'rare'
(the saved model's epoch), the finding still said it never predicts it."""

from __future__ import annotations

from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.classes import class_imbalance
from workbench.core.train.doctor.findings import RunFinding
from workbench.core.train.doctor.resolved import withdraw

CLASSES = ["common", "frequent", "rare", "tiny"]
TRAIN, VAL = [320, 80, 20, 5], [80, 20, 5, 1]


def view(val_acc, predicted, train_acc=None, **kw):
    hist = [{"epoch": i + 1, "train_loss": 0.5, "val_loss": 0.3,
             "train_acc": a if train_acc is None else train_acc, "val_acc": a}
            for i, a in enumerate(val_acc)]
    return C.RunView(classes=list(CLASSES), history=hist, chance=80 / 106, lr=1e-3,
                     default_lr=1e-3, epochs_planned=9, train_counts=list(TRAIN),
                     val_counts=list(VAL), predicted=[list(p) for p in predicted], **kw)


def test_the_score_it_compares_with_counts_the_small_class_it_learnt():
    # 'frequent' (80 of 320: small by ratio) is answered right; 'rare' and 'tiny' never.
    f = class_imbalance(view([100 / 106] * 3, [[80, 20, 0, 0]] * 3))
    assert "Never answering 'rare' or 'tiny' scores 94% on the validation images (100 of " \
           "106), and the network reaches 94%" in f.message
    assert "Always answering" not in f.message
    # Every small class ignored: always answering 'common' is what it scores, 75%.
    f = class_imbalance(view([80 / 106] * 3, [[106, 0, 0, 0]] * 3))
    assert "Always answering 'common' scores 75% on the validation images (80 of 106)" \
        in f.message


def test_a_balanced_run_at_chance_is_not_learning_not_too_few_images():
    # The weighted-loss run: 2%, then 'common' for every image (75%), training loss at ln 4.
    v = view([0.019, 0.755, 0.755, 0.755], [[106, 0, 0, 0]] * 3, train_acc=0.753,
             balanced="weighted_loss")
    assert class_imbalance(v) is None
    f = C.not_learning(v)
    assert f is not None and "the network has learned nothing yet" in f.message
    assert "too few" not in f.message + f.fix
    assert [c.__name__ for c in C.CHECKS if c(v) is not None] == ["not_learning"]


def test_a_balanced_run_names_only_a_class_that_is_few():
    # The sampler learns 'common', 'frequent' and 'rare'; 'tiny' (5 images) it ignores.
    v = view([105 / 106] * 3, [[80, 21, 5, 0]] * 3, balanced="weighted_sampler")
    f = class_imbalance(v)
    assert "add images of the small class (only 5 of 'tiny': few to learn from), or weight " \
           "it more" in f.fix
    # 'frequent' ignored (80 images, 'rare' and 'tiny' learnt): 80 are not called few.
    v = view([86 / 106] * 3, [[100, 0, 5, 1]] * 3, balanced="weighted_loss")
    f = class_imbalance(v)
    assert "never predicted 'frequent'" in f.message
    assert "few" not in f.fix and f.fix.startswith("add images of the small class, or weight")


def test_the_finding_is_withdrawn_once_it_answers_a_class_it_named():
    said = [class_imbalance(view([100 / 106] * 5, [[80, 20, 0, 0]] * 3)).to_dict()]
    # A stray answer is not learning it.
    assert withdraw(view([100 / 106] * 6, [[80, 20, 0, 0]] * 2 + [[79, 20, 1, 0]]), said) == []
    # Epoch 7 (the saved model's): 'rare' answered for all 5 of its images, 'tiny' still not
    # (its image called 'common': 105 of 106 right).
    later = view([100 / 106] * 6 + [105 / 106], [[80, 20, 0, 0], [79, 20, 1, 0],
                                                 [81, 20, 5, 0]])
    (f,) = withdraw(later, said)
    assert f["resolved"] == ("at epoch 7 the network answers 'rare' for 5 validation images, "
                             "all of them right (5 are 'rare'): it no longer ignores 'rare'; "
                             "it still ignores 'tiny'")
    assert RunFinding.from_dict(f).line().startswith("doctor: class_imbalance at epoch 5 "
                                                     "withdrawn: at epoch 7")
    assert withdraw(later, said) == []  # once
    # Said again for the class still ignored, on its own.
    again = class_imbalance(later)
    assert "never predicted 'tiny' (1 validation image)" in again.message
    assert "'rare'" not in again.message
    assert "Never answering 'tiny' scores 99% on the validation images (105 of 106)" \
        in again.message


def test_a_withdrawn_class_imbalance_may_be_said_again():
    from workbench.core.train.callbacks.doctor import TrainingDoctor

    doctor = TrainingDoctor()
    doctor.findings = [{"kind": "class_imbalance", "resolved": "it answers 'rare'"}]
    assert doctor.fired == set()  # the classes it still ignores are said on their own


def test_answers_that_are_wrong_do_not_withdraw_it():
    # Only 'tiny' (1 validation image) ignored; 105 of 106 right.
    said = [class_imbalance(view([105 / 106] * 3, [[80, 20, 5, 0]] * 3)).to_dict()]
    assert "never predicted 'tiny'" in said[0]["message"]
    # Epoch 4: a 'common' image called 'tiny', the 'tiny' image still wrong (104 of 106).
    assert withdraw(view([105 / 106] * 3 + [104 / 106], [[80, 20, 5, 0]] * 3 +
                         [[79, 20, 5, 1]]), said) == []
    # The 'tiny' image right, every other too (106 of 106): learnt.
    (f,) = withdraw(view([105 / 106] * 3 + [1.0], [[80, 20, 5, 0]] * 3 + [[80, 20, 5, 1]]),
                    said)
    assert f["resolved"] == ("at epoch 4 the network answers 'tiny' for 1 validation image, "
                             "it is right (1 is 'tiny'): it no longer ignores 'tiny'")
    # 'rare' and 'tiny' ignored; then 5 'common' images called 'rare', every 'rare' one
    # still wrong (95 of 106): 5 answers of 'rare', none of them right.
    said = [class_imbalance(view([100 / 106] * 3, [[80, 20, 0, 0]] * 3)).to_dict()]
    assert withdraw(view([100 / 106] * 3 + [95 / 106], [[80, 20, 0, 0]] * 3 +
                         [[76, 25, 5, 0]]), said) == []
    # 10 answers of 'rare', its 5 images right and 5 'common' ones (100 of 106): of these
    # numbers at least 4 are surely right, enough.
    (f,) = withdraw(view([100 / 106] * 4, [[80, 20, 0, 0]] * 3 + [[76, 20, 10, 0]]), said)
    assert f["resolved"].startswith("at epoch 4 the network answers 'rare' for 10 validation "
                                    "images, at least 4 of them right (5 are 'rare')")
