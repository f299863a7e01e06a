"""Board STDP with lazy evaluation over a bounded post history (backends/torch/plasticity/board_stdp.py).

The class is driven directly, stamp by stamp, in the engine's order (engine.py ``_process_stamp``:
``record_post(u)``, ``post_arrivals(u)``, ``pre_spikes(u)``), and checked against:

1. the worked examples of simulators.md §9.5 (both pathways of the spatial-pattern paper, and an
   inactive line) and the τ = 5 ms LUT printed in §9.3;
2. a plain-Python integer reference written here from the §9.4 / §9.7 text (one synapse at a time,
   with its own copy of the placeholder + 15-spike post history), on random spike trains dense
   enough in post spikes that more than 15 fall between pre spikes;
3. the ``dropped_posts`` counter on constructed cases (numbered 4 below; the former third check,
   agreement with the eager float rule storing board words, went with that storage when the
   board's rule became this class).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

import neuromorph as nm
from neuromorph.network import Connectivity
from neuromorph.numerics import get_profile

from backends.torch.board import ring_buffer_shift
from backends.torch.plasticity.board_stdp import BoardPlasticSynapses
from backends.torch.synapses import SynapseTable

DEV = torch.device("cpu")
# the board flags only; the profile's other fields (e.g. its neuron arithmetic) do not matter here
PROFILE = replace(get_profile("spinnaker"), board_weights=True, stdp_convention="spinnaker")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def _table(n_pre, n_post, pre, post, delays, weights):
    conn = Connectivity(n_pre, n_post, np.asarray(pre, np.int64), np.asarray(post, np.int64),
                        np.asarray(weights, np.float64), np.asarray(delays, np.int64))
    return SynapseTable(conn, DEV)


def _rule(nearest, tau_plus, tau_minus, A_plus, A_minus, w_min, w_max, mult=False):
    timing = (nm.SpikeNearestPairRule if nearest else nm.SpikePairRule)(
        tau_plus=tau_plus, tau_minus=tau_minus, A_plus=A_plus, A_minus=A_minus)
    wd = (nm.MultiplicativeWeightDependence(w_min=w_min, w_max=w_max) if mult
          else nm.AdditiveWeightDependence(w_min=w_min, w_max=w_max))
    return nm.STDP(timing=timing, weight=wd)


def _drive(objs, pre_spk, post_spk, on_pre=None):
    """Drive the projections in ``objs`` with spike rasters ``[T, batch, n]`` (bool numpy) in the
    engine's order; ``on_pre(u, pre_fired)`` after each stamp with pre spikes."""
    for u in range(pre_spk.shape[0]):
        post = torch.as_tensor(post_spk[u])
        pre = torch.as_tensor(pre_spk[u])
        for o in objs:
            o.record_post(u, post, bool(post.any()))
            o.post_arrivals(u)
        if pre.any():
            outs = []
            for o in objs:
                events = o.table.fan_out_events(pre)
                outs.append(o.pre_spikes(u, pre, events))
            if on_pre is not None:
                on_pre(u, pre, outs)


# ---------------------------------------------------------------------------------------------
# the reference: simulators.md §9.3, §9.4, §9.7 in plain Python integers
# ---------------------------------------------------------------------------------------------

def ref_lut(tau, dt):
    """§9.3: len = 2·ceil(L0/2), L0 = ln(2048)/λ; LUT[k] = floor(2048·exp(−kλ)) in float64."""
    lam = dt / tau
    length = 2 * math.ceil((math.log(2048) / lam) / 2)
    return [int(v) for v in np.floor(2048 * np.exp(-np.arange(length, dtype=np.float64) * lam))]


def ref_s1615(x):
    from decimal import ROUND_HALF_EVEN, Decimal
    return int((Decimal(str(x)) * 32768).to_integral_value(ROUND_HALF_EVEN))


def ref_wrap16(x):
    return ((x + 0x8000) & 0xFFFF) - 0x8000


class RefParams:
    def __init__(self, *, nearest, tau_plus, tau_minus, A_plus, A_minus, w_min, w_max, mult, shift, dt=1.0):
        self.nearest, self.mult, self.s = nearest, mult, shift
        self.lut_p, self.lut_m = ref_lut(tau_plus, dt), ref_lut(tau_minus, dt)
        self.A_plus, self.A_minus, self.w_min, self.w_max = A_plus, A_minus, w_min, w_max
        self.Aqp, self.Aqm = ref_s1615(A_plus), ref_s1615(A_minus)
        self.Wqmin, self.Wqmax = ref_s1615(w_min), ref_s1615(w_max)

    @staticmethod
    def look(lut, delta):
        # unsigned tick difference: index < len reads the table, anything else (incl. "negative") 0
        return lut[delta] if 0 <= delta < len(lut) else 0

    def ltp(self, acc, r):
        if self.mult:  # weight_dependence.py's "board" multiplicative rule, the same float64 operations
            w = acc / 32768
            w = w + self.A_plus * (self.w_max - w) * (r / 2048)
            return math.floor(w * 32768)
        return min(acc + ((self.Aqp * (16 * r)) >> 15), self.Wqmax)

    def ltd(self, acc, o):
        if self.mult:
            w = acc / 32768
            w = w - self.A_minus * (w - self.w_min) * (o / 2048)
            return math.floor(w * 32768)
        return max(acc - ((self.Aqm * (16 * o)) >> 15), self.Wqmin)


def ref_synapse(P: RefParams, pre_ticks, post_ticks, d, W0):
    """One synapse (delay d = d_b), its own post history: returns the word after each pre spike."""
    hist = [(0, 0)]                  # (time, post trace); entry 0: the placeholder at time 0
    last_pre, pre_trace = 0, 0       # the zeroed row header
    W, out = W0, []
    posts, pres = set(post_ticks), set(pre_ticks)
    for t in sorted(posts | pres):
        if t in posts:               # neuron update of tick t: the post spike enters the history
            lt, lx = hist[-1]
            x = 0 if P.nearest else ref_wrap16(((lx * P.look(P.lut_m, t - lt)) >> 11) + 2048)
            if len(hist) == 16:      # placeholder + 15: drop the oldest real spike
                del hist[1]
            hist.append((t, x))
        if t in pres:
            acc = W << P.s
            B, E = max(last_pre - d, 0), max(t - d, 0)
            for i in range(1, len(hist)):
                tau = hist[i][0]
                if not (B < tau <= E):
                    continue
                dp = tau + d - last_pre
                assert dp > 0
                if P.nearest:
                    r = P.look(P.lut_p, dp)
                    if tau + d - hist[i - 1][0] < dp:   # not the first post after the last pre
                        r = 0
                else:
                    r = (pre_trace * P.look(P.lut_p, dp)) >> 11
                acc = P.ltp(acc, r)
            real = [h for h in hist[1:] if h[0] <= E]
            if real:
                tl, xl = real[-1]
                o = P.look(P.lut_m, t - (tl + d))
                if not P.nearest:
                    o = (xl * o) >> 11
                acc = P.ltd(acc, o)
            W = (acc >> P.s) & 0xFFFF
            out.append(W)
            pre_trace = ref_wrap16(((pre_trace * P.look(P.lut_p, t - last_pre)) >> 11) + 2048)
            last_pre = t
    return out


# ---------------------------------------------------------------------------------------------
# 1. simulators.md §9.3 / §9.5
# ---------------------------------------------------------------------------------------------

def test_lut_tau5_matches_document():
    doc = [2048, 1676, 1372, 1123, 920, 753, 616, 505, 413, 338, 277, 226, 185, 152, 124, 101, 83, 68, 55, 45,
           37, 30, 25, 20, 16, 13, 11, 9, 7, 6, 5, 4, 3, 2, 2, 1, 1, 1, 1, 0]
    assert ref_lut(5.0, 1.0) == doc
    pp = BoardPlasticSynapses("p", _table(1, 1, [0], [0], [1], [0.0]), _rule(True, 5, 5, 1, -1, 0, 20), PROFILE,
                              1.0, 1, DEV, torch.float64, 8)
    assert pp.lut_plus.tolist() == doc + [0] and pp.lut_minus.tolist() == doc + [0]


PAPER = dict(nearest=True, tau_plus=5.0, tau_minus=5.0, A_plus=1.0, A_minus=-1.0, w_min=0.0, w_max=20.0)


@pytest.mark.parametrize("pres, words", [
    ([2, 27, 57, 66], [0, 0, 47, 47]),      # "1" line, excitatory pathway
    ([7, 37, 60, 66], [0, 47, 47, 47]),     # "0" line, inhibitory pathway
    ([66], [0]),                            # a line inactive in the pattern: phantom pre at 0, 80 bits < 256
])
def test_paper_worked_examples(pres, words):
    """§9.5: post at 31, delay 1, τ = 5, A± = ±1, w_max = 20, shift 8."""
    rule = _rule(PAPER["nearest"], 5.0, 5.0, 1.0, -1.0, 0.0, 20.0)
    pp = BoardPlasticSynapses("p", _table(1, 1, [0], [0], [1], [0.0]), rule, PROFILE, 1.0, 1, DEV, torch.float64, 8)
    assert pp.shift == 8 and pp.lsb == 1 / 128
    T = 70
    pre = np.zeros((T, 1, 1), bool)
    post = np.zeros((T, 1, 1), bool)
    pre[pres, 0, 0] = True
    post[31, 0, 0] = True
    got = []
    _drive([pp], pre, post, lambda u, fired, outs: got.append((u, int(outs[0][1][0]), int(pp.W[0, 0]))))
    assert [g[0] for g in got] == pres
    assert [g[1] for g in got] == words        # the words pre_spikes returns (what is transmitted) ...
    assert [g[2] for g in got] == words        # ... are the stored ones
    assert float(pp.weights()[0, 0]) == words[-1] / 128
    # the reference agrees with the document too (so the reference is checked against the paper)
    P = RefParams(**PAPER, mult=False, shift=8)
    assert ref_synapse(P, pres, [31], 1, 0) == words


def test_paper_accumulator_bits():
    """§9.5's accumulator bits, made visible by a start word of 1 instead of 0: the "1" line at 57
    adds +12048 (LTP, LUT 753) and +208 (LTD with A− < 0, LUT 13) to 1·256, i.e. 12512 -> word 48
    (224 bits lost, as in the table); at 66, +32 (LUT 2) on 48·256 is lost again."""
    rule = _rule(True, 5.0, 5.0, 1.0, -1.0, 0.0, 20.0)
    pp = BoardPlasticSynapses("p", _table(1, 1, [0], [0], [1], [1 / 128]), rule, PROFILE, 1.0, 1, DEV, torch.float64, 8)
    assert int(pp.W[0, 0]) == 1
    T = 70
    pre = np.zeros((T, 1, 1), bool)
    post = np.zeros((T, 1, 1), bool)
    pre[[2, 27, 57, 66], 0, 0] = True
    post[31, 0, 0] = True
    got = []
    _drive([pp], pre, post, lambda u, fired, outs: got.append(int(pp.W[0, 0])))
    assert got == [1, 1, (256 + 12048 + 208) >> 8, (48 * 256 + 32) >> 8] == [1, 1, 48, 48]


# ---------------------------------------------------------------------------------------------
# 2. against the §9.4 reference on random trains (more than 15 posts between pres)
# ---------------------------------------------------------------------------------------------

CASES = [
    # (nearest, mult, delays, batch, tau+, tau-, A+, A-, w_max)
    (True, False, (1,), 1, 5.0, 5.0, 0.1, -0.1, 1.0),        # the paper's sign convention
    (True, False, (2,), 3, 16.8, 33.7, 0.1, 0.12, 1.0),
    (True, False, (1, 2, 3), 3, 10.0, 12.0, 0.08, 0.06, 1.0),
    (False, False, (1,), 1, 5.0, 5.0, 0.1, -0.1, 1.0),
    (False, False, (3,), 3, 20.0, 20.0, 0.01, 0.012, 1.0),
    (False, False, (1, 2, 3), 1, 16.8, 33.7, 0.02, 0.03, 1.0),
    (False, False, (1, 3), 3, 30.0, 40.0, 0.004, 0.005, 1.0),  # long taus at a high post rate: int16 traces wrap
    (True, True, (1,), 3, 10.0, 10.0, 0.1, 0.12, 1.0),
    (True, True, (1, 2, 3), 1, 16.8, 33.7, 0.2, 0.1, 1.0),
    (False, True, (2,), 3, 20.0, 20.0, 0.05, 0.06, 1.0),
    (False, True, (1, 2, 3), 1, 16.8, 33.7, 0.05, 0.06, 1.0),
    (True, False, (1, 2), 3, 10.0, 10.0, -0.05, 0.1, 1.0),     # A+ < 0: the term-by-term clamp chain
    (False, False, (2,), 1, 10.0, 10.0, -0.05, -0.1, 1.0),
    (True, False, (16, 18), 3, 5.0, 5.0, 0.1, -0.1, 1.0),      # delays > 15: the posts after E can fill the
    (False, True, (17,), 1, 20.0, 20.0, 0.05, 0.06, 1.0),      # history (no depression partner left)
]


def _random_case(seed, delays, batch, n_pre=4, n_post=3, T=400):
    rng = np.random.default_rng(seed)
    pre, post = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
    pre, post = pre.ravel(), post.ravel()
    keep = rng.random(pre.size) < 0.8
    keep[0] = True
    pre, post = pre[keep], post[keep]
    d = rng.choice(np.asarray(delays), size=pre.size)
    # pre neurons at different rates (some sparse: long windows), posts fast
    pre_rate = np.array([0.01, 0.03, 0.08, 0.2])[:n_pre]
    post_rate = np.array([0.97 if max(delays) > 15 else 0.7, 0.4, 0.15])[:n_post]
    pre_spk = rng.random((T, batch, n_pre)) < pre_rate
    post_spk = rng.random((T, batch, n_post)) < post_rate
    return pre, post, d, pre_spk, post_spk


@pytest.mark.parametrize("case", CASES, ids=lambda c: "{}-{}-d{}-b{}".format(
    "nn" if c[0] else "pair", "mult" if c[1] else "add", "".join(map(str, c[2])), c[3]))
def test_against_reference(case):
    nearest, mult, delays, batch, tp, tm, Ap, Am, w_max = case
    seed = CASES.index(case) + 11
    pre, post, d, pre_spk, post_spk = _random_case(seed, delays, batch)
    shift = ring_buffer_shift(w_max * 4)
    lsb = 2.0 ** (shift - 15)
    rng = np.random.default_rng(seed + 1000)
    w0 = rng.integers(0, int(w_max / lsb) + 1, size=pre.size) * lsb
    rule = _rule(nearest, tp, tm, Ap, Am, 0.0, w_max, mult)
    table = _table(4, 3, pre, post, d, w0)
    pp = BoardPlasticSynapses("p", table, rule, PROFILE, 1.0, batch, DEV, torch.float64, shift)
    P = RefParams(nearest=nearest, tau_plus=tp, tau_minus=tm, A_plus=Ap, A_minus=Am, w_min=0.0, w_max=w_max,
                  mult=mult, shift=shift)
    # the board's words after each pre spike, per (trial, synapse)
    got = {(b, s): [] for b in range(batch) for s in range(table.nsyn)}
    W0 = pp.W.clone()

    def on_pre(u, fired, outs):
        bb, syn = pp.table.fan_out_events(fired)
        bb = torch.zeros_like(syn) if bb is None else bb   # (None: one trial)
        post_ev, words = outs[0]
        assert torch.equal(post_ev, pp.table.post[syn])
        for b, s, w in zip(bb.tolist(), syn.tolist(), words.tolist()):
            assert w == int(pp.W[b, s])
            got[(b, s)].append((u, w))

    _drive([pp], pre_spk, post_spk, on_pre)
    longest = 0
    n_checked = 0
    for b in range(batch):
        for s in range(table.nsyn):
            i, j, ds = int(table.pre[s]), int(table.post[s]), int(table.delay[s])
            pre_ticks = np.nonzero(pre_spk[:, b, i])[0].tolist()
            post_ticks = np.nonzero(post_spk[:, b, j])[0].tolist()
            want = ref_synapse(P, pre_ticks, post_ticks, ds, int(W0[b, s]))
            assert [w for _, w in got[(b, s)]] == want, f"trial {b} synapse {s} ({i}->{j}, d={ds})"
            assert [u for u, _ in got[(b, s)]] == pre_ticks
            n_checked += len(want)
            last = 0
            for t in pre_ticks:
                longest = max(longest, sum(1 for p in post_ticks if max(last - ds, 0) < p <= max(t - ds, 0)))
                last = t
    assert n_checked > 50
    assert longest > 15, "the trains must overflow the history"
    assert pp.dropped_posts > 0


# ---------------------------------------------------------------------------------------------
# 4. dropped_posts and the truncated history
# ---------------------------------------------------------------------------------------------

def _one(n_pre=1, batch=1, nearest=True, W0=0.0):
    rule = _rule(nearest, 5.0, 5.0, 1.0, -1.0, 0.0, 20.0)
    table = _table(n_pre, 1, list(range(n_pre)), [0] * n_pre, [1] * n_pre, [W0] * n_pre)
    return BoardPlasticSynapses("p", table, rule, PROFILE, 1.0, batch, DEV, torch.float64, 8)


def test_truncated_history_oldest_kept_counts_as_first():
    """Pre at 5, posts at 10..29 (20), pre at 40: the history keeps 15..29, so 15 (not 10) is the
    "first after pre" and potentiates with LUT[15 + 1 − 5]; depression against 29 (Δ− = 10)."""
    pp = _one()
    T = 45
    pre = np.zeros((T, 1, 1), bool)
    post = np.zeros((T, 1, 1), bool)
    pre[[5, 40], 0, 0] = True
    post[10:30, 0, 0] = True
    got = []
    _drive([pp], pre, post, lambda u, fired, outs: got.append(int(pp.W[0, 0])))
    lut = ref_lut(5.0, 1.0)
    acc = 0 + 16 * lut[11]          # A+ = 1: +16·LUT bits
    acc = acc + 16 * lut[10]        # A− = −1: the depression term adds
    assert got == [0, acc >> 8]
    # an unbounded history would have paired 10 instead: a different word
    assert (16 * lut[6] + 16 * lut[10]) >> 8 != acc >> 8
    assert pp.dropped_posts == 5
    assert pp.post_times[0, 0].tolist() == [0] + list(range(15, 30))
    assert int(pp.post_count[0, 0]) == 15


def test_dropped_posts_counts_only_unused():
    T = 60
    # one pre, which consumes 10..24 at 30; the drops at 31..35 are of spikes it already used
    pp = _one()
    pre = np.zeros((T, 1, 1), bool)
    post = np.zeros((T, 1, 1), bool)
    pre[30, 0, 0] = True
    post[10:25, 0, 0] = True
    post[31:36, 0, 0] = True
    _drive([pp], pre, post)
    assert pp.dropped_posts == 0
    # a second pre neuron that never fires: its synapse has used nothing, all 5 drops count
    pp = _one(n_pre=2)
    pre2 = np.zeros((T, 1, 2), bool)
    pre2[30, 0, 0] = True
    _drive([pp], pre2, post)
    assert pp.dropped_posts == 5
    # both pre neurons fire at 30: both windows consumed 10..24, so nothing counts
    pp = _one(n_pre=2)
    pre3 = np.zeros((T, 1, 2), bool)
    pre3[30, 0, :] = True
    _drive([pp], pre3, post)
    assert pp.dropped_posts == 0
    # posts at 0: never in any window, dropping them never counts
    pp = _one()
    post0 = np.zeros((T, 1, 1), bool)
    post0[0:16, 0, 0] = True        # 16 posts: the one at 0 is dropped at 15, unused but never usable ...
    _drive([pp], np.zeros((T, 1, 1), bool), post0)
    assert pp.dropped_posts == 0    # ... since B >= 0 excludes time 0
    post0[16, 0, 0] = True          # the next drop (time 1) counts
    pp = _one()
    _drive([pp], np.zeros((T, 1, 1), bool), post0)
    assert pp.dropped_posts == 1


def test_dropped_posts_per_trial_and_reset():
    T = 60
    pp = _one(batch=3)
    pre = np.zeros((T, 3, 1), bool)
    post = np.zeros((T, 3, 1), bool)
    post[10:30, 0, 0] = True        # 20 posts: 5 dropped
    post[10:20, 1, 0] = True        # 10: none
    post[10:40, 2, 0] = True        # 30 posts: 15 dropped, but a pre at 24 has used 10..23
    pre[24, 2, 0] = True
    _drive([pp], pre, post)
    # trial 2: the drops at 25..39 are of 10..24; after the pre at 24, B = 23, so only 24 counts
    assert pp.dropped_posts == 5 + 0 + 1
    # a pre one stamp later is too late for the first drop: record_post(25) drops 10 before it
    pp = _one(batch=3)
    pre[24, 2, 0], pre[25, 2, 0] = False, True
    _drive([pp], pre, post)
    assert pp.dropped_posts == 5 + 0 + 1   # 10 (dropped at 25 while B = 0); 11..24 were used at 25
    # and one more post at 45 drops 25, which no pre has used
    post[45, 2, 0] = True
    pp = _one(batch=3)
    _drive([pp], pre, post)
    assert pp.dropped_posts == 5 + 0 + 2
    pp.reset_traces()
    assert pp.dropped_posts == 0 and int(pp.post_count.sum()) == 0 and int(pp.last_pre.sum()) == 0


def test_interface():
    pp = _one(n_pre=2, batch=2, nearest=False, W0=0.25)
    assert pp.board is True and pp.shift == 8 and pp.lsb == 2.0 ** -7
    assert pp.W.dtype == torch.int64 and pp.W.shape == (2, 2) and int(pp.W[0, 0]) == 32
    assert pp.weights().dtype == torch.float64 and float(pp.weights()[1, 1]) == 0.25
    pp.set_weights(torch.tensor([[0.5, 1.0], [0.0, 0.0078125]], dtype=torch.float64))
    assert pp.W.tolist() == [[64, 128], [0, 1]]
    assert pp.state_tensors()[0] is pp.W
    assert (pp.n_pre, pp.n_post, pp.batch) == (2, 1, 2)
    none = torch.zeros(2, 2, dtype=torch.bool)
    assert pp.pre_spikes(3, none) is None
    pp.post_arrivals(3)
    pp.record_post(3, torch.zeros(2, 1, dtype=torch.bool), False)
    assert int(pp.post_count.sum()) == 0
