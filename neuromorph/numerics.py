"""Numerics profiles: the exact per-step arithmetic a simulation follows (docs/semantics.md).

A profile is data; backends implement the profiles they can and declare the rest in their
capability tables.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import ValidationError


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    #: stamp of a spike produced by the update of step k is k + stamp_offset (steps)
    stamp_offset: int
    #: an event with stamp s over delay D is consumed by the update of step s + D + delivery_offset
    delivery_offset: int
    #: plastic weights stored as the board stores them (16-bit words, LUT exponentials)
    board_weights: bool
    stdp_convention: str
    #: whose neuron update and event conventions the cells follow ("nest" | "spinnaker"): the key
    #: backends register cell lowerings under
    convention: str = "spinnaker"
    #: the arithmetic ("float": float64 or float32 by the simulation's dtype; "fixed": the SpiNNaker
    #: core's s16.15 integers, 16-bit synaptic words and saturating ring buffers), a key of the
    #: backends' registrations
    arithmetic: str = "float"
    #: how a stamp becomes a spike time [ms]: "steps" — stamp·dt in float, as sPyNNaker computes it;
    #: "tics" — NEST's clock, integer tics of 1 µs: (stamp·dt in tics)·0.001 ms per tic (Time::get_ms),
    #: so that times at dt = 0.1 are NEST's to the bit (52.5, not stamp·dt's 52.50000000000001)
    clock: str = "steps"


PROFILES = {
    "spinnaker": Profile(
        "spinnaker",
        "the SpiNNaker board's arithmetic, bit for bit: s16.15 neurons, 16-bit synaptic words at each receptor's "
        "ring-buffer shift, saturating 16-bit ring buffers, integer STDP with the board's LUTs; sPyNNaker's event order",
        stamp_offset=0, delivery_offset=0, board_weights=True, stdp_convention="spinnaker", arithmetic="fixed"),
    "spinnaker-float": Profile(
        "spinnaker-float",
        "sPyNNaker's event order and STDP conventions in float64 throughout (no weight quantisation)",
        stamp_offset=0, delivery_offset=0, board_weights=False, stdp_convention="spinnaker"),
    "exact": Profile(
        "exact",
        "NEST's iaf_psc_exp / iaf_psc_delta exact integration and stdp_synapse conventions (on-grid spikes)",
        stamp_offset=1, delivery_offset=-1, board_weights=False, stdp_convention="nest", convention="nest",
        clock="tics"),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValidationError(f"numerics={name!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]


#: NEST's clock: tics per ms (its default resolution of the time base, 1 µs)
TICS_PER_MS = 1000


def stamp_times(stamps, dt: float, clock: str):
    """Spike times [ms] (float64 numpy) of integer stamps at step ``dt`` [ms] under a profile's
    ``clock`` (Profile.clock); "tics" falls back to stamp·dt when dt is not a whole number of tics."""
    import numpy as np

    u = np.asarray(stamps, dtype=np.int64)
    tics = round(dt * TICS_PER_MS)
    if clock == "tics" and abs(dt * TICS_PER_MS - tics) <= 1e-9 * max(1.0, tics):
        return (u * tics) * (1.0 / TICS_PER_MS)
    return u.astype(np.float64) * dt
