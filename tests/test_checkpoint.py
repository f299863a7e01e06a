"""Checkpoint and resume (issue 10 item 4): ``sim.save(path)`` then ``nm.load(path)`` and running on
is bit-identical to one uninterrupted run — spikes, traces, weights and weight history — in every
torch profile, batched, with STDP, Poisson input and mechanisms. The reference is the same
network run without stopping."""
import json

import numpy as np
import pytest
import torch

import neuromorph as nm


def _net(mechanism=None):
    net = nm.Network(dt=1.0, seed=5)
    inp = net.poisson_source("in", 60, 30.0)
    e = net.population("E", 40, nm.IF_curr_exp(), initial_values={"v": np.linspace(-65, -52, 40)})
    i = net.population("I", 10, nm.IF_curr_exp())
    rule = nm.STDP(nm.SpikePairRule(20, 20, 0.02, 0.024), nm.Additive(0, 1.0))
    net.connect(inp, e, nm.FixedProbability(0.3), weight=1.0, delay=np.arange(60 * 40).reshape(60, 40) % 4 + 1.0,
                label="in-E")
    net.connect(inp, i, nm.FixedProbability(0.3), weight=1.0, label="in-I")
    net.connect(e, e, nm.FixedProbability(0.2), weight=0.4, delay=2.0, plasticity=rule, label="EE")
    net.connect(e, i, nm.FixedProbability(0.3), weight=0.4, label="EI")
    net.connect(i, e, nm.FixedProbability(0.3), weight=0.8, receptor="inhibitory", label="IE")
    net.record(e, "spikes", "v", "isyn_exc")
    net.record(i, "spikes")
    net.record("EE", "weights", every=25)
    if mechanism == "scaling":
        net.add(nm.SynapticScaling(label="scaling", population="E", target_rate=10.0, tau=200.0, projections=("in-E",)))
    return net


def _results(sim):
    out = {"E": sim.spikes("E"), "I": sim.spikes("I"), "v": sim.trace("E", "v"), "isyn": sim.trace("E", "isyn_exc"),
           "w": sim.weights("EE", format="list")[2], "hist": sim.weight_history("EE", format="list")[3]}
    return out


def _assert_same(a, b):
    for pop in ("E", "I"):
        flat_a = a[pop] if isinstance(a[pop][0], np.ndarray) else [x for trial in a[pop] for x in trial]
        flat_b = b[pop] if isinstance(b[pop][0], np.ndarray) else [x for trial in b[pop] for x in trial]
        assert len(flat_a) == len(flat_b)
        for x, y in zip(flat_a, flat_b):
            np.testing.assert_array_equal(x, y)
    for key in ("v", "isyn", "w", "hist"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("numerics,batch,dtype,mechanism", [
    ("exact", 1, torch.float64, None),
    ("spinnaker", 3, torch.float64, None),
    ("spinnaker-float", 2, torch.float32, "scaling"),
    ("exact", 2, torch.float64, "scaling"),
])
def test_resume_is_bit_identical(tmp_path, numerics, batch, dtype, mechanism):
    net = _net(mechanism)
    ref = nm.build(net, numerics=numerics, batch=batch, dtype=dtype)
    ref.run(137.0)
    ref.run(163.0)
    first = nm.build(net, numerics=numerics, batch=batch, dtype=dtype)
    first.run(137.0)
    path = tmp_path / "run.ckpt"
    first.save(path)
    del first
    # the file holds only tensors and plain data
    data = torch.load(path, weights_only=True)
    assert data["format"] == "neuromorph-checkpoint/1"
    resumed = nm.load(path)
    assert resumed.time == 137.0 and resumed.batch == batch and resumed.dtype == dtype
    resumed.run(163.0)
    assert sum(len(x) for x in (ref.spikes("E") if batch == 1 else ref.spikes("E")[0])) > 20
    _assert_same(_results(ref), _results(resumed))


def test_resume_keeps_changed_spike_times_and_weights(tmp_path):
    net = nm.Network(dt=1.0)
    src = net.spike_source("s", [[1.0], [2.0]])
    out = net.population("o", 2, nm.IF_curr_exp(tau_m=10))
    net.connect(src, out, nm.OneToOne(), weight=3.0, label="p")
    net.record(out, "spikes", "v")
    sims = [nm.build(net, numerics="exact") for _ in range(2)]
    for sim in sims:
        sim.set_weights("p", [5.0, 6.0])
        sim.set_spike_times("s", [[10.0, 20.0], [30.0]])
        sim.run(15.0)
    sims[0].save(tmp_path / "c")
    resumed = nm.load(tmp_path / "c")
    for sim in (sims[1], resumed):
        sim.run(40.0)
    np.testing.assert_array_equal(sims[1].trace("o", "v"), resumed.trace("o", "v"))
    np.testing.assert_array_equal(resumed.weights("p", format="list")[2], [5.0, 6.0])


def test_load_refuses_what_is_not_a_checkpoint(tmp_path):
    bad = tmp_path / "x.ckpt"
    bad.write_text("not a checkpoint")
    with pytest.raises(nm.ValidationError, match="not a readable neuromorph checkpoint"):
        nm.load(bad)
    with pytest.raises(nm.ValidationError, match="no checkpoint"):
        nm.load(tmp_path / "missing.ckpt")
    torch.save({"a": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(nm.ValidationError, match="not a neuromorph checkpoint"):
        nm.load(tmp_path / "other.pt")


def test_cli_checkpoint_and_resume_equal_one_uninterrupted_run(tmp_path, capsys):
    """`neuromorph run --checkpoint-every` stopped part way (a shorter --duration stands in for a
    signal: both end the run at a step boundary and checkpoint there), then `neuromorph resume
    DIR --duration` to the end, writes the same spikes and weights as one uninterrupted run."""
    from pathlib import Path

    from neuromorph import cli
    model = Path(__file__).resolve().parents[1] / "examples" / "ei_stdp.json"
    full, part = tmp_path / "full", tmp_path / "part"
    assert cli.main(["run", str(model), "--duration", "300", "--out", str(full), "--numerics", "exact", "-q"]) == 0
    assert cli.main(["run", str(model), "--duration", "130", "--out", str(part), "--numerics", "exact", "-q",
                     "--checkpoint-every", "50"]) == 0
    summary = json.loads((part / "summary.json").read_text())
    assert summary["checkpoint_ms"] == 130.0 and (part / "checkpoint.ckpt").is_file()
    assert cli.main(["resume", str(part), "--duration", "300", "-q"]) == 0
    summary = json.loads((part / "summary.json").read_text())
    assert summary["resumed_at_ms"] == 130.0 and summary["simulated_ms"] == 300.0
    for name in [p.name for p in full.glob("*.npz")]:
        with np.load(full / name) as a, np.load(part / name) as b:
            assert sorted(a.files) == sorted(b.files)
            for key in a.files:
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}:{key}")
    assert (full / "spikes.csv").read_text() == (part / "spikes.csv").read_text()
    assert cli.main(["resume", str(tmp_path / "nothing")]) == 2
    assert "cannot be read" in capsys.readouterr().err
