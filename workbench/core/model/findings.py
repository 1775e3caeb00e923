"""What the model doctor's checks share: the :class:`Finding` and its :class:`Fix`, the
:class:`Context` a check reads, the fixes several checks offer, and the layer-type name sets.

The checks are in :mod:`.doctor_checks`; :func:`.doctor.diagnose` runs them. Layer types are
recognised through the name sets below, not by importing their classes, so a layer another
part of Workbench registers later only needs its name added to a set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal

from workbench.core.registry import Component

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.experiment import Experiment
    from workbench.core.model.builder import NetworkSummary

# -- what each layer type is, for the checks ----------------------------------------------
SOFTMAXES = frozenset({"Softmax", "LogSoftmax"})
#: Element-wise nonlinearities (Softmax and LogSoftmax are in SOFTMAXES).
ACTIVATIONS = frozenset({
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU",
    "Mish", "Sigmoid", "Tanh", "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus",
    "Softsign", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink"})
#: Activations whose output is bounded: on class scores they cap how sure the network can be.
BOUNDED_ACTIVATIONS = frozenset({"Sigmoid", "Tanh", "Hardtanh", "Hardsigmoid", "Softsign",
                                 "ReLU6"})
DROPOUTS = frozenset({"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                      "FeatureAlphaDropout"})
BATCHNORMS = frozenset({"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"})
NORMALISATION = BATCHNORMS | {"LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
                              "LocalResponseNorm"}
RESHAPES = frozenset({"Flatten", "Unflatten", "Identity"})
#: Pooling that averages: a linear map, so it does not separate two linear layers.
AVERAGE_POOLS = frozenset({"AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
                           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"})
MAX_POOLS = frozenset({"MaxPool1d", "MaxPool2d", "MaxPool3d", "AdaptiveMaxPool1d",
                       "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"})
#: Layers computing a learned weighted sum of their inputs (a linear map plus a bias).
WEIGHTED = frozenset({"Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
                      "ConvTranspose2d", "ConvTranspose3d"})
BACKBONES = frozenset({"Backbone"})
#: Backbone architectures that contain BatchNorm layers.
BATCHNORM_BACKBONES = frozenset({"resnet18", "resnet50", "mobilenet_v3_small",
                                 "efficientnet_b0"})
#: Losses that apply log-softmax to the network's outputs themselves.
CROSS_ENTROPY_LOSSES = frozenset({"CrossEntropy", "CrossEntropyLoss"})
#: Init schemes that give every weight the same value.
CONSTANT_INITS = frozenset({"zeros", "ones", "constant"})

# Between two weighted layers these keep the whole a linear (affine) map: BatchNorm is an
# affine rescale, dropout a random mask, Flatten a reshape, average pooling a weighted sum.
TRANSPARENT = DROPOUTS | NORMALISATION | RESHAPES | AVERAGE_POOLS
# After the output layer these only squash, drop, rescale or reshape the class scores.
_TAIL = ACTIVATIONS | SOFTMAXES | DROPOUTS | NORMALISATION | RESHAPES | AVERAGE_POOLS \
    | MAX_POOLS

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Fix:
    """A one-click repair of a :class:`Finding`.

    Attributes
    ----------
    label
        Button text, e.g. ``"Remove layer 10 (Softmax)"``.
    apply
        ``apply(experiment)`` edits the experiment in place (its layers, ``init`` or
        ``data.batch_size``). It relies on positions and types only, so it may be applied to
        a copy of the diagnosed experiment; on an experiment that no longer has the layer it
        concerns, it does nothing.
    """

    label: str
    apply: Callable[[Experiment], None]


@dataclass(frozen=True)
class Finding:
    """One thing the doctor noticed.

    Attributes
    ----------
    code
        Stable identifier, e.g. ``"softmax-before-cross-entropy"``.
    severity
        ``"warning"`` (training suffers) or ``"info"`` (worth knowing); ``"error"`` when
        training cannot start: :func:`~.doctor.misfit_finding` (the network cannot be
        built) and :func:`~.doctor_size.check_network_size` (it cannot fit in memory).
    layer
        0-based index of the layer concerned, or ``None`` for the network as a whole.
    title
        One line naming the layer as "layer N (Type)", N 1-based.
    explanation
        A few sentences: why it is a problem and what happens in training.
    fix
        The repair, or ``None`` when it is a judgement call.
    """

    code: str
    severity: Severity
    layer: int | None
    title: str
    explanation: str
    fix: Fix | None = None


@dataclass
class Context:
    """What every check reads: the experiment, its layers' type names and shapes."""

    experiment: Experiment
    layers: list[Component]
    types: list[str]
    num_classes: int
    summary: NetworkSummary | None

    def name(self, i: int) -> str:
        return f"layer {i + 1} ({self.types[i] or '?'})"

    @property
    def tail_start(self) -> int:
        """Index where the trailing run of layers that learn nothing begins."""
        i = len(self.types)
        while i > 0 and self.types[i - 1] in _TAIL:
            i -= 1
        return i

    @property
    def output_layer(self) -> int | None:
        """The weighted layer producing the class scores, or ``None`` when there is none."""
        i = self.tail_start - 1
        return i if i >= 0 and self.types[i] in WEIGHTED else None

    def params(self, i: int) -> dict[str, Any]:
        p = getattr(self.layers[i], "params", None)
        return p if isinstance(p, dict) else {}


Check = Callable[[Context], Iterable[Finding]]


# -- fixes the checks share ----------------------------------------------------------------
def layers_of(exp: Experiment) -> list[Component]:
    """The experiment's layer list (the list itself, for a fix to edit in place)."""
    return exp.model.layers


def remove_layer(i: int, kind: str) -> Fix:
    """Remove layer ``i``, provided it is still a ``kind`` layer."""

    def apply(exp: Experiment) -> None:
        layers = layers_of(exp)
        if i < len(layers) and layers[i].type == kind:
            del layers[i]

    return Fix(f"Remove layer {i + 1} ({kind})", apply)


def insert_layer(at: int, kind: str, label: str, expect: tuple[int, str]) -> Fix:
    """Insert a ``kind`` layer at ``at``, provided layer ``expect[0]`` is still ``expect[1]``."""

    def apply(exp: Experiment) -> None:
        layers = layers_of(exp)
        j, t = expect
        if j < len(layers) and layers[j].type == t:
            layers.insert(at, Component(kind, {}))

    return Fix(label, apply)
