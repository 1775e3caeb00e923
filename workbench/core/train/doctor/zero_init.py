"""What a weight initialisation of zeros does to a run, in the words of the cause the
training doctor names (:func:`~workbench.core.train.doctor.causes.model_causes`), by the
layers it starts: a constant-init finding of the model doctor names them
(:func:`~workbench.core.model.doctor_checks.check_constant_init`).

The experiment's own zeros start every layer from zeros: each layer's gradient passes back
through the weights of the layer after it, all zero, so the layers before the last get no
gradient at all. A layer of its own zeros (the Initialisation dialog of the Model tab)
passes on the same output whatever the image, its bias (zeros too, unless it has its own):
the layers after it see nothing of the image, the layers before it get no gradient, and
with a ReLU after it, which never fires on zeros, neither does it. The later layers still
get gradients (their biases, and weights fed by those), as the gradient plot shows.
"""

from __future__ import annotations

from typing import Any


def zero_effect(experiment: Any, finding: Any) -> str:
    """What zeros do to the layers ``finding`` (a ``constant-init`` finding whose constant is
    0) names, after "so the units of a layer learn as one": ``", and from zeros …"``."""
    from workbench.core.model.findings import WEIGHTED

    if finding.layer is None:  # the experiment's init: every layer from zeros
        return ", and from zeros the layers before the last get no gradient at all"
    names = str(finding.title).split(" start", 1)[0]  # "layer 1 (Conv2d)", "layers 1 (…), …"
    one = not names.startswith("layers ")
    it, they = ("it", "it") if one else ("them", "they")
    layers = list(experiment.model.layers)
    first = finding.layer  # the first of them
    own = getattr(layers[first], "init", None)
    zeros = one and not (isinstance(own, dict) and own.get("bias"))  # the bias follows
    after = str(layers[first + 1].type) if first + 1 < len(layers) else ""
    text = (f", and from zeros {names} output{'s' * one} "
            f"{'only zeros' if zeros else 'the same values'} whatever the image")
    if zeros and after == "ReLU":
        text += f", so the ReLU after it never fires and {they} get{'s' * one} no gradient at all"
    text += f": the layers after {it} see nothing of the image"
    if any(str(layer.type) in WEIGHTED for layer in layers[:first]):
        text += f" and the layers before {it} get no gradient"
    return text
