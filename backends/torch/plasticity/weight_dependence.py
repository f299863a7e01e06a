"""STDP weight dependences, registered per (description type, arithmetic).

Rules whose timing factor enters only as ``scale · k`` also register their *scaled* form
(``SCALED``): ``potentiate(c, p, k)`` is ``potentiate(c, p, plus(c) · k)`` of the scaled form bit
for bit (the product is the first operation on k in both), so a caller holding k per neuron takes
the product there, before gathering one per synapse.

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


class ScaledRule(NamedTuple):
    plus: Callable         # c -> the Python float multiplying k in potentiate
    minus: Callable        # c -> the one in depress
    potentiate: Callable   # (c, p, plus·k)
    depress: Callable      # (c, p, minus·k)


SCALED: dict[tuple[type, str], ScaledRule] = {}


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
    if not c.mu:
        return _nest_add_potentiate(c, p, c.lam * 1.0 * k)
    x = p / c.w_max
    return torch.clamp(x + c.lam * torch.pow(1.0 - x, c.mu) * k, max=1.0) * c.w_max


def _nest_depress(c, p, k):
    # NEST: x −= alpha·lambda·x^mu·K; w = x > 0 ? x·Wmax : 0
    if not c.mu:
        return _nest_add_depress(c, p, c.alpha * c.lam * 1.0 * k)
    x = p / c.w_max
    return torch.clamp(x - c.alpha * c.lam * torch.pow(x, c.mu) * k, min=0.0) * c.w_max


def _nest_add_potentiate(c, p, s):
    """mu = 0 with s = lambda·1·K (the product NEST's facilitate_ takes)."""
    return torch.clamp(p / c.w_max + s, max=1.0) * c.w_max


def _nest_add_depress(c, p, s):
    """mu = 0 with s = alpha·lambda·1·K."""
    return torch.clamp(p / c.w_max - s, min=0.0) * c.w_max


register(AdditiveWeightDependence, "nest")((_nest_potentiate, _nest_depress))
register(MultiplicativeWeightDependence, "nest")((_nest_potentiate, _nest_depress))
SCALED[(AdditiveWeightDependence, "nest")] = ScaledRule(
    lambda c: c.lam * 1.0, lambda c: c.alpha * c.lam * 1.0, _nest_add_potentiate, _nest_add_depress)


# -- sPyNNaker in float ---------------------------------------------------------------------------
def _float_add_potentiate(c, p, s):
    return torch.clamp(p + s, max=c.w_max)      # s = A+·K


def _float_add_depress(c, p, s):
    return torch.clamp(p - s, min=c.w_min)      # s = A−·K


register(AdditiveWeightDependence, "float")((
    lambda c, p, k: _float_add_potentiate(c, p, c.A_plus * k),
    lambda c, p, k: _float_add_depress(c, p, c.A_minus * k)))
SCALED[(AdditiveWeightDependence, "float")] = ScaledRule(
    lambda c: c.A_plus, lambda c: c.A_minus, _float_add_potentiate, _float_add_depress)
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
