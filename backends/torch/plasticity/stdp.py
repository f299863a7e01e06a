"""STDP on sparse synapses: one plastic projection's state and its event rules.

Event structure (both conventions; docs/semantics.md "STDP"): weights change only when a pre spike
is processed (lazily, as on both simulators). Potentiation terms are accumulated eagerly, when a
post spike reaches the synapse (stamp t_post + delay), into a *pending* accumulator ``p``; a pre
spike applies depression to it and commits it to ``W``. The sequence of operations on each weight
— potentiation terms in time order, then depression, clipping after each — is the simulators',
and the committed weight (what is transmitted and read back) never includes potentiation that the
simulators would still hold pending.

The float profiles' rule (the board's integer rule, with its bounded post history, is
board_stdp.py). Storage: ``W``, ``p`` ``[batch, nsyn]`` in the simulation's dtype. Per pre neuron: last spike stamp and trace ``[batch,
n_pre]``; per post neuron: rings by stamp ``[L, batch, n_post]``. Only the synapses of neurons
with an event in this step are touched.

Cost per step (``PlasticSynapses`` is most of an STDP network's step). Every choice below runs
the same float operations on the same numbers as the plain per-event evaluation, so results are
bit-identical whichever is taken (tests/test_stdp_paths.py):

- the timing factors depend on one neuron each — ``k_plus`` on the pre neuron (its last stamp and
  trace), ``k_minus`` on the post neuron and the delay (the ring slot's last post and trace) — so
  when a step has many events they are computed once per neuron (``[batch, n_pre]``, ``[n_delays,
  batch, n_post]``) and gathered, one factor per synapse; with few events (a huge, quiet network)
  per event, from gathered stamps and traces (a host-side size comparison, ``FACTOR_RATIO``). A
  rule whose factor enters as ``constant · k`` (weight_dependence.SCALED) takes that product over
  the table too. The pre-trace update of a pre spike at u reuses the k_plus table of u.
- a post spike's synapses (its (delay, post) group) come from padded rows by one row gather
  (``_padded_columns``), else from ``expand_groups``.
- the masks "a pre spike before this post arrival" and "a post spike before this pre arrival"
  are usually all true, which the host knows without looking (``_pres_before``, ``_posted_by``):
  their selects are then skipped. The weights are written back with ``scatter_`` (unique
  indices), faster than ``index_copy_`` on the CPU.
"""
from __future__ import annotations

import numpy as np
import torch

from neuromorph.errors import UnsupportedError

from ..synapses import SynapseTable, expand_groups, flat2
from .conventions import CONVENTIONS, NONE
from .weight_dependence import SCALED, WEIGHT_DEPENDENCES, constants

#: compute the timing factors per neuron and gather them when the per-neuron table has at most
#: FACTOR_RATIO × events + FACTOR_SLACK entries (a few elementwise kernels over the table against
#: two gathers, an exp and a handful of kernels over the events); else per event
FACTOR_RATIO = 2
FACTOR_SLACK = 4096
#: while not every post neuron has spiked yet, check it on the host at every this-many steps with
#: post spikes (the check is a reduction and a sync; until it succeeds depression keeps its mask)
POSTED_CHECK_EVERY = 8
#: post arrivals expand the spiking (delay, post) groups by one row gather from padded rows when
#: these waste at most this factor over the synapse count and hold at most COL_PAD_MAX entries
#: (12 bytes each: the rows are held besides the table's columns), else by ``expand_groups``
COL_PAD_WASTE = 1.5
COL_PAD_MAX = 1 << 24
#: NEST's weight unit per ours (pA per nA, nS per µS): PyNN's factor for NEST synapses
NEST_UNIT = 1000.0


class PlasticSynapses:
    #: apply ``depress`` at every pre spike, with timing factor 0 before any post spike (rules with a
    #: constant depression term, vogels.py); the pair rules depress only against an earlier post spike
    depress_without_post = False

    def __init__(self, label: str, table: SynapseTable, rule, profile, dt: float, batch: int, device, dtype,
                 shift: int | None):
        self.label, self.table = label, table
        t, wd = rule.timing, rule.weight
        if profile.board_weights:   # the board's integer STDP is board_stdp.BoardPlasticSynapses
            raise UnsupportedError(f"projection {label!r}: PlasticSynapses is the float STDP; numerics={profile.name!r} "
                                   "stores board words (plasticity.PLASTICITY routes it to BoardPlasticSynapses)")
        self.conv = CONVENTIONS[(profile.stdp_convention, False)](t.tau_plus, t.tau_minus, dt, device)
        rule_fns = WEIGHT_DEPENDENCES.get((type(wd), self.conv.arithmetic))
        if rule_fns is None:
            raise UnsupportedError(f"projection {label!r}: {type(wd).__name__} has no torch lowering for numerics={profile.name!r}")
        self.potentiate, self.depress = rule_fns
        #: weights are stored in NEST's units under its arithmetic (pA, nS: PyNN's ×1000, the same
        #: product) so that every update rounds as NEST's does; read back ÷1000, as PyNN reads them
        self.unit = NEST_UNIT if self.conv.arithmetic == "nest" else 1.0
        self.c = constants(t, wd)
        if self.unit != 1.0:
            self.c = self.c._replace(w_min=self.c.w_min * self.unit, w_max=self.c.w_max * self.unit)
        self.set_scaled(SCALED.get((type(wd), self.conv.arithmetic)))
        if self.conv.arithmetic == "nest" and wd.w_min != 0:
            raise UnsupportedError(
                f"projection {label!r}: STDP w_min={wd.w_min} under numerics 'exact' — NEST's stdp_synapse has no lower bound; "
                "use w_min=0 or a spinnaker profile")
        self.nearest = t.nearest
        self.device, self.dtype, self.batch = device, dtype, batch
        self.n_pre, self.n_post = table.n_pre, table.n_post
        self.L = table.max_delay + 3
        self.delays_t = torch.as_tensor(table.delays, dtype=torch.int64, device=device)
        # the ring slots (u − d) mod L of every delay, by u mod L (made once: a step reads its row)
        self.delay_slots = torch.remainder(torch.arange(self.L, device=device)[:, None] - self.delays_t, self.L).unbind(0)
        self.col_syn, self.col_ptr, self.col_pre = table.by_delay_and_post()
        self.col_rows = self._padded_columns()
        self.set_weights(torch.as_tensor(table.weights0, dtype=torch.float64, device=device).expand(batch, -1))
        self.reset_traces()

    def _padded_columns(self):
        """``(syn, pre)`` ``[n_delays·n_post, width]``: each (delay, post) group's synapses and
        their pre neurons (int32, an index_select index) in a row, padded by repeating the group's
        last member — a repeated member reads the same weight and factor and writes the same value
        twice. None when a group is empty or the rows would be too large (COL_PAD_WASTE, COL_PAD_MAX)."""
        ptr = self.col_ptr.cpu().numpy()
        counts = np.diff(ptr)
        if counts.size == 0 or counts.min() < 1 or self.n_pre >= 1 << 31:
            return None
        width = int(counts.max())
        if counts.size * width > min(COL_PAD_WASTE * self.table.nsyn + 4096, COL_PAD_MAX):
            return None
        member = ptr[:-1, None] + np.minimum(np.arange(width)[None, :], counts[:, None] - 1)
        dev = self.col_syn.device
        return (torch.as_tensor(self.col_syn.cpu().numpy()[member], device=dev),
                torch.as_tensor(self.col_pre.cpu().numpy()[member].astype(np.int32), device=dev))

    def set_scaled(self, scaled):
        """The rule's scaled form (weight_dependence.SCALED), or None: with one, the factor is
        multiplied by its constant before the gather (over a per-neuron table, not the events).
        Set again by a subclass that replaces ``potentiate``/``depress``/``c``."""
        self.scaled = scaled

    def _potentiate(self, p, k):
        """potentiate(c, p, k), with k already scaled when the rule has a scaled form."""
        return self.potentiate(self.c, p, k) if self.scaled is None else self.scaled.potentiate(self.c, p, k)

    def _depress(self, p, k):
        return self.depress(self.c, p, k) if self.scaled is None else self.scaled.depress(self.c, p, k)

    def _scale(self, k, plus: bool):
        sc = self.scaled
        return k if sc is None else (sc.plus(self.c) if plus else sc.minus(self.c)) * k

    # -- weights ----------------------------------------------------------------------------
    def set_weights(self, w: torch.Tensor):
        """w: magnitudes [batch, nsyn] in weight units (stored ×``unit``)."""
        w = w.to(self.device, torch.float64)
        self.W = (w if self.unit == 1.0 else w * self.unit).to(self.dtype).clone()
        self.p = self.W.clone()

    def weights(self) -> torch.Tensor:
        """Committed weights in weight units ``[batch, nsyn]``."""
        return self.W if self.unit == 1.0 else self.W / self.unit

    def state_tensors(self) -> list[torch.Tensor]:
        """The tensors that hold the weight state (committed and pending): restore both to undo a
        step's change (the astrocytes' STDP gate)."""
        return [self.W, self.p]

    # -- state ------------------------------------------------------------------------------
    def reset_traces(self):
        B, dev, L = self.batch, self.device, self.L
        tdt = self.conv.trace_dtype
        self.last_pre = torch.zeros(B, self.n_pre, dtype=torch.int64, device=dev)  # phantom pre at 0
        self.pre_trace = torch.zeros(B, self.n_pre, dtype=tdt, device=dev)
        self.post_spiked = torch.zeros(L, B, self.n_post, dtype=torch.bool, device=dev)
        self.post_last = torch.full((L, B, self.n_post), NONE, dtype=torch.int64, device=dev)
        self.post_last_trace = torch.zeros(L, B, self.n_post, dtype=tdt, device=dev)
        self.post_prev = torch.zeros(L, B, self.n_post, dtype=torch.int64, device=dev)
        self.cur_last = torch.full((B, self.n_post), NONE, dtype=torch.int64, device=dev)
        self.cur_trace = torch.zeros(B, self.n_post, dtype=tdt, device=dev)
        self._spiked = [False] * L  # host copy: did any post spike at the ring's stamps
        # host bookkeeping that lets a quiet step skip rewriting ring slots that already hold the
        # current history: the history's version (one more per step with post spikes) and, per
        # slot, the version it was last written with while quiet (-1: unknown or holds spikes)
        self._version = 0
        self._synced = [0] * L
        # host bounds that let a step skip a mask: the latest stamp in last_pre (None: unknown),
        # and the stamp from which every post neuron of every trial has spiked (None: not yet)
        self._pre_max = 0
        self._posted_from = None
        self._decay = None   # (stamp, last_pre, pre_trace, k_plus table) — see _pre_factors
        self._kring = None   # k_minus rows by arrival stamp, several delays — see _k_minus_table

    def invalidate(self):
        """Forget which ring slots hold the current history (after the tensors were replaced,
        e.g. restored from a checkpoint)."""
        self._synced = [-1] * self.L
        self._pre_max, self._posted_from, self._decay, self._kring = None, None, None, None

    def _pres_before(self, u: int) -> bool:
        """Whether every trial's every pre neuron last spiked (or holds the phantom pre 0) before
        stamp u — then every post arrival at u potentiates (``u − last_pre > 0``)."""
        if self._pre_max is None:   # after a restore: read it once
            self._pre_max = int(self.last_pre.max()) if self.last_pre.numel() else 0
        return u > self._pre_max

    def _posted_by(self, v: int) -> bool:
        """Whether the history at stamp v holds a post spike for every (trial, post neuron) — then
        every pre spike pairing with stamp v depresses."""
        return self._posted_from is not None and v >= self._posted_from

    # -- post spikes ------------------------------------------------------------------------
    def record_post(self, u: int, spk: torch.Tensor, any_spike: bool | None = None):
        """Post spikes with stamp u ([batch, n_post] bool) enter the history rings.
        ``any_spike``: whether any post spiked (None: unknown, e.g. on CUDA, where asking would
        synchronise); without spikes (``spk`` may then be None) only the rings' copies of the current
        history are written, and only where they are out of date."""
        slot = u % self.L
        self._spiked[slot] = any_spike is not False
        if any_spike is False:
            if self._synced[slot] != self._version:
                self.post_spiked[slot].zero_()
                self.post_last[slot] = self.cur_last
                self.post_last_trace[slot] = self.cur_trace
                self._synced[slot] = self._version
            return
        self._version += 1
        self._synced[slot] = -1
        if not self.nearest or self.conv.placeholder_post:   # (nearest pairs read no post trace)
            new_trace, prev = self.conv.post_trace(self.cur_trace, self.cur_last, u, self.nearest)
            if self.nearest:   # only sPyNNaker's nearest-pair test reads the previous post
                self.post_prev[slot] = prev
            else:
                self.cur_trace = torch.where(spk, new_trace, self.cur_trace)
        self.cur_last = self.cur_last.masked_fill(spk, u)
        self.post_spiked[slot] = spk
        self.post_last[slot] = self.cur_last
        self.post_last_trace[slot] = self.cur_trace
        if (self._posted_from is None and self.device.type == "cpu" and self._version % POSTED_CHECK_EVERY == 1
                and bool((self.cur_last != NONE).all())):
            self._posted_from = u

    def _pre_factors(self, u: int) -> torch.Tensor:
        """k_plus at u for every (trial, pre neuron) ``[batch, n_pre]``: ``decay`` = exp(−(u −
        last_pre)·dt/τ+), times the pre trace for all pairs. Kept until the pre state changes: the
        pre-trace update at a pre spike at u is ``trace·decay + 1`` (conventions.pre_trace), the
        same product, so a step with both computes it once."""
        c = self._decay
        if c is None or c[0] != u or c[1] is not self.last_pre or c[2] is not self.pre_trace:
            decay = self.conv.plus_decay(u - self.last_pre)
            k = self.conv.k_plus(None, None if self.nearest else self.pre_trace, self.nearest, decay=decay)
            self._decay = c = (u, self.last_pre, self.pre_trace, k)
        return c[3]

    def _arrivals(self, u: int, d_idx, b, j, group):
        """The synapses reached by the post spikes (delay index ``d_idx`` or None, trial ``b``,
        post ``j``) of (delay, post) groups ``group``: per event the flat index of its synapse in
        ``p``, of its pre neuron in ``[batch, n_pre]``, and (sPyNNaker's nearest pairs; else None)
        the post's previous spike stamp."""
        B, order = self.batch, self.nearest and self.conv.placeholder_post
        if self.col_rows is not None:   # one row gather per table, [groups, width]
            syn = self.col_rows[0].index_select(0, group)
            pre = self.col_rows[1].index_select(0, group)
            if B > 1:
                syn = (b * self.table.nsyn)[:, None] + syn
                pre = (b * self.n_pre)[:, None] + pre
            prev = None
            if order:
                slot = ((u - self.table.single_delay) % self.L if d_idx is None else
                        (u - self.delays_t.index_select(0, d_idx)).remainder(self.L))
                prev = self.post_prev.view(-1).index_select(0, (slot * B + b) * self.n_post + j)
                prev = prev[:, None].expand(-1, syn.shape[1]).reshape(-1)
            return syn.reshape(-1), pre.reshape(-1), prev
        which, pos = expand_groups(self.col_ptr, group)
        syn = self.col_syn.index_select(0, pos)
        pre = self.col_pre.index_select(0, pos)
        bb = b.index_select(0, which) if B > 1 else 0
        if B > 1:
            syn, pre = flat2(self.p, bb, syn), bb * self.n_pre + pre
        prev = None
        if order:
            slot = ((u - self.table.single_delay) % self.L if d_idx is None else
                    (u - self.delays_t.index_select(0, d_idx.index_select(0, which))).remainder(self.L))
            prev = self.post_prev.view(-1).index_select(0, (slot * B + bb) * self.n_post + j.index_select(0, which))
        return syn, pre, prev

    def post_arrivals(self, u: int):
        """Potentiation for post spikes reaching their synapses at stamp u (t_post + d = u), for
        every delay of the projection at once."""
        lo = 0 if self.conv.post_at_zero else 1
        d1 = self.table.single_delay
        if d1 is not None:   # (the general test below, without a generator per step)
            if u - d1 < lo or not self._spiked[(u - d1) % self.L]:
                return
        elif not any(self._spiked[(u - d) % self.L] for d in self.table.delays if u - d >= lo):
            return
        if self.table.single_delay is not None:  # the common case: one ring slot, no delay groups
            b, j = self.post_spiked[(u - self.table.single_delay) % self.L].nonzero(as_tuple=True)
            d_idx, group = None, j
        else:
            spiked = self.post_spiked.index_select(0, self.delay_slots[u % self.L])   # [nD, B, n_post]
            if u - self.table.max_delay < lo:   # early stamps: the longer delays reach before the start
                spiked = spiked & (u - self.delays_t >= lo)[:, None, None]
            d_idx, b, j = spiked.nonzero(as_tuple=True)
            group = d_idx * self.n_post + j
        if b.numel() == 0:
            return
        syn, pre, prev = self._arrivals(u, d_idx, b, j, group)
        n = syn.numel()
        if n == 0:
            return
        before = self._pres_before(u)                            # then u − last_pre > 0 everywhere
        per_neuron = self.batch * self.n_pre <= FACTOR_RATIO * n + FACTOR_SLACK
        last_pre = self.last_pre.view(-1).index_select(0, pre) if prev is not None or not (before and per_neuron) else None
        apply = None if before else u - last_pre > 0             # None: every event applies
        if prev is not None:                                     # sPyNNaker: the first post after the pre only
            first = prev <= last_pre
            apply = first if apply is None else apply & first
        trace = None if self.nearest else self.pre_trace
        if per_neuron:   # one factor per (trial, pre neuron), gathered
            k = self._scale(self._pre_factors(u), True).view(-1).index_select(0, pre)
        else:
            k = self.conv.k_plus(u - last_pre, None if trace is None else trace.view(-1).index_select(0, pre), self.nearest)
            k = self._scale(k, True)
        p = self.p.view(-1).index_select(0, syn)
        new = self._potentiate(p, k).to(p.dtype)
        # (a synapse is in one (delay, post) group and each group here once; padded rows repeat a
        # member, which writes the same value again)
        self.p.view(-1).scatter_(0, syn, new if apply is None else torch.where(apply, new, p))

    # -- depression and commit at a pre spike with stamp u ----------------------------------
    def _k_minus_row(self, a: int):
        """k_minus (scaled) of a pre spike reaching its synapses at stamp a for every (trial, post
        neuron), flat ``[batch · n_post]``, and where it applies (a post spike to pair with; None:
        everywhere); with ``depress_without_post`` the factor is 0 where none. ``a`` is a Python
        int, as in the per-event path of a single delay (the same double products as a tensor)."""
        v = a - (1 if self.conv.strict else 0)                  # the latest post stamp that pairs
        last = self.post_last[v % self.L]
        trace = None if self.nearest else self.post_last_trace[v % self.L]
        valid = None if self._posted_by(v) else (last != NONE) if v >= 0 else torch.zeros_like(last, dtype=torch.bool)
        k = self.conv.k_minus(last, a, trace, self.nearest)
        if self.depress_without_post:
            if valid is not None:
                k = torch.where(valid, k, torch.zeros_like(k))
            valid = None
        return self._scale(k, False).reshape(-1), (None if valid is None else valid.reshape(-1))

    def _k_minus_table(self, u: int):
        """k_minus (scaled) of a pre spike at u for every (delay, trial, post neuron), flat
        ``[n_delays · batch · n_post]`` (one delay: ``[batch · n_post]``), and its mask (None:
        everywhere). A row depends only on the arrival stamp u − d (and the history at it, final
        by then), so with several delays the rows are kept in a ring by arrival stamp: in a step
        only the row of the shortest delay is new, the others are the earlier steps' rows."""
        if self.table.single_delay is not None:
            return self._k_minus_row(u - self.table.single_delay)
        if self._kring is None:
            n = self.batch * self.n_post
            self._kring = [torch.zeros(self.L, n, dtype=self.conv.trace_dtype, device=self.device),
                           torch.ones(self.L, n, dtype=torch.bool, device=self.device), [None] * self.L, [True] * self.L,
                           None]
        k_ring, v_ring, stamps, everywhere, after = self._kring
        delays = self.table.delays
        lo, hi = u - delays[-1], u - delays[0]
        if len(delays) == delays[-1] - delays[0] + 1:
            # the delays fill their range: every stamp of the window is needed at every call, so
            # the rows held are those up to the last call's newest (``after`` − 1), and a row is
            # overwritten only by the one L stamps later, newer than any needed here
            missing = range(lo if after is None else max(lo, after), hi + 1)
            self._kring[4] = hi + 1
        else:
            missing = [u - d for d in delays if stamps[(u - d) % self.L] != u - d]
        for a in missing:
            slot = a % self.L
            k, valid = self._k_minus_row(a)
            k_ring[slot] = k
            if valid is not None:
                v_ring[slot] = valid
            elif not everywhere[slot]:
                v_ring[slot].fill_(True)
            stamps[slot], everywhere[slot] = a, valid is None
        slots = self.delay_slots[u % self.L]
        k_tab = k_ring.index_select(0, slots).view(-1)
        # rows whose latest pairing stamp is at or after the first with every post spiked hold no mask
        if self._posted_by(lo - (1 if self.conv.strict else 0)) or all(everywhere[(u - d) % self.L] for d in delays):
            return k_tab, None
        return k_tab, v_ring.index_select(0, slots).view(-1)

    def pre_spikes(self, u: int, spk: torch.Tensor, events=None):
        """spk: [batch, n_pre] bool. Depress against the latest post, commit, update pre traces.
        ``events``: the table's ``fan_out_events(spk)`` if already computed. Returns ``(post,
        weight)`` of the events' synapses — the committed weights in weight units, i.e. what
        is transmitted — or None without events."""
        bb, syn = events if events is not None else self.table.fan_out_events(spk)
        out = None
        n = syn.numel()
        if n:
            post = self.table.post.index_select(0, syn)
            single = self.table.single_delay is not None
            # the table's cost: one new row per step (several delays: and a gather of the kept ones)
            rows = (1 if single else 2) * self.batch * self.n_post
            if rows <= FACTOR_RATIO * n + FACTOR_SLACK:
                # factors per (delay, trial, post neuron), one gathered per event
                k_tab, valid_tab = self._k_minus_table(u)
                hist = post if self.batch == 1 else bb * self.n_post + post
                if not single:
                    hist = self.table.delay_index.index_select(0, syn) * (self.batch * self.n_post) + hist
                k = k_tab.index_select(0, hist)
                valid = None if valid_tab is None else valid_tab.index_select(0, hist)
            else:
                k, valid = self._k_minus_events(u, bb, syn, post)
            idx = flat2(self.p, bb, syn)
            p = self.p.view(-1).index_select(0, idx)
            new = self._depress(p, k).to(p.dtype)
            if valid is not None:
                new = torch.where(valid, new, p)
            # (indices are distinct: one event per (trial, pre neuron) and synapse)
            self.W.view(-1).scatter_(0, idx, new)
            self.p.view(-1).scatter_(0, idx, new)
            out = (post, new if self.unit == 1.0 else new / self.unit)
        self._update_pre(u, spk)
        return out

    def _k_minus_events(self, u: int, bb, syn, post):
        """k_minus per event from the gathered last post stamps and traces, and where it applies
        (None: everywhere); with ``depress_without_post`` the factor is 0 where no post spiked."""
        strict = 1 if self.conv.strict else 0
        d = self.table.single_delay
        if d is not None:
            # one ring slot: gather from its [B·n_post] rows (and arrive stays a Python int: the
            # conventions take it as a scalar, the same numbers without a tensor of copies)
            arrive = u - d
            v = arrive - strict                                            # latest post stamp that pairs
            slot = v % self.L
            hist = post if self.batch == 1 else bb * self.n_post + post
            last = self.post_last[slot].view(-1).index_select(0, hist)
            valid = None if self._posted_by(v) else (last != NONE) if v >= 0 else torch.zeros_like(last, dtype=torch.bool)
            trace = None if self.nearest else self.post_last_trace[slot].view(-1).index_select(0, hist)
        else:
            # index into the [L, B, n_post] history rings
            arrive = u - self.table.delay.index_select(0, syn)
            v = arrive - strict
            hist = v.remainder(self.L) * self.batch
            if bb is not None:
                hist += bb
            hist = hist * self.n_post + post
            last = self.post_last.view(-1).index_select(0, hist)
            valid = None if self._posted_by(u - self.table.max_delay - strict) else (last != NONE) & (v >= 0)
            trace = None if self.nearest else self.post_last_trace.view(-1).index_select(0, hist)
        k = self.conv.k_minus(last, arrive, trace, self.nearest)  # used where valid only
        if self.depress_without_post:   # a constant depression term acts at every pre spike (K = 0 without a post)
            if valid is not None:
                k = torch.where(valid, k, torch.zeros_like(k))
            valid = None
        return self._scale(k, False), valid

    def _update_pre(self, u: int, spk: torch.Tensor):
        if not self.nearest:
            # trace·decay + 1 (conventions.pre_trace), with trace·decay the step's k_plus table
            new = self._pre_factors(u) + 1.0
            self.pre_trace = torch.where(spk, new, self.pre_trace)
        self.last_pre = self.last_pre.masked_fill(spk, u)
        self._decay = None
        if self._pre_max is not None:
            self._pre_max = max(self._pre_max, u)
