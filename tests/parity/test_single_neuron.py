"""Single-neuron parity scenarios: step current, single spikes, delays 1–16 steps, refractoriness,
IF_curr_exp and IF_curr_delta. Each backend is checked against the reference of the semantics it
implements (tests/parity/reference.py): identical spike times, V within ``V_TOL``.

Every scenario runs at dt = 1 ms and 0.5 ms in the default run and at 0.1 ms under ``slow``
(``DTS``); spike times are multiples of dt, delays whole steps ≥ 1 (``delay`` below is in steps
where a scenario is about the smallest delays). At dt ≠ 1 ms the dt-dependent factors (the
IF_curr_delta nA→mV jump ``R(1 − e^(−dt/τm))/dt``, sPyNNaker's ``(τs/dt)(1 − e^(−dt/τs))``,
refractory step counts) are exercised, which dt = 1 ms alone cannot tell apart.

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
#: the time steps every scenario runs at [ms]; dt = 0.1 ms (10× the steps) only under ``slow``
DTS = [pytest.param(1.0, id="dt=1"), pytest.param(0.5, id="dt=0.5"),
       pytest.param(0.1, id="dt=0.1", marks=pytest.mark.slow)]
#: V agreement [mV]: the references use libm exp/expm1 in another operation order than the
#: simulators (NEST's wheel has its own expm1), so agreement is to rounding, far below any
#: threshold margin in these scenarios
V_TOL = 1e-9

EXP = nm.IF_curr_exp(tau_syn_E=5.0, tau_syn_I=3.0, tau_refrac=2.0)
DELTA_MV = nm.IF_curr_delta(weight_units="mV", tau_refrac=2.0)
DELTA_NA = nm.IF_curr_delta(weight_units="nA", tau_refrac=2.0)
CELLS = {"IF_curr_exp": EXP, "IF_curr_delta(mV)": DELTA_MV, "IF_curr_delta(nA)": DELTA_NA}


# -- scenario networks (also used by test_identical_spikes.py) ----------------------------------

def net_step_current(cell, dt=DT):
    base = CELLS[cell]
    c = type(base)(**{**base.parameters(), "i_offset": 1.0})
    net = nm.Network(dt=dt)
    net.population("n", 1, c)
    net.record("n", "spikes", "v")
    return net, c


def net_single_spikes(cell, dt=DT):
    """Subthreshold exc (10 ms) and inh (40 ms) spikes, then a suprathreshold exc pair 1 ms apart
    (70, 71 ms); delays of 1 step (exc) and 2 steps (inh) whatever dt."""
    c = CELLS[cell]
    exp = isinstance(c, nm.IF_curr_exp)
    w_small = 1.0 if exp else 4.0
    w_big = 4.0 if exp else 9.0
    net = nm.Network(dt=dt)
    net.spike_source("exc", [[10.0, 70.0, 71.0]])
    net.spike_source("inh", [[40.0]])
    net.population("n", 1, c)
    net.connect("exc", "n", nm.FromList([(0, 0, w_big)]), delay=dt, label="e")
    net.connect("inh", "n", nm.OneToOne(), weight=w_small, delay=2 * dt, receptor="inhibitory", label="i")
    net.record("n", "spikes", "v", *(("isyn_exc", "isyn_inh") if exp else ()))
    inputs = [Input(10.0, w_big, 1), Input(70.0, w_big, 1), Input(71.0, w_big, 1), Input(40.0, w_small, 2, "inhibitory")]
    return net, c, inputs


def net_delays(cell, dt=DT):
    c = CELLS[cell]
    w = 8.0 if isinstance(c, nm.IF_curr_exp) else 20.0
    net = nm.Network(dt=dt)
    net.spike_source("src", [[10.0]] * 16)
    net.population("n", 16, c)
    net.connect("src", "n", nm.FromList([(i, i, w, (i + 1) * dt) for i in range(16)]), label="d")
    net.record("n", "spikes")
    return net, c, w


def net_refractory(cell, tau_refrac, dt=DT):
    """A suprathreshold input every step from 10 to 30 ms (delay 1 step)."""
    base = CELLS[cell]
    c = type(base)(**{**base.parameters(), "tau_refrac": tau_refrac})
    w = 8.0 if isinstance(c, nm.IF_curr_exp) else 16.0
    times = [round(k * dt, 10) for k in range(int(round(10.0 / dt)), int(round(30.0 / dt)) + 1)]
    net = nm.Network(dt=dt)
    net.spike_source("src", [times])
    net.population("n", 1, c)
    net.connect("src", "n", nm.OneToOne(), weight=w, delay=dt, label="d")
    net.record("n", "spikes", "v")
    return net, c, w, times


def same_spikes(got, want, dt) -> bool:
    """Spike trains equal step for step (times may differ by float rounding of k·dt: NEST stamps
    from its tic grid, the references multiply)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return (got.shape == want.shape and np.array_equal(np.rint(got / dt), np.rint(want / dt))
            and bool(np.all(np.abs(got - want) <= 1e-9 * max(1.0, float(np.abs(want).max(initial=0.0))))))


def _check(sim, label, celltype, semantics, n, inputs, isyn=False, dt=DT):
    ref = neuron(celltype, semantics, dt, n, inputs)
    got = sim.spikes(label)[0]
    assert same_spikes(got, ref.spikes, dt), f"spikes {got} != reference {ref.spikes}"
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

def _n(ms, dt):
    return int(round(ms / dt))


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("cell", list(CELLS))
def test_step_current(backend, cell, dt):
    """i_offset = 1 nA from rest for 200 ms: periodic firing, spike times from the closed form."""
    net, c = net_step_current(cell, dt)
    sim = run(net, backend, 200.0)
    ref = _check(sim, "n", c, backend.semantics, _n(200.0, dt), [], dt=dt)
    assert len(ref.spikes) >= 5


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("cell", list(CELLS))
def test_single_exc_inh_spikes(backend, cell, dt):
    """One excitatory and one inhibitory spike (subthreshold), then a suprathreshold pair; V and
    (IF_curr_exp) both synaptic currents compared step by step."""
    net, c, inputs = net_single_spikes(cell, dt)
    exp = isinstance(c, nm.IF_curr_exp)
    sim = run(net, backend, 120.0)
    ref = _check(sim, "n", c, backend.semantics, _n(120.0, dt), inputs, isyn=exp, dt=dt)
    assert len(ref.spikes) >= 1 and ref.v[_n(15.0, dt)] != c.v_rest


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("cell", ["IF_curr_exp", "IF_curr_delta(mV)"])
def test_delays_1_to_16_steps(backend, cell, dt):
    """16 sources spike at 10 ms onto 16 neurons through delays of 1..16 steps (one FromList);
    each neuron's suprathreshold response is shifted by exactly its delay."""
    net, c, w = net_delays(cell, dt)
    sim = run(net, backend, 60.0)
    got = sim.spikes("n")
    for i in range(16):
        ref = neuron(c, backend.semantics, dt, _n(60.0, dt), [Input(10.0, w, i + 1)])
        assert same_spikes(got[i], ref.spikes, dt), f"delay {i + 1}: {got[i]} != {ref.spikes}"
    first = np.array([g[0] for g in got])
    np.testing.assert_array_equal(np.diff(np.rint(first / dt)), np.ones(15))


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("tau_refrac", [0.1, 2.0, 5.0])
@pytest.mark.parametrize("cell", ["IF_curr_exp", "IF_curr_delta(mV)"])
def test_refractoriness(backend, cell, tau_refrac, dt):
    """A suprathreshold spike train every step from 10 to 30 ms: the output ISI is set by the
    refractory period (0.1 ms at dt = 0.5: one step, rounded up); input arriving while refractory
    is kept (IF_curr_exp: in I_syn) or lost (IF_curr_delta on NEST and sPyNNaker; Brian2 keeps it)."""
    net, c, w, times = net_refractory(cell, tau_refrac, dt)
    sim = run(net, backend, 60.0)
    ref = _check(sim, "n", c, backend.semantics, _n(60.0, dt), [Input(t, w, 1) for t in times], dt=dt)
    assert len(ref.spikes) >= 3


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("w_na", [0.7, 2.3, 16.0])
def test_delta_weight_units_are_equivalent(backend, w_na, dt):
    """IF_curr_delta(weight_units="nA") with w and weight_units="mV" with R(1−e^(−dt/τm))·w/dt
    must behave identically: the two meanings differ only in units."""
    jump = (20.0 / 1.0) * (1 - math.exp(-dt / 20.0)) / dt
    sims = []
    for units, w in (("nA", w_na), ("mV", w_na * jump)):
        net = nm.Network(dt=dt)
        net.spike_source("src", [[10.0, 11.0, 30.0]])
        net.population("n", 1, nm.IF_curr_delta(weight_units=units))
        net.connect("src", "n", nm.OneToOne(), weight=w, delay=2.0)
        net.record("n", "spikes", "v")
        sims.append(run(net, backend, 50.0))
    a, b = sims
    assert same_spikes(a.spikes("n")[0], b.spikes("n")[0], dt)
    np.testing.assert_allclose(a.trace("n", "v"), b.trace("n", "v"), rtol=0, atol=1e-9)


# -- the IF_curr_delta nA -> mV factor at dt != 1 ms ---------------------------------------------

def _delta_nA_jump_closed_form(tau_m, cm, dt):
    """sPyNNaker's IF_curr_delta: a weight of 1 nA is a current of 1/dt nA held for one step, so V
    moves by R(1 − e^(−dt/τm))/dt mV (R = τm/cm): 0.975412 mV at dt = 1 ms, 0.987604 at 0.5 ms —
    not 0.493802, which the same formula without the /dt gives at 0.5 ms."""
    return (tau_m / cm) * (1.0 - math.exp(-dt / tau_m)) / dt


def _one_nA_spike(c, dt):
    net = nm.Network(dt=dt)
    net.spike_source("src", [[10.0]])
    net.population("n", 1, c)
    net.connect("src", "n", nm.OneToOne(), weight=1.0, delay=dt)
    net.record("n", "spikes", "v")
    return net


NA_CELLS = {"defaults": nm.IF_curr_delta(weight_units="nA"),
            "tau10_cm0.5": nm.IF_curr_delta(weight_units="nA", tau_m=10.0, cm=0.5)}


@pytest.mark.parametrize("cell", list(NA_CELLS))
@pytest.mark.parametrize("dt", [0.5, 1.0, 0.1])
def test_reference_delta_nA_jump_closed_form(cell, dt):
    """Every reference semantics (and neuromorph.conversions, the one formula the backends use)
    gives the closed-form jump for one 1 nA spike onto a neuron at rest."""
    from neuromorph.conversions import delta_jump_per_nA
    c = NA_CELLS[cell]
    want = _delta_nA_jump_closed_form(c.tau_m, c.cm, dt)
    assert delta_jump_per_nA(c.tau_m, c.cm, dt) == pytest.approx(want, rel=1e-14)
    for sem in ("exact", "spinnaker", "brian2"):
        ref = neuron(c, sem, dt, _n(30.0, dt), [Input(10.0, 1.0, 1)])
        assert ref.v.max() - c.v_rest == pytest.approx(want, rel=1e-12), sem
    if dt == 0.5 and cell == "defaults":
        assert want == pytest.approx(0.987604, abs=1e-6)


@pytest.mark.parametrize("cell", list(NA_CELLS))
@pytest.mark.parametrize("dt", [0.5, pytest.param(0.1, marks=pytest.mark.slow)])
def test_delta_nA_jump_at_dt(backend, cell, dt):
    """IF_curr_delta(weight_units="nA") at dt ≠ 1 ms: one 1 nA spike onto a neuron at rest moves V
    by exactly R(1 − e^(−dt/τm))/dt (closed form computed here from math.exp), then V relaxes by
    e^(−dt/τm) per step; the reference of the backend's semantics agrees row for row."""
    c = NA_CELLS[cell]
    want = _delta_nA_jump_closed_form(c.tau_m, c.cm, dt)
    sim = run(_one_nA_spike(c, dt), backend, 30.0)
    v = sim.trace("n", "v")[:, 0]
    k = int(np.argmax(v))
    assert v[k] - c.v_rest == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert v[k - 1] == pytest.approx(c.v_rest, abs=1e-12)          # one jump, not a ramp
    assert v[k + 1] - c.v_rest == pytest.approx(want * math.exp(-dt / c.tau_m), rel=1e-9)
    ref = neuron(c, backend.semantics, dt, _n(30.0, dt), [Input(10.0, 1.0, 1)])
    np.testing.assert_allclose(v, ref.v, rtol=0, atol=V_TOL)
    assert len(sim.spikes("n")[0]) == 0
