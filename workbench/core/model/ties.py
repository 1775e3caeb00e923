"""Weight sharing ("ties"): a layer that uses an earlier layer's weight and bias.

A layer's :attr:`~workbench.core.registry.Component.share` is the 0-based index of an
earlier layer of the same type. The tied layer holds no parameters of its own: after
:func:`apply_ties`, ``model[j].weight is model[i].weight`` (one ``nn.Parameter``), so the
optimizer sees it once (``model.parameters()`` removes duplicates), a gradient step moves
both layers, and the parameter count counts it once.

A tie shares every parameter of the layer (weight and bias for Conv2d and Linear; all the
weights of a recurrent layer), never buffers such as BatchNorm's running statistics. The
two layers must be of the same type and their parameters of the same shapes:
:func:`check_ties` says which tie does not fit and what to change.

The state_dict keeps both names (``"2.weight"`` and ``"5.weight"``, equal values), as plain
PyTorch does for tied modules; a bundle loads through :func:`build_network
<workbench.core.model.builder.build_network>`, which ties the layers again before
``load_state_dict``, so the tie survives a save and load.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import nn

from workbench.core.errors import ShapeError
from workbench.core.registry import Component

# What to change so that two layers' weights have the same shape, by layer type.
_FIX = {"Linear": "make their in/out features equal",
        "Conv2d": "give them the same in/out channels and kernel size"}


def _what(layers: Sequence[Component], i: int) -> str:
    return f"layer {i + 1} ({layers[i].type})"


def share_problem(layers: Sequence[Component], j: int,
                  infos: Sequence[Any] | None = None) -> str | None:
    """What is wrong with layer ``j``'s ``share`` index alone (no shapes), or ``None``.

    Checks that it names an earlier layer of the same type, in the terms of the file's
    ``share`` field, naming the layers it could share with (:func:`_partners`; ``infos``:
    as for :func:`tie_problem`, or ``None``). Used by
    :func:`workbench.core.catalog.validate`; :func:`check_ties` adds the shape checks.
    """
    i = layers[j].share
    if i is None:
        return None
    what = _what(layers, j)
    if isinstance(i, bool) or not isinstance(i, int):
        return f"{what} shares weights with {i!r}: give the 0-based index of an earlier layer"
    if not 0 <= i < j:
        # The cards number layers from 1, share counts from 0: say both.
        got = f"share {i} names layer {i + 1}" if i >= 0 else f"share {i} names no layer"
        if j == 0:
            return (f"{what} can share weights only with an earlier layer: {got} (share "
                    f"counts from 0) and it is the first layer: no layer comes before it; "
                    f"remove the tie")
        return (f"{what} can share weights only with an earlier layer: {got} (share counts "
                f"from 0) and {_instead(layers, j, infos)}")
    if layers[i].type != layers[j].type:
        return (f"{what} cannot share weights with {_what(layers, i)}: a tie needs two layers "
                f"of the same type; {_instead(layers, j, infos)}")
    return None


def _partners(layers: Sequence[Component], j: int, infos: Sequence[Any] | None) -> list[int]:
    """The earlier layers layer ``j`` could share with: of its type, with weights of the
    same shapes where both are known (``infos``' resolved params, else the file's own)."""
    def shapes(k: int) -> dict[str, tuple[int, ...]] | None:
        params = infos[k].params if infos is not None and k < len(infos) else layers[k].params
        return _param_shapes(layers[k].type, params or {})

    mine = shapes(j)
    found = []
    for k in range(j):
        if layers[k].type != layers[j].type:
            continue
        theirs = shapes(k)
        if mine is None or theirs is None or (theirs and theirs == mine):
            found.append(k)
    return found


def _instead(layers: Sequence[Component], j: int, infos: Sequence[Any] | None) -> str:
    """What layer ``j`` could share with instead, in ``share`` terms: "it can share with
    layers 2 and 4, i.e. share 1 or 3; pick one of them or remove the tie", or that none can."""
    found = _partners(layers, j, infos)
    if not found:
        return f"no earlier {layers[j].type} has weights of the same shape: remove the tie"
    numbers = _words([str(k + 1) for k in found], "and")
    shares = _words([str(k) for k in found], "or")
    return (f"it can share with layer{'s' if len(found) > 1 else ''} {numbers}, i.e. share "
            f"{shares}; pick {'one of them' if len(found) > 1 else 'it'} or remove the tie")


def _words(items: list[str], last: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _param_shapes(comp_type: str, params: dict[str, Any]) -> dict[str, tuple[int, ...]] | None:
    """Parameter name -> shape of one layer, built on the meta device (no memory)."""
    from workbench.core.model.layers import LAYERS

    try:
        with torch.device("meta"):
            module = LAYERS.get(comp_type).builder(**params)
    except Exception:  # noqa: BLE001 - the layer's own error is reported elsewhere
        return None
    return {name: tuple(p.shape) for name, p in module.named_parameters()}


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)


def tie_problem(layers: Sequence[Component], infos: Sequence[Any], j: int) -> str | None:
    """What does not fit in layer ``j``'s tie, given the resolved params in ``infos``.

    ``infos`` are :class:`~workbench.core.model.builder.LayerInfo` rows (at least up to
    ``j``) whose ``params`` have their autos filled. Returns ``None`` when the tie fits or
    cannot be judged yet (a layer with unknown shapes).
    """
    i = layers[j].share
    if isinstance(i, int) and not isinstance(i, bool) and j < i < len(layers):
        # After a reorder in the app: said by layer numbers and the card's menu.
        found = [k + 1 for k in _partners(layers, j, infos)]
        other = f", tie it to layer {_words([str(k) for k in found], 'or')} instead," \
            if found else ""
        return (f"{_what(layers, j)} uses layer {i + 1}'s weights, which now comes after it: "
                f"move it below layer {i + 1}{other} or remove the tie (⋯ menu)")
    problem = share_problem(layers, j, infos)
    if problem or i is None:
        return problem
    mine = _param_shapes(layers[j].type, infos[j].params)
    theirs = _param_shapes(layers[i].type, infos[i].params)
    if mine is None or theirs is None:
        return None
    what, other = _what(layers, j), f"layer {i + 1}"
    if not theirs:
        return f"{what} has no weights to share: remove the tie"
    if ("bias" in mine) != ("bias" in theirs):
        has, lacks = (what, other) if "bias" in mine else (other, what)
        return (f"{what} shares {other}'s weight and bias but {has} has a bias and {lacks} "
                f"has none: set bias the same on both or remove the tie")
    if set(mine) != set(theirs):
        return (f"{what} cannot share {other}'s weights: their parameters differ "
                f"({', '.join(sorted(set(mine) ^ set(theirs)))}): give them the same "
                f"parameters or remove the tie")
    for name in theirs:
        if mine[name] != theirs[name]:
            fix = _FIX.get(layers[j].type, "give them the same parameters")
            return (f"{what} shares {other}'s {name} but its {name} is {_dims(mine[name])} "
                    f"where {other}'s is {_dims(theirs[name])}: {fix} or remove the tie")
    return None


def check_ties(layers: Sequence[Component], summary: Any) -> list[str]:
    """Every tie that does not fit, as messages naming the layers and what to change.

    Parameters
    ----------
    layers
        The layer Components.
    summary
        Their :class:`~workbench.core.model.builder.NetworkSummary` (for resolved params);
        a layer after a misfit (unknown shapes) gets only the index and type checks.
    """
    infos = summary.layers
    problems = []
    for j, comp in enumerate(layers):
        if comp.share is None:
            continue
        if j < len(infos) and infos[j].input_shape is not None:
            problem = tie_problem(layers, infos, j)
        else:
            problem = share_problem(layers, j)
        if problem:
            problems.append(problem)
    return problems


def apply_ties(model: nn.Sequential, layers: Sequence[Component]) -> nn.Sequential:
    """Make each tied layer use its source layer's parameters (the same ``nn.Parameter``).

    ``model[i]`` is layer ``i``. Ties are applied in order, so a chain (3 shares 2, which
    shares 1) ends on one parameter. Returns ``model``.

    Raises
    ------
    ShapeError
        When a tie does not fit (run :func:`check_ties` first to get every message).
    """
    for j, comp in enumerate(layers):
        i = comp.share
        if i is None:
            continue
        problem = share_problem(layers, j)
        source = dict(model[i].named_parameters()) if problem is None else {}
        target = dict(model[j].named_parameters())
        if problem is None and (set(source) != set(target) or not source or any(
                source[n].shape != target[n].shape for n in source)):
            problem = (f"{_what(layers, j)} cannot share layer {i + 1}'s weights: their "
                       f"shapes differ")
        if problem:
            raise ShapeError(problem, j, comp.type)
        for name, param in source.items():
            owner_path, _, leaf = name.rpartition(".")
            owner = model[j].get_submodule(owner_path) if owner_path else model[j]
            # Module.__setattr__ re-registers the Parameter (and nn.RNN's own __setattr__
            # refreshes its flat weight list), so forward passes use the shared tensor.
            setattr(owner, leaf, param)
    return model


def remap_shares(layers: Sequence[Component], moved: Mapping[int, int | None]) -> list[int]:
    """Keep ties pointing at the same layers after the list was edited; for the GUI.

    Parameters
    ----------
    layers
        The edited list (Components changed in place).
    moved
        Old index -> new index of every layer that was kept; a deleted layer maps to
        ``None`` or is left out.

    Returns
    -------
    list of int
        New indices of the layers whose tie was dropped (their source was deleted, or now
        comes after them or is of another type).
    """
    dropped = []
    for j, comp in enumerate(layers):
        if comp.share is None:
            continue
        comp.share = moved.get(comp.share)
        if comp.share is None or share_problem(layers, j):
            comp.share = None
            dropped.append(j)
    return dropped


__all__ = ["share_problem", "tie_problem", "check_ties", "apply_ties", "remap_shares"]
