"""The README's main job: a small, real network on the embedded default backend.

Poisson input drives 80 excitatory and 20 inhibitory IF_curr_exp neurons; the E→E projection
learns with all-pairs additive STDP. Built from the public model description only.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import neuromorph as nm


def demo_network(seed: int = 0) -> tuple[nm.Network, nm.Projection]:
    net = nm.Network(dt=1.0, seed=seed)
    inp = net.poisson_source("input", 100, 15.0)
    e = net.population("exc", 80, nm.IF_curr_exp(tau_refrac=2.0), initial_values={"v": -65.0})
    i = net.population("inh", 20, nm.IF_curr_exp(tau_refrac=2.0))
    net.connect(inp, e, nm.FixedProbability(0.2), weight=1.2, delay=1, label="input->exc")
    net.connect(inp, i, nm.FixedProbability(0.2), weight=1.2, delay=1, label="input->inh")
    ee = net.connect(e, e, nm.FixedProbability(0.1, allow_self_connections=False), weight=0.2, delay=2, label="exc->exc",
                     plasticity=nm.STDP(nm.SpikePairRule(20.0, 20.0, 0.01, 0.012), nm.Additive(0.0, 0.5)))
    net.connect(e, i, nm.FixedProbability(0.2), weight=0.3, delay=1, label="exc->inh")
    net.connect(i, e, nm.FixedProbability(0.2), weight=0.8, delay=1, receptor="inhibitory", label="inh->exc")
    for pop in (inp, e, i):
        net.record(pop, "spikes")
    return net, ee


def run_demo(out_dir: str | Path = "neuromorph_out", duration_ms: float = 1000.0, device: str | None = None,
             numerics: str = "spinnaker", echo=print) -> dict:
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net, ee = demo_network()
    t0 = time.perf_counter()
    sim = nm.build(net, backend="torch", numerics=numerics, device=device)
    w0 = np.nanmean(sim.weights(ee))
    sim.run(duration_ms)
    wall = time.perf_counter() - t0
    summary = {"backend": "torch", "numerics": numerics, "device": device, "duration_ms": duration_ms, "wall_s": round(wall, 3)}
    echo(f"neuromorph demo: torch ({numerics}) on {device}, {duration_ms:g} ms of a 100-neuron E/I network with STDP")
    for label in ("input", "exc", "inh"):
        spikes = sim.spikes(label)
        count = int(sum(len(s) for s in spikes))
        rate = count / len(spikes) / (duration_ms / 1000.0)
        summary[label] = {"neurons": len(spikes), "spikes": count, "rate_hz": round(rate, 2)}
        echo(f"  {label:>5}: {len(spikes):3d} neurons, {count:5d} spikes, {rate:6.2f} Hz")
    w1 = np.nanmean(sim.weights(ee))
    summary["exc->exc_mean_weight_nA"] = [float(w0), float(w1)]
    echo(f"  STDP exc->exc: mean weight {w0:.4f} -> {w1:.4f} nA")
    png = out / "demo_raster.png"
    _raster(sim, ("input", "exc", "inh"), duration_ms, png)
    summary["raster_png"] = str(png)
    echo(f"  raster plot: {png}   wall time {wall:.2f} s")
    return summary


def _raster(sim, labels, duration_ms, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    offset = 0
    for label, color in zip(labels, ("0.6", "tab:blue", "tab:red")):
        spikes = sim.spikes(label)
        for i, times in enumerate(spikes):
            ax.plot(times, np.full(len(times), offset + i), "|", color=color, markersize=3)
        ax.text(duration_ms * 1.01, offset + len(spikes) / 2, label, va="center")
        offset += len(spikes)
    ax.set_xlim(0, duration_ms)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_title("neuromorph demo: Poisson input → E/I network with STDP")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
