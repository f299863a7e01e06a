"""sPyNNaker's on-board number formats, for the ``spinnaker`` profile's weight storage.

Facts from simulators.md §9 (read from sPyNNaker 7.4.1's Python side and C sources, and checked
against the spatial-pattern paper's recorded runs): s16.15 parameters, 16-bit synaptic words scaled
by a per-(post population, receptor) ring-buffer shift, STDP exponentials from a floor LUT with
1.0 = 2048. We compute the same numbers from the network description rather than importing
sPyNNaker, so the torch backend works without the ``[spinnaker]`` extra; the PyNN SpiNNaker
lowering cross-checks them against sPyNNaker's own mapping.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

STDP_FIXED_POINT = 11
STDP_ONE = 1 << STDP_FIXED_POINT  # 2048
S1615_ONE = 1 << 15


def s1615(value: float) -> int:
    """Host encoding of an s16.15 parameter: round-half-even of value·2^15 via its decimal string
    (SpiNNFrontEndCommon's ``encode_as_int``)."""
    return int((Decimal(str(value)) * S1615_ONE).to_integral_value(ROUND_HALF_EVEN))


#: longest STDP decay table exp_lut builds (32 MiB of int64; tau/dt up to about 550 000)
EXP_LUT_MAX = 1 << 22


def exp_lut(tau_ms: float, dt_ms: float) -> np.ndarray:
    """sPyNNaker's STDP decay table ``floor(2048·exp(-k·dt/tau))`` for k < len; beyond it the
    decay is 0. ``len = 2·ceil(ln(2048)·tau/dt / 2)``."""
    lam = dt_ms / tau_ms
    raw = math.log(STDP_ONE) / lam
    length = 2 * math.ceil(raw / 2)
    if length > EXP_LUT_MAX:
        from neuromorph.errors import UnsupportedError
        raise UnsupportedError(
            f"STDP time constant {tau_ms:g} ms is {tau_ms / dt_ms:.3g} steps of dt={dt_ms:g} ms: its spinnaker decay table would "
            f"have {length:,} entries (at most {EXP_LUT_MAX:,}); use a smaller tau or numerics='exact'")
    k = np.arange(length, dtype=np.float64)
    return np.floor(STDP_ONE * np.exp(-k * lam)).astype(np.int64)


def ring_buffer_shift(max_summed_weight: float) -> int:
    """Left shift s with 2^s > M strictly (simulators.md §9.2 step 3)."""
    if max_summed_weight <= 0:
        return 0
    s = max(0, math.ceil(math.log2(max_summed_weight)))
    if 2 ** s <= max_summed_weight:
        s += 1
    return s


def weight_lsb(shift: int) -> float:
    """Value of one stored weight unit in nA: 2^(s-15)."""
    return 2.0 ** (shift - 15)


def weight_words(w, lsb: float, label: str, w_max: float):
    """Plastic weights ``w`` (float64 tensor, nA) as the host stores them: 16-bit words
    ``rint(w / lsb)`` (int64); a word above 65535 is refused, naming the projection, the weight and
    the largest weight its resolution holds."""
    import torch
    words = torch.round(w / lsb).to(torch.int64)
    if words.numel() and int(words.max()) > 0xFFFF:
        from neuromorph.errors import ValidationError
        raise ValidationError(
            f"projection {label!r}: weight {float(w.max()):g} nA needs the word {int(words.max())} but a synaptic word "
            f"holds at most 65535 (= {0xFFFF * lsb:g} nA at this projection's resolution {lsb:g} nA, set by its rule's "
            f"w_max={w_max:g}); raise w_max or give weights up to {0xFFFF * lsb:g} nA")
    return words
