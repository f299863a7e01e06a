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
        stamp_offset=1, delivery_offset=-1, board_weights=False, stdp_convention="nest", convention="nest"),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValidationError(f"numerics={name!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return PROFILES[name]
