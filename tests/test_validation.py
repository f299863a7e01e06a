"""Bad input gets a clear one-line error naming the construct and the value (issue 2, "Done when").

Each case asserts the error class (nm.ValidationError, or nm.UnsupportedError where the input is
valid but cannot run), that the message is a single line, and that it names the construct /
parameter and the offending value. Description-level cases need no backend; simulation-level ones
skip until the torch backend exists.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neuromorph as nm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference as ref  # noqa: E402

NAN, INF = float("nan"), float("inf")


def _error(fn, *fragments, exc=nm.ValidationError):
    """Call fn, expect exc; the message must be one line and contain every fragment (each
    fragment may be a tuple of alternatives), case-insensitively."""
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    assert msg.strip(), "empty error message"
    assert "\n" not in msg.strip(), f"message is not one line: {msg!r}"
    low = msg.lower()
    for frag in fragments:
        alts = frag if isinstance(frag, tuple) else (frag,)
        assert any(str(a).lower() in low for a in alts), f"message {msg!r} does not name {alts}"
    return msg


def _value_forms(v):
    """Ways a message may spell a number: 0, 0.0, -5, -5.0, 1.5 ..."""
    forms = {repr(v), str(v)}
    try:
        forms.add(repr(float(v)))
        if float(v) == int(v):
            forms.add(str(int(v)))
    except (TypeError, ValueError, OverflowError):
        pass
    return tuple(forms)


def _small_net(dt=1.0):
    net = nm.Network(dt=dt, seed=0)
    net.spike_source("src", [[1.0], [2.0], [3.0]])
    net.population("a", 4, nm.IF_curr_exp())
    return net


# ---------------------------------------------------------------------------------------------
# time constants, thresholds
# ---------------------------------------------------------------------------------------------

TIME_CONSTANTS = [
    (nm.IF_curr_exp, "tau_m", 0.0), (nm.IF_curr_exp, "tau_m", -5.0), (nm.IF_curr_exp, "tau_syn_E", 0.0),
    (nm.IF_curr_exp, "tau_syn_I", -1.5), (nm.IF_curr_exp, "cm", 0.0), (nm.IF_curr_exp, "tau_refrac", -1.0),
    (nm.IF_curr_delta, "tau_m", -2.0), (nm.IF_curr_delta, "tau_m", 0.0), (nm.IF_curr_delta, "tau_refrac", -0.5),
    (nm.SpikePairRule, "tau_plus", 0.0), (nm.SpikePairRule, "tau_minus", -3.0),
    (nm.SpikeNearestPairRule, "tau_plus", -1.0), (nm.SpikeNearestPairRule, "tau_minus", 0.0),
]


@pytest.mark.parametrize("cls,name,value", TIME_CONSTANTS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_bad_time_constant(cls, name, value):
    _error(lambda: cls(**{name: value}), cls.__name__, name, _value_forms(value))


@pytest.mark.parametrize("dt", [0.0, -0.1])
def test_bad_dt(dt):
    _error(lambda: nm.Network(dt=dt), "dt", _value_forms(dt))


@pytest.mark.parametrize("cls", [nm.IF_curr_exp, nm.IF_curr_delta])
@pytest.mark.parametrize("v_thresh,v_reset", [(-65.0, -65.0), (-70.0, -65.0), (-66.5, -60.25)])
def test_threshold_not_above_reset(cls, v_thresh, v_reset):
    _error(lambda: cls(v_thresh=v_thresh, v_reset=v_reset), cls.__name__, "v_thresh", _value_forms(v_thresh))


# ---------------------------------------------------------------------------------------------
# delays
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dt,delay", [(1.0, 0.5), (1.0, 0.0), (1.0, -1.0), (1.0, 1.5), (0.1, 0.25), (0.1, 0.05)])
def test_bad_scalar_delay(dt, delay):
    net = _small_net(dt)
    _error(lambda: net.connect("src", "a", nm.AllToAll(), weight=1.0, delay=delay), "delay", _value_forms(delay))


def test_bad_delay_in_array():
    net = _small_net()
    d = np.full((3, 4), 2.0)
    d[1, 2] = 2.5
    _error(lambda: net.connect("src", "a", nm.AllToAll(), weight=1.0, delay=d), "delay", "2.5")


@pytest.mark.parametrize("delay", [0.3, 0.0])
def test_bad_fromlist_delay(delay):
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.FromList([(0, 0, 1.0, 1.0), (1, 1, 1.0, delay)])), "delay",
           _value_forms(delay))


# ---------------------------------------------------------------------------------------------
# connectors and weight shapes
# ---------------------------------------------------------------------------------------------


def test_fromlist_post_index_out_of_range():
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.FromList([(0, 0), (1, 5)]), weight=1.0), "FromList", "5")


def test_fromlist_pre_index_out_of_range():
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.FromList([(7, 0)]), weight=1.0), "FromList", "7")


def test_fromlist_negative_index():
    _error(lambda: nm.FromList([(-1, 0)]), "FromList", "-1")


def test_one_to_one_size_mismatch():
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.OneToOne(), weight=1.0), "OneToOne", "3", "4")


@pytest.mark.parametrize("shape", [(2, 2), (4, 3), (5,), (3, 4, 1)])
def test_weight_array_wrong_shape(shape):
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.AllToAll(), weight=np.ones(shape)), "weight", str(shape))


def test_delay_array_wrong_shape():
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.AllToAll(), weight=1.0, delay=np.ones((4, 3))), "delay", "(4, 3)")


def test_negative_weight():
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.AllToAll(), weight=-0.5), "weight", "-0.5")


# ---------------------------------------------------------------------------------------------
# NaN / inf anywhere
# ---------------------------------------------------------------------------------------------

NONFINITE_PARAMS = [
    (lambda v: nm.IF_curr_exp(v_rest=v), "v_rest"), (lambda v: nm.IF_curr_exp(i_offset=v), "i_offset"),
    (lambda v: nm.IF_curr_exp(tau_m=v), "tau_m"), (lambda v: nm.IF_curr_exp(tau_syn_E=v), "tau_syn_E"),
    (lambda v: nm.IF_curr_exp(cm=v), "cm"), (lambda v: nm.IF_curr_exp(tau_refrac=v), "tau_refrac"),
    (lambda v: nm.IF_curr_delta(v_thresh=v), "v_thresh"), (lambda v: nm.IF_curr_delta(v_reset=v), "v_reset"),
    (lambda v: nm.SpikeSourcePoisson(rate=v), "rate"),
    (lambda v: nm.SpikePairRule(A_plus=v), "A_plus"), (lambda v: nm.SpikeNearestPairRule(A_minus=v), "A_minus"),
    (lambda v: nm.SpikePairRule(tau_plus=v), "tau_plus"),
    (lambda v: nm.Additive(w_max=v), "w_max"), (lambda v: nm.Multiplicative(w_min=v), "w_min"),
    (lambda v: nm.FixedProbability(p=v), "p"), (lambda v: nm.Network(dt=v), "dt"),
]


@pytest.mark.parametrize("value", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("make,name", NONFINITE_PARAMS, ids=[n for _, n in NONFINITE_PARAMS])
def test_nonfinite_parameter(make, name, value):
    _error(lambda: make(value), name, ("nan", "inf"))


@pytest.mark.parametrize("value", [NAN, INF], ids=["nan", "inf"])
def test_nonfinite_scalar_weight(value):
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.AllToAll(), weight=value), "weight", ("nan", "inf"))


@pytest.mark.parametrize("value", [NAN, INF], ids=["nan", "inf"])
def test_nonfinite_weight_array(value):
    net = _small_net()
    w = np.ones((3, 4))
    w[2, 1] = value
    _error(lambda: net.connect("src", "a", nm.AllToAll(), weight=w), "weight", ("nan", "inf"))


@pytest.mark.parametrize("value", [NAN, INF], ids=["nan", "inf"])
def test_nonfinite_delay(value):
    net = _small_net()
    _error(lambda: net.connect("src", "a", nm.AllToAll(), weight=1.0, delay=value), "delay", ("nan", "inf"))


@pytest.mark.parametrize("row", [(0, 1, NAN), (0, 1, 1.0, INF), (0, 1, INF, 1.0)], ids=["w-nan", "d-inf", "w-inf"])
def test_nonfinite_fromlist(row):
    _error(lambda: nm.FromList([row]), "FromList", ("nan", "inf"))


@pytest.mark.parametrize("times", [[[1.0, NAN]], [[INF]], [[2.0], [-INF]]], ids=["nan", "inf", "-inf"])
def test_nonfinite_spike_times(times):
    net = nm.Network(dt=1.0)
    _error(lambda: net.spike_source("s", times), "spike", ("nan", "inf"))


def test_spike_time_off_grid_and_negative():
    net = nm.Network(dt=1.0)
    _error(lambda: net.spike_source("s", [[1.0, 2.5]]), "spike", "2.5")
    _error(lambda: net.spike_source("s2", [[-3.0]]), "spike", "-3")


@pytest.mark.parametrize("value", [NAN, INF, [-65.0, -64.0, NAN], [-65.0, INF, -60.0]],
                         ids=["scalar-nan", "scalar-inf", "array-nan", "array-inf"])
def test_nonfinite_initial_values(value):
    net = nm.Network(dt=1.0)
    _error(lambda: net.population("p", 3, nm.IF_curr_exp(), initial_values={"v": value}), "v", ("nan", "inf"))


def test_initial_values_wrong_shape_and_unknown_variable():
    net = nm.Network(dt=1.0)
    _error(lambda: net.population("p", 3, nm.IF_curr_exp(), initial_values={"v": [-65.0, -64.0]}), "initial", "(2,)")
    _error(lambda: net.population("q", 3, nm.IF_curr_delta(), initial_values={"isyn_exc": 1.0}), "isyn_exc")


# ---------------------------------------------------------------------------------------------
# JSON: unknown fields, types, versions
# ---------------------------------------------------------------------------------------------


def _json_net():
    net = nm.Network(dt=1.0, seed=3)
    net.spike_source("src", [[1.0, 4.0]])
    net.population("p", 2, nm.IF_curr_exp(tau_m=12.0))
    net.connect("src", "p", nm.AllToAll(), weight=1.0, delay=1.0,
                plasticity=nm.STDP(timing=nm.SpikePairRule(), weight=nm.Additive(w_min=0.0, w_max=2.0)))
    net.record("p", "spikes", "v")
    return json.loads(net.to_json())


def _mutated(path, value):
    d = _json_net()
    node = d
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(d)


@pytest.mark.parametrize("path,fragments", [
    (("bogus_top",), ("bogus_top",)),
    (("populations", 1, "colour"), ("colour",)),
    (("populations", 1, "celltype", "tau_mm"), ("tau_mm", "IF_curr_exp")),
    (("projections", 0, "connector", "allow_self"), ("allow_self", "AllToAll")),
    (("projections", 0, "plasticity", "timing", "tau_pluss"), ("tau_pluss", "SpikePairRule")),
    (("projections", 0, "extra"), ("extra",)),
    (("recordings", 0, "sampling"), ("sampling",)),
], ids=["top", "population", "celltype", "connector", "timing", "projection", "recording"])
def test_json_unknown_field(path, fragments):
    text = _mutated(path, 1)
    _error(lambda: nm.Network.from_json(text), *fragments)


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_json_unknown_version(version):
    text = _mutated(("version",), version)
    _error(lambda: nm.Network.from_json(text), "version", _value_forms(version))


def test_json_missing_version_and_bad_format():
    d = _json_net()
    del d["version"]
    _error(lambda: nm.Network.from_json(json.dumps(d)), "version")
    text = _mutated(("format",), "pynn.network")
    _error(lambda: nm.Network.from_json(text), "format", "pynn.network")


def test_json_unknown_type_and_bad_values():
    text = _mutated(("populations", 1, "celltype", "type"), "HH_cond_exp")
    _error(lambda: nm.Network.from_json(text), "HH_cond_exp")
    text = _mutated(("populations", 1, "celltype", "tau_m"), -4.0)
    _error(lambda: nm.Network.from_json(text), "tau_m", "-4")
    text = _mutated(("projections", 0, "post"), "nowhere")
    _error(lambda: nm.Network.from_json(text), "nowhere")
    _error(lambda: nm.Network.from_json("{not json"), "json")


def test_json_nan_in_file():
    # JSON itself has no NaN, but Python's json accepts the NaN token; it must still be refused
    text = _json_net()
    text["projections"][0]["weight"] = 1.0
    s = json.dumps(text).replace('"weight": 1.0', '"weight": NaN')
    assert "NaN" in s
    _error(lambda: nm.Network.from_json(s), "weight", "nan")


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------


def test_unknown_population_label_in_description():
    net = _small_net()
    _error(lambda: net.connect("nope", "a", nm.AllToAll()), "nope")
    _error(lambda: net.connect("src", "nada", nm.AllToAll()), "nada")
    _error(lambda: net.record("ghost", "spikes"), "ghost")
    _error(lambda: net.record("a", "gsyn_exc"), "gsyn_exc")
    _error(lambda: net.population("a", 2, nm.IF_curr_exp()), "a")  # duplicate label


def _built():
    ref.require_torch_backend()
    net = _small_net()
    proj = net.connect("src", "a", nm.AllToAll(), weight=1.0)
    net.record("a", "spikes", "v")
    return net, proj


def test_unknown_label_in_simulation():
    net, proj = _built()
    sim = nm.build(net, backend="torch", numerics="spinnaker-float", device="cpu")
    sim.run(5.0)
    _error(lambda: sim.spikes("ghost"), "ghost")
    _error(lambda: sim.trace("ghost", "v"), "ghost")
    _error(lambda: sim.weights("no-such-projection"), "no-such-projection")
    _error(lambda: sim.trace("a", "isyn_exc"), "isyn_exc")  # valid variable, but not recorded


def test_bad_build_options():
    net, proj = _built()
    _error(lambda: nm.build(net, backend="torch", numerics="fast"), "numerics", "fast")
    _error(lambda: nm.build(net, backend="torch", numerics="exact", batch=0), "batch", "0")
    _error(lambda: nm.build(net, backend="nosuch"), "nosuch", exc=nm.BackendUnavailableError)


def test_bad_run_and_weights():
    net, proj = _built()
    sim = nm.build(net, backend="torch", numerics="spinnaker-float", device="cpu")
    _error(lambda: sim.run(0.5), "0.5")  # not a multiple of dt = 1
    _error(lambda: sim.set_weights(proj, np.ones((2, 2))), "(2, 2)")
    w = np.ones((3, 4))
    w[0, 0] = NAN
    _error(lambda: sim.set_weights(proj, w), ("nan", "inf"))


def test_cuda_without_gpu():
    ref.require_torch_backend()
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    net, proj = _built()
    _error(lambda: nm.build(net, backend="torch", numerics="exact", device="cuda"), "cuda",
           exc=(nm.ValidationError, nm.UnsupportedError))


# ---------------------------------------------------------------------------------------------
# CLI: exit code 2, one line, no traceback
# ---------------------------------------------------------------------------------------------


def _cli():
    try:
        import neuromorph.cli  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"neuromorph.cli not importable yet ({exc})")
    exe = shutil.which("neuromorph", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    if exe is None:
        pytest.skip("no neuromorph console script installed")
    return exe


@pytest.mark.parametrize("mutation,fragment", [((("version",), 99), "version"),
                                               ((("populations", 1, "celltype", "tau_m"), 0.0), "tau_m")])
@pytest.mark.parametrize("verb", ["validate", "run"])
def test_cli_bad_model(tmp_path, mutation, fragment, verb):
    exe = _cli()
    path = tmp_path / "bad.json"
    path.write_text(_mutated(*mutation))
    args = [exe, verb, str(path)] + (["--backend", "torch", "--duration", "10", "--out", str(tmp_path / "out")] if verb == "run" else [])
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, f"exit code {proc.returncode}; output {out!r}"
    assert "Traceback" not in out
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and fragment in lines[0], f"expected one line naming {fragment!r}: {out!r}"
