"""Recurrent excitatory/inhibitory test networks, built only from the public model description
(independent of neuromorph.models).

``ei_network`` makes an 80/20 E/I population of IF_curr_exp neurons with random (seeded)
connectivity, driven by Poisson sources — either live Poisson sources (each backend draws its own
trains: statistical parity only) or *frozen* trains drawn here with numpy and given as
SpikeSourceArrays (every backend sees the same input: deterministic, so torch ``exact`` and NEST
must agree spike for spike). Optional additive STDP on the E→E projection.
"""
from __future__ import annotations

import numpy as np

import neuromorph as nm

#: neuron parameters: PyNN defaults, 2 ms refractory (a whole number of steps on every backend)
CELL = dict(cm=1.0, tau_m=20.0, tau_refrac=2.0, tau_syn_E=5.0, tau_syn_I=5.0, v_rest=-65.0, v_reset=-65.0,
            v_thresh=-50.0, i_offset=0.0)


def frozen_poisson(n: int, rate_hz: float, t_ms: float, dt: float, seed: int) -> list[list[float]]:
    """``n`` Bernoulli-per-step spike trains (rate·dt/1000 per step) on the dt grid, none before
    2·dt (the earliest source spike PyNN can give NEST; see the capability table)."""
    rng = np.random.default_rng(seed)
    steps = int(round(t_ms / dt))
    hits = rng.random((n, steps)) < rate_hz * dt / 1000.0
    hits[:, :2] = False
    return [list(np.nonzero(row)[0] * dt) for row in hits]


def ei_network(n: int = 200, *, seed: int = 1, stdp: bool = False, frozen_input: bool = False,
               t_ms: float = 1000.0, dt: float = 1.0, n_ext: int | None = None, rate_ext: float = 20.0,
               k_exc: int = 16, k_ext: int = 40, w_ext: float = 0.2, w_exc: float = 0.1, g: float = 5.0,
               record_v: bool = False, record_weights_every: int | None = None,
               noise_seed: int | None = None) -> nm.Network:
    """An E/I network of ``n`` IF_curr_exp neurons (80 % excitatory).

    Weights [nA]: external ``w_ext``, E→* ``w_exc``, I→* ``g·w_exc``. Connection probabilities give
    a mean of ``k_exc`` excitatory (and k_exc/4 inhibitory) recurrent inputs and ``k_ext`` external
    inputs per neuron whatever ``n``, so rates do not depend on size (about 15 Hz, CV about 0.5).
    Delays 1 ms (E) and 2 ms (I). With ``stdp`` the E→E projection learns with an all-pairs
    additive rule, w ∈ [0, 2·w_exc] nA. ``seed`` fixes connectivity, initial V and frozen input;
    ``noise_seed`` (default ``seed``) is the network seed that live Poisson sources draw from.
    """
    n_e = int(round(0.8 * n))
    n_i = n - n_e
    n_ext = n_ext or n
    p, p_ext = min(1.0, k_exc / n_e), min(1.0, k_ext / n_ext)
    net = nm.Network(dt=dt, seed=seed if noise_seed is None else noise_seed)
    if frozen_input:
        net.spike_source("ext", frozen_poisson(n_ext, rate_ext, t_ms, dt, seed + 7))
    else:
        net.poisson_source("ext", n_ext, rate_ext)
    rng = np.random.default_rng(seed + 11)
    v0 = lambda m: rng.uniform(CELL["v_reset"], CELL["v_thresh"], m)
    net.population("E", n_e, nm.IF_curr_exp(**CELL), initial_values={"v": v0(n_e)})
    net.population("I", n_i, nm.IF_curr_exp(**CELL), initial_values={"v": v0(n_i)})
    for k, post in enumerate(("E", "I")):
        net.connect("ext", post, nm.FixedProbability(p_ext, seed=seed * 100 + k), weight=w_ext, delay=1.0, label=f"ext->{post}")
    plastic = None
    if stdp:
        plastic = nm.STDP(timing=nm.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
                          weight=nm.Additive(w_min=0.0, w_max=2 * w_exc, step="times_w_max"))
    for k, (pre, post) in enumerate((("E", "E"), ("E", "I"), ("I", "E"), ("I", "I"))):
        exc = pre == "E"
        net.connect(pre, post, nm.FixedProbability(p, seed=seed * 100 + 10 + k, allow_self_connections=False),
                    weight=w_exc if exc else g * w_exc, delay=1.0 if exc else 2.0,
                    receptor="excitatory" if exc else "inhibitory",
                    plasticity=plastic if (pre, post) == ("E", "E") else None, label=f"{pre}->{post}")
    net.record("E", "spikes", *(("v",) if record_v else ()))
    net.record("I", "spikes")
    if stdp and record_weights_every:
        net.record("E->E", "weights", every=record_weights_every)
    return net
