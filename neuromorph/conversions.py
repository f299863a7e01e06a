"""Unit conversions shared by every backend and by the test references — one formula each.

The IF_curr_delta weight has two simulator meanings (neuromorph.cells.IF_curr_delta): a current
held for one step (sPyNNaker, ``weight_units="nA"``) or a voltage jump (NEST, ``"mV"``).
"""
from __future__ import annotations

import math


def delta_jump_per_nA(tau_m: float, cm: float, dt: float) -> float:
    """Voltage jump [mV] caused by a weight of 1 nA on sPyNNaker's IF_curr_delta: the weight,
    divided by dt, is the current of one step (its delta input type scales by 1/dt,
    sPyNNaker's ``synapse_types_delta_impl.h``), so ``ΔV = R (1 − exp(−dt/τm)) / dt`` with ``R = τm/cm`` [MΩ].
    0.97541 mV per nA for τm = 20 ms, cm = 1 nF, dt = 1 ms."""
    return (tau_m / cm) * (1.0 - math.exp(-dt / tau_m)) / dt
