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
- **Test network.** One output neuron; the relay of line "1" of bit i excites it with h·W1_i and
  inhibits it with h·W0_i, line "0" the reverse; both with delay 1 ms, so excitation and inhibition
  of a line arrive in the same step and cancel exactly in ``I = Σw_exc − Σw_inh`` when W1_i = W0_i.
  Inputs at 10 ms, run 20 ms; a word is detected when the output fires. W1, W0 are the learned
  weights summed over the trained words.
- **Homeostasis** (:func:`homeostasis_factor`): one global factor h, searched on the host between
  runs with spike-level test runs: the smallest h on a dyadic grid (2^-20, ≈1e-6) at which every
  detectable trained word fires (= the maximum over the trained words of each word's own threshold
  factor). A dyadic h keeps every product h·W and every sum of them exact in float64, so words
  whose inputs are equal in exact arithmetic get bit-identical inputs.
- **Evaluation** (:func:`evaluate`): all 2^bits words presented at h (a batch of trials on torch,
  disjoint replicas of the test network in one run on other backends); metrics over them.
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
           "TEST_MS", "GRID", "word_bits", "build_training_network", "train_word", "train_words",
           "build_test_network", "build_fanout_test_network", "present", "homeostasis_factor", "evaluate", "metrics", "main"]

CELL = dict(cm=1.0, tau_m=20.0, tau_refrac=0.1, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, i_offset=0.0)
TRAIN_ONE_MS = (1.0, 26.0, 56.0)
TRAIN_ZERO_MS = (6.0, 36.0, 59.0)
TEACHER_MS, TEACHER_DELAY_MS = 29.0, 2.0
SAVE_MS = 65.0
TRAIN_MS = 75.0
RELAY_WEIGHT = 20.0
STDP_PARAMS = dict(tau_plus=5.0, tau_minus=5.0, A_plus=1.0, A_minus=-1.0, w_min=0.0, w_max=20.0)
TEST_AT_MS, TEST_MS = 10.0, 20.0
GRID = 2.0 ** -20          # homeostatic factors are searched on this dyadic grid
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


def build_test_network(W1, W0, factors, bits: int = 10, word: int = 0) -> nm.Network:
    """The test network presenting ``word``, with one output neuron per homeostatic factor in
    ``factors``: output k gets ``h_k·W`` (module docstring). Projections ``one_exc``, ``one_inh``
    (from the "1"-line relays) and ``zero_exc``, ``zero_inh`` (from the "0"-line relays)."""
    W1 = np.asarray(W1, dtype=np.float64).reshape(-1)
    W0 = np.asarray(W0, dtype=np.float64).reshape(-1)
    h = np.asarray(factors, dtype=np.float64).reshape(-1)
    one, zero = _test_inputs(word, bits)
    net = _test_skeleton(one, zero, bits, h.size)
    for name, exc, inh in (("one", W1, W0), ("zero", W0, W1)):
        for rec, W in (("excitatory", exc), ("inhibitory", inh)):
            # [bits, K]; exact in float64 for dyadic h and W (multiples of the weight LSB)
            net.connect(f"relay_{name}", "output", nm.AllToAll(), weight=np.outer(W, h), delay=1.0,
                        receptor=rec, label=f"{name}_{rec[:3]}")
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


def present(words: Sequence[int], W1, W0, factors, bits: int = 10, backend: str = "torch",
            numerics: str | None = "spinnaker", **opts) -> np.ndarray:
    """Present each word to the test network at each factor (one spike-level run: a batch of trials
    on torch, :func:`build_fanout_test_network` elsewhere) and return ``fired[word, factor]``."""
    words = list(words)
    K = np.asarray(factors).size
    build = _build_opts(backend, numerics, opts)
    if backend == "torch":
        net = build_test_network(W1, W0, factors, bits, words[0])
        sim = nm.build(net, backend=backend, batch=len(words), **build)
        if len(words) > 1:   # one trial per word
            inputs = [_test_inputs(w, bits) for w in words]
            sim.set_spike_times("source_one", [o for o, _ in inputs])
            sim.set_spike_times("source_zero", [z for _, z in inputs])
        sim.run(TEST_MS)
        spikes = sim.spikes("output")
        if len(words) == 1:
            spikes = [spikes]
        return np.array([[len(np.asarray(spikes[b][k])) > 0 for k in range(K)] for b in range(len(words))], dtype=bool)
    net = build_fanout_test_network(W1, W0, factors, words, bits)
    sim = nm.build(net, backend=backend, **build)
    sim.run(TEST_MS)
    spikes = sim.spikes("output")
    counts = np.array([len(np.asarray(s)) for s in spikes]).reshape(len(words), K)
    return counts > 0


# --------------------------------------------------------------------------------------------
# Homeostasis and evaluation
# --------------------------------------------------------------------------------------------
def homeostasis_factor(trained_words: Sequence[int], W1, W0, bits: int = 10, backend: str = "torch",
                       numerics: str | None = "spinnaker", candidates: int = 63, h_max: float = 2.0 ** 16,
                       **opts) -> tuple[float, list[int]]:
    """The smallest factor h on the grid ``GRID`` at which every detectable trained word fires.

    Spike-level search: each round presents the trained words (a batch) to a test network with
    ``candidates`` output neurons at factors spread over the current bracket and keeps the bracket
    between the largest failing and the smallest passing factor (⌈log_{K+1}⌉ rounds). A trained word
    that does not fire even at ``h_max`` (its net input is not positive, e.g. a word and its
    complement trained together) is not detectable and does not constrain h. Returns ``(h,
    undetectable words)``; h is NaN when no trained word is detectable."""
    words = sorted(set(int(w) for w in trained_words))
    top = present(words, W1, W0, [h_max], bits, backend, numerics, **opts)[:, 0]
    undetectable = [w for w, f in zip(words, top) if not f]
    words = [w for w, f in zip(words, top) if f]
    if not words:
        return float("nan"), undetectable
    lo, hi = 0, int(round(h_max / GRID))              # grid units: fails at lo (h = 0), fires at hi
    while hi - lo > 1:
        k = np.unique(np.linspace(lo, hi, candidates + 2).round().astype(np.int64)[1:-1])
        k = k[(k > lo) & (k < hi)]
        if k.size == 0:
            k = np.array([(lo + hi) // 2])
        fired = present(words, W1, W0, k * GRID, bits, backend, numerics, **opts).all(axis=0)
        passing = k[fired]
        failing = k[~fired]
        if passing.size:
            hi = int(passing.min())
        lo = int(failing[failing < hi].max()) if (failing < hi).any() else lo
    return hi * GRID, undetectable


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
             t_offset: float = 0.0, **opts) -> dict:
    """Train the words (spike level), sum their weights, search the homeostatic factor h, test all
    2^bits words at h and return ``{"h", "positives", "negatives", "TP", "TN", "FP", "FN",
    "accuracy", "precision", "npv", "sensitivity", "specificity", "detected", "trained", "W1", "W0",
    "undetectable", "scores", "threshold_nA"}``. ``t_offset`` shifts the training protocol
    (:func:`build_training_network`). ``scores`` is each word's net input h·(Σexc − Σinh)
    [nA] for the report plot (the detection itself is the spike-level run); ``threshold_nA`` the
    one-step input that takes the output from rest to threshold."""
    owner = "spatial_pattern.evaluate"
    bits = _check_bits(owner, bits)
    if isinstance(trained_words, (int, np.integer)):
        trained_words = [trained_words]
    trained = [_check_word(owner, w, bits) for w in trained_words]
    if not trained:
        raise ValidationError(f"{owner}: trained_words is empty; give at least one word in 0..{2 ** bits - 1}")
    distinct = sorted(set(trained))
    learned = {r["word"]: r for r in train_words(distinct, bits, backend, numerics, t_offset, **opts)}
    W1 = np.sum([learned[w]["W1"] for w in trained], axis=0)
    W0 = np.sum([learned[w]["W0"] for w in trained], axis=0)
    h, undetectable = homeostasis_factor(distinct, W1, W0, bits, backend, numerics, **opts)
    all_words = np.arange(2 ** bits)
    if math.isnan(h):
        detected = []
    else:
        fired = present(all_words.tolist(), W1, W0, [h], bits, backend, numerics, **opts)[:, 0]
        detected = all_words[fired].tolist()
    result = {"h": h, **metrics(detected, distinct, bits), "detected": detected, "trained": distinct,
              "undetectable": undetectable, "W1": W1, "W0": W0}
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
    """``neuromorph task spatial-pattern --words 992,1008 [--bits 10] [--backend B --numerics P] [--out DIR]``.

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
        results = [evaluate(ws, args.bits, args.backend, numerics, t_offset, **opts) for ws in sets]
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
