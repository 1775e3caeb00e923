"""Optimizer and loss registries, and the parameter groups an optimizer is built over.

Each entry declares the hyperparameters a user may set; ``lr`` is on every optimizer so the
CLI's ``--lr`` and the Train panel can set it without knowing which optimizer is chosen.
:func:`parameter_groups` leaves frozen parameters out and gives a layer that declares an
``lr_scale`` (a fine-tuned pretrained backbone) its own, scaled learning rate.
"""

from __future__ import annotations

import inspect
from typing import Any, Iterable, Sequence

import torch
from torch import nn

from ..errors import WorkbenchError
from ..experiment import Component
from ..registry import Param, Registry

OPTIMIZERS = Registry("optimizer")
LOSSES = Registry("loss")


def _lr(default: float) -> Param:
    return Param("lr", float, default, min=0.0, max=10.0, log=True,
                 help="Learning rate: step size of each update. Too high diverges, too low "
                      "crawls; try 1e-3 for Adam-like optimizers, 0.01-0.1 for SGD.")


_WD = Param("weight_decay", float, 0.0, min=0.0, max=1.0, log=True,
            help="L2 penalty on the weights; 1e-4 to 5e-4 is typical, 0 turns it off.")


@OPTIMIZERS.register("SGD", params=[
    _lr(0.01),
    Param("momentum", float, 0.9, min=0.0, max=0.999,
          help="Fraction of the previous update carried over; 0.9 is the usual choice."),
    Param("nesterov", bool, False, help="Nesterov momentum (needs momentum > 0)."),
    _WD,
], help="Stochastic gradient descent with optional (Nesterov) momentum.")
def _sgd(parameters: Iterable, lr: float, momentum: float, nesterov: bool,
         weight_decay: float) -> torch.optim.Optimizer:
    # Nesterov without momentum is an error in PyTorch; treat it as plain momentum-free SGD
    # rather than refusing the run for a combination the form allows.
    return torch.optim.SGD(parameters, lr=lr, momentum=momentum,
                           nesterov=nesterov and momentum > 0, weight_decay=weight_decay)


@OPTIMIZERS.register("Adam", params=[_lr(1e-3), _WD],
                     help="Adaptive moments; a robust default at lr 1e-3.")
def _adam(parameters: Iterable, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay)


@OPTIMIZERS.register("AdamW", params=[
    _lr(1e-3),
    Param("weight_decay", float, 0.01, min=0.0, max=1.0, log=True,
          help="Decoupled weight decay; 0.01-0.05 is typical for AdamW."),
], help="Adam with decoupled weight decay.")
def _adamw(parameters: Iterable, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)


@OPTIMIZERS.register("RMSprop", params=[
    _lr(1e-3),
    Param("alpha", float, 0.99, min=0.0, max=0.9999, help="Smoothing of the squared gradient."),
    Param("momentum", float, 0.0, min=0.0, max=0.999, help="Momentum; 0 turns it off."),
    _WD,
], help="Divides each step by a running RMS of the gradient.")
def _rmsprop(parameters: Iterable, lr: float, alpha: float, momentum: float,
             weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(parameters, lr=lr, alpha=alpha, momentum=momentum,
                               weight_decay=weight_decay)


@OPTIMIZERS.register("Adagrad", params=[_lr(0.01), _WD],
                     help="Per-parameter learning rates that shrink with accumulated gradients.")
def _adagrad(parameters: Iterable, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(parameters, lr=lr, weight_decay=weight_decay)


@LOSSES.register("CrossEntropy", params=[
    Param("label_smoothing", float, 0.0, min=0.0, max=0.99,
          help="Spreads this much of the target over all classes; 0.1 often helps a little."),
], help="Cross-entropy on raw logits (the network must NOT end with Softmax).")
def _cross_entropy(label_smoothing: float, weight: torch.Tensor | None = None) -> nn.Module:
    # Targets may be class indices or per-class probabilities (MixUp/CutMix soft labels).
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=label_smoothing)


def build_optimizer(spec: Component, parameters: Iterable) -> torch.optim.Optimizer:
    """Build the optimizer ``spec`` names over ``parameters``.

    ``parameters`` may be tensors or parameter groups (see :func:`parameter_groups`); a
    group's own ``lr`` overrides the spec's.
    """
    entry = OPTIMIZERS.get(spec.type, "optimizer.type")
    return entry.builder(parameters, **entry.validate(spec.params, "optimizer.params"))


def optimizer_lr(spec: Component) -> float:
    """The learning rate ``spec`` sets (its declared default when unset)."""
    entry = OPTIMIZERS.get(spec.type, "optimizer.type")
    return float(entry.validate(spec.params, "optimizer.params")["lr"])


def parameter_groups(model: nn.Module, layers: Sequence[Component] | None,
                     base_lr: float) -> list[dict[str, Any]]:
    """The trainable parameters of ``model`` as optimizer parameter groups.

    Parameters
    ----------
    model
        The built ``nn.Sequential`` (any module works: it is then one layer).
    layers
        The layer Components the Sequential was built from, to name the groups
        (``"layer 1 (Backbone)"``); ``None`` names them by class.
    base_lr
        The optimizer's learning rate.

    Returns
    -------
    list[dict]
        ``{"params", "lr", "name"}`` dicts, the first holding every ordinary layer at
        ``base_lr``, then one per layer with an ``lr_scale`` other than 1 (a Backbone in
        fine_tune mode) at ``base_lr * lr_scale``. Frozen parameters (``requires_grad``
        off) are left out, and a parameter shared by two layers (a weight tie) is listed
        once, with the first layer that uses it. Pass the list to :func:`build_optimizer`.

    Raises
    ------
    WorkbenchError
        When nothing is left to train.
    """
    children = list(model.children()) if isinstance(model, nn.Sequential) else [model]
    seen: set[int] = set()

    def fresh(params: Iterable[nn.Parameter]) -> list[nn.Parameter]:
        out = []
        for p in params:
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                out.append(p)
        return out

    main: dict[str, Any] = {"params": [], "lr": base_lr, "name": "network"}
    groups = [main]
    for i, module in enumerate(children):
        scale = float(getattr(module, "lr_scale", 1.0))
        params = fresh(module.parameters())
        if scale == 1.0:
            main["params"] += params
            continue
        kind = layers[i].type if layers is not None and i < len(layers) else \
            type(module).__name__
        groups.append({"params": params, "lr": base_lr * scale,
                       "name": f"layer {i + 1} ({kind})"})
    main["params"] += fresh(model.parameters())  # any not inside a child (a lone module)
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise WorkbenchError("the network has nothing to train: every layer is frozen. Add a "
                             "layer with weights (such as Linear) after the Backbone, or set "
                             "its mode to fine_tune")
    return groups


def build_loss(spec: Component, class_weights: torch.Tensor | None = None) -> nn.Module:
    """Build the loss ``spec`` names.

    Parameters
    ----------
    spec
        The experiment's ``loss`` component.
    class_weights
        Per-class weights (``data.balance == "weighted_loss"``), passed to losses that
        take a ``weight``; None for an unweighted loss.
    """
    entry = LOSSES.get(spec.type, "loss.type")
    params = entry.validate(spec.params, "loss.params")
    if class_weights is not None and "weight" in inspect.signature(entry.builder).parameters:
        params["weight"] = class_weights
    return entry.builder(**params)
