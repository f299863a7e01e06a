"""Synapse storage and spike delivery on the torch backend.

A projection's synapses are lists (pre, post, delay) in CSR order by pre neuron, the description's
order (sorted by (pre, post)); weights are ``[1 or batch, nsyn]``. Delivery writes into the post
population's ring buffer ``[R, batch, n_post]`` (slot of step k + delay) with one ``index_add_``
over all delays of the projection. Three paths, chosen per projection and per call:

- **event** (default): only the synapses of the (trial, neuron) pairs that spiked are touched —
  ``O(spikes × fan-out)`` per step. Not differentiable with respect to spikes that did not occur.
- **all-synapse** (when autograd needs it): every synapse contributes ``s[pre]·w`` — differentiable
  in both the spikes (snnTorch surrogate) and the weights, any delays.
- **dense** (static projections with one delay that are dense — density ≥ 1/2 — or small,
  n_pre·n_post ≤ 2^16): weights held as ``[1 or batch, n_pre, n_post]`` and delivered by one
  matmul, which beats gathering for such projections and is what training networks use.
"""
from __future__ import annotations

import numpy as np
import torch

from . import dense_grad

#: a static single-delay projection is held dense when n_pre·n_post is at most this ...
DENSE_SMALL = 1 << 16
#: ... or when at least this fraction of its pairs is connected (and it fits DENSE_MAX entries)
DENSE_FRACTION = 0.5
DENSE_MAX = 1 << 26
#: with several delays, the ring holds RING_SPAN × (max delay + 1) slots while that costs at most
#: RING_SPAN_BYTES: a step at slot s with s + max delay < R then adds into the flat ring from slot s
#: on, where no target wraps around (the index needs no offset and no remainder: two kernels per
#: delivery fewer) — (RING_SPAN − 1)/RING_SPAN of the steps
RING_SPAN = 4
RING_SPAN_BYTES = 1 << 26
#: a static single-delay projection keeps its rows padded to the longest ([n_pre, max fan-out])
#: when that costs at most this factor over the synapse count: expanding spiking rows is then one
#: row gather instead of a CSR expansion (~12 kernels)
PAD_WASTE = 3.0


def ring_slots(max_delay: int, several_delays: bool, slot_bytes: int) -> int:
    """Slots of the input ring: max delay + 1, or RING_SPAN times that with several delays
    (``slot_bytes``: one slot of every population, both receptors, all trials)."""
    R = max_delay + 1
    return RING_SPAN * R if several_delays and RING_SPAN * R * slot_bytes <= RING_SPAN_BYTES else R


def expand_groups(ptr: torch.Tensor, groups: torch.Tensor):
    """For groups g (e.g. the pre neurons that spiked) with members ``ptr[g]:ptr[g+1]``, return
    ``(which, member)``: for every member of every listed group, the position of its group in
    ``groups`` and the member's index. Vectorised (no Python loop over groups). On the CPU this
    integer bookkeeping runs in numpy on the tensors' memory (no copies): a handful of spikes per
    step makes it a dozen tiny kernels, each costing more in torch's dispatch than in numpy."""
    if ptr.device.type == "cpu":
        return _expand_groups_host(ptr.numpy(), groups.numpy())
    start = ptr.index_select(0, groups)
    count = ptr.index_select(0, groups + 1) - start
    total = int(count.sum())
    if total == 0:
        empty = torch.zeros(0, dtype=torch.int64, device=ptr.device)
        return empty, empty
    which = torch.repeat_interleave(torch.arange(groups.numel(), device=ptr.device), count, output_size=total)
    # member = start[g] + rank within the group = arange(total) + (start - first position)[g]
    shift = start - (torch.cumsum(count, 0) - count)
    return which, torch.arange(total, device=ptr.device) + shift.index_select(0, which)


def _expand_groups_host(p: np.ndarray, g: np.ndarray):
    """expand_groups on host arrays (int64), the same numbers."""
    if g.size == 1:   # the common case of one spike: a contiguous run of members
        s, e = int(p[g[0]]), int(p[g[0] + 1])
        return torch.zeros(e - s, dtype=torch.int64), torch.arange(s, e, dtype=torch.int64)
    start = p[g]
    count = p[g + 1] - start
    which = np.repeat(np.arange(g.size, dtype=np.int64), count)
    # member = its group's start + its rank in the group = position + (start − first position)
    member = np.arange(which.size, dtype=np.int64) + np.repeat(start - (np.cumsum(count) - count), count)
    return torch.from_numpy(which), torch.from_numpy(member)


def take2(t: torch.Tensor, b: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    """``t[b, i]`` for a contiguous ``[B, n]`` tensor (``B = 1`` broadcasts over trials), by one
    flat index_select — several times faster than 2-D advanced indexing for event lists."""
    if t.shape[0] == 1:
        return t[0].index_select(0, i)
    return t.reshape(-1).index_select(0, b * t.shape[1] + i)


def flat2(t: torch.Tensor, b: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    """The flat index of ``t[b, i]`` in ``t.view(-1)`` (``[B, n]``, contiguous)."""
    return i if t.shape[0] == 1 else b * t.shape[1] + i


class SynapseTable:
    """Connectivity of one projection on a device: ``pre``, ``post``, ``delay`` (steps) ``[nsyn]``,
    ``row_ptr [n_pre + 1]`` (CSR by pre), and for plasticity the synapses grouped by
    (delay index, post): ``col_syn`` with ``col_ptr [n_delays·n_post + 1]``."""

    def __init__(self, conn, device):
        n_pre, n_post, pre, post, weights, delays = conn.n_pre, conn.n_post, conn.pre, conn.post, conn.weights, conn.delays
        self.n_pre, self.n_post = int(n_pre), int(n_post)
        pre = np.asarray(pre, dtype=np.int64)
        post = np.asarray(post, dtype=np.int64)
        delays = np.asarray(delays, dtype=np.int64)
        if pre.size and np.any(np.diff(pre) < 0):  # CSR needs rows in order; keep each row's order
            order = np.argsort(pre, kind="stable")
            pre, post, delays, weights = pre[order], post[order], delays[order], np.asarray(weights)[order]
        self.nsyn = int(pre.size)
        self.weights0 = np.array(weights, dtype=np.float64)  # a writable copy
        self.delays = sorted(int(d) for d in np.unique(delays)) if self.nsyn else [1]
        didx = np.searchsorted(np.asarray(self.delays), delays)
        self.single_delay = self.delays[0] if len(self.delays) == 1 else None
        self.max_delay = self.delays[-1]
        as_t = lambda a: torch.tensor(np.asarray(a), dtype=torch.int64, device=device)  # noqa: E731
        self.pre, self.post, self.delay = as_t(pre), as_t(post), as_t(delays)
        self.delay_index = as_t(didx)  # position of each synapse's delay in self.delays
        self.row_ptr = as_t(np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=self.n_pre))]))
        self.pre_np, self.post_np = pre, post
        self.density = self.nsyn / max(1, self.n_pre * self.n_post)
        #: the largest number of synapses onto one post neuron
        self.max_fan_in = int(np.bincount(post, minlength=self.n_post).max()) if self.nsyn else 0
        self._cols = None

    def by_delay_and_post(self):
        """(col_syn, col_ptr, col_pre): synapses sorted by (delay index, post), the group
        pointers, and each sorted synapse's pre neuron (saves a gather per event)."""
        if self._cols is None:
            dev = self.pre.device
            key = self.delay_index.cpu().numpy() * self.n_post + self.post_np
            order = np.argsort(key, kind="stable")
            counts = np.bincount(key, minlength=len(self.delays) * self.n_post)
            ptr = np.concatenate([[0], np.cumsum(counts)])
            self._cols = (torch.as_tensor(order, dtype=torch.int64, device=dev),
                          torch.as_tensor(ptr, dtype=torch.int64, device=dev),
                          torch.as_tensor(self.pre_np[order], dtype=torch.int64, device=dev))
        return self._cols

    def fan_out_events(self, spikes: torch.Tensor, nz=None):
        """Synapses of the (trial, pre) pairs that spiked: ``(trial [M], syn [M])``; the trials are
        None for spikes of one trial (``[1, n_pre]``: every event's is 0). ``nz``:
        ``spikes.nonzero(as_tuple=True)`` if already computed."""
        b, i = nz if nz is not None else spikes.nonzero(as_tuple=True)
        which, syn = expand_groups(self.row_ptr, i)
        return (b.index_select(0, which) if spikes.shape[0] > 1 else None), syn

    def padded(self):
        """``(pad_syn, pad_post, pad_delay)`` ``[n_pre, max fan-out]``: each row's synapses, padded
        with the dummy synapse ``nsyn`` onto post neuron 0 (its weight is 0; ``pad_delay`` is None
        with a single delay), or None when rows differ too much in length (PAD_WASTE)."""
        if self.nsyn == 0:
            return None
        counts = np.diff(self.row_ptr.cpu().numpy())
        width = int(counts.max())
        if self.n_pre * width > PAD_WASTE * self.nsyn + 1024:
            return None
        rank = np.arange(self.nsyn) - np.repeat(self.row_ptr.cpu().numpy()[:-1], counts)
        pad_syn = np.full((self.n_pre, width), self.nsyn, dtype=np.int64)
        pad_syn[self.pre_np, rank] = np.arange(self.nsyn)
        pad_post = np.zeros((self.n_pre, width), dtype=np.int64)
        pad_post[self.pre_np, rank] = self.post_np
        dev = self.pre.device
        pad_delay = None
        if self.single_delay is None:
            pad_delay = np.full((self.n_pre, width), self.delays[0], dtype=np.int64)
            pad_delay[self.pre_np, rank] = self.delay.cpu().numpy()
            pad_delay = torch.as_tensor(pad_delay, device=dev)
        return torch.as_tensor(pad_syn, device=dev), torch.as_tensor(pad_post, device=dev), pad_delay

    def dense_mask(self, device) -> torch.Tensor:
        m = torch.zeros(self.n_pre, self.n_post, dtype=torch.bool, device=device)
        m[self.pre, self.post] = True
        return m

    def wants_dense(self) -> bool:
        if self.single_delay is None or self.nsyn == 0:
            return False
        size = self.n_pre * self.n_post
        dense = size <= DENSE_SMALL or (self.density >= DENSE_FRACTION and size <= DENSE_MAX)
        return dense and not self.repeated_pairs()

    def repeated_pairs(self) -> bool:
        """Whether a (pre, post) pair has more than one synapse (FixedNumberPre/Post/TotalNumber
        with replacement): a dense [n_pre, n_post] matrix would keep only one of them."""
        if self.nsyn < 2:
            return False
        keys = self.pre_np * self.n_post + self.post_np
        step = np.diff(keys)
        if np.all(step > 0):
            return False
        keys = np.sort(keys)
        return bool(np.any(keys[1:] == keys[:-1]))


class RingBuffers:
    """Input ring buffers: slot ``k % R`` holds, per population and receptor (0 excitatory, 1
    inhibitory), the weight magnitudes ``[batch, n]`` consumed by the update of step k.

    Two storages: one tensor ``[R, 2, batch, n]`` per population (the event path scatters every
    delay of a projection into it with one ``index_add_``), or — while autograd records
    (:meth:`set_grad`) — a list of per-slot tensors, so that reading a slot and adding into it
    stay out-of-place: autograd on one big reused buffer would copy the whole buffer back for every
    read slot (``SelectBackward``/``CopySlices``), the main cost of a training step."""

    def __init__(self, sizes: dict, R: int, batch: int, dtype, device):
        self.R, self.batch, self.sizes = R, batch, dict(sizes)
        self.grad = False
        self.buf = {label: torch.zeros(R, 2, batch, n, dtype=dtype, device=device) for label, n in sizes.items()}
        self.zero = {label: torch.zeros(batch, n, dtype=dtype, device=device) for label, n in sizes.items()}
        self.slots: dict = {}
        self._views_of = None   # the ``buf`` dict the views below were taken from
        self._targets: dict = {}   # (id(table), receptor, id(post)) -> (table, post, targets) (see targets)

    def _slot_views(self) -> dict:
        """label -> per slot ``(excitatory, inhibitory, both)`` views of ``buf``: taken once (and
        again if ``buf`` is replaced, e.g. by a checkpoint restore), so a step reads, clears and
        adds into its slots without indexing (each index is a kernel call)."""
        if self._views_of is not self.buf:
            self._views = {label: [(b[s, 0], b[s, 1], b[s]) for s in range(self.R)] for label, b in self.buf.items()}
            self._flat = {label: b.view(-1) for label, b in self.buf.items()}
            # the flat ring from each slot on (scatter's no-wrap case)
            self._from = {label: [f[s * f.numel() // self.R:] for s in range(self.R)] for label, f in self._flat.items()}
            self._views_of = self.buf
        return self._views

    def set_grad(self, grad: bool) -> None:
        """Switch storage, keeping the pending input. Called at the start of every run: the
        run's weight-gradient sinks of trainable dense projections start afresh (dense_grad.py)."""
        self.sinks = {}
        if grad == self.grad:
            return
        if grad:
            self.slots = {label: [[b[s, 0].clone(), b[s, 1].clone()] for s in range(self.R)] for label, b in self.buf.items()}
        else:
            for label, b in self.buf.items():
                with torch.no_grad():
                    for s in range(self.R):
                        b[s, 0].copy_(self.slots[label][s][0])
                        b[s, 1].copy_(self.slots[label][s][1])
            self.slots = {}
        self.grad = grad

    def slot(self, label, k: int):
        """This step's (excitatory, inhibitory) input, valid until :meth:`clear`."""
        if self.grad:
            return self.slots[label][k % self.R]
        x = self._slot_views()[label][k % self.R]
        return x[0], x[1]

    def clear(self, label, k: int) -> None:
        if self.grad:
            z = self.zero[label]
            self.slots[label][k % self.R] = [z, z]
        else:
            self._slot_views()[label][k % self.R][2].zero_()

    def add(self, label, receptor: int, k: int, x: torch.Tensor) -> None:
        """Add ``x`` ``[batch, n]`` to the input of step k."""
        if self.grad:
            cell = self.slots[label][k % self.R]
            held = cell[receptor]
            # a cleared slot holds the shared zero tensor: store x itself (0 + x is x), which saves
            # an add and its autograd node per delivery; x is never changed in place afterwards
            if held is self.zero[label] and x.shape == held.shape and x.dtype == held.dtype:
                cell[receptor] = x
            else:
                cell[receptor] = held + x
        else:
            self._slot_views()[label][k % self.R][receptor].add_(x)

    def _place(self, label, receptor: int, post, delay):
        """The place of (post neuron, delay) in the flat ring ``[R, 2, batch, n]`` at step 0, trial
        0: ``delay·2Bn + receptor·Bn + post``. At step k and trial b it is that ``+ b·n + k·2Bn``
        modulo ``R·2Bn``: (k + delay) mod R is the slot, and receptor·Bn + b·n + post < 2Bn."""
        B, n = self.batch, self.sizes[label]
        return delay * (2 * B * n) + (receptor * B * n) + post

    def targets(self, label, receptor: int, table: "SynapseTable", rows=None) -> torch.Tensor:
        """:meth:`_place` of every synapse of a projection with several delays (``rows``:
        ``(pad_post, pad_delay)``, of every entry of its padded rows ``[n_pre, width]``), made once
        per table: a step's scatter then needs one gather, an add and a remainder."""
        post, delay = (table.post, table.delay) if rows is None else rows
        key = (id(table), receptor, id(post))
        hit = self._targets.get(key)
        if hit is not None and hit[0] is table and hit[1] is post:
            return hit[2]
        e = self._place(label, receptor, post, delay)
        self._targets[key] = (table, post, e)
        return e

    def scatter(self, label, receptor: int, k: int, table: "SynapseTable", syn, b, post, x, delay=None,
                target=None) -> None:
        """Add ``x`` (one value per event) to post neurons ``post`` of trials ``b``, each in the
        slot of step k + its synapse's delay (``delay``, or the delays of synapses ``syn``) —
        every delay in one scatter. ``target``: the events' :meth:`targets` instead of ``post``
        and ``delay`` (several delays, outside autograd)."""
        B, n = self.batch, self.sizes[label]
        if not self.grad:
            if table.single_delay is not None:   # one slot: add into its [B, n] view (no offset to add)
                view = self._slot_views()[label][(k + table.single_delay) % self.R][receptor].view(-1)
                view.index_add_(0, post if B == 1 else b * n + post, x if x.dtype == view.dtype else x.to(view.dtype))
                return
            self._slot_views()
            buf = self._flat[label]
            if target is None:
                target = (self.targets(label, receptor, table).index_select(0, syn) if delay is None
                          else self._place(label, receptor, post, delay))
            idx = target if B == 1 else target + b * n   # b may be None with one trial
            x = x if x.dtype == buf.dtype else x.to(buf.dtype)
            s = k % self.R
            if s + table.max_delay < self.R:   # no target wraps: the ring from slot s on, as it is
                self._from[label][s].index_add_(0, idx, x)
            else:
                buf.index_add_(0, (idx + s * (2 * B * n)).remainder_(buf.numel()), x)
            return
        nd = len(table.delays)
        idx = (b if B > 1 else torch.zeros_like(post)) * n + post
        if nd > 1:
            idx = table.delay_index.index_select(0, syn) * (B * n) + idx
        z = torch.zeros(nd * B * n, dtype=x.dtype, device=x.device).index_add(0, idx, x).view(nd, B, n)
        for i, d in enumerate(table.delays):
            self.add(label, receptor, k + d, z[i].to(self.zero[label].dtype))


def deliver(ring: RingBuffers, label: str, receptor: int, table: SynapseTable, spikes: torch.Tensor,
            w: torch.Tensor | None, k: int, gain: torch.Tensor | None, dense: torch.Tensor | None = None,
            active=None, given=None, padded=None, nz=None):
    """Add one step's spikes of a projection into the ring buffers of its post population
    ``label`` (receptor 0 or 1) at slots k + delay.

    ``w``: synapse weights ``[1 or B, nsyn]`` (magnitudes) or None when ``dense`` ``[1 or B,
    n_pre, n_post]`` holds them; ``gain``: None or ``[1 or B, n_post]`` multiplying the weights of
    each post neuron; ``active``: a precomputed ``fan_out_events``; ``given``: ``(post, weight)``
    of the active synapses already gathered (plastic projections just committed them);
    ``padded``: ``(pad_post, pad_delay, pad_weight)``: ``[n_pre, width]`` (``pad_delay`` None with
    one delay) and ``[1 or B, n_pre, width]`` rows of a padded table (SynapseTable.padded); ``nz``:
    ``spikes.nonzero(as_tuple=True)``."""
    grad = given is None and torch.is_grad_enabled() and (
        spikes.requires_grad or (w is not None and w.requires_grad) or (dense is not None and dense.requires_grad))
    if dense is not None:
        s = spikes.to(dense.dtype)
        # squeeze, not dense[0]: the backward of a select builds a zero tensor the size of the
        # whole weight matrix per step (the main cost of a training step's backward)
        if dense.shape[0] > 1:
            x = torch.matmul(s.unsqueeze(1), dense).squeeze(1)
        elif (grad and ring.grad and dense.requires_grad and dense.is_leaf and dense_grad.AVAILABLE
              and dense.numel() >= dense_grad.MIN_ENTRIES):
            # W's gradient as one GEMM per backward; only for the parameter itself (a masked
            # product, W · mask, is a new tensor every step: nothing to gather)
            x = dense_grad.deliver_dense(ring.sinks, s, dense)
        else:
            x = s @ dense.squeeze(0)
        if gain is not None:
            x = x * gain
        ring.add(label, receptor, k + table.single_delay, x)
        return
    if grad:  # every synapse, differentiable in spikes and weights
        B = ring.batch
        x = (spikes.to(w.dtype)[:, table.pre] * w).expand(B, -1)          # [B, nsyn]
        if gain is not None:
            x = x * gain[:, table.post]
        b = torch.arange(B, device=x.device).repeat_interleave(table.nsyn)
        syn = torch.arange(table.nsyn, device=x.device).repeat(B)
        ring.scatter(label, receptor, k, table, syn, b, table.post.repeat(B), x.reshape(-1))
        return
    if padded is not None:  # rows of the spiking neurons, padding included (it adds 0)
        pad_post, pad_delay, pad_w = padded
        b, i = nz if nz is not None else spikes.nonzero(as_tuple=True)
        x = (pad_w[0].index_select(0, i) if pad_w.shape[0] == 1 else
             pad_w.reshape(-1, pad_w.shape[2]).index_select(0, b * pad_w.shape[1] + i)).reshape(-1)
        # one trial: the trial index of every event is 0 and nothing reads it
        bb = None if ring.batch == 1 else b.unsqueeze(1).expand(-1, pad_post.shape[1]).reshape(-1)
        if pad_delay is not None and gain is None and not ring.grad:   # several delays: the rows' ring targets
            e = ring.targets(label, receptor, table, (pad_post, pad_delay)).index_select(0, i)
            ring.scatter(label, receptor, k, table, None, bb, None, x, target=e.reshape(-1))
            return
        post = pad_post.index_select(0, i).reshape(-1)
        delay = None if pad_delay is None else pad_delay.index_select(0, i).reshape(-1)
        if gain is not None:
            x = x * take2(gain, bb, post)
        ring.scatter(label, receptor, k, table, None, bb, post, x, delay)
        return
    bb, syn = active if active is not None else table.fan_out_events(spikes, nz)
    if syn.numel() == 0:
        return
    if given is not None:
        post, x = given
    else:
        x = take2(w, bb, syn)
        # several delays outside autograd scatter by the synapses' ring targets, without post
        targeted = gain is None and table.single_delay is None and not ring.grad
        post = None if targeted else table.post.index_select(0, syn)
    if gain is not None:
        x = x * take2(gain, bb, post)
    ring.scatter(label, receptor, k, table, syn, bb, post, x)
