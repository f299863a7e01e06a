"""SAL: the step function against the all-pairs closed form, the conservation law, the escape-noise
neuron against its firing probability, and the two alignment experiments."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neuromorph.backends.torch.mechanisms.escape import EscapeLeaky, escape_probability
from neuromorph.backends.torch.mechanisms.sal import SALParameters, sal_initial_state, sal_step
from neuromorph.models.sal import LAYER_CONFIG, layer_alignment, two_neuron_alignment

f64 = torch.float64


def _run(sx, sy, w_xy, w_yx, p):
    """Drive sal_step with spike rasters sx [T, n_x], sy [T, n_y] (batch 1)."""
    state = sal_initial_state(1, sx.shape[1], sy.shape[1])
    a = torch.as_tensor(w_xy, dtype=f64)[None]
    b = torch.as_tensor(w_yx, dtype=f64)[None]
    for t in range(sx.shape[0]):
        a, b, state, _ = sal_step(torch.as_tensor(sx[t], dtype=f64)[None], torch.as_tensor(sy[t], dtype=f64)[None], a, b, state, p)
    return a[0].numpy(), b[0].numpy()


def _pairs_reference(sx, sy, eta, tau, dt):
    """All-pairs closed form: Δ_xy = η[Σ_{t_y < t_x} e^{−(t_x−t_y)/τ} − Σ_{t_x < t_y} e^{−(t_y−t_x)/τ}]."""
    tx = [np.flatnonzero(sx[:, i]) * dt for i in range(sx.shape[1])]
    ty = [np.flatnonzero(sy[:, j]) * dt for j in range(sy.shape[1])]
    d = np.zeros((sx.shape[1], sy.shape[1]))
    for i, a in enumerate(tx):
        for j, b in enumerate(ty):
            lag = a[:, None] - b[None, :]           # t_x − t_y
            d[i, j] = eta * (np.exp(-lag[lag > 0] / tau).sum() - np.exp(lag[lag < 0] / tau).sum())
    return d


def test_single_pairs_follow_the_antisymmetric_window():
    p = SALParameters(tau=10.0, eta=0.1, dt=1.0)
    T = 20
    pre_first = np.zeros((T, 1)), np.zeros((T, 1))
    pre_first[0][3, 0] = 1       # x at 3, y at 8: pre before post → W_xy depresses, W_yx potentiates
    pre_first[1][8, 0] = 1
    a, b = _run(*pre_first, [[1.0]], [[0.4]], p)
    assert a[0, 0] == pytest.approx(1.0 - 0.1 * math.exp(-0.5), abs=1e-15)
    assert b[0, 0] == pytest.approx(0.4 + 0.1 * math.exp(-0.5), abs=1e-15)
    post_first = pre_first[1], pre_first[0]   # y at 3, x at 8: post before pre → W_xy potentiates
    a, b = _run(*post_first, [[1.0]], [[0.4]], p)
    assert a[0, 0] == pytest.approx(1.0 + 0.1 * math.exp(-0.5), abs=1e-15)
    same = np.zeros((T, 1)), np.zeros((T, 1))
    same[0][5, 0] = same[1][5, 0] = 1          # coincident: the two terms cancel
    a, b = _run(*same, [[1.0]], [[0.4]], p)
    assert a[0, 0] == 1.0 and b[0, 0] == 0.4


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_x=st.integers(1, 4), n_y=st.integers(1, 4), rate=st.floats(0.05, 0.5))
def test_random_trains_match_all_pairs_and_conserve_the_sum(seed, n_x, n_y, rate):
    rng = np.random.default_rng(seed)
    T, p = 60, SALParameters(tau=7.0, eta=0.01, dt=0.5)
    sx = (rng.random((T, n_x)) < rate).astype(float)
    sy = (rng.random((T, n_y)) < rate).astype(float)
    w0, v0 = rng.normal(size=(n_x, n_y)), rng.normal(size=(n_y, n_x))
    a, b = _run(sx, sy, w0, v0, p)
    np.testing.assert_allclose(a - w0, _pairs_reference(sx, sy, p.eta, p.tau, p.dt), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(a + b.T, w0 + v0.T, rtol=0, atol=1e-13)


def test_bounds_clip_the_change_and_keep_the_sum():
    p = SALParameters(tau=10.0, eta=0.5, dt=1.0, w_min=0.0, w_max=1.0)
    T = 40
    sx, sy = np.zeros((T, 1)), np.zeros((T, 1))
    sx[::4, 0] = 1
    sy[2::4, 0] = 1          # x always 2 ms before y: W_xy driven down, W_yx up
    a, b = _run(sx, sy, [[0.3]], [[0.6]], p)
    assert a[0, 0] == pytest.approx(0.0, abs=1e-15)      # stopped at w_min …
    assert b[0, 0] == pytest.approx(0.9, abs=1e-15)      # … so the partner gained only 0.3: sum kept
    a, b = _run(sx, sy, [[0.6]], [[0.9]], p)
    assert b[0, 0] == pytest.approx(1.0, abs=1e-15) and a[0, 0] == pytest.approx(0.5, abs=1e-15)   # w_max


def test_escape_leaky_fires_with_the_hazard_probability_and_is_seeded():
    u = torch.tensor([[-1.0, 0.0, 0.5]], dtype=f64).expand(20000, 3).clone()
    p_ref = 1 - np.exp(-20.0 * np.exp(np.array([-1.0, 0.0, 0.5]) / 0.5) / 1000.0)
    torch.testing.assert_close(escape_probability(u[:1], 20.0, 0.5, 0.0, 1.0)[0], torch.as_tensor(p_ref), rtol=1e-12, atol=0)

    def sample(seed):
        lif = EscapeLeaky(beta=0.0, rho0=20.0, delta_u=0.5, dt=1.0, generator=torch.Generator().manual_seed(seed))
        spk, _ = lif(u, torch.zeros_like(u))   # beta = 0: mem = input
        return spk
    s = sample(1)
    freq = s.mean(0).numpy()
    assert np.all(np.abs(freq - p_ref) < 5 * np.sqrt(p_ref * (1 - p_ref) / 20000) + 1e-12)
    assert torch.equal(s, sample(1)) and not torch.equal(s, sample(2))


def test_escape_leaky_carries_a_surrogate_gradient():
    lif = EscapeLeaky(beta=0.5, rho0=50.0, delta_u=1.0, generator=torch.Generator().manual_seed(0))
    x = torch.zeros(4, 3, requires_grad=True)
    spk, _ = lif(x + 0.2, torch.zeros(4, 3))
    spk.sum().backward()
    assert x.grad is not None and torch.all(x.grad > 0)


def test_two_neuron_alignment():
    r = two_neuron_alignment(epochs=600, seed=0)
    assert r.difference[0] == pytest.approx(1.0) and r.total[0] == pytest.approx(2.0)
    assert r.final_ratio <= 0.15
    assert r.sum_drift <= 1e-6


def test_layer_alignment():
    r = layer_alignment(n_in=50, n_out=20, epochs=200, seed=0)
    assert 80.0 <= r.angle[0] <= 100.0
    assert r.angle[-1] <= 20.0
    assert r.sum_drift <= 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_alignment_other_seeds_and_single_chain(seed):
    assert two_neuron_alignment(epochs=600, seed=seed).final_ratio <= 0.15
    assert layer_alignment(epochs=200, seed=seed).angle[-1] <= 20.0
    single = layer_alignment(epochs=1000, seed=seed, cfg=dataclasses.replace(LAYER_CONFIG, chains=1, eta=1e-3))
    assert single.angle[-1] <= 20.0
