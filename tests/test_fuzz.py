"""Fuzzing of model files and the public API (issue 10): one-field edits of examples/*.json and of
``to_json()`` output either validate, build and run with finite traces, or are refused with a
one-line NeuromorphError — never another exception, a hang or a CLI traceback (exit 1).

The mutations and the outcome classes are in tests/fuzz_corpus.py (``python tests/fuzz_corpus.py
N SEED`` prints the statistics of a seeded corpus).
"""
from __future__ import annotations

import copy
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuromorph as nm
from neuromorph import model_schema
from neuromorph.serialization import VERSION

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz_corpus as fc  # noqa: E402

BASES = fc.bases()
TWO = json.loads((fc.ROOT / "examples" / "two_neurons.json").read_text())


def _check_one(text: str, tmp: Path):
    t0 = time.perf_counter()
    got = fc.outcome(text)
    assert got in ("ok", "refused"), f"{got} for {text[:400]}"
    code = fc.cli_exit(text, tmp)
    assert code in (0, 2), f"neuromorph validate exited {code} for {text[:400]}"
    assert time.perf_counter() - t0 < 20.0


def _mutant(seed: int, base: int, twice: bool) -> str:
    rng = random.Random(seed)
    doc = fc.mutate(BASES[base % len(BASES)], rng)
    if twice:
        doc = fc.mutate(doc, rng)
    return fc.dumps(doc)


_SETTINGS = dict(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@settings(max_examples=300, **_SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), base=st.integers(0, 10), twice=st.booleans())
def test_fuzz_model_files(seed, base, twice):
    with tempfile.TemporaryDirectory() as d:
        _check_one(_mutant(seed, base, twice), Path(d))


@pytest.mark.slow
@settings(max_examples=4000, **_SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), base=st.integers(0, 10), twice=st.booleans())
def test_fuzz_model_files_long(seed, base, twice):
    with tempfile.TemporaryDirectory() as d:
        _check_one(_mutant(seed, base, twice), Path(d))


def test_seeded_corpus_has_no_failures(tmp_path):
    """The corpus of the before/after statistics (docs/schema.md): every mutant ok or refused."""
    for text in fc.corpus(0, 150):
        _check_one(text, tmp_path)


@settings(max_examples=60, **_SETTINGS)
@given(value=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                       st.text(max_size=5), st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
       which=st.sampled_from(["dt", "seed", "size", "label", "celltype", "weight", "delay", "every", "variables",
                              "initial_values", "pre", "connector", "plasticity", "receptor"]))
def test_fuzz_from_dict_values(value, which):
    """Python values (not only JSON ones) through from_dict: a clean error or a valid network."""
    d = copy.deepcopy(TWO)
    where = {"dt": d, "seed": d, "size": d["populations"][1], "label": d["populations"][1],
             "celltype": d["populations"][1], "initial_values": d["populations"][1], "weight": d["projections"][0],
             "delay": d["projections"][0], "pre": d["projections"][0], "connector": d["projections"][0],
             "plasticity": d["projections"][0], "receptor": d["projections"][0], "every": d["recordings"][0],
             "variables": d["recordings"][0]}[which]
    where[which] = value
    try:
        nm.Network.from_dict(d)
    except nm.NeuromorphError as exc:
        assert "\n" not in str(exc) and str(exc)


# -- the schema file ------------------------------------------------------------------------------

def test_shipped_schema_is_current():
    shipped = json.loads(model_schema.schema_path(VERSION).read_text(encoding="utf-8"))
    assert shipped == json.loads(json.dumps(model_schema.generate(VERSION))), \
        "neuromorph/schema/network-v1.json is stale; regenerate it with python -m neuromorph.model_schema"


@pytest.mark.parametrize("path", fc.EXAMPLES, ids=lambda p: p.name)
def test_examples_match_schema(path):
    model_schema.check(json.loads(path.read_text()), VERSION)


# -- regressions: the examples of issue 10 ---------------------------------------------------------

def _edit(fn):
    d = copy.deepcopy(TWO)
    fn(d)
    return json.dumps(d)


def _set(path, value):
    def fn(d):
        node = d
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return fn


def _refused(fn, *fragments):
    with pytest.raises(nm.NeuromorphError) as info:
        fn()
    msg = str(info.value)
    assert msg and "\n" not in msg, msg
    for f in fragments:
        assert f.lower() in msg.lower(), f"{msg!r} does not name {f!r}"
    return msg


FILE_CASES = [
    ("size null", _set(("populations", 1, "size"), None), ["size", "null"]),
    ("size abc", _set(("populations", 1, "size"), "abc"), ["size", "abc"]),
    ("size 1e9", _set(("populations", 1, "size"), 1e9), ["size", "1e+08"]),
    ("size 10**9", _set(("populations", 1, "size"), 10 ** 9), ["size"]),
    ("post list", _set(("projections", 0, "post"), ["nope"]), ["post", "nope"]),
    ("type list", _set(("populations", 1, "celltype", "type"), []), ["type", "IF_curr_exp"]),
    ("initial_values list", _set(("populations", 1, "initial_values"), [1.0]), ["initial_values"]),
    ("every null", _set(("recordings", 0, "every"), None), ["every"]),
    ("recordings 5", _set(("recordings",), 5), ["recordings"]),
    ("FromList strings", _set(("projections", 0, "connector"), {"type": "FromList", "conn_list": [["a", 0]]}),
     ["conn_list", "a"]),
    ("seed -1", _set(("seed",), -1), ["seed", "-1"]),
    ("seed x", _set(("seed",), "x"), ["seed", "x"]),
    ("seed 1e300", _set(("seed",), 1e300), ["seed"]),
    ("seed 2**63", _set(("seed",), 2 ** 63), ["seed"]),
    ("delay 1e300", _set(("projections", 0, "delay"), 1e300), ["delay", "1e+09"]),
    ("dt 1e-300", _set(("dt",), 1e-300), ["dt", "0.001"]),
    ("spike time 1e300", lambda d: d["populations"][0]["celltype"]["spike_times"][0].append(1e300), ["spike", "1e+09"]),
    ("tau_refrac 1e308", _set(("populations", 1, "celltype", "tau_refrac"), 1e308), ["tau_refrac"]),
    ("weight 1e308", _set(("projections", 0, "weight"), 1e308), ["weight"]),
    ("i_offset 1e308", _set(("populations", 1, "celltype", "i_offset"), 1e308), ["i_offset"]),
    ("allow_self_connections string", _set(("projections", 0, "connector", "allow_self_connections"), "false"),
     ["allow_self_connections", "boolean"]),
    ("weight true", _set(("projections", 0, "weight"), True), ["weight", "true"]),
    ("weight string", _set(("projections", 0, "weight"), "2.5"), ["weight", "2.5"]),
    ("weight NaN", _set(("projections", 0, "weight"), float("nan")), ["weight", "nan"]),
    ("unknown field", _set(("populations", 1, "celltype", "tau_mm"), 1.0), ["tau_mm", "IF_curr_exp"]),
]


@pytest.mark.parametrize("name,edit,fragments", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_issue_file_examples(name, edit, fragments, tmp_path):
    text = _edit(edit)
    _refused(lambda: nm.Network.from_json(text), *fragments)
    assert fc.cli_exit(text, tmp_path) == 2


def test_deep_nesting():
    _refused(lambda: nm.Network.from_json("[" * 100000), "nested")
    _refused(lambda: nm.Network.from_json('{"a": ' * 5000 + "1" + "}" * 5000), "nested")
    deep = 1.0
    for _ in range(5000):
        deep = [deep]
    d = copy.deepcopy(TWO)
    d["populations"][1]["initial_values"]["v"] = deep
    _refused(lambda: nm.Network.from_dict(d), "nested")


def test_stdp_on_projection_without_synapses_builds_and_runs():
    text = _edit(_set(("projections", 0, "connector"), {"type": "FromList", "conn_list": []}))
    net = nm.Network.from_json(text)
    for numerics in ("spinnaker", "exact"):
        sim = nm.build(net, numerics=numerics)
        sim.run(10.0)
        assert np.isfinite(sim.trace("neurons", "v")).all()


def test_largest_currents_stay_finite():
    """The bounds keep a run finite: the extreme legal i_offset and weights."""
    net = nm.Network(dt=0.001, seed=0)
    src = net.spike_source("in", [[0.001 * k for k in range(1, 50)]])
    out = net.population("out", 2, nm.IF_curr_exp(i_offset=1e6, cm=1e-6, tau_m=1e9, tau_syn_E=1e9, tau_refrac=0.0))
    net.connect(src, out, nm.AllToAll(), weight=1e6)
    net.record(out, "v", "isyn_exc")
    with pytest.raises(nm.ValidationError, match="s16.15 range"):  # the board cannot hold i_offset = 1e6 nA
        nm.build(net, numerics="spinnaker")
    sim = nm.build(net, numerics="spinnaker-float")
    sim.run(0.1)
    assert np.isfinite(sim.trace(out, "v")).all() and np.isfinite(sim.trace(out, "isyn_exc")).all()


# -- regressions: the API entries ------------------------------------------------------------------

def _net():
    return nm.Network.from_json(json.dumps(TWO))


API_CASES = [
    ("Network seed str", lambda: nm.Network(seed="a"), ["seed"]),
    ("Network seed negative", lambda: nm.Network(seed=-1), ["seed"]),
    ("Network seed float", lambda: nm.Network(seed=0.5), ["seed"]),
    ("Network dt bool", lambda: nm.Network(dt=True), ["dt"]),
    ("Network dt tiny", lambda: nm.Network(dt=1e-300), ["dt"]),
    ("population size None", lambda: _net().population("x", None, nm.IF_curr_exp()), ["size"]),
    ("population size huge", lambda: _net().population("x", 10 ** 12, nm.IF_curr_exp()), ["size"]),
    ("population label", lambda: _net().population(["x"], 1, nm.IF_curr_exp()), ["label"]),
    ("population initial list", lambda: _net().population("x", 1, nm.IF_curr_exp(), [1.0]), ["initial_values"]),
    ("connect post list", lambda: _net().connect("input", ["nope"], nm.AllToAll()), ["nope"]),
    ("connect weight bool", lambda: _net().connect("input", "neurons", nm.AllToAll(), weight=True), ["weight"]),
    ("connect weight str", lambda: _net().connect("input", "neurons", nm.AllToAll(), weight="2.5"), ["weight"]),
    ("connect delay huge", lambda: _net().connect("input", "neurons", nm.AllToAll(), delay=1e300), ["delay"]),
    ("connect label", lambda: _net().connect("input", "neurons", nm.AllToAll(), label=5), ["label"]),
    ("record target", lambda: _net().record(5, "v"), ["target"]),
    ("record every", lambda: _net().record("neurons", "v", every=None), ["every"]),
    ("add non-construct", lambda: _net().add(5), ["construct"]),
    ("AllToAll string bool", lambda: nm.AllToAll(allow_self_connections="false"), ["allow_self_connections"]),
    ("FixedProbability seed", lambda: nm.FixedProbability(0.1, seed=2 ** 64), ["seed"]),
    ("FromList strings", lambda: nm.FromList([("a", 0)]), ["index"]),
    ("from_json not text", lambda: nm.Network.from_json(None), ["text"]),
    ("from_dict not dict", lambda: nm.Network.from_dict([1]), ["object"]),
    ("build unknown option", lambda: nm.build(_net(), foo=1), ["foo"]),
    ("build meta device", lambda: nm.build(_net(), device="meta"), ["meta"]),
    ("build bad device", lambda: nm.build(_net(), device=5), ["device"]),
    ("build bad batch", lambda: nm.build(_net(), batch="2"), ["batch"]),
    ("build bad numerics", lambda: nm.build(_net(), numerics=[1]), ["numerics"]),
    ("build trainable", lambda: nm.build(_net(), trainable=5), ["trainable"]),
    ("build not a network", lambda: nm.build("x"), ["Network"]),
]


@pytest.mark.parametrize("name,fn,fragments", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_entries_raise_validation_error(name, fn, fragments):
    _refused(fn, *fragments)


@pytest.mark.parametrize("bad", ["x", None, -1.0, 1e300, float("nan"), True, [1.0]], ids=repr)
def test_run_bad_duration(bad):
    sim = nm.build(_net())
    _refused(lambda: sim.run(bad), "duration")


@pytest.mark.parametrize("bad", ["x", None, True, float("nan"), [[1.0, 2.0]], np.full((2, 2), 1e300), np.full((2, 2), -1.0)],
                         ids=lambda b: repr(b)[:20])
def test_set_weights_bad(bad):
    sim = nm.build(_net())
    _refused(lambda: sim.set_weights("input->neurons", bad), "set_weights")
    _refused(lambda: sim.set_weights(["nope"], np.ones((2, 2))), "nope")


def test_load_unknown_option(tmp_path):
    sim = nm.build(_net())
    sim.run(5.0)
    sim.save(tmp_path / "run.ckpt")
    _refused(lambda: nm.load(tmp_path / "run.ckpt", foo=1), "foo")
    _refused(lambda: nm.load(tmp_path / "run.ckpt", device="meta"), "meta")
