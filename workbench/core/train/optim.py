"""Optimizer and loss registries, and the parameter groups an optimizer is built over.

Each entry declares the hyperparameters a user may set; ``lr`` is on every optimizer so the
CLI's ``--lr`` and the Train panel can set it without knowing which optimizer is chosen.
:func:`parameter_groups` leaves frozen parameters out and gives a layer that declares an
``lr_scale`` (a fine-tuned pretrained backbone) its own, scaled learning rate.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable, Sequence

import torch
from torch import nn

from workbench.core.errors import SpecError, WorkbenchError
from workbench.core.registry import Component
from workbench.core.registry import Param, Registry

OPTIMIZERS = Registry("optimizer")
LOSSES = Registry("loss")


def _lr(default: float) -> Param:
    return Param("lr", float, default, min=0.0, max=10.0, log=True,
                 help="Learning rate: step size of each update. Too high diverges, too low "
                      "crawls; try 1e-3 for Adam-like optimizers, 0.01-0.1 for SGD.")


def _wd(default: float = 0.0, decoupled: bool = False) -> Param:
    if decoupled:
        text = ("Decoupled weight decay: shrinks every weight a little each step, apart from "
                "the gradient; 0.01-0.05 is typical, 0 turns it off.")
    else:
        text = "L2 penalty on the weights; 1e-4 to 5e-4 is typical, 0 turns it off."
    return Param("weight_decay", float, default, min=0.0, max=1.0, log=True, help=text)


_WD = _wd()


def _eps(default: float) -> Param:
    return Param("eps", float, default, min=0.0, max=1.0, log=True,
                 help="Small number added to the denominator so a step never divides by zero; "
                      f"leave it at {default:g} unless training is unstable.")


_BETAS = Param("betas", list, [0.9, 0.999], min=0.0, max=0.99999, item_type=float, length=(2,),
               help="Decay rates of the running averages of the gradient and of its square; "
                    "[0.9, 0.999] suits nearly everything, [0.9, 0.98] for transformers.")
_AMSGRAD = Param("amsgrad", bool, False,
                 help="AMSGrad variant: never lets the per-weight step grow again; sometimes "
                      "steadier, usually no better. Off is the usual choice.")
_MOMENTUM = Param("momentum", float, 0.0, min=0.0, max=0.999,
                  help="Fraction of the previous update carried over; 0 turns it off, 0.9 is "
                       "typical when on.")


@OPTIMIZERS.register("SGD", params=[
    _lr(0.01),
    Param("momentum", float, 0.9, min=0.0, max=0.999,
          help="Fraction of the previous update carried over; 0.9 is the usual choice, 0 "
               "gives plain SGD."),
    Param("dampening", float, 0.0, min=0.0, max=1.0,
          help="Shrinks the new gradient's share of the momentum; 0 (the usual) keeps all "
               "of it. Must be 0 with Nesterov momentum."),
    Param("nesterov", bool, False,
          help="Nesterov momentum: looks one step ahead; often a little faster than plain "
               "momentum. Needs momentum > 0 and dampening 0."),
    _WD,
], help="Stochastic gradient descent with optional (Nesterov) momentum; lr 0.01-0.1 with "
        "momentum 0.9 is the classic recipe for CNNs.")
def _sgd(parameters: Iterable, lr: float, momentum: float, dampening: float, nesterov: bool,
         weight_decay: float) -> torch.optim.Optimizer:
    # Nesterov without momentum is an error in PyTorch; treat it as plain momentum-free SGD
    # rather than refusing the run for a combination the form allows.
    nesterov = nesterov and momentum > 0
    if nesterov and dampening != 0:
        raise SpecError("optimizer.params.dampening", f"Nesterov momentum needs dampening 0, "
                                                      f"got {dampening!r}: set dampening to 0 "
                                                      f"or turn nesterov off")
    return torch.optim.SGD(parameters, lr=lr, momentum=momentum, dampening=dampening,
                           nesterov=nesterov, weight_decay=weight_decay)


@OPTIMIZERS.register("Adam", params=[_lr(1e-3), _BETAS, _eps(1e-8), _AMSGRAD, _WD],
                     help="Adaptive moments; a robust default at lr 1e-3.")
def _adam(parameters: Iterable, lr: float, betas: list[float], eps: float, amsgrad: bool,
          weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(parameters, lr=lr, betas=tuple(betas), eps=eps, amsgrad=amsgrad,
                            weight_decay=weight_decay)


@OPTIMIZERS.register("AdamW", params=[_lr(1e-3), _BETAS, _eps(1e-8), _AMSGRAD,
                                      _wd(0.01, decoupled=True)],
                     help="Adam with decoupled weight decay; the usual choice for fine-tuning "
                          "pretrained networks (lr 1e-4 to 1e-3).")
def _adamw(parameters: Iterable, lr: float, betas: list[float], eps: float, amsgrad: bool,
           weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(parameters, lr=lr, betas=tuple(betas), eps=eps, amsgrad=amsgrad,
                             weight_decay=weight_decay)


def _adam_variant(cls: type) -> Callable[..., torch.optim.Optimizer]:
    """The builder of an Adam variant whose settings are lr, betas, eps and weight decay."""
    def build(parameters: Iterable, lr: float, betas: list[float], eps: float,
              weight_decay: float) -> torch.optim.Optimizer:
        return cls(parameters, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
    return build


for _name, _cls, _default_lr, _help in (
        ("NAdam", torch.optim.NAdam, 2e-3, "Adam with Nesterov momentum; often converges a "
                                           "little faster than Adam at lr 1e-3 to 2e-3."),
        ("RAdam", torch.optim.RAdam, 1e-3, "Rectified Adam: damps Adam's erratic first "
                                           "steps, so it needs less learning-rate warm-up; "
                                           "lr 1e-3."),
        ("Adamax", torch.optim.Adamax, 2e-3, "Adam variant scaled by the largest past "
                                             "gradient instead of the average square; lr "
                                             "2e-3.")):
    OPTIMIZERS.register(_name, params=[_lr(_default_lr), _BETAS, _eps(1e-8), _WD],
                        help=_help)(_adam_variant(_cls))


@OPTIMIZERS.register("RMSprop", params=[
    _lr(1e-3),
    Param("alpha", float, 0.99, min=0.0, max=0.9999,
          help="Smoothing of the running average of the squared gradient; 0.99 is typical, "
               "0.9 reacts faster."),
    _eps(1e-8),
    _MOMENTUM,
    Param("centered", bool, False,
          help="Divide by the gradient's variance rather than its raw square; can steady "
               "training at some extra cost. Off is the usual choice."),
    _WD,
], help="Divides each step by a running RMS of the gradient; lr 1e-3 (1e-4 for fine-tuning).")
def _rmsprop(parameters: Iterable, lr: float, alpha: float, eps: float, momentum: float,
             centered: bool, weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(parameters, lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                               centered=centered, weight_decay=weight_decay)


@OPTIMIZERS.register("Adagrad", params=[
    _lr(0.01),
    Param("lr_decay", float, 0.0, min=0.0, max=1.0, log=True,
          help="Shrinks the learning rate as lr / (1 + steps * lr_decay); 0 (the usual) "
               "turns it off."),
    _eps(1e-10),
    _WD,
], help="Per-parameter learning rates that shrink with accumulated gradients; good for sparse "
        "features, lr 0.01.")
def _adagrad(parameters: Iterable, lr: float, lr_decay: float, eps: float,
             weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(parameters, lr=lr, lr_decay=lr_decay, eps=eps,
                               weight_decay=weight_decay)


@OPTIMIZERS.register("Adadelta", params=[
    _lr(1.0),
    Param("rho", float, 0.9, min=0.0, max=0.9999,
          help="Smoothing of the running averages of squared gradients and updates; 0.9 is "
               "typical."),
    _eps(1e-6),
    _WD,
], help="Adapts its step from past updates, so lr 1.0 (a multiplier) usually just works.")
def _adadelta(parameters: Iterable, lr: float, rho: float, eps: float,
              weight_decay: float) -> torch.optim.Optimizer:
    return torch.optim.Adadelta(parameters, lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)


@LOSSES.register("CrossEntropy", params=[
    Param("label_smoothing", float, 0.0, min=0.0, max=0.99,
          help="Spreads this much of the target over all classes; 0.1 often helps a little."),
    Param("class_weights", list, [], item_type=float, min=0.0, max=1e6,
          help="One weight per class, in the order of the class list (rare classes higher); "
               "empty: every class 1, or computed from the class sizes when data.balance is "
               "weighted_loss."),
], help="Cross-entropy on raw logits (the network must NOT end with Softmax). After a "
        "LogSoftmax layer, NLLLoss is used instead, with the same result.")
def _cross_entropy(label_smoothing: float, class_weights: list[float],
                   weight: torch.Tensor | None = None) -> nn.Module:
    # Targets may be class indices or per-class probabilities (MixUp/CutMix soft labels).
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=label_smoothing)


class _SoftNLLLoss(nn.NLLLoss):
    """NLLLoss that also takes per-class probability targets (MixUp/CutMix), as
    CrossEntropyLoss does: ``-(target * log_probs).sum(1)``, class-weighted, averaged."""

    def forward(self, log_probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if target.ndim == log_probs.ndim and target.is_floating_point():
            w = self.weight if self.weight is not None else 1.0
            return -(target * w * log_probs).sum(1).mean()
        return super().forward(log_probs, target)


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
                     base_lr: float, trains: Sequence[tuple[bool, float] | None] = ()
                     ) -> list[dict[str, Any]]:
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
    trains
        Per layer, ``(trained, lr_scale)`` to group it by instead of its parameters'
        ``requires_grad`` and its ``lr_scale`` (None, or past the list's end: as it is):
        the groups of a Backbone in another mode, as a checkpoint's optimizer was built
        (:mod:`.regroup`).

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

    def fresh(params: Iterable[nn.Parameter], trained: bool | None = None
              ) -> list[nn.Parameter]:
        out = []
        for p in params:
            if id(p) in seen or (trained is None and not p.requires_grad):
                continue
            seen.add(id(p))  # told untrained: kept out of the sweep below too
            if trained is not False:
                out.append(p)
        return out

    main: dict[str, Any] = {"params": [], "lr": base_lr, "name": "network"}
    groups = [main]
    for i, module in enumerate(children):
        told = trains[i] if i < len(trains) else None
        scale = float(told[1] if told is not None else getattr(module, "lr_scale", 1.0))
        params = fresh(module.parameters(), None if told is None else bool(told[0]))
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


def build_loss(spec: Component, class_weights: torch.Tensor | None = None,
               num_classes: int | None = None, log_probs: bool = False) -> nn.Module:
    """Build the loss ``spec`` names.

    Parameters
    ----------
    spec
        The experiment's ``loss`` component.
    class_weights
        Per-class weights (``data.balance == "weighted_loss"``), passed to losses that
        take a ``weight``; None for an unweighted loss. The loss's own ``class_weights``
        parameter, when given, wins.
    num_classes
        The dataset's class count, to check the loss's own ``class_weights`` against.
    log_probs
        The network ends with LogSoftmax: a CrossEntropy loss without label smoothing
        becomes NLLLoss (see :func:`loss_note`).

    Raises
    ------
    SpecError
        When ``class_weights`` does not give one weight per class, or all are zero.
    """
    entry = LOSSES.get(spec.type, "loss.type")
    params = entry.validate(spec.params, "loss.params")
    own = params.get("class_weights") or []
    if own:
        if num_classes is not None and len(own) != num_classes:
            raise SpecError("loss.params.class_weights",
                            f"gives {len(own)} weights but the dataset has {num_classes} "
                            f"classes: give one weight per class, in the class list's order, "
                            f"or none")
        if not any(w > 0 for w in own):
            raise SpecError("loss.params.class_weights", "every weight is 0, so nothing would "
                                                         "be learnt: give positive weights")
        class_weights = torch.tensor(own, dtype=torch.float32)
    if log_probs and spec.type == "CrossEntropy" and not params.get("label_smoothing"):
        return _SoftNLLLoss(weight=class_weights)
    if class_weights is not None and "weight" in inspect.signature(entry.builder).parameters:
        params["weight"] = class_weights
    return entry.builder(**params)


def loss_note(spec: Component, log_probs: bool) -> str:
    """What the learner should know about the loss the run uses ("" when nothing)."""
    if not log_probs or spec.type != "CrossEntropy":
        return ""
    if spec.params.get("label_smoothing"):
        return ("the network ends with LogSoftmax; CrossEntropy is kept because label "
                "smoothing is on (log-softmax applied twice gives the same values)")
    return ("the network ends with LogSoftmax, so the loss is NLLLoss (CrossEntropy would "
            "apply log-softmax a second time); the results are the same")
