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
"""
from __future__ import annotations

import torch

from neuromorph.errors import UnsupportedError

from ..synapses import SynapseTable, expand_groups, flat2, take2
from .conventions import CONVENTIONS, NONE
from .weight_dependence import WEIGHT_DEPENDENCES, constants


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
        self.c = constants(t, wd)
        if self.conv.arithmetic == "nest" and wd.w_min != 0:
            raise UnsupportedError(
                f"projection {label!r}: STDP w_min={wd.w_min} under numerics 'exact' — NEST's stdp_synapse has no lower bound; "
                "use w_min=0 or a spinnaker profile")
        self.nearest = t.nearest
        self.device, self.dtype, self.batch = device, dtype, batch
        self.n_pre, self.n_post = table.n_pre, table.n_post
        self.L = table.max_delay + 3
        self.delays_t = torch.as_tensor(table.delays, dtype=torch.int64, device=device)
        self.col_syn, self.col_ptr, self.col_pre = table.by_delay_and_post()
        self.set_weights(torch.as_tensor(table.weights0, dtype=torch.float64, device=device).expand(batch, -1))
        self.reset_traces()

    # -- weights ----------------------------------------------------------------------------
    def set_weights(self, w: torch.Tensor):
        """w: magnitudes [batch, nsyn] in weight units."""
        self.W = w.to(self.device, torch.float64).to(self.dtype).clone()
        self.p = self.W.clone()

    def weights(self) -> torch.Tensor:
        """Committed weights in weight units ``[batch, nsyn]``."""
        return self.W

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

    def invalidate(self):
        """Forget which ring slots hold the current history (after the tensors were replaced,
        e.g. restored from a checkpoint)."""
        self._synced = [-1] * self.L

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
        new_trace, prev = self.conv.post_trace(self.cur_trace, self.cur_last, u, self.nearest)
        self.post_prev[slot] = prev
        self.cur_trace = torch.where(spk, new_trace, self.cur_trace)
        self.cur_last = self.cur_last.masked_fill(spk, u)
        self.post_spiked[slot] = spk
        self.post_last[slot] = self.cur_last
        self.post_last_trace[slot] = self.cur_trace

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
            taus = u - self.delays_t                                          # [nD]
            ok = taus >= lo
            spiked = self.post_spiked.index_select(0, taus.remainder(self.L)) & ok[:, None, None]  # [nD, B, n_post]
            d_idx, b, j = spiked.nonzero(as_tuple=True)
            group = d_idx * self.n_post + j
        if b.numel() == 0:
            return
        which, pos = expand_groups(self.col_ptr, group)
        if pos.numel() == 0:
            return
        syn = self.col_syn.index_select(0, pos)
        bb = b.index_select(0, which) if self.batch > 1 else 0   # one trial: take2/flat2 ignore it
        pre = self.col_pre.index_select(0, pos)
        last_pre = take2(self.last_pre, bb, pre)
        delta = u - last_pre
        apply = delta > 0
        if self.nearest and self.conv.placeholder_post:
            slot = ((u - self.table.single_delay) % self.L if d_idx is None else
                    (u - self.delays_t.index_select(0, d_idx.index_select(0, which))).remainder(self.L))
            prev = self.post_prev.view(-1).index_select(0, (slot * self.batch + bb) * self.n_post + j.index_select(0, which))
            apply = apply & (prev <= last_pre)
        k = self.conv.k_plus(delta, None if self.nearest else take2(self.pre_trace, bb, pre), self.nearest)
        idx = flat2(self.p, bb, syn)
        p = self.p.view(-1).index_select(0, idx)
        self.p.view(-1).index_copy_(0, idx, torch.where(apply, self.potentiate(self.c, p, k).to(p.dtype), p))

    # -- depression and commit at a pre spike with stamp u ----------------------------------
    def pre_spikes(self, u: int, spk: torch.Tensor, events=None):
        """spk: [batch, n_pre] bool. Depress against the latest post, commit, update pre traces.
        ``events``: the table's ``fan_out_events(spk)`` if already computed. Returns ``(post,
        weight)`` of the events' synapses — the committed weights in weight units, i.e. what
        is transmitted — or None without events."""
        bb, syn = events if events is not None else self.table.fan_out_events(spk)
        out = None
        if syn.numel():
            post = self.table.post.index_select(0, syn)
            d = self.table.single_delay
            if d is None:
                d = self.table.delay.index_select(0, syn)
            arrive = u - d
            v = arrive - (1 if self.conv.strict else 0)                    # latest post stamp that pairs
            # index into the [L, B, n_post] history rings
            if self.table.single_delay is not None:
                # one ring slot: gather from its [B·n_post] rows (and arrive stays a Python int: the
                # conventions take it as a scalar, the same numbers without a tensor of copies)
                slot = v % self.L
                hist = post if self.batch == 1 else bb * self.n_post + post
                last = self.post_last[slot].view(-1).index_select(0, hist)
                valid = last != NONE
                if v < 0:
                    valid = torch.zeros_like(valid)
                trace = None if self.nearest else self.post_last_trace[slot].view(-1).index_select(0, hist)
            else:
                hist = (v.remainder(self.L) * self.batch + bb) * self.n_post + post
                last = self.post_last.view(-1).index_select(0, hist)
                valid = (last != NONE) & (v >= 0)
                trace = None if self.nearest else self.post_last_trace.view(-1).index_select(0, hist)
            k = self.conv.k_minus(last, arrive - last, arrive, trace, self.nearest)  # used where valid only
            idx = flat2(self.p, bb, syn)
            p = self.p.view(-1).index_select(0, idx)
            if self.depress_without_post:   # a constant depression term acts at every pre spike (K = 0 without a post)
                valid, k = torch.ones_like(valid), torch.where(valid, k, torch.zeros_like(k))
            p = torch.where(valid, self.depress(self.c, p, k).to(p.dtype), p)
            self.W.view(-1).index_copy_(0, idx, p)
            self.p.view(-1).index_copy_(0, idx, p)
            out = (post, p)
        self._update_pre(u, spk)
        return out

    def _update_pre(self, u: int, spk: torch.Tensor):
        if not self.nearest:
            new = self.conv.pre_trace(self.pre_trace, u - self.last_pre, self.nearest)
            self.pre_trace = torch.where(spk, new, self.pre_trace)
        self.last_pre = self.last_pre.masked_fill(spk, u)
