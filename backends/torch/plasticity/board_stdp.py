"""STDP as a SpiNNaker core does it: lazy evaluation at pre spikes over a bounded post history.

The board (simulators.md §9.3, §9.4, §9.7; sPyNNaker's synapse_dynamics_stdp_mad_impl.c,
post_events.h, timing_{pair,nearest_pair}_impl.h, weight_*_impl.h) never touches a synapse at a
post spike: the post spike only enters its neuron's event history. When a pre spike is processed
at tick t, every plastic synapse of its row replays the post spikes of its window in time order,
then depresses against the latest post and writes back a 16-bit word. This class does exactly
that, vectorised over the event synapses:

History (per trial and post neuron, ``post_times`` / ``post_traces`` ``[batch, n_post, 16]``, and
``post_count`` ``[batch, n_post]``): slot 0 is the placeholder entry at time 0 (trace 0, never a
real spike); slots 1..count hold the at most 15 latest post spikes in ascending time (and, for the
all-pairs rule, the post trace after each). A post spike into a full history shifts slots 2..15
down by one (dropping the oldest real spike, slot 1) and writes the new one to slot 15
(``post_events_add``).

At a pre spike with stamp t, for each event synapse (delay d = d_b, backprop delay):

1. acc = W << s (s16.15 bits).
2. B = max(last_pre − d, 0), E = max(t − d, 0). For the history entries τ with B < τ ≤ E, in
   ascending order (``post_events_get_window_delayed``): Δ+ = τ + d − last_pre (> 0);
   nearest pair: r = LUT+[Δ+], r = 0 if the preceding entry's time (not delayed; the placeholder's
   0 for slot 1) is later than last_pre — i.e. ``τ + d − τ_prev < Δ+``; all pairs: r =
   (pre_trace(last_pre) · LUT+[Δ+]) >> 11. acc = potentiate(acc, r) (additive: + (Aq+·16r) >> 15,
   then min with Wq_max). The term is applied (with its clamp) even when r = 0, as on the core.
3. If a real entry τ_L ≤ E exists (the latest; ``prev_time_valid``): Δ− = t − (τ_L + d), as an
   unsigned tick difference (a wrapped, "negative" Δ− reads 0 past the LUT); nearest: o = LUT−[Δ−];
   all pairs: o = (trace_L · LUT−[Δ−]) >> 11. acc = depress(acc, o) (additive: − (Aq−·16o) >> 15,
   then max with Wq_min).
4. W = (acc >> s) & 0xFFFF, written back; ``pre_spikes`` returns these new words. Then last_pre = t
   and (all pairs) pre_trace = int16((pre_trace · LUT+[t − last_pre]) >> 11 + 2048).

Traces (all pairs) are the core's ``int16_t``: a trace past 32767 wraps, as on the board
(``(post_trace_t) new_o1_trace``); ``STDP_FIXED_MUL_16X16`` is a 16×16 signed product >> 11.
The eager :class:`PlasticSynapses` keeps them unbounded; the two agree whenever no trace exceeds
32767 and no more than 15 post spikes fall into one synapse's window.

Weight dependences are the registered ``"board"`` rules of weight_dependence.py (additive: the
s16.15 integer chain above; multiplicative: that module's float64 approximation, not the core's
accum products). For the additive rule with non-negative terms the chain of upper clamps is
evaluated as one clamp of the sum of the floored terms (the same number); otherwise term by term.

Vectorisation: windows are located by counting, not by scanning (``pre_spikes``); all window
entries of all event synapses are processed at once; per-post quantities (latest post ≤ E and its
depression factor) are computed once per stamp for every delay of the projection.

Not emulated: int32 wrap-around of the s16.15 accumulator (the board's ``acc + term`` wraps past
±65536 nA; here it does not), and which of a post and a pre in the same tick comes first when
d_b = 0 (not determined, simulators.md §9.7; delays are >= 1 step here).

``dropped_posts`` (a Python int): the number of post spikes pushed out of a full history while
still unconsumed by at least one incoming synapse of their neuron, i.e. while their time τ was
newer than that synapse's window start max(last_pre − d, 0) — spikes that some later pre spike
would have paired with on an unbounded history (the board loses them; so does this class). Counted
exactly, per trial, at the drop (post spikes at time 0 never count: no window holds them), summed
over trials. Neurons without incoming synapses never count. :meth:`reset_traces` sets it back to 0.
"""
from __future__ import annotations

import numpy as np
import torch

from neuromorph.errors import UnsupportedError
from neuromorph.plasticity import AdditiveWeightDependence

from .. import board
from ..synapses import SynapseTable, expand_groups, flat2, take2
from .conventions import SpinnakerBoardConvention
from .weight_dependence import WEIGHT_DEPENDENCES, constants

#: history entries per post neuron: the placeholder at time 0 plus 15 post spikes
#: (sPyNNaker's ``MAX_POST_SYNAPTIC_EVENTS``)
HISTORY = 16


class BoardPlasticSynapses:
    """One plastic projection under the board's STDP (see the module docstring): same interface as
    :class:`PlasticSynapses` with ``board = True``, except that :meth:`pre_spikes` returns the new
    16-bit words (int64) of the event synapses and :meth:`post_arrivals` does nothing."""

    board = True
    #: attributes holding the whole state (for checkpoints)
    STATE_ATTRS = ("W", "last_pre", "pre_trace", "post_times", "post_traces", "post_count", "post_total", "seen",
                   "_dropped", "_min_start")

    def __init__(self, label: str, table: SynapseTable, rule, profile, dt: float, batch: int, device, dtype,
                 shift: int | None):
        self.label, self.table = label, table
        t, wd = rule.timing, rule.weight
        if not profile.board_weights or profile.stdp_convention != "spinnaker":
            raise UnsupportedError(f"projection {label!r}: the board STDP lowering needs a profile with board weights and "
                                   f"sPyNNaker's STDP convention, not numerics={profile.name!r}")
        if shift is None:
            raise UnsupportedError(f"projection {label!r}: board STDP needs the ring-buffer shift of its receptor")
        rule_fns = WEIGHT_DEPENDENCES.get((type(wd), "board"))
        if rule_fns is None:
            raise UnsupportedError(f"projection {label!r}: {type(wd).__name__} has no torch lowering for numerics={profile.name!r}")
        self.potentiate, self.depress = rule_fns
        self._additive = isinstance(wd, AdditiveWeightDependence)
        self.c = constants(t, wd)
        self.conv = SpinnakerBoardConvention(t.tau_plus, t.tau_minus, dt, device)
        # each table ends in one extra 0 (past the table): index len for anything beyond or "negative"
        self.lut_plus, self.lut_minus = self.conv.lut_plus, self.conv.lut_minus
        # the same tables behind one leading 0, read at delta + 1 clamped to [0, len]: negative deltas
        # land on the leading 0, those past the table on the trailing one (two kernels, not three)
        zero = torch.zeros(1, dtype=torch.int64, device=device)
        self._lut1 = {id(t): torch.cat([zero, t]) for t in (self.lut_plus, self.lut_minus)}
        self.nearest = t.nearest
        self.device, self.dtype, self.batch = device, dtype, batch
        self.n_pre, self.n_post = table.n_pre, table.n_post
        self.shift = int(shift)
        self.lsb = board.weight_lsb(self.shift)
        self.col_syn, self.col_ptr, self.col_pre = table.by_delay_and_post()
        self.n_delays = len(table.delays)
        self._delays_t = torch.as_tensor(table.delays, dtype=torch.int64, device=device)[:, None]
        # flat slot 0 of each (trial, post neuron)'s history, [batch, n_post]
        self._row_base = torch.arange(batch * self.n_post, dtype=torch.int64, device=device).view(batch, -1) * HISTORY
        self._row_views = {}
        self._fan_in = self._padded_fan_in(table, device)
        # a post spike into a history of n entries (record_post): the history's new slots read the
        # old slots ``_src[n]`` (the identity, or — full — slots 2..15 moved down by one), then the
        # spike is written to slot ``_write[n]`` = min(n + 1, 15), which is also the new count
        src = torch.arange(HISTORY, dtype=torch.int64, device=device).repeat(HISTORY, 1)
        src[HISTORY - 1, 1:HISTORY - 1] += 1
        self._src = src
        self._write = torch.clamp(torch.arange(1, HISTORY + 1, dtype=torch.int64, device=device), max=HISTORY - 1)
        # additive rule: the potentiation term (Aq+·(r << 4)) >> 15 as (16·Aq+ · r) >> 15 (integers: the same)
        self._aq16_plus = self.c.Aq_plus * 16 if self._additive else None
        self.set_weights(torch.as_tensor(table.weights0, dtype=torch.float64, device=device).expand(batch, -1))
        self.reset_traces()

    # -- weights ----------------------------------------------------------------------------
    def set_weights(self, w: torch.Tensor):
        """w: magnitudes [batch, nsyn] in weight units -> words rint(w / lsb)."""
        self.W = board.weight_words(w.to(self.device, torch.float64), self.lsb, self.label, self.c.w_max).clone()

    def weights(self) -> torch.Tensor:
        """Stored weights in weight units ``[batch, nsyn]`` (float64)."""
        return self.W.to(torch.float64) * self.lsb

    def state_tensors(self) -> list[torch.Tensor]:
        """The tensors that hold the weight state: only the words (nothing is pending)."""
        return [self.W]

    # -- state ------------------------------------------------------------------------------
    def reset_traces(self):
        B, dev = self.batch, self.device
        self.last_pre = torch.zeros(B, self.n_pre, dtype=torch.int64, device=dev)  # zeroed row header
        self.pre_trace = torch.zeros(B, self.n_pre, dtype=torch.int64, device=dev)
        self.post_times = torch.zeros(B, self.n_post, HISTORY, dtype=torch.int64, device=dev)
        # the nearest-pair rule stores no traces
        self.post_traces = (torch.zeros(0, dtype=torch.int64, device=dev) if self.nearest else
                            torch.zeros(B, self.n_post, HISTORY, dtype=torch.int64, device=dev))
        self.post_count = torch.zeros(B, self.n_post, dtype=torch.int64, device=dev)
        # post spikes ever at times > 0 (their running numbers), and per synapse the running number
        # of the latest post its window has passed (nE at its last pre spike)
        self.post_total = torch.zeros(B, self.n_post, dtype=torch.int64, device=dev)
        self.seen = torch.zeros(B, self.table.nsyn, dtype=torch.int64, device=dev)
        self._dropped = torch.zeros((), dtype=torch.int64, device=dev)
        self._min_start = torch.zeros(B, self.n_post, dtype=torch.int64, device=dev)

    @property
    def dropped_posts(self) -> int:
        """Post spikes dropped from a full history before every incoming synapse had used them
        (module docstring)."""
        return int(self._dropped)

    def _rows(self, name: str) -> torch.Tensor:
        """``getattr(self, name).view(-1, 16)`` of a history tensor, kept while it is the same
        tensor (a view is a dispatcher call; the histories change in place and are replaced only by
        a reset or a checkpoint restore)."""
        t = getattr(self, name)
        held = self._row_views.get(name)
        if held is None or held[0] is not t:
            held = self._row_views[name] = (t, t.view(-1, HISTORY))
        return held[1]

    @staticmethod
    def _decayed_trace(trace: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
        """The trace after a spike: int16((trace · factor) >> 11 + 2048), the core's 16×16 product
        and ``int16_t`` store (in place on the fresh product)."""
        x = trace * factor
        x >>= board.STDP_FIXED_POINT
        x += board.STDP_ONE + 0x8000
        x &= 0xFFFF
        x -= 0x8000
        return x

    def _lut_at(self, lut: torch.Tensor, delta1: torch.Tensor) -> torch.Tensor:
        """``_lut(lut, delta1 − 1)`` for a fresh int64 tensor ``delta1`` (changed in place): the
        callers fold the + 1 into their own arithmetic (a kernel less)."""
        return torch.take(self._lut1[id(lut)], delta1.clamp_(0, lut.numel()))

    def _lut(self, lut: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        """lut[delta] for 0 <= delta < len, else 0 — also for negative deltas, which are huge
        unsigned tick differences on the core."""
        shifted = self._lut1.get(id(lut))
        if shifted is not None:
            idx = (delta + 1).clamp_(0, lut.numel())
            return shifted.index_select(0, idx.reshape(-1)).view(delta.shape)
        end = lut.numel() - 1  # the appended 0
        idx = delta.masked_fill(delta < 0, end).clamp_(max=end)
        return lut.index_select(0, idx.reshape(-1)).view(delta.shape)

    # -- post spikes ------------------------------------------------------------------------
    def record_post(self, u: int, spk: torch.Tensor, any_spike: bool | None = None):
        """Post spikes with stamp u ([batch, n_post] bool) enter their neurons' histories."""
        if any_spike is False:
            return
        b, j = spk.nonzero(as_tuple=True)
        if b.numel() == 0:
            return
        H = HISTORY
        row = j if self.batch == 1 else torch.add(j, b, alpha=self.n_post)    # integers: j + n_post·b, exact
        times_v = self._rows("post_times")
        n = torch.take(self.post_count, row)
        times = times_v.index_select(0, row)                                   # [S, 16]
        self._count_dropped(b, j, row, n, times[:, 1])
        # the new rows: the old ones moved down when full (_src), the spike written at slot new_n
        src, new_n = self._src.index_select(0, n), self._write.index_select(0, n)
        at = new_n.unsqueeze(1)
        if not self.nearest:   # the new post trace from the latest entry (the placeholder's time and trace: 0)
            last = torch.add(n, row, alpha=H)                                  # row·16 + n
            last_t = torch.take(self.post_times, last)
            last_x = torch.take(self.post_traces, last)
            x = self._decayed_trace(last_x, self._lut_at(self.lut_minus, (u + 1) - last_t))
            traces_v = self._rows("post_traces")
            traces_v.index_copy_(0, row, traces_v.index_select(0, row).gather(1, src).scatter_(1, at, x.unsqueeze(1)))
        times_v.index_copy_(0, row, times.gather(1, src).scatter_(1, at, u))
        self.post_count.put_(row, new_n)
        if u > 0:
            self.post_total.put_(row, torch.ones_like(row), accumulate=True)

    @staticmethod
    def _padded_fan_in(table: SynapseTable, device):
        """``(pre, d)`` ``[n_post, max fan-in]``: each post neuron's incoming synapses (pre neuron,
        delay), padded with pre 0 and delay −2^62 (a window start past any time, so it never is
        the smallest); None without synapses or when fan-ins differ too much (the padding would
        exceed 4·nsyn + 1024 entries)."""
        if table.nsyn == 0:
            return None
        post = np.asarray(table.post_np, dtype=np.int64)
        counts = np.bincount(post, minlength=table.n_post)
        width = int(counts.max())
        if table.n_post * width > 4 * table.nsyn + 1024:
            return None
        order = np.argsort(post, kind="stable")
        rank = np.arange(table.nsyn) - np.repeat(np.cumsum(counts) - counts, counts)
        pre_pad = np.zeros((table.n_post, width), dtype=np.int64)
        d_pad = np.full((table.n_post, width), -(1 << 62), dtype=np.int64)
        pre_pad[post[order], rank] = np.asarray(table.pre_np, dtype=np.int64)[order]
        d_pad[post[order], rank] = table.delay.cpu().numpy()[order]
        return torch.as_tensor(pre_pad, device=device), torch.as_tensor(d_pad, device=device)

    def _count_dropped(self, b, j, flat, n, t_old):
        """Add to ``_dropped`` the dropped spikes (times t_old of the full histories (count ``n``
        = 15) of (b, j), flat row ``flat``) that some incoming synapse has not yet used: t_old >
        max(last_pre − d, 0) for some synapse.

        With the padded fan-in table: the smallest window start of every spiking neuron at once
        (no host sync). Otherwise ``_min_start`` caches a lower bound of min over the incoming
        synapses of max(last_pre − d, 0) per (trial, post) (exact when computed; it only grows),
        so the common drop of a spike that every synapse has used costs no fan-in expansion."""
        if self._fan_in is not None:
            pre_pad, d_pad = self._fan_in
            pre = pre_pad.index_select(0, j)                                   # [S, fan-in]
            if self.batch > 1:
                pre = torch.add(pre, b.unsqueeze(1), alpha=self.n_pre)
            low = (torch.take(self.last_pre, pre) - d_pad.index_select(0, j)).clamp_(min=0).amin(1)
            self._dropped += ((t_old > low) & (n == HISTORY - 1)).sum()
            return
        cand = (n == HISTORY - 1) & (t_old > torch.take(self._min_start, flat))
        f = cand.nonzero().flatten()
        if f.numel() == 0:
            return
        fb, fj, told = b.index_select(0, f), j.index_select(0, f), t_old.index_select(0, f)
        F = f.numel()
        if self.n_delays == 1:
            groups, owner_of = fj, None
        else:
            groups = (torch.arange(self.n_delays, device=self.device)[:, None] * self.n_post + fj[None, :]).reshape(-1)
            owner_of = torch.arange(F, device=self.device).repeat(self.n_delays)
        which, pos = expand_groups(self.col_ptr, groups)
        if pos.numel() == 0:
            return
        owner = which if owner_of is None else owner_of.index_select(0, which)
        syn = self.col_syn.index_select(0, pos)
        pre = self.col_pre.index_select(0, pos)
        d = self.table.delay.index_select(0, syn)
        start = (take2(self.last_pre, fb.index_select(0, owner), pre) - d).clamp_(min=0)
        big = torch.iinfo(torch.int64).max
        low = torch.full((F,), big, dtype=torch.int64, device=self.device).scatter_reduce_(0, owner, start, "amin")
        self._min_start.view(-1).index_copy_(0, flat.index_select(0, f), torch.where(low == big, 0, low))
        self._dropped += (told > low).sum()

    def post_arrivals(self, u: int):
        """Nothing happens on the board when a post spike reaches its synapses."""

    # -- the update at a pre spike with stamp u ---------------------------------------------
    def _per_post(self, u: int):
        """Per (delay d, trial, post neuron), flat ``[n_delays·batch·n_post]``, for this stamp's
        window end E = max(u − d, 0): ``nL``, the slot of the latest real post ≤ E (0: none), and
        ``o``, the depression factor against it (nearest: LUT−[u − d − τ_L]; all pairs: that times
        its trace >> 11)."""
        # slots past a neuron's count hold time 0 (histories only grow, and reset_traces zeroes
        # them) and E >= 0, so counting every slot later than E counts exactly the real ones
        if self.n_delays == 1:   # E on the host
            d = self.table.delays[0]
            nL = self.post_count - (self.post_times > max(u - d, 0)).sum(-1)
            slot = self._row_base + nL
            o = self._lut_at(self.lut_minus, (u - d + 1) - torch.take(self.post_times, slot))
        else:
            nD, ds = self.n_delays, self._delays_t                                   # ds: [nD, 1]
            E = (u - ds).clamp_(min=0).view(nD, 1, 1, 1)
            nL = self.post_count[None] - (self.post_times[None] > E).sum(-1)
            slot = self._row_base + nL
            # unsigned on the core: a "negative" Δ− reads 0
            o = self._lut_at(self.lut_minus, (u + 1 - ds).view(nD, 1, 1) - torch.take(self.post_times, slot))
        if not self.nearest:
            o = torch.take(self.post_traces, slot) * o
            o >>= board.STDP_FIXED_POINT
        return nL, o

    def pre_spikes(self, u: int, spk: torch.Tensor, events=None):
        """spk: [batch, n_pre] bool. Replay each event synapse's window, depress, write back.
        ``events``: the table's ``fan_out_events(spk)`` if already computed. Returns ``(post,
        words)``: the event synapses' post neurons and new 16-bit words (int64), or None.

        Locating a window without scanning the history: number the posts at times > 0 of each
        neuron 1, 2, ... (``post_total`` counts them; time-0 posts are in no window). The post
        numbered m sits in slot off + m, off = count − post_total, when that slot is >= 1 (else
        it was dropped). A synapse's window (B, E] holds the posts numbered (seen, nE], where
        ``seen`` is nE at its previous pre spike (B is that spike's E) and nE = nL − off; so its
        kept entries are the slots max(off + seen + 1, 1) .. nL."""
        bb, syn = events if events is not None else self.table.fan_out_events(spk)
        out = None
        if syn.numel():
            table = self.table
            post = table.post.index_select(0, syn)
            pre = table.pre.index_select(0, syn)
            row = post if self.batch == 1 else torch.add(post, bb, alpha=self.n_post)
            if table.single_delay is not None:
                d, key = table.single_delay, row
            else:
                d = table.delay.index_select(0, syn)
                key = torch.add(row, table.delay_index.index_select(0, syn), alpha=self.batch * self.n_post)
            nL_all, o_all = self._per_post(u)
            nL = torch.take(nL_all, key)
            off = torch.take(self.post_count - self.post_total, row)
            idx = flat2(self.W, bb, syn)                                       # also seen's
            seen = torch.take(self.seen, idx)
            nE = nL - off
            self.seen.put_(idx, nE)
            # the window's first kept slot is lo = max(off + seen + 1, 1); its entries number
            # cnt = max(nL + 1 − lo, 0) = max(min(nE − seen, nL), 0)
            cnt = torch.minimum(nE - seen, nL).clamp_(min=0)
            acc = torch.take(self.W, idx)
            acc <<= self.shift
            acc = self._potentiate(cnt, acc, nL, row, bb, pre, d)
            # depression against the latest real post <= E, if any
            o = torch.take(o_all, key)
            if self._aq16_plus is not None:   # the additive rule's depress, (16·Aq− · o) >> 15 (the same integers)
                o *= self.c.Aq_minus * 16
                o >>= 15
                dep = (acc - o).clamp_(min=self.c.Wq_min)
            else:
                dep = self.depress(self.c, acc, o)
            words = torch.where(nL > 0, dep, acc)
            words >>= self.shift
            words &= 0xFFFF
            self.W.put_(idx, words)
            out = (post, words)
        self._update_pre(u, spk)
        return out

    def _potentiate(self, cnt, acc, nL, row, bb, pre, d):
        """The potentiation terms of the event synapses (windows of ``cnt`` entries ending at slot
        ``nL``), in time order with the rule's clamp after each; returns the new acc."""
        total = int(cnt.sum())
        if total == 0:
            return acc
        # every window entry at once: entry e belongs to event which[e]; with cs = cumsum(cnt), the
        # entries of event i are e = cs_i − cnt_i .. cs_i − 1 and sit in the flat slots
        # row_i·16 + lo_i + (e − cs_i + cnt_i) = row_i·16 + nL_i + 1 − cs_i + e
        which = torch.repeat_interleave(cnt, output_size=total)
        cs = torch.cumsum(cnt, 0)
        at = torch.add(nL - cs, row, alpha=HISTORY).index_select(0, which) + torch.arange(1, total + 1, device=self.device)
        fpre = pre if self.batch == 1 else torch.add(pre, bb, alpha=self.n_pre)  # flat [batch, n_pre] index
        lp = torch.take(self.last_pre, fpre)
        # Δ+ = τ + d − last_pre, read at Δ+ + 1 (_lut_at)
        dlp1 = ((d + 1) - lp) if isinstance(d, int) else (d - lp) + 1
        r = self._lut_at(self.lut_plus, torch.take(self.post_times, at) + dlp1.index_select(0, which))
        if self.nearest:
            # not the first post after the last pre: the preceding kept entry (the placeholder's 0
            # for slot 1) is later than last_pre
            r = r.masked_fill(torch.take(self.post_times, at - 1) > lp.index_select(0, which), 0)
        else:
            r = torch.take(self.pre_trace, fpre).index_select(0, which) * r
            r >>= board.STDP_FIXED_POINT
        if self._additive and self.c.Aq_plus >= 0 and (self.nearest or int(r.min()) >= 0):
            # additive with non-negative terms t_k: min(min(a + t1, Wmax) + t2, Wmax) = min(a + t1 + t2,
            # Wmax), so the chain of upper clamps is one clamp of the sum of the (floored) terms;
            # (Aq+·(r << 4)) >> 15 is (16·Aq+ · r) >> 15. Synapses with empty windows keep acc.
            r *= self._aq16_plus
            r >>= 15
            summed = acc.index_add(0, which, r).clamp_(max=self.c.Wq_max)
            return torch.where(cnt > 0, summed, acc)
        # general: one term per window offset, over the synapses whose window reaches it
        first = cs - cnt
        for k in range(int(cnt.max())):
            live = (cnt > k).nonzero().flatten()
            e = first.index_select(0, live) + k
            acc = acc.index_copy(0, live, self.potentiate(self.c, acc.index_select(0, live), r.index_select(0, e)))
        return acc

    def _update_pre(self, u: int, spk: torch.Tensor):
        if not self.nearest:
            x = self._decayed_trace(self.pre_trace, self._lut_at(self.lut_plus, (u + 1) - self.last_pre))
            self.pre_trace = torch.where(spk, x, self.pre_trace)
        self.last_pre = self.last_pre.masked_fill(spk, u)
