"""The torch engine (issue 8): sparse storage, the three delivery paths, float32, tensor inputs,
list-form weights, memory refusal, and capability tables generated from the registry.

References are independent of the path under test: a second delivery path of the engine (dense
matmul vs event scatter), the spike-time-list input path, float64 for float32, the description's
own synapse lists, and closed-form sums.
"""
import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.backends.torch import capabilities, synapses
from neuromorph.backends.torch.memory import estimate_bytes
from neuromorph.errors import SimulationError, ValidationError


def _ei(n=200, delays=1.0, seed=3, stdp=True):
    net = nm.Network(dt=1.0, seed=seed)
    inp = net.poisson_source("in", 100, 20.0)
    e = net.population("E", int(n * 0.8), nm.IF_curr_exp())
    i = net.population("I", n - int(n * 0.8), nm.IF_curr_exp())
    rule = nm.STDP(nm.SpikePairRule(20, 20, 0.01, 0.012), nm.Additive(0, 1.0)) if stdp else None
    net.connect(inp, e, nm.FixedProbability(0.2), weight=1.2, label="in-E")
    net.connect(inp, i, nm.FixedProbability(0.2), weight=1.2, label="in-I")
    net.connect(e, e, nm.FixedProbability(0.1), weight=0.3, delay=delays, plasticity=rule, label="EE")
    net.connect(e, i, nm.FixedProbability(0.1), weight=0.3, delay=delays, label="EI")
    net.connect(i, e, nm.FixedProbability(0.1), weight=0.8, delay=delays, receptor="inhibitory", label="IE")
    net.record(e, "spikes", "v")
    net.record(i, "spikes")
    net.record("EE", "weights", every=50)
    return net


def _spikes(sim, label):
    return [np.asarray(s) for s in sim.spikes(label)]


@pytest.mark.parametrize("numerics", ["exact", "spinnaker", "spinnaker-float"])
def test_dense_and_event_delivery_agree(numerics, monkeypatch):
    """The dense matmul path and the event-driven scatter (padded rows or CSR expansion) give the
    same spikes and V (float64; only the order of the sums differs)."""
    net = _ei()
    runs = {}
    for mode in ("dense", "padded", "csr"):
        monkeypatch.setattr(synapses, "DENSE_SMALL", 1 << 30 if mode == "dense" else 0)
        monkeypatch.setattr(synapses, "DENSE_FRACTION", 0.0 if mode == "dense" else 2.0)
        monkeypatch.setattr(synapses, "PAD_WASTE", 1e9 if mode == "padded" else -1.0)
        sim = nm.build(net, numerics=numerics)
        assert all(sp.dense == (mode == "dense") for sp in sim.static.values())
        assert all((sp.pad is not None) == (mode == "padded") for sp in sim.static.values())
        sim.run(300.0)
        runs[mode] = sim
    a = runs["dense"]
    for b in (runs["padded"], runs["csr"]):
        for label in ("E", "I"):
            for x, y in zip(_spikes(a, label), _spikes(b, label)):
                np.testing.assert_array_equal(x, y)
        np.testing.assert_allclose(a.trace("E", "v"), b.trace("E", "v"), rtol=0, atol=1e-9)
        np.testing.assert_array_equal(a.weights("EE", format="list")[2], b.weights("EE", format="list")[2])


def test_heterogeneous_delays_deliver_each_synapse_at_its_delay():
    """One pre spike over synapses with delays 1..16 ms reaches each post neuron in the step of
    its own delay (one scatter for all delays): IF_curr_delta (mV) jumps by w at t + d."""
    net = nm.Network(dt=1.0)
    src = net.spike_source("s", [[5.0]])
    out = net.population("o", 16, nm.IF_curr_delta(weight_units="mV"))
    delays = np.arange(1, 17, dtype=float)
    net.connect(src, out, nm.FromList([(0, j, 0.5 + 0.5 * j, delays[j]) for j in range(16)]), label="p")
    net.record(out, "v")
    sim = nm.build(net, numerics="exact")
    sim.run(30.0)
    v = sim.trace(out, "v") + 65.0
    for j in range(16):
        arrive = int(5 + delays[j])
        assert abs(v[arrive - 1, j]) < 1e-9 and abs(v[arrive, j] - (0.5 + 0.5 * j)) < 1e-6, (j, v[:, j])


def test_heterogeneous_delays_reach_each_trial_and_receptor_at_their_own_step():
    """Two trials, each source neuron spiking at its own times, onto both receptors over delays
    1..16 ms, run long enough for the ring (4 × 17 slots with several delays) to wrap twice, with
    deliveries that wrap and that do not: IF_curr_delta (mV) V jumps by +w (excitatory) or −w
    (inhibitory) exactly at t + d in its own trial (closed form)."""
    net = nm.Network(dt=1.0)
    # (spikes at 50–54 ms and 118–122 ms straddle the last step whose deliveries do not wrap around)
    times = [[[5.0, 40.0, 118.0, 120.0, 122.0, 130.0], [12.0, 119.0, 121.0, 170.0]],
             [[20.0, 51.0, 53.0, 101.0], [3.0, 50.0, 52.0, 54.0, 61.0, 150.0]]]
    src = net.spike_source("s", times[0])
    out = net.population("o", 16, nm.IF_curr_delta(weight_units="mV", tau_m=1e6, v_thresh=1e3, tau_refrac=0.0))
    delays = np.arange(1, 17, dtype=float)
    w = 0.25 + 0.125 * np.arange(16)
    net.connect(src, out, nm.FromList([(0, j, w[j], delays[j]) for j in range(16)]), label="exc")
    net.connect(src, out, nm.FromList([(1, j, w[j], delays[15 - j]) for j in range(16)]), receptor="inhibitory",
                label="inh")
    net.record(out, "v")
    sim = nm.build(net, numerics="exact", batch=2)
    sim.set_spike_times("s", times)
    sim.run(200.0)
    v = sim.trace(out, "v") + 65.0                                    # [trials, steps, 16]
    assert v.shape == (2, 200, 16)
    for b in range(2):
        for j in range(16):
            want = np.zeros(v.shape[1])
            for t in times[b][0]:
                want[int(t + delays[j]):] += w[j]
            for t in times[b][1]:
                want[int(t + delays[15 - j]):] -= w[j]
            np.testing.assert_allclose(v[b, :, j], want, atol=1e-3, rtol=0, err_msg=f"trial {b}, neuron {j}")


@pytest.mark.parametrize("numerics", ["exact", "spinnaker", "spinnaker-float"])
def test_float32_runs_with_stdp_and_stays_close_to_float64(numerics):
    """float32 works in every profile (STDP included); its rates stay within 5 % of float64 and
    the mean plastic weight within 2 % (the bounds docs/semantics.md states). The board's fixed
    point ("spinnaker") is integer arithmetic whatever the dtype: identical results, exact float64
    records."""
    net = _ei(n=300)
    res = {}
    for dtype in (torch.float64, torch.float32):
        sim = nm.build(net, numerics=numerics, dtype=dtype)
        sim.run(500.0)
        n_spk = sum(len(s) for s in sim.spikes("E"))
        res[dtype] = (n_spk, float(np.mean(sim.weights("EE", format="list")[2])))
        fixed = numerics == "spinnaker"
        assert sim.trace("E", "v").dtype == (np.float32 if dtype == torch.float32 and not fixed else np.float64)
    (n64, w64), (n32, w32) = res[torch.float64], res[torch.float32]
    if numerics == "spinnaker":
        assert (n32, w32) == (n64, w64)
    assert n64 > 100
    assert abs(n32 - n64) <= 0.05 * n64, res
    assert abs(w32 - w64) <= 0.02 * w64, res


def test_weights_list_format_matches_the_description_and_the_dense_array():
    net = _ei(stdp=False)
    sim = nm.build(net, numerics="exact")
    conn = net.connectivity("EE")
    pre, post, w = sim.weights("EE", format="list")
    np.testing.assert_array_equal(pre, conn.pre)
    np.testing.assert_array_equal(post, conn.post)
    np.testing.assert_array_equal(w, conn.weights)
    dense = sim.weights("EE")
    np.testing.assert_array_equal(dense[pre, post], w)
    assert np.isnan(dense).sum() == dense.size - w.size
    # set per synapse, read back both ways
    new = np.linspace(0.1, 0.5, w.size)
    sim.set_weights("EE", new)
    np.testing.assert_allclose(sim.weights("EE", format="list")[2], new, rtol=0, atol=0)
    np.testing.assert_allclose(sim.weights("EE")[pre, post], new, rtol=0, atol=0)
    with pytest.raises(ValidationError, match="format"):
        sim.weights("EE", format="csr")
    with pytest.raises(ValidationError, match="shape"):
        sim.set_weights("EE", np.ones(w.size + 1))


def test_weight_history_list_format():
    net = _ei()
    sim = nm.build(net, numerics="spinnaker-float")
    sim.run(200.0)
    times, pre, post, hist = sim.weight_history("EE", format="list")
    t2, dense = sim.weight_history("EE")
    np.testing.assert_array_equal(times, [0.0, 50.0, 100.0, 150.0])
    np.testing.assert_array_equal(dense[:, pre, post], hist)
    assert not np.array_equal(hist[0], hist[-1])  # STDP changed them


@pytest.mark.parametrize("numerics", ["exact", "spinnaker"])
def test_tensor_input_equals_spike_time_input(numerics):
    """A [steps, batch, n] tensor driving a source gives the run that the same spikes as
    spike-time lists give (row r = what the source emits in step r)."""
    rng = np.random.default_rng(1)
    steps, batch, n = 100, 3, 20
    x = (rng.random((steps, batch, n)) < 0.05)
    off = nm.PROFILES[numerics].stamp_offset

    def net_with(times):
        net = nm.Network(dt=1.0)
        src = net.spike_source("in", times)
        out = net.population("out", 5, nm.IF_curr_exp(tau_m=10))
        net.connect(src, out, nm.FixedProbability(0.5, seed=2), weight=2.0, delay=2.0)
        net.record(out, "spikes", "v")
        return net

    lists = [[[float(r + off) for r in np.nonzero(x[:, b, i])[0]] for i in range(n)] for b in range(batch)]
    ref = nm.build(net_with([[] for _ in range(n)]), numerics=numerics, batch=batch)
    ref.set_spike_times("in", lists)
    ref.run(float(steps))
    sim = nm.build(net_with([[] for _ in range(n)]), numerics=numerics, batch=batch)
    out = sim.forward(float(steps), outputs=["out"], inputs={"in": torch.as_tensor(x, dtype=torch.float64)})["out"]
    assert out.shape == (steps, batch, 5)
    np.testing.assert_array_equal(ref.trace("out", "v"), sim.trace("out", "v"))
    for b in range(batch):
        for a, c in zip(ref.spikes("out")[b], sim.spikes("out")[b]):
            np.testing.assert_array_equal(a, c)
    with pytest.raises(ValidationError, match="steps"):
        sim.forward(50.0, inputs={"in": torch.zeros(10, batch, n)})
    with pytest.raises(ValidationError, match="shape"):
        sim.set_input("in", torch.zeros(10, batch, n + 1))
    with pytest.raises(ValidationError, match="not a spike source"):
        sim.set_input("out", torch.zeros(10, batch, 5))


def test_trainable_sparse_projection_gets_gradients_through_every_synapse():
    """A trainable projection held sparse (heterogeneous delays) trains through the all-synapse
    path; the gradient of a synapse that never existed is never created."""
    net = nm.Network(dt=1.0)
    src = net.spike_source("in", [[1, 3, 5, 8, 12], [2, 4, 9], [6]])
    net.population("out", 3, nm.IF_curr_exp(tau_m=10))
    net.connect(src, "out", nm.FromList([(0, 0, 3.0, 1.0), (1, 1, 3.0, 2.0), (2, 2, 3.0, 3.0), (0, 2, 1.0, 1.0)]),
                label="p")
    sim = nm.build(net, numerics="spinnaker-float", trainable=["p"])
    assert not sim.static["p"].dense
    spikes = sim(20.0, outputs=["out"])["out"]
    spikes.sum().backward()
    g = sim.trainable["p"].grad
    assert g.shape == (1, 4) and torch.isfinite(g).all() and (g != 0).any()


def test_memory_refusal_names_the_bytes(monkeypatch):
    from neuromorph.backends.torch import memory
    net = _ei()
    need = estimate_bytes(net, 1, torch.float64)
    assert need > 0
    monkeypatch.setattr(memory, "available_bytes", lambda device: need // 2)
    with pytest.raises(SimulationError, match=r"GiB .* available"):
        nm.build(net, numerics="exact")


def test_capability_table_claims_only_what_is_registered():
    """Every cell construct the torch table calls supported builds and runs one neuron."""
    from neuromorph.cells import CellType
    from neuromorph.registry import DESCRIPTION_TYPES
    for numerics in nm.PROFILES:
        table = capabilities(numerics=numerics)
        for name, t in DESCRIPTION_TYPES.items():
            if not (isinstance(t, type) and issubclass(t, CellType)):
                continue
            cell = t() if name != "IF_curr_delta" else t(weight_units="mV")
            key = name if name != "IF_curr_delta" else "IF_curr_delta(weight_units=mV)"
            net = nm.Network()
            net.population("p", 2, cell)
            cap = table.get(key)
            if cap is not None and cap.supported:
                nm.build(net, numerics=numerics).run(5.0)
            else:
                with pytest.raises(nm.UnsupportedError):
                    nm.build(net, numerics=numerics)


def test_batch_size_per_call():
    """A training network takes the batch of each call's input at time 0; trial b of a batch-5
    call equals a batch-1 run on trial b's input."""
    net = nm.Network(dt=1.0)
    net.spike_source("in", [[] for _ in range(6)])
    net.population("out", 3, nm.IF_curr_exp(tau_m=10))
    net.connect("in", "out", nm.AllToAll(), weight=2.5, label="w")
    sim = nm.build(net, numerics="exact", trainable=["w"])
    x = (torch.rand(30, 5, 6, generator=torch.Generator().manual_seed(0)) < 0.3).double()
    out5 = sim(30.0, outputs=["out"], inputs={"in": x})["out"]
    assert sim.batch == 5 and out5.shape == (30, 5, 3)
    sim.reset(batch=1)
    for b in (0, 3):
        sim.reset()
        out1 = sim(30.0, outputs=["out"], inputs={"in": x[:, b:b + 1]})["out"]
        assert torch.equal(out1[:, 0], out5[:, b])
    with pytest.raises(nm.UnsupportedError, match="plastic"):
        nm.build(_ei(), numerics="exact").set_batch(2)
