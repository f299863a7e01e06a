"""Cell groups (backends/torch/cell_groups.py): populations of one lowering with equal parameters
stepped as one call on concatenated tensors give bit for bit what stepping them one by one gives.

The reference is the ungrouped step loop (``engine.CELL_GROUPS = False``), each population
stepped alone as before grouping existed; that loop is itself checked against NEST by
tests/parity/test_identical_spikes.py. Every comparison is exact (spikes, traces, weights), in
every profile, float64/float32, batch 1 and 2, with the mechanism hooks (threshold shift, extra
current), set_parameters between runs, checkpoints and chunk boundaries; a spy checks that the
groups really form (else the comparisons would compare the reference with itself).
"""
import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.backends.torch import cell_groups, engine
from neuromorph.mechanisms import ThresholdAdaptation

SAME = dict(tau_m=12.0, tau_refrac=2.0, v_thresh=-52.0)   # A, B, C: one IF_curr_exp parameter set


def _net(extra=None, seed=3):
    """A, B, C (IF_curr_exp, equal parameters, other sizes and initial V), D (IF_curr_exp with other
    parameters), E, F (IF_curr_delta): Poisson and array sources, static sparse/dense, inhibitory,
    several delays, STDP."""
    net = nm.Network(dt=1.0, seed=seed)
    inp = net.poisson_source("in", 40, 35.0)
    arr = net.spike_source("arr", [[3.0, 9.0, 30.0], [5.0, 40.0], [7.0]])
    sizes = {"A": 30, "B": 20, "C": 10}
    for label, n in sizes.items():
        net.population(label, n, nm.IF_curr_exp(**SAME), initial_values={"v": np.linspace(-66.0, -53.0, n)})
    net.population("D", 12, nm.IF_curr_exp(tau_m=8.0))
    net.population("E", 8, nm.IF_curr_delta(weight_units="nA"))
    net.population("F", 5, nm.IF_curr_delta(weight_units="nA"))
    for label in ("A", "B", "C", "D"):
        net.connect(inp, label, nm.FixedProbability(0.3), weight=0.9, delay=1.0, label=f"in-{label}")
    net.connect(arr, "E", nm.AllToAll(), weight=4.0, delay=2.0, label="arr-E")
    net.connect(arr, "B", nm.AllToAll(), weight=12.0, delay=1.0, label="arr-B")
    net.connect("A", "B", nm.AllToAll(), weight=0.05, delay=1.0, label="A-B")                        # dense
    net.connect("B", "A", nm.FixedProbability(0.3), weight=0.15, delay=np.arange(20 * 30).reshape(20, 30) % 3 + 1.0,
                receptor="inhibitory", label="B-A")                                                # several delays
    rule = nm.STDP(nm.SpikePairRule(20.0, 20.0, 0.02, 0.024), nm.Additive(0.0, 1.0))
    net.connect("C", "A", nm.FixedProbability(0.5), weight=0.5, delay=2.0, plasticity=rule, label="C-A")
    net.connect("A", "E", nm.FixedProbability(0.3), weight=1.0, delay=1.0, label="A-E")
    net.connect("D", "C", nm.FixedProbability(0.4), weight=0.6, delay=1.0, label="D-C")
    net.connect(inp, "F", nm.FixedProbability(0.3), weight=2.5, delay=1.0, label="in-F")
    for label in ("A", "B", "C", "D", "E", "F"):
        net.record(label, "spikes")
    net.record("A", "v", "isyn_exc")
    net.record("C", "v", "isyn_inh")
    net.record("C-A", "weights", every=20)
    if extra == "threshold":
        net.add(ThresholdAdaptation("ta", "B", 5.0, tau=50.0, step=2.0, rate_tau=20.0))
    elif extra == "current":
        net.add(nm.DCSource("dc", "C", amplitude=0.4, start=10.0, stop=120.0, neurons=(0, 3, 4)))
        net.add(nm.StepCurrentSource("step", "A", times=(20.0, 60.0), amplitudes=(0.3, -0.1)))
    return net


@pytest.fixture
def spy(monkeypatch):
    """The member labels of every group formed."""
    formed = []

    class Spy(cell_groups.CellGroup):
        def __init__(self, sim, labels):
            formed.append(tuple(labels))
            super().__init__(sim, labels)

    monkeypatch.setattr(cell_groups, "CellGroup", Spy)
    return formed


def _build(net, grouped, monkeypatch, **options):
    monkeypatch.setattr(engine, "CELL_GROUPS", grouped)
    return nm.build(net, backend="torch", **options)


def _results(sim, net):
    out = {}
    for label in ("A", "B", "C", "D", "E", "F"):
        trials = sim.spikes(label) if sim.batch > 1 else [sim.spikes(label)]
        out[f"spikes {label}"] = [np.asarray(t) for trial in trials for t in trial]
    for label, var in (("A", "v"), ("A", "isyn_exc"), ("C", "v"), ("C", "isyn_inh")):
        out[f"{label}.{var}"] = sim.trace(label, var)
    for label in net.projections:
        out[f"w {label}"] = sim.weights(label, format="list")[2]
    out["history"] = sim.weight_history("C-A", format="list")[3]
    return out


def _assert_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key.startswith("spikes"):
            assert len(a[key]) == len(b[key])
            for x, y in zip(a[key], b[key]):
                np.testing.assert_array_equal(x, y, err_msg=key)
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _count(res, label):
    return sum(len(t) for t in res[f"spikes {label}"])


@pytest.mark.parametrize("numerics,dtype,batch,extra", [
    ("exact", torch.float64, 1, None),
    ("spinnaker", torch.float64, 2, None),
    ("spinnaker-float", torch.float32, 2, None),
    ("exact", torch.float32, 2, "threshold"),
    ("spinnaker", torch.float64, 1, "threshold"),
    ("spinnaker-float", torch.float64, 1, "threshold"),
    ("exact", torch.float64, 2, "current"),
    ("spinnaker", torch.float64, 2, "current"),
    ("spinnaker-float", torch.float32, 1, "current"),
])
def test_grouped_steps_equal_separate_steps(numerics, dtype, batch, extra, spy, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK", 97)    # several chunks: groups formed and written back each time
    net = _net(extra)
    grouped = _build(net, True, monkeypatch, numerics=numerics, dtype=dtype, batch=batch)
    grouped.run(150.0)
    grouped.run(90.0)
    assert spy and set(spy) == {("A", "B", "C"), ("E", "F")}   # D (other parameters) steps alone
    spy.clear()
    plain = _build(net, False, monkeypatch, numerics=numerics, dtype=dtype, batch=batch)
    plain.run(150.0)
    plain.run(90.0)
    assert spy == []
    a, b = _results(grouped, net), _results(plain, net)
    assert min(_count(a, label) for label in "ABCEF") > 5   # the comparison sees spikes in every member
    _assert_equal(a, b)
    if extra == "threshold":   # the hook was in use (a shift on one member only)
        assert grouped.threshold_shift["B"] is not None and bool((grouped.threshold_shift["B"] != 0).any())
    for label in "ABC":        # written back: each member's own storage, not a view of the group's
        for x in grouped.state[label]:
            assert x.untyped_storage().nbytes() == x.numel() * x.element_size()
        for x, y in zip(grouped.state[label], plain.state[label]):
            assert torch.equal(x, y)


def test_set_parameters_between_runs_leaves_and_rejoins(spy, monkeypatch):
    """A member with parameters set between runs steps alone for that chunk (its change is pending
    under NEST's one-step lag), then with its new parameters alone (they differ from A's and C's),
    and back in the group once they are equal again."""
    sims = {}
    for grouped in (True, False):
        sim = _build(_net(), grouped, monkeypatch, numerics="exact")
        sim.run(60.0)
        sim.set_parameters("B", tau_m=9.0)
        sim.run(40.0)
        sim.run(40.0)
        sim.set_parameters("B", tau_m=SAME["tau_m"])
        sim.run(40.0)
        for _ in range(5):        # one-step runs: stepped population by population (MIN_STEPS)
            sim.run(1.0)
        sim.run(30.0)
        sims[grouped] = sim
    assert [g for g in spy if g != ("E", "F")] == [("A", "B", "C"), ("A", "C"), ("A", "C"), ("A", "C"), ("A", "B", "C")]
    _assert_equal(_results(sims[True], _net()), _results(sims[False], _net()))


def test_checkpoint_mid_run_resumes_bit_identically(tmp_path, spy, monkeypatch):
    net = _net("current")
    ref = _build(net, False, monkeypatch, numerics="spinnaker", batch=2)
    ref.run(200.0)
    first = _build(net, True, monkeypatch, numerics="spinnaker", batch=2)
    first.run(83.0)
    path = tmp_path / "groups.ckpt"
    first.save(path)
    del first
    resumed = nm.load(path)
    resumed.run(117.0)
    assert spy.count(("A", "B", "C")) == 2
    _assert_equal(_results(resumed, net), _results(ref, net))


def test_a_hook_in_another_dtype_dissolves_the_group(spy, monkeypatch):
    """An extra current in float32 on a float64 member: concatenated, it would promote the others'
    arithmetic; the group steps its members separately instead (the same numbers as never grouped)."""
    out = {}
    for grouped in (True, False):
        sim = _build(_net(), grouped, monkeypatch, numerics="exact")
        sim.extra_current["B"] = torch.full((1, 20), 0.35, dtype=torch.float32)
        sim.run(120.0)
        out[grouped] = _results(sim, sim.net)
    assert spy == [("A", "B", "C"), ("E", "F")]
    _assert_equal(out[True], out[False])


def _other_lowerings_net():
    net = nm.Network(dt=0.5, seed=8)
    inp = net.poisson_source("in", 30, 100.0)
    cells = {"c1": nm.IF_cond_exp(), "c2": nm.IF_cond_exp(), "z1": nm.Izhikevich(), "z2": nm.Izhikevich(),
             "a1": nm.IF_curr_alpha(), "a2": nm.IF_curr_alpha(), "e1": nm.EIF_cond_exp_isfa_ista(),
             "e2": nm.EIF_cond_exp_isfa_ista()}
    for label, cell in cells.items():
        net.population(label, 6 if label.endswith("1") else 9, cell)
        weight = {"c": 0.02, "z": 4.0, "a": 1.2, "e": 0.03}[label[0]]
        net.connect(inp, label, nm.FixedProbability(0.4), weight=weight, delay=1.0, label=f"in-{label}")
        net.record(label, "spikes", "v")
    net.connect("c1", "c2", nm.AllToAll(), weight=0.01, delay=1.0, label="c1-c2")
    return net


def test_other_lowerings_group_bit_identically(spy, monkeypatch):
    """Conductance cells and AdEx (adaptive RKF45 per neuron), Izhikevich (no reset helper: no host
    answer) and alpha currents."""
    net = _other_lowerings_net()
    res = {}
    for grouped in (True, False):
        sim = _build(net, grouped, monkeypatch, numerics="exact", batch=2)
        sim.run(40.0)
        res[grouped] = {label: (sim.spikes(label), sim.trace(label, "v")) for label in net.populations if label != "in"}
    assert set(spy) == {("c1", "c2"), ("z1", "z2"), ("a1", "a2"), ("e1", "e2")}
    for label, (spikes, v) in res[True].items():
        ref_spikes, ref_v = res[False][label]
        np.testing.assert_array_equal(v, ref_v, err_msg=label)
        for trial, ref_trial in zip(spikes, ref_spikes):
            for x, y in zip(trial, ref_trial):
                np.testing.assert_array_equal(x, y, err_msg=label)
        assert sum(len(x) for trial in spikes for x in trial) > 10, label   # every member spikes


def test_no_groups_while_autograd_records(spy, monkeypatch):
    net = nm.Network(dt=1.0)
    net.spike_source("in", [[1.0, 4.0, 9.0], [2.0, 6.0]])
    for label in ("p", "q"):
        net.population(label, 3, nm.IF_curr_exp(tau_m=10.0))
        net.connect("in", label, nm.AllToAll(), weight=3.0, delay=1.0, label=f"in-{label}")
    sim = nm.build(net, numerics="spinnaker-float", trainable=["in-p"])
    out = sim(20.0, outputs=["p", "q"])
    out["p"].sum().backward()
    assert spy == []
    with torch.no_grad():
        sim.run(20.0)
    assert spy == [("p", "q")]


def test_fixed_point_members_at_their_own_ring_shifts(spy, monkeypatch):
    """Board fixed point: each member's slot is turned into input at its own receptors' shifts —
    an int shift that differs between members (B's strong array input), and per-trial shifts
    (weights set per trial onto C)."""
    net = _net()
    res = {}
    for grouped in (True, False):
        sim = _build(net, grouped, monkeypatch, numerics="spinnaker", batch=2)
        w = sim.weights("in-C", format="list")[2]
        sim.set_weights("in-C", np.stack([w[0], 3.0 * w[1]]))
        if grouped:
            g = next(g for label, g in cell_groups.form_groups(sim, 10) if label is None)
            assert g.shared_shifts is None
            assert g.shifts[0][0][0] != g.shifts[1][0][0]               # A and B: other int shifts
            assert isinstance(g.shifts[2][0][0], torch.Tensor)          # C: one shift per trial
        sim.run(150.0)
        res[grouped] = _results(sim, net)
    assert min(_count(res[True], label) for label in "ABC") > 5
    _assert_equal(res[True], res[False])


def test_forward_outputs_and_written_back_state(spy, monkeypatch):
    """``sim(ms, outputs=...)`` without trainable weights (no autograd: groups form, and the run is
    not in inference mode, so the state written back is kept as it is): the members' spike
    tensors equal the ungrouped ones, and each member's state owns its storage (a checkpoint of a
    view would save the group's whole tensor)."""
    out, sims = {}, {}
    for grouped in (True, False):
        sim = _build(_net(), grouped, monkeypatch, numerics="spinnaker-float", batch=2)
        out[grouped] = sim(80.0, outputs=["A", "B", "D"])
        sims[grouped] = sim
    assert spy == [("A", "B", "C"), ("E", "F")]
    for label in ("A", "B", "D"):
        assert torch.equal(out[True][label], out[False][label]), label
    assert out[True]["B"].sum() > 5
    for label in "ABC":
        for x, y in zip(sims[True].state[label], sims[False].state[label]):
            assert torch.equal(x, y)
            assert x.untyped_storage().nbytes() == x.numel() * x.element_size()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (no host answer per step there)")
def test_grouped_on_cuda_equal_separate(spy, monkeypatch):
    res = {}
    for grouped in (True, False):
        sim = _build(_net("threshold"), grouped, monkeypatch, numerics="spinnaker-float", batch=2, device="cuda")
        sim.run(150.0)
        res[grouped] = _results(sim, sim.net)
    assert ("A", "B", "C") in spy
    _assert_equal(res[True], res[False])
