"""The fused training steps (backends/torch/cells/fused_training.py), the one-GEMM weight
gradient of dense projections (backends/torch/dense_grad.py) and the chunk's one product of a
spike source's trainable projection (TorchSimulation._source_products) against plain autograd.

References are independent of the code under test: the unfused NEST step functions differentiated
by autograd (the fused node is bypassed by a spike function that does not expose its surrogate),
and plain ``s @ W`` deliveries differentiated by autograd. Float64; gradients to 1e-12 relative
(to the largest entry: the one-GEMM weight gradient sums the steps in another order), spikes and
voltages identical.
"""
import contextlib
import math

import pytest
import snntorch
import torch

import neuromorph as nm
from neuromorph.backends.torch import dense_grad, engine
from neuromorph.backends.torch.cells.if_curr_delta import nest_delta_parameters, nest_delta_step
from neuromorph.backends.torch.cells.if_curr_exp import LIFExpState, nest_exp_parameters, nest_exp_step
from neuromorph.backends.torch.engine import make_fire

B, N, STEPS = 3, 40, 12
F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_gemm_for_small_matrices(monkeypatch):
    """The test networks are small: let their dense projections take the one-GEMM weight gradient
    (by default only matrices of dense_grad.MIN_ENTRIES entries or more do)."""
    monkeypatch.setattr(dense_grad, "MIN_ENTRIES", 0)


@contextlib.contextmanager
def _deliveries(fused: bool):
    """Unless ``fused``: plain per-step ``s @ W`` deliveries differentiated by autograd — neither
    the one-GEMM weight gradient (dense_grad.py) nor the chunk's source product
    (TorchSimulation._source_products)."""
    before = dense_grad.AVAILABLE, engine.SOURCE_PRODUCTS
    if not fused:
        dense_grad.AVAILABLE, engine.SOURCE_PRODUCTS = False, False
    try:
        yield
    finally:
        dense_grad.AVAILABLE, engine.SOURCE_PRODUCTS = before


def _unfused(fire):
    """The same spike function without ``spike_grad``: the cell steps then run unfused."""
    return lambda v, thr: fire(v, thr)


def _inputs(seed, n_ref, with_extra):
    """Random inputs for STEPS steps: excitatory/inhibitory input [STEPS, B, N] (weight units),
    an extra current [B, N] nA (or None), initial V [B, N] (mV rel. E_L) and refractory counts."""
    g = torch.Generator().manual_seed(seed)
    exc = (torch.rand(STEPS, B, N, generator=g, dtype=F64) * 6.0).requires_grad_()
    inh = (torch.rand(STEPS, B, N, generator=g, dtype=F64) * 2.0).requires_grad_()
    extra = (torch.rand(B, N, generator=g, dtype=F64) * 0.5).requires_grad_() if with_extra else None
    v0 = (torch.rand(B, N, generator=g, dtype=F64) * 14.0).requires_grad_()
    refrac = torch.randint(0, n_ref + 1, (B, N), generator=g) if n_ref else torch.zeros(B, N, dtype=torch.int64)
    return exc, inh, extra, v0, refrac


def _run(step, p, fire, state, exc, inh, extra, thr, out_weights):
    """STEPS steps; returns the spikes, the final state and a scalar loss mixing spikes and V so
    that every backward path (surrogate, reset, leak, refractory hold) carries gradient."""
    spikes, loss = [], 0.0
    for k in range(STEPS):
        spk, state, _ = step(p, state, exc[k], inh[k], extra, thr, fire)
        spikes.append(spk)
        loss = loss + (spk * out_weights[0][k]).sum() + (state.v * out_weights[1][k]).sum()
    return torch.stack(spikes), state, loss


def _grads(loss, tensors):
    return torch.autograd.grad(loss, [t for t in tensors if t is not None], allow_unused=True)


def _assert_close(a, b):
    scale = max(float(b.abs().max()), 1e-300)
    assert float((a - b).abs().max()) <= 1e-12 * scale, float((a - b).abs().max()) / scale


CELLS = {
    "delta": (nm.IF_curr_delta, nest_delta_parameters, nest_delta_step, {}),
    "delta-nA": (nm.IF_curr_delta, nest_delta_parameters, nest_delta_step, {"weight_units": "nA"}),
    "exp": (nm.IF_curr_exp, nest_exp_parameters, nest_exp_step, {}),
}


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("tau_refrac,with_extra,i_offset", [(0.0, False, 0.0), (2.0, True, 0.3), (3.0, False, 0.2)])
@pytest.mark.parametrize("surrogate", ["atan", "fast_sigmoid"])
def test_fused_step_equals_autograd_of_the_unfused_step(cell, tau_refrac, with_extra, i_offset, surrogate):
    """Spikes and V identical, gradients of V0, inputs and extra current within 1e-12, with and
    without refractoriness, an extra current and i_offset; snnTorch's surrogate (two of them)."""
    ctype, params, step, kw = CELLS[cell]
    c = ctype(tau_m=20.0, tau_refrac=tau_refrac, v_rest=-65.0, v_reset=-70.0, v_thresh=-55.0, i_offset=i_offset, **kw)
    p = params(c, 1.0)
    fire = make_fire(getattr(snntorch.surrogate, surrogate)())
    exc, inh, extra, v0, refrac = _inputs(7, p.n_ref, with_extra)
    g = torch.Generator().manual_seed(3)
    out_w = (torch.randn(STEPS, B, N, generator=g, dtype=F64), torch.randn(STEPS, B, N, generator=g, dtype=F64))
    results = []
    for f in (fire, _unfused(fire)):
        if cell == "exp":
            i0 = torch.rand(B, N, dtype=F64, generator=torch.Generator().manual_seed(5)) * 400.0
            state = LIFExpState(v0, i0.clone().requires_grad_(), (i0 * 0.3).requires_grad_(), refrac)
            leaves = [v0, exc, inh, extra, state.i_exc, state.i_inh]
        else:
            state = LIFExpState(v0, torch.zeros_like(v0), torch.zeros_like(v0), refrac)
            leaves = [v0, exc, inh, extra]
        spikes, final, loss = _run(step, p, f, state, exc, inh, extra, p.threshold, out_w)
        results.append((spikes.detach(), final, _grads(loss, leaves)))
    (s_f, st_f, g_f), (s_u, st_u, g_u) = results
    assert 0 < float(s_u.sum()) < s_u.numel()           # some neurons fire, some do not
    if p.n_ref:
        assert bool((st_u.refrac > 0).any())            # and some are held refractory
    assert torch.equal(s_f, s_u)
    assert torch.equal(st_f.v, st_u.v) and torch.equal(st_f.refrac, st_u.refrac)
    assert torch.equal(st_f.i_exc, st_u.i_exc) and torch.equal(st_f.i_inh, st_u.i_inh)
    for a, b in zip(g_f, g_u):
        assert (a is None) == (b is None)
        if a is not None:
            assert float(b.abs().max()) > 0
            _assert_close(a, b)


def test_fused_step_is_one_autograd_node():
    c = nm.IF_curr_delta(tau_refrac=0.0)
    p = nest_delta_parameters(c, 1.0)
    v = torch.zeros(B, N, dtype=F64, requires_grad=True)
    state = LIFExpState(v, torch.zeros_like(v), torch.zeros_like(v), torch.zeros(B, N, dtype=torch.int64))
    spk, new, _ = nest_delta_step(p, state, torch.ones(B, N, dtype=F64), torch.zeros(B, N, dtype=F64), None,
                                  p.threshold, make_fire(snntorch.surrogate.atan()))
    assert type(spk.grad_fn).__name__ == "NestDeltaStepBackward" and new.v.grad_fn is spk.grad_fn


def test_a_surrogate_that_is_no_chain_still_gives_autograd_s_gradient():
    """A spike_grad whose graph branches (not one node after another) goes through autograd
    inside the fused backward: the same gradients."""
    atan = snntorch.surrogate.atan()

    def branching(x):
        return 0.5 * atan(x) + 0.5 * atan(x * 1.0)

    c = nm.IF_curr_delta(tau_refrac=2.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0)
    p = nest_delta_parameters(c, 1.0)
    fire = make_fire(branching)
    exc, inh, extra, v0, refrac = _inputs(11, p.n_ref, False)
    out_w = (torch.ones(STEPS, B, N, dtype=F64), torch.full((STEPS, B, N), 0.1, dtype=F64))
    grads = []
    for f in (fire, _unfused(fire)):
        state = LIFExpState(v0, torch.zeros_like(v0), torch.zeros_like(v0), refrac)
        _, _, loss = _run(nest_delta_step, p, f, state, exc, inh, extra, p.threshold, out_w)
        grads.append(_grads(loss, [v0, exc]))
    for a, b in zip(*grads):
        _assert_close(a, b)


# -- whole networks: fused steps + one-GEMM weight gradient against plain autograd ----------------
def _network(cell, h=30, n_in=20, n_out=4, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    net = nm.Network(dt=1.0, seed=seed)
    net.spike_source("in", [[] for _ in range(n_in)])
    net.population("hid", h, cell)
    net.population("out", n_out, cell)
    scale = 1.0 if isinstance(cell, nm.IF_curr_delta) else 0.25
    net.connect("in", "hid", nm.AllToAll(), weight=rng.uniform(0, 3.0 * scale, (n_in, h)), delay=1.0, label="in->hid")
    net.connect("hid", "out", nm.AllToAll(), weight=rng.uniform(0, 2.0 * scale, (h, n_out)), delay=1.0, label="hid->out")
    return net


def _train_grads(net, x, fused: bool, trainable_biases=()):
    sim = nm.build(net, backend="torch", numerics="exact", dtype=F64, batch=x.shape[1],
                   trainable=["in->hid", "hid->out"], trainable_biases=trainable_biases)
    if not fused:   # unfused cell steps, plain s @ W deliveries
        sim._fire = _unfused(sim._fire)
    with _deliveries(fused):
        out = sim.forward(float(x.shape[0]), outputs=["hid", "out"], inputs={"in": x})
    g = torch.Generator().manual_seed(1)
    loss = ((out["out"].sum(0) - 3.0) ** 2).sum() + (out["hid"] * torch.rand(out["hid"].shape, generator=g, dtype=F64)).sum()
    loss.backward()
    params = dict(sim.named_parameters())
    return out, {k: v.grad.clone() for k, v in params.items()}


@pytest.mark.parametrize("cell", [nm.IF_curr_delta(tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0),
                                  nm.IF_curr_exp(tau_refrac=1.0)], ids=["delta", "exp"])
def test_training_a_network_fused_equals_plain_autograd(cell):
    """sim.forward + backward through two trainable AllToAll projections (and a trainable bias):
    the same spikes, and weight and bias gradients within 1e-12 of plain autograd."""
    g = torch.Generator().manual_seed(2)
    x = (torch.rand(40, 3, 20, generator=g) < 0.3).to(F64)
    net = _network(cell)
    out_f, g_f = _train_grads(net, x, True, trainable_biases=["hid"])
    out_u, g_u = _train_grads(net, x, False, trainable_biases=["hid"])
    assert float(out_u["out"].detach().sum()) > 0 and float(out_u["hid"].detach().sum()) > 0
    assert torch.equal(out_f["out"], out_u["out"]) and torch.equal(out_f["hid"], out_u["hid"])
    assert set(g_f) == set(g_u) and len(g_f) == 3
    for k in g_u:
        assert float(g_u[k].abs().max()) > 0, k
        _assert_close(g_f[k], g_u[k])


def test_a_source_projection_is_one_product_per_chunk(monkeypatch):
    """In a training run the spike source's trainable projection is delivered from one product
    per chunk (and only then: not outside training, not in the plain reference)."""
    made = []
    real = engine.TorchSimulation._source_products

    def spy(self, windows):
        out = real(self, windows)
        made.append(sorted(out))
        return out

    monkeypatch.setattr(engine.TorchSimulation, "_source_products", spy)
    g = torch.Generator().manual_seed(2)
    x = (torch.rand(20, 3, 20, generator=g) < 0.3).to(F64)
    net = _network(nm.IF_curr_delta(tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0))
    _train_grads(net, x, True)
    assert made == [["in->hid"]]
    _train_grads(net, x, False)
    assert made[1:] == [[]]
    sim = nm.build(net, backend="torch", numerics="exact", dtype=F64, batch=3, trainable=["in->hid"])
    sim.set_input("in", x)
    with torch.no_grad():   # nothing recorded: the event path
        sim.run(20.0)
    assert made[2:] == [[]]


def test_the_source_product_by_blocks_of_steps_gives_the_same_gradients(monkeypatch):
    """A product bounded to blocks of 7 steps (of 20): the same spikes and gradients as plain
    autograd."""
    monkeypatch.setattr(engine, "CHUNK_PRODUCT_ENTRIES", 7 * 3 * 30)
    g = torch.Generator().manual_seed(5)
    x = (torch.rand(20, 3, 20, generator=g) < 0.3).to(F64)
    net = _network(nm.IF_curr_exp(tau_refrac=1.0))
    out_f, g_f = _train_grads(net, x, True)
    out_u, g_u = _train_grads(net, x, False)
    assert torch.equal(out_f["hid"], out_u["hid"]) and float(out_u["hid"].detach().sum()) > 0
    for k in g_u:
        assert float(g_u[k].abs().max()) > 0, k
        _assert_close(g_f[k], g_u[k])


def test_one_gemm_weight_gradient_survives_a_partial_backward_pass():
    """``torch.autograd.grad`` for the output spikes' inputs only (the weight sinks never run)
    leaves nothing behind: the following full backward gives plain autograd's weight gradient."""
    g = torch.Generator().manual_seed(4)
    x = (torch.rand(30, 2, 20, generator=g) < 0.3).to(F64).requires_grad_()
    cell = nm.IF_curr_delta(tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0)
    grads = []
    for fused in (True, False):
        sim = nm.build(_network(cell), backend="torch", numerics="exact", dtype=F64, batch=2,
                       trainable=["in->hid", "hid->out"])
        with _deliveries(fused):
            out = sim.forward(30.0, outputs=["out"], inputs={"in": x})["out"]
        loss = (out.sum(0) ** 2).sum()
        torch.autograd.grad(loss, [x], retain_graph=True)    # a pass that stops short of the weights
        loss.backward()
        grads.append({k: v.grad.clone() for k, v in sim.named_parameters()})
    for k in grads[1]:
        assert float(grads[1][k].abs().max()) > 0
        _assert_close(grads[0][k], grads[1][k])


def test_the_bench_training_step_still_matches_plain_autograd_in_float32():
    """The benchmark's configuration (float32, IF_curr_delta, batch 16) at a small size: the
    same spikes and loss as plain autograd; weight gradients equal to float32 rounding."""
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(50, 16, 20, generator=g) < 0.3).to(torch.float32)
    cell = nm.IF_curr_delta(tau_m=20.0, tau_refrac=0.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0)
    res = []
    for fused in (True, False):
        sim = nm.build(_network(cell), backend="torch", numerics="exact", dtype=torch.float32, batch=16,
                       trainable=["in->hid", "hid->out"])
        if not fused:
            sim._fire = _unfused(sim._fire)
        with _deliveries(fused):
            out = sim.forward(50.0, outputs=["out"], inputs={"in": x})["out"]
        loss = ((out.sum(0) - 5.0) ** 2).mean()
        loss.backward()
        res.append((out.detach(), {k: v.grad.clone() for k, v in sim.named_parameters()}))
    assert torch.equal(res[0][0], res[1][0]) and float(res[0][0].sum()) > 0
    for k, b in res[1][1].items():
        a = res[0][1][k]
        assert float((a - b).abs().max()) <= 1e-5 * float(b.abs().max()) + 1e-30, k
    assert math.isfinite(float(loss.detach()))


def test_refractory_counters_left_running_count_down_without_a_refractory_period():
    """tau_refrac = 0 (n_ref = 0) with counters still running from an earlier tau_refrac
    (set_parameters): the fused step holds those neurons as the unfused one does."""
    c = nm.IF_curr_delta(tau_refrac=0.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0)
    p = nest_delta_parameters(c, 1.0)
    assert p.n_ref == 0
    fire = make_fire(snntorch.surrogate.atan())
    exc, inh, extra, v0, _ = _inputs(13, 0, False)
    refrac = torch.randint(0, 4, (B, N), generator=torch.Generator().manual_seed(2))
    out_w = (torch.ones(STEPS, B, N, dtype=F64), torch.full((STEPS, B, N), 0.1, dtype=F64))
    res = []
    for f in (fire, _unfused(fire)):
        state = LIFExpState(v0, torch.zeros_like(v0), torch.zeros_like(v0), refrac)
        spikes, final, loss = _run(nest_delta_step, p, f, state, exc, inh, extra, p.threshold, out_w)
        res.append((spikes.detach(), final.v.detach(), _grads(loss, [v0, exc])))
    assert torch.equal(res[0][0], res[1][0]) and torch.equal(res[0][1], res[1][1])
    for a, b in zip(res[0][2], res[1][2]):
        _assert_close(a, b)


def test_a_sparse_trainable_projection_held_dense_trains_as_plain_autograd():
    """FixedProbability(0.5), trainable: held dense with a mask (W · mask each step, so no
    one-GEMM gradient); the fused cells still give plain autograd's spikes and gradients, and the
    gradient stays 0 where there is no synapse."""
    import numpy as np
    cell = nm.IF_curr_delta(tau_refrac=1.0, v_rest=0.0, v_reset=0.0, v_thresh=1.0)
    net = nm.Network(dt=1.0, seed=3)
    net.spike_source("in", [[] for _ in range(20)])
    net.population("out", 12, cell)
    net.connect("in", "out", nm.FixedProbability(0.5), weight=0.8, delay=1.0, label="in->out")
    g = torch.Generator().manual_seed(6)
    x = (torch.rand(30, 2, 20, generator=g) < 0.4).to(F64)
    res = []
    for fused in (True, False):
        sim = nm.build(net, backend="torch", numerics="exact", dtype=F64, batch=2, trainable=["in->out"])
        assert sim.static["in->out"].dense and not sim.static["in->out"].full
        if not fused:
            sim._fire = _unfused(sim._fire)
        with _deliveries(fused):
            out = sim.forward(30.0, outputs=["out"], inputs={"in": x})["out"]
        ((out.sum(0) - 4.0) ** 2).sum().backward()
        res.append((out.detach(), sim.trainable["in->out"].grad.clone(), sim.static["in->out"].mask))
    assert torch.equal(res[0][0], res[1][0]) and float(res[0][0].sum()) > 0
    _assert_close(res[0][1], res[1][1])
    assert float(res[0][1][0][~res[0][2]].abs().max()) == 0.0
    assert np.isfinite(res[0][1].numpy()).all()
