"""The model doctor's checks: one small function per mistake.

Each check takes a :class:`~.findings.Context` and yields :class:`~.findings.Finding` objects;
:data:`CHECKS` lists them in the order their findings are shown for the same layer and
severity. To add a check, write one here and append it to :data:`CHECKS`, with a test that it
fires on a bad network, stays quiet on a good one, and that its fix makes it go away. The
network-size check (weights, gradients and optimizer state against the device's memory) is
:mod:`.doctor_size`'s, the dropout-rate checks :mod:`.doctor_dropout`'s, a pretrained
backbone's (a weights file training stops on, random weights, other
preprocessing) :mod:`.doctor_backbone`'s.
"""

from __future__ import annotations

import math

from typing import Any, Iterable

from workbench.core.experiment import Experiment
from workbench.core.registry import Component
from workbench.core.model.findings import (ACTIVATIONS, BACKBONES, BATCHNORM_BACKBONES, BATCHNORMS,
                     BOUNDED_ACTIVATIONS, CONSTANT_INITS, CROSS_ENTROPY_LOSSES, DROPOUTS,
                     NORMALISATION, TRANSPARENT, WEIGHTED, Check, Context, Finding, Fix,
                     insert_layer, layers_of, remove_layer)
from workbench.core.model.doctor_backbone import (check_backbone_preprocessing,
                                                  check_backbone_weights_file,
                                                  check_frozen_random_backbone)
from workbench.core.model.doctor_dropout import check_high_dropout, check_input_dropout
from workbench.core.model.doctor_size import check_network_size
from workbench.core.model.init import INITS
from workbench.core.model.layers import LAYERS

BATCH_SIZE_FIX = 32
DOMINANT_SHARE = 0.75
DOMINANT_MIN_PARAMS = 10_000


def least_loss(width: float, num_classes: int) -> float:
    """The least cross-entropy of ``num_classes`` scores that lie within a range
    ``width`` wide (a Softmax's probabilities: 1): the right class at the top, every
    other at the bottom."""
    return math.log1p((max(2, int(num_classes)) - 1) * math.exp(-width))


def check_softmax_before_loss(ctx: Context) -> Iterable[Finding]:
    """Softmax or LogSoftmax among the last layers while the loss is cross-entropy."""
    loss = getattr(getattr(ctx.experiment, "loss", None), "type", None)
    if loss not in CROSS_ENTROPY_LOSSES:
        return
    for i in range(ctx.tail_start, len(ctx.types)):
        if ctx.types[i] == "Softmax":
            yield Finding(
                "softmax-before-cross-entropy", "warning", i,
                f"{ctx.name(i)} turns the class scores into probabilities before "
                f"CrossEntropyLoss",
                f"CrossEntropyLoss applies log-softmax to the network's outputs itself, so "
                f"it expects raw scores (logits). After a Softmax it receives probabilities "
                f"between 0 and 1, which look like almost equal scores: the loss can never "
                f"fall below {least_loss(1.0, ctx.num_classes):.2f} (with "
                f"{max(2, ctx.num_classes)} classes), its gradients are squashed, so the "
                f"network learns more slowly, and the confidences it reports stay near equal "
                f"even when it is right. The accuracy may still rise, slower than it would. "
                f"Remove the Softmax; the Predict panel already turns scores into "
                f"probabilities.", remove_layer(i, "Softmax"))
        elif ctx.types[i] == "LogSoftmax":
            # log_softmax(log_softmax(x)) == log_softmax(x): with this loss the layer is
            # redundant, not harmful, hence info rather than a warning.
            yield Finding(
                "log-softmax-before-cross-entropy", "info", i,
                f"{ctx.name(i)} repeats what CrossEntropyLoss already does",
                "CrossEntropyLoss applies log-softmax to the network's outputs itself, and "
                "log-softmax of log-probabilities changes nothing, so with this loss the layer "
                "only repeats work. Training is unaffected, but the network's outputs are "
                "log-probabilities rather than the raw scores CrossEntropyLoss expects. Remove "
                "it, or keep it with a loss that takes log-probabilities (NLLLoss).",
                remove_layer(i, "LogSoftmax"))


def check_activation_after_output(ctx: Context) -> Iterable[Finding]:
    """An activation applied to the class scores of the last weighted layer."""
    out = ctx.output_layer
    if out is None:
        return
    for i in range(out + 1, len(ctx.types)):
        t = ctx.types[i]
        if t not in ACTIVATIONS:
            continue
        if t in BOUNDED_ACTIVATIONS:
            effect = (f"{t} squeezes them into a narrow range, so the network can never be "
                      f"confident: the loss stays high and its gradients fade.")
        else:
            effect = (f"{t} cuts or bends the negative scores, so the classes it clips get "
                      f"(nearly) equal scores and little gradient: training can get stuck "
                      f"predicting a few classes.")
        yield Finding(
            "activation-after-output", "warning", i,
            f"{ctx.name(i)} is applied to the class scores of {ctx.name(out)}",
            f"The outputs of {ctx.name(out)} are the class scores (logits); the loss turns "
            f"them into probabilities and needs them free to be any number. {effect} End the "
            f"network with the {ctx.types[out]} layer.", remove_layer(i, t))


def check_dropout_at_end(ctx: Context) -> Iterable[Finding]:
    """Dropout with no learned layer after it: it drops class scores, not features."""
    for i in range(ctx.tail_start, len(ctx.types)):
        t = ctx.types[i]
        if t in DROPOUTS and ctx.params(i).get("p") != 0:  # p = 0 drops nothing
            yield Finding(
                "dropout-at-end", "warning", i,
                f"{ctx.name(i)} comes after the last learned layer",
                "Dropout zeroes random values during training so the layer after it cannot "
                "rely on any one of them. With no learned layer after it, it zeroes class "
                "scores instead: the loss is computed on scores the network did not produce, "
                "and validation (where dropout is off) sees a different network. Put dropout "
                "before the last Linear layer.", remove_layer(i, t))


def check_consecutive_linear(ctx: Context) -> Iterable[Finding]:
    """Two weighted layers with no nonlinearity between them."""
    types = ctx.types
    for i, t in enumerate(types):
        if t not in WEIGHTED:
            continue
        j = i + 1
        while j < len(types) and types[j] in TRANSPARENT:
            j += 1
        if j >= len(types) or types[j] not in WEIGHTED:
            continue
        # The usual order is weighted -> normalisation -> activation -> dropout.
        at = i + 1
        while at < j and types[at] in NORMALISATION:
            at += 1
        after = ctx.name(at - 1)
        yield Finding(
            "no-nonlinearity", "warning", i,
            f"{ctx.name(i)} and {ctx.name(j)} have no activation between them",
            f"Each of them computes a weighted sum of its inputs, and a weighted sum of "
            f"weighted sums is still one: together they can only learn what a single "
            f"{types[j]} layer could, while costing the parameters and time of two. An "
            f"activation such as ReLU between them lets the network learn curved decision "
            f"boundaries.",
            insert_layer(at, "ReLU", f"Insert ReLU after {after}", (i, t)))


def _constant(init: Any) -> str | None:
    """How an init spec (Component or ``{"type", "params"}`` dict) makes weights constant."""
    if isinstance(init, dict):
        kind, params = init.get("type"), init.get("params")
    else:
        kind, params = getattr(init, "type", None), getattr(init, "params", None)
    if not isinstance(kind, str) or kind not in INITS:
        return None
    try:
        p = INITS.get(kind).validate(params if params is not None else {})
    except Exception:  # an invalid spec is reported when the experiment is validated
        return None
    if kind in CONSTANT_INITS:
        value = {"zeros": 0, "ones": 1}.get(kind, p.get("val"))
        return f"{kind} initialisation (every weight {_num(value)})"
    if kind == "normal" and p.get("std") == 0:
        return f"normal initialisation with std 0 (every weight {_num(p.get('mean'))})"
    if kind == "uniform" and p.get("a") == p.get("b"):
        return f"uniform initialisation with a = b (every weight {_num(p.get('a'))})"
    if p.get("gain") == 0:
        return f"{kind} initialisation with gain 0 (every weight 0)"
    return None


def _num(value: Any) -> str:
    """A constant weight as a person writes it (0, 0.5, 1e-08), "the same" when unknown."""
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return "the same"


def starts_from_zero(finding: Finding) -> bool:
    """Whether a ``constant-init`` finding's constant is 0 (then the layers before get no
    gradient either), as :func:`_constant` words it in the title."""
    return "every weight 0)" in finding.title or "every weight -0)" in finding.title


_SYMMETRY = ("Every unit of a layer then starts with the same weights, computes the same "
             "output and receives the same gradient, so the units stay identical: the layer "
             "learns like a single unit. With zeros the gradients of the layers before are "
             "zero too, and the network may not learn at all.")


def _names(ctx: Context, idx: list[int]) -> str:
    """``"layer 4 (Conv2d)"``, or ``"layers 1 (Conv2d), 4 (Conv2d) and 10 (Linear)"``."""
    if len(idx) == 1:
        return ctx.name(idx[0])
    parts = [ctx.name(i).removeprefix("layer ") for i in idx]
    return f"layers {', '.join(parts[:-1])} and {parts[-1]}"


def _randomise_layers(e: Experiment, layers: dict[int, str]) -> None:
    """Give each of ``layers`` (index: type) a random weight initialisation: drop its own
    where the experiment's is random, else use PyTorch's default for it."""
    own = layers_of(e)
    global_constant = _constant(getattr(e, "init", None)) is not None
    for i, t in layers.items():
        if i < len(own) and own[i].type == t:
            init = dict(getattr(own[i], "init", None) or {})
            if not global_constant:  # follow the experiment's
                init.pop("weight", None)
            else:  # ... unless that is constant too: PyTorch's own, for this layer
                init["weight"] = {"type": "default", "params": {}}
            own[i].init = init or None


def check_constant_init(ctx: Context) -> Iterable[Finding]:
    """Weights of hidden layers all starting at the same value.

    Only layers with another weighted layer after them count: a constant output layer
    (logistic regression from zeros, a zero-initialised classifier head) still gets a
    different gradient for every class, and trains fine. The experiment's own constant
    initialisation is one finding (its fix also randomises layers with their own constant
    one); the layers with their own constant initialisation are another, naming them all,
    whose one fix randomises them all (its layer is the first of them).
    """
    weighted = [i for i, t in enumerate(ctx.types) if t in WEIGHTED]
    hidden = weighted[:-1]
    overrides = {i: getattr(ctx.layers[i], "init", None) for i in hidden}
    overridden = {i for i, o in overrides.items() if isinstance(o, dict) and "weight" in o}
    hows = {i: _constant(overrides[i]["weight"]) for i in sorted(overridden)}
    constant = {i: ctx.types[i] for i, h in hows.items() if h is not None}
    exp = ctx.experiment
    how = _constant(getattr(exp, "init", None))
    if how is not None and any(i not in overridden for i in hidden):
        def apply(e: Experiment) -> None:
            e.init = Component("default")
            _randomise_layers(e, constant)

        one = len(constant) == 1
        also = (f" {_names(ctx, list(constant))} also set{'s' if one else ''} a constant "
                f"initialisation of {'its' if one else 'their'} own: the fix gives "
                f"{'it' if one else 'them'} a random one too." if constant else "")
        yield Finding(
            "constant-init", "warning", None,
            f"The experiment's {how} makes the units of each hidden layer identical",
            f"{_SYMMETRY} Use a random initialisation: default (PyTorch's) suits most "
            f"networks.{also}", Fix("Use the default initialisation (PyTorch's)", apply))
    if not constant:
        return
    idx = list(constant)
    names = _names(ctx, idx)
    kinds = {hows[i] for i in idx}
    if len(idx) == 1:
        title = f"{names} starts from {hows[idx[0]]}"
        advice = "Give the layer a random initialisation: remove its own, or use"
    else:
        shared = kinds.pop() if len(kinds) == 1 else (
            "constant initialisation (every weight of a layer the same)")
        title = f"{names} start from {shared}"
        advice = ("Give them all a random initialisation: remove their own, or use")
    yield Finding(
        "constant-init", "warning", idx[0], title,
        f"{_SYMMETRY} {advice} default (PyTorch's).",
        Fix(f"Use a random initialisation for {names}",
            lambda e: _randomise_layers(e, constant)))


def check_output_size(ctx: Context) -> Iterable[Finding]:
    """The output layer's out_features pinned to a number other than the classes."""
    out = ctx.output_layer
    if out is None or ctx.types[out] != "Linear":
        return
    n = ctx.params(out).get("out_features")
    if isinstance(n, bool) or not isinstance(n, int) or n == ctx.num_classes:
        return
    k = ctx.num_classes

    def apply(exp: Experiment) -> None:
        layers = layers_of(exp)
        if out < len(layers) and layers[out].type == "Linear":
            layers[out].params["out_features"] = None

    yield Finding(
        "output-size", "warning", out,
        f"{ctx.name(out)} outputs {n} scores but the dataset has {k} "
        f"class{'es' if k != 1 else ''}",
        f"The last layer must give exactly one score per class. With {n} outputs the "
        f"network cannot be trained on these labels (or wastes outputs no label uses). Set "
        f"out_features to auto: it then always follows the number of classes.",
        Fix(f"Set out_features of {ctx.name(out)} to auto", apply))


def check_missing_flatten(ctx: Context) -> Iterable[Finding]:
    """A layer that needs flat features receiving an image."""
    if ctx.summary is None:
        return
    for info in ctx.summary.layers:
        i = info.index
        if i >= len(ctx.types) or info.type != ctx.types[i] or info.type not in LAYERS:
            continue
        shape = info.input_shape
        if LAYERS.get(info.type).meta.get("input") != "flat" or shape is None \
                or len(shape) != 3:
            continue
        source = ctx.name(i - 1) if i > 0 else "the input"
        dims = "x".join(str(d) for d in shape)
        yield Finding(
            "missing-flatten", "warning", i,
            f"{ctx.name(i)} receives an image from {source}: add Flatten before it",
            f"{info.type} needs a flat list of features, but {source} gives an image of "
            f"{dims} (channels x height x width). Flatten turns it into "
            f"{shape[0] * shape[1] * shape[2]} features; without it the network cannot be "
            f"built.",
            insert_layer(i, "Flatten", f"Insert Flatten before {ctx.name(i)}", (i, info.type)))


def _has_batchnorm(ctx: Context, i: int) -> bool:
    t = ctx.types[i]
    return t in BATCHNORMS or (t in BACKBONES and
                               ctx.params(i).get("arch", "resnet18") in BATCHNORM_BACKBONES)


def check_batchnorm_batch_one(ctx: Context) -> Iterable[Finding]:
    """BatchNorm with a batch size of 1."""
    data = getattr(ctx.experiment, "data", None)
    if getattr(data, "batch_size", None) != 1:
        return
    first = next((i for i in range(len(ctx.types)) if _has_batchnorm(ctx, i)), None)
    if first is None:
        return

    def apply(exp: Experiment) -> None:
        exp.data.batch_size = BATCH_SIZE_FIX

    # An error: the run refuses it (core.train.failures.batch_of_one_error), as it would
    # skip every training batch.
    yield Finding(
        "batchnorm-batch-one", "error", first,
        f"{ctx.name(first)} normalises over a batch of 1 image",
        "BatchNorm rescales each channel with the mean and spread of the current batch. "
        "One image has no spread to measure: PyTorch refuses BatchNorm1d on it, and "
        "Workbench skips training batches of one image when the network has BatchNorm, so "
        "with batches of one it would train nothing: a run refuses to start. Use a batch "
        f"size of {BATCH_SIZE_FIX} (or at least 8).",
        Fix(f"Set the batch size to {BATCH_SIZE_FIX}", apply))


def check_dominant_layer(ctx: Context) -> Iterable[Finding]:
    """A Linear layer holding most of a sizeable network's parameters.

    Only Linear layers: the usual cause is a Flatten of a large image, which pooling fixes.
    The deepest convolution of a CNN holding most parameters is normal, a pretrained
    backbone is meant to, and in a one-layer network the share says nothing. A tip (info),
    not a problem: the seed-cnn preset has one, and ``workbench train`` does not print it.
    """
    s = ctx.summary
    if s is None or not s.ok or s.total_params <= DOMINANT_MIN_PARAMS \
            or sum(info.num_params > 0 for info in s.layers) < 2:
        return
    total = s.total_params
    for info in s.layers:
        if info.type != "Linear" or info.num_params <= DOMINANT_SHARE * total:
            continue
        i = info.index
        pct = 100 * info.num_params / total  # never "100%" while another layer has some
        pct_text = f"{pct:.0f}%" if pct < 99.5 else f"{math.floor(pct * 10) / 10:g}%"
        share = f"{info.num_params:,} of the network's {total:,} parameters ({pct_text})"
        n_in, n_out = info.params.get("in_features"), info.params.get("out_features")
        prev = s.layers[i - 1] if i > 0 else None
        if prev is not None and prev.type == "Flatten" and prev.input_shape is not None \
                and len(prev.input_shape) == 3:
            c, h, w = prev.input_shape
            where = (f"It connects each of the {c * h * w:,} features {ctx.name(i - 1)} makes "
                     f"of the {c}x{h}x{w} image to each of its {n_out} outputs. ")
            if any(t in WEIGHTED for t in ctx.types[:i]):
                advice = ("Shrink the image before Flatten: another MaxPool2d, "
                          "AdaptiveAvgPool2d after the last convolution, or fewer channels; "
                          "or give this layer fewer out_features.")
            else:  # Linear layers straight on the pixels
                advice = ("Convolutions with pooling before Flatten (a CNN) or a smaller "
                          "input size need far fewer; or give this layer fewer out_features.")
        else:
            where = f"It connects each of its {n_in:,} inputs to each of its {n_out} outputs. " \
                if isinstance(n_in, int) else ""
            advice = "Give it, or the layer before it, fewer features."
        yield Finding(
            "dominant-layer", "info", i,
            f"{ctx.name(i)} holds {share}",
            f"{where}That is not a mistake, but a layer this large needs more images and is "
            f"where a network memorises its training images (overfits): if the training "
            f"accuracy runs far ahead of the validation accuracy, shrink it first. {advice}")


#: Every check, in the order their findings are listed for the same layer and severity.
#: A check takes a :class:`Context` and yields :class:`Finding` objects; append to add one.
CHECKS: list[Check] = [
    check_softmax_before_loss,
    check_activation_after_output,
    check_dropout_at_end,
    check_high_dropout,
    check_input_dropout,
    check_consecutive_linear,
    check_constant_init,
    check_output_size,
    check_missing_flatten,
    check_batchnorm_batch_one,
    check_dominant_layer,
    check_backbone_weights_file,
    check_frozen_random_backbone,
    check_backbone_preprocessing,
    check_network_size,
]


__all__ = ["CHECKS", *(check.__name__ for check in CHECKS)]
