"""Astrocyte constructs of the model description (docs/mechanisms.md §2).

``Astrocytes`` is a population of astrocytes with slow calcium dynamics, added with
``net.add(...)``. Each astrocyte covers a *domain*: a set of neurons (of covered populations) or
the synapses onto them (of covered projections). Spikes of the covered neurons, or presynaptic
spikes on the covered synapses, raise the astrocyte's IP3 (weight ``input_weight`` per spike,
after ``input_delay``); its calcium acts back through one or more couplings:

- ``SlowInwardCurrent(weight [nA], delay [ms])``: current ``weight·SIC_j`` into every neuron of
  domain j (NEST's ``sic_connection``; ``weight`` 0.001 nA = NEST's default 1 pA);
- ``SynapticGain(gain)``: transmitted weight of every covered synapse onto domain j multiplied by
  ``max(1 + gain·SIC_j, 1e-6)``;
- ``STDPGate(threshold [µM])``: the STDP weight change of covered plastic synapses is applied only
  while ``Ca_astro_j > threshold`` (closed gate: the step's change is undone).

Dynamics (``AstrocyteLR1994``): the Li–Rinzel model with Nadkarni–Jung output exactly as NEST's
``astrocyte_lr_1994`` (same parameter names, units and defaults; initial state included)::

    calc    = max(0, min(Ca, Ca_tot))
    m_inf   = IP3/(IP3 + Kd_IP3_1) ; n_inf = calc/(calc + Kd_act)
    Ca_ER   = (Ca_tot − calc)/ratio_ER_cyt
    J_chan  = ratio_ER_cyt·rate_IP3R·m_inf³·n_inf³·h³·(Ca_ER − calc)
    J_leak  = ratio_ER_cyt·rate_L·(Ca_ER − calc)
    J_pump  = rate_SERCA·calc²/(Km_SERCA² + calc²)
    dIP3/dt = (IP3_0 − IP3)/tau_IP3
    dCa/dt  = J_chan − J_pump + J_leak
    dh/dt   = k_IP3R·Kd_inh·(IP3 + Kd_IP3_1)/(IP3 + Kd_IP3_2)·(1 − h) − k_IP3R·calc·h

Per step of dt: one Runge–Kutta–Fehlberg 4(5) step of exactly dt (GSL's rkf45 coefficients, the
5th-order solution, as NEST's GSL evolve takes for these slow dynamics), then
``Ca ← clip(Ca, 0, Ca_tot)``, ``IP3 += delta_IP3·S`` (S = summed input weights of the step), and the
output ``SIC = SIC_scale·ln((Ca − SIC_th)·1000)`` if ``(Ca − SIC_th)·1000 > 1`` else 0
(Ca in µM, so the log is of nM above threshold). Units: concentrations µM, rates 1/ms or
µM/ms, times ms; SIC dimensionless (NEST treats it as pA).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..errors import ValidationError
from ..registry import description_type
from ..validation import steps as to_steps
from . import _checks as c

__all__ = ["AstrocyteLR1994", "Astrocytes", "SlowInwardCurrent", "SynapticGain", "STDPGate"]

_POSITIVE = ("Ca_tot", "Kd_IP3_1", "Kd_IP3_2", "Kd_act", "Km_SERCA", "SIC_scale", "ratio_ER_cyt", "tau_IP3")
_UNITS = {"Ca_tot": "µM", "IP3_0": "µM", "Kd_IP3_1": "µM", "Kd_IP3_2": "µM", "Kd_act": "µM", "Kd_inh": "µM",
          "Km_SERCA": "µM", "SIC_th": "µM", "delta_IP3": "µM", "k_IP3R": "1/(µM·ms)", "rate_IP3R": "1/ms",
          "rate_L": "1/ms", "rate_SERCA": "µM/ms", "tau_IP3": "ms", "IP3": "µM", "Ca_astro": "µM"}


@description_type
@dataclass(frozen=True)
class AstrocyteLR1994:
    """Li–Rinzel astrocyte with Nadkarni–Jung output: NEST ``astrocyte_lr_1994`` parameters,
    units and defaults (Nadkarni & Jung 2003), plus the initial state (IP3, Ca_astro, h_IP3R).
    Validation follows NEST's: the names in the positive list must be > 0, the rest ≥ 0, and
    h_IP3R in [0, 1]."""

    Ca_tot: float = 2.0
    IP3_0: float = 0.16
    Kd_IP3_1: float = 0.13
    Kd_IP3_2: float = 0.9434
    Kd_act: float = 0.08234
    Kd_inh: float = 1.049
    Km_SERCA: float = 0.1
    SIC_scale: float = 1.0
    SIC_th: float = 0.19669
    delta_IP3: float = 0.0002
    k_IP3R: float = 0.0002
    rate_IP3R: float = 0.006
    rate_L: float = 0.00011
    rate_SERCA: float = 0.0009
    ratio_ER_cyt: float = 0.185
    tau_IP3: float = 7142.0
    IP3: float = 0.16
    Ca_astro: float = 0.073
    h_IP3R: float = 0.793

    def __post_init__(self):
        owner = "AstrocyteLR1994"
        for f in fields(self):
            name, unit = f.name, _UNITS.get(f.name, "")
            v = getattr(self, name)
            if name in _POSITIVE:
                v = c.bounded(owner, name, v, lo=0.0, strict_lo=True, unit=unit)
            elif name == "h_IP3R":
                v = c.bounded(owner, name, v, lo=0.0, hi=1.0)
            else:
                v = c.bounded(owner, name, v, lo=0.0, unit=unit)
            if not np.isfinite(v):
                raise ValidationError(f"{owner}: {name}={v} is not finite; give a finite value")
            object.__setattr__(self, name, v)

    def parameters(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@description_type
@dataclass(frozen=True)
class SlowInwardCurrent:
    """Astrocyte → neuron slow inward current: ``I = weight·SIC_j`` [nA] into each neuron of
    domain j, ``delay`` [ms] after the astrocyte step (NEST ``sic_connection``: weight 1 pA =
    0.001 nA, delay 1 ms)."""

    weight: float = 0.001
    delay: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "weight", c.bounded("SlowInwardCurrent", "weight", self.weight, lo=-1e6, hi=1e6, unit="nA"))
        object.__setattr__(self, "delay", c.bounded("SlowInwardCurrent", "delay", self.delay, lo=0.0, hi=1e9, strict_lo=True, unit="ms"))


@description_type
@dataclass(frozen=True)
class SynapticGain:
    """Gain on the covered synapses onto domain j: transmitted weight × max(1 + gain·SIC_j, 1e-6)."""

    gain: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, "gain", c.bounded("SynapticGain", "gain", self.gain, lo=-1e6, hi=1e6))


@description_type
@dataclass(frozen=True)
class STDPGate:
    """Gate on the STDP of covered plastic synapses: changes apply only while Ca_astro_j >
    ``threshold`` [µM] (default NEST's SIC_th)."""

    threshold: float = 0.19669

    def __post_init__(self):
        object.__setattr__(self, "threshold", c.bounded("STDPGate", "threshold", self.threshold, lo=0.0, hi=1e6, unit="µM"))


_COUPLINGS = (SlowInwardCurrent, SynapticGain, STDPGate)
RECORDABLES = ("IP3", "Ca_astro", "h_IP3R", "SIC")


@description_type
@dataclass(frozen=True)
class Astrocytes:
    """``size`` astrocytes covering the neurons of populations and/or the synapses of projections
    named in ``covers``.

    domain: astrocyte index of each covered neuron (populations: the neuron; projections: the post
    neuron of the synapse); default: contiguous blocks, neuron k → ⌊k·size/n⌋. All covered items
    must have the same number n of (post) neurons. input_weight: NEST weight of each input spike
    (IP3 += delta_IP3·input_weight), ≥ 0. input_delay [ms]: spike → astrocyte delay (default dt).
    coupling: any of SlowInwardCurrent, SynapticGain, STDPGate. record: any of IP3, Ca_astro,
    h_IP3R, SIC (torch keeps these traces on the mechanism object).
    """

    label: str
    size: int
    covers: tuple
    dynamics: AstrocyteLR1994 = AstrocyteLR1994()
    coupling: tuple = ()
    input_weight: float = 1.0
    input_delay: float | None = None
    domain: tuple = ()
    record: tuple = ()

    def __post_init__(self):
        c.label("Astrocytes", self.label)
        owner = f"Astrocytes {self.label!r}"
        if isinstance(self.size, bool) or not isinstance(self.size, (int, np.integer)) or self.size < 1:
            raise ValidationError(f"{owner}: size={self.size!r} must be a positive integer")
        object.__setattr__(self, "size", int(self.size))
        covers = c.labels(owner, "covers", self.covers)
        if not covers:
            raise ValidationError(f"{owner}: covers=() — an astrocyte covering nothing has no input; name the populations or projections it covers")
        object.__setattr__(self, "covers", covers)
        if not isinstance(self.dynamics, AstrocyteLR1994):
            raise ValidationError(f"{owner}: dynamics={self.dynamics!r} is not AstrocyteLR1994(...)")
        coupling = tuple(self.coupling) if isinstance(self.coupling, (tuple, list)) else (self.coupling,)
        for x in coupling:
            if not isinstance(x, _COUPLINGS):
                raise ValidationError(f"{owner}: coupling {x!r} is not SlowInwardCurrent, SynapticGain or STDPGate")
        kinds = [type(x).__name__ for x in coupling]
        if len(set(kinds)) != len(kinds):
            raise ValidationError(f"{owner}: coupling {kinds} names a kind twice; give each kind at most once")
        object.__setattr__(self, "coupling", coupling)
        w = c.bounded(owner, "input_weight", self.input_weight, lo=0.0, hi=1e6)
        if not np.isfinite(w):
            raise ValidationError(f"{owner}: input_weight={w} must be finite")
        object.__setattr__(self, "input_weight", w)
        if self.input_delay is not None:
            object.__setattr__(self, "input_delay", c.bounded(owner, "input_delay", self.input_delay, lo=0.0, hi=1e9, strict_lo=True, unit="ms"))
        try:
            dom = tuple(int(x) for x in self.domain)
        except (TypeError, ValueError):
            raise ValidationError(f"{owner}: domain must be one astrocyte index per covered neuron") from None
        if any(x != y for x, y in zip(dom, self.domain)):
            raise ValidationError(f"{owner}: domain must hold whole astrocyte indices")
        object.__setattr__(self, "domain", dom)
        rec = c.labels(owner, "record", self.record)
        for r in rec:
            if r not in RECORDABLES:
                raise ValidationError(f"{owner}: record {r!r} is not one of {', '.join(RECORDABLES)}")
        object.__setattr__(self, "record", rec)

    # -- resolution against a network ------------------------------------------------------
    def construct_keys(self, net) -> tuple[str, ...]:
        """Capability keys beyond the class name: ``Astrocytes:<coupling>`` per coupling kind."""
        return tuple(f"Astrocytes:{type(x).__name__}" for x in self.coupling)

    def coupling_of(self, kind):
        for x in self.coupling:
            if isinstance(x, kind):
                return x
        return None

    def covered_size(self, net) -> int:
        return self._sizes(net)[0]

    def _sizes(self, net):
        owner = f"Astrocytes {self.label!r}"
        sizes = {}
        for lab in self.covers:
            if lab in net.populations:
                sizes[lab] = net.populations[lab].size
            elif lab in net.projections:
                sizes[lab] = net.populations[net.projections[lab].post].size
            else:
                raise ValidationError(f"{owner}: covers {lab!r}, which is neither a population nor a projection of this network")
        distinct = set(sizes.values())
        if len(distinct) != 1:
            raise ValidationError(f"{owner}: covered items have different neuron counts {sizes}; cover items of one size (make one Astrocytes per size)")
        return distinct.pop(), sizes

    def domain_array(self, net) -> np.ndarray:
        """Astrocyte index of each covered neuron, int64 [n]."""
        n = self.covered_size(net)
        if self.domain:
            return np.asarray(self.domain, dtype=np.int64)
        return (np.arange(n) * self.size) // n

    def input_matrix(self, net, lab: str) -> np.ndarray:
        """[n_source, size] count of covered items by which a spike of each source neuron reaches
        each astrocyte (populations: the neuron's own domain; projections: covered synapses)."""
        domain = self.domain_array(net)
        if lab in net.populations:
            onehot = np.zeros((self.covered_size(net), self.size))
            onehot[np.arange(onehot.shape[0]), domain] = 1.0
            return onehot
        conn = net.connectivity(lab)
        flat = conn.pre * self.size + domain[conn.post]
        return np.bincount(flat, minlength=conn.n_pre * self.size).astype(np.float64).reshape(conn.n_pre, self.size)

    def source_of(self, net, lab: str) -> str:
        return lab if lab in net.populations else net.projections[lab].pre

    def target_population(self, net) -> list[str]:
        """Neuron populations whose neurons belong to the domains."""
        out = []
        for lab in self.covers:
            pop = lab if lab in net.populations else net.projections[lab].post
            if pop not in out:
                out.append(pop)
        return out

    def check(self, net) -> None:
        owner = f"Astrocytes {self.label!r}"
        if self.label in net.populations or self.label in net.projections:
            raise ValidationError(f"{owner}: label {self.label!r} is already used by a population or projection; labels must be unique")
        n, _ = self._sizes(net)
        if self.domain:
            if len(self.domain) != n:
                raise ValidationError(f"{owner}: domain has {len(self.domain)} entries for {n} covered neurons; give one astrocyte index per neuron")
            bad = [d for d in self.domain if not 0 <= d < self.size]
            if bad:
                raise ValidationError(f"{owner}: domain index {bad[0]} is outside 0..{self.size - 1}")
        elif self.size > n:
            raise ValidationError(f"{owner}: size={self.size} astrocytes for {n} covered neurons would leave some covering nothing; use size <= {n}")
        total = sum(self.input_matrix(net, lab).sum(axis=0) for lab in self.covers)
        empty = np.flatnonzero(total == 0)
        if empty.size:
            raise ValidationError(f"{owner}: astrocyte {int(empty[0])} covers nothing (no neuron or synapse in its domain); change domain or size")
        for what, ms in (("input_delay", self.input_delay), ("SlowInwardCurrent delay", getattr(self.coupling_of(SlowInwardCurrent), "delay", None))):
            if ms is not None:
                to_steps(owner, what, ms, net.dt, minimum=1)
        projs = [lab for lab in self.covers if lab in net.projections]
        if self.coupling_of(SlowInwardCurrent) is not None:
            for pop in self.target_population(net):
                c.population_of_neurons(owner + " (SlowInwardCurrent)", net, pop)
        if self.coupling_of(SynapticGain) is not None and not projs:
            raise ValidationError(f"{owner}: SynapticGain needs covered synapses but covers names only populations; add a projection to covers")
        if self.coupling_of(STDPGate) is not None:
            plastic = [p for p in projs if net.projections[p].plasticity is not None]
            if not plastic:
                raise ValidationError(f"{owner}: STDPGate needs a covered projection with plasticity; none of {projs or list(self.covers)} has any")
