"""Read and write the weights of a lowered projection as description magnitudes ``[n_pre, n_post]``.

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


def read(lp, simulator: str, shape: tuple[int, int]) -> np.ndarray:
    """Current weights as magnitudes in description units; NaN where there is no synapse."""
    out = np.full(shape, np.nan)
    if simulator == "nest":
        conns, i, j = _nest_connections(lp)
        if i.size:
            w = np.asarray(conns.get("weight"), dtype=np.float64).ravel()
            out[i, j] = np.abs(w) / _nest_units(lp) / lp.scale
        return out
    w = np.asarray(lp.pynn.get("weight", format="array"), dtype=np.float64)
    return np.abs(w) / lp.scale


def write(lp, simulator: str, magnitudes: np.ndarray, mask: np.ndarray) -> None:
    """Set every existing synapse to ``magnitudes[pre, post]`` (description units, >= 0)."""
    if simulator == "nest":
        conns, i, j = _nest_connections(lp)
        if i.size:
            values = magnitudes[i, j] * lp.scale * lp.sign * _nest_units(lp)
            conns.set(weight=values.tolist())
        return
    signed = np.where(mask, magnitudes * lp.scale * lp.sign, np.nan)
    lp.pynn.set(weight=signed)


def checked(label: str, weights, mask: np.ndarray) -> np.ndarray:
    """Validate user weights for ``set_weights``: a scalar or ``[n_pre, n_post]``, finite and >= 0
    where synapses exist."""
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"set_weights({label!r}): weights are not numeric; give a number or an array") from None
    if w.ndim == 0:
        w = np.full(mask.shape, float(w))
    if w.shape != mask.shape:
        raise ValidationError(f"set_weights({label!r}): shape {w.shape} does not match the projection's {mask.shape} (pre × post)")
    vals = w[mask]
    if not np.all(np.isfinite(vals)):
        raise ValidationError(f"set_weights({label!r}): a weight of an existing synapse is not finite; give finite magnitudes")
    if np.any(vals < 0):
        raise ValidationError(f"set_weights({label!r}): weight {vals.min()} < 0; give magnitudes, the receptor sets the sign")
    return np.where(mask, w, 0.0)
