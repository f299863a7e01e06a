"""Neuron and spike-source types of the model description.

Names, units and defaults follow PyNN (ms, mV, nA, nF, MΩ), so a PyNN user recognises every
parameter. Each type is a frozen dataclass validated on construction. The equations each numerics
profile applies are in docs/semantics.md; they are summarised in the docstrings.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

from .errors import ValidationError
from .registry import description_type
from .validation import (MAX_CURRENT, MAX_DURATION, MAX_FACTOR, MAX_RATE, MAX_TAU, MAX_TIME, MAX_VOLTAGE, MAX_CM,
                         MIN_CM, MIN_TAU, finite, non_negative, number, positive)


#: bounds of each float parameter: (lo, hi, unit, strictly above lo) — docs/schema.md says why
BOUNDS = {
    "cm": (MIN_CM, MAX_CM, "nF", False),
    "tau_m": (MIN_TAU, MAX_TAU, "ms", False), "tau_syn_E": (MIN_TAU, MAX_TAU, "ms", False),
    "tau_syn_I": (MIN_TAU, MAX_TAU, "ms", False), "tau_refrac": (0.0, MAX_TAU, "ms", False),
    "v_rest": (-MAX_VOLTAGE, MAX_VOLTAGE, "mV", False), "v_reset": (-MAX_VOLTAGE, MAX_VOLTAGE, "mV", False),
    "v_thresh": (-MAX_VOLTAGE, MAX_VOLTAGE, "mV", False), "c": (-MAX_VOLTAGE, MAX_VOLTAGE, "mV", False),
    "i_offset": (-MAX_CURRENT, MAX_CURRENT, "nA", False),
    "a": (-MAX_FACTOR, MAX_FACTOR, "1/ms", False), "b": (-MAX_FACTOR, MAX_FACTOR, "1/ms", False),
    "d": (-MAX_VOLTAGE, MAX_VOLTAGE, "mV/ms", False),
    "rate": (0.0, MAX_RATE, "Hz", False), "start": (0.0, MAX_TIME, "ms", False),
    "duration": (0.0, MAX_DURATION, "ms", False),
}
_WHY = {"ms": "time constants and times are bounded (docs/schema.md)", "nA": "so that V and currents stay finite",
        "mV": "so that V stays finite", "nF": "so that R = tau_m/cm stays finite", "Hz": "rates are bounded",
        "1/ms": "so that the Izhikevich state stays finite", "mV/ms": "so that the Izhikevich state stays finite"}


def _coerce(obj, owner: str, positive_names=(), non_negative_names=()):
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.type in ("float", float):
            if f.name in BOUNDS:
                lo, hi, unit, strict = BOUNDS[f.name]
                v = number(owner, f.name, value, lo, hi, unit, strict_lo=strict, why=_WHY.get(unit, ""))
            elif f.name in positive_names:
                v = positive(owner, f.name, value)
            elif f.name in non_negative_names:
                v = non_negative(owner, f.name, value)
            else:
                v = finite(owner, f.name, value)
            object.__setattr__(obj, f.name, v)


def recordables(celltype) -> tuple[str, ...]:
    """What ``Network.record`` accepts of a population besides spikes: its cell type's state
    variables plus what the type adds (``extra_recordables``)."""
    return tuple(celltype.state_variables) + tuple(getattr(celltype, "extra_recordables", ()))


class CellType:
    """Base of neuron types (things that integrate input)."""

    state_variables: tuple[str, ...] = ("v",)
    receptors: tuple[str, ...] = ("excitatory", "inhibitory")

    def parameters(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def initial_value(self, name: str) -> float:
        """Initial value of a state variable when the population gives none: ``v_rest`` for ``v``,
        0 otherwise (types without a resting potential override this)."""
        if name == "v":
            return self.v_rest
        return 0.0


@description_type
@dataclass(frozen=True)
class IF_curr_exp(CellType):
    """Leaky integrate-and-fire neuron with exponentially decaying current-based synapses.

    cm [nF], tau_m [ms], tau_refrac [ms], tau_syn_E / tau_syn_I [ms], v_rest / v_reset /
    v_thresh [mV], i_offset [nA]. Subthreshold: ``tau_m dV/dt = (v_rest - V) + R (I_exc - I_inh +
    i_offset)``, ``R = tau_m/cm`` [MΩ]; ``dI/dt = -I/tau_syn``; spike when ``V >= v_thresh``, then
    ``V = v_reset`` for ``tau_refrac``. Weights are currents in nA.
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    tau_syn_E: float = 5.0
    tau_syn_I: float = 5.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0

    state_variables = ("v", "isyn_exc", "isyn_inh")

    def __post_init__(self):
        owner = type(self).__name__
        _coerce(self, owner, positive_names=("cm", "tau_m", "tau_syn_E", "tau_syn_I"),
                non_negative_names=("tau_refrac",))
        if self.v_thresh <= self.v_reset:
            raise ValidationError(
                f"{owner}: v_thresh={self.v_thresh} mV must be above v_reset={self.v_reset} mV")


@description_type
@dataclass(frozen=True)
class IF_curr_delta(CellType):
    """Leaky integrate-and-fire neuron with delta (instantaneous) synapses.

    Same parameters as IF_curr_exp without synaptic time constants. ``weight_units`` says which of
    the two simulator meanings of a weight the description uses — they share PyNN's name but not
    their arithmetic:

    - ``"nA"`` (sPyNNaker): the weights delivered in a step, divided by dt, are a current held for
      that one step, so a spike moves V by ``R (1 - exp(-dt/tau_m)) w / dt`` (0.97541 mV per nA for
      tau_m = 20 ms, cm = 1 nF, dt = 1 ms). Input arriving while refractory is lost.
    - ``"mV"`` (PyNN's standard model on NEST, ``iaf_psc_delta``): V jumps by w mV.
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0
    weight_units: Literal["nA", "mV"] = "mV"

    state_variables = ("v",)
    #: the synaptic input consumed in a step, in the weight's units (sPyNNaker records it as
    #: gsyn_exc/gsyn_inh; NEST's iaf_psc_delta has no such variable)
    extra_recordables = ("isyn_exc", "isyn_inh")

    def __post_init__(self):
        owner = type(self).__name__
        _coerce(self, owner, positive_names=("cm", "tau_m"), non_negative_names=("tau_refrac",))
        if not isinstance(self.weight_units, str) or self.weight_units not in ("nA", "mV"):
            raise ValidationError(
                f"{owner}: weight_units={self.weight_units!r} is not 'nA' (sPyNNaker: current for one step) or 'mV' (NEST: voltage jump)")
        if self.v_thresh <= self.v_reset:
            raise ValidationError(
                f"{owner}: v_thresh={self.v_thresh} mV must be above v_reset={self.v_reset} mV")


@description_type
@dataclass(frozen=True)
class IF_curr_alpha(CellType):
    """Leaky integrate-and-fire neuron with alpha-shaped current-based synapses (PyNN's
    ``IF_curr_alpha``; NEST ``iaf_psc_alpha``).

    Parameters and units as IF_curr_exp (PyNN defaults, tau_syn_E = tau_syn_I = 0.5 ms). A
    weight w [nA] on a receptor adds ``w·(t/τ_syn)·e^(1 − t/τ_syn)`` to the synaptic current of
    that receptor: a PSC rising to its peak w at ``t = τ_syn`` (total charge ``w·e·τ_syn``).
    Subthreshold, threshold, reset and refractoriness as IF_curr_exp.
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    tau_syn_E: float = 0.5
    tau_syn_I: float = 0.5
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0

    state_variables = ("v", "isyn_exc", "isyn_inh")

    def __post_init__(self):
        IF_curr_exp.__post_init__(self)  # the same parameters, validated the same way


@description_type
@dataclass(frozen=True)
class IF_cond_exp(CellType):
    """Leaky integrate-and-fire neuron with exponentially decaying conductance-based synapses
    (PyNN's ``IF_cond_exp``; NEST ``iaf_cond_exp``).

    Parameters and units as IF_curr_exp (PyNN defaults) plus the synaptic reversal potentials
    ``e_rev_E`` = 0 mV and ``e_rev_I`` = −70 mV. Subthreshold:
    ``cm dV/dt = (cm/tau_m)(v_rest − V) − g_exc (V − e_rev_E) − g_inh (V − e_rev_I) + i_offset``
    with ``dg/dt = −g/tau_syn``; spike when ``V >= v_thresh``, then ``V = v_reset`` for
    ``tau_refrac``. **Weights are conductances in µS** (the receptor picks g_exc or g_inh; a spike
    adds its weight to g). State variables: ``v`` [mV], ``gsyn_exc``/``gsyn_inh`` [µS].
    The torch ``exact`` profile integrates as NEST does (GSL's adaptive RKF45, docs/pynn_frontend.md).
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    tau_syn_E: float = 5.0
    tau_syn_I: float = 5.0
    e_rev_E: float = 0.0
    e_rev_I: float = -70.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0

    state_variables = ("v", "gsyn_exc", "gsyn_inh")
    #: weights are synaptic conductances (the unit the description's weights on this type are read in)
    weight_units = "uS"

    def __post_init__(self):
        owner = type(self).__name__
        for name in ("e_rev_E", "e_rev_I"):
            object.__setattr__(self, name, number(owner, name, getattr(self, name), -MAX_VOLTAGE, MAX_VOLTAGE, "mV",
                                                  why=_WHY["mV"]))
        IF_curr_exp.__post_init__(self)  # the shared LIF parameters, validated the same way


@description_type
@dataclass(frozen=True)
class IF_cond_alpha(IF_cond_exp):
    """Leaky integrate-and-fire neuron with alpha-shaped conductance-based synapses (PyNN's
    ``IF_cond_alpha``; NEST ``iaf_cond_alpha``): IF_cond_exp's parameters, units and membrane
    equation with PyNN's defaults ``tau_syn_E`` = 0.3 ms, ``tau_syn_I`` = 0.5 ms; each input of
    weight w [µS] makes ``g(t) = w·(t/tau_syn)·e^(1 − t/tau_syn)`` (peak w at t = tau_syn).
    State variables: ``v`` [mV], ``gsyn_exc``/``gsyn_inh`` [µS]."""

    tau_syn_E: float = 0.3
    tau_syn_I: float = 0.5


#: EIF_cond_exp_isfa_ista's own parameters (lo, hi, unit); ``a``/``b`` differ from Izhikevich's
_EIF_BOUNDS = {
    "a": (-MAX_FACTOR, MAX_FACTOR, "nS"), "b": (-MAX_CURRENT, MAX_CURRENT, "nA"),
    "delta_T": (0.0, MAX_VOLTAGE, "mV"), "tau_w": (MIN_TAU, MAX_TAU, "ms"),
    "v_spike": (-MAX_VOLTAGE, MAX_VOLTAGE, "mV"), "e_rev_E": (-MAX_VOLTAGE, MAX_VOLTAGE, "mV"),
    "e_rev_I": (-MAX_VOLTAGE, MAX_VOLTAGE, "mV"),
}
#: NEST refuses (v_spike − v_thresh)/delta_T at or above this: exp() would overflow at the spike
_EIF_MAX_EXP_ARG = math.log(1.7976931348623157e308 / 1e20)


@description_type
@dataclass(frozen=True)
class EIF_cond_exp_isfa_ista(CellType):
    """Adaptive exponential integrate-and-fire neuron (AdEx; Brette & Gerstner 2005) with
    exponentially decaying conductance-based synapses (PyNN's ``EIF_cond_exp_isfa_ista``; NEST
    ``aeif_cond_exp``). PyNN's names, units and defaults: cm [nF], tau_m, tau_refrac, tau_w,
    tau_syn_E/I [ms], v_rest, v_reset, v_thresh, v_spike, delta_T, e_rev_E/I [mV], i_offset [nA],
    a [nS] (subthreshold adaptation), b [nA] (spike-triggered adaptation). Subthreshold:

    ``cm dV/dt = (cm/tau_m)(v_rest − V) + (cm/tau_m)·delta_T·exp((V − v_thresh)/delta_T)
    − g_exc (V − e_rev_E) − g_inh (V − e_rev_I) − w + i_offset``,
    ``tau_w dw/dt = a (V − v_rest) − w``, ``dg/dt = −g/tau_syn``;

    spike when ``V >= v_spike`` (``v_thresh`` when delta_T = 0, which drops the exponential), then
    ``V = v_reset``, ``w += b``, V held at v_reset for ``tau_refrac``. **Weights are conductances
    in µS**. State variables: ``v`` [mV], ``w`` [nA], ``gsyn_exc``/``gsyn_inh`` [µS]. The torch
    ``exact`` profile integrates as NEST does (GSL's adaptive RKF45, docs/semantics.md).
    """

    cm: float = 0.281
    tau_refrac: float = 0.1
    v_spike: float = -40.0
    v_reset: float = -70.6
    v_rest: float = -70.6
    tau_m: float = 9.3667
    i_offset: float = 0.0
    a: float = 4.0
    b: float = 0.0805
    delta_T: float = 2.0
    tau_w: float = 144.0
    v_thresh: float = -50.4
    e_rev_E: float = 0.0
    tau_syn_E: float = 5.0
    e_rev_I: float = -80.0
    tau_syn_I: float = 5.0

    state_variables = ("v", "w", "gsyn_exc", "gsyn_inh")
    #: weights are synaptic conductances (the unit the description's weights on this type are read in)
    weight_units = "uS"

    def __post_init__(self):
        owner = type(self).__name__
        for f in fields(self):
            lo, hi, unit, *_ = _EIF_BOUNDS.get(f.name) or BOUNDS[f.name]
            strict = f.name in ("cm", "tau_m", "tau_syn_E", "tau_syn_I", "tau_w")
            object.__setattr__(self, f.name, number(owner, f.name, getattr(self, f.name), lo, hi, unit,
                                                    strict_lo=strict, why=_WHY.get(unit, "")))
        # NEST aeif_cond_exp's own checks, so that a description it would refuse is refused here
        if self.v_spike < self.v_thresh:
            raise ValidationError(f"{owner}: v_spike={self.v_spike} mV must be >= v_thresh={self.v_thresh} mV "
                                  "(the spike is detected at v_spike, above the exponential's onset)")
        if self.v_reset >= self.v_spike:
            raise ValidationError(f"{owner}: v_reset={self.v_reset} mV must be below v_spike={self.v_spike} mV")
        if self.delta_T > 0 and (self.v_spike - self.v_thresh) / self.delta_T >= _EIF_MAX_EXP_ARG:
            raise ValidationError(f"{owner}: delta_T={self.delta_T} mV makes (v_spike − v_thresh)/delta_T = "
                                  f"{(self.v_spike - self.v_thresh) / self.delta_T:g}, which overflows exp() at the "
                                  f"spike (NEST refuses >= {_EIF_MAX_EXP_ARG:.1f}); raise delta_T or lower v_spike")


@description_type
@dataclass(frozen=True)
class EIF_cond_alpha_isfa_ista(EIF_cond_exp_isfa_ista):
    """AdEx neuron with alpha-shaped conductance-based synapses (PyNN's
    ``EIF_cond_alpha_isfa_ista``; NEST ``aeif_cond_alpha``): EIF_cond_exp_isfa_ista's parameters,
    units, defaults and membrane/adaptation equations, but each input of weight w [µS] makes the
    conductance ``g(t) = w·(t/tau_syn)·e^(1 − t/tau_syn)`` (peak w at t = tau_syn). State
    variables: ``v`` [mV], ``w`` [nA], ``gsyn_exc``/``gsyn_inh`` [µS]."""


@description_type
@dataclass(frozen=True)
class Izhikevich(CellType):
    """Izhikevich (2003) quadratic integrate-and-fire neuron (PyNN's ``Izhikevich``; NEST
    ``izhikevich``).

    ``dv/dt = 0.04 v² + 5 v + 140 − u + I``, ``du/dt = a (b v − u)`` with v [mV], u [mV/ms],
    t [ms]; when ``v ≥ 30 mV`` (fixed, NEST's ``V_th``): ``v = c``, ``u = u + d``. No refractory
    period. a [1/ms], b [1/ms], c [mV], d [mV/ms]; ``i_offset`` [nA] enters as ``I = 1000·i_offset``
    mV/ms (PyNN's nA → NEST's pA, which NEST's equation reads as mV/ms: 0.001 nA gives 1 mV/ms).
    Synapses are voltage jumps: a weight is in **mV** (the receptor gives the sign), added to v in
    the step it arrives. Initial values without ``initial_values``: v = −70 mV, u = −14 mV/ms
    (PyNN's defaults).
    """

    a: float = 0.02
    b: float = 0.2
    c: float = -65.0
    d: float = 2.0
    i_offset: float = 0.0

    state_variables = ("v", "u")
    #: the threshold NEST's izhikevich and PyNN's other simulators use (PyNN has no parameter for it)
    v_thresh = 30.0
    #: weights are voltage jumps (the unit the description's weights on this type are read in)
    weight_units = "mV"

    def __post_init__(self):
        owner = type(self).__name__
        _coerce(self, owner)
        if self.c >= self.v_thresh:
            raise ValidationError(
                f"{owner}: c={self.c} mV (reset) must be below the spike threshold {self.v_thresh} mV")

    def initial_value(self, name: str) -> float:
        return {"v": -70.0, "u": -14.0}.get(name, 0.0)


class SourceType:
    """Base of spike sources (populations that only emit)."""

    state_variables: tuple[str, ...] = ()
    receptors: tuple[str, ...] = ()


@description_type
@dataclass(frozen=True)
class SpikeSourceArray(SourceType):
    """Emits given spike times (ms, each a multiple of dt, >= 0): one sorted tuple per neuron."""

    spike_times: tuple[tuple[float, ...], ...] = ()

    def __post_init__(self):
        owner = type(self).__name__
        if isinstance(self.spike_times, (str, bytes, dict)) or any(isinstance(r, (str, bytes, dict)) for r in self.spike_times):
            raise ValidationError(f"{owner}: spike_times must be one list of times per neuron, got {self.spike_times!r:.60}")
        try:
            rows = tuple(tuple(number(owner, "spike_times", t, -MAX_TIME, MAX_TIME, "ms",
                                      why="times are at most 1e9 ms so that each is an exact whole number of steps")
                               for t in row) for row in self.spike_times)
        except TypeError:
            raise ValidationError(
                f"{owner}: spike_times must be one list of times per neuron, got {self.spike_times!r:.60}") from None
        for i, row in enumerate(rows):
            if any(t < 0 for t in row):
                raise ValidationError(f"{owner}: neuron {i} has a negative spike time {min(row)} ms; times must be >= 0")
        object.__setattr__(self, "spike_times", tuple(tuple(sorted(r)) for r in rows))


@description_type
@dataclass(frozen=True)
class SpikeSourcePoisson(SourceType):
    """Independent Poisson spike trains: ``rate`` [Hz] from ``start`` for ``duration`` [ms].

    Discretised per step of dt: a neuron fires in a step with probability ``rate·dt/1000``.
    """

    rate: float = 1.0
    start: float = 0.0
    duration: float = 1e12

    def __post_init__(self):
        owner = type(self).__name__
        _coerce(self, owner, non_negative_names=("rate", "start", "duration"))
