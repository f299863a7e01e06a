"""Spatial-pattern detector with STDP and homeostasis (Davies, Gait, Rowley, Di Nuovo,
Neurocomputing 611, 2025), built only from the public model description.

The papers' spike-level protocol (design.md §6; tests/data/spatial_pattern/README.md):

- **Words.** A word of ``bits`` bits drives two input lines per bit: the "1"-line fires when the bit
  is 1, the "0"-line when it is 0. Bit 0 is the most significant bit of the word. Each line has a
  relay ``IF_curr_delta`` neuron (sPyNNaker's, weights in nA: a current held for one step) fed by a
  spike source (20 nA, delay 1 ms). All neurons: tau_m 20 ms, cm 1 nF, rest = reset -65 mV,
  threshold -50 mV, tau_refrac 0.1 ms; dt 1 ms.
- **Training** (:func:`train_word`, one 75 ms run per word, weights from 0): "1"-line sources fire
  at 1, 26, 56 ms, "0"-line sources at 6, 36, 59 ms, a "save" source at 65 ms drives every relay,
  a teacher source fires at 29 ms (20 nA, delay 2 ms) into both output neurons. The "1"-line relays
  project onto the excitatory output neuron (excitatory receptor), the "0"-line relays onto the
  inhibitory output neuron (inhibitory receptor), all-to-all, delay 1 ms, with sPyNNaker's
  nearest-pair STDP: tau± 5 ms, A+ = 1, A- = -1 (post-before-pre potentiates too), additive in nA
  (``step="absolute"``), w in [0, 20]. The learned weights of both pathways are the result.
- **Test network** (:func:`build_test_network`). One output neuron; the relay of line "1" of bit i
  excites it with h·W1_i and inhibits it with h·W0_i, line "0" the reverse; both with delay 1 ms,
  so excitation and inhibition of a line arrive in the same step and cancel exactly in
  ``I = Σw_exc − Σw_inh`` when W1_i = W0_i. As the authors built it, each projection is a list of
  its *non-zero* h·W entries (``FromList``; the board's ring-buffer shift counts only those).
  Inputs at 10 ms, run 20 ms; a word is detected when the output fires. W1, W0 are the learned
  weights summed over the trained words.
- **Trials** (:func:`present_trials`): one trial per (word, h) pair, each its own board run. On
  torch the test network is built once with a batch and every trial gets its own weights h·W
  (``set_weights``), so under ``numerics="spinnaker"`` each trial's ring-buffer shift follows its own
  h; the output spike count of each trial is returned. Other backends run
  :func:`build_fanout_test_network` (one network, no per-trial shift).
- **Homeostasis** (:func:`homeostasis_search`, :func:`homeostasis_factor`): the authors' search
  (simulators.md §9.8), per trained word p: present p at h = 100; if it does not fire, p is
  undetectable. Otherwise bisect on [1e-4, 100] (midpoint (lo+hi)/2; fires → hi = mid, does not
  fire → lo = mid) while hi − lo ≥ 1e-4, then scan ``np.arange(round(lo, 5) − 1e-5, round(hi, 5) +
  1e-5, 1e-5)`` and take the first h at which the output fires exactly once. The network's h is the
  maximum over the detectable trained words. The float h values are the ones this numpy arithmetic
  produces (e.g. 4.1881699999999995), which matters where h·W rounds to the weight LSB.
- **Evaluation** (:func:`evaluate`): all 2^bits words presented at h (one trial per word), found
  by the search or given (``h=``, to reproduce a run whose h was set by hand); the output spike
  count per word and the metrics over the words.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Sequence

import numpy as np

import neuromorph as nm
from neuromorph.atomic import atomic_open
from neuromorph.conversions import delta_jump_per_nA
from neuromorph.errors import NeuromorphError, ValidationError
from neuromorph.validation import finite

__all__ = ["CELL", "TRAIN_ONE_MS", "TRAIN_ZERO_MS", "TEACHER_MS", "SAVE_MS", "TRAIN_MS", "TEST_AT_MS",
           "TEST_MS", "H_PROBE", "H_LOW", "H_TOL", "H_STEP", "word_bits", "build_training_network", "train_word",
           "train_words", "build_test_network", "build_fanout_test_network", "present_trials", "present",
           "homeostasis_search", "homeostasis_factor", "evaluate", "metrics", "main"]

CELL = dict(cm=1.0, tau_m=20.0, tau_refrac=0.1, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, i_offset=0.0)
TRAIN_ONE_MS = (1.0, 26.0, 56.0)
TRAIN_ZERO_MS = (6.0, 36.0, 59.0)
TEACHER_MS, TEACHER_DELAY_MS = 29.0, 2.0
SAVE_MS = 65.0
TRAIN_MS = 75.0
RELAY_WEIGHT = 20.0
STDP_PARAMS = dict(tau_plus=5.0, tau_minus=5.0, A_plus=1.0, A_minus=-1.0, w_min=0.0, w_max=20.0)
TEST_AT_MS, TEST_MS = 10.0, 20.0
# the authors' homeostasis search (module docstring; simulators.md §9.8)
H_PROBE = 100.0            # first test: a word that does not fire here is undetectable
H_LOW = 1e-4               # lower end of the bisection
H_TOL = 1e-4               # the bisection runs while hi - lo >= H_TOL
H_STEP = 1e-5              # step of the final scan
MAX_BITS = 16              # 2^16 test words in one batch at most


def _cell():
    return nm.IF_curr_delta(weight_units="nA", **CELL)


def _stdp():
    p = STDP_PARAMS
    return nm.STDP(timing=nm.SpikeNearestPairRule(tau_plus=p["tau_plus"], tau_minus=p["tau_minus"],
                                                  A_plus=p["A_plus"], A_minus=p["A_minus"]),
                   weight=nm.Additive(w_min=p["w_min"], w_max=p["w_max"], step="absolute"))


def _check_bits(owner: str, bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_BITS:
        raise ValidationError(f"{owner}: bits={bits!r} must be an integer word width in 1..{MAX_BITS}")
    return int(bits)


def _check_word(owner: str, word, bits: int) -> int:
    if isinstance(word, bool) or not isinstance(word, (int, np.integer)):
        raise ValidationError(f"{owner}: word={word!r} is not an integer; give a word in 0..{2 ** bits - 1}")
    if word < 0:
        raise ValidationError(f"{owner}: word={word} is negative; give a word in 0..{2 ** bits - 1}")
    if word >= 2 ** bits:
        raise ValidationError(
            f"{owner}: word={word} needs {int(word).bit_length()} bits but the network has bits={bits}; "
            f"give a word in 0..{2 ** bits - 1} or a larger bits")
    return int(word)


def word_bits(word: int, bits: int = 10) -> np.ndarray:
    """The word's bits, most significant first, as a bool array."""
    return ((int(word) >> np.arange(bits - 1, -1, -1)) & 1).astype(bool)


def _build_opts(backend, numerics, opts):
    o = dict(opts)
    if numerics is not None:
        o["numerics"] = numerics
    return o


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
def _training_inputs(word: int, bits: int, t_offset: float = 0.0):
    b = word_bits(word, bits)
    one = [[t + t_offset for t in TRAIN_ONE_MS] if x else [] for x in b]
    zero = [[] if x else [t + t_offset for t in TRAIN_ZERO_MS] for x in b]
    return one, zero


def _check_offset(owner, t_offset):
    v = finite(owner, "t_offset", t_offset)
    if v < 0 or v != round(v):
        raise ValidationError(f"{owner}: t_offset={t_offset!r} must be a whole number of ms >= 0")
    return float(v)


def build_training_network(word: int, bits: int = 10, t_offset: float = 0.0) -> nm.Network:
    """The training network for one word (module docstring). STDP projections are labelled
    ``"stdp_one"`` ("1"-line relays -> excitatory output) and ``"stdp_zero"`` ("0"-line relays ->
    inhibitory output). ``t_offset`` [ms] delays every spike of the protocol (NEST through PyNN
    cannot take a source spike before 2 ms; the published protocol starts at 1 ms)."""
    owner = "spatial_pattern.build_training_network"
    bits = _check_bits(owner, bits)
    word = _check_word(owner, word, bits)
    t_offset = _check_offset(owner, t_offset)
    one, zero = _training_inputs(word, bits, t_offset)
    net = nm.Network(dt=1.0, seed=0)
    net.spike_source("source_one", one)
    net.spike_source("source_zero", zero)
    net.spike_source("save", [[SAVE_MS + t_offset]])
    net.spike_source("teacher", [[TEACHER_MS + t_offset]])
    for label in ("relay_one", "relay_zero"):
        net.population(label, bits, _cell())
    net.population("output_exc", 1, _cell())
    net.population("output_inh", 1, _cell())
    E, I = "excitatory", "inhibitory"
    net.connect("source_one", "relay_one", nm.OneToOne(), weight=RELAY_WEIGHT, delay=1.0, receptor=E, label="in_one")
    net.connect("source_zero", "relay_zero", nm.OneToOne(), weight=RELAY_WEIGHT, delay=1.0, receptor=E, label="in_zero")
    net.connect("save", "relay_one", nm.AllToAll(), weight=RELAY_WEIGHT, delay=1.0, receptor=E, label="save_one")
    net.connect("save", "relay_zero", nm.AllToAll(), weight=RELAY_WEIGHT, delay=1.0, receptor=E, label="save_zero")
    net.connect("teacher", "output_exc", nm.AllToAll(), weight=RELAY_WEIGHT, delay=TEACHER_DELAY_MS, receptor=E, label="teach_exc")
    net.connect("teacher", "output_inh", nm.AllToAll(), weight=RELAY_WEIGHT, delay=TEACHER_DELAY_MS, receptor=E, label="teach_inh")
    net.connect("relay_one", "output_exc", nm.AllToAll(), weight=0.0, delay=1.0, receptor=E, plasticity=_stdp(), label="stdp_one")
    net.connect("relay_zero", "output_inh", nm.AllToAll(), weight=0.0, delay=1.0, receptor=I, plasticity=_stdp(), label="stdp_zero")
    return net


def train_words(words: Sequence[int], bits: int = 10, backend: str = "torch", numerics: str | None = "spinnaker",
                t_offset: float = 0.0, **opts) -> list[dict]:
    """Train each word in its own 75 ms run from zero weights (one batch of trials on torch) and
    return, per word, ``{"word", "W1", "W0"}``: the learned weights [nA] of the "1"-line
    (excitatory) and "0"-line (inhibitory) pathways, one per bit. ``t_offset``: see
    :func:`build_training_network`."""
    owner = "spatial_pattern.train_word"
    bits = _check_bits(owner, bits)
    words = [_check_word(owner, w, bits) for w in words]
    t_offset = _check_offset(owner, t_offset)
    if not words:
        return []
    build = _build_opts(backend, numerics, opts)
    out = []
    if backend == "torch" and len(words) > 1:
        net = build_training_network(words[0], bits, t_offset)
        sim = nm.build(net, backend=backend, batch=len(words), **build)
        inputs = [_training_inputs(w, bits, t_offset) for w in words]
        sim.set_spike_times("source_one", [one for one, _ in inputs])
        sim.set_spike_times("source_zero", [zero for _, zero in inputs])
        sim.run(TRAIN_MS + t_offset)
        w1, w0 = np.asarray(sim.weights("stdp_one")), np.asarray(sim.weights("stdp_zero"))
        for b, w in enumerate(words):
            out.append({"word": w, "W1": w1[b, :, 0].copy(), "W0": w0[b, :, 0].copy()})
        return out
    for w in words:
        sim = nm.build(build_training_network(w, bits, t_offset), backend=backend, **build)
        sim.run(TRAIN_MS + t_offset)
        w1, w0 = np.asarray(sim.weights("stdp_one")), np.asarray(sim.weights("stdp_zero"))
        out.append({"word": w, "W1": w1.reshape(bits, -1)[:, 0].copy(), "W0": w0.reshape(bits, -1)[:, 0].copy()})
    return out


def train_word(word: int, bits: int = 10, backend: str = "torch", numerics: str | None = "spinnaker",
               t_offset: float = 0.0, **opts) -> dict:
    """Train one word (module docstring) and return ``{"word", "W1", "W0"}`` — the learned weights
    [nA] of the "1"-line → excitatory-output and "0"-line → inhibitory-output pathways, one per bit
    (on the board: 47/128 nA on every active line, 0 elsewhere)."""
    return train_words([word], bits, backend, numerics, t_offset, **opts)[0]


# --------------------------------------------------------------------------------------------
# Test network
# --------------------------------------------------------------------------------------------
def _test_inputs(word: int, bits: int):
    b = word_bits(word, bits)
    return [[TEST_AT_MS] if x else [] for x in b], [[] if x else [TEST_AT_MS] for x in b]


_TEST_PROJECTIONS = (("one", "excitatory"), ("one", "inhibitory"), ("zero", "excitatory"), ("zero", "inhibitory"))


def _line_weights(name: str, receptor: str, W1, W0):
    """The learned weights of a test projection: relay line ``name`` excites with its own pathway's
    weights and inhibits with the other's."""
    return (W1 if receptor == "excitatory" else W0) if name == "one" else (W0 if receptor == "excitatory" else W1)


def build_test_network(W1, W0, factors, bits: int = 10, word: int = 0) -> nm.Network:
    """The test network presenting ``word``, with one output neuron per homeostatic factor in
    ``factors``: output k gets ``h_k·W`` (module docstring). Projections ``one_exc``, ``one_inh``
    (from the "1"-line relays) and ``zero_exc``, ``zero_inh`` (from the "0"-line relays), each a
    ``FromList`` of its non-zero weights only, as the authors built it (a projection without any is
    left out). Give one factor for a board-faithful run: several outputs share one ring-buffer
    shift, which the largest factor sets."""
    W1 = np.asarray(W1, dtype=np.float64).reshape(-1)
    W0 = np.asarray(W0, dtype=np.float64).reshape(-1)
    h = np.asarray(factors, dtype=np.float64).reshape(-1)
    one, zero = _test_inputs(word, bits)
    net = _test_skeleton(one, zero, bits, h.size)
    for name, rec in _TEST_PROJECTIONS:
        W = _line_weights(name, rec, W1, W0)
        w = np.outer(W, h)                          # [bits, K]: h_k * W_i as the authors' numpy product
        rows = [(int(i), int(k), float(w[i, k])) for i, k in zip(*np.nonzero(w))]
        if rows:
            net.connect(f"relay_{name}", "output", nm.FromList(rows), delay=1.0, receptor=rec,
                        label=f"{name}_{rec[:3]}")
    net.record("output", "spikes")
    return net


def build_fanout_test_network(W1, W0, factors, words: Sequence[int], bits: int = 10) -> nm.Network:
    """Many test networks in one, for backends without batched trials: every line's relay fires at
    10 ms and output ``(r, k)`` (index ``r·K + k``) is wired to the lines word ``r`` activates only
    (weight 0 from the others), so it receives exactly what the test network presenting word ``r``
    at factor ``h_k`` delivers to its output."""
    W1 = np.asarray(W1, dtype=np.float64).reshape(-1)
    W0 = np.asarray(W0, dtype=np.float64).reshape(-1)
    h = np.asarray(factors, dtype=np.float64).reshape(-1)
    X = np.array([word_bits(w, bits) for w in words], dtype=np.float64)      # [R, bits]
    R, K = X.shape[0], h.size
    net = _test_skeleton([[TEST_AT_MS]] * bits, [[TEST_AT_MS]] * bits, bits, R * K)
    for name, exc, inh, active in (("one", W1, W0, X), ("zero", W0, W1, 1.0 - X)):
        for rec, W in (("excitatory", exc), ("inhibitory", inh)):
            block = W[:, None, None] * active.T[:, :, None] * h[None, None, :]   # [bits, R, K]
            net.connect(f"relay_{name}", "output", nm.AllToAll(), weight=block.reshape(bits, R * K), delay=1.0,
                        receptor=rec, label=f"{name}_{rec[:3]}")
    net.record("output", "spikes")
    return net


def _test_skeleton(one, zero, bits, n_out):
    net = nm.Network(dt=1.0, seed=0)
    net.spike_source("source_one", one)
    net.spike_source("source_zero", zero)
    net.population("relay_one", bits, _cell())
    net.population("relay_zero", bits, _cell())
    net.population("output", n_out, _cell())
    net.connect("source_one", "relay_one", nm.OneToOne(), weight=RELAY_WEIGHT, delay=1.0, receptor="excitatory", label="in_one")
    net.connect("source_zero", "relay_zero", nm.OneToOne(), weight=RELAY_WEIGHT, delay=1.0, receptor="excitatory", label="in_zero")
    return net


def _spike_counts(sim, label: str, batch: int) -> np.ndarray:
    """Output spikes per trial and neuron, ``[batch, n]``."""
    spikes = sim.spikes(label)
    if batch == 1:
        spikes = [spikes]
    return np.array([[len(np.asarray(s)) for s in trial] for trial in spikes], dtype=np.int64)


def present_trials(words: Sequence[int], factors, W1, W0, bits: int = 10, backend: str = "torch",
                   numerics: str | None = "spinnaker", **opts) -> np.ndarray:
    """Present ``words[i]`` at the homeostatic factor ``factors[i]`` (a scalar applies to every
    word): one trial per pair, each its own board run, and return the number of output spikes per
    trial (int array).

    Torch: the test network (:func:`build_test_network`, non-zero synapses only) is built once with
    one trial per pair and every trial gets its words' inputs and its own weights ``h_i·W`` through
    ``set_weights`` (the per-synapse order of ``weights(format="list")``), so a profile that derives
    the ring-buffer shift from the weights gives each trial the shift of its own h. Other backends:
    one run of :func:`build_fanout_test_network` per call (outputs for every distinct word × factor;
    every output shares one shift there)."""
    words = [int(w) for w in words]
    n = len(words)
    h = np.asarray(factors, dtype=np.float64).reshape(-1)
    if h.size == 1 and n != 1:
        h = np.full(n, h[0])
    if h.size != n:
        raise ValidationError(f"spatial_pattern.present_trials: {n} words but {h.size} factors; give one factor per word or one for all")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if np.any(~np.isfinite(h)) or np.any(h < 0):
        raise ValidationError(f"spatial_pattern.present_trials: factors must be finite and >= 0 (got {h[~np.isfinite(h) | (h < 0)][0]!r})")
    W1 = np.asarray(W1, dtype=np.float64).reshape(-1)
    W0 = np.asarray(W0, dtype=np.float64).reshape(-1)
    build = _build_opts(backend, numerics, opts)
    if backend == "torch":
        net = build_test_network(W1, W0, [1.0], bits, words[0])
        sim = nm.build(net, backend=backend, batch=n, **build)
        if n > 1:
            inputs = [_test_inputs(w, bits) for w in words]
            sim.set_spike_times("source_one", [o for o, _ in inputs])
            sim.set_spike_times("source_zero", [z for _, z in inputs])
        for name, rec in _TEST_PROJECTIONS:
            label = f"{name}_{rec[:3]}"
            if label not in net.projections:
                continue
            pre = np.asarray(sim.weights(label, format="list")[0], dtype=np.int64)
            W = _line_weights(name, rec, W1, W0)[pre]
            sim.set_weights(label, h[:, None] * W[None, :])      # [trial, synapse]: h_i * W_j
        sim.run(TEST_MS)
        return _spike_counts(sim, "output", n)[:, 0]
    uw = list(dict.fromkeys(words))
    uh, hk = np.unique(h, return_inverse=True)
    net = build_fanout_test_network(W1, W0, uh, uw, bits)
    sim = nm.build(net, backend=backend, **build)
    sim.run(TEST_MS)
    counts = np.array([len(np.asarray(s)) for s in sim.spikes("output")], dtype=np.int64).reshape(len(uw), uh.size)
    row = {w: r for r, w in enumerate(uw)}
    return np.array([counts[row[w], k] for w, k in zip(words, hk.reshape(-1))], dtype=np.int64)


def present(words: Sequence[int], W1, W0, factors, bits: int = 10, backend: str = "torch",
            numerics: str | None = "spinnaker", **opts) -> np.ndarray:
    """Present each word to the test network at each factor and return ``fired[word, factor]``:
    on torch one trial per (word, factor) (:func:`present_trials`), elsewhere one run of
    :func:`build_fanout_test_network`."""
    words = [int(w) for w in words]
    h = np.asarray(factors, dtype=np.float64).reshape(-1)
    K = h.size
    if backend == "torch":
        counts = present_trials([w for w in words for _ in range(K)], np.tile(h, len(words)), W1, W0, bits,
                                backend, numerics, **opts)
        return counts.reshape(len(words), K) > 0
    build = _build_opts(backend, numerics, opts)
    net = build_fanout_test_network(W1, W0, h, words, bits)
    sim = nm.build(net, backend=backend, **build)
    sim.run(TEST_MS)
    spikes = sim.spikes("output")
    counts = np.array([len(np.asarray(s)) for s in spikes]).reshape(len(words), K)
    return counts > 0


# --------------------------------------------------------------------------------------------
# Homeostasis and evaluation
# --------------------------------------------------------------------------------------------
def homeostasis_search(trained_words: Sequence[int], W1, W0, bits: int = 10, backend: str = "torch",
                       numerics: str | None = "spinnaker", **opts) -> dict:
    """The authors' homeostasis search (module docstring; simulators.md §9.8), spike level.

    Every tested h is its own trial (:func:`present_trials`): the probe at ``H_PROBE`` of all trained
    words is one batch, each bisection round one batch with one trial per word still bisecting, the
    final scans of all words one batch. Returns ``{"h", "h_list", "undetectable"}``: ``h_list``
    maps each trained word to its own factor (None if undetectable), ``h`` is their maximum (NaN
    when no trained word is detectable). If no scanned h fires exactly once (firing is not
    monotone in h under wrap-around), the word's factor is the bisection's upper end, which fired."""
    words = list(dict.fromkeys(int(w) for w in trained_words))
    run = lambda ws, hs: present_trials(ws, hs, W1, W0, bits, backend, numerics, **opts)   # noqa: E731
    probe = run(words, [H_PROBE] * len(words)) if words else []
    detectable = [w for w, c in zip(words, probe) if c > 0]
    lo = {w: H_LOW for w in detectable}
    hi = {w: H_PROBE for w in detectable}
    while True:
        active = [w for w in detectable if hi[w] - lo[w] >= H_TOL]
        if not active:
            break
        mids = [(lo[w] + hi[w]) / 2 for w in active]
        for w, m, c in zip(active, mids, run(active, mids)):
            if c > 0:
                hi[w] = m
            else:
                lo[w] = m
    scans = {w: [float(x) for x in np.arange(round(lo[w], 5) - H_STEP, round(hi[w], 5) + H_STEP, H_STEP)] for w in detectable}
    trials = [(w, x) for w in detectable for x in scans[w]]
    counts = run([w for w, _ in trials], [x for _, x in trials]) if trials else []
    first = {}
    for (w, x), c in zip(trials, counts):
        if c == 1 and w not in first:
            first[w] = x
    h_list = {w: (first.get(w, hi[w]) if w in lo else None) for w in words}
    found = [x for x in h_list.values() if x is not None]
    return {"h": max(found) if found else float("nan"), "h_list": h_list,
            "undetectable": [w for w in words if h_list[w] is None]}


def homeostasis_factor(trained_words: Sequence[int], W1, W0, bits: int = 10, backend: str = "torch",
                       numerics: str | None = "spinnaker", **opts) -> tuple[float, list[int]]:
    """The network's homeostatic factor by the authors' search (:func:`homeostasis_search`):
    ``(h, undetectable words)``; h is NaN when no trained word is detectable (e.g. a word and its
    complement trained together: the net input of each is 0)."""
    r = homeostasis_search(trained_words, W1, W0, bits, backend, numerics, **opts)
    return r["h"], sorted(r["undetectable"])


def metrics(detected: Sequence[int], trained: Sequence[int], bits: int = 10) -> dict:
    """Confusion counts and rates over all 2^bits words; the trained words are the positives."""
    total = 2 ** bits
    det, tr = set(int(w) for w in detected), set(int(w) for w in trained)
    tp = len(det & tr)
    fp = len(det) - tp
    fn = len(tr) - tp
    tn = total - tp - fp - fn

    def ratio(a, b):
        return a / b if b else float("nan")
    return {"positives": len(det), "negatives": total - len(det), "TP": tp, "TN": tn, "FP": fp, "FN": fn,
            "accuracy": ratio(tp + tn, total), "precision": ratio(tp, tp + fp), "npv": ratio(tn, tn + fn),
            "sensitivity": ratio(tp, tp + fn), "specificity": ratio(tn, tn + fp)}


def evaluate(trained_words: Sequence[int], bits: int = 10, backend: str = "torch", numerics: str | None = "spinnaker",
             t_offset: float = 0.0, h: float | None = None, **opts) -> dict:
    """Train the words (spike level), sum their weights, find the homeostatic factor h by the
    authors' search (or take the given ``h``: no search, e.g. to reproduce a run whose h was set
    by hand), test all 2^bits words at h (one trial each) and return ``{"h", "h_list", "positives",
    "negatives", "TP", "TN", "FP", "FN", "accuracy", "precision", "npv", "sensitivity",
    "specificity", "detected", "trained", "W1", "W0", "undetectable", "out", "scores",
    "threshold_nA"}``.

    ``out[w]`` is the number of output spikes when testing word w (int array; None when no trained
    word is detectable and nothing is tested); a word is detected when it fires. ``h_list`` is each
    trained word's own factor from the search ({} when h is given; ``undetectable`` is then []).
    ``t_offset`` shifts the training protocol (:func:`build_training_network`). ``scores`` is each
    word's net input h·(Σexc − Σinh) [nA] for the report plot (the detection itself is the
    spike-level run); ``threshold_nA`` the one-step input that takes the output from rest to
    threshold."""
    owner = "spatial_pattern.evaluate"
    bits = _check_bits(owner, bits)
    if isinstance(trained_words, (int, np.integer)):
        trained_words = [trained_words]
    trained = [_check_word(owner, w, bits) for w in trained_words]
    if not trained:
        raise ValidationError(f"{owner}: trained_words is empty; give at least one word in 0..{2 ** bits - 1}")
    if h is not None:
        h = finite(owner, "h", h)
        if h <= 0:
            raise ValidationError(f"{owner}: h={h!r} must be > 0 (the homeostatic factor scales the learned weights)")
    distinct = sorted(set(trained))
    learned = {r["word"]: r for r in train_words(distinct, bits, backend, numerics, t_offset, **opts)}
    W1 = np.sum([learned[w]["W1"] for w in trained], axis=0)
    W0 = np.sum([learned[w]["W0"] for w in trained], axis=0)
    if h is None:
        search = homeostasis_search(trained, W1, W0, bits, backend, numerics, **opts)
        h, h_list, undetectable = search["h"], search["h_list"], sorted(search["undetectable"])
    else:
        h_list, undetectable = {}, []
    all_words = np.arange(2 ** bits)
    if math.isnan(h):
        out, detected = None, []
    else:
        out = present_trials(all_words.tolist(), h, W1, W0, bits, backend, numerics, **opts)
        detected = all_words[out > 0].tolist()
    result = {"h": h, "h_list": h_list, **metrics(detected, distinct, bits), "detected": detected, "trained": distinct,
              "undetectable": undetectable, "out": out, "W1": W1, "W0": W0}
    B = np.array([word_bits(w, bits) for w in all_words])
    exc = np.where(B, W1, W0).sum(axis=1)
    inh = np.where(B, W0, W1).sum(axis=1)
    result["scores"] = (0.0 if math.isnan(h) else h) * (exc - inh)
    result["threshold_nA"] = (CELL["v_thresh"] - CELL["v_rest"]) / delta_jump_per_nA(CELL["tau_m"], CELL["cm"], 1.0)
    return result


# --------------------------------------------------------------------------------------------
# CLI: neuromorph task spatial-pattern
# --------------------------------------------------------------------------------------------
COLUMNS = ("words", "h", "positives", "negatives", "TP", "TN", "FP", "FN", "accuracy", "precision", "npv",
           "sensitivity", "specificity")


def _plain(doc: str) -> str:
    """The ``--help`` description from a docstring: its paragraphs after the usage line, as plain
    text (the RST double backticks removed; argparse prints the usage itself)."""
    return " ".join(doc.split("\n\n", 1)[-1].split()).replace("``", "")


def main(argv: Sequence[str] | None = None) -> int:
    """``neuromorph task spatial-pattern --words 992,1008 [--bits 10] [--backend B --numerics P] [--h H] [--out DIR]``.

    ``--words`` is one trained set (comma-separated); repeat it for several sets (one row each).
    Prints the result table, writes ``spatial_pattern.csv``/``.json`` and a score plot per set to
    ``--out``. Exit 0 on success, 2 on bad input.
    """
    from pathlib import Path

    p = argparse.ArgumentParser(prog="neuromorph task spatial-pattern", description=_plain(main.__doc__))
    p.add_argument("--words", action="append", required=True, help="trained words, e.g. 992,1008 (repeatable)")
    p.add_argument("--bits", type=int, default=10, help="bits per word (default 10)")
    p.add_argument("--backend", default="torch", help="torch | pynn:nest | pynn:brian2 | pynn:spinnaker (default torch)")
    p.add_argument("--numerics", default=None, help="torch: spinnaker (default), spinnaker-float, exact; PyNN: the simulator's own")
    p.add_argument("--t-offset", type=float, default=None,
                   help="shift of the training protocol in ms (default 0; 1 on PyNN backends, which cannot take a source spike before 2 ms)")
    p.add_argument("--device", default=None, help="torch only: cpu | cuda (default: cuda if available, else cpu)")
    p.add_argument("--out", default="neuromorph_out/spatial_pattern", help="output folder (default neuromorph_out/spatial_pattern)")
    p.add_argument("--h", type=float, default=None,
                   help="test at this homeostatic factor instead of searching it (e.g. a run whose h was set by hand)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    args = p.parse_args(argv)
    opts = {"device": args.device} if args.device else {}
    numerics = args.numerics or ("spinnaker" if args.backend == "torch" else None)
    t_offset = args.t_offset if args.t_offset is not None else (0.0 if args.backend == "torch" else 1.0)
    rows = []
    try:
        sets = []
        for text in args.words:
            try:
                sets.append([int(w, 0) for w in text.split(",") if w.strip()])
            except ValueError:
                raise ValidationError(f"spatial-pattern: --words {text!r} must be comma-separated integers, e.g. 992,1008") from None
        results = [evaluate(ws, args.bits, args.backend, numerics, t_offset, h=args.h, **opts) for ws in sets]
    except NeuromorphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"spatial-pattern detector, {args.bits} bits, backend={args.backend}, numerics={numerics or 'backend default'}")
    print(f"{'words':<16}{'h':>10}{'pos':>6}{'neg':>6}{'TP':>4}{'TN':>6}{'FP':>5}{'FN':>4}"
          f"{'acc':>9}{'prec':>9}{'npv':>7}{'sens':>7}{'spec':>9}")
    for ws, r in zip(sets, results):
        row = {"words": ",".join(map(str, ws)), **{k: r[k] for k in COLUMNS[1:]}}
        rows.append(row)
        print(f"{row['words']:<16}{r['h']:>10.5f}{r['positives']:>6}{r['negatives']:>6}{r['TP']:>4}{r['TN']:>6}{r['FP']:>5}"
              f"{r['FN']:>4}{r['accuracy']:>9.5f}{r['precision']:>9.5f}{r['npv']:>7.3f}{r['sensitivity']:>7.3f}{r['specificity']:>9.5f}")
    with atomic_open(out / "spatial_pattern.csv", "w") as fh:
        fh.write(",".join(COLUMNS) + "\n")
        for row in rows:
            fh.write(",".join(f"\"{row[c]}\"" if c == "words" else repr(row[c]) for c in COLUMNS) + "\n")
    with atomic_open(out / "spatial_pattern.json", "w") as fh:
        json.dump({"bits": args.bits, "backend": args.backend, "numerics": numerics, "t_offset": t_offset,
                   "results": [{**row, "detected": r["detected"], "W1": r["W1"].tolist(), "W0": r["W0"].tolist(),
                                "undetectable": r["undetectable"]} for row, r in zip(rows, results)]}, fh, indent=1)
    written = [out / "spatial_pattern.csv", out / "spatial_pattern.json"]
    if not args.no_plot:
        from ._plots import score_plot
        for ws, r in zip(sets, results):
            name = out / f"scores_{'_'.join(map(str, ws))}.png"
            score_plot(r["scores"], r["threshold_nA"], r["trained"], r["detected"], name,
                       title=f"words {ws}: h = {r['h']:.5f}, {r['positives']} detected ({args.backend}, {numerics or 'backend default'})")
            written.append(name)
    print("wrote " + ", ".join(map(str, written)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
