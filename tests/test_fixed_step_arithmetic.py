"""The s16.15 cell ticks (backends/torch/cells/fixed_lif.py) and the board STDP's history update
(backends/torch/plasticity/board_stdp.py) step by step, against the core's arithmetic written here
in plain Python integers (simulators.md §9.1, §9.6; sPyNNaker's post_events.h): every add and
product of an accum wraps at 32 bits, ``accum * accum`` is floor(a·b / 2^15), ``decay_s1615`` is
floor(x·d / 2^32). The states and inputs are drawn over the whole int32 range, so α, V − α and
the new V wrap in many neurons of one draw; the lowerings keep wrapped intermediates as int32
tensors and leave some wraps to later ones, which these checks pin down.

The step must also leave the state it was given untouched (the engine records it as this step's
``seen`` state, and the reset fills this step's own tensors in place)."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.backends.torch import fixed_point as fx
from neuromorph.backends.torch.cells import fixed_lif
from neuromorph.backends.torch.plasticity.board_stdp import HISTORY, BoardPlasticSynapses
from neuromorph.backends.torch.synapses import SynapseTable
from neuromorph.network import Connectivity
from neuromorph.numerics import get_profile

I32 = 2 ** 31


def _wrap(x: int) -> int:
    return ((x + I32) % 2 ** 32) - I32


def _mul(a: int, b: int) -> int:
    """accum·accum: floor(a·b / 2^15) cut to 32 bits."""
    return _wrap((a * b) >> 15)


def _tick(p, v, i_exc, i_inh, refrac, drive_extra, thr_bits):
    """V, refractory count and spike of one neuron from its (already input-summed) currents."""
    if refrac > 0:
        v_new, refrac = v, refrac - 1
    else:
        i_in = _wrap(i_exc - i_inh + p.i_offset + drive_extra)
        alpha = _wrap(_mul(i_in, p.R) + p.v_rest)
        v_new = _wrap(alpha - _mul(p.E, _wrap(alpha - v)))
    fired = v_new >= thr_bits
    if fired:
        v_new, refrac = p.v_reset, p.n_ref
    return v_new, refrac, fired


def _draw(rng: random.Random, n: int):
    """int32 values, half of them near the ends of the range."""
    out = []
    for _ in range(n):
        if rng.random() < 0.5:
            out.append(rng.randrange(-I32, I32))
        else:
            out.append(rng.choice([-I32, I32 - 1]) + rng.randrange(-5000, 5000) * (1 if rng.random() < 0.5 else -1))
    return [_wrap(x) for x in out]


CELL = dict(cm=0.25, tau_m=20.0, tau_refrac=2.0, v_rest=-65.0, v_reset=-70.0, v_thresh=-50.0, tau_syn_E=5.0,
            tau_syn_I=10.0)


@pytest.mark.parametrize("i_offset", [0.0, 0.37])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exp_tick_wraps_like_the_core(seed, i_offset):
    rng = random.Random(seed)
    n = 400
    p = fixed_lif.exp_parameters(nm.IF_curr_exp(i_offset=i_offset, **CELL), 1.0)
    v, ie, ii = _draw(rng, n), _draw(rng, n), _draw(rng, n)
    refrac = [rng.choice([0, 0, 0, 1, 2]) for _ in range(n)]
    words_e = [rng.randrange(0, 0x10000) for _ in range(n)]
    words_i = [rng.randrange(0, 0x10000) for _ in range(n)]
    shift = 14
    state = fixed_lif.FixedState(*(torch.tensor([x], dtype=torch.int64) for x in (v, ie, ii, refrac)))
    kept = [t.clone() for t in state]
    in_e = fx.ring_input(torch.tensor([words_e], dtype=torch.float64), shift, wide=False)
    in_i = fx.ring_input(torch.tensor([words_i], dtype=torch.float64), shift, wide=False)
    spk, new, seen = fixed_lif.exp_step(p, state, in_e, in_i, None, p.threshold, None)
    for a, b in zip(state, kept):   # the given state is left as it was
        assert torch.equal(a, b)
    exp = {"v": [], "ie": [], "ii": [], "refrac": [], "spk": [], "seen_e": [], "seen_i": []}
    wrapped_alpha = 0
    for k in range(n):
        e = _wrap(ie[k] + (((words_e[k] << shift) * p.init_e) >> 32))
        i = _wrap(ii[k] + (((words_i[k] << shift) * p.init_i) >> 32))
        i_in = _wrap(e - i + p.i_offset)
        wrapped_alpha += ((i_in * p.R) >> 15) + p.v_rest != _wrap(_mul(i_in, p.R) + p.v_rest)
        vn, rn, fired = _tick(p, v[k], e, i, refrac[k], 0, p.thr_bits)
        exp["v"].append(vn), exp["refrac"].append(rn), exp["spk"].append(float(fired))
        exp["seen_e"].append(e), exp["seen_i"].append(i)
        exp["ie"].append((e * p.decay_e) >> 32), exp["ii"].append((i * p.decay_i) >> 32)
    assert wrapped_alpha > 20   # the draw exercises the wrap of α
    assert new.v.dtype == torch.int64 and new.i_exc.dtype == torch.int64
    assert new.v[0].tolist() == exp["v"]
    assert new.refrac[0].tolist() == exp["refrac"]
    assert new.i_exc[0].tolist() == exp["ie"] and new.i_inh[0].tolist() == exp["ii"]
    assert spk[0].tolist() == exp["spk"] and spk.dtype == torch.float64
    assert fixed_lif.record(p, seen, "isyn_exc")[0].tolist() == [x / 2 ** 15 for x in exp["seen_e"]]
    assert fixed_lif.record(p, seen, "isyn_inh")[0].tolist() == [x / 2 ** 15 for x in exp["seen_i"]]
    assert fixed_lif.record(p, seen, "v")[0].tolist() == [x / 2 ** 15 for x in v]


@pytest.mark.parametrize("seed", [3, 4])
def test_delta_tick_wraps_like_the_core(seed):
    rng = random.Random(seed)
    n = 400
    p = fixed_lif.delta_parameters(nm.IF_curr_delta(weight_units="nA", **{k: CELL[k] for k in (
        "cm", "tau_m", "tau_refrac", "v_rest", "v_reset", "v_thresh")}), 1.0)
    v, ie, ii = _draw(rng, n), _draw(rng, n), _draw(rng, n)
    refrac = [rng.choice([0, 0, 1]) for _ in range(n)]
    in_e = [rng.randrange(0, 0x10000) << 9 for _ in range(n)]
    in_i = [rng.randrange(0, 0x10000) << 9 for _ in range(n)]
    extra = [rng.uniform(-3.0, 3.0) for _ in range(n)]
    state = fixed_lif.FixedState(*(torch.tensor([x], dtype=torch.int64) for x in (v, ie, ii, refrac)))
    kept = [t.clone() for t in state]
    spk, new, _ = fixed_lif.delta_step(p, state, torch.tensor([in_e]), torch.tensor([in_i]),
                                       torch.tensor([extra], dtype=torch.float64), p.threshold, None)
    for a, b in zip(state, kept):
        assert torch.equal(a, b)
    extra_bits = fx.to_bits(torch.tensor(extra, dtype=torch.float64)).tolist()
    for k in range(n):
        e, i = _wrap(ie[k] + in_e[k]), _wrap(ii[k] + in_i[k])
        vn, rn, fired = _tick(p, v[k], _mul(e, p.delta_scale), _mul(i, p.delta_scale), refrac[k], extra_bits[k],
                              p.thr_bits)
        assert (int(new.v[0, k]), int(new.refrac[0, k]), float(spk[0, k])) == (vn, rn, float(fired)), k
    assert new.i_exc.abs().sum() == 0 and new.i_inh.abs().sum() == 0


def _board_history(rng: random.Random, steps: int, n_post: int):
    """post_events_add for a few neurons over ``steps`` ticks: 16 slots, slot 0 the placeholder at
    time 0; a spike into a full history drops slot 1 (the oldest real spike)."""
    hist = [[0] for _ in range(n_post)]
    spikes = []
    for u in range(1, steps + 1):
        fired = [j for j in range(n_post) if rng.random() < 0.3]
        spikes.append(fired)
        for j in fired:
            if len(hist[j]) == HISTORY:
                del hist[j][1]
            hist[j].append(u)
    return spikes, hist


def test_post_history_update_is_post_events_add_and_leaves_unused_slots_zero():
    """record_post against the core's list update; slots past a neuron's count stay 0 (the window
    search counts every slot later than E, which needs it)."""
    n_post = 6
    conn = Connectivity(1, n_post, np.zeros(1, np.int64), np.zeros(1, np.int64), np.full(1, 0.01), np.ones(1, np.int64))
    stdp = nm.STDP(nm.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
                   nm.Additive(w_min=0.0, w_max=0.5))
    pp = BoardPlasticSynapses("p", SynapseTable(conn, torch.device("cpu")), stdp, get_profile("spinnaker"), 1.0, 1,
                              torch.device("cpu"), torch.float64, 8)
    spikes, hist = _board_history(random.Random(7), 60, n_post)
    for u, fired in enumerate(spikes, start=1):
        mask = torch.zeros(1, n_post, dtype=torch.bool)
        mask[0, fired] = True
        pp.record_post(u, mask, bool(fired))
    for j in range(n_post):
        count = len(hist[j]) - 1
        assert int(pp.post_count[0, j]) == count
        assert pp.post_times[0, j].tolist() == hist[j] + [0] * (HISTORY - len(hist[j]))


@pytest.mark.parametrize("convention", ["nest", "spinnaker"])
def test_float_lif_step_leaves_its_input_state_alone(convention):
    """The float IF_curr_exp steps reset this step's own tensors in place (cells/common.reset):
    the state they were given (the engine's ``seen`` for recordings) keeps its values, also for
    neurons that fire and neurons that are refractory."""
    from neuromorph.backends.torch.cells import if_curr_exp
    from neuromorph.backends.torch.engine import make_fire

    cell = nm.IF_curr_exp(**CELL)
    if convention == "nest":
        p, step, v0 = if_curr_exp.nest_exp_parameters(cell, 1.0), if_curr_exp.nest_exp_step, 0.0
    else:
        p, step, v0 = if_curr_exp.spinnaker_exp_parameters(cell, 1.0), if_curr_exp.spinnaker_exp_step, -65.0
    v = torch.tensor([[v0 + 20.0, v0 + 1.0, v0 + 2.0, v0 + 5.0]], dtype=torch.float64)   # 0 fires; 2, 3 refractory
    s = if_curr_exp.LIFExpState(v, torch.full_like(v, 0.5), torch.full_like(v, 0.2),
                                torch.tensor([[0, 0, 2, 1]], dtype=torch.int64))
    kept = [t.clone() for t in s]
    z = torch.zeros_like(v)
    spk, new, _ = step(p, s, z, z, None, p.threshold, make_fire(None))
    for a, b in zip(s, kept):
        assert torch.equal(a, b)
    assert spk[0].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert new.v[0, 0] == p.v_reset and new.refrac[0].tolist() == [p.n_ref, 0, 1, 0]
    assert new.v[0, 2] == v[0, 2] and new.v[0, 3] == v[0, 3]   # refractory neurons keep V
