"""Convert PyNN's Neo blocks into the simulation API's arrays."""
from __future__ import annotations

import numpy as np


def spike_lists(segment, cell_ids: np.ndarray, t_end: float) -> list[np.ndarray]:
    """One sorted float64 array of spike times [ms] per neuron, times <= ``t_end`` (NEST has
    simulated one min_delay past the end of the first run; those spikes belong to the next
    segment). Uses Neo's multiplexed (id, time) arrays, which PyNN fills directly on NEST, and
    maps PyNN cell ids to indices with ``cell_ids`` (the population's sorted ids)."""
    n = len(cell_ids)
    cell_ids = np.asarray(cell_ids, dtype=np.int64)
    ids, times = segment.spiketrains.multiplexed
    times = np.asarray(times.rescale("ms").magnitude if hasattr(times, "rescale") else times, dtype=np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and not np.isin(ids, cell_ids).all():
        # a simulator that numbers its trains by index rather than by PyNN id (sPyNNaker)
        ids = np.concatenate([np.full(len(st), int(st.annotations.get("source_index", k)))
                              for k, st in enumerate(segment.spiketrains)] or [np.zeros(0, np.int64)])
        ids = cell_ids[ids]
    idx = np.searchsorted(cell_ids, ids)
    keep = times <= t_end + 1e-9
    idx, times = idx[keep], times[keep]
    order = np.lexsort((times, idx))
    counts = np.bincount(idx, minlength=n)
    return np.split(times[order], np.cumsum(counts)[:-1])


def analog(segment, name: str, n: int, rows: int, sign: float = 1.0) -> np.ndarray:
    """``[rows, n]`` samples of a recorded variable, columns in neuron order. Missing samples
    (e.g. a virtual SpiNNaker run) give an empty ``[0, n]`` array."""
    for sig in segment.analogsignals:
        if sig.name != name:
            continue
        data = np.asarray(sig.magnitude, dtype=np.float64)
        channels = sig.array_annotations.get("channel_index")
        data = data[:rows]
        if channels is not None and len(channels) == data.shape[1]:
            full = np.full((data.shape[0], n), np.nan)
            full[:, np.asarray(channels, dtype=int)] = data
            data = full
        # + 0.0 turns the -0.0 of a negated zero into 0.0
        return data * sign + 0.0 if sign != 1.0 else data
    return np.zeros((0, n))
