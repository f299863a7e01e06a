"""Pieces shared by the cell lowerings: refractory counting, reset, NEST's expm1."""
from __future__ import annotations

import math

import torch


def nest_expm1(x: float) -> float:
    """NEST 3.10 wheel's ``numerics::expm1`` (Taylor fallback; simulators.md §0.2)."""
    if x == 0:
        return 0.0
    if abs(x) > math.log(2.0):
        return math.exp(x) - 1.0
    total, term, n = x, x * x / 2, 2
    while abs(term) > abs(total) * 2.220446049250313e-16:
        total += term
        n += 1
        term *= x / n
    return total


def nest_refractory_steps(tau_refrac: float, dt: float) -> int:
    """NEST: ``Time(ms(t_ref)).get_steps()`` on tics of 1 µs."""
    tics = int(tau_refrac * 1000 + 0.5)
    tics_per_step = int(round(dt * 1000))
    return -(-tics // tics_per_step)


def spinnaker_refractory_steps(tau_refrac: float, dt: float) -> int:
    """sPyNNaker: ``ceil(tau_refrac / dt)`` steps skipped after a spike."""
    return math.ceil(tau_refrac / dt - 1e-9)


def free_update(refrac: torch.Tensor, v_old: torch.Tensor, v_new: torch.Tensor):
    """Integrate where not refractory; count the refractory steps down elsewhere.
    Returns (v, refrac)."""
    busy = refrac > 0
    # refrac − busy counts the busy ones down (an integer add of the mask: one kernel, not two)
    return torch.where(busy, v_old, v_new), torch.add(refrac, busy, alpha=-1)


def reset(v: torch.Tensor, refrac: torch.Tensor, spk: torch.Tensor, v_reset: float, n_ref: int, fresh: bool = False):
    """Where ``spk`` fired: V = v_reset and ``n_ref`` refractory steps. Returns (v, refrac).
    ``fresh``: ``v`` and ``refrac`` are this step's own new tensors (free_update's), which nothing
    else holds: outside autograd they are filled in place (no allocation)."""
    fired = getattr(spk, "_fired", None)   # the bool mask the engine's fire made, if it did
    if fired is None:
        fired = spk.detach() > 0
    # on the CPU a step without spikes (most steps) skips the two fills; on CUDA asking would
    # synchronise with the host, so the fills always run there
    if fired.device.type == "cpu" and not v.requires_grad:
        # the mask and the answer ride on spk: the engine's event path reuses them (no kernel)
        spk._fired, spk._any = fired, bool(fired.any())
        if not spk._any:
            return v, refrac
    if fresh and not v.requires_grad:
        return v.masked_fill_(fired, v_reset), refrac.masked_fill_(fired, n_ref)
    return v.masked_fill(fired, v_reset), refrac.masked_fill(fired, n_ref)
