"""Read and write the weights of a lowered projection as description magnitudes, one per synapse
in the order of the projection's ``net.connectivity`` (sorted by (pre, post)).

On NEST the values are read from (and written to) the NEST connections directly, in one call
each: PyNN 0.13 reads IF_curr_delta weights 1000× too small (it undoes the nA→pA factor but not
its own 1e-3 receptor scale) and ``Projection.set`` skips that scale on writes. Elsewhere PyNN's
``Projection.get/set(format="array")`` is used.
"""
from __future__ import annotations

import numpy as np

from neuromorph.errors import ValidationError


def _nest_units(lp) -> float:
    """NEST weight per description-unit of PyNN weight: 1000 (pA per nA) or 1 (mV for jumps)."""
    return 1.0 if lp.delta_post else 1000.0


def _nest_connections(lp):
    conns = lp.pynn.nest_connections
    if len(conns) == 0:
        return conns, np.zeros(0, int), np.zeros(0, int)
    data = conns.get(["source", "target"])
    src = np.asarray(data["source"], dtype=np.int64).ravel()
    tgt = np.asarray(data["target"], dtype=np.int64).ravel()
    pre_ids = np.asarray(lp.pynn.pre.all_cells, dtype=np.int64)
    post_ids = np.asarray(lp.pynn.post.all_cells, dtype=np.int64)
    # Population IDs are contiguous and sorted, so searchsorted maps a NEST node id to its index
    return conns, np.searchsorted(pre_ids, src), np.searchsorted(post_ids, tgt)


def read(lp, simulator: str, conn) -> np.ndarray:
    """Current weights as magnitudes in description units, ``[nsyn]`` in the order of ``conn``
    (the projection's ``net.connectivity``)."""
    if simulator == "nest":
        out = np.full(conn.size, np.nan)
        conns, i, j = _nest_connections(lp)
        if i.size:
            w = np.asarray(conns.get("weight"), dtype=np.float64).ravel()
            out[conn.positions(i, j)] = np.abs(w) / _nest_units(lp) / lp.scale
        return out
    # PyNN's own array read (Brian2, sPyNNaker) is dense: these simulators run small networks here
    w = np.asarray(lp.pynn.get("weight", format="array"), dtype=np.float64)
    return np.abs(w[conn.pre, conn.post]) / lp.scale


def write(lp, simulator: str, conn, magnitudes: np.ndarray) -> None:
    """Set every synapse to ``magnitudes`` (description units, >= 0, ``[nsyn]`` in the order of
    ``conn``)."""
    if simulator == "nest":
        conns, i, j = _nest_connections(lp)
        if i.size:
            values = magnitudes[conn.positions(i, j)] * lp.scale * lp.sign * _nest_units(lp)
            conns.set(weight=values.tolist())
        return
    lp.pynn.set(weight=conn.dense(magnitudes * lp.scale * lp.sign))


def checked(label: str, weights, conn) -> np.ndarray:
    """Validate user weights for ``set_weights`` (a scalar, ``[n_pre, n_post]`` or one value per
    synapse ``[nsyn]`` in ``conn`` order; finite and >= 0 where synapses exist); return them per
    synapse, ``[nsyn]`` in the order of ``conn``."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"set_weights({label!r}): weights are not numeric; give a number or an array") from None
    shape = (conn.n_pre, conn.n_post)
    if w.ndim == 0:
        vals = np.full(conn.size, float(w))
    elif w.shape == shape:
        vals = w[conn.pre, conn.post]
    elif w.shape == (conn.size,):
        vals = w.copy()
    else:
        raise ValidationError(f"set_weights({label!r}): shape {w.shape} does not match the projection's {shape} (pre × post) "
                              f"or its {conn.size} synapses (weights(format='list') order)")
    if not np.all(np.isfinite(vals)):
        raise ValidationError(f"set_weights({label!r}): a weight of an existing synapse is not finite; give finite magnitudes")
    if vals.size and vals.min() < 0:
        raise ValidationError(f"set_weights({label!r}): weight {vals.min()} < 0; give magnitudes, the receptor sets the sign")
    return vals
