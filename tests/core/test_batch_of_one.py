"""Batches of one image with BatchNorm: a run that would skip every training batch is refused
before it starts, with the fix; a last batch of one (the training images one more than a
multiple of the batch size) is skipped alone and the run trains.

Measured before: ``workbench train bn.json --batch-size 1`` trained every epoch on no batch
(``train_loss -``), exited 0 with run.json "finished" and wrote an untrained bundle.
"""

from __future__ import annotations

from helpers import make_image_folder, run_cli
from workbench.core.experiment import Experiment
from workbench.core.model.presets import preset_layers


def _experiment(tmp_path, batch_size: int) -> Experiment:
    exp = Experiment(name="bn")
    exp.data.folder = make_image_folder(tmp_path / "colours", per_class=12, size=16)
    exp.data.input_size = [16, 16]
    exp.data.val_fraction = 0.25
    exp.data.batch_size = batch_size
    exp.model.layers, exp.model.preset = preset_layers("cnn-bn"), "cnn-bn"
    exp.augment.transforms = []
    exp.training.epochs = 2
    exp.training.device = "cpu"
    return exp.validate()


def test_batches_of_one_with_batchnorm_are_refused_but_a_last_batch_of_one_is_not(
        capsys, tmp_path, monkeypatch):
    from workbench.core.train.trainer import Trainer

    _experiment(tmp_path, 8).save(tmp_path / "bn.json")
    run_dir = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", tmp_path / "bn.json", "--out", run_dir,
                             "--batch-size", "1")
    assert code == 2, err
    assert "epoch 1/" not in out and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("workbench train: ")
    assert "the batch size is 1 and the network has BatchNorm" in last
    assert "every training batch would be skipped" in last
    # A batch size that fits the 27 training images: not the usual 32, one step an epoch.
    assert last.endswith("Set the batch size to 8: the 27 training images make 4 steps an "
                         "epoch at 8, only 1 at 32 (--set data.batch_size=8)")
    # Refused, not a run: no folder left saying "finished", no untrained bundle.
    assert not run_dir.exists()
    # The Model doctor's finding is the refusal's: not said a second time as a warning.
    assert "warning: layer" not in err

    # 27 training images in batches of 13: 13, 13 and a last one of 1, skipped alone.
    trained = []
    real = Trainer.optimizer_step

    def counted(self, loss, step=True, scale=1.0):
        trained.append(self.epochs_done + 1)
        return real(self, loss, step, scale)

    monkeypatch.setattr(Trainer, "optimizer_step", counted)
    code, out, err = run_cli(capsys, "train", tmp_path / "bn.json", "--out", run_dir,
                             "--batch-size", "13")
    assert code == 0, err
    assert trained == [1, 1, 2, 2]  # two batches trained in each epoch
    assert "train_loss -" not in out and (run_dir / "bundle.pt").is_file()


def test_a_skipped_last_batch_still_steps_the_gradients_accumulated_before_it(
        capsys, tmp_path, monkeypatch):
    # From a review: with training.accumulate 2, 27 training images in batches of 13 (13,
    # 13, 1): the second batch is not the last, so it waited for a third that BatchNorm
    # skips, and its gradients carried into the next epoch's first step.
    from workbench.core.train.trainer import Trainer

    exp = _experiment(tmp_path, 13)
    exp.training.accumulate = 4  # 13 and 13 accumulate; the skipped 1 would have stepped
    exp.save(tmp_path / "bn.json")
    left = []
    real = Trainer._run_epoch

    def watched(self, epoch, train):
        result = real(self, epoch, train)
        if train:
            left.append((self.steps, [p.grad is not None and bool(p.grad.abs().sum())
                                      for p in self.model.parameters()].count(True)))
        return result

    monkeypatch.setattr(Trainer, "_run_epoch", watched)
    code, out, err = run_cli(capsys, "train", tmp_path / "bn.json", "--out", tmp_path / "r")
    assert code == 0, err
    assert left == [(1, 0), (2, 0)]  # one step an epoch, no gradient left pending
