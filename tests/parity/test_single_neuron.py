"""Single-neuron parity scenarios: step current, single spikes, delays 1–16 steps, refractoriness,
IF_curr_exp and IF_curr_delta. Each backend is checked against the reference of the semantics it
implements (tests/parity/reference.py): identical spike times, V within ``V_TOL``.

The references themselves are checked against closed forms first (``test_reference_*``), so a
reference and a backend cannot agree on a wrong answer.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import neuromorph as nm

from .harness import run
from .reference import Input, neuron

DT = 1.0
#: V agreement [mV]: the references use libm exp/expm1 in another operation order than the
#: simulators (NEST's wheel has its own expm1), so agreement is to rounding, far below any
#: threshold margin in these scenarios
V_TOL = 1e-9

EXP = nm.IF_curr_exp(tau_syn_E=5.0, tau_syn_I=3.0, tau_refrac=2.0)
DELTA_MV = nm.IF_curr_delta(weight_units="mV", tau_refrac=2.0)
DELTA_NA = nm.IF_curr_delta(weight_units="nA", tau_refrac=2.0)
CELLS = {"IF_curr_exp": EXP, "IF_curr_delta(mV)": DELTA_MV, "IF_curr_delta(nA)": DELTA_NA}


# -- scenario networks (also used by test_identical_spikes.py) ----------------------------------

def net_step_current(cell):
    base = CELLS[cell]
    c = type(base)(**{**base.parameters(), "i_offset": 1.0})
    net = nm.Network(dt=DT)
    net.population("n", 1, c)
    net.record("n", "spikes", "v")
    return net, c


def net_single_spikes(cell):
    c = CELLS[cell]
    exp = isinstance(c, nm.IF_curr_exp)
    w_small = 1.0 if exp else 4.0
    w_big = 4.0 if exp else 9.0
    net = nm.Network(dt=DT)
    net.spike_source("exc", [[10.0, 70.0, 71.0]])
    net.spike_source("inh", [[40.0]])
    net.population("n", 1, c)
    net.connect("exc", "n", nm.FromList([(0, 0, w_big)]), delay=1.0, label="e")
    net.connect("inh", "n", nm.OneToOne(), weight=w_small, delay=2.0, receptor="inhibitory", label="i")
    net.record("n", "spikes", "v", *(("isyn_exc", "isyn_inh") if exp else ()))
    inputs = [Input(10.0, w_big, 1), Input(70.0, w_big, 1), Input(71.0, w_big, 1), Input(40.0, w_small, 2, "inhibitory")]
    return net, c, inputs


def net_delays(cell):
    c = CELLS[cell]
    w = 8.0 if isinstance(c, nm.IF_curr_exp) else 20.0
    net = nm.Network(dt=DT)
    net.spike_source("src", [[10.0]] * 16)
    net.population("n", 16, c)
    net.connect("src", "n", nm.FromList([(i, i, w, (i + 1) * DT) for i in range(16)]), label="d")
    net.record("n", "spikes")
    return net, c, w


def net_refractory(cell, tau_refrac):
    base = CELLS[cell]
    c = type(base)(**{**base.parameters(), "tau_refrac": tau_refrac})
    w = 8.0 if isinstance(c, nm.IF_curr_exp) else 16.0
    times = [float(t) for t in range(10, 31)]
    net = nm.Network(dt=DT)
    net.spike_source("src", [times])
    net.population("n", 1, c)
    net.connect("src", "n", nm.OneToOne(), weight=w, delay=1.0, label="d")
    net.record("n", "spikes", "v")
    return net, c, w, times


def _check(sim, label, celltype, semantics, n, inputs, isyn=False):
    ref = neuron(celltype, semantics, DT, n, inputs)
    got = sim.spikes(label)[0]
    assert np.array_equal(got, ref.spikes), f"spikes {got} != reference {ref.spikes}"
    v = sim.trace(label, "v")[:, 0]
    assert v.shape == (n,)
    np.testing.assert_allclose(v, ref.v, rtol=0, atol=V_TOL)
    if isyn:
        np.testing.assert_allclose(sim.trace(label, "isyn_exc")[:, 0], ref.isyn_exc, rtol=0, atol=1e-12)
        np.testing.assert_allclose(sim.trace(label, "isyn_inh")[:, 0], ref.isyn_inh, rtol=0, atol=1e-12)
    return ref


# -- references against closed forms -----------------------------------------------------------

@pytest.mark.parametrize("tau_refrac", [0.1, 1.0, 2.0, 5.0])
def test_reference_step_current_closed_form(tau_refrac):
    """Constant current: V(t) = V∞ + (V0 − V∞)e^(−t/τm) crosses at t* = τm ln((V∞−V_reset)/(V∞−θ)).
    On the grid the crossing update is the ceil(t*/dt)-th; NEST stamps it at its end (ceil), the
    spinnaker profile and Brian2 at its start (ceil − 1). ISI = ceil(t*) + refractory steps, with
    NEST/sPyNNaker skipping ceil(τref/dt) updates and Brian2 floor(τref/dt) − 1 (at least 0)."""
    c = nm.IF_curr_exp(i_offset=1.0, tau_refrac=tau_refrac)
    v_inf = c.v_rest + c.tau_m / c.cm * c.i_offset
    t_star = c.tau_m * math.log((v_inf - c.v_reset) / (v_inf - c.v_thresh))
    k = math.ceil(t_star / DT)
    n = 200
    skip = {"exact": math.ceil(tau_refrac / DT - 1e-9), "spinnaker": math.ceil(tau_refrac / DT - 1e-9),
            "brian2": max(int(tau_refrac / DT + 1e-3) - 1, 0)}
    first = {"exact": k * DT, "spinnaker": (k - 1) * DT, "brian2": (k - 1) * DT}
    for sem in ("exact", "spinnaker", "brian2"):
        isi = (k + skip[sem]) * DT
        expect = np.arange(first[sem], n * DT, isi)
        expect = expect[expect <= (n - 1) * DT + (DT if sem == "exact" else 0)]
        got = neuron(c, sem, DT, n).spikes
        np.testing.assert_array_equal(got, expect[: len(got)])
        assert len(got) >= len(expect) - 1


def test_reference_psp_closed_form():
    """One excitatory event on IF_curr_exp (exact semantics): the analytic PSP of an exponential
    current, u(t) = w τs R/(τm − τs)·(e^(−t/τm) − e^(−t/τs)) from the step after arrival."""
    c = nm.IF_curr_exp(tau_syn_E=5.0)
    w, t0, d = 0.5, 10.0, 1
    ref = neuron(c, "exact", DT, 60, [Input(t0, w, d)])
    R = c.tau_m / c.cm
    k0 = int(t0 + d)  # the current jumps at sample t0 + d; V starts to move after it
    t = (np.arange(60) - k0) * DT
    u = np.where(t > 0, w * c.tau_syn_E * R / (c.tau_m - c.tau_syn_E) * (np.exp(-t / c.tau_m) - np.exp(-t / c.tau_syn_E)), 0.0)
    np.testing.assert_allclose(ref.v - c.v_rest, u, atol=1e-12)


# -- scenarios on every backend ------------------------------------------------------------------

@pytest.mark.parametrize("cell", list(CELLS))
def test_step_current(backend, cell):
    """i_offset = 1 nA from rest for 200 ms: periodic firing, spike times from the closed form."""
    net, c = net_step_current(cell)
    sim = run(net, backend, 200.0)
    ref = _check(sim, "n", c, backend.semantics, 200, [])
    assert len(ref.spikes) >= 5


@pytest.mark.parametrize("cell", list(CELLS))
def test_single_exc_inh_spikes(backend, cell):
    """One excitatory and one inhibitory spike (subthreshold), then a suprathreshold pair; V and
    (IF_curr_exp) both synaptic currents compared step by step."""
    net, c, inputs = net_single_spikes(cell)
    exp = isinstance(c, nm.IF_curr_exp)
    sim = run(net, backend, 120.0)
    ref = _check(sim, "n", c, backend.semantics, 120, inputs, isyn=exp)
    assert len(ref.spikes) >= 1 and ref.v[15] != c.v_rest


@pytest.mark.parametrize("cell", ["IF_curr_exp", "IF_curr_delta(mV)"])
def test_delays_1_to_16_steps(backend, cell):
    """16 sources spike at 10 ms onto 16 neurons through delays of 1..16 steps (one FromList);
    each neuron's suprathreshold response is shifted by exactly its delay."""
    net, c, w = net_delays(cell)
    sim = run(net, backend, 60.0)
    got = sim.spikes("n")
    for i in range(16):
        ref = neuron(c, backend.semantics, DT, 60, [Input(10.0, w, i + 1)])
        assert np.array_equal(got[i], ref.spikes), f"delay {i + 1}: {got[i]} != {ref.spikes}"
    first = np.array([g[0] for g in got])
    np.testing.assert_array_equal(np.diff(first), np.ones(15) * DT)


@pytest.mark.parametrize("tau_refrac", [0.1, 2.0, 5.0])
@pytest.mark.parametrize("cell", ["IF_curr_exp", "IF_curr_delta(mV)"])
def test_refractoriness(backend, cell, tau_refrac):
    """A suprathreshold spike train every step from 10 to 30 ms: the output ISI is set by the
    refractory period; input arriving while refractory is kept (IF_curr_exp: in I_syn) or lost
    (IF_curr_delta on NEST and sPyNNaker; Brian2 keeps it)."""
    net, c, w, times = net_refractory(cell, tau_refrac)
    sim = run(net, backend, 60.0)
    ref = _check(sim, "n", c, backend.semantics, 60, [Input(t, w, 1) for t in times])
    assert len(ref.spikes) >= 3


@pytest.mark.parametrize("w_na", [0.7, 2.3, 16.0])
def test_delta_weight_units_are_equivalent(backend, w_na):
    """IF_curr_delta(weight_units="nA") with w and weight_units="mV" with R(1−e^(−dt/τm))·w must
    behave identically: the two meanings differ only in units."""
    jump = (20.0 / 1.0) * (1 - math.exp(-DT / 20.0))
    sims = []
    for units, w in (("nA", w_na), ("mV", w_na * jump)):
        net = nm.Network(dt=DT)
        net.spike_source("src", [[10.0, 11.0, 30.0]])
        net.population("n", 1, nm.IF_curr_delta(weight_units=units))
        net.connect("src", "n", nm.OneToOne(), weight=w, delay=2.0)
        net.record("n", "spikes", "v")
        sims.append(run(net, backend, 50.0))
    a, b = sims
    assert np.array_equal(a.spikes("n")[0], b.spikes("n")[0])
    np.testing.assert_allclose(a.trace("n", "v"), b.trace("n", "v"), rtol=0, atol=1e-9)
