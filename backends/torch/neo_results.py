"""Neo results for the simulation API: ``to_neo(sim, label, variables) -> neo.Block``.

Builds the Block PyNN's ``Population.get_data`` returns from a simulation's own accessors
(``sim.spikes``, ``sim.trace``, ``sim.time``, ``sim.batch``), so it works on the torch backend and
on every PyNN backend alike. Neo is in the ``[pynn]`` extra and is imported only when a Block is
asked for.

The Block holds one Segment per trial (one for ``batch == 1``), each with

- one ``neo.SpikeTrain`` per neuron, times in ms, ``t_start = 0``, ``t_stop = sim.time``,
  annotated ``source_population``, ``source_index`` (PyNN's annotations);
- one ``neo.AnalogSignal`` per recorded state variable, ``[samples, n]``, named as the variable,
  ``t_start = 0``, ``sampling_period = every·dt`` ms, ``array_annotations["channel_index"]`` =
  neuron indices; units: ``v`` mV, ``isyn_exc``/``isyn_inh`` nA (magnitudes), Izhikevich ``u``
  mV/ms. Sample k is the value at ``k·every·dt`` (the simulation API's rows: the state before
  step k; PyNN also adds the value at the end time, which this does not have).
"""
from __future__ import annotations

import numpy as np

from neuromorph.errors import BackendUnavailableError, ValidationError

#: units of each recordable state variable (PyNN's)
UNITS = {"v": "mV", "isyn_exc": "nA", "isyn_inh": "nA", "u": "mV/ms", "gsyn_exc": "uS", "gsyn_inh": "uS", "w": "nA"}


def _neo():
    try:
        import neo
        import quantities as pq
    except ImportError as exc:
        raise BackendUnavailableError(
            f"Neo results need the neo package ({exc}); install it from the neuromorph checkout with: pip install -e \".[pynn]\"") from None
    return neo, pq


def recorded(net, label) -> dict:
    """``{variable: every}`` of what ``net`` records for population ``label``."""
    out = {}
    for rec in net.recordings:
        if rec.target == label:
            for v in rec.variables:
                out.setdefault(v, rec.every)
    return out


def to_neo(sim, label, variables="all") -> "neo.Block":
    """The recorded ``variables`` ("all", a name or a list of names) of population ``label`` as a
    ``neo.Block`` (module doc). Refuses a variable that was not recorded."""
    neo, pq = _neo()
    net = sim.net
    pop = net.get(label)
    have = recorded(net, pop.label)
    if variables == "all" or variables is None:
        names = list(have)
    else:
        names = [variables] if isinstance(variables, str) else list(variables)
        for v in names:
            if v not in have:
                raise ValidationError(f"get_data: {v!r} of {pop.label!r} was not recorded (recorded: {', '.join(have) or 'nothing'}); "
                                      f"call record({v!r}) before the first run")
    batch = int(getattr(sim, "batch", 1) or 1)
    t_stop = float(sim.time)
    spikes = sim.spikes(pop.label) if "spikes" in names else None
    traces = {v: np.asarray(sim.trace(pop.label, v)) for v in names if v != "spikes"}
    block = neo.Block(name=pop.label, label=pop.label, size=pop.size, dt=net.dt, simulator="neuromorph",
                      backend=str(getattr(sim, "backend", "torch")), numerics=str(getattr(sim, "numerics", "")))
    for b in range(batch):
        seg = neo.Segment(name=f"segment{b:03d}" if batch > 1 else "segment000", trial=b)
        if spikes is not None:
            rows = spikes if batch == 1 else spikes[b]
            for i, times in enumerate(rows):
                times = np.asarray(times, dtype=np.float64)
                seg.spiketrains.append(neo.SpikeTrain(times, units="ms", t_start=0.0 * pq.ms,
                                                      t_stop=max(t_stop, float(times.max()) if times.size else 0.0) * pq.ms,
                                                      source_population=pop.label, source_index=i))
        for v, a in traces.items():
            data = a if batch == 1 else a[b]
            if data.ndim != 2:
                data = np.zeros((0, pop.size))
            sig = neo.AnalogSignal(data, units=UNITS.get(v, "dimensionless"), t_start=0.0 * pq.ms,
                                   sampling_period=have[v] * net.dt * pq.ms, name=v, source_population=pop.label)
            sig.array_annotate(channel_index=np.arange(pop.size))
            seg.analogsignals.append(sig)
        seg.block = block
        block.segments.append(seg)
    return block
