"""Current sources of the model description: DC, step, AC and noisy currents injected into neurons.

Each is a frozen, validated dataclass added to a network with ``net.add(...)`` (PyNN's
``DCSource``, ``StepCurrentSource``, ``ACSource``, ``NoisyCurrentSource`` with ``inject_into``;
``neuromorph.pynn`` builds them from PyNN scripts). Units: currents nA, times ms, frequency Hz,
phase degrees. Target: ``population`` (a neuron population's label) and ``neurons`` (indices into
it; empty = every neuron). The current adds to the cell's ``i_offset``.

Meaning, on the step grid (step k integrates V over (k·dt, (k+1)·dt]; every time must be a
multiple of dt)::

    DCSource            I_k = amplitude                      for start <= k·dt < stop, else 0
    StepCurrentSource   I_k = amplitudes[j], j the last index with times[j] <= k·dt (0 before times[0])
    ACSource            I_k = offset + amplitude·sin(2π·frequency·(k·dt − start)/1000 + phase·π/180)
                                                             for start <= k·dt < stop, else 0
    NoisyCurrentSource  I_k = mean + stdev·N(0, 1), one draw per neuron at start and every ``dt`` ms
                        after it, held in between, for start <= k·dt < stop, else 0

Backend conventions (docs/pynn_frontend.md §"Current sources"): NEST (and torch
``numerics="exact"``) cannot make a generator current act before step 2 (t = 2·dt: the current goes
through a min_delay connection and the neuron's one-step current buffer), so I_0 = I_1 = 0, and an
ACSource starting before dt takes its phase at t = dt; sPyNNaker (torch's spinnaker profiles)
applies I_k in tick k.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from .errors import ValidationError
from .registry import description_type
from .validation import MAX_CURRENT, MAX_DURATION, MAX_RATE, MAX_SEED, MAX_TIME, finite, steps

__all__ = ["CurrentSource", "DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource"]

#: largest |phase| [degrees]
MAX_PHASE = 1e6


def _label(kind: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{kind}: label={value!r:.60} must be a non-empty string (the construct's name)")
    return value


def _number(owner: str, name: str, value, lo: float, hi: float, unit: str, fix: str) -> float:
    v = finite(owner, name, value)
    if v < lo or v > hi:
        raise ValidationError(f"{owner}: {name}={v:g} {unit} is outside [{lo:g}, {hi:g}] {unit}; {fix}")
    return v


def _current(owner: str, name: str, value) -> float:
    return _number(owner, name, value, -MAX_CURRENT, MAX_CURRENT, "nA",
                   f"currents are at most {MAX_CURRENT:g} nA in magnitude (docs/schema.md)")


class CurrentSource:
    """Base of the current-source constructs (the schema's ``extension`` group; shared checks)."""

    label: str
    population: str
    neurons: tuple

    @property
    def kind(self) -> str:
        return type(self).__name__

    @property
    def owner(self) -> str:
        return f"{self.kind} {self.label!r}"

    def _check_common(self) -> None:
        _label(self.kind, self.label)
        if not isinstance(self.population, str) or not self.population:
            raise ValidationError(f"{self.owner}: population={self.population!r:.60} must be a population label (a non-empty string)")
        raw = self.neurons
        if isinstance(raw, (str, bytes)) or isinstance(raw, (bool, np.bool_)):
            raise ValidationError(f"{self.owner}: neurons={raw!r:.60} must be a list of neuron indices (empty: every neuron)")
        if isinstance(raw, (int, np.integer)):
            raw = (raw,)
        try:
            idx = tuple(raw)
        except TypeError:
            raise ValidationError(f"{self.owner}: neurons={raw!r:.60} must be a list of neuron indices (empty: every neuron)") from None
        out = []
        for i in idx:
            if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer, float, np.floating)) \
                    or not float(i).is_integer() or i < 0:
                raise ValidationError(f"{self.owner}: neurons holds {i!r:.40}; give neuron indices (integers >= 0)")
            out.append(int(i))
        if len(set(out)) != len(out):
            dup = next(i for i in out if out.count(i) > 1)
            raise ValidationError(f"{self.owner}: neurons lists index {dup} twice; give each neuron once")
        object.__setattr__(self, "neurons", tuple(out))

    def _check_window(self) -> None:
        start = _number(self.owner, "start", self.start, 0.0, MAX_TIME, "ms", "give the onset in ms, >= 0")
        stop = _number(self.owner, "stop", self.stop, 0.0, MAX_DURATION, "ms",
                       f"give the end in ms (the default {MAX_DURATION:g} means until the end of the run)")
        if stop < start:
            raise ValidationError(f"{self.owner}: stop={stop:g} ms is before start={start:g} ms; give stop >= start")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "stop", stop)

    def check(self, net) -> None:
        """Checks against the network: a neuron population, indices in range, times on the dt grid."""
        pops = net.populations
        if self.population not in pops:
            raise ValidationError(f"{self.owner}: no population labelled {self.population!r} (known: "
                                  f"{', '.join(pops) or 'none yet'}); add it before the current source")
        pop = pops[self.population]
        if pop.is_source:
            raise ValidationError(f"{self.owner}: population {self.population!r} is a spike source; current is injected "
                                  "into neurons, name a neuron population")
        if self.neurons and max(self.neurons) >= pop.size:
            raise ValidationError(f"{self.owner}: neurons holds index {max(self.neurons)}, but population "
                                  f"{self.population!r} has {pop.size} neurons (indices 0..{pop.size - 1})")
        for name in self._grid_fields():
            self.step_of(name, net.dt)

    def _grid_fields(self) -> tuple:
        return ("start", "stop")

    def step_of(self, name: str, dt: float, value=None) -> int:
        """The time field ``name`` (or ``value``) in whole steps of dt (refused off the grid)."""
        v = getattr(self, name) if value is None else value
        if name == "stop" and v >= MAX_TIME:
            return int(min(round(v / dt), 2 ** 62))  # "until the end": no grid to match
        return steps(self.owner, name, v, dt)

    def indices(self, size: int) -> np.ndarray:
        """The targeted neuron indices in a population of ``size``."""
        return np.asarray(self.neurons, dtype=np.int64) if self.neurons else np.arange(size, dtype=np.int64)


@description_type
@dataclass(frozen=True)
class DCSource(CurrentSource):
    """A constant current ``amplitude`` [nA] from ``start`` to ``stop`` [ms] (PyNN's DCSource)."""

    label: str
    population: str
    amplitude: float = 1.0
    start: float = 0.0
    stop: float = MAX_DURATION
    neurons: tuple = ()

    def __post_init__(self):
        self._check_common()
        object.__setattr__(self, "amplitude", _current(self.owner, "amplitude", self.amplitude))
        self._check_window()


@description_type
@dataclass(frozen=True)
class StepCurrentSource(CurrentSource):
    """A piecewise-constant current: ``amplitudes[j]`` [nA] from ``times[j]`` [ms] on (strictly
    increasing times; zero before the first; the last holds to the end) (PyNN's StepCurrentSource)."""

    label: str
    population: str
    times: tuple = ()
    amplitudes: tuple = ()
    neurons: tuple = ()

    def __post_init__(self):
        self._check_common()
        owner = self.owner
        seqs = []
        for name in ("times", "amplitudes"):
            raw = getattr(self, name)
            if isinstance(raw, np.ndarray):
                raw = raw.ravel().tolist()
            if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
                raise ValidationError(f"{owner}: {name}={raw!r:.60} must be a list of numbers ({'ms' if name == 'times' else 'nA'})")
            seqs.append(tuple(finite(owner, f"{name}[{j}]", x) for j, x in enumerate(raw)))
        times, amps = seqs
        if len(times) != len(amps):
            raise ValidationError(f"{owner}: {len(times)} times but {len(amps)} amplitudes; give one amplitude per time")
        for j, t in enumerate(times):
            _number(owner, f"times[{j}]", t, 0.0, MAX_TIME, "ms", "step times are ms >= 0")
        for j, a in enumerate(amps):
            _current(owner, f"amplitudes[{j}]", a)
        for j in range(1, len(times)):
            if not times[j] > times[j - 1]:
                raise ValidationError(f"{owner}: times[{j}]={times[j]:g} ms is not after times[{j - 1}]={times[j - 1]:g} ms; "
                                      "step times must be strictly increasing")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "amplitudes", amps)

    def _grid_fields(self) -> tuple:
        return ()

    def check(self, net) -> None:
        super().check(net)
        for j, t in enumerate(self.times):
            self.step_of(f"times[{j}]", net.dt, t)


@description_type
@dataclass(frozen=True)
class ACSource(CurrentSource):
    """A sine current ``offset + amplitude·sin(2π·frequency·(t − start) + phase)`` [nA; Hz; degrees]
    from ``start`` to ``stop`` [ms] (PyNN's ACSource)."""

    label: str
    population: str
    amplitude: float = 1.0
    offset: float = 0.0
    frequency: float = 10.0
    phase: float = 0.0
    start: float = 0.0
    stop: float = MAX_DURATION
    neurons: tuple = ()

    def __post_init__(self):
        self._check_common()
        owner = self.owner
        object.__setattr__(self, "amplitude", _current(owner, "amplitude", self.amplitude))
        object.__setattr__(self, "offset", _current(owner, "offset", self.offset))
        object.__setattr__(self, "frequency", _number(owner, "frequency", self.frequency, 0.0, MAX_RATE, "Hz",
                                                      "give the sine's frequency in Hz, >= 0"))
        object.__setattr__(self, "phase", _number(owner, "phase", self.phase, -MAX_PHASE, MAX_PHASE, "degrees",
                                                  "give the phase in degrees"))
        self._check_window()


@description_type
@dataclass(frozen=True)
class NoisyCurrentSource(CurrentSource):
    """Gaussian noise current: every ``dt`` ms from ``start`` a new value ``mean + stdev·N(0,1)``
    [nA] per neuron, held until the next draw, until ``stop`` (PyNN's NoisyCurrentSource).
    ``dt`` None: the network's dt. ``seed`` None: derived from the network seed and the label."""

    label: str
    population: str
    mean: float = 0.0
    stdev: float = 1.0
    start: float = 0.0
    stop: float = MAX_DURATION
    dt: float | None = None
    neurons: tuple = ()
    seed: int | None = None

    def __post_init__(self):
        self._check_common()
        owner = self.owner
        object.__setattr__(self, "mean", _current(owner, "mean", self.mean))
        object.__setattr__(self, "stdev", _number(owner, "stdev", self.stdev, 0.0, MAX_CURRENT, "nA",
                                                  "the standard deviation is >= 0 nA"))
        if self.dt is not None:
            v = finite(owner, "dt", self.dt)
            if not v > 0 or v > MAX_TIME:
                raise ValidationError(f"{owner}: dt={v:g} ms must be > 0 (the interval between draws, a multiple of the "
                                      "network's dt; None: every step)")
            object.__setattr__(self, "dt", v)
        if self.seed is not None:
            if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < MAX_SEED:
                raise ValidationError(f"{owner}: seed={self.seed!r:.40} must be an integer in [0, 2**63) or None")
            object.__setattr__(self, "seed", int(self.seed))
        self._check_window()

    def check(self, net) -> None:
        super().check(net)
        if self.dt is not None:
            steps(self.owner, "dt", self.dt, net.dt, minimum=1)

    def interval_steps(self, dt: float) -> int:
        """Steps between draws."""
        return 1 if self.dt is None else steps(self.owner, "dt", self.dt, dt, minimum=1)

    def construct_keys(self, net) -> tuple:
        """``NoisyCurrentSource:dt>timestep`` when draws are held for more than one step."""
        return ("NoisyCurrentSource:dt>timestep",) if self.interval_steps(net.dt) > 1 else ()

    def rng_seed(self, net_seed: int) -> int:
        """The seed of the draws: ``seed``, or one derived from the network seed and the label."""
        if self.seed is not None:
            return self.seed
        return (int(net_seed) * 1_000_003 + zlib.crc32(self.label.encode("utf-8"))) % (2 ** 63)


#: construct class name -> class, for the backends
CURRENT_SOURCES = {c.__name__: c for c in (DCSource, StepCurrentSource, ACSource, NoisyCurrentSource)}


def waveform_value(src, k: int, dt: float, nest: bool) -> float | None:
    """The deterministic current [nA] of DC/step/AC source ``src`` in step k (None: no current),
    under NEST's convention (``nest``: nothing before step 2, AC phase taken at max(start, dt), as
    PyNN 0.13 + NEST 3.10 deliver it) or sPyNNaker's (the value in tick k)."""
    if nest and k < 2:
        return None
    if isinstance(src, StepCurrentSource):
        value = None
        for t, a in zip(src.times, src.amplitudes):
            if src.step_of("times", dt, t) <= k:
                value = a
            else:
                break
        return value
    if not src.step_of("start", dt) <= k < src.step_of("stop", dt):
        return None
    if isinstance(src, DCSource):
        return src.amplitude
    if isinstance(src, ACSource):
        if nest:
            return nest_ac_value(src, k, dt)
        omega = 2.0 * math.pi * src.frequency / 1000.0
        return src.offset + src.amplitude * math.sin(omega * (k * dt - src.start) + src.phase * math.pi / 180.0)
    raise TypeError(type(src).__name__)


def nest_ac_value(src, k: int, dt: float) -> float:
    """ACSource in step k as NEST's ac_generator delivers it through PyNN 0.13 (pA arithmetic, then
    nA): PyNN sets NEST's phase to phase − 360·f·s_c/1000 with s_c = max(start − min_delay, 0) and
    min_delay = dt; the value emitted in step k − 2 is amp·sin(ω·(k − 1)·dt + φ) + offset."""
    start_c = max(src.start - dt, 0.0)
    phi_deg = ((src.phase * np.pi / 180) - (2 * np.pi * src.frequency * start_c / 1000)) * 180 / np.pi
    phi_rad = phi_deg * 2.0 * math.pi / 360.0
    omega = 2.0 * math.pi * src.frequency / 1000.0
    amp_pa, off_pa = src.amplitude * 1000.0, src.offset * 1000.0
    return (amp_pa * math.sin(omega * ((k - 1) * dt) + phi_rad) + off_pa) / 1000.0
