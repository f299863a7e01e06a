"""Host-in-the-loop homeostasis on the PyNN simulators (docs/mechanisms.md §1, §5).

PyNN has no synaptic scaling or threshold adaptation, so the host applies them between run
segments: the simulation time is cut into segments of ``segment_ms`` (a build option, default
``neuromorph.mechanisms.capabilities.PYNN_SEGMENT_MS``; a multiple of dt) counted from t = 0, and
``PyNNSimulation.run`` stops at every segment end, whatever the lengths passed to ``run`` (so
``run(a); run(b)`` equals ``run(a + b)``). At the end of a segment of length T [ms], for each
neuron of the population, with ``r`` = its spike count in the segment / (T/1000) [Hz] (the
population mean for ``scope="population"``):

    SynapticScaling      g ← clip(g·exp((T/τ)(1 − r/ν*)), g_min, g_max); every scaled synapse is
                         rewritten to w·g_post (w: the stored weight)
    ThresholdAdaptation  θ ← clip(θ + (T/τ)·step·(r/ν* − 1), θ_min, θ_max); v_thresh ← v_thresh + θ

i.e. the online rules of ``neuromorph.mechanisms.homeostasis`` with the exponential rate estimate
(``rate_tau``) replaced by the segment's spike count and dt by T — ``rate_tau`` is not used here.
``sim.weights`` reports the stored weights w (as on torch, the factor is a gain on transmission);
``set_weights`` sets w and the simulator gets w·g. A scaled projection must be static: a PyNN
synapse holds one weight, so STDP would act on (and clip) w·g (capability key
``SynapticScaling:plastic projection``). On a virtual SpiNNaker board nothing runs, so nothing is
updated. ``WeightFactorCalibration`` is a host-side search (``neuromorph.mechanisms.calibrate``):
inside a run it does nothing.

The same loop runs SAL (``host_sal.HostSAL``: the segment's spike times replayed through the
online rule) and astrocytes (``host_astro.HostAstrocytes``: the torch integrator stepped over the
segment's input spikes; SIC → i_offset, SynapticGain → weights); these define ``segment_end(sim)``
instead of ``update``/``apply``. A projection's simulator weight is its stored weight times the
gain of every mechanism that scales it (SynapticScaling, SynapticGain).
"""
from __future__ import annotations

import math

import numpy as np

from neuromorph.errors import UnsupportedError, ValidationError
from neuromorph.mechanisms import SAL, Astrocytes, SynapticScaling, ThresholdAdaptation, WeightFactorCalibration
from neuromorph.mechanisms.capabilities import PYNN_SEGMENT_MS

from . import results
from .current_sources import INJECTED
from .host_astro import HostAstrocytes
from .host_sal import HostSAL


def segment_steps(net, segment_ms) -> int:
    """The segment length in steps (validated: a positive multiple of dt)."""
    ms = PYNN_SEGMENT_MS if segment_ms is None else segment_ms
    try:
        ms = float(ms)
    except (TypeError, ValueError):
        raise ValidationError(f"build: segment_ms={segment_ms!r} is not a number of ms") from None
    k = round(ms / net.dt) if math.isfinite(ms) else 0
    if k < 1 or abs(k * net.dt - ms) > 1e-9 * max(1.0, ms):
        raise ValidationError(f"build: segment_ms={segment_ms!r} must be a positive multiple of dt={net.dt:g} ms")
    return int(k)


class _Rates:
    """Spike counts of one population per segment: the spikes ``sim.spikes`` reports in
    (t_previous_end, t_end] (PyNN's NEST runs one min_delay ahead; later spikes belong to the
    next segment, as in ``results.spike_lists``)."""

    def __init__(self, sim, label):
        self.label = label
        self.pop = sim.lowered.populations[label]
        self.previous = np.zeros(self.pop.size)
        recorded = any(r.target == label and "spikes" in r.variables for r in sim.net.recordings)
        if not recorded:
            self.pop.record("spikes")

    def segment(self, sim, seconds: float) -> np.ndarray:
        """Rate of each neuron over the segment that just ended [Hz]."""
        block = self.pop.get_data("spikes", clear=False)
        trains = results.spike_lists(block.segments[-1], sim.lowered_ids[self.label], sim.time)
        total = np.array([float(len(t)) for t in trains])
        r = (total - self.previous) / seconds
        self.previous = total
        return r


class HostSynapticScaling:
    """A SynapticScaling construct applied between segments. ``factor``: ``[n]`` (``[1]`` for
    scope="population"), float64."""

    def __init__(self, construct: SynapticScaling, sim):
        self.construct = construct
        self.label = construct.label
        self.population = construct.population
        self.projections = construct.scaled_projections(sim.net)
        n = sim.net.populations[construct.population].size
        self.factor = np.full(1 if construct.scope == "population" else n, construct.initial_factor, dtype=np.float64)
        self._post = {p: sim.net.connectivity(p).post for p in self.projections}

    def gain(self, label) -> np.ndarray:
        """Per-synapse factor of a scaled projection ``[nsyn]``."""
        g = self.factor
        return np.full(self._post[label].size, g[0]) if g.size == 1 else g[self._post[label]]

    def update(self, rate: np.ndarray, T: float) -> None:
        c = self.construct
        drive = rate.mean(keepdims=True) if c.scope == "population" else rate
        self.factor = np.clip(self.factor * np.exp((T / c.tau) * (1.0 - drive / c.target_rate)), c.factor_min, c.factor_max)

    def apply(self, sim) -> None:
        for label in self.projections:
            sim._write_weights(label, sim._weight_list(label))


class HostThresholdAdaptation:
    """A ThresholdAdaptation construct applied between segments. ``shift``: θ ``[n]`` [mV]."""

    def __init__(self, construct: ThresholdAdaptation, sim):
        self.construct = construct
        self.label = construct.label
        self.population = construct.population
        celltype = sim.net.populations[construct.population].celltype
        if not hasattr(celltype, "v_thresh"):
            raise UnsupportedError(f"ThresholdAdaptation {construct.label!r}: {type(celltype).__name__} has no v_thresh "
                                   "parameter the host could shift; use backend='torch'")
        self.v_thresh = float(celltype.v_thresh)
        self.shift = np.zeros(sim.net.populations[construct.population].size)

    def update(self, rate: np.ndarray, T: float) -> None:
        c = self.construct
        self.shift = np.clip(self.shift + (T / c.tau) * c.step * (rate / c.target_rate - 1.0), c.shift_min, c.shift_max)

    def apply(self, sim) -> None:
        sim.lowered.populations[self.population].set(v_thresh=self.v_thresh + self.shift)


class HostCalibration:
    """WeightFactorCalibration: a host-side search between whole runs; nothing happens in a run."""

    def __init__(self, construct, sim):
        self.construct, self.label = construct, construct.label


#: construct type -> host-side class: ``update(rate, T)`` + ``apply(sim)`` (rate-driven, ``population``)
#: or ``segment_end(sim)`` (reads what it needs itself, e.g. HostSAL the segment's spike times)
HOST_MECHANISMS = {SynapticScaling: HostSynapticScaling, ThresholdAdaptation: HostThresholdAdaptation,
                   WeightFactorCalibration: HostCalibration, SAL: HostSAL, Astrocytes: HostAstrocytes,
                   **INJECTED}  # current sources: created and injected at build, nothing between segments


class HostLoop:
    """The host-side mechanisms of one built PyNN network (a new one at every (re)build)."""

    def __init__(self, sim, segment_ms=None):
        self.mechanisms = []
        for ext in sim.net.extensions:
            make = HOST_MECHANISMS.get(type(ext))
            if make is None:
                raise UnsupportedError(f"{type(ext).__name__} is unsupported on backend {sim.backend!r}: no PyNN lowering exists")
            self.mechanisms.append(make(ext, sim))
        self.active = [m for m in self.mechanisms if hasattr(m, "update") or hasattr(m, "segment_end")]
        self.steps = segment_steps(sim.net, segment_ms) if self.active else 0
        self._rates = {}
        self._scaled = {}   # projection -> the mechanisms whose gain(label) multiplies its stored weights
        currents = {}
        for m in self.active:
            if hasattr(m, "update") and m.population not in self._rates:
                self._rates[m.population] = _Rates(sim, m.population)
            if isinstance(m, (HostSynapticScaling, HostAstrocytes)):
                for p in m.projections:
                    if isinstance(m, HostSynapticScaling) and any(isinstance(o, HostSynapticScaling) for o in self._scaled.get(p, ())):
                        raise UnsupportedError(f"projection {p!r} is scaled by two SynapticScaling constructs on {sim.backend!r}; "
                                               "scale each projection once")
                    self._scaled.setdefault(p, []).append(m)
            for pop in getattr(m, "targets", ()):
                if pop in currents:
                    raise UnsupportedError(f"population {pop!r} receives the slow inward current of two Astrocytes constructs "
                                           f"({currents[pop]!r}, {m.label!r}) on {sim.backend!r}; the host sets one i_offset per neuron")
                currents[pop] = m.label

    def scales(self, label) -> bool:
        return label in self._scaled

    def effective(self, label, w: np.ndarray) -> np.ndarray:
        """What the simulator gets for stored weights ``w`` ``[nsyn]``."""
        for m in self._scaled.get(label, ()):
            w = w * m.gain(label)
        return w

    def start(self, sim) -> None:
        """Apply the initial factors (the lowering wrote the stored weights)."""
        for m in self.active:
            if isinstance(m, HostSynapticScaling) and np.any(m.factor != 1.0):
                m.apply(sim)

    def next_boundary(self, step: int) -> int | None:
        return None if not self.active else (step // self.steps + 1) * self.steps

    def after_chunk(self, sim) -> None:
        """At a segment end: update every mechanism from the segment's rates (SAL: spike times)
        and apply it."""
        if not self.active or sim._steps % self.steps or getattr(sim, "virtual_board", False):
            return
        T = self.steps * sim.net.dt
        rates = {label: r.segment(sim, T / 1000.0) for label, r in self._rates.items()}
        for m in self.active:
            if hasattr(m, "segment_end"):
                m.segment_end(sim)
            else:
                m.update(rates[m.population], T)
                m.apply(sim)
