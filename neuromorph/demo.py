"""``neuromorph demo``: a small, real network on the embedded default backend.

100 Poisson inputs (15 Hz) drive 80 excitatory and 20 inhibitory ``IF_curr_exp`` neurons; the
recurrent excitatory projection learns with all-pairs additive STDP. Simulated for 1 s (dt = 1 ms)
on the torch backend — CUDA when torch sees a GPU, else the CPU — with the ``spinnaker``
numerics profile. It prints what it did and writes a raster plot with the STDP weight trajectory.

Built from the public model description only (``import neuromorph as nm``), so it doubles as an
example. Deterministic: the network and the Poisson inputs follow ``seed``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

import neuromorph as nm
from neuromorph.atomic import write_text

N_INPUT, N_EXC, N_INH = 100, 80, 20
INPUT_RATE_HZ = 15.0
WEIGHT_EVERY_STEPS = 10


def demo_network(seed: int = 0) -> tuple[nm.Network, nm.Projection]:
    """The demo network and its plastic exc->exc projection. Weights in nA, delays in ms."""
    net = nm.Network(dt=1.0, seed=seed)
    inp = net.poisson_source("input", N_INPUT, INPUT_RATE_HZ)
    e = net.population("exc", N_EXC, nm.IF_curr_exp(tau_refrac=2.0), initial_values={"v": -65.0})
    i = net.population("inh", N_INH, nm.IF_curr_exp(tau_refrac=2.0))
    net.connect(inp, e, nm.FixedProbability(0.2), weight=1.2, delay=1, label="input->exc")
    net.connect(inp, i, nm.FixedProbability(0.2), weight=1.2, delay=1, label="input->inh")
    ee = net.connect(e, e, nm.FixedProbability(0.1, allow_self_connections=False), weight=0.2, delay=2,
                     label="exc->exc",
                     plasticity=nm.STDP(nm.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
                                        nm.Additive(w_min=0.0, w_max=0.5)))
    net.connect(e, i, nm.FixedProbability(0.2), weight=0.3, delay=1, label="exc->inh")
    net.connect(i, e, nm.FixedProbability(0.2), weight=0.8, delay=1, receptor="inhibitory", label="inh->exc")
    for pop in (inp, e, i):
        net.record(pop, "spikes")
    net.record(ee, "weights", every=WEIGHT_EVERY_STEPS)
    return net, ee


def default_device() -> str:
    """"cuda" when torch sees a GPU, else "cpu"."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run_demo(out_dir: str | Path = "neuromorph_out", duration_ms: float = 1000.0, device: str | None = None,
             numerics: str = "spinnaker", seed: int = 0, plot: bool = True, echo=print) -> dict:
    """Build, run and report the demo; returns the summary (also written as ``demo_summary.json``).

    Writes to ``out_dir``: ``demo_raster.png`` (raster + mean exc->exc weight, unless
    ``plot=False``), ``demo_network.json`` (the network, runnable with ``neuromorph run``) and
    ``demo_summary.json``.
    """
    device = device or default_device()
    net, ee = demo_network(seed)
    out = Path(out_dir)
    t0 = time.perf_counter()
    sim = nm.build(net, backend="torch", numerics=numerics, device=device)
    t1 = time.perf_counter()
    conn = net.connectivity(ee)
    w0 = sim.weights(ee)[conn.pre, conn.post]  # as stored (the spinnaker profile quantises), synapse order
    sim.run(duration_ms)
    t2 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "demo_network.json", net.to_json())

    n_syn = {label: net.connectivity(label).size for label in net.projections}
    summary = {"backend": "torch", "numerics": numerics, "device": device, "seed": seed, "dt_ms": net.dt,
               "duration_ms": float(duration_ms), "build_s": round(t1 - t0, 3), "run_s": round(t2 - t1, 3),
               "populations": {}, "synapses": n_syn}
    echo(f"neuromorph demo: {duration_ms:g} ms of a {N_EXC + N_INH}-neuron E/I network with STDP "
         f"on torch ({numerics} numerics, device {device}, dt {net.dt:g} ms, seed {seed})")
    echo(f"  network: {N_INPUT} Poisson inputs at {INPUT_RATE_HZ:g} Hz -> {N_EXC} exc + {N_INH} inh IF_curr_exp; "
         f"{sum(n_syn.values())} synapses in {len(n_syn)} projections ({n_syn['exc->exc']} plastic exc->exc)")
    spikes = {}
    for label in ("input", "exc", "inh"):
        spikes[label] = sim.spikes(label)
        count = int(sum(len(s) for s in spikes[label]))
        rate = count / len(spikes[label]) / (duration_ms / 1000.0)
        summary["populations"][label] = {"neurons": len(spikes[label]), "spikes": count, "rate_hz": round(rate, 3)}
        echo(f"  {label:>5}: {len(spikes[label]):3d} neurons, {count:6d} spikes, mean rate {rate:7.2f} Hz")

    times, history = sim.weight_history(ee)
    w1 = sim.weights(ee)[conn.pre, conn.post]
    up, down = int((w1 > w0 + 1e-12).sum()), int((w1 < w0 - 1e-12).sum())
    summary["stdp"] = {"projection": "exc->exc", "synapses": conn.size, "mean_weight_nA": [float(w0.mean()), float(w1.mean())],
                       "potentiated": up, "depressed": down, "at_w_max": int((w1 >= 0.5 - 1e-12).sum()),
                       "at_w_min": int((w1 <= 1e-12).sum())}
    echo(f"  STDP exc->exc: mean weight {w0.mean():.4f} -> {w1.mean():.4f} nA; {up} potentiated, {down} depressed, "
         f"{conn.size - up - down} unchanged of {conn.size} synapses")

    files = [out / "demo_network.json"]
    if plot:
        png = out / "demo_raster.png"
        mean_w = np.array([np.nanmean(h) for h in history] + [w1.mean()])
        times = np.append(times, sim.time)
        _figure(spikes, times, mean_w, duration_ms, png, f"neuromorph demo: torch ({numerics}) on {device}")
        files.insert(0, png)
        summary["raster_png"] = str(png)
    echo(f"  wall time: {t2 - t0:.2f} s (build {t1 - t0:.2f} s, run {t2 - t1:.2f} s)")
    write_text(out / "demo_summary.json", json.dumps(summary, indent=1))
    files.append(out / "demo_summary.json")
    echo("  wrote " + ", ".join(str(f) for f in files))
    return summary


def _figure(spikes: dict, times, mean_w, duration_ms: float, path: Path, title: str) -> None:
    from .plotting import pyplot, raster_axes

    plt = pyplot()
    fig, (ax, axw) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    raster_axes(ax, list(spikes.items()), duration_ms)
    ax.set_xlabel("")
    ax.set_title(title)
    axw.plot(times, mean_w, color="tab:blue")
    axw.set_ylabel("mean exc→exc\nweight (nA)")
    axw.set_xlabel("time (ms)")
    axw.set_xlim(0, duration_ms)
    fig.tight_layout()
    from .atomic import savefig

    savefig(fig, path, dpi=110)
    plt.close(fig)
