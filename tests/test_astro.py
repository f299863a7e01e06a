"""Astrocytes (Li–Rinzel / Nadkarni–Jung, NEST astrocyte_lr_1994) in torch, and AM-SU.

References: the GSL rkf45 tableau's consistency conditions, the closed-form IP3 relaxation, the
Nadkarni–Jung output formula with math.log, conservation/no-change laws of the couplings. The
calcium trace against NEST itself is in tests/parity/test_mechanisms.py.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.backends.torch.mechanisms import astrocyte as A
from neuromorph.mechanisms import AstrocyteLR1994, Astrocytes, SlowInwardCurrent, STDPGate, SynapticGain


def test_rkf45_tableau_is_consistent():
    a, c = A._tableau(torch.float64, None)
    ah = torch.tensor((0.0,) + A._AH, dtype=torch.float64)
    torch.testing.assert_close(a.sum(dim=1), ah, rtol=0, atol=1e-15)     # c_i = Σ_j a_ij
    assert float(c.sum()) == pytest.approx(1.0, abs=1e-15)                 # Σ b_i = 1
    assert float((c * ah).sum()) == pytest.approx(0.5, abs=1e-15)          # order 2 condition
    assert float((c * ah ** 4).sum()) == pytest.approx(1 / 5, abs=1e-15)    # order 5 quadrature condition


def test_ip3_relaxes_as_the_closed_form():
    # dIP3/dt = (IP3_0 − IP3)/tau_IP3 is decoupled: IP3(t) = IP3_0 + (IP3(0) − IP3_0)·exp(−t/tau)
    dyn = AstrocyteLR1994(IP3=2.5, tau_IP3=300.0)
    p = A.lr1994_parameters(dyn)
    st = A.lr1994_initial_state(dyn, (2, 3))
    h, n = 0.5, 2000
    for _ in range(n):
        st, _ = A.lr1994_step(p, st, 0.0, h)
    exact = dyn.IP3_0 + (2.5 - dyn.IP3_0) * math.exp(-n * h / 300.0)
    torch.testing.assert_close(st.IP3, torch.full((2, 3), exact, dtype=torch.float64), rtol=1e-12, atol=0)


def test_spike_input_adds_delta_ip3_per_unit_weight_after_the_step():
    dyn = AstrocyteLR1994(delta_IP3=0.2)
    p = A.lr1994_parameters(dyn)
    st = A.lr1994_initial_state(dyn, (1, 2))
    no, _ = A.lr1994_step(p, st, torch.zeros(1, 2, dtype=torch.float64), 0.1)
    yes, _ = A.lr1994_step(p, st, torch.tensor([[1.0, 2.5]], dtype=torch.float64), 0.1)
    torch.testing.assert_close(yes.IP3 - no.IP3, torch.tensor([[0.2, 0.5]], dtype=torch.float64), rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(yes.Ca_astro, no.Ca_astro, rtol=0, atol=0)


def test_sic_output_formula():
    p = A.lr1994_parameters(AstrocyteLR1994(SIC_scale=1.7))
    ca = torch.tensor([0.0, 0.19669, 0.19769, 0.19770, 0.5, 1.9], dtype=torch.float64)
    got = A.sic_output(p, ca)
    ref = [1.7 * math.log((c - 0.19669) * 1000.0) if (c - 0.19669) * 1000.0 > 1.0 else 0.0 for c in ca.tolist()]
    torch.testing.assert_close(got, torch.tensor(ref, dtype=torch.float64), rtol=1e-15, atol=0)


def _astro_net(coupling=(), n=3, dt=1.0, rate_ms=25.0, t_end=3000.0, delta_IP3=0.2, input_delay=None):
    net = nm.Network(dt=dt, seed=0)
    rng = np.random.default_rng(1)
    times = [sorted(set(np.round(rng.uniform(dt, t_end - 10 * dt, size=int(t_end / rate_ms)) / dt) * dt)) for _ in range(n)]
    net.spike_source("src", times)
    net.population("y", n, nm.IF_curr_exp())
    net.connect("src", "y", nm.OneToOne(), weight=0.0, label="src->y")
    net.add(Astrocytes("astro", n, covers=("src->y",), dynamics=AstrocyteLR1994(delta_IP3=delta_IP3),
                       input_weight=1.5, input_delay=input_delay, coupling=coupling, record=("IP3", "Ca_astro", "SIC")))
    return net, times


def _reference_trace(times, n, steps, dt, delay_steps, offset, w=1.5, delta_IP3=0.2):
    """lr1994_step driven directly: a spike at t is read in step t/dt − offset + delay."""
    S = np.zeros((steps, n))
    for j, row in enumerate(times):
        for t in row:
            k = int(round(t / dt)) - offset + delay_steps
            if k < steps:
                S[k, j] += w
    dyn = AstrocyteLR1994(delta_IP3=delta_IP3)
    p = A.lr1994_parameters(dyn)
    st = A.lr1994_initial_state(dyn, (1, n))
    out = []
    for k in range(steps):
        st, sic = A.lr1994_step(p, st, torch.as_tensor(S[k])[None], dt)
        out.append(st.Ca_astro[0].numpy().copy())
    return np.array(out)


@pytest.mark.parametrize("numerics,offset", [("exact", 1), ("spinnaker-float", 0)])
def test_astrocytes_in_a_torch_network_see_the_spikes_with_the_input_delay(numerics, offset):
    net, times = _astro_net(n=2, t_end=1500.0, input_delay=2.0)
    sim = nm.build(net, backend="torch", numerics=numerics)
    sim.run(1500.0)
    mech = next(m for m in sim.mechanisms if m.label == "astro")
    ca = mech.trace("Ca_astro")[:, 0, :]
    ref = _reference_trace(times, 2, 1500, 1.0, 2, offset)
    np.testing.assert_allclose(ca, ref, rtol=1e-13, atol=0)
    assert ca.max() > 0.25   # the input drove Ca well above SIC_th


def test_slow_inward_current_and_gain_follow_the_astrocyte_output():
    D = 3
    net, _ = _astro_net(coupling=(SlowInwardCurrent(weight=0.02, delay=float(D)), SynapticGain(gain=0.5)), n=3)
    sim = nm.build(net, backend="torch", numerics="exact")
    sim.run(3000.0)
    mech = next(m for m in sim.mechanisms if m.label == "astro")
    sic = mech.trace("SIC")[:, 0, :]
    ca = mech.trace("Ca_astro")[:, 0, :]
    ref_sic = np.array([[math.log((c - 0.19669) * 1000.0) if (c - 0.19669) * 1000.0 > 1.0 else 0.0 for c in row] for row in ca])
    np.testing.assert_allclose(sic, ref_sic, rtol=1e-14, atol=0)
    assert sic[-1].min() > 0.5
    # the SIC of step k + 1 − D is the current of the update of step k + 1 (k = last step)
    n = sic.shape[0]
    np.testing.assert_allclose(sim.extra_current["y"].numpy()[0], 0.02 * sic[n - D], rtol=1e-14)
    np.testing.assert_allclose(sim.weight_gain["src->y"].numpy()[0, 0], 1 + 0.5 * sic[-1], rtol=1e-14)
    sim.reset()   # contributions withdrawn, not compounded
    np.testing.assert_allclose(sim.extra_current["y"].numpy(), 0.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(sim.weight_gain["src->y"].numpy(), 1.0, rtol=1e-13)


def _stdp_net(threshold):
    net = nm.Network(dt=1.0, seed=0)
    net.spike_source("pre", [[10.0, 30.0, 50.0, 70.0, 90.0]] * 4)
    net.spike_source("post_drive", [[12.0, 32.0, 52.0, 72.0]] * 4)
    net.population("post", 4, nm.IF_curr_delta(weight_units="mV"))
    net.connect("post_drive", "post", nm.OneToOne(), weight=30.0, label="drive")
    net.connect("pre", "post", nm.OneToOne(), weight=0.5, label="plastic",
                plasticity=nm.STDP(nm.SpikePairRule(tau_plus=10.0, tau_minus=10.0, A_plus=0.1, A_minus=0.05),
                                   nm.Additive(w_max=1.0)))
    if threshold is not None:
        net.add(Astrocytes("astro", 2, covers=("plastic",), coupling=(STDPGate(threshold=threshold),)))
    return net


def test_stdp_gate_closed_freezes_and_open_passes_the_weights():
    def run(threshold):
        sim = nm.build(_stdp_net(threshold), backend="torch", numerics="exact")
        sim.run(120.0)
        return np.diag(sim.weights("plastic"))
    free = run(None)
    assert np.all(np.abs(free - 0.5) > 1e-3)           # STDP changed every weight
    np.testing.assert_array_equal(run(5.0), np.full(4, 0.5))   # Ca (0.073 µM) never above 5 µM: frozen
    np.testing.assert_array_equal(run(0.0), free)              # Ca always above 0: no effect


# -- AM-SU ---------------------------------------------------------------------------------------
from neuromorph.models.astro import AMSU, AstroLeaky, AMSUNet, LIFNet, CueRecallTask, count_parameters, retention_benchmark  # noqa: E402


def test_astro_leaky_spikes_on_membrane_plus_offset_and_resets_by_subtraction():
    lif = AstroLeaky(beta=0.5, threshold=1.0)
    mem = torch.zeros(1, 2)
    spk, mem = lif(torch.tensor([[0.6, 0.6]]), torch.tensor([[0.5, 0.0]]), mem)
    assert spk.tolist() == [[1.0, 0.0]]                  # u + o = 1.1 ≥ 1 only for unit 0
    torch.testing.assert_close(mem, torch.tensor([[0.6, 0.6]]))
    spk, mem = lif(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 0.0]]), mem)
    torch.testing.assert_close(mem, torch.tensor([[0.5 * 0.6 - 1.0, 0.3]]))   # unit 0 lost ϑ = 1


def test_amsu_state_is_the_decayed_sum_of_outer_products():
    torch.manual_seed(0)
    layer = AMSU(n_in=5, n=4, d_key=3, gamma=0.9).double()
    x = (torch.rand(12, 2, 5) < 0.4).double()
    state = layer.init_state(2, dtype=torch.float64)
    for t in range(12):
        _, state = layer(x[t], state)
    ref = sum(0.9 ** (11 - t) * torch.einsum("bn,bd->bnd", layer.w_v(x[t]), layer.w_k(x[t])) for t in range(12))
    torch.testing.assert_close(state[1], ref, rtol=1e-12, atol=1e-14)


def test_amsu_trains_through_the_surrogate_gradient():
    torch.manual_seed(0)
    task = CueRecallTask()
    net = AMSUNet(task.n_in, task.n_classes)
    x, y, rec = task.batch(5, 16, torch.Generator().manual_seed(0))
    torch.nn.functional.cross_entropy(net(x, rec), y).backward()
    for name in ("w_u", "w_v", "w_k", "w_q"):
        assert getattr(net.layer, name).weight.grad.abs().sum() > 0, name


def test_same_number_of_trainable_parameters():
    task = CueRecallTask()
    assert count_parameters(AMSUNet(task.n_in, task.n_classes)) == count_parameters(LIFNet(task.n_in, task.n_classes)) == 468


def test_retention_benchmark_small():
    r = retention_benchmark(delays=(10, 50), seed=0, iters=150)
    assert r.parameters["AM-SU"] == r.parameters["LIF"]
    assert r.amsu[0] >= 0.9 and r.lif[0] >= 0.9          # short delay: both remember
    assert r.amsu[-1] >= r.lif[-1] + 0.20                 # longest delay: AM-SU ≥ LIF + 20 points


@pytest.mark.slow
def test_retention_benchmark_full():
    r = retention_benchmark(delays=(10, 50, 100, 200), seed=0)
    print(r.table())
    assert r.amsu[-1] >= r.lif[-1] + 0.20
