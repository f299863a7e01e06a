"""Current sources (neuromorph.current_sources) on the PyNN simulators: the simulator's own PyNN
current source, created when the network is built and injected into the population (or the
PopulationView of ``neurons``). Registered in ``homeostasis.HOST_MECHANISMS`` like the host-side
mechanisms, but it has no ``update``/``segment_end``: nothing happens between segments.

The description's numbers go to PyNN as they are (nA, ms, Hz, degrees), so each simulator applies
its own timing: NEST (PyNN connects the generator with delay min_delay = dt and moves start, stop
and step times one min_delay earlier): the current acts on V from the step at ``start``, never
before t = 2·dt; sPyNNaker: start/stop/times become whole ticks (``int(t·ticks_per_ms)``), the
value is applied in its tick; Brian2: PyNN's network-operation currents.
"""
from __future__ import annotations

import numpy as np

from neuromorph.current_sources import ACSource, DCSource, NoisyCurrentSource, StepCurrentSource
from neuromorph.errors import UnsupportedError
from neuromorph.validation import MAX_TIME

#: sPyNNaker stores start/stop as uint32 ticks: "until the end" must fit
_SPINNAKER_MAX_TICKS = 2 ** 31


def _stop(construct, simulator: str, dt: float) -> float:
    stop = construct.stop
    if stop >= MAX_TIME:
        if simulator == "spinnaker":
            return _SPINNAKER_MAX_TICKS * dt
        if simulator == "nest":
            return 1e12 if stop >= 1e12 else stop
    return stop


def make_source(sim, simulator: str, construct, dt: float):
    """The PyNN current source object of ``construct`` in the (set-up) PyNN module ``sim``."""
    if isinstance(construct, DCSource):
        return sim.DCSource(amplitude=construct.amplitude, start=construct.start, stop=_stop(construct, simulator, dt))
    if isinstance(construct, StepCurrentSource):
        return sim.StepCurrentSource(times=list(construct.times), amplitudes=list(construct.amplitudes))
    if isinstance(construct, ACSource):
        return sim.ACSource(amplitude=construct.amplitude, offset=construct.offset, frequency=construct.frequency,
                            phase=construct.phase, start=construct.start, stop=_stop(construct, simulator, dt))
    if isinstance(construct, NoisyCurrentSource):
        every = construct.interval_steps(dt) * dt
        return sim.NoisyCurrentSource(mean=construct.mean, stdev=construct.stdev, start=construct.start,
                                      stop=_stop(construct, simulator, dt), dt=every)
    raise UnsupportedError(f"{type(construct).__name__} has no PyNN lowering")


class InjectedCurrent:
    """A current-source construct, created and injected at build time."""

    def __init__(self, construct, sim):
        self.construct = construct
        self.label = construct.label
        self.population = construct.population
        pop = sim.lowered.populations[construct.population]
        target = pop
        if construct.neurons:
            target = pop[np.asarray(sorted(construct.neurons), dtype=int)]
        self.source = make_source(sim.sim, sim.variant.name, construct, sim.net.dt)
        self.source.inject_into(target)


INJECTED = {cls: InjectedCurrent for cls in (DCSource, StepCurrentSource, ACSource, NoisyCurrentSource)}
