"""STDP on the torch backend: one plastic projection's state and its event rules.

Three arithmetics share one event structure (docs/semantics.md, "STDP"):

- ``spinnaker`` convention (sPyNNaker, design.md §3 item 6), in float64 (``spinnaker-float``) or
  with the board's storage (``spinnaker``: LUT exponentials, s16.15 accumulator, 16-bit words
  floored at each write-back; simulators.md §9.3–9.5);
- ``nest`` convention (NEST ``stdp_synapse`` / ``stdp_nn_symm_synapse``, simulators.md §5).

Weights change only when a pre spike is processed (lazily, as on both simulators). Potentiation
terms are accumulated eagerly, when a post spike reaches the synapse (t_post + delay), into a
*pending* accumulator; a pre spike applies depression to it and commits it. The operation sequence
on each weight — potentiation terms in time order, then depression, clipping after each term — is
the simulators', and the committed weight (what is transmitted and read back) never includes
potentiation that the simulators would still hold pending.

Times are integer steps ("stamps"): the spike time of the profile divided by dt.
"""
from __future__ import annotations




import torch

from neuromorph.errors import UnsupportedError
from neuromorph.plasticity import AdditiveWeightDependence, STDP

from . import board

NONE = -(1 << 40)  # "no post spike yet" marker for times (steps)


class PlasticProjection:
    """State and rules of one STDP projection. Tensors: ``[batch, n_pre, n_post]`` for synapses,
    ``[batch, n_pre]`` for pre-side, ``[L, batch, n_post]`` rings (by stamp) for post-side."""

    def __init__(self, proj, conn, rule: STDP, profile, dt: float, batch: int, device, dtype, shift: int | None):
        self.label = proj.label
        self.convention = profile.stdp_convention
        self.board = profile.board_weights
        self.dt = dt
        self.device, self.dtype = device, dtype
        t, wd = rule.timing, rule.weight
        self.nearest = t.nearest
        self.additive = isinstance(wd, AdditiveWeightDependence)
        self.w_min, self.w_max = wd.w_min, wd.w_max
        self.tau_plus, self.tau_minus = t.tau_plus, t.tau_minus
        self.mask = torch.as_tensor(conn.mask, device=device)
        self.delays = conn.distinct_delays
        self.delay_masks = {d: torch.as_tensor(conn.delay_steps == d, device=device) for d in self.delays}
        self.single_delay = len(self.delays) == 1
        scale = wd.scale()
        if self.convention == "nest":
            if self.w_min != 0:
                raise UnsupportedError(
                    f"projection {proj.label!r}: STDP w_min={self.w_min} under numerics 'exact' — NEST's stdp_synapse has no lower bound; use w_min=0 or a spinnaker profile")
            # PyNN's mapping: lambda = A_plus, alpha = A_minus / A_plus, in NEST's relative units
            a_plus = t.A_plus * scale / self.w_max if self.additive and self.w_max else t.A_plus
            a_minus = t.A_minus * scale / self.w_max if self.additive and self.w_max else t.A_minus
            self.lam = a_plus
            self.alpha = a_minus / a_plus if a_plus != 0 else a_minus
            self.mu = 0.0 if self.additive else 1.0
        else:
            self.A_plus, self.A_minus = t.A_plus * scale, t.A_minus * scale
        if self.board:
            self.shift = shift
            self.lsb = board.weight_lsb(shift)
            self.Aq_plus, self.Aq_minus = board.s1615(self.A_plus), board.s1615(self.A_minus)
            self.Wq_min, self.Wq_max = board.s1615(self.w_min), board.s1615(self.w_max)
            self.lut_plus = torch.as_tensor(board.exp_lut(self.tau_plus, dt), device=device)
            self.lut_minus = torch.as_tensor(board.exp_lut(self.tau_minus, dt), device=device)
        self.ring = max(self.delays) + 3
        self.batch = batch
        w0 = torch.as_tensor(conn.weight, dtype=torch.float64, device=device)
        self.n_pre, self.n_post = conn.mask.shape
        self.set_weights(w0.expand(batch, self.n_pre, self.n_post))
        self.reset_traces()

    # -- weights ----------------------------------------------------------------------------
    def set_weights(self, w: torch.Tensor):
        """w: magnitudes [batch, n_pre, n_post] (float64, nA)."""
        w = torch.where(self.mask, w.to(self.device, torch.float64), torch.zeros((), dtype=torch.float64, device=self.device))
        if self.board:
            words = torch.round(w / self.lsb).to(torch.int64)  # host: rint(|w|·weight_scale)
            self.W = words.clone()
            self.p = words << self.shift  # s16.15 accumulator bits
        else:
            self.W = w.to(self.dtype).clone()
            self.p = self.W.clone()

    def weights(self) -> torch.Tensor:
        """Committed weights in weight units [batch, n_pre, n_post] (what is transmitted)."""
        if self.board:
            return (self.W.to(torch.float64) * self.lsb).to(self.dtype)
        return self.W

    # -- state ------------------------------------------------------------------------------
    def reset_traces(self):
        B, dev = self.batch, self.device
        fdt = torch.int64 if self.board else torch.float64
        self.last_pre = torch.zeros(B, self.n_pre, dtype=torch.int64, device=dev)  # phantom pre at 0
        self.pre_trace = torch.zeros(B, self.n_pre, dtype=fdt, device=dev)
        L = self.ring
        self.post_spiked = torch.zeros(L, B, self.n_post, dtype=torch.bool, device=dev)
        self.post_last = torch.full((L, B, self.n_post), NONE, dtype=torch.int64, device=dev)
        self.post_last_trace = torch.zeros(L, B, self.n_post, dtype=fdt, device=dev)
        self.post_prev = torch.zeros(L, B, self.n_post, dtype=torch.int64, device=dev)
        self.cur_last = torch.full((B, self.n_post), NONE, dtype=torch.int64, device=dev)
        self.cur_trace = torch.zeros(B, self.n_post, dtype=fdt, device=dev)

    def _ms(self, steps_tensor):
        return steps_tensor.to(torch.float64) * self.dt

    def _lut(self, lut, delta):
        idx = delta.clamp(min=0)
        inside = idx < lut.numel()
        return torch.where(inside, lut[idx.clamp(max=lut.numel() - 1)], torch.zeros_like(idx))

    # -- post spikes ------------------------------------------------------------------------
    def record_post(self, u: int, spk: torch.Tensor):
        """Post spikes with stamp u ([batch, n_post] bool)."""
        slot = u % self.ring
        had = self.cur_last != NONE
        if self.convention == "nest":
            prev = self.cur_last
            # NEST: Kminus = Kminus·exp((t_last_post - t_post)·(1/tau_minus)) + 1, t_last_post from -1 ms
            last_ms = torch.where(had, self._ms(self.cur_last), torch.full_like(self.cur_trace, -1.0))
            decayed = self.cur_trace * torch.exp((last_ms - u * self.dt) * (1.0 / self.tau_minus))
            new_trace = decayed + 1.0
        else:
            prev = torch.where(had, self.cur_last, torch.zeros_like(self.cur_last))  # placeholder post at 0
            if self.nearest:
                new_trace = torch.full_like(self.cur_trace, board.STDP_ONE if self.board else 1.0)
            elif self.board:
                dec = (self.cur_trace * self._lut(self.lut_minus, u - self.cur_last)) >> board.STDP_FIXED_POINT
                new_trace = torch.where(had, dec, torch.zeros_like(dec)) + board.STDP_ONE
            else:
                decay = torch.exp(-self._ms(u - self.cur_last) / self.tau_minus)
                new_trace = torch.where(had, self.cur_trace * decay, torch.zeros_like(self.cur_trace)) + 1.0
        self.post_prev[slot] = prev
        self.cur_trace = torch.where(spk, new_trace, self.cur_trace)
        self.cur_last = torch.where(spk, torch.full_like(self.cur_last, u), self.cur_last)
        self.post_spiked[slot] = spk
        self.post_last[slot] = self.cur_last
        self.post_last_trace[slot] = self.cur_trace

    # -- potentiation when a post spike reaches the synapse (stamp u = t_post + d) ------------
    def post_arrivals(self, u: int):
        for d in self.delays:
            tau = u - d
            if tau < 0 or (tau == 0 and self.convention == "spinnaker"):
                continue  # sPyNNaker's window (max(last_pre - d, 0), t - d] never holds a post at 0
            spiked = self.post_spiked[tau % self.ring]
            cols = spiked.any(0).nonzero().flatten()
            if cols.numel() == 0:
                continue
            sp = spiked[:, cols].unsqueeze(1)                      # [B, 1, c]
            dmask = self.delay_masks[d][:, cols].unsqueeze(0)      # [1, n_pre, c]
            last_pre = self.last_pre.unsqueeze(2)                  # [B, n_pre, 1]
            delta = u - last_pre                                    # steps
            if self.convention == "nest":
                ok = delta > 0
                k = torch.exp(-self._ms(delta) / self.tau_plus)
                if not self.nearest:
                    k = self.pre_trace.unsqueeze(2) * k
            else:
                ok = delta > 0
                if self.nearest:
                    prev = self.post_prev[tau % self.ring][:, cols].unsqueeze(1)
                    ok = ok & (prev <= last_pre)
                if self.board:
                    r = self._lut(self.lut_plus, delta)
                    if not self.nearest:
                        r = (self.pre_trace.unsqueeze(2) * r) >> board.STDP_FIXED_POINT
                    k = r
                else:
                    k = torch.exp(-self._ms(delta) / self.tau_plus)
                    if not self.nearest:
                        k = self.pre_trace.unsqueeze(2) * k
            apply = sp & dmask & ok
            p = self.p[:, :, cols]
            self.p[:, :, cols] = torch.where(apply, self._potentiate(p, k), p)

    def _potentiate(self, p, k):
        if self.convention == "nest":
            x = p / self.w_max
            n = x + self.lam * (torch.pow(1.0 - x, self.mu) if self.mu else 1.0) * k
            return torch.where(n < 1.0, n * self.w_max, torch.full_like(n, self.w_max))
        if self.board:
            if self.additive:
                term = (self.Aq_plus * (k << 4)) >> 15
                return torch.clamp(p + term, max=self.Wq_max)
            w = p.to(torch.float64) / board.S1615_ONE
            w = w + self.A_plus * (self.w_max - w) * (k.to(torch.float64) / board.STDP_ONE)
            return torch.floor(w * board.S1615_ONE).to(torch.int64)
        if self.additive:
            return torch.clamp(p + self.A_plus * k, max=self.w_max)
        return p + self.A_plus * (self.w_max - p) * k

    def _depress(self, p, k):
        if self.convention == "nest":
            x = p / self.w_max
            n = x - self.alpha * self.lam * (torch.pow(x, self.mu) if self.mu else 1.0) * k
            return torch.where(n > 0.0, n * self.w_max, torch.zeros_like(n))
        if self.board:
            if self.additive:
                term = (self.Aq_minus * (k << 4)) >> 15
                return torch.clamp(p - term, min=self.Wq_min)
            w = p.to(torch.float64) / board.S1615_ONE
            w = w - self.A_minus * (w - self.w_min) * (k.to(torch.float64) / board.STDP_ONE)
            return torch.floor(w * board.S1615_ONE).to(torch.int64)
        if self.additive:
            return torch.clamp(p - self.A_minus * k, min=self.w_min)
        return p - self.A_minus * (p - self.w_min) * k

    # -- depression and commit at a pre spike with stamp u ----------------------------------
    def pre_spikes(self, u: int, spk: torch.Tensor):
        """spk: [batch, n_pre] bool. Depress against the latest post, commit, update pre traces."""
        rows = spk.any(0).nonzero().flatten()
        if rows.numel() == 0:
            return
        k_full = valid_full = None
        for d in self.delays:
            v = u - d - (1 if self.convention == "nest" else 0)  # NEST: strictly before t - d
            if v < 0 or v < u - self.ring + 1:
                continue
            last = self.post_last[v % self.ring]             # [B, n_post]
            valid = last != NONE
            delta = (u - d) - last
            if self.convention == "nest":
                trace = self.post_last_trace[v % self.ring] if not self.nearest else 1.0
                k = trace * torch.exp((self._ms(last) - (u - d) * self.dt) * (1.0 / self.tau_minus))
                k = torch.where(valid, k, torch.zeros_like(k))
            elif self.board:
                o = self._lut(self.lut_minus, delta)
                if not self.nearest:
                    o = (self.post_last_trace[v % self.ring] * o) >> board.STDP_FIXED_POINT
                k = torch.where(valid, o, torch.zeros_like(o))
            else:
                k = torch.exp(-self._ms(delta) / self.tau_minus)
                if not self.nearest:
                    k = self.post_last_trace[v % self.ring] * k
                k = torch.where(valid, k, torch.zeros_like(k))
            k = k.unsqueeze(1)                                # [B, 1, n_post]
            if self.single_delay:
                k_full, valid_full = k, valid.unsqueeze(1)
            else:
                dm = self.delay_masks[d][rows].unsqueeze(0)
                kd = torch.where(dm, k, torch.zeros_like(k))
                vd = dm & valid.unsqueeze(1)
                k_full = kd if k_full is None else k_full + kd
                valid_full = vd if valid_full is None else valid_full | vd
        p = self.p[:, rows]
        fired = spk[:, rows].unsqueeze(2)
        if k_full is not None:
            new = self._depress(p, k_full)
            # sPyNNaker depresses only when a post ever reached the window; NEST always calls depress
            p = torch.where(fired & valid_full & self.mask[rows].unsqueeze(0), new, p)
        if self.board:
            words = (p >> self.shift) & 0xFFFF
            self.W[:, rows] = torch.where(fired, words, self.W[:, rows])
            self.p[:, rows] = torch.where(fired, words << self.shift, self.p[:, rows])
        else:
            self.W[:, rows] = torch.where(fired, p, self.W[:, rows])
            self.p[:, rows] = torch.where(fired, p, self.p[:, rows])
        self._update_pre(u, spk)

    def _update_pre(self, u: int, spk: torch.Tensor):
        delta = u - self.last_pre
        if not self.nearest:
            if self.board:
                dec = (self.pre_trace * self._lut(self.lut_plus, delta)) >> board.STDP_FIXED_POINT
                new = dec + board.STDP_ONE
            else:
                new = self.pre_trace * torch.exp(-self._ms(delta) / self.tau_plus) + 1.0
            self.pre_trace = torch.where(spk, new, self.pre_trace)
        self.last_pre = torch.where(spk, torch.full_like(self.last_pre, u), self.last_pre)


