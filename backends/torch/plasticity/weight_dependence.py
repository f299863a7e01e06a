"""STDP weight dependences, registered per (description type, arithmetic).

Arithmetics: ``"nest"`` (NEST's stdp_synapse in units of w_max, simulators.md §5), ``"float"``
(sPyNNaker's rules in float), ``"board"`` (sPyNNaker's s16.15 accumulator with 2048-based LUT
factors, simulators.md §9.4). Each entry is a pair of pure functions
``potentiate(c, p, k)`` / ``depress(c, p, k)`` over the pending weight ``p`` and the timing factor
``k`` (float, or int LUT units for "board"), with constants ``c`` from ``constants(rule, wd)``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from neuromorph.plasticity import AdditiveWeightDependence, MultiplicativeWeightDependence

from .. import board


class WeightRule(NamedTuple):
    potentiate: Callable
    depress: Callable


WEIGHT_DEPENDENCES: dict[tuple[type, str], WeightRule] = {}


def register(wd_type, arithmetic):
    def wrap(pair):
        WEIGHT_DEPENDENCES[(wd_type, arithmetic)] = WeightRule(*pair)
        return pair
    return wrap


class Constants(NamedTuple):
    """Amplitudes and bounds in every form an arithmetic needs."""

    A_plus: float      # weight units (sPyNNaker's step)
    A_minus: float
    w_min: float
    w_max: float
    lam: float         # NEST: lambda (relative to w_max for additive)
    alpha: float       # NEST: alpha
    mu: float          # NEST: 0 additive, 1 multiplicative
    Aq_plus: int       # board: s16.15 amplitudes and bounds
    Aq_minus: int
    Wq_min: int
    Wq_max: int


def constants(timing, wd) -> Constants:
    scale = wd.scale()
    additive = isinstance(wd, AdditiveWeightDependence)
    A_plus, A_minus = timing.A_plus * scale, timing.A_minus * scale
    # PyNN's NEST mapping: lambda = A_plus, alpha = A_minus / A_plus, relative to w_max when additive
    a_plus = timing.A_plus * scale / wd.w_max if additive and wd.w_max else timing.A_plus
    a_minus = timing.A_minus * scale / wd.w_max if additive and wd.w_max else timing.A_minus
    return Constants(A_plus, A_minus, wd.w_min, wd.w_max, a_plus, a_minus / a_plus if a_plus != 0 else a_minus,
                     0.0 if additive else 1.0, board.s1615(A_plus), board.s1615(A_minus),
                     board.s1615(wd.w_min), board.s1615(wd.w_max))


# -- NEST (stdp_synapse facilitate/depress in units of w_max) -----------------------------------
def _nest_potentiate(c, p, k):
    # NEST: x = w/Wmax; x += lambda·(1−x)^mu·K; w = x < 1 ? x·Wmax : Wmax — min(x, 1)·Wmax is the
    # same number in both branches (1·Wmax = Wmax exactly), in two kernels instead of four
    x = p / c.w_max
    n = x + (c.lam * torch.pow(1.0 - x, c.mu) * k if c.mu else c.lam * 1.0 * k)
    return torch.clamp(n, max=1.0) * c.w_max


def _nest_depress(c, p, k):
    # NEST: x −= alpha·lambda·x^mu·K; w = x > 0 ? x·Wmax : 0
    x = p / c.w_max
    n = x - (c.alpha * c.lam * torch.pow(x, c.mu) * k if c.mu else c.alpha * c.lam * 1.0 * k)
    return torch.clamp(n, min=0.0) * c.w_max


register(AdditiveWeightDependence, "nest")((_nest_potentiate, _nest_depress))
register(MultiplicativeWeightDependence, "nest")((_nest_potentiate, _nest_depress))


# -- sPyNNaker in float ---------------------------------------------------------------------------
register(AdditiveWeightDependence, "float")((
    lambda c, p, k: torch.clamp(p + c.A_plus * k, max=c.w_max),
    lambda c, p, k: torch.clamp(p - c.A_minus * k, min=c.w_min)))
register(MultiplicativeWeightDependence, "float")((
    lambda c, p, k: p + c.A_plus * (c.w_max - p) * k,
    lambda c, p, k: p - c.A_minus * (p - c.w_min) * k))


# -- sPyNNaker's board storage (s16.15 accumulator, LUT factors with 1.0 = 2048) ------------------
register(AdditiveWeightDependence, "board")((
    lambda c, p, k: torch.clamp(p + ((c.Aq_plus * (k << 4)) >> 15), max=c.Wq_max),
    lambda c, p, k: torch.clamp(p - ((c.Aq_minus * (k << 4)) >> 15), min=c.Wq_min)))


def _board_mult_potentiate(c, p, k):
    w = p.to(torch.float64) / board.S1615_ONE
    w = w + c.A_plus * (c.w_max - w) * (k.to(torch.float64) / board.STDP_ONE)
    return torch.floor(w * board.S1615_ONE).to(torch.int64)


def _board_mult_depress(c, p, k):
    w = p.to(torch.float64) / board.S1615_ONE
    w = w - c.A_minus * (w - c.w_min) * (k.to(torch.float64) / board.STDP_ONE)
    return torch.floor(w * board.S1615_ONE).to(torch.int64)


register(MultiplicativeWeightDependence, "board")((_board_mult_potentiate, _board_mult_depress))
