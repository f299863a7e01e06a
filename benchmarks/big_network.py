"""The memory target of the engine issue: N = 50,000 IF_curr_exp neurons with in-degree 1,000
(FixedProbability(0.02) within and between E and I: 50 M synapses, STDP on E→E), 1,000 Poisson
inputs, float32, exact numerics, 1 s on one thread. Prints description, build and run times;
run it under ``/usr/bin/time -v`` for the peak memory.

    /usr/bin/time -v python benchmarks/big_network.py 50000 0.02 1000
"""
import sys
import time

import torch

import neuromorph as nm


def main(n: int, p: float, ms: float) -> None:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    net = nm.Network(dt=1.0, seed=0)
    ne = int(0.8 * n)
    inp = net.poisson_source("in", 1000, 20.0)
    e = net.population("E", ne, nm.IF_curr_exp())
    i = net.population("I", n - ne, nm.IF_curr_exp())
    stdp = nm.STDP(nm.SpikePairRule(20, 20, 0.001, 0.0012), nm.Additive(0, 0.05))
    net.connect(inp, e, nm.FixedProbability(0.04), weight=0.5)
    net.connect(inp, i, nm.FixedProbability(0.04), weight=0.5)
    net.connect(e, e, nm.FixedProbability(p), weight=0.01, plasticity=stdp, label="EE")
    net.connect(e, i, nm.FixedProbability(p), weight=0.01)
    net.connect(i, e, nm.FixedProbability(p), weight=0.04, receptor="inhibitory")
    net.connect(i, i, nm.FixedProbability(p), weight=0.04, receptor="inhibitory")
    net.record(e, "spikes")
    t1 = time.perf_counter()
    sim = nm.build(net, numerics="exact", dtype=torch.float32)
    t2 = time.perf_counter()
    sim.run(ms)
    t3 = time.perf_counter()
    spikes = sim.spikes("E")
    synapses = sum(net.connectivity(label).size for label in net.projections)
    print(f"N={n}, {synapses:,} synapses: describe {t1 - t0:.1f} s, build {t2 - t1:.1f} s, run {ms:.0f} ms in "
          f"{t3 - t2:.1f} s, E rate {sum(len(s) for s in spikes) / len(spikes) / (ms / 1000):.1f} Hz")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]))
