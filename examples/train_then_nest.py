"""Train a small spiking classifier on the torch backend, export it, run it on NEST.

Two classes of 20 Poisson-like input lines (lines 0-9 busy for class 0, lines 10-19 for class 1),
20 hidden and 2 output IF_curr_exp neurons, exact numerics (NEST's arithmetic) in float64. Steps:

1. train both projections and a shared bias of the output population with Adam (surrogate
   gradients); the weights are signed during training (docs/training.md, "Signs");
2. report the torch test accuracy (batched trials);
3. ``sim.trained_network()`` -> JSON -> ``nm.Network.from_json``: projections with negative
   weights come back split into ``<label>`` (excitatory) and ``<label>:inh`` (inhibitory);
4. run the test set as one sequence of 100 ms trial slots on torch and on ``pynn:nest`` from that
   JSON, and compare the accuracies (same numerics: they should agree exactly);
5. pynn:spinnaker is tried only if sPyNNaker is installed.

Run: ``python examples/train_then_nest.py [--quick] [--json out.json]`` (about 10-20 s; --quick: fewer
iterations and test trials).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import time

import numpy as np
import torch

import neuromorph as nm

STEPS, N_IN, N_HID, N_OUT = 50, 20, 20, 2      # dt = 1 ms: 50 ms of input per trial
SLOT = 100                                      # ms per trial in the sequential test run
ONSET = 2                                       # first input spike of a slot at +2 ms (PyNN/NEST: >= 2*dt)


def rates(labels: torch.Tensor) -> torch.Tensor:
    p = torch.full((len(labels), N_IN), 0.005)  # spike probability per step
    p[labels == 0, :10] = 0.04
    p[labels == 1, 10:] = 0.04
    return p


def network() -> nm.Network:
    g = torch.Generator().manual_seed(1)
    net = nm.Network(dt=1.0, seed=0)
    net.spike_source("in", [[] for _ in range(N_IN)])          # empty: driven by tensors in training
    cell = nm.IF_curr_exp(tau_m=10.0, tau_refrac=1.0)
    net.population("hidden", N_HID, cell)
    net.population("out", N_OUT, cell)
    net.connect("in", "hidden", nm.AllToAll(), weight=torch.rand(N_IN, N_HID, generator=g).numpy(), delay=1.0,
                label="in->hidden")
    net.connect("hidden", "out", nm.AllToAll(), weight=0.5 * torch.rand(N_HID, N_OUT, generator=g).numpy(), delay=1.0,
                label="hidden->out")
    return net


def train(iterations: int, batch: int = 32, log=print):
    torch.manual_seed(0)
    sim = nm.build(network(), backend="torch", numerics="exact", trainable=["in->hidden", "hidden->out"],
                   trainable_biases={"out": "shared"}, batch=batch)
    opt = torch.optim.Adam(sim.parameters(), lr=0.05)
    labels = torch.arange(batch) % 2
    target = torch.stack([torch.where(labels == k, 5.0, 0.0) for k in range(N_OUT)], dim=1).double()
    p = rates(labels)
    for it in range(iterations):
        x = (torch.rand(STEPS, batch, N_IN) < p).double()
        sim.reset()
        opt.zero_grad()
        counts = sim.forward(float(STEPS), outputs=["out"], inputs={"in": x})["out"].sum(0)
        loss = ((counts - target) ** 2).mean()
        loss.backward()
        opt.step()
        if it % 10 == 0 or it == iterations - 1:
            log(f"  iteration {it:3d}  loss {loss.item():.3f}")
    return sim


def test_set(n: int):
    g = torch.Generator().manual_seed(123)
    labels = torch.arange(n) % 2
    x = (torch.rand(STEPS, n, N_IN, generator=g) < rates(labels)).double()
    return x, labels


def sequential_network(text: str, x: torch.Tensor) -> nm.Network:
    """The exported network with the test trials as spike times, one SLOT per trial."""
    data = json.loads(text)
    n = x.shape[1]
    t, b, i = (x > 0).nonzero(as_tuple=True)
    times = [[] for _ in range(N_IN)]
    for tt, bb, ii in sorted(zip(t.tolist(), b.tolist(), i.tolist()), key=lambda r: (r[1], r[0])):
        times[ii].append(float(bb * SLOT + ONSET + tt))
    for pop in data["populations"]:
        if pop["label"] == "in":
            pop["celltype"]["spike_times"] = [sorted(r) for r in times]
    net = nm.Network.from_dict(data)
    net.record("out", "spikes")
    return net, n * SLOT


def slot_accuracy(spikes: list, labels: torch.Tensor) -> float:
    counts = np.zeros((len(labels), N_OUT))
    for j, row in enumerate(spikes):
        for t in row:
            k = int(t // SLOT)
            if k < len(labels):
                counts[k, j] += 1
    return float((counts.argmax(1) == labels.numpy()).mean())


def main(quick: bool = False, json_path: str | None = None, nest: bool = True, log=print) -> dict:
    t0 = time.time()
    iterations, n_test = (20, 40) if quick else (40, 100)
    log(f"training {iterations} iterations (torch, exact numerics, float64)")
    sim = train(iterations, log=log)
    x, labels = test_set(n_test)
    with torch.no_grad():
        sim.reset()
        counts = sim.forward(float(STEPS), outputs=["out"], inputs={"in": x})["out"].sum(0)
    acc_batched = float((counts.argmax(1) == labels).double().mean())
    log(f"torch test accuracy (batched trials): {acc_batched:.3f}")

    w = {k: v.detach() for k, v in sim.trainable.items()}
    log("negative weights after training: " + ", ".join(f"{k} {int((v < 0).sum())}/{v.numel()}" for k, v in w.items())
        + f"; trained output bias {sim.biases['out'].item():+.4f} nA")
    text = sim.trained_network().to_json()
    if json_path:
        with open(json_path, "w") as f:
            f.write(text)
    reloaded = nm.Network.from_json(text)
    log("exported projections: " + ", ".join(f"{p.label} ({p.receptor}, {len(reloaded.connectivity(p).pre)} synapses)"
                                                for p in reloaded.projections.values()))

    seq, duration = sequential_network(text, x)
    ts = nm.build(seq, backend="torch", numerics="exact")
    ts.run(float(duration))
    acc_torch = slot_accuracy(ts.spikes("out"), labels)
    log(f"torch test accuracy (exported JSON, sequential {SLOT} ms slots): {acc_torch:.3f}")
    out = {"torch_batched": acc_batched, "torch": acc_torch, "nest": None, "spikes_equal": None}
    if nest:
        ns = nm.build(seq, backend="pynn:nest")
        ns.run(float(duration))
        acc_nest = slot_accuracy(ns.spikes("out"), labels)
        same = all(np.array_equal(a, b) for a, b in zip(ts.spikes("out"), ns.spikes("out")))
        out.update(nest=acc_nest, spikes_equal=same)
        log(f"NEST test accuracy (same JSON): {acc_nest:.3f}  (torch - NEST: {100 * (acc_torch - acc_nest):+.1f} points; "
            f"output spikes identical: {same})")
    if importlib.util.find_spec("spynnaker") is None:
        log("pynn:spinnaker: skipped - sPyNNaker is not installed here (pip install -e '.[spinnaker]' in the neuromorph checkout); "
            "the same JSON maps with nm.build(net, backend='pynn:spinnaker')")
    else:
        sp = nm.build(seq, backend="pynn:spinnaker")
        log(f"pynn:spinnaker: mapped ({type(sp).__name__}); a virtual board produces no spikes")
    log(f"done in {time.time() - t0:.1f} s")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations and test trials")
    ap.add_argument("--json", help="write the trained network's JSON here")
    a = ap.parse_args()
    main(quick=a.quick, json_path=a.json)
