"""The torch step loop's overhead reductions keep their contracts (docs/engine.md, "The step loop").

Each test checks a shortcut against an independent statement of what it replaces: the CSR
expansion against its definition (a Python loop over the groups), the board's LUT read against
sPyNNaker's table (board.exp_lut, 0 outside it), the one-kernel stamp products against torch's
convert-then-multiply, and the inference-mode run against what a later run, an in-place change
and a training forward need from the state it leaves.
"""
import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.backends.torch import board
from neuromorph.backends.torch.synapses import expand_groups


def _expected_groups(ptr: np.ndarray, groups: np.ndarray):
    which, member = [], []
    for pos, g in enumerate(groups):
        for m in range(ptr[g], ptr[g + 1]):
            which.append(pos)
            member.append(m)
    return which, member


@pytest.mark.parametrize("groups", [[], [3], [0], [5, 1], [2, 2, 7], [9], list(range(10))])
def test_expand_groups_matches_its_definition(groups):
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 5, 10)
    counts[9] = 0                        # an empty group
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    which, member = expand_groups(torch.as_tensor(ptr), torch.as_tensor(groups, dtype=torch.int64))
    ew, em = _expected_groups(ptr, groups)
    assert which.dtype == member.dtype == torch.int64
    assert which.tolist() == ew and member.tolist() == em


def test_expand_groups_takes_strided_groups():
    """The spiking neurons of nonzero(as_tuple=True) are a strided view."""
    ptr = torch.tensor([0, 2, 2, 5, 6], dtype=torch.int64)
    spikes = torch.tensor([[0.0, 1.0, 1.0, 1.0]])
    _, i = spikes.nonzero(as_tuple=True)
    which, member = expand_groups(ptr, i)
    assert (which.tolist(), member.tolist()) == _expected_groups(ptr.numpy(), [1, 2, 3])


def test_board_lut_reads_the_table_and_zero_outside():
    net = nm.Network(dt=1.0)
    a = net.population("a", 2, nm.IF_curr_exp())
    b = net.population("b", 2, nm.IF_curr_exp())
    rule = nm.STDP(nm.SpikePairRule(tau_plus=16.0, tau_minus=33.0, A_plus=0.01, A_minus=0.01), nm.Additive(w_min=0.0, w_max=1.0))
    net.connect(a, b, nm.AllToAll(), weight=0.5, delay=1, plasticity=rule, label="ab")
    pp = nm.build(net, backend="torch", numerics="spinnaker").plastic["ab"]
    for lut, tau in ((pp.lut_plus, 16.0), (pp.lut_minus, 33.0)):
        table = board.exp_lut(tau, 1.0)
        delta = torch.tensor([-(1 << 40), -5, -1, 0, 1, 7, len(table) - 1, len(table), len(table) + 3, 10**6])
        expected = [int(table[d]) if 0 <= d < len(table) else 0 for d in delta.tolist()]
        assert pp._lut(lut, delta).tolist() == expected
        assert pp._lut(lut, delta.view(2, 5)).view(-1).tolist() == expected


@pytest.mark.parametrize("dt", [1.0, 0.1, 0.25])
def test_stamp_products_equal_convert_then_multiply(dt):
    """conventions.py multiplies int64 stamps by 0-dim float64 tensors: the same doubles as
    ``.to(float64) * dt``, and x·(−dt) = −(x·dt)."""
    x = torch.randint(-10**7, 10**7, (50_001,), generator=torch.Generator().manual_seed(1))
    ref = x.to(torch.float64) * dt
    assert torch.equal(x * torch.tensor(dt, dtype=torch.float64), ref)
    assert torch.equal(torch.exp(x * torch.tensor(-dt, dtype=torch.float64) / 20.0), torch.exp(-ref / 20.0))


def _plastic_net():
    net = nm.Network(dt=1.0, seed=3)
    src = net.poisson_source("in", 20, 40.0)
    e = net.population("e", 10, nm.IF_curr_exp())
    net.connect(src, e, nm.FixedProbability(0.5), weight=1.5, delay=1, label="in->e")
    rule = nm.STDP(nm.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012), nm.Additive(w_min=0.0, w_max=0.5))
    net.connect(e, e, nm.FixedProbability(0.3, allow_self_connections=False), weight=0.2, delay=2, plasticity=rule, label="ee")
    net.record(e, "spikes")
    net.record(e, "v")
    return net


def test_a_run_leaves_no_inference_tensors_in_the_state():
    sim = nm.build(_plastic_net(), backend="torch", numerics="exact")
    sim.run(100.0)
    left = [f"{label}.{i}" for label, st in sim.state.items() for i, x in enumerate(st)
            if isinstance(x, torch.Tensor) and x.is_inference()]
    left += [f"ee.{k}" for k, v in vars(sim.plastic["ee"]).items() if isinstance(v, torch.Tensor) and v.is_inference()]
    assert left == []
    for st in sim.state.values():          # in place outside inference mode: refused on inference tensors
        st.v.add_(0.0)
    sim.run(50.0)                          # and the run goes on from there
    assert sim.trace("e").shape == (150, 10)


def test_split_runs_equal_one_run():
    """Each run enters and leaves inference mode; the state handed over between runs is the
    same numbers, so 3 runs give the spikes and weights of one."""
    one = nm.build(_plastic_net(), backend="torch", numerics="exact")
    one.run(300.0)
    three = nm.build(_plastic_net(), backend="torch", numerics="exact")
    for _ in range(3):
        three.run(100.0)
    assert all(np.array_equal(a, b) for a, b in zip(one.spikes("e"), three.spikes("e")))
    assert np.array_equal(one.weights("ee", format="list")[2], three.weights("ee", format="list")[2])
    assert np.array_equal(one.trace("e"), three.trace("e"))


def test_training_forward_after_a_plain_run():
    """A no-grad run (inference mode) followed, without reset, by a differentiable forward: the
    state it left must be usable by autograd."""
    net = nm.Network(dt=1.0)
    src = net.spike_source("in", [[1, 3, 5, 8, 12, 20, 25], [2, 4, 9, 22]])
    net.population("out", 3, nm.IF_curr_exp(tau_m=10))
    net.connect(src, "out", nm.AllToAll(), weight=3.0, delay=1, label="in->out")
    sim = nm.build(net, numerics="spinnaker-float", trainable=["in->out"])
    with torch.no_grad():
        sim.run(10.0)
    spikes = sim(20.0, outputs=["out"])["out"]
    spikes.sum().backward()
    grad = sim.trainable["in->out"].grad
    assert grad is not None and torch.isfinite(grad).all()


def test_split_runs_with_a_step_current_equal_one_run():
    """A current source that changes value in a later run than the one that set it: the source
    tells its own contribution apart by identity (``cur is old``), which leaving inference mode
    must keep (one copy per tensor), else it would add ``new − old`` (0.7 + (−0.2 − 0.7) ≠ −0.2)."""
    def net():
        n = nm.Network(dt=1.0, seed=1)
        n.population("n", 2, nm.IF_curr_exp(cm=0.25, tau_m=15.0, v_thresh=-55.0, v_reset=-70.0))
        n.add(nm.StepCurrentSource("s", "n", times=(5.0, 25.0, 45.0), amplitudes=(0.7, -0.2, 0.3)))
        n.record("n", "v", "spikes")
        return n

    one = nm.build(net(), backend="torch", numerics="exact")
    one.run(60.0)
    split = nm.build(net(), backend="torch", numerics="exact")
    for ms in (10.0, 20.0, 30.0):
        split.run(ms)
    assert np.array_equal(one.trace("n"), split.trace("n"))
    assert all(np.array_equal(a, b) for a, b in zip(one.spikes("n"), split.spikes("n")))
