"""The SpiNNaker core's s16.15 arithmetic on int64 tensors (simulators.md §9.1, §9.6).

Every quantity is held as its integer bits: s16.15 ``accum`` (1.0 = 2^15) for voltages, currents,
resistances and the membrane decay; u0.32 ``unsigned long fract`` (1.0 = 2^32) for the synaptic
decay and input scaling. The rules, as the ARM code does them (GCC's inline ``mulsa3``, no
rounding):

- ``accum * accum``: the 64-bit product shifted right by 15 — a floor toward −∞ — then cut to 32
  bits (overflow wraps, nothing saturates);
- ``decay_s1615(x, d)``: ``floor(x·d / 2^32)``;
- adds and subtracts of accums wrap at 32 bits;
- host parameters: round-half-even of value·2^15 (board.s1615).

Exponentials: the board computes ``expk``/``expulr`` with spinn_common's ``__expi64`` (table of
e^n, 16-entry table of 1−e^(−k/16), a quadratic for the rest; absolute error ≤ ~1.2e-6). That
routine is not reproduced here: :func:`expk` and :func:`expulr` use libm's exp, floored to the
format. For s16.15 (``expk``) the two agree except when exp(x)·2^15 lies within ~0.04 LSB above an
integer — they agree on every case documented in simulators.md §9.6 (τm = 20 and 10 ms at
dt = 1 ms); for the u0.32 synaptic decay (``expulr``) they differ by up to ~5,000 of 2^32 (τs = 5
ms, dt = 1: libm 3516486196, the board 3516490311), so IF_curr_exp's decaying currents may differ
from the board's in their last bits (docs/semantics.md, "Fixed point").
"""
from __future__ import annotations

import math

import torch

from . import board

ONE = 1 << 15          # s16.15 1.0
ULR_ONE = 1 << 32      # u0.32 1.0 (exclusive)
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
WORD_MAX = 0xFFFF      # a ring-buffer slot and a synaptic word are uint16


def wrap32(x: torch.Tensor) -> torch.Tensor:
    """Cut int64 values to int32 with two's-complement wrap-around (the core's 32-bit registers):
    the int64 → int32 cast keeps the low 32 bits (checked against modular arithmetic in
    tests/test_board_fixed_engine.py), in two kernels where the masked form takes three. Sums and
    differences may wrap once at the end of a chain (wrapping is compatible with + and −); products,
    shifts and comparisons need wrapped operands."""
    if not isinstance(x, torch.Tensor):
        return ((int(x) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return x.int().long()   # (.int()/.long(): .to(torch.int32/int64) with less argument parsing)


def mul(a, b):
    """``accum * accum``: floor(a·b / 2^15), wrapped to 32 bits."""
    return wrap32((a * b) >> 15)


def decay(x, d: int):
    """``decay_s1615(x, d)``: floor(x·d / 2^32) for a u0.32 factor d."""
    y = x * d
    y >>= 32   # in place on the fresh product
    return y


def bits(value: float) -> int:
    """A host parameter as s16.15 bits (round-half-even of its decimal value·2^15); refused when
    outside the s16.15 range."""
    q = board.s1615(value)
    if not INT32_MIN <= q <= INT32_MAX:
        from neuromorph.errors import ValidationError
        raise ValidationError(f"value {value!r} is outside the board's s16.15 range (−65536 to 65535.99997); "
                              "SpiNNaker cannot hold it: rescale the parameter or use numerics='spinnaker-float'")
    return q


def expk(x: int) -> int:
    """exp(x) for s16.15 bits x, truncated to s16.15 (libm exp, see the module docstring)."""
    return int(math.floor(math.exp(x / ONE) * ONE))


def expulr(x: int) -> int:
    """exp(x) for s16.15 bits x ≤ 0 as u0.32 bits (libm exp floored; at most 2^32 − 1)."""
    return min(int(math.floor(math.exp(x / ONE) * ULR_ONE)), ULR_ONE - 1)


def kdiv(a: int, b: int) -> int:
    """``kdivk``: floor(a·2^15 / b) for non-negative bits (an unsigned 64-bit division)."""
    return (a << 15) // b


def to_bits(x: torch.Tensor) -> torch.Tensor:
    """A float tensor in mV or nA as s16.15 bits (round half to even, like the host)."""
    return torch.round(x.to(torch.float64) * ONE).to(torch.int64)


def from_bits(x: torch.Tensor) -> torch.Tensor:
    """s16.15 bits as float64 values (exact)."""
    return x.to(torch.float64) / ONE


def ring_input(words: torch.Tensor, shift, wide: bool = True) -> torch.Tensor:
    """A ring-buffer slot (sums of 16-bit words, saturating at 0xFFFF) as the s16.15 input of the
    tick: ``v << s`` (s: the receptor's ring-buffer shift, an int or ``[1 or batch, 1]``), wrapped
    to 32 bits — which only a shift of 16 or more can need (``wide``). Fractions (from a
    mechanism's gain on the words) are floored (the cast truncates; the words are ≥ 0)."""
    if words.requires_grad:
        words = words.detach()
    v = words.clamp(0, WORD_MAX).long()
    if isinstance(shift, int):
        v <<= shift   # in place on the fresh tensor
    else:
        v = v << shift
    return wrap32(v) if wide else v


def ring_inputs(in_exc: torch.Tensor, in_inh: torch.Tensor, shifts):
    """Both receptors' slots as s16.15 input: ``shifts`` is ``((s_exc, wide_exc), (s_inh,
    wide_inh))`` (TorchSimulation._ring_shifts)."""
    (s_exc, w_exc), (s_inh, w_inh) = shifts
    return ring_input(in_exc, s_exc, w_exc), ring_input(in_inh, s_inh, w_inh)
