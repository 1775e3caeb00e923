"""A strongly imbalanced training set (100/5/5 images) whose network answers only the big
class: the training doctor names the classes and their sizes, says what always answering
the big class scores, and offers the class-weighted loss; before, class_never_predicted
needed 5 validation images of a class and the run got no finding at all (learner-tester
report). Quiet on balanced data and when the network learns the small classes."""

from __future__ import annotations

from workbench.core.train.doctor import checks as C
from workbench.core.train.doctor.classes import class_imbalance

CLASSES = ["cats", "dogs", "birds"]


def history(val_acc, train_loss=0.35):
    return [{"epoch": i + 1, "train_loss": train_loss, "val_loss": 0.36,
             "train_acc": 0.91, "val_acc": a} for i, a in enumerate(val_acc)]


def view(val_acc=(0.909,) * 4, predicted=((22, 0, 0),) * 3, train=(100, 5, 5),
         val=(20, 1, 1), **kw):
    kw.setdefault("lr", 1e-3)
    kw.setdefault("default_lr", 1e-3)
    kw.setdefault("epochs_planned", 8)
    return C.RunView(classes=list(CLASSES), history=history(list(val_acc)),
                     chance=max(val) / sum(val), train_counts=list(train),
                     val_counts=list(val), predicted=[list(p) for p in predicted], **kw)


def test_the_big_class_answered_for_everything_is_named_with_the_fix():
    f = class_imbalance(view())
    assert f is not None and f.kind == "class_imbalance" and f.epoch == 4
    assert ("The training set is strongly imbalanced ('cats' has 100 training images, "
            "'dogs' 5 and 'birds' 5)") in f.message
    assert "never predicted 'dogs' or 'birds' (1 validation image each)" in f.message
    assert "Always answering 'cats' scores 91% on the validation images (20 of 22)" \
        in f.message
    assert "data.balance=weighted_loss" in f.fix and "20 times" in f.fix
    assert "weighted_sampler" in f.fix
    assert f.action == {"label": "Use a class-weighted loss",
                        "set": {"data.balance": "weighted_loss"}, "continue": False,
                        "open": ""}
    # It is the one finding: not_learning (at chance, 91%) and class_never_predicted leave
    # it to this one, and every check runs clean of the others.
    v = view()
    assert [c.__name__ for c in C.CHECKS if c(v) is not None] == ["class_imbalance"]


def test_quiet_when_balanced_learnt_or_too_early():
    # Balanced classes at chance: not_learning's, not this.
    balanced = view(val_acc=(0.34,) * 4, predicted=((22, 0, 0),) * 3, train=(40, 40, 40),
                    val=(8, 8, 8))
    assert class_imbalance(balanced) is None and C.not_learning(balanced) is not None
    # The small classes predicted: the accuracy is above what the big class alone scores.
    learnt = view(val_acc=(1.0,) * 4, predicted=((20, 1, 1),) * 3)
    assert class_imbalance(learnt) is None
    # A small class found once in three epochs is not "ignored"; the other one is.
    one = class_imbalance(view(predicted=((22, 0, 0), (21, 1, 0), (22, 0, 0)))).message
    assert "'dogs'" not in one and "never predicted 'birds' (1 validation image)" in one
    # Two epochs of predictions are too few to judge.
    assert class_imbalance(view(val_acc=(0.909,) * 2, predicted=((22, 0, 0),) * 2)) is None
    # A network that cannot learn at all is not_learning's (it names the cause).
    assert class_imbalance(view(trainable=0)) is None


def test_with_balancing_on_it_says_so_and_offers_no_button():
    for how, words in (("weighted_loss", "data.balance weighted_loss"),
                       ("weighted_sampler", "balanced batches"),
                       ("class_weights", "the loss's own class weights")):
        f = class_imbalance(view(balanced=how))
        assert f is not None and f.action is None, how
        assert "It does so even with" in f.message and words in f.message
        assert "add images of the small classes" in f.fix


def test_several_big_classes_and_more_validation_images():
    # 100/100/5 training, 20/20/5 validation: 'birds' never predicted, the accuracy what
    # never answering it scores (40 of 45) -- class_never_predicted leaves it to this one.
    v = view(val_acc=(0.88,) * 6, predicted=((25, 20, 0),) * 3, train=(100, 100, 5),
             val=(20, 20, 5))
    f = class_imbalance(v)
    assert f is not None and "Never answering 'birds' scores 89%" in f.message
    assert "(5 validation images)" in f.message
    assert C.class_never_predicted(v) is None
    # The same predictions on balanced data are class_never_predicted's.
    even = view(val_acc=(0.6,) * 6, predicted=((25, 20, 0),) * 3, train=(100, 100, 100),
                val=(20, 20, 5))
    assert class_imbalance(even) is None and C.class_never_predicted(even) is not None


def test_the_run_gives_the_doctor_its_class_sizes_and_balancing(tiny_experiment):
    from workbench.core.train.trainer import Trainer

    exp = tiny_experiment.copy()
    exp.training.epochs = 1
    exp.data.balance = "weighted_sampler"
    t = Trainer(exp, [])
    t.fit()
    v = t.doctor.view
    assert v.train_counts == t.class_counts["train"] and sum(v.train_counts) > 0
    assert v.balanced == "weighted_sampler"
    own = tiny_experiment.copy()
    own.training.epochs = 1
    own.loss.params["class_weights"] = [1.0, 2.0, 3.0]
    t = Trainer(own, [])
    t.fit()
    assert t.doctor.view.balanced == "class_weights"


def test_quiet_when_the_network_gets_the_big_class_wrong_too():
    # Measured on noise images, 100/5/5: for 7 epochs a fresh network answered 'dogs' for
    # everything (5%); 'birds' was never predicted, but no high accuracy hides anything.
    v = view(val_acc=(0.045,) * 4, predicted=((0, 22, 0),) * 3)
    assert class_imbalance(v) is None


def test_not_learning_waits_while_the_network_settles_on_the_big_class():
    # Measured (near-identical images, 100/5/5, Adam 0.01): 5%, 68%, then 91% from epoch 3.
    # At epoch 3 the run is at chance, which is the big class's share: not_learning used to
    # blame the labels or the rate there; it leaves it to class_imbalance, said at epoch 5.
    settling = ((0, 22, 0), (15, 5, 2), (22, 0, 0))
    v = view(val_acc=(0.045, 0.68, 0.909), predicted=settling)
    assert C.not_learning(v) is None and class_imbalance(v) is None
    later = view(val_acc=(0.045, 0.68, 0.909, 0.909, 0.909),
                 predicted=settling[1:] + ((22, 0, 0),) * 2)
    assert class_imbalance(later) is not None and C.not_learning(later) is None


def test_a_real_run_on_100_5_5_images_gets_the_finding(tmp_path):
    # Near-identical images: nothing tells the classes apart, so the network learns their
    # sizes and answers 'cats' for everything (91% of the validation images) from epoch 3.
    import numpy as np
    from PIL import Image

    from workbench.core.experiment import Experiment
    from workbench.core.registry import Component
    from workbench.core.train.run import run_training

    rng = np.random.default_rng(0)
    for name, n in (("cats", 100), ("dogs", 5), ("birds", 5)):
        folder = tmp_path / "data" / name
        folder.mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(120, 136, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    exp = Experiment(name="imbalanced")
    exp.data.folder, exp.data.input_size, exp.data.batch_size = str(tmp_path / "data"), \
        [12, 12], 16
    exp.model.layers = [Component("Flatten"), Component("Linear", {"out_features": 16}),
                        Component("ReLU"), Component("Linear")]
    exp.optimizer = Component("Adam", {"lr": 0.01})
    exp.training.epochs, exp.training.device = 7, "cpu"
    outcome = run_training(exp.validate(), tmp_path / "run")
    found = {f["kind"]: f for f in outcome.result.findings}
    assert "not_learning" not in found, found
    f = found["class_imbalance"]
    assert "'cats' has 80 training images, 'birds' 4 and 'dogs' 4" in f["message"]
    assert "Always answering 'cats' scores 91%" in f["message"]
    assert f["action"]["set"] == {"data.balance": "weighted_loss"}
