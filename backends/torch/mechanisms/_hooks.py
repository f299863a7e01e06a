"""Helpers that write a mechanism's contribution into the simulation's hook tensors.

The simulation holds ``extra_current[label]``, ``threshold_shift[label]`` (``None`` or a tensor
``[batch, n]``) and ``weight_gain[proj]`` (``None`` or a tensor broadcastable to ``[batch, n_pre,
n_post]``). Several mechanisms may act on one target, so each one replaces only its own
contribution: additive hooks by adding ``new − old``, the gain by multiplying by ``new/old``.
"""
from __future__ import annotations

import torch


def replace_additive(table: dict, key: str, new: torch.Tensor, old: torch.Tensor | None) -> None:
    cur = table.get(key)
    if cur is None:
        table[key] = new.clone()
    else:
        table[key] = cur + (new if old is None else new - old)


def replace_gain(table: dict, key: str, new: torch.Tensor, old: torch.Tensor | None) -> None:
    cur = table.get(key)
    if cur is None:
        table[key] = new.clone()
    else:
        table[key] = cur * (new if old is None else new / old)


def live_weight(sim, label: str) -> torch.Tensor:
    """The live weight tensor ``[batch, n_pre, n_post]`` of a projection that a mechanism may
    change in place: ``sim.plastic_weight`` for plastic projections; for static ones the stored
    tensor, expanded to one copy per trial the first time."""
    plastic = getattr(sim, "plastic", {})
    if label in plastic:
        return sim.plastic_weight(label)
    sp = sim.static[label]
    W = sp.W
    if W.shape[0] != sim.batch or isinstance(W, torch.nn.Parameter) and W.shape[0] != sim.batch:
        sp.W = W.detach().expand(sim.batch, *W.shape[1:]).clone()
    return sp.W


def plastic_state(sim, label: str) -> list[torch.Tensor]:
    """The tensors that hold a plastic projection's weight state ``[batch, n_pre, n_post]``: the
    committed weights and, where the STDP implementation keeps one, its running accumulator (both
    must be restored to undo a step's change)."""
    pp = getattr(sim, "plastic", {}).get(label)
    if pp is not None and hasattr(pp, "W") and hasattr(pp, "p"):
        return [pp.W, pp.p]
    return [sim.plastic_weight(label)]
