"""Spatial-pattern detector (neuromorph.models.spatial_pattern) against the published results.

Data: tests/data/spatial_pattern/ (Davies, Gait, Rowley, Di Nuovo, Neurocomputing 611, 2025; see the
README there). Every count and metric must agree exactly, the homeostatic factor within 0.1 %.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import ValidationError
from neuromorph.models import spatial_pattern as sp

DATA = Path(__file__).parent / "data" / "spatial_pattern"
BOARD_WEIGHT = 47 / 128   # the recorded weight of every trained line (tests/data/README.md)


def read_rows(name):
    with open(DATA / name, newline="") as fh:
        reader = csv.reader(fh, skipinitialspace=True)
        header = [h.strip() for h in next(reader)]
        return [dict(zip(header, row)) for row in reader]


ROWS_1 = read_rows("output_metrics_1.csv")
ROWS_2 = read_rows("output_metrics_2.csv")


def assert_matches(result, row):
    counts = {"Positives": "positives", "Negatives": "negatives", "True Positives": "TP",
              "True Negatives": "TN", "False Positives": "FP", "False Negatives": "FN"}
    for col, key in counts.items():
        assert result[key] == int(float(row[col])), (col, result[key], row[col])
    rates = {"Accuracy": "accuracy", "Precision": "precision", "Negative Prediction": "npv",
             "Sensitivity": "sensitivity", "Specificity": "specificity"}
    for col, key in rates.items():
        assert result[key] == pytest.approx(float(row[col]), rel=1e-12, abs=0), col
    h = float(row["Homeostasis factor"])
    assert abs(result["h"] - h) <= 1e-3 * h, (result["h"], h)


@pytest.fixture(scope="module")
def torch_backend():
    pytest.importorskip("neuromorph.backends.torch")


# ---------------------------------------------------------------------------------------------
# Network descriptions
# ---------------------------------------------------------------------------------------------
def test_training_network_follows_the_protocol():
    net = sp.build_training_network(992, 10)
    one = net.get("source_one").celltype.spike_times
    zero = net.get("source_zero").celltype.spike_times
    bits = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]               # 992 = 0b1111100000, most significant first
    assert [list(r) for r in one] == [[1.0, 26.0, 56.0] if b else [] for b in bits]
    assert [list(r) for r in zero] == [[] if b else [6.0, 36.0, 59.0] for b in bits]
    assert net.get("teacher").celltype.spike_times == ((29.0,),)
    assert net.get("save").celltype.spike_times == ((65.0,),)
    for label in ("relay_one", "relay_zero", "output_exc", "output_inh"):
        ct = net.get(label).celltype
        assert isinstance(ct, nm.IF_curr_delta) and ct.weight_units == "nA"
        assert (ct.tau_m, ct.cm, ct.v_rest, ct.v_reset, ct.v_thresh, ct.tau_refrac) == (20, 1, -65, -65, -50, 0.1)
    for label, receptor in (("stdp_one", "excitatory"), ("stdp_zero", "inhibitory")):
        proj = net.projection(label)
        st = proj.plasticity
        assert proj.receptor == receptor and isinstance(st.timing, nm.SpikeNearestPairRule)
        assert (st.timing.tau_plus, st.timing.tau_minus, st.timing.A_plus, st.timing.A_minus) == (5, 5, 1, -1)
        assert (st.weight.w_min, st.weight.w_max, st.weight.step) == (0, 20, "absolute")
        assert net.connectivity(proj).distinct_delays == [1]
        assert net.connectivity(proj).size and np.all(net.connectivity(proj).weights == 0)
    assert net.connectivity("teach_exc").distinct_delays == [2]


def test_test_network_cancels_ties_in_one_step():
    W1 = np.array([1.0, 0.5, 0.0])
    W0 = np.array([0.0, 0.5, 1.0])
    net = sp.build_test_network(W1, W0, [2.0, 4.0], bits=3, word=0b101)
    assert [list(r) for r in net.get("source_one").celltype.spike_times] == [[10.0], [], [10.0]]
    assert [list(r) for r in net.get("source_zero").celltype.spike_times] == [[], [10.0], []]
    w = {label: net.connectivity(label).dense(fill=0.0) for label in ("one_exc", "one_inh", "zero_exc", "zero_inh")}
    assert np.array_equal(w["one_exc"], np.outer(W1, [2.0, 4.0]))
    assert np.array_equal(w["one_inh"], np.outer(W0, [2.0, 4.0]))
    assert np.array_equal(w["zero_exc"], np.outer(W0, [2.0, 4.0]))
    assert np.array_equal(w["zero_inh"], np.outer(W1, [2.0, 4.0]))
    assert {d for label in w for d in net.connectivity(label).distinct_delays} == {1}
    # as the authors built it: lists of the non-zero h·W entries only (the board's ring-buffer
    # shift counts only those synapses; simulators.md §9.8)
    for label in w:
        c = net.connectivity(label)
        assert c.size == 2 * 2 and np.all(c.weights > 0), label


def test_test_network_without_any_nonzero_weight():
    """A projection whose learned weights are all 0 is left out, not built empty."""
    net = sp.build_test_network(np.array([1.0, 0.0]), np.zeros(2), [3.0], bits=2, word=0b10)
    assert sorted(net.projections) == ["in_one", "in_zero", "one_exc", "zero_inh"]
    assert net.connectivity("one_exc").weights.tolist() == [3.0]


def test_fanout_network_gives_each_output_its_words_input():
    """The one-run variant for backends without batches: output (r, k) gets from the active lines
    of word r what the test network presenting word r delivers, and 0 from the inactive ones."""
    W1, W0, h, words = np.array([1.0, 0.5, 0.0]), np.array([0.0, 0.5, 1.0]), [2.0, 4.0], [0b101, 0b010, 0b111]
    fan = sp.build_fanout_test_network(W1, W0, h, words, bits=3)
    assert all(list(r) == [10.0] for r in fan.get("source_one").celltype.spike_times)
    assert all(list(r) == [10.0] for r in fan.get("source_zero").celltype.spike_times)
    for r, word in enumerate(words):
        single = sp.build_test_network(W1, W0, h, bits=3, word=word)
        active = {"one": sp.word_bits(word, 3), "zero": ~sp.word_bits(word, 3)}
        for label in ("one_exc", "one_inh", "zero_exc", "zero_inh"):
            got = fan.connectivity(label).dense(fill=0.0)[:, 2 * r:2 * r + 2]
            want = np.where(active[label.split("_")[0]][:, None], single.connectivity(label).dense(fill=0.0), 0.0)
            assert np.array_equal(got, want), (word, label)


# ---------------------------------------------------------------------------------------------
# Training and the published tables (torch, numerics="spinnaker")
# ---------------------------------------------------------------------------------------------
def test_train_word_stores_the_board_weight(torch_backend):
    r = sp.train_word(992)
    bits = sp.word_bits(992)
    assert np.array_equal(r["W1"], np.where(bits, BOARD_WEIGHT, 0.0))
    assert np.array_equal(r["W0"], np.where(bits, 0.0, BOARD_WEIGHT))
    batched = sp.train_words([992, 1008, 0])          # one batch on torch: same weights per word
    assert np.array_equal(batched[0]["W1"], r["W1"]) and np.array_equal(batched[0]["W0"], r["W0"])
    assert np.array_equal(batched[2]["W0"], np.full(10, BOARD_WEIGHT))


def test_output_metrics_1(torch_backend):
    row = ROWS_1[0]
    result = sp.evaluate([int(row["Code Word 0"])])
    assert_matches(result, row)
    assert result["detected"] == [992]


@pytest.mark.parametrize("row", ROWS_2, ids=[f"{r['Code Word 0']}+{r['Code Word 1']}" for r in ROWS_2])
def test_output_metrics_2(torch_backend, row):
    words = [int(row["Code Word 0"]), int(row["Code Word 1"])]
    result = sp.evaluate(words)
    assert_matches(result, row)
    assert set(words) <= set(result["detected"])
    # the detected words are exactly those that agree with both trained words wherever they agree
    agree = ~(sp.word_bits(words[0]) ^ sp.word_bits(words[1]))
    family = [w for w in range(1024) if np.array_equal(sp.word_bits(w)[agree], sp.word_bits(words[0])[agree])]
    assert result["detected"] == family


def test_present_trials_one_board_run_per_trial(torch_backend):
    """Each (word, h) trial is its own run: the ring-buffer shift follows the trial's own h. Word
    992 at the board's h = 4.18817 fires in a batch that also tests h = 100 (with one shared shift,
    set by h = 100, its input would round below threshold); one LSB of h lower it does not."""
    W1 = np.where(sp.word_bits(992), BOARD_WEIGHT, 0.0)
    W0 = np.where(sp.word_bits(992), 0.0, BOARD_WEIGHT)
    counts = sp.present_trials([992, 992, 992, 0], [4.1881699999999995, 100.0, 4.18816, 100.0], W1, W0)
    assert counts.tolist() == [1, 1, 0, 0]
    with pytest.raises(ValidationError):
        sp.present_trials([992, 0], [1.0, 2.0, 3.0], W1, W0)


def test_evaluate_at_a_given_h(torch_backend):
    """``h=`` skips the search (a run whose h was set by hand): the words are tested at that h and
    ``out`` holds every word's output spike count."""
    r = sp.evaluate([992], h=4.1881699999999995)
    assert r["h"] == 4.1881699999999995 and r["h_list"] == {} and r["undetectable"] == []
    assert r["out"].shape == (1024,) and r["out"][992] == 1 and r["out"].sum() == 1 and r["detected"] == [992]
    low = sp.evaluate([992], h=4.18816)
    assert low["detected"] == [] and low["FN"] == 1
    for bad in (0.0, -1.0, float("nan"), "x"):
        with pytest.raises(ValidationError):
            sp.evaluate([992], h=bad)


def test_float_weights_break_the_ties(torch_backend):
    """Float STDP (no board storage) gives ≈0.3757 nA on "1" lines and ≈0.3794 nA on "0" lines
    (the tail pairings e^-5, e^-6.8 survive): the ties on disagreeing bits no longer cancel."""
    r = sp.train_word(992, numerics="spinnaker-float")
    bits = sp.word_bits(992)
    assert r["W1"][bits] == pytest.approx(np.exp(-1) + np.exp(-5) + np.exp(-6.8), rel=1e-12)
    assert r["W0"][~bits] == pytest.approx(np.exp(-5) + np.exp(-1) + np.exp(-5.6) + np.exp(-6.8), rel=1e-12)
    # 992 and 28 disagree on 8 bits, 5 of them 1 in 992: on the board all 2^8 = 256 words of the
    # family fire; with float weights each disagreeing bit adds ±(W0 - W1)·h and only the words
    # with at most 5 ones there (the trained words' own count) reach the threshold: <= 219.
    result = sp.evaluate([992, 28], numerics="spinnaker-float")
    assert 163 <= result["positives"] <= 219


# ---------------------------------------------------------------------------------------------
# Bad input and CLI
# ---------------------------------------------------------------------------------------------
def test_word_wider_than_the_network():
    with pytest.raises(ValidationError) as e:
        sp.train_word(1024, bits=10)
    text = str(e.value)
    assert "\n" not in text and "word=1024" in text and "bits=10" in text and "0..1023" in text
    with pytest.raises(ValidationError):
        sp.evaluate([992, 2048])
    with pytest.raises(ValidationError):
        sp.train_word(-1)
    with pytest.raises(ValidationError):
        sp.evaluate([])
    with pytest.raises(ValidationError):
        sp.evaluate([1], bits=0)


def test_cli_bad_words(capsys, tmp_path):
    rc = sp.main(["--words", "992,4096", "--out", str(tmp_path), "--no-plot"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "word=4096" in err and "Traceback" not in err


def test_cli_writes_table_and_plot(torch_backend, capsys, tmp_path):
    rc = sp.main(["--words", "992,1008", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "992,1008" in out
    rows = list(csv.DictReader(open(tmp_path / "spatial_pattern.csv")))
    assert rows[0]["positives"] == "2" and rows[0]["accuracy"] == "1.0"
    data = json.loads((tmp_path / "spatial_pattern.json").read_text())
    assert data["results"][0]["detected"] == [992, 1008]
    assert (tmp_path / "scores_992_1008.png").stat().st_size > 10_000


def test_cli_given_h_skips_the_search(torch_backend, capsys, tmp_path):
    """--h tests at the given factor: released run Single_pattern_992 (h = 4.18817 from the board's
    search) gives its one detected word; at h = 100 every word with a net positive input fires."""
    rc = sp.main(["--words", "992", "--h", "4.1881699999999995", "--out", str(tmp_path), "--no-plot"])
    assert rc == 0
    data = json.loads((tmp_path / "spatial_pattern.json").read_text())
    assert data["results"][0]["h"] == 4.1881699999999995 and data["results"][0]["detected"] == [992]
    rc = sp.main(["--words", "992", "--h", "100", "--out", str(tmp_path / "b"), "--no-plot"])
    assert rc == 0
    assert len(json.loads((tmp_path / "b" / "spatial_pattern.json").read_text())["results"][0]["detected"]) > 1
