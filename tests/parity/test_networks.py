"""Recurrent E/I networks with Poisson input, 1 s (tests/parity/networks.py): statistical parity.

Each backend draws its own Poisson trains, so only statistics can agree. A backend is compared
with NEST (NEST itself with torch ``exact``): per-neuron rates (two-sample KS test and mean),
ISI CV (KS and median), mean pairwise correlation of 10 ms spike counts, and with STDP the final
E→E weight distribution (KS distance, mean, spread).

Tolerances, from NEST against itself over five Poisson seeds with the same connectivity
(200 neurons): mean rate ±7 %, median CV ±0.03, mean correlation ±0.015, weight KS distance
≤ 0.05 (its KS p-value is not usable: the 2,500 weights share each neuron's rate); each bound
below is that spread plus a margin. Brian2 gets wider bounds because its discretisation differs
(documented in docs/backends.md: one step shorter refractoriness, strict threshold, source
spikes one step later, axonal STDP delays).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from .harness import BACKENDS, build
from .networks import ei_network
from .reference import cvs, pairwise_correlations, rates

T = 1000.0
N = 200

#: backend -> (rate rel., CV abs., correlation abs., weight KS distance, weight mean rel.)
TOLERANCE = {
    "default": (0.12, 0.06, 0.02, 0.10, 0.01),
    "pynn:brian2": (0.25, 0.10, 0.03, 0.30, 0.03),
}

_RUNS: dict = {}


def _stats(backend, stdp: bool):
    key = (backend.name, stdp)
    if key not in _RUNS:
        sim = build(ei_network(N, stdp=stdp), backend)
        sim.run(T)
        spikes = sim.spikes("E") + sim.spikes("I")
        w = sim.weights("E->E") if stdp else None
        _RUNS[key] = {"rates": rates(spikes, T), "cv": cvs(spikes), "corr": pairwise_correlations(spikes, T),
                      "w": w[~np.isnan(w)] if w is not None else None}
    return _RUNS[key]


def _reference_for(backend):
    other = BACKENDS["torch:exact"] if backend.name == "pynn:nest" else BACKENDS["pynn:nest"]
    return other


def _compare(a, b, tol):
    r_tol, cv_tol, c_tol, _, _ = tol
    assert abs(a["rates"].mean() - b["rates"].mean()) <= r_tol * b["rates"].mean(), (a["rates"].mean(), b["rates"].mean())
    assert stats.ks_2samp(a["rates"], b["rates"]).pvalue > 1e-3
    assert abs(np.median(a["cv"]) - np.median(b["cv"])) <= cv_tol, (np.median(a["cv"]), np.median(b["cv"]))
    assert stats.ks_2samp(a["cv"], b["cv"]).pvalue > 1e-3
    assert abs(np.nanmean(a["corr"]) - np.nanmean(b["corr"])) <= c_tol


def test_ei_network_statistics(backend):
    """200 neurons, live Poisson input, static synapses, 1 s."""
    got = _stats(backend, stdp=False)
    ref = _stats(_reference_for(backend), stdp=False)
    assert 5.0 < got["rates"].mean() < 40.0  # the regime the tolerances were measured in
    _compare(got, ref, TOLERANCE.get(backend.name, TOLERANCE["default"]))


def test_ei_network_stdp_weights(backend):
    """The same network with additive all-pairs STDP on E→E: final weight distributions."""
    tol = TOLERANCE.get(backend.name, TOLERANCE["default"])
    got = _stats(backend, stdp=True)
    ref = _stats(_reference_for(backend), stdp=True)
    _compare(got, ref, tol)
    wa, wb = got["w"], ref["w"]
    assert wa.size == wb.size  # same connectivity everywhere
    assert stats.ks_2samp(wa, wb).statistic <= tol[3]
    assert abs(wa.mean() - wb.mean()) <= tol[4] * wb.mean()
    assert abs(wa.std() - wb.std()) <= 0.25 * wb.std()
    assert wa.std() > 0  # the weights did move
