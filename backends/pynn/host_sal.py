"""Host-in-the-loop SAL on the PyNN simulators (docs/mechanisms.md §4, §5).

No PyNN synapse model couples the updates of two synapses (NEST's stdp_synapse also shifts its
window by the dendritic delay), so the host applies SAL between run segments (the segments of
``homeostasis.HostLoop``: ``segment_ms``, counted from t = 0). At the end of each segment it reads
the segment's spikes of X (forward's pre) and Y (forward's post) — times in (t_previous_end,
t_end], step n = round(t/dt) — and replays the online rule of ``neuromorph.mechanisms.sal``
over them exactly, step by step in spike order (steps without a spike only decay the traces, so
only the spike steps are visited):

    a ← a·exp(−dt/τ)^(n − n_last)                      (traces carried across segments)
    Δ = η·(s_x[i]·a_y[j] − a_x[i]·s_y[j])  per synapse i→j of forward, clipped as the construct says
    W_xy += Δ ;  W_yx −= Δ  (the partner synapse j→i) ;  a ← a + s

then writes both projections into the simulator. Given the spike trains this is the torch update
(``backends/torch/mechanisms/sal.sal_step``) to rounding; W_xy + W_yx is conserved exactly. The
lag: inside a segment the simulator runs with the weights of the previous segment end, while the
online rule would already have moved them; ``lag`` holds the largest |W(t) − W(segment start)|
seen so far (the largest difference between the weights the network ran with and those online
SAL would have used for the same spikes), ``lag_history`` one entry per segment.

The weights SAL works on are the host copy of the weights last written (``sim._loaded``: what the
lowering, ``set_weights`` or the previous segment wrote), so ``set_weights`` between runs is
honoured and no weights are read back from the simulator. On a virtual SpiNNaker board nothing
runs, so nothing is updated.
"""
from __future__ import annotations

import math

import numpy as np

from neuromorph.mechanisms import SAL

from . import results


class SegmentSpikes:
    """The spikes of one population per segment as (neuron index, step) arrays."""

    def __init__(self, sim, label):
        self.label = label
        self.pop = sim.lowered.populations[label]
        recorded = any(r.target == label and "spikes" in r.variables for r in sim.net.recordings)
        if not recorded:
            self.pop.record("spikes")

    def between(self, sim, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Spikes with t0 < t <= t1: neuron indices and steps round(t/dt), sorted by step."""
        block = self.pop.get_data("spikes", clear=False)
        trains = results.spike_lists(block.segments[-1], sim.lowered_ids[self.label], t1)
        idx, steps = [], []
        for k, t in enumerate(trains):
            t = t[t > t0 + 1e-9]
            idx.append(np.full(t.size, k, dtype=np.int64))
            steps.append(np.rint(t / sim.net.dt).astype(np.int64))
        idx = np.concatenate(idx) if idx else np.zeros(0, np.int64)
        steps = np.concatenate(steps) if steps else np.zeros(0, np.int64)
        order = np.argsort(steps, kind="stable")
        return idx[order], steps[order]


def partner_index(fwd, bwd) -> np.ndarray:
    """For each synapse i→j of ``fwd`` (connectivity order), the index of j→i in ``bwd``."""
    key_f = fwd.pre * fwd.n_post + fwd.post
    key_b = bwd.post * fwd.n_post + bwd.pre        # backward's (post, pre) in forward's index space
    order = np.argsort(key_b, kind="stable")
    return order[np.searchsorted(key_b[order], key_f)]


class SALReplay:
    """The SAL rule of one reciprocal pair replayed from spike steps (numpy, float64).

    ``pre``/``post`` [nsyn]: forward's synapse ends (X index, Y index); ``n_x``, ``n_y``: sizes.
    ``trace_x`` [n_x], ``trace_y`` [n_y]: traces after step ``last`` (−1: none yet)."""

    def __init__(self, construct: SAL, dt: float, pre, post, n_x: int, n_y: int):
        self.eta, self.w_min, self.w_max = construct.eta, construct.w_min, construct.upper
        self.decay = math.exp(-dt / construct.tau)
        self.pre, self.post = np.asarray(pre, np.int64), np.asarray(post, np.int64)
        self.trace_x, self.trace_y = np.zeros(n_x), np.zeros(n_y)
        self.last = -1

    def replay(self, w_xy: np.ndarray, w_yx: np.ndarray, x_spikes, y_spikes):
        """Apply the spikes (``(neuron, step)`` arrays each, steps after ``last``) to ``w_xy``
        [nsyn] and ``w_yx`` [nsyn] (forward's order: w_yx[k] is the partner of synapse k).
        Returns (w_xy, w_yx, lag) with lag = max over the steps of |W(t) − W(start)|."""
        w_xy, w_yx = np.array(w_xy, dtype=np.float64), np.array(w_yx, dtype=np.float64)
        start = w_xy.copy()
        xi, xs = x_spikes
        yi, ys = y_spikes
        steps = np.union1d(xs, ys)
        if steps.size and steps[0] <= self.last:
            raise ValueError(f"SAL replay: spike at step {steps[0]} is not after the last replayed step {self.last}")
        bounded = math.isfinite(self.w_min) or math.isfinite(self.w_max)
        lag = 0.0
        # the spikes of each step: positions of the step boundaries in the sorted spike lists
        xs_order, ys_order = np.argsort(xs, kind="stable"), np.argsort(ys, kind="stable")
        xi, xs, yi, ys = xi[xs_order], xs[xs_order], yi[ys_order], ys[ys_order]
        xb = np.searchsorted(xs, steps, side="left"), np.searchsorted(xs, steps, side="right")
        yb = np.searchsorted(ys, steps, side="left"), np.searchsorted(ys, steps, side="right")
        sx, sy = np.zeros_like(self.trace_x), np.zeros_like(self.trace_y)
        a_x, a_y = self.trace_x, self.trace_y
        for k, n in enumerate(steps):
            f = self.decay ** (n - self.last) if self.last >= 0 else 0.0
            a_x, a_y = a_x * f, a_y * f
            ix, iy = xi[xb[0][k]:xb[1][k]], yi[yb[0][k]:yb[1][k]]
            sx[ix] = 1.0
            sy[iy] = 1.0
            delta = self.eta * (sx[self.pre] * a_y[self.post] - a_x[self.pre] * sy[self.post])
            if bounded:
                lo = np.maximum(self.w_min - w_xy, w_yx - self.w_max)
                hi = np.minimum(self.w_max - w_xy, w_yx - self.w_min)
                delta = np.minimum(np.maximum(delta, lo), hi)
            w_xy += delta
            w_yx -= delta
            a_x, a_y = a_x + sx, a_y + sy
            sx[ix] = 0.0
            sy[iy] = 0.0
            self.last = int(n)
            if w_xy.size:
                lag = max(lag, float(np.max(np.abs(w_xy - start))))
        self.trace_x, self.trace_y = a_x, a_y
        return w_xy, w_yx, lag

    def traces_at(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """The traces decayed to ``step`` (after that step's spikes, none being given)."""
        f = self.decay ** (step - self.last) if self.last >= 0 else 0.0
        return self.trace_x * f, self.trace_y * f


class HostSAL:
    """A SAL construct applied between segments. ``lag``: the largest weight lag so far;
    ``lag_history``: the lag of each segment."""

    def __init__(self, construct: SAL, sim):
        net = sim.net
        self.construct = construct
        self.label = construct.label
        f = net.projections[construct.forward]
        self.x, self.y = f.pre, f.post
        cf, cb = net.connectivity(construct.forward), net.connectivity(construct.backward)
        self.partner = partner_index(cf, cb)
        self.rule = SALReplay(construct, float(net.dt), cf.pre, cf.post, net.populations[f.pre].size,
                              net.populations[f.post].size)
        self.lag = 0.0
        self.lag_history: list[float] = []
        self._t0 = 0.0
        self._spikes = {p: SegmentSpikes(sim, p) for p in {self.x, self.y}}

    def segment_end(self, sim) -> None:
        c = self.construct
        t1 = sim.time
        got = {p: s.between(sim, self._t0, t1) for p, s in self._spikes.items()}
        self._t0 = t1
        w_xy = sim._loaded[c.forward]
        w_yx = sim._loaded[c.backward]
        new_xy, new_yx_f, lag = self.rule.replay(w_xy, w_yx[self.partner], got[self.x], got[self.y])
        new_yx = np.array(w_yx, dtype=np.float64)
        new_yx[self.partner] = new_yx_f
        self.lag = max(self.lag, lag)
        self.lag_history.append(lag)
        if np.array_equal(new_xy, w_xy) and np.array_equal(new_yx, w_yx):
            return
        for label, w in ((c.forward, new_xy), (c.backward, new_yx)):
            sim._write_weights(label, w)
            sim._cache.pop(("w", label), None)
