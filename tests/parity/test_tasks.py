"""The two paper tasks on every backend of the parity suite, each backend's result stated.

- CA3 CAM functional test (tests/data/ca3_cam/functional_test.json, 262 published spikes) and its
  nine answers;
- spatial-pattern detector: output_metrics_1.csv and the 14 rows of output_metrics_2.csv.

Backends: the suite's (``--backend``; tests/parity/harness.py) plus ``torch:spinnaker`` — the
board-weight profile the published data come from, which must reproduce them exactly (also
asserted in tests/test_ca3_cam.py and tests/test_spatial_pattern.py). Every other backend computes
another semantics; where its result differs from the publication the test is an xfail whose reason
states that backend's numbers and the cause (docs/tasks.md has the table):

- float STDP (torch:spinnaker-float, torch:exact, pynn:nest, pynn:brian2) learns 0.3757 / 0.3794 nA
  instead of the board's 47/128 on the two pathways, so bits on which two trained words disagree do
  not cancel: 4 of the 15 spatial-pattern rows (Hamming distance 6–9) lose positives and every h is
  ≈2 % lower;
- NEST's conventions (torch:exact, pynn:nest): a spike is stamped at the end of its step, so every
  neuron stage adds 1 ms, the CAM's two pathways to CA3cueContRecall lose their coincidence, and
  depression at Δt = 0 (the CAM's forgetting) does not exist in stdp_synapse: 344 spikes instead of
  262, recall by content never answers, relearning does not forget.

NEST cannot take a SpikeSourceArray spike before 2 ms through PyNN, and the published protocols
start at 0 ms (CAM) and 1 ms (spatial pattern): every backend here runs them shifted by 2 ms and
1 ms (the networks are time-invariant; the comparison shifts the published times alike).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from neuromorph.errors import BackendUnavailableError, UnsupportedError
from neuromorph.models import ca3_cam
from neuromorph.models import spatial_pattern as sp

from .harness import Backend, selected_backends, skip_unsupported

DATA = Path(__file__).parent.parent / "data"
FUNCTIONAL = json.loads((DATA / "ca3_cam" / "functional_test.json").read_text())
CAM_SHIFT = 2.0
SP_SHIFT = 1.0

TORCH_BOARD = Backend("torch:spinnaker", "torch", "spinnaker", {"numerics": "spinnaker"})
FLOAT_STDP = ("float STDP weights (0.3757 nA on '1' lines, 0.3794 nA on '0' lines instead of the board's "
              "47/128 = 0.3671875 on both): ties on disagreeing bits do not cancel")
NEST_CAM = ("NEST conventions: spikes stamped at the end of the step (+1 ms per neuron stage, the two "
            "pathways into CA3cueContRecall lose their coincidence) and no depression at Δt = 0, which "
            "the forgetting needs")


def _task_backends(config):
    chosen = selected_backends(config)
    return ([TORCH_BOARD] if any(b.backend == "torch" for b in chosen) else []) + chosen


def pytest_generate_tests(metafunc):
    if "task_backend" not in metafunc.fixturenames:
        return
    params = []
    for b in _task_backends(metafunc.config):
        slow = [pytest.mark.slow] if b.slow else []
        if "sp_row" in metafunc.fixturenames:
            for words, row in ROWS:
                name = "+".join(map(str, words))
                # PyNN backends build a simulator per run (~6 s a row on NEST): a few rows by default
                long = b.backend.startswith("pynn") and name not in PYNN_DEFAULT_ROWS
                marks = slow + ([pytest.mark.slow] if long and not slow else [])
                params.append(pytest.param(b, (words, row), id=f"{b.name}-{name}", marks=marks))
        else:
            params.append(pytest.param(b, id=b.name, marks=slow))
    if "sp_row" in metafunc.fixturenames:
        metafunc.parametrize("task_backend,sp_row", params)
    else:
        metafunc.parametrize("task_backend", params)


def _numerics(b: Backend):
    return b.options.get("numerics")


def _extra(b: Backend):
    return {k: v for k, v in b.options.items() if k != "numerics"}


def _guard(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except BackendUnavailableError as exc:
        pytest.skip(str(exc))
    except UnsupportedError as exc:
        pytest.skip(f"refused at build: {exc}")


# ---------------------------------------------------------------------------------------------
# CA3 CAM
# ---------------------------------------------------------------------------------------------
def _shifted_inputs():
    return {k: [[t + CAM_SHIFT for t in row] for row in v] for k, v in FUNCTIONAL["input_spikes"].items()}


def _published_shifted():
    return {k: sorted((float(t) + CAM_SHIFT, int(i)) for t, i in v) for k, v in FUNCTIONAL["published_spikes"].items()}


def _cam_trace(b: Backend):
    inputs = _shifted_inputs()
    skip_unsupported(ca3_cam.build_network(5, 10, inputs), b)
    return _guard(ca3_cam.run_trace, 5, 10, inputs, FUNCTIONAL["sim_time_ms"] + CAM_SHIFT, backend=b.backend,
                  numerics=_numerics(b), **_extra(b))


def _cam_answers(b: Backend):
    ops = [dict(op, t=op["t"] + CAM_SHIFT) for op in FUNCTIONAL["operations"]]
    _, rows = _guard(ca3_cam.run_operations, 5, 10, ops, backend=b.backend, numerics=_numerics(b), **_extra(b))
    return rows


def test_cam_functional_test(task_backend):
    b = task_backend
    trace = _cam_trace(b)
    published = _published_shifted()
    equal = [k for k in ca3_cam.RECORDED if trace[k] == published[k]]
    n_spikes = sum(len(v) for v in trace.values())
    rows = _cam_answers(b)
    recalls = [r for r in rows if r["op"] != "learn"]
    right = sum(r["match"] for r in recalls)
    summary = (f"{b.name}: {n_spikes} spikes (published 262), {len(equal)}/10 populations spike-for-spike, "
               f"{right}/{len(recalls)} recall answers right: "
               + "; ".join(f"{r['op']}@{r['t']:g}->{r['answer']}" for r in recalls if not r["match"]))
    if b.semantics == "spinnaker":
        assert len(equal) == 10 and n_spikes == 262, summary
        assert right == len(recalls), summary
        return
    if b.semantics == "exact" and b.name != "torch:exact":
        # same profile as torch numerics="exact": the traces must be identical
        assert trace == _cam_trace(Backend("torch:exact", "torch", "exact", {"numerics": "exact"})), b.name
    pytest.xfail(f"declared deviation ({NEST_CAM if b.semantics == 'exact' else b.semantics}): {summary}")


# ---------------------------------------------------------------------------------------------
# Spatial-pattern detector
# ---------------------------------------------------------------------------------------------
def _rows():
    out = []
    for name in ("output_metrics_1.csv", "output_metrics_2.csv"):
        with open(DATA / "spatial_pattern" / name, newline="") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            header = [h.strip() for h in next(reader)]
            for raw in reader:
                row = dict(zip(header, raw))
                words = [int(row["Code Word 0"])] + ([int(row["Code Word 1"])] if "Code Word 1" in row else [])
                out.append((words, row))
    return out


ROWS = _rows()
COUNTS = {"Positives": "positives", "Negatives": "negatives", "True Positives": "TP", "True Negatives": "TN",
          "False Positives": "FP", "False Negatives": "FN"}
RATES = {"Accuracy": "accuracy", "Precision": "precision", "Negative Prediction": "npv",
         "Sensitivity": "sensitivity", "Specificity": "specificity"}
# rows run by default on PyNN backends (all 15 with -m slow): one word, Hamming distance 1 and 5
# (float weights keep the published counts) and 8 (they do not)
PYNN_DEFAULT_ROWS = {"992", "992+1008", "992+0", "992+28"}


def test_spatial_pattern_tables(task_backend, sp_row):
    b = task_backend
    words, row = sp_row
    skip_unsupported(sp.build_training_network(words[0], 10, SP_SHIFT), b)
    skip_unsupported(sp.build_fanout_test_network(np.ones(10), np.ones(10), [1.0], words, 10), b)
    result = _guard(sp.evaluate, words, 10, backend=b.backend, numerics=_numerics(b), t_offset=SP_SHIFT, **_extra(b))
    h_pub = float(row["Homeostasis factor"])
    wrong = [f"{col} {result[key]} (published {int(float(row[col]))})" for col, key in COUNTS.items()
             if result[key] != int(float(row[col]))]
    wrong += [f"{col} {result[key]:.6g} (published {float(row[col]):.6g})" for col, key in RATES.items()
              if result[key] != pytest.approx(float(row[col]), rel=1e-12, abs=0)]
    h_rel = (result["h"] - h_pub) / h_pub
    if abs(h_rel) > 1e-3:
        wrong.append(f"h {result['h']:.5f} (published {h_pub:.5f}, {100 * h_rel:+.2f} %)")
    # every backend: the trained words are always detected
    assert result["TP"] == len(set(words)) and result["FN"] == 0, result
    if b.semantics == "exact" and b.name != "torch:exact":
        # same profile as torch numerics="exact": the same factor and the same detected words
        ref = sp.evaluate(words, 10, backend="torch", numerics="exact", t_offset=SP_SHIFT)
        assert (result["h"], result["detected"]) == (ref["h"], ref["detected"]), b.name
    if b.name == TORCH_BOARD.name:   # the board's fixed point: h bit for bit as the CSV prints it
        assert not wrong and result["h"] == h_pub, (wrong, result["h"], h_pub)
        return
    if not wrong:
        return
    pytest.xfail(f"declared deviation ({FLOAT_STDP}): {b.name}: " + ", ".join(wrong))
