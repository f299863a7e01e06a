"""Time the torch backend on the recurrent STDP network; optionally compare CPU and CUDA spikes.

    python benchmarks/bench_torch.py --n 1000 --ms 1000 --devices cpu cuda --batch 1
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import neuromorph as nm
from networks import recurrent_stdp


def run(n, ms, device, numerics, batch):
    net, ee = recurrent_stdp(n)
    t0 = time.perf_counter()
    sim = nm.build(net, numerics=numerics, device=device, batch=batch)
    t1 = time.perf_counter()
    sim.run(ms)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t2 = time.perf_counter()
    spikes = sim.spikes("E") if batch == 1 else sim.spikes("E")[0]
    return {"device": device, "numerics": numerics, "n": n, "ms": ms, "batch": batch,
            "build_s": round(t1 - t0, 3), "run_s": round(t2 - t1, 3),
            "spikes": int(sum(len(s) for s in spikes)), "mean_w": float(np.nanmean(sim.weights(ee)))}, spikes, sim.weights(ee)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--ms", type=float, default=1000)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--devices", nargs="+", default=["cpu"])
    ap.add_argument("--numerics", nargs="+", default=["exact", "spinnaker"])
    args = ap.parse_args()
    for numerics in args.numerics:
        ref = None
        for device in args.devices:
            row, spikes, w = run(args.n, args.ms, device, numerics, args.batch)
            if ref is None:
                ref = (spikes, w)
            else:
                same = all(np.array_equal(a, b) for a, b in zip(ref[0], spikes))
                row["same_spikes_as_" + args.devices[0]] = same
                row["max_weight_diff"] = float(np.nanmax(np.abs(ref[1] - w)))
            print(json.dumps(row))


if __name__ == "__main__":
    main()
