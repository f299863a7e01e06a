"""IF_curr_alpha (NEST iaf_psc_alpha) and Izhikevich (NEST izhikevich): the torch ``exact``
profile against PyNN on NEST, single neurons, identical spike times and traces.

Scenarios per cell, each at dt = 1, 0.5 and 0.1 ms (spike times and delays on every grid):
(a) ``i_offset`` alone; (b) excitatory and inhibitory source spikes with delays of 1, 2 and 3 steps;
(c) refractoriness (IF_curr_alpha: input arriving while refractory is kept in the alpha current and
acts when V is released) / reset (Izhikevich has no refractory period: a bursting parameter set
exercises the ``v = c``, ``u += d`` reset many times). Both sides run in float64; the torch
lowerings reproduce NEST's propagators and operation order, so the traces agree to rounding (in
practice bit for bit; ``TOL`` leaves room for the summation order of coincident inputs).

Izhikevich weights are voltage jumps in mV; PyNN hands NEST ``(w·1000)·1e-3``, so the weights here
are ones that survive that round trip exactly (asserted).
"""
from __future__ import annotations

import numpy as np
import pytest

import neuromorph as nm

pytest.importorskip("pyNN.nest", reason="pyNN.nest (PyNN + NEST) is not importable here")

#: |ΔV| [mV], |Δisyn| [nA], |Δu| [mV/ms]
TOL = 1e-9
DTS = [pytest.param(1.0, id="dt=1"), pytest.param(0.5, id="dt=0.5"), pytest.param(0.1, id="dt=0.1")]
T_RUN = 100.0

ALPHA = nm.IF_curr_alpha(cm=0.5, tau_m=15.0, tau_syn_E=2.0, tau_syn_I=4.0, tau_refrac=3.0,
                         v_rest=-62.0, v_reset=-68.0, v_thresh=-52.0)
IZH = nm.Izhikevich()


def _with(cell, **changes):
    return type(cell)(**{**cell.parameters(), **changes})


def _izh_weight_ok(w: float) -> bool:
    return (w * 1000.0) * 1e-3 == w


def alpha_net(scenario: str, dt: float) -> nm.Network:
    net = nm.Network(dt=dt, seed=3)
    if scenario == "offset":
        net.population("n", 1, _with(ALPHA, i_offset=0.9), initial_values={"v": -60.0})
    elif scenario == "inputs":
        net.population("n", 1, _with(ALPHA, i_offset=0.3))
        net.spike_source("exc", [[10.0, 40.0, 41.0, 60.0, 61.0, 62.0], [25.0, 70.0]])
        net.spike_source("inh", [[20.0, 50.0], [75.0]])
        net.connect("exc", "n", nm.FromList([(0, 0, 1.5, 1 * dt), (1, 0, 2.5, 3 * dt)]), label="e")
        net.connect("inh", "n", nm.FromList([(0, 0, 2.0, 2 * dt), (1, 0, 3.0, 1 * dt)]), receptor="inhibitory", label="i")
    else:  # refractory: a strong input fires the neuron, more input arrives during its 5 ms refractory period
        net.population("n", 1, _with(ALPHA, tau_refrac=5.0))
        net.spike_source("exc", [[10.0, 13.0, 14.0, 40.0, 42.0, 43.0, 44.0]])
        net.spike_source("inh", [[12.0, 41.0]])
        net.connect("exc", "n", nm.FromList([(0, 0, 6.0, 1 * dt)]), label="e")
        net.connect("inh", "n", nm.FromList([(0, 0, 1.0, 2 * dt)]), receptor="inhibitory", label="i")
    net.record("n", "spikes", "v", "isyn_exc", "isyn_inh")
    return net


def izh_net(scenario: str, dt: float) -> nm.Network:
    net = nm.Network(dt=dt, seed=3)
    if scenario == "offset":  # tonic spiking, I = 10 mV/ms
        net.population("n", 1, _with(IZH, i_offset=0.01))
    elif scenario == "inputs":
        net.population("n", 1, _with(IZH, i_offset=0.004), initial_values={"v": -65.0, "u": -13.0})
        w_e, w_i = (4.0, 6.0), (2.5, 3.0)
        assert all(_izh_weight_ok(w) for w in w_e + w_i)
        net.spike_source("exc", [[10.0, 30.0, 31.0, 32.0, 60.0], [45.0, 46.0, 80.0]])
        net.spike_source("inh", [[20.0, 50.0], [70.0]])
        net.connect("exc", "n", nm.FromList([(0, 0, w_e[0], 1 * dt), (1, 0, w_e[1], 3 * dt)]), label="e")
        net.connect("inh", "n", nm.FromList([(0, 0, w_i[0], 2 * dt), (1, 0, w_i[1], 1 * dt)]), receptor="inhibitory", label="i")
    else:  # reset: chattering (a=0.02, b=0.2, c=-50, d=2), bursts of spikes each reset to c with u += d
        net.population("n", 1, nm.Izhikevich(a=0.02, b=0.2, c=-50.0, d=2.0, i_offset=0.01))
    net.record("n", "spikes", "v", "u")
    return net


NETS = {"IF_curr_alpha": (alpha_net, ("v", "isyn_exc", "isyn_inh")), "Izhikevich": (izh_net, ("v", "u"))}


def _run(net, backend):
    opts = {"numerics": "exact"} if backend == "torch" else {}
    sim = nm.build(net, backend=backend, **opts)
    sim.run(T_RUN)
    return sim


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("scenario", ["offset", "inputs", "refractory"])
@pytest.mark.parametrize("cell", list(NETS))
def test_torch_exact_equals_pynn_nest(cell, scenario, dt):
    make, variables = NETS[cell]
    net = make(scenario, dt)
    torch_sim = _run(net, "torch")
    nest_sim = _run(net, "pynn:nest")
    s_t, s_n = torch_sim.spikes("n")[0], nest_sim.spikes("n")[0]
    assert len(s_n) > 0, "the scenario should make the neuron fire"
    # the times themselves: the exact profile reads stamps on NEST's tic clock (52.5, not 52.50000000000001)
    np.testing.assert_array_equal(s_t, s_n)
    for var in variables:
        a, b = torch_sim.trace("n", var), nest_sim.trace("n", var)
        assert a.shape == b.shape == (round(T_RUN / dt), 1)
        assert np.max(np.abs(a - b)) <= TOL, f"{var}: max |Δ| = {np.max(np.abs(a - b)):.3g}"
    if scenario == "refractory" and cell == "IF_curr_alpha":
        # V is held at reset for n_ref steps after the spike step; the input during them acts afterwards
        v = nest_sim.trace("n", "v")[:, 0]
        k = int(round(s_n[0] / dt))
        n_ref = int(round(5.0 / dt))
        assert np.all(v[k:k + n_ref + 1] == ALPHA.v_reset)
        # first free update: V moves (here the current kept during refractoriness can fire it at once)
        stamps = np.round(s_n / dt).astype(int)
        assert v[k + n_ref + 1] != ALPHA.v_reset or (k + n_ref + 1) in stamps
