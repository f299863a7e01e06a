"""Homeostasis: torch step functions and the network mechanisms against closed forms; the
calibration search against the analytic threshold factor of a delta-synapse neuron."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.backends.torch.mechanisms.homeostasis import (RateParameters, ScalingParameters, ScalingState,
                                                              ThresholdParameters, ThresholdState, rate_estimate_step,
                                                              synaptic_scaling_step, threshold_adaptation_step)
from neuromorph.mechanisms import (SynapticScaling, ThresholdAdaptation, WeightFactorCalibration, calibrate,
                                   smallest_firing_factor)

f64 = torch.float64


def test_rate_estimate_converges_to_the_geometric_series():
    # a spike every `period` steps: just after a spike the estimate tends to
    # (1000/dt)(1 − q) / (1 − q^period), q = exp(−dt/τ_r); its average over a period is exactly
    # the train's rate 1000/(period·dt) Hz
    p = RateParameters(rate_tau=50.0, dt=1.0)
    period = 4
    r = torch.zeros(1, 1, dtype=f64)
    trace = []
    for k in range(4000):
        r = rate_estimate_step(r, torch.tensor([[1.0 if k % period == 0 else 0.0]]), p)
        trace.append(float(r))
    q = math.exp(-p.dt / p.rate_tau)
    peak = (1000.0 / p.dt) * (1 - q) / (1.0 - q ** period)
    assert trace[-period] == pytest.approx(peak, rel=1e-12)
    assert np.mean(trace[-400:]) == pytest.approx(1000.0 / (period * p.dt), rel=1e-12)


def test_scaling_factor_closed_form_without_spikes():
    # no spikes: r_k = r0·e^{−k dt/τ_r}; ln g_n = ln g0 + (dt/τ) Σ_{k=1..n} (1 − r_k/ν*)
    p = ScalingParameters(target_rate=5.0, tau=200.0, rate_tau=40.0, factor_min=1e-3, factor_max=1e3, dt=0.5)
    st = ScalingState(torch.full((2, 3), 5.0, dtype=f64), torch.full((2, 3), 0.7, dtype=f64))
    n = 300
    for _ in range(n):
        st = synaptic_scaling_step(torch.zeros(2, 3), st, p)
    q = math.exp(-p.dt / p.rate_tau)
    geometric = 5.0 * q * (1 - q ** n) / (1 - q)
    expected = 0.7 * math.exp((p.dt / p.tau) * (n - geometric / p.target_rate))
    torch.testing.assert_close(st.factor, torch.full((2, 3), expected, dtype=f64), rtol=1e-12, atol=0)
    # clipped at factor_max
    p2 = p._replace(factor_max=0.75)
    st2 = ScalingState(torch.zeros(1, 1, dtype=f64), torch.full((1, 1), 0.7, dtype=f64))
    for _ in range(n):
        st2 = synaptic_scaling_step(torch.zeros(1, 1), st2, p2)
    assert float(st2.factor) == 0.75


def test_population_scope_uses_the_mean_rate():
    p = ScalingParameters(10.0, 100.0, 100.0, 1e-3, 1e3, 1.0, population_scope=True)
    st = ScalingState(torch.tensor([[0.0, 20.0]], dtype=f64), torch.ones(1, 1, dtype=f64))
    st = synaptic_scaling_step(torch.zeros(1, 2), st, p)
    mean_r = 10.0 * math.exp(-0.01)
    assert float(st.factor) == pytest.approx(math.exp(0.01 * (1 - mean_r / 10.0)), rel=1e-14)


def test_threshold_adaptation_closed_form():
    # constant estimate (τ_r huge, r0 = 2ν*): θ_n = n·(dt/τ)·step·(r/ν* − 1), until the clip
    p = ThresholdParameters(target_rate=4.0, tau=100.0, step=3.0, rate_tau=1e12, shift_min=-10.0, shift_max=2.0, dt=1.0)
    st = ThresholdState(torch.full((1, 2), 8.0, dtype=f64), torch.zeros(1, 2, dtype=f64))
    for _ in range(10):
        st = threshold_adaptation_step(torch.zeros(1, 2), st, p)
    torch.testing.assert_close(st.shift, torch.full((1, 2), 10 * 0.01 * 3.0, dtype=f64), rtol=1e-9, atol=0)
    for _ in range(100):
        st = threshold_adaptation_step(torch.zeros(1, 2), st, p)
    assert torch.all(st.shift == 2.0)


def test_smallest_firing_factor_matches_analytic_thresholds():
    drive = np.array([2.0, 0.5, 7.0, 0.0, 1e-3])   # fires iff h·drive ≥ 1
    fires = lambda h: h * drive >= 1.0  # noqa: E731
    h = smallest_firing_factor(fires, len(drive), factor_max=100.0, rtol=1e-6)
    expected = np.array([0.5, 2.0, 1 / 7.0, np.inf, np.inf])
    fin = np.isfinite(expected)
    assert np.array_equal(np.isfinite(h), fin)
    assert np.all(h[fin] >= expected[fin]) and np.all(h[fin] <= expected[fin] * (1 + 1e-6) + 1e-12)
    assert np.all(h[fin] * drive[fin] >= 1.0)


def _delta_net():
    # IF_curr_delta with weight_units="mV" (NEST iaf_psc_delta): V jumps by the summed weight of
    # coincident inputs, so the output fires iff h·Σw ≥ v_thresh − v_rest = 15 mV.
    net = nm.Network(dt=1.0, seed=0)
    net.spike_source("in", [[5.0], [5.0], [5.0], [5.0]])
    net.population("out", 1, nm.IF_curr_delta(weight_units="mV"))
    net.connect("in", "out", nm.AllToAll(), weight=np.array([[1.0], [2.0], [4.0], [8.0]]), label="w")
    net.record("out", "spikes")
    return net


def test_calibration_on_torch_matches_closed_form():
    net = _delta_net()
    pats = (((5.0,), (5.0,), (), ()), ((), (), (5.0,), (5.0,)), ((5.0,), (), (), ()), ((), (), (), ()))
    cal = WeightFactorCalibration("cal", ("w",), "in", "out", patterns=pats, run_ms=10.0, factor_max=10.0, rtol=1e-4)
    net.add(cal)
    res = calibrate(net, cal, backend="torch", numerics="exact")
    expected = np.array([15 / 3.0, 15 / 12.0, np.inf, np.inf])   # 15/1 > factor_max: undetectable
    assert np.array_equal(res.detectable, np.isfinite(expected))
    fin = np.isfinite(expected)
    assert np.all(res.per_pattern[fin] >= expected[fin] * (1 - 1e-12))
    assert np.all(res.per_pattern[fin] <= expected[fin] * (1 + 1e-4))
    assert res.factor == res.per_pattern[0]   # the max over detectable patterns


def _scaled_net(extension):
    net = nm.Network(dt=1.0, seed=0)
    net.population("src", 3, nm.IF_curr_exp())
    net.population("y", 2, nm.IF_curr_exp())
    net.connect("src", "y", nm.AllToAll(), weight=0.3, label="src->y")
    net.add(extension)
    return net


def test_scaling_mechanism_in_a_torch_simulation_follows_the_closed_form():
    hs = SynapticScaling("hs", "y", 5.0, tau=200.0, rate_tau=40.0, initial_factor=0.7)
    sim = nm.build(_scaled_net(hs), backend="torch", numerics="exact", batch=2)
    n = 300
    sim.run(float(n))                    # silent network: no spikes anywhere
    q = math.exp(-1.0 / 40.0)
    expected = 0.7 * math.exp((1.0 / 200.0) * (n - 5.0 * q * (1 - q ** n) / (1 - q) / 5.0))
    gain = sim.weight_gain["src->y"]
    torch.testing.assert_close(gain, torch.full((2, 1, 2), expected, dtype=gain.dtype), rtol=1e-12, atol=0)
    sim.reset()                          # back to the initial factor, not compounded
    torch.testing.assert_close(sim.weight_gain["src->y"], torch.full((2, 1, 2), 0.7, dtype=gain.dtype), rtol=1e-12, atol=0)


def test_threshold_mechanism_in_a_torch_simulation():
    ta = ThresholdAdaptation("ta", "y", 4.0, tau=100.0, step=3.0, rate_tau=1e12)
    sim = nm.build(_scaled_net(ta), backend="torch", numerics="exact")
    sim.run(10.0)
    # estimate starts at ν* and never sees a spike (τ_r huge): θ stays 0 …
    assert torch.all(sim.threshold_shift["y"].abs() < 1e-9)
    ta2 = ThresholdAdaptation("ta", "y", 4.0, tau=100.0, step=3.0, rate_tau=10.0)
    sim2 = nm.build(_scaled_net(ta2), backend="torch", numerics="exact")
    sim2.run(50.0)
    # … with τ_r = 10 ms it decays: θ_n = (dt/τ)·step·Σ_k (e^{−k/10} − 1)
    q = math.exp(-0.1)
    expected = 0.01 * 3.0 * (q * (1 - q ** 50) / (1 - q) - 50)
    torch.testing.assert_close(sim2.threshold_shift["y"], torch.full((1, 2), expected, dtype=torch.float64), rtol=1e-12, atol=0)
