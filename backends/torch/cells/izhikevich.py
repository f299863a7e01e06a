"""Izhikevich on the torch backend: NEST ``izhikevich`` (convention "nest"), float arithmetic.

NEST's default ``consistent_integration=True`` is forward Euler on (v, u) from the values at the
start of the step; synaptic input is a voltage jump added in the step it is consumed; ``I_e``
(pA, PyNN's ``i_offset``·1000) enters dv/dt as mV/ms. Threshold ``V_th = 30`` mV, no refractory
period, ``V_min = −DBL_MAX``. Verified against NEST 3.10's izhikevich run directly (dt
1.0/0.5/0.1 ms, four parameter sets, random ±1..15 mV input with delays of 1-3 steps): every V and
U sample bit-identical.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from neuromorph.capabilities import native
from neuromorph.cells import Izhikevich

from ..registry import CellLowering, register_cell

_DBL_MAX = 1.7976931348623157e308


class IzhState(NamedTuple):
    v: torch.Tensor  # [batch, n] mV
    u: torch.Tensor  # [batch, n] mV/ms


class NestIzhParams(NamedTuple):
    threshold: float  # mV (NEST V_th)
    a: float
    b: float
    c: float
    d: float
    i_offset: float   # NEST I_e: pA, read as mV/ms
    h: float          # dt, ms
    v_min: float


def nest_izh_parameters(c: Izhikevich, dt: float) -> NestIzhParams:
    return NestIzhParams(c.v_thresh, c.a, c.b, c.c, c.d, c.i_offset * 1000.0, dt, -_DBL_MAX)


def nest_izh_initial_state(p: NestIzhParams, init, batch) -> IzhState:
    v = init["v"].expand(batch, -1).clone()
    return IzhState(v, init["u"].to(v).expand(batch, -1).clone())


def nest_izh_step(p: NestIzhParams, s: IzhState, in_exc, in_inh, extra, thr, fire):
    """NEST izhikevich ``update`` (consistent_integration), in its order and association:

    1. ``v ← v + (h·(0.04·v·v + 5·v + 140 − u + I_e) + J)``, ``J`` = this step's summed jumps (mV);
    2. ``u ← u + h·a·(b·v_old − u_old)``;
    3. ``v ← max(v, V_min)``; spike if ``v ≥ V_th`` → ``v = c``, ``u = u + d``.
    """
    v0, u0 = s.v, s.u
    ie = p.i_offset if extra is None else p.i_offset + extra * 1000.0
    v = v0 + (p.h * (0.04 * v0 * v0 + 5.0 * v0 + 140.0 - u0 + ie) + (in_exc - in_inh))
    u = u0 + p.h * p.a * (p.b * v0 - u0)
    v = torch.clamp(v, min=max(p.v_min, torch.finfo(v.dtype).min))  # −DBL_MAX; float32: its own lowest
    spk = fire(v, thr)
    fired = spk.detach() > 0
    v = v.masked_fill(fired, p.c)
    u = torch.where(fired, u + p.d, u)
    return spk, IzhState(v, u), s


def nest_izh_record(p: NestIzhParams, s: IzhState, name: str):
    return (s.v if name == "v" else s.u).clone()


register_cell(CellLowering(
    Izhikevich, "nest", "float", nest_izh_parameters, nest_izh_initial_state, nest_izh_step, nest_izh_record, {
        "Izhikevich": native("NEST izhikevich (consistent_integration=True): forward Euler of v and u from the "
                             "step's start values, input added to v as a jump (mV), V_th = 30 mV"),
    }))
