"""The ``workbench`` command line: :func:`build_parser`, every command's options and help.

Nothing here imports more than ``argparse``: ``workbench --help`` must stay instant.
"""

from __future__ import annotations

import argparse

from workbench import __version__
from workbench.cli.common import EXIT_USER_ERROR


COMMANDS = ("gui", "init", "scan", "check", "train", "resume", "lr-find", "predict", "evaluate",
            "explain", "export", "report", "tune")
#: The BUNDLE of predict, evaluate and export: a run folder stands for its bundle.pt, as
#: resume and report take the run folder.
_BUNDLE_HELP = "a bundle file (bundle.pt), or the run folder holding it"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str, hint: str = "") -> None:  # one line, not usage + message
        self.exit(EXIT_USER_ERROR,
                  f"{self.prog}: error: {message} (see {self.prog} --help{hint})\n")

    def unrecognized(self, extra: list[str]) -> None:
        """Refuse arguments this command does not take, naming the command (not
        ``workbench``) and the option spelled most like a mistyped one."""
        import difflib

        options = [s for action in self._actions for s in action.option_strings]
        hints = []
        for arg in extra:
            close = difflib.get_close_matches(arg.split("=", 1)[0], options, n=1) \
                if arg.startswith("--") else []
            if close:
                hints.append(f"; did you mean {close[0]}?")
        self.error(f"unrecognized arguments: {' '.join(extra)}", "".join(hints[:1]))


def _add_set(p: argparse.ArgumentParser) -> None:
    """``--set PATH=VALUE``, on every command that takes an experiment."""
    p.add_argument("--set", action="append", metavar="PATH=VALUE",
                   help="set any experiment field by its dotted path, as in SPACE.json "
                        "(optimizer.params.lr=0.01, model.layers[3].params.out_channels=32); "
                        "repeatable")


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR|CSV",
                   help="the dataset: a folder, .csv file or .zip/.tar(.gz) of a folder "
                        "(default: the experiment's data.folder)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="workbench", description="Train image classifiers by pointing and "
                                              "clicking, or headless from the command line.")
    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    #: Each command's parser, by name: an argument it does not take is its error.
    p.commands = sub.choices

    g = sub.add_parser("gui", help="start the app (the default command)")
    g.add_argument("--data", metavar="DIR|CSV",
                   help="dataset folder or .csv file to open (default: the demo)")
    g.add_argument("--experiment", metavar="FILE", help="experiment JSON to open")

    i = sub.add_parser("init", help="write a new experiment JSON from a preset")
    i.add_argument("--preset", default="seed-cnn", help="network preset (default: seed-cnn)")
    i.add_argument("--data", metavar="DIR|CSV",
                   help="dataset folder (or .csv file of path,label rows, or .zip/.tar(.gz) "
                        "of a folder) it trains on (default: the built-in demo dataset)")
    i.add_argument("-o", "--output", metavar="EXPERIMENT.json",
                   help="file to write (default: print to stdout); an existing file is "
                        "refused, unless --overwrite")
    i.add_argument("--overwrite", action="store_true",
                   help="replace EXPERIMENT.json when it exists")
    i.add_argument("--list-presets", action="store_true", help="list the presets and exit")

    s = sub.add_parser("scan", help="list a dataset folder's classes, counts and bad files")
    s.add_argument("folder", metavar="DIR|CSV",
                   help="dataset folder, .csv file of path,label rows, or .zip/.tar(.gz) of "
                        "a folder")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.add_argument("--quick", action="store_true",
                   help="list files without decoding them (unreadable files not detected)")

    h = sub.add_parser("check", help="check a dataset's health: copies, conflicting labels, "
                                      "leaks between train/val/test, likely wrong labels")
    h.add_argument("folder", nargs="?", metavar="DIR|CSV",
                   help="dataset folder, .csv file or .zip/.tar(.gz) of a folder (default: "
                        "the experiment's)")
    h.add_argument("--experiment", metavar="EXP.json",
                   help="use this experiment's split, input size, exclusions and network")
    h.add_argument("--labels", action="store_true",
                   help="also find likely mislabelled images (5-fold cross-validation with "
                        "the network, ranked by confident learning; minutes)")
    h.add_argument("--json", action="store_true", help="print JSON instead of text")
    h.add_argument("--strict", action="store_true",
                   help="exit with code 5 when it finds conflicting labels or copies "
                        "spanning the training, validation and test parts, or when "
                        "training would refuse the dataset (e.g. a class whose every file "
                        "is unreadable, a single class) or --experiment's augmentation "
                        "would stop it (a crop larger than the images), to gate a "
                        "pipeline (a class "
                        "imbalance is reported but does not fail it); default: exit 0 "
                        "whatever it finds")

    t = sub.add_parser("train", help="train an experiment headless")
    t.add_argument("experiment", metavar="EXPERIMENT.json")
    t.add_argument("--data", metavar="DIR|CSV",
                   help="dataset folder, .csv file or .zip/.tar(.gz) of a folder (overrides "
                        "the experiment's; an archive is recorded as given and unpacked "
                        "once into the cache)")
    t.add_argument("--epochs", type=int, metavar="N")
    t.add_argument("--batch-size", type=int, metavar="N")
    t.add_argument("--lr", type=float, metavar="X", help="learning rate")
    t.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    t.add_argument("--cache", choices=("auto", "disk", "off"),
                   help="decoded-image cache (default: the experiment's data.cache)")
    t.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="folder for bundle.pt, metrics.json, experiment.json, run.json and "
                        "checkpoints/ (resume it with workbench resume RUN_DIR); new or "
                        "empty, unless --overwrite")
    _add_set(t)
    t.add_argument("--overwrite", action="store_true",
                   help="RUN_DIR holds a run: delete that run's files (run.json, "
                        "experiment.json, metrics.json, bundle.pt, split.json, checkpoints/, its "
                        "TensorBoard events) and train "
                        "afresh; other files in it are left alone. A run being trained now "
                        "is still refused")

    c = sub.add_parser("resume", help="continue a stopped or finished run from its last "
                                      "checkpoint")
    c.add_argument("run_dir", metavar="RUN_DIR", help="the run's folder (or a checkpoint file)")
    c.add_argument("--epochs", type=int, metavar="N",
                   help="train N more epochs (default: the epochs the run had left)")
    c.add_argument("--lr", type=float, metavar="X",
                   help="continue at this learning rate (e.g. after the run diverged)")
    c.add_argument("--data", metavar="DIR|CSV",
                   help="the dataset, when it has moved since the run (same classes)")
    c.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    _add_set(c)

    f = sub.add_parser("lr-find", help="sweep the learning rate and suggest one")
    f.add_argument("experiment", metavar="EXPERIMENT.json")
    f.add_argument("--start", type=float, default=1e-7, metavar="LR",
                   help="first learning rate of the sweep (default: 1e-7)")
    f.add_argument("--end", type=float, default=10.0, metavar="LR",
                   help="last learning rate of the sweep (default: 10)")
    f.add_argument("--steps", type=int, default=100, metavar="N",
                   help="training batches to sweep over, one rate each (default: 100)")
    f.add_argument("--json", action="store_true", help="print JSON instead of text")
    _add_set(f)
    _add_data(f)
    f.add_argument("--write", action="store_true",
                   help="write the suggested rate into EXPERIMENT.json (optimizer.params.lr)")

    r = sub.add_parser("predict", help="classify images with a trained bundle")
    r.add_argument("bundle", metavar="BUNDLE", help=_BUNDLE_HELP)
    r.add_argument("paths", nargs="+", metavar="PATH",
                   help="image files or folders (exit code 0 once one image was classified, "
                        "each one that could not be named with why; 2 when none was)")
    r.add_argument("--top-k", type=int, default=5, metavar="K")
    r.add_argument("--json", action="store_true", help="print JSON instead of text")
    r.add_argument("--csv", metavar="OUT", help="also write the predictions to OUT as CSV "
                   "(path, predicted, confidence, class_i/prob_i, error); - prints the CSV "
                   "instead of the text")

    v = sub.add_parser("evaluate", help="measure a trained bundle on labelled images: "
                                        "accuracy, per-class table, confusion matrix")
    v.add_argument("bundle", metavar="BUNDLE", help=_BUNDLE_HELP)
    v.add_argument("folder", nargs="?", metavar="DIR|CSV",
                   help="labelled dataset, every image of it (default: the dataset the "
                        "bundle was trained on: its test/ part when it has one, else the "
                        "validation split as training made it)")
    v.add_argument("--split", choices=("auto", "val", "test", "all"),
                   help="which images of the dataset: its validation split as training made "
                        "it (val), its test/ part (test), the test part when it has one "
                        "else the validation split (auto), or every image (all); default: "
                        "auto without DIR, all with it")
    v.add_argument("--top-k", type=int, metavar="K",
                   help="k of the top-k accuracy (default: 5, but below the model's number "
                        "of classes, as the Evaluate tab: top-2 for 3 classes, where a "
                        "top-3 accuracy would always be 100%%)")
    v.add_argument("--json", action="store_true", help="print JSON instead of text")
    v.add_argument("--csv-dir", metavar="OUT",
                   help="also write per_class.csv, confusion.csv and predictions.csv in this "
                        "folder (created if needed)")

    e = sub.add_parser("explain", help="save Grad-CAM pictures: where in each image the "
                                       "evidence for a class lies (the app's Explain dialog)")
    e.add_argument("bundle", metavar="BUNDLE", help=_BUNDLE_HELP)
    e.add_argument("paths", nargs="+", metavar="IMAGE",
                   help="image files or folders of images (exit code 0 once one image was "
                        "explained, each one that could not be named with why; 2 when none "
                        "was, as predict)")
    e.add_argument("--class", dest="class_name", metavar="NAME",
                   help="explain the evidence for this class (default: each image's "
                        "predicted class)")
    e.add_argument("--layer", metavar="LAYER",
                   help="the layer the map is taken at, as the Explain dialog lists it: its "
                        "number or label ('5', '5 Conv2d'; in a Backbone, 'layer4'); "
                        "default: the last convolution")
    e.add_argument("--out", metavar="DIR",
                   help="folder for the PNGs, IMAGE-grad-cam.png, created if needed "
                        "(default: explain/ beside the bundle)")
    e.add_argument("--size", type=int, metavar="PIXELS",
                   help="the PNG's longer side (default: the image's own size, at most 2048; "
                        "where the network sees a crop of the image: that crop, enlarged to "
                        "at least 512)")
    e.add_argument("--opacity", type=int, default=45, metavar="PERCENT",
                   help="how strongly the heatmap covers the image, 0 to 100 (default: 45, "
                        "as in the app)")

    x = sub.add_parser("export", help="write a trained bundle's network for use outside "
                                      "Workbench")
    x.add_argument("bundle", metavar="BUNDLE", help=_BUNDLE_HELP)
    # One option per format; each names its own output file, and any may be combined.
    fmt = x.add_argument_group("formats (give at least one)")
    fmt.add_argument("--code", metavar="OUT.py",
                     help="a PyTorch module whose build_model() builds the network; "
                          "its header shows how to load the bundle's state_dict into it "
                          "(- prints it)")
    fmt.add_argument("--onnx", metavar="OUT.onnx",
                     help="ONNX with a dynamic batch dimension, checked at once with "
                          "onnxruntime; the preprocessing and class names go to OUT.json")
    fmt.add_argument("--safetensors", metavar="OUT.safetensors",
                     help="the weights as safetensors (no pickle), with the experiment and "
                          "classes in OUT.safetensors.json; load them into --code's "
                          "build_model()")
    x.add_argument("--int8", action="store_true",
                   help="with --onnx: quantize the model to int8 (static, calibrated on "
                        "training images) and print both models' validation accuracy")
    x.add_argument("--data", metavar="DIR|CSV",
                   help="with --int8: the bundle's dataset, where it has moved (default: the "
                        "folder it was trained on)")
    x.add_argument("--overwrite", action="store_true",
                   help="replace OUT.json or OUT.safetensors.json when it exists and is not "
                        "an earlier export (e.g. an experiment); refused otherwise. A run "
                        "folder's own files are never replaced")

    o = sub.add_parser("report", help="write a run as one self-contained HTML file (curves, "
                                      "network, confusion matrix, worst images, findings)")
    o.add_argument("run_dir", metavar="RUN_DIR")
    o.add_argument("-o", "--output", required=True, metavar="REPORT.html",
                   help="file to write (- prints the HTML)")
    o.add_argument("--data", metavar="DIR|CSV",
                   help="the run's dataset, where it has moved since the run: the report "
                        "evaluates the bundle on its validation split and its test/ part, if "
                        "any (default: the dataset the run trained on)")

    u = sub.add_parser("tune", help="search hyperparameters with Optuna: one run per trial")
    u.add_argument("experiment", metavar="EXPERIMENT.json")
    _add_set(u)
    _add_data(u)
    u.add_argument("--space", required=True, metavar="SPACE.json",
                   help="the fields to search and their ranges (format in the README; "
                        "example: workbench/resources/space_example.json)")
    u.add_argument("--trials", type=int, metavar="N",
                   help="trials this process runs (processes sharing a study each run theirs)")
    u.add_argument("--timeout", type=float, metavar="S",
                   help="start no trial after S seconds (the running one finishes)")
    u.add_argument("--storage", metavar="URL",
                   help="Optuna storage URL shared by cooperating processes (default: "
                        "sqlite:///RUNS_DIR/studies.sqlite)")
    u.add_argument("--study", metavar="NAME",
                   help="study name (default: <dataset>-<network>, as the Tune tab and run "
                        "names; a study that searched this experiment under another name is "
                        "named in a note); an existing study is continued")
    u.add_argument("--apply", action="store_true",
                   help="write the best parameters into EXPERIMENT.json")
    u.add_argument("--other-experiment", action="store_true",
                   help="continue (and with --apply, apply) a study that searched another "
                        "dataset or network, which is otherwise refused (e.g. the dataset "
                        "moved)")
    return p
