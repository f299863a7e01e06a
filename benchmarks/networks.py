"""Benchmark networks built from the public model description only."""
from __future__ import annotations

import neuromorph as nm


def recurrent_stdp(n: int = 1000, seed: int = 1, rate_hz: float = 20.0) -> tuple[nm.Network, nm.Projection]:
    """An n-neuron E/I network (80% exc, p = 0.1) with Poisson drive and all-pairs additive STDP on
    the E→E projection. Returns (network, plastic projection); spikes of E and I are recorded."""
    net = nm.Network(dt=1.0, seed=seed)
    ne = int(n * 0.8)
    inp = net.poisson_source("in", 200, rate_hz)
    e = net.population("E", ne, nm.IF_curr_exp(tau_refrac=2.0))
    i = net.population("I", n - ne, nm.IF_curr_exp(tau_refrac=2.0))
    net.connect(inp, e, nm.FixedProbability(0.1), weight=1.0, delay=1)
    net.connect(inp, i, nm.FixedProbability(0.1), weight=1.0, delay=1)
    ee = net.connect(e, e, nm.FixedProbability(0.1), weight=0.1, delay=2, label="E->E",
                     plasticity=nm.STDP(nm.SpikePairRule(20, 20, 0.01, 0.012), nm.Additive(0, 0.5)))
    net.connect(e, i, nm.FixedProbability(0.1), weight=0.2, delay=1)
    net.connect(i, e, nm.FixedProbability(0.1), weight=0.5, delay=1, receptor="inhibitory")
    net.record(e, "spikes")
    net.record(i, "spikes")
    return net, ee
