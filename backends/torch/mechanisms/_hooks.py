"""Helpers that write a mechanism's contribution into the simulation's hook tensors.

The simulation holds ``extra_current[label]``, ``threshold_shift[label]`` (``None`` or a tensor
``[batch, n]``) and ``weight_gain[proj]`` (``None`` or a gain per post neuron ``[batch, 1, n_post]``). Several mechanisms may act on one target, so each one replaces only its own
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


def plastic_state(sim, label: str) -> list[torch.Tensor]:
    """The tensors that hold a plastic projection's weight state ``[batch, nsyn]`` (committed and
    pending): both must be restored to undo a step's change."""
    return sim.plastic[label].state_tensors()
