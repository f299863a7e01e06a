"""STDP event conventions, registered per (profile convention, weight storage).

Each is a small object of pure functions over integer step times (stamps) computing the timing
factors of the pair rules (docs/semantics.md "STDP"):

- ``post_trace(trace, last, u, nearest)``: the post trace after a post spike at stamp u, and the
  previous post time the nearest-pair window needs;
- ``k_plus(delta, pre_trace, nearest)``: potentiation factor for a post spike reaching the synapse
  ``delta`` steps after the last pre spike;
- ``k_minus(last, t_arrive, post_trace, nearest)``: depression factor against the latest post
  spike (stamp ``last``) for a pre spike arriving at the synapse at ``t_arrive`` (a tensor
  broadcasting against ``last``, or a Python int shared by all);
- ``pre_trace(trace, delta, nearest)``: the pre trace after a pre spike.

Fields: ``arithmetic`` (the weight-dependence registration to use), ``trace_dtype``, ``strict``
(NEST pairs depression strictly before t − d: look one step earlier), ``post_at_zero`` (a post
spike at stamp 0 reaches the synapses; sPyNNaker's window never holds one), ``placeholder_post``
(sPyNNaker's history starts with a post spike at 0 for the nearest-pair test).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from neuromorph.numerics import TICS_PER_MS

from .. import board

NONE = -(1 << 40)  # "no post spike yet" marker for times (steps)
#: the largest glibc-exp table NestConvention keeps (entries, float64): beyond it torch.exp
EXP_TABLE_MAX = 1 << 21


def _take(table: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """table[delta] for 0 <= delta < len, the last entry beyond (negative deltas read entry 0)."""
    return table.index_select(0, delta.clamp(0, table.numel() - 1).reshape(-1)).view(delta.shape)


def glibc_exp_table(args_of, device) -> torch.Tensor | None:
    """``exp(args_of(n))`` for n = 0, 1, … until it underflows to 0.0 (the table's last entry),
    each by Python's ``math.exp`` — the C library's exp, which NEST's ``std::exp`` is. ``args_of``
    maps an int64 numpy array to float64 arguments proportional to n (negative): exp is 0 below
    −745.2, so the length is known before any exp. None beyond EXP_TABLE_MAX entries."""
    step = float(args_of(np.ones(1, dtype=np.int64))[0])
    if not step < 0:
        return None
    n = int(math.ceil(-746.0 / step)) + 2
    if n > EXP_TABLE_MAX:
        return None
    values = list(map(math.exp, args_of(np.arange(n, dtype=np.int64)).tolist()))
    return torch.tensor(values[:values.index(0.0) + 1], dtype=torch.float64, device=device)


class _FloatPairRule:
    """Pair-rule factors from float64 exponentials of the time differences in ms."""

    trace_dtype = torch.float64

    def __init__(self, tau_plus, tau_minus, dt, device):
        self.tau_plus, self.tau_minus, self.dt = tau_plus, tau_minus, dt
        # dt and −dt as 0-dim float64 tensors: an int64 stamp tensor times one of them is the
        # float64 product of the converted stamps (what ``.to(float64) * dt`` computes) in one kernel,
        # and −(x·dt) = x·(−dt) exactly (IEEE products are sign-symmetric)
        self._dt = torch.tensor(dt, dtype=torch.float64)
        self._neg_dt = torch.tensor(-dt, dtype=torch.float64)

    def plus_decay(self, delta):
        """exp(−delta·dt/τ+): the factor both ``k_plus`` and ``pre_trace`` apply (so a caller
        that needs both for the same delta computes it once; ``decay=`` passes it in)."""
        return torch.exp(delta * self._neg_dt / self.tau_plus)

    def k_plus(self, delta, pre_trace, nearest, decay=None):
        k = self.plus_decay(delta) if decay is None else decay
        return k if nearest else pre_trace * k

    def pre_trace(self, trace, delta, nearest, decay=None):
        return trace * (self.plus_decay(delta) if decay is None else decay) + 1.0


class NestConvention(_FloatPairRule):
    """NEST stdp_synapse / stdp_nn_symm_synapse (simulators.md §5), float64 exponentials of ms.

    NEST's exponentials are the C library's ``exp``; torch's vectorised ``exp`` differs from it in
    the last bit for ~0.5 % of arguments, which moves plastic weights by an ulp or two. When dt is
    a whole number of ms, NEST's times (tics · 0.001) are whole numbers of ms, so every time
    difference it exponentiates is −n·dt for a whole number of steps n: then the factors come
    from tables by n made once with Python's ``math.exp`` (the C library's), with NEST's own
    argument forms — ``(−n·dt)/τ+`` (stdp_synapse divides) and ``(−n·dt)·(1/τ−)`` (the archiving
    node multiplies by its inverse) — and the weights are NEST's to the bit. Other dt: torch.exp
    of the stamp·dt differences (weights within ~1e-15 relative; docs/semantics.md)."""

    arithmetic = "nest"
    strict = True
    post_at_zero = True
    placeholder_post = False

    def __init__(self, tau_plus, tau_minus, dt, device):
        super().__init__(tau_plus, tau_minus, dt, device)
        self.exp_plus = self.exp_minus = None
        tics = round(dt * TICS_PER_MS)
        if float(dt).is_integer() and tics == dt * TICS_PER_MS:
            self.exp_plus = glibc_exp_table(lambda n: (n * -dt) / tau_plus, device)
            self.exp_minus = glibc_exp_table(lambda n: (n * -dt) * (1.0 / tau_minus), device)

    def plus_decay(self, delta):
        if self.exp_plus is None:
            return super().plus_decay(delta)
        return _take(self.exp_plus, delta)

    def post_trace(self, trace, last, u, nearest):
        # Kminus = Kminus·exp((t_last_post − t_post)/tau_minus) + 1, t_last_post from −1 ms. Before a
        # neuron's first spike its trace is 0 and the decay of its NONE stamp is a finite number
        # (0): the product is 0 either way, so NEST's −1 ms needs no select of its own
        if self.exp_minus is not None:
            return trace * _take(self.exp_minus, u - last) + 1.0, last
        return trace * torch.exp((last * self._dt - u * self.dt) * (1.0 / self.tau_minus)) + 1.0, last

    def k_minus(self, last, t_arrive, post_trace, nearest):
        # t_arrive: a tensor, or one Python int for all (int · float is the same double product)
        if self.exp_minus is not None:
            k = _take(self.exp_minus, t_arrive - last)
        else:
            t_ms = t_arrive * self.dt if isinstance(t_arrive, int) else t_arrive * self._dt
            k = torch.exp((last * self._dt - t_ms) * (1.0 / self.tau_minus))
        return k if nearest else post_trace * k


class SpinnakerFloatConvention(_FloatPairRule):
    """sPyNNaker's pair rules (design.md §3 item 6) with float64 exponentials."""

    arithmetic = "float"
    strict = False
    post_at_zero = False
    placeholder_post = True

    def post_trace(self, trace, last, u, nearest):
        had = last != NONE
        prev = torch.where(had, last, torch.zeros_like(last))
        if nearest:
            return torch.ones_like(trace), prev
        decay = torch.exp(-((u - last).to(torch.float64) * self.dt) / self.tau_minus)
        return torch.where(had, trace * decay, torch.zeros_like(trace)) + 1.0, prev

    def k_minus(self, last, t_arrive, post_trace, nearest):
        k = torch.exp(-((t_arrive - last).to(torch.float64) * self.dt) / self.tau_minus)
        return k if nearest else post_trace * k


class SpinnakerBoardConvention(SpinnakerFloatConvention):
    """sPyNNaker's pair rules with the board's LUT exponentials (floor(2048·e^(−k·dt/τ)), 0 past
    the table) and 11-bit fixed-point traces (simulators.md §9.3)."""

    arithmetic = "board"
    trace_dtype = torch.int64

    def __init__(self, tau_plus, tau_minus, dt, device):
        super().__init__(tau_plus, tau_minus, dt, device)
        # each table ends in one extra 0: the decay past the table, so a lookup is clamp + gather
        zero = torch.zeros(1, dtype=torch.int64, device=device)
        self.lut_plus = torch.cat([torch.as_tensor(board.exp_lut(tau_plus, dt), device=device), zero])
        self.lut_minus = torch.cat([torch.as_tensor(board.exp_lut(tau_minus, dt), device=device), zero])


    def post_trace(self, trace, last, u, nearest):
        had = last != NONE
        prev = torch.where(had, last, torch.zeros_like(last))
        if nearest:
            return torch.full_like(trace, board.STDP_ONE), prev
        dec = (trace * _take(self.lut_minus, u - last)) >> board.STDP_FIXED_POINT
        return torch.where(had, dec, torch.zeros_like(dec)) + board.STDP_ONE, prev

    def k_plus(self, delta, pre_trace, nearest):
        r = _take(self.lut_plus, delta)
        return r if nearest else (pre_trace * r) >> board.STDP_FIXED_POINT

    def k_minus(self, last, t_arrive, post_trace, nearest):
        o = _take(self.lut_minus, t_arrive - last)
        return o if nearest else (post_trace * o) >> board.STDP_FIXED_POINT

    def pre_trace(self, trace, delta, nearest):
        return ((trace * _take(self.lut_plus, delta)) >> board.STDP_FIXED_POINT) + board.STDP_ONE


#: (profile.stdp_convention, profile.board_weights) -> convention class
CONVENTIONS = {
    ("nest", False): NestConvention,
    ("spinnaker", False): SpinnakerFloatConvention,
    ("spinnaker", True): SpinnakerBoardConvention,
}
