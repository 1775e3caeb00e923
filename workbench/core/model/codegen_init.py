"""The initialisation of exported code: ``torch.nn.init`` calls in the order Workbench runs.

:func:`init_statements` plans, tensor by tensor, what
:func:`workbench.core.model.init.apply_init` does to a model (the experiment's scheme on
every convolution and linear layer's weight and a zeroed bias; a layer's own ``init`` for
its weight and/or bias; a tied tensor initialised once, by its first holder; nothing inside
a module marked ``workbench_keep_init``) and writes each step as a statement. Drawing the
same numbers in the same order matters: ``torch.manual_seed(s); build_model()`` then starts
from the very weights a Workbench run seeded with ``s`` starts from. The tests hold the two
to that, so a change to ``apply_init`` that is not mirrored here fails them.

An init scheme ``name`` is written ``nn.init.<name>_(tensor, **params)``; an entry whose
function is named otherwise declares ``meta["code"]``, ``code(tensor_text, params) -> str``.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from workbench.core.registry import Component
from workbench.core.model.codegen_source import literal
from workbench.core.model.init import INITS, validate_layer_init

# The modules apply_init gives the experiment's scheme (its _TARGETS).
_TARGETS = (nn.modules.conv._ConvNd, nn.Linear)
_ZEROS = Component("zeros")
# A layer with more initialised tensors than this is written as a loop when a loop says
# the same thing (a backbone trained from random weights has dozens).
_LOOP_OVER = 6


def init_call(scheme: Component, tensor: str) -> str | None:
    """``nn.init.kaiming_normal_(model[0].weight, a=0.0, ...)``; None for ``default``."""
    if scheme.type == "default":
        return None
    entry = INITS.get(scheme.type)
    params = entry.validate(scheme.params, "init.params")
    code = entry.meta.get("code")
    if code is not None:
        return code(tensor, params)
    args = "".join(f", {k}={literal(v)}" for k, v in params.items())
    return f"nn.init.{scheme.type}_({tensor}{args})"


def _attr_path(name: str) -> str:
    """``"3.net.layer1.0.conv1"`` -> ``"model[3].net.layer1[0].conv1"``."""
    return "model" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in name.split(".")
                             if p)


def _walk(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``model.named_modules()`` order, minus the insides of a module that keeps its
    weights (``workbench_keep_init``), as apply_init walks it."""
    out, stack, seen = [], [("", model)], set()
    while stack:
        name, module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        out.append((name, module))
        if not getattr(module, "workbench_keep_init", False):
            children = [(f"{name}.{n}" if name else n, m) for n, m in module.named_children()]
            stack.extend(reversed(children))
    return out


def _plan(model: nn.Sequential, layers: Sequence[Component],
          global_init: Component) -> list[tuple[int, str, torch.Tensor, Component, bool]]:
    """Every initialised tensor: (layer index, attribute path, tensor, scheme, nested)."""
    use_global = global_init.type != "default"
    own = {id(model[i]): i for i, c in enumerate(layers) if getattr(c, "init", None)}
    plan, seen = [], set()

    def add(i: int, path: str, module: nn.Module, name: str, scheme: Component | None,
            nested: bool) -> None:
        t = getattr(module, name, None)
        if not isinstance(t, torch.Tensor) or id(t) in seen:
            return
        seen.add(id(t))  # even under "default": this module owns the tensor
        if scheme is not None and scheme.type != "default":
            plan.append((i, f"{path}.{name}", t, scheme, nested))

    for name, module in _walk(model):
        if not name:
            continue
        i, path = int(name.split(".")[0]), _attr_path(name)
        if id(module) in own:
            spec = validate_layer_init(layers[i].init, f"model.layers[{i}].init")
            weight = Component(**spec["weight"]) if "weight" in spec else \
                (global_init if isinstance(module, _TARGETS) and use_global else None)
            weight_set = weight is not None and weight.type != "default"
            bias = Component(**spec["bias"]) if "bias" in spec else \
                (_ZEROS if weight_set else None)
            add(i, path, module, "weight", weight, False)
            add(i, path, module, "bias", bias, False)
        elif isinstance(module, _TARGETS) and use_global:
            add(i, path, module, "weight", global_init, "." in name)
            add(i, path, module, "bias", _ZEROS, "." in name)
    return plan


def _as_loop(i: int, layer: nn.Module, steps: list, global_init: Component) -> list[str] | None:
    """The layer's steps as one loop over its modules, when the loop does exactly them."""
    targets = [m for m in layer.modules() if isinstance(m, _TARGETS)]
    expected = []
    for m in targets:
        expected.append((id(m.weight), global_init))
        if m.bias is not None:
            expected.append((id(m.bias), _ZEROS))
    if [(id(t), s) for _, _, t, s, _ in steps] != expected:
        return None
    kinds = ", ".join(sorted({f"nn.{type(m).__name__}" for m in targets}))
    lines = [f"for m in model[{i}].modules():  # its {len(targets)} convolution and linear "
             f"layers", f"    if isinstance(m, ({kinds},)):",
             f"        {init_call(global_init, 'm.weight')}"]
    if any(m.bias is not None for m in targets):
        lines += ["        if m.bias is not None:", f"            {init_call(_ZEROS, 'm.bias')}"]
    return lines


def init_statements(model: nn.Sequential, layers: Sequence[Component],
                    global_init: Component) -> list[str]:
    """Statements over ``model`` that initialise it as Workbench does.

    Parameters
    ----------
    model
        The network (any device, the meta device included), ties already applied.
    layers
        Its layer Components (``model[i]`` is layer ``i``), for their own ``init``.
    global_init
        The experiment's ``init``.

    Returns
    -------
    list of str
        Statements to run under ``torch.no_grad()``; empty when nothing is initialised
        (PyTorch's defaults throughout).
    """
    global_init = Component(global_init.type, INITS.get(global_init.type, "init.type")
                            .validate(global_init.params, "init.params"))
    plan = _plan(model, layers, global_init)
    lines: list[str] = []
    for i in dict.fromkeys(step[0] for step in plan):
        steps = [s for s in plan if s[0] == i]
        loop = None
        if len(steps) > _LOOP_OVER and all(s[4] for s in steps):
            loop = _as_loop(i, model[i], steps, global_init)
        if loop is not None:
            lines += loop
        else:
            lines += [init_call(scheme, path) for _, path, _, scheme, _ in steps]
    return [line for line in lines if line]


__all__ = ["init_statements", "init_call"]
