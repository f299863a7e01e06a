"""CA3 content-addressable memory (neuromorph.models.ca3_cam) against the authors' published data.

Data: tests/data/ca3_cam/ (Casanueva-Morato et al., Neural Networks 178, 2024; see README there).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuromorph as nm
from neuromorph.errors import ValidationError
from neuromorph.models import ca3_cam

DATA = Path(__file__).parent / "data" / "ca3_cam"
FUNCTIONAL = json.loads((DATA / "functional_test.json").read_text())
CONFIG = json.loads((DATA / "network_config.json").read_text())
N, M = FUNCTIONAL["cue_size"], FUNCTIONAL["content_size"]

# The connection table of the published model (tests/data/README.md): projection label prefix ->
# (pre, post, connection pattern, key in network_config.json's synParameters)
TABLE = {
    1: ("IL", "CA3cueCueRecall", "il_cue", "IL-CA3cueCueRecallL"),
    2: ("IL", "CA3contCueRecall", "il_cont", "IL-CA3contCueRecallL"),
    3: ("CA3cueCueRecall", "CA3cueContRecall", "one", "CA3cueCueRecallL-CA3cueContRecallL"),
    4: ("CA3cueCueRecall", "CA3cueContRecall", "all_no_self", "CA3cueCueRecallL-CA3cueContRecallL-inh"),
    5: ("CA3cueCueRecall", "CA3contCond", "all", "CA3cueCueRecallL-CA3contCondL"),
    6: ("CA3contCueRecall", "CA3contCond", "one", "CA3contCueRecallL-CA3contCondL"),
    7: ("CA3contCond", "CA3contContRecall", "one", "CA3contCondL-CA3contContRecallL"),
    8: ("CA3contCueRecall", "CA3contCondInt", "all", "CA3contCueRecallL-CA3contCondIntL"),
    9: ("CA3contCondInt", "CA3contCond", "all", "CA3contCondIntL-CA3contCondL"),
    10: ("CA3cueCueRecall", "CA3contCueRecall", "all", "CA3cueCueRecallL-CA3contCueRecallL"),
    11: ("CA3contContRecall", "CA3cueContRecall", "all", "CA3contContRecallL-CA3cueContRecallL"),
    12: ("CA3cueContRecall", "CA3cueContRecall", "all_no_self", "CA3cueContRecallL-CA3cueContRecallL"),
    13: ("CA3cueCueRecall", "CA3mergeCue", "one", "CA3cueCueRecallL-CA3mergeCueL"),
    14: ("CA3cueContRecall", "CA3mergeCue", "one", "CA3cueContRecallL-CA3mergeCueL"),
    15: ("CA3contCueRecall", "CA3mergeCont", "one", "CA3contCueRecallL-CA3mergeContL"),
    16: ("CA3contContRecall", "CA3mergeCont", "one", "CA3contContRecallL-CA3mergeContL"),
    17: ("CA3mergeCue", "OL", "ol_cue", "CA3mergeCueL-OL"),
    18: ("CA3mergeCont", "OL", "ol_cont", "CA3mergeContL-OL"),
}
# the two connections whose weight the table gives as 6·M (one cue silences the others)
SCALED_BY_M = {4, 12}


def published_trace():
    return {k: sorted((float(t), int(i)) for t, i in v) for k, v in FUNCTIONAL["published_spikes"].items()}


def expected_mask(kind, n_pre, n_post):
    if kind == "one":
        return np.eye(n_pre, n_post, dtype=bool)
    if kind == "all":
        return np.ones((n_pre, n_post), dtype=bool)
    if kind == "all_no_self":
        return ~np.eye(n_pre, n_post, dtype=bool)
    mask = np.zeros((n_pre, n_post), dtype=bool)
    if kind == "il_cue":
        mask[np.arange(N), np.arange(N)] = True
    elif kind == "il_cont":
        mask[N + np.arange(M), np.arange(M)] = True
    elif kind == "ol_cue":
        mask[np.arange(N), np.arange(N)] = True
    elif kind == "ol_cont":
        mask[np.arange(M), N + np.arange(M)] = True
    return mask


# ---------------------------------------------------------------------------------------------
# The network description
# ---------------------------------------------------------------------------------------------
def test_populations_match_published_parameters():
    net = ca3_cam.build_network(N, M, FUNCTIONAL["input_spikes"])
    sizes = {"IL": N + M, "CA3cueCueRecall": N, "CA3cueContRecall": N, "CA3contCueRecall": M,
             "CA3contContRecall": M, "CA3contCond": M, "CA3contCondInt": 1, "CA3mergeCue": N,
             "CA3mergeCont": M, "OL": N + M}
    assert {p.label: p.size for p in net.populations.values()} == sizes
    for label, pop in net.populations.items():
        if label == "IL":
            assert isinstance(pop.celltype, nm.SpikeSourceArray)
            continue
        assert isinstance(pop.celltype, nm.IF_curr_exp)
        got = pop.celltype.parameters()
        if label == "OL":   # output layer: set A with v_thresh -57.5 mV (published table)
            ref = dict(CONFIG["neuronParameters"]["CA3mergeCueL"], v_thresh=-57.5)
            assert pop.initial_values == {"v": -60.0}
        else:
            ref = CONFIG["neuronParameters"][label + "L"]
            assert pop.initial_values == {"v": float(CONFIG["initNeuronParameters"][label + "L"]["vInit"])}
        assert {k: got[k] for k in ref} == pytest.approx(ref, rel=0, abs=0)


def test_connections_match_published_table():
    net = ca3_cam.build_network(N, M, FUNCTIONAL["input_spikes"])
    projs = list(net.projections.values())
    assert len(projs) == 18
    for k, proj in zip(sorted(TABLE), projs):
        pre, post, kind, key = TABLE[k]
        syn = CONFIG["synParameters"][key]
        assert (proj.pre, proj.post) == (pre, post), k
        conn = net.connectivity(proj)
        n_pre, n_post = net.get(pre).size, net.get(post).size
        assert np.array_equal(conn.dense_mask(), expected_mask(kind, n_pre, n_post)), k
        assert conn.distinct_delays == [int(syn["delay"])], k
        if syn["receptor_type"] == "STDP":
            st = proj.plasticity
            assert isinstance(st, nm.STDP) and isinstance(st.timing, nm.SpikePairRule), k
            assert (st.timing.tau_plus, st.timing.tau_minus, st.timing.A_plus, st.timing.A_minus) == (
                syn["tau_plus"], syn["tau_minus"], syn["A_plus"], syn["A_minus"])
            assert isinstance(st.weight, nm.AdditiveWeightDependence) and st.weight.step == "absolute"
            assert (st.weight.w_min, st.weight.w_max) == (syn["w_min"], syn["w_max"])
            assert proj.receptor == "excitatory"
            assert np.all(conn.weights == syn["initWeight"])
        else:
            assert proj.plasticity is None
            assert proj.receptor == syn["receptor_type"], k
            w = syn["initWeight"] * (M if k in SCALED_BY_M else 1)
            assert np.all(conn.weights == w), k


def test_schedule_reproduces_published_input_spikes():
    rows = ca3_cam.input_spikes(N, M, FUNCTIONAL["operations"])
    published = FUNCTIONAL["input_spikes"]["cue"] + FUNCTIONAL["input_spikes"]["content"]
    assert rows == [[float(t) for t in r] for r in published]
    # the same with the start times left to the scheduler (one op every 10 ms in the paper;
    # the scheduler packs recalls into 7 ms slots, so only the learn-led prefix coincides)
    packed = ca3_cam.input_spikes(N, M, [dict(op, t=None) for op in FUNCTIONAL["operations"][:4]])
    assert packed == ca3_cam.input_spikes(N, M, FUNCTIONAL["operations"][:4])


# ---------------------------------------------------------------------------------------------
# The functional test, spike for spike
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("numerics", ["spinnaker", "spinnaker-float"])
def test_functional_trace_spike_for_spike(numerics):
    pytest.importorskip("neuromorph.backends.torch")
    trace = ca3_cam.run_trace(N, M, FUNCTIONAL["input_spikes"], FUNCTIONAL["sim_time_ms"], backend="torch",
                              numerics=numerics)
    published = published_trace()
    assert set(trace) == set(published) == set(ca3_cam.RECORDED)
    for label in ca3_cam.RECORDED:
        assert trace[label] == published[label], label
    assert sum(len(v) for v in trace.values()) == FUNCTIONAL["published_spike_count"] == 262


def decode_published(op, slot):
    """The answer of one operation read from the published output trace (same rule as Memory)."""
    lo, hi = op["t"] + 5, op["t"] + 5 + slot
    half = "OUTcue" if op["op"] == "recall_by_content" else "OUTcont"
    return sorted({i for t, i in FUNCTIONAL["published_spikes"][half] if lo <= t < hi})


def test_memory_answers_functional_test_as_published():
    pytest.importorskip("neuromorph.backends.torch")
    mem, rows = ca3_cam.run_operations(N, M, FUNCTIONAL["operations"])
    for op, row in zip(FUNCTIONAL["operations"], rows):
        assert row["answer"] == decode_published(op, 10), op
        if op["op"] != "learn":
            assert row["match"], row
    # relearning cue 3 echoes its old content once (5, 6) before forgetting it
    assert rows[6]["answer"] == [1, 3, 4, 5, 6, 8]


def test_memory_batches_operations_and_continues():
    pytest.importorskip("neuromorph.backends.torch")
    mem = ca3_cam.Memory(3, 4)
    a = mem.learn(0, [0, 2])
    b = mem.learn(1, [2, 3])
    r1 = mem.recall(cue=0)
    r2 = mem.recall(content=[2])
    assert [op.t for op in (a, b, r1, r2)] == [0, 10, 20, 27]
    assert len(mem.pending) == 4
    assert r1.value == [0, 2]              # one run answers every pending operation
    assert mem.pending == [] and r2.value == [0, 1]
    first_run_end = mem._sim.time
    r3 = mem.recall(content=[3])           # the next operation continues the same simulation
    assert r3.t >= first_run_end and r3 == [1]
    assert mem.recall(cue=2).value == []


# ---------------------------------------------------------------------------------------------
# Randomised schedules against an ideal content-addressable memory
# ---------------------------------------------------------------------------------------------
@st.composite
def schedules(draw, single_bit_fragments=False, max_ops=10):
    n = draw(st.integers(1, 16))
    m = draw(st.integers(1, 16))
    bits = st.lists(st.integers(0, m - 1), min_size=1, max_size=m, unique=True)
    frag = st.lists(st.integers(0, m - 1), min_size=1, max_size=1) if single_bit_fragments else bits
    op = st.one_of(
        st.tuples(st.just("learn"), st.integers(0, n - 1), bits),
        st.tuples(st.just("recall_by_cue"), st.integers(0, n - 1), st.just(None)),
        st.tuples(st.just("recall_by_content"), st.just(None), frag),
    )
    ops = draw(st.lists(op, min_size=1, max_size=max_ops))
    return n, m, ops


def run_schedule(n, m, ops, **memory_opts):
    mem = ca3_cam.Memory(n, m, **memory_opts)
    ideal = ca3_cam.IdealCAM()
    pairs = []
    for kind, cue, content in ops:
        if kind == "learn":
            old = sorted(ideal.store.get(cue, ()))
            ideal.learn(cue, content)
            pairs.append((kind, mem.learn(cue, content), sorted(set(content) | set(old))))
        elif kind == "recall_by_cue":
            pairs.append((kind, mem.recall(cue=cue), ideal.recall(cue=cue)))
        else:
            pairs.append((kind, mem.recall(content=content), ideal.recall(content=content)))
    mem.run()
    return [(kind, op.value, expected) for kind, op, expected in pairs]


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(schedules())
def test_random_schedules_recall_by_cue_is_ideal(schedule):
    """Random sizes up to 16×16, random non-orthogonal memories, relearning, recalls by cue and by
    fragments at the paper's spacing: every recall by cue gives the ideal CAM's content, and every
    learn echoes the new content plus the cue's old content (which it then forgets)."""
    pytest.importorskip("neuromorph.backends.torch")
    n, m, ops = schedule
    for kind, got, expected in run_schedule(n, m, ops):
        if kind in ("learn", "recall_by_cue"):
            assert got == expected, (kind, got, expected, ops)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(schedules(single_bit_fragments=True))
def test_random_schedules_are_ideal_when_spaced(schedule):
    """With operations 24 ms apart (the length of the STDP lookup table at tau = 3 ms, so the
    plasticity of one operation no longer reaches into the next) and one-bit fragments, every answer
    equals the ideal CAM's: recall by cue, recall by content, forgetting on relearning."""
    pytest.importorskip("neuromorph.backends.torch")
    n, m, ops = schedule
    for kind, got, expected in run_schedule(n, m, ops, learn_slot_ms=24, recall_slot_ms=24):
        assert got == expected, (kind, got, expected, ops)


# Where the model (with sPyNNaker's STDP, which reproduces the published trace spike for spike)
# is not an ideal CAM. Deferred potentiation: sPyNNaker applies the LTP of a post spike that
# follows a pre spike at that synapse's *next* pre spike. Recalling by a fragment makes every
# fragment bit fire at t+3 and the retrieved cues at t+4 (Δ = 2 ms with the 1 ms dendritic delay):
# every fragment bit gains A+·e^(-2/3) ≈ 3.08 nA towards every retrieved cue at its next spike,
# whether the cue stores it or not; two such bits (≈ 2 × 1.95 nA after the depression of the next
# recall 7 ms later) exceed CA3cueContRecall's threshold (≈ 3.36 nA from rest). Relearning leaves
# the same residue: the old bits fire once (t+4), the cue at t+5. Erosion: a cue's association
# with a shared bit is depressed whenever another memory with that bit is learned shortly after
# the cue fired (within the 24 ms STDP window).
COUNTEREXAMPLES = {
    "fragment_associates_bits": (1, 3, [("learn", 0, [0]), ("recall_by_content", None, [0, 1, 2]),
                                        ("recall_by_content", None, [1, 2])]),
    "relearn_leaves_residue": (1, 3, [("learn", 0, [0, 1]), ("learn", 0, [2]),
                                      ("recall_by_content", None, [0, 1])]),
    "shared_bit_erodes": (3, 2, [("learn", 2, [0, 1]), ("learn", 1, [0, 1]), ("recall_by_content", None, [1]),
                                 ("learn", 1, [0, 1]), ("recall_by_content", None, [0])]),
}


@pytest.mark.xfail(strict=True, reason="model property under sPyNNaker STDP (deferred LTP, pair-rule "
                   "erosion): recall by multi-bit fragments after recalls/relearning is not an ideal CAM; "
                   "see the comment above COUNTEREXAMPLES")
@pytest.mark.parametrize("case", sorted(COUNTEREXAMPLES))
def test_documented_departures_from_an_ideal_cam(case):
    pytest.importorskip("neuromorph.backends.torch")
    n, m, ops = COUNTEREXAMPLES[case]
    results = run_schedule(n, m, ops)
    assert all(got == expected for kind, got, expected in results if kind != "learn"), results


# ---------------------------------------------------------------------------------------------
# Bad input: one-line errors naming the construct, the value and the fix
# ---------------------------------------------------------------------------------------------
def one_line(exc_info):
    text = str(exc_info.value)
    assert "\n" not in text
    return text


def test_cue_out_of_range():
    mem = ca3_cam.Memory(5, 10)
    with pytest.raises(ValidationError) as e:
        mem.learn(5, [0])
    assert "cue=5" in one_line(e) and "0..4" in one_line(e)
    with pytest.raises(ValidationError):
        mem.recall(cue=-1)


def test_empty_or_bad_content():
    mem = ca3_cam.Memory(5, 10)
    with pytest.raises(ValidationError) as e:
        mem.learn(0, [])
    assert "content is empty" in one_line(e)
    with pytest.raises(ValidationError) as e:
        mem.recall(content=[])
    assert "empty" in one_line(e)
    with pytest.raises(ValidationError) as e:
        mem.learn(0, [10])
    assert "bit 10" in one_line(e) and "0..9" in one_line(e)
    with pytest.raises(ValidationError):
        mem.learn(0, [1, 1])
    with pytest.raises(ValidationError) as e:
        mem.recall()
    assert "exactly one" in one_line(e)


def test_operations_too_close():
    mem = ca3_cam.Memory(5, 10)
    mem.learn(0, [1], at=0)
    with pytest.raises(ValidationError) as e:
        mem.recall(cue=0, at=9)
    assert "too close" in one_line(e) and ">= 10" in one_line(e)
    mem.recall(cue=0, at=10)
    with pytest.raises(ValidationError) as e:
        mem.recall(cue=0, at=16)
    assert ">= 17" in one_line(e)
    with pytest.raises(ValidationError) as e:
        ca3_cam.input_spikes(5, 10, [{"t": 0, "op": "recall_by_cue", "cue": 0},
                                     {"t": 5, "op": "learn", "cue": 1, "content": [0]}])
    assert "too close" in one_line(e)
    with pytest.raises(ValidationError):
        ca3_cam.Memory(5, 10, recall_slot_ms=6)


def test_bad_sizes_and_inputs():
    with pytest.raises(ValidationError):
        ca3_cam.Memory(0, 10)
    with pytest.raises(ValidationError) as e:
        ca3_cam.build_network(5, 10, [[]] * 14)
    assert "15" in one_line(e)
    with pytest.raises(ValidationError):
        ca3_cam.input_spikes(5, 10, [{"op": "forget", "cue": 0}])


def test_cli_reports_bad_input_without_traceback(capsys, tmp_path):
    rc = ca3_cam.main(["--cues", "2", "--bits", "3", "--ops", "learn 5 0", "--out", str(tmp_path), "--no-plot"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "cue=5" in err and "Traceback" not in err


def test_cli_functional_test_writes_reports(capsys, tmp_path):
    pytest.importorskip("neuromorph.backends.torch")
    rc = ca3_cam.main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "5/5 recall answers equal the ideal CAM; 262 spikes" in out
    data = json.loads((tmp_path / "ca3_cam.json").read_text())
    assert sum(len(v) for v in data["spikes"].values()) == 262
    assert (tmp_path / "ca3_cam.csv").read_text().count("\n") == 10
    assert (tmp_path / "ca3_cam.png").stat().st_size > 10_000


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(schedules(max_ops=16))
def test_random_schedules_recall_by_cue_is_ideal_long(schedule):
    test_random_schedules_recall_by_cue_is_ideal.hypothesis.inner_test(schedule)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(schedules(single_bit_fragments=True, max_ops=16))
def test_random_schedules_are_ideal_when_spaced_long(schedule):
    test_random_schedules_are_ideal_when_spaced.hypothesis.inner_test(schedule)
