"""Homeostasis experiment: a population whose input rate changes 5× returns to its target rate.

Network (public model description only): ``n`` IF_curr_exp neurons (PyNN defaults), each
connected with probability ``p_connect`` to ``n_inputs`` Poisson sources at ``base_rate`` Hz until
``t_switch`` and to ``n_inputs`` sources at ``factor × base_rate`` Hz afterwards (two sources with
start/duration, so one description covers the whole protocol), weight ``weight`` nA. ``SynapticScaling`` on both input projections drives
each neuron's afferent factor toward ``target_rate`` (docs/mechanisms.md §1).

- ``backend="torch"``: the construct runs online, every step (``nm.build(net, backend="torch")``).
- ``backend="pynn:nest"``: emulated, host in the loop — the PyNN backend on NEST (on-grid
  ``iaf_psc_exp``, ``nm.build(net, backend="pynn:nest", segment_ms=segment_ms)``) runs in segments
  of ``segment_ms``; after each segment every neuron's rate r_seg (spike count / segment) updates
  ``g ← clip(g·exp((T/τ)(1 − r_seg/ν*)), g_min, g_max)`` (the same ODE, with the rate estimate
  replaced by the segment's count) and the weights are set to ``w0·g_post``
  (neuromorph.backends.pynn.homeostasis).

``rate_shift_experiment`` returns the rate per window, the rate just before and just after the
switch, and the final rate with its relative error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import neuromorph as nm
from neuromorph.errors import ValidationError
from neuromorph.mechanisms import SynapticScaling

from ._progress import Progress

__all__ = ["rate_shift_network", "rate_shift_experiment", "RateShiftResult"]


@dataclass
class RateShiftResult:
    backend: str
    how: str                   # "online every step" or "host in the loop, segments of X ms"
    target_rate: float         # Hz
    window_ms: float
    times: np.ndarray          # window ends [ms]
    rates: np.ndarray          # population mean rate per window [Hz]
    factor: np.ndarray         # mean scaling factor at each window end
    rate_before: float         # mean rate over the last `settle_ms` before the switch
    rate_after_switch: float   # mean rate over the first window after the switch
    rate_final: float          # mean rate over the last `settle_ms`
    extra: dict = field(default_factory=dict)

    @property
    def final_error(self) -> float:
        """|rate_final − target| / target."""
        return abs(self.rate_final - self.target_rate) / self.target_rate

    def summary(self) -> str:
        return (f"{self.backend:<10} ({self.how}): target {self.target_rate:g} Hz; before switch {self.rate_before:.2f} Hz; "
                f"first {self.window_ms:g} ms after 5x input {self.rate_after_switch:.2f} Hz; final {self.rate_final:.2f} Hz "
                f"({100 * self.final_error:.1f}% off)")


def rate_shift_network(n=20, n_inputs=200, base_rate=10.0, factor=5.0, weight=0.3, t_switch=10000.0, duration=30000.0,
                       target_rate=10.0, tau=2000.0, rate_tau=500.0, dt=1.0, seed=0, p_connect=0.25) -> nm.Network:
    net = nm.Network(dt=dt, seed=seed)
    net.poisson_source("low", n_inputs, base_rate, start=0.0, duration=t_switch)
    net.poisson_source("high", n_inputs, base_rate * factor, start=t_switch, duration=duration - t_switch)
    net.population("neurons", n, nm.IF_curr_exp())
    net.connect("low", "neurons", nm.FixedProbability(p_connect), weight=weight, label="low->neurons")
    net.connect("high", "neurons", nm.FixedProbability(p_connect), weight=weight, label="high->neurons")
    net.record("neurons", "spikes")
    net.add(SynapticScaling("scaling", "neurons", target_rate, tau=tau, rate_tau=rate_tau))
    return net


def _window_rates(spike_lists, n, duration, window):
    edges = np.arange(0.0, duration + 1e-9, window)
    counts = np.zeros(len(edges) - 1)
    for times in spike_lists:
        counts += np.histogram(np.asarray(times), bins=edges)[0]
    return edges[1:], counts / n / (window / 1000.0)


def rate_shift_experiment(backend: str = "torch", n=20, n_inputs=200, base_rate=10.0, factor=5.0, weight=0.3,
                          t_switch=10000.0, duration=30000.0, target_rate=10.0, tau=2000.0, rate_tau=500.0,
                          window_ms=500.0, settle_ms=5000.0, segment_ms=500.0, dt=1.0, seed=0,
                          numerics="exact", p_connect=0.25, progress: bool = False) -> RateShiftResult:
    """Run the 5×-input experiment on ``backend`` ("torch" or "pynn:nest") and return the rates;
    ``progress=True`` prints progress lines on stderr (simulated ms, elapsed, time left)."""
    if backend not in ("torch", "pynn:nest"):
        raise ValidationError(f"rate_shift_experiment: backend={backend!r}; choose 'torch' or 'pynn:nest'")
    if not 0 < t_switch < duration or settle_ms > min(t_switch, duration - t_switch):
        raise ValidationError(f"rate_shift_experiment: need 0 < t_switch={t_switch} < duration={duration} ms and settle_ms={settle_ms} <= both phases")
    net = rate_shift_network(n, n_inputs, base_rate, factor, weight, t_switch, duration, target_rate, tau, rate_tau, dt, seed,
                             p_connect)
    if backend == "torch":
        sim = nm.build(net, backend="torch", numerics=numerics)
        how = "online, every step"
    else:
        sim = nm.build(net, backend="pynn:nest", segment_ms=segment_ms)
        how = f"host in the loop, segments of {segment_ms:g} ms"
    mech = next(m for m in sim.mechanisms if getattr(m, "label", None) == "scaling")
    fac = []
    n_windows = int(round(duration / window_ms))
    bar = Progress(f"homeostasis on {backend}", n_windows * window_ms, "ms simulated", enabled=progress)
    for w in range(n_windows):
        sim.run(window_ms)
        bar.update((w + 1) * window_ms)
        fac.append(float(np.mean(mech.factor)))  # numpy on every backend
    spikes = sim.spikes("neurons")
    times, rates = _window_rates(spikes, n, duration, window_ms)

    def mean_rate(t0, t1):
        sel = (times > t0 + 1e-9) & (times <= t1 + 1e-9)
        return float(rates[sel].mean())

    return RateShiftResult(backend, how, target_rate, window_ms, times, rates, np.asarray(fac),
                           mean_rate(t_switch - settle_ms, t_switch), mean_rate(t_switch, t_switch + window_ms),
                           mean_rate(duration - settle_ms, duration),
                           {"n": n, "n_inputs": n_inputs, "base_rate": base_rate, "factor": factor, "tau": tau,
                            "rate_tau": rate_tau, "segment_ms": segment_ms if backend != "torch" else None})


def _main():  # python -m neuromorph.models.homeostasis
    for backend in ("torch", "pynn:nest"):
        print(rate_shift_experiment(backend, progress=True).summary(), flush=True)


if __name__ == "__main__":
    _main()
