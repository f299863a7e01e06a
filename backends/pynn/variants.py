"""The simulators PyNN drives for neuromorph, and how each is named and installed."""
from __future__ import annotations

from dataclasses import dataclass

from neuromorph.errors import BackendUnavailableError


@dataclass(frozen=True)
class Variant:
    """One PyNN simulator. ``numerics`` names what it computes: NEST is the ``exact`` profile,
    sPyNNaker the ``spinnaker`` profile (fixed point, on a board), Brian2 its own discretisation."""

    name: str          # "nest" | "brian2" | "spinnaker"
    module: str        # the PyNN module to import
    extra: str         # pip extra that installs it: neuromorph[<extra>]
    numerics: str      # the semantics it computes
    packages: tuple    # importable packages it needs (for the error message)


VARIANTS = {
    "nest": Variant("nest", "pyNN.nest", "pynn", "exact", ("pyNN", "nest")),
    "brian2": Variant("brian2", "pyNN.brian2", "pynn", "brian2", ("pyNN", "brian2")),
    "spinnaker": Variant("spinnaker", "pyNN.spiNNaker", "spinnaker", "spinnaker", ("pyNN", "spynnaker")),
}

#: backend names accepted by nm.build -> variant ("pynn" alone means NEST)
BACKEND_NAMES = {"pynn": "nest", "pynn:nest": "nest", "pynn:brian2": "brian2", "pynn:spinnaker": "spinnaker"}


def variant_for(backend: str | None) -> Variant:
    """The variant a backend name selects; a one-line error for an unknown name."""
    name = backend or "pynn"
    if name in VARIANTS:
        return VARIANTS[name]
    if name not in BACKEND_NAMES:
        raise BackendUnavailableError(
            f"backend {name!r} does not exist; choose one of {', '.join(BACKEND_NAMES)}")
    return VARIANTS[BACKEND_NAMES[name]]
