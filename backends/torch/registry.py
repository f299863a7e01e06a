"""Lowerings of description types on the torch backend, registered by (type, convention, arithmetic).

A *lowering* is data: pure step functions over explicit parameter and state tuples (Norse style)
plus the capability entries it provides. The engine (engine.py) knows no construct by name: it
asks this registry for the lowering of each population's cell type under the simulation's profile
(``profile.convention``: ``"nest"`` | ``"spinnaker"``; ``profile.arithmetic``: ``"float"`` — float64
or float32 by the simulation's dtype — or ``"fixed"``, the board's s16.15 integers). The
capability table (capabilities.py) is generated from what is registered here, so it cannot claim
a construct that has no lowering.

Adding a neuron type = one description class (neuromorph/cells.py) + one module in cells/ that
calls :func:`register_cell`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from neuromorph.capabilities import Capability
from neuromorph.errors import UnsupportedError


@dataclass(frozen=True)
class CellLowering:
    """How one cell type runs under one (convention, arithmetic).

    - ``parameters(celltype, dt) -> P``: a NamedTuple of Python numbers (computed once with libm so
      propagators match the simulators bit for bit). ``P`` must have ``threshold`` (the spike
      threshold in the lowering's internal voltage frame, mV) — the engine adds the mechanisms'
      threshold shift to it.
    - ``initial_state(P, init, batch) -> S``: ``init`` maps each of the cell type's
      ``state_variables`` to a tensor ``[n]`` in PyNN units (absolute mV, nA); returns a NamedTuple
      of tensors ``[batch, n]`` (refractory counters int64).
    - ``step(P, S, in_exc, in_inh, extra, thr, fire) -> (spikes, S_new, S_seen)``: one step of dt.
      ``in_exc``/``in_inh`` ``[batch, n]`` are the weight magnitudes consumed this step (nA, or mV
      for voltage-jump synapses); ``extra`` is ``None`` or ``[batch, n]`` nA added to i_offset;
      ``thr`` the threshold (float or ``[batch, n]``); ``fire(v, thr)`` returns the spikes ``[batch,
      n]`` (0/1 in the state dtype, with snnTorch surrogate gradients when training). ``S_seen`` is
      the state a recording of this step shows (what the simulator records).
    - ``record(P, S, name) -> [batch, n]``: a state variable in PyNN units.
    - ``capability``: construct key (as ``neuromorph.capabilities.required_constructs`` names it)
      -> Capability under this convention.
    """

    celltype: type
    convention: str
    arithmetic: str
    parameters: Callable
    initial_state: Callable
    step: Callable
    record: Callable
    capability: dict = field(default_factory=dict)


CELLS: dict[tuple[type, str, str], CellLowering] = {}


def register_cell(lowering: CellLowering) -> CellLowering:
    key = (lowering.celltype, lowering.convention, lowering.arithmetic)
    if key in CELLS:
        raise RuntimeError(f"a torch lowering of {lowering.celltype.__name__} for {key[1:]} is already registered")
    CELLS[key] = lowering
    return lowering


def cell_lowering(celltype, profile) -> CellLowering:
    """The lowering of a cell (instance) under a numerics profile; UnsupportedError naming both
    when none is registered."""
    _load()
    low = CELLS.get((type(celltype), profile.convention, profile.arithmetic))
    if low is None:
        from neuromorph.numerics import PROFILES
        have = [name for name, p in PROFILES.items() if (type(celltype), p.convention, p.arithmetic) in CELLS]
        hint = f"it runs under numerics={' / '.join(map(repr, have))}" if have else "no torch lowering exists for it"
        raise UnsupportedError(f"{type(celltype).__name__} has no torch lowering for numerics={profile.name!r} "
                               f"({profile.convention} convention, {profile.arithmetic} arithmetic); {hint}")
    return low


def cell_capabilities(profile) -> dict[str, Capability]:
    """Capability entries of every cell type registered under ``profile`` (others: unsupported)."""
    from neuromorph.capabilities import unsupported
    _load()
    table: dict[str, Capability] = {}
    for (t, conv, arith), low in CELLS.items():
        if conv == profile.convention and arith == profile.arithmetic:
            table.update(low.capability)
    for (t, conv, arith), low in CELLS.items():
        for key in low.capability:
            table.setdefault(key, unsupported(
                f"no torch lowering of {t.__name__} for numerics={profile.name!r} ({profile.convention} convention); "
                f"it runs under {_profiles_of(t)}"))
    return table


def _profiles_of(celltype: type) -> str:
    """``numerics='exact'`` (or a list of such) for the profiles a cell type has a lowering under."""
    from neuromorph.numerics import PROFILES
    have = [name for name, p in PROFILES.items() if (celltype, p.convention, p.arithmetic) in CELLS]
    return " / ".join(f"numerics={name!r}" for name in have)


def _load():
    from . import cells  # noqa: F401  (registers the built-in lowerings on import)
