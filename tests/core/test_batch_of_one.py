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
