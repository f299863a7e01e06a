"""How fast a hand-written torch loop runs the demo network, side by side with neuromorph's demo
in one process (the floor the "demo ≤ 0.15 s" target is measured against, docs/benchmarks.md).

    python benchmarks/demo_floor.py            # min of 5 runs each, one thread

The hand-written loop is a simplification, not the same model: the demo's sizes, densities,
weights and rates (100 Poisson inputs at 15 Hz → 80 exc + 20 inh, STDP on exc→exc), dense
matrices, IF_curr_exp-like propagators, dense all-pairs STDP with traces — but no NEST event
order, no spike stamps, no recording. It bounds from below what a per-step torch loop costs here.
"""
from __future__ import annotations

import math
import time

import torch

import neuromorph as nm
from neuromorph.demo import N_EXC, N_INH, N_INPUT, demo_network

STEPS = 1000   # 1 s at dt = 1 ms


def hand_written(g: torch.Generator):
    f64 = torch.float64
    n = N_EXC + N_INH
    p22, pe = math.exp(-1.0 / 20.0), math.exp(-1.0 / 5.0)
    w_in = ((torch.rand(N_INPUT, n, generator=g, dtype=f64) < 0.2) * 1.2).to(f64)
    w_ee0 = ((torch.rand(N_EXC, N_EXC, generator=g, dtype=f64) < 0.1) * 0.2).to(f64)
    mask = w_ee0 > 0
    w_ei = ((torch.rand(N_EXC, N_INH, generator=g, dtype=f64) < 0.2) * 0.3).to(f64)
    w_ie = ((torch.rand(N_INH, N_EXC, generator=g, dtype=f64) < 0.2) * 0.8).to(f64)
    x = (torch.rand(STEPS, 1, N_INPUT, generator=g, dtype=f64) < 0.015).to(f64).unbind(0)

    def run():
        with torch.inference_mode():
            v = torch.full((1, n), -65.0, dtype=f64)
            ie, ii = torch.zeros(1, n, dtype=f64), torch.zeros(1, n, dtype=f64)
            ref = torch.zeros(1, n, dtype=torch.int64)
            x_pre, x_post = torch.zeros(1, N_EXC, dtype=f64), torch.zeros(1, N_EXC, dtype=f64)
            w = w_ee0.clone()
            for k in range(STEPS):
                vn = -65.0 + (v + 65.0) * p22 + ie * 0.3 + ii * 0.3
                free = ref <= 0
                v, ref = torch.where(free, vn, v), torch.where(free, ref, ref - 1)
                fired = v >= -50.0
                s = fired.to(f64)
                if bool(fired.any()):
                    v, ref = v.masked_fill(fired, -65.0), ref.masked_fill(fired, 2)
                ie, ii = ie * pe, ii * pe
                ie = ie + x[k] @ w_in
                se, si = s[:, :N_EXC], s[:, N_EXC:]
                ie[:, N_EXC:] += se @ w_ei
                ii[:, :N_EXC] += si @ w_ie
                ie[:, :N_EXC] += se @ w
                x_pre, x_post = x_pre * 0.95 + se, x_post * 0.95 + se
                w = torch.where(mask & (se.view(N_EXC, 1) > 0), (w - 0.012 * x_post).clamp(min=0.0), w)
                w = torch.where(mask & (se.view(1, N_EXC) > 0), (w + 0.01 * x_pre.view(N_EXC, 1)).clamp(max=0.5), w)
        return w
    return run


def engine(numerics: str):
    def run():
        net, _ = demo_network(0)
        sim = nm.build(net, backend="torch", numerics=numerics)
        t = time.perf_counter()
        sim.run(float(STEPS))
        return time.perf_counter() - t
    return run


def main(repeats: int = 5) -> None:
    torch.set_num_threads(1)
    hand = hand_written(torch.Generator().manual_seed(0))
    hand()
    engine("exact")()
    times = {"hand-written": [], "neuromorph exact": [], "neuromorph spinnaker": []}
    for _ in range(repeats):   # alternating, so that load changes hit all three alike
        t = time.perf_counter()
        hand()
        times["hand-written"].append(time.perf_counter() - t)
        times["neuromorph exact"].append(engine("exact")())
        times["neuromorph spinnaker"].append(engine("spinnaker")())
    ref = min(times["hand-written"])
    for name, ts in times.items():
        print(f"{name:22s} {min(ts):7.3f} s  {min(ts) / ref:5.2f}x hand-written")


if __name__ == "__main__":
    main()
