"""Issue 9 items 4-5: the SpiNNaker pre-flight (``neuromorph check``, ``nm.hardware.check``, run by
``build(numerics="spinnaker")`` and ``backend="pynn:spinnaker"``), the resource estimate and the
real-board configuration.

One test per row of the issue's table shows the row is now refused or warned, with a message
naming the construct, the value and the fix:

| condition | torch ``spinnaker`` | ``pynn:spinnaker`` |
|---|---|---|
| weight that rounds to 0 | SpinnakerWarning | SpinnakerWarning |
| row > 254 plastic / 256 static | SpinnakerWarning | UnsupportedError |
| delays of 20 or 200 ms | SpinnakerWarning (delay extension) / error beyond 8 stages | same |
| STDP at dt = 0.5 ms | SpinnakerWarning | UnsupportedError |
| 250,000 neurons | SpinnakerWarning | UnsupportedError |
| set_weights above the 16-bit word | SpinnakerWarning: the shift changes (the engine wires it: lead) | SpinnakerWarning: the shift changes |
| s16.15 parameter out of range | ValidationError | UnsupportedError |

Tests that need sPyNNaker (the virtual-board mapping) skip where it is not importable.
"""
from __future__ import annotations

import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import cli
from neuromorph.errors import (BackendUnavailableError, SpinnakerWarning, UnsupportedError, ValidationError)
from neuromorph.hardware import check, load_board, render_config
from neuromorph.hardware.limits import (board_shift, check_weight_words, delay_slots, key_counts,
                                        poisson_spikes_per_tick, reloaded_weight_findings)
from neuromorph.hardware.resources import chips_for

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_pynn_spinnaker import plastic_fan_out as fan_out  # noqa: E402  (one source fanning out to n_post)


def _spynnaker() -> bool:
    try:
        import spynnaker  # noqa: F401
    except ImportError:
        return False
    return True


needs_spynnaker = pytest.mark.skipif(not _spynnaker(), reason="needs the [spinnaker] extra (sPyNNaker)")


def codes(report, level=None):
    return [f.code for f in report.findings if level is None or f.level == level]


def messages(report, code):
    return [f.message for f in report.findings if f.code == code]


def build_pynn_spinnaker(net, tmp_path, **options):
    """Build on pynn:spinnaker where sPyNNaker is installed (then close it); elsewhere the pre-flight
    still runs first and the missing simulator is the only error."""
    try:
        sim = nm.build(net, backend="pynn:spinnaker", run_dir=str(tmp_path / "run"), **options)
    except BackendUnavailableError:
        return None
    sim.close()
    return sim


# -- networks -------------------------------------------------------------------------------------

def tiny_weight_net():
    """'in->out' of 0.001 nA next to a 10 nA projection with fan-in 20: resolution 1/128 nA."""
    net = nm.Network(dt=1.0)
    net.spike_source("in", [[5.0]] * 20)
    net.population("out", 4, nm.IF_curr_exp())
    net.connect("in", "out", nm.AllToAll(), weight=10.0, label="big")
    net.connect("in", "out", nm.FromList([(0, 0)]), weight=0.001, label="in->out")
    return net


def delayed(delay_ms, dt=1.0, n_post=40):
    net = nm.Network(dt=dt)
    net.spike_source("src", [[5.0]] * 10)
    net.population("post", n_post, nm.IF_curr_exp())
    net.connect("src", "post", nm.AllToAll(), weight=0.5, delay=delay_ms, label="late")
    return net


def huge(n=250_000):
    net = nm.Network(dt=1.0)
    net.population("cortex", n, nm.IF_curr_exp())
    return net


def out_of_range():
    net = nm.Network(dt=1.0)
    net.population("stiff", 3, nm.IF_curr_exp(cm=1e-4))  # R = tau_m/cm = 200 000 MΩ
    return net


# -- row 1: a weight that rounds to 0 ---------------------------------------------------------------

def test_weight_rounding_to_zero_is_named_with_resolution_and_fix(tmp_path):
    net = tiny_weight_net()
    report = check(net)
    assert report.ok and codes(report) == ["weight-zero"]
    (msg,) = messages(report, "weight-zero")
    # 10 nA × fan-in 20 + 0.001: M = 200.001, shift 8, LSB 2^-7 nA
    assert "weight 0.001 nA of 'in->out' rounds to 0 at this projection's resolution 1/128 nA" in msg
    assert "lower the largest weight (w_max) of the other projections onto 'out' ('big')" in msg
    assert "raise it above 0.00390625 nA" in msg
    with pytest.warns(SpinnakerWarning, match="rounds to 0 at this projection's resolution 1/128 nA"):
        nm.build(net, backend="torch")
    with pytest.warns(SpinnakerWarning, match="weight 0.001 nA of 'in->out' rounds to 0"):
        build_pynn_spinnaker(net, tmp_path)


def test_zero_weights_are_not_reported():
    """A synapse given weight 0 (e.g. plastic, to be learnt) is not a rounding loss."""
    net = nm.Network(dt=1.0)
    net.spike_source("in", [[5.0]] * 3)
    net.population("out", 2, nm.IF_curr_exp())
    net.connect("in", "out", nm.AllToAll(), weight=0.0, label="empty")
    assert codes(check(net)) == []


# -- row 2: rows longer than 254 plastic / 256 static synapses -------------------------------------

def test_long_plastic_row_refused_on_board_warned_in_emulation(tmp_path):
    report = check(fan_out(300))
    assert codes(report, "error") == ["row"]
    (msg,) = messages(report, "row")
    assert "'fan'" in msg and "256 synapses" in msg and "at most 254 plastic" in msg and "neurons_per_core=254" in msg
    assert check(fan_out(300), neurons_per_core=200).ok
    with pytest.warns(SpinnakerWarning, match="board would refuse this.*at most 254 plastic"):
        nm.build(fan_out(300), backend="torch")
    with pytest.raises(UnsupportedError, match="at most 254 plastic synapses per row"):
        nm.build(fan_out(300), backend="pynn:spinnaker", run_dir=str(tmp_path / "never"))
    assert not (tmp_path / "never").exists()


def test_long_static_row_refused():
    """257 static synapses of one pre neuron onto one core: 300 neurons per core put them there."""
    report = check(fan_out(300, stdp=False), neurons_per_core=300)
    (msg,) = messages(report, "row")
    assert "300 synapses" in msg and "at most 256 static synapses per row" in msg
    assert check(fan_out(300, stdp=False)).ok  # 256 per core: rows of 256 and 44


# -- row 3: delays of 20 and 200 ms ----------------------------------------------------------------

def test_long_delays_need_delay_extensions(tmp_path):
    # 40 post neurons: 6 atom bits + 1 type bit -> 2^7 = 128 slots; 200 ms needs one extension stage
    assert delay_slots(40, 200, 256) == 128 and delay_slots(256, 20, 256) == 32 and delay_slots(600, 20, 256) == 32
    r200 = check(delayed(200.0))
    (msg,) = messages(r200, "delay-extension")
    assert "'late'" in msg and "200 ms" in msg and "128 steps (128 ms)" in msg and "1 delay-extension stage" in msg
    assert "keep delays <= 128 ms" in msg
    src = next(p for p in r200.resources.populations if p.label == "src")
    assert src.delay_extension_cores == 1 and r200.resources.cores_delay_extension == 1
    # 20 ms onto 256-neuron cores that also receive 40 ms: 64 slots... onto 600 neurons: 32 slots
    r20 = check(delayed(40.0, n_post=600))
    assert "delay-extension" in codes(r20) and r20.ok
    assert codes(check(delayed(20.0, n_post=600))) == []  # 20 steps fit the 32 slots
    with pytest.warns(SpinnakerWarning, match="delay-extension stage"):
        nm.build(delayed(200.0), backend="torch")
    with pytest.warns(SpinnakerWarning, match="delay-extension stage"):
        build_pynn_spinnaker(delayed(200.0), tmp_path)


def test_delays_beyond_eight_stages_refused():
    # 200 ms at dt = 0.1 ms: 2000 steps > 128 slots × 9
    report = check(delayed(200.0, dt=0.1))
    (msg,) = messages(report, "delay-max")
    assert "delay 200 ms (2000 steps of dt=0.1 ms)" in msg and "1152 steps" in msg and "shorten the delay" in msg
    assert not report.ok


def test_one_source_two_stage_lengths_refused():
    """A delay extension serves one stage length: the same source delayed onto a 40-neuron (128
    slots) and a 600-neuron population (32 slots) is refused by sPyNNaker 7.4.1."""
    net = nm.Network(dt=1.0)
    net.spike_source("src", [[5.0]] * 10)
    net.population("small", 40, nm.IF_curr_exp())
    net.population("large", 600, nm.IF_curr_exp())
    net.connect("src", "small", nm.AllToAll(), weight=0.5, delay=200.0, label="to-small")
    net.connect("src", "large", nm.AllToAll(), weight=0.5, delay=100.0, label="to-large")
    (msg,) = messages(check(net), "delay-stage")
    assert "'src'" in msg and "'to-large' (32 steps)" in msg and "'to-small' (128 steps)" in msg


# -- row 4: STDP at dt = 0.5 ms --------------------------------------------------------------------

def test_stdp_off_1ms(tmp_path):
    (msg,) = messages(check(fan_out(10, dt=0.5)), "stdp-dt")
    assert "'fan'" in msg and "dt=1 ms only" in msg and "dt=0.5 ms" in msg and "Network(dt=1)" in msg
    with pytest.warns(SpinnakerWarning, match="dt=1 ms only"):
        nm.build(fan_out(10, dt=0.5), backend="torch")
    with pytest.raises(UnsupportedError, match="dt=1 ms only"):
        nm.build(fan_out(10, dt=0.5), backend="pynn:spinnaker", run_dir=str(tmp_path / "never"))


# -- row 5: 250,000 neurons -------------------------------------------------------------------------

def test_more_cores_than_a_spinn5(tmp_path):
    report = check(huge())
    (msg,) = messages(report, "cores")
    cores = math.ceil(250_000 / 256)  # 977
    assert f"about {cores} cores at 256 neurons per core" in msg and "SpiNN-5 has 767 application cores" in msg
    assert "n_boards=2" in msg
    assert check(huge(), n_boards=2).ok
    with pytest.warns(SpinnakerWarning, match=f"about {cores} cores"):
        nm.build(huge(), backend="torch")
    with pytest.raises(UnsupportedError, match=f"about {cores} cores"):
        nm.build(huge(), backend="pynn:spinnaker", run_dir=str(tmp_path / "never"))
    build_pynn_spinnaker(huge(), tmp_path, n_boards=2)  # fits on 2 boards (virtual: maps only)


# -- row 6: set_weights beyond the 16-bit word --------------------------------------------------------

def word_net():
    """One synapse of 1.5 nA: M = 1.5, shift 1, LSB 2^-14 nA, the word tops out at 65535/16384 = 4.0 nA."""
    net = nm.Network(dt=1.0)
    net.spike_source("in", [[5.0]])
    net.population("out", 1, nm.IF_curr_exp())
    net.connect("in", "out", nm.AllToAll(), weight=1.5, label="w")
    return net


def test_weight_word_overflow_helper():
    net = word_net()
    assert check(net).shifts[("out", "excitatory")] == 1
    with pytest.raises(ValidationError) as err:
        check_weight_words(net, "w", [100.0], 1)
    msg = str(err.value)
    assert "weight 100 nA of 'w' needs the 16-bit word 1638400 (> 65535)" in msg and "tops out at 3.99994 nA" in msg
    assert "keep weights <= 3.99994 nA" in msg
    check_weight_words(net, "w", [3.9], 1)  # fits: no error, no warning
    with pytest.warns(SpinnakerWarning, match="rounds to 0"):
        check_weight_words(net, "w", [1e-6], 1)


def test_reloaded_weights_change_the_resolution():
    """Loading 100 nA where the word tops out at 4 nA: the host recomputes the shift (1 -> 7), so
    the board stores it at 1/256 nA, and a 0.001 nA neighbour onto the same population rounds to 0."""
    net = word_net()
    net.connect("in", "out", nm.AllToAll(), weight=0.001, label="small")
    old = board_shift(net, "out", "excitatory")[0]
    new = board_shift(net, "out", "excitatory", weights={"w": np.array([100.0])})[0]
    assert (old, new) == (1, 7)
    found = reloaded_weight_findings(net, "w", [100.0], old, new)
    assert [f[1] for f in found] == ["weight-resolution", "weight-zero"]
    assert ("set_weights('w'): the largest weight 100 nA changes the resolution of 'out' (excitatory) from 1/16384 to "
            "1/256 nA (ring-buffer shift 1 -> 7)") in found[0][2]
    assert "weight 0.001 nA of 'small' rounds to 0 at this projection's resolution 1/256 nA" in found[1][2]
    assert reloaded_weight_findings(net, "w", [3.0], old, old) == []


def test_torch_set_weights_beyond_the_word_is_warned():
    """The torch spinnaker profile reloads like the host (shift 1 -> 7) and says so."""
    sim = nm.build(word_net(), backend="torch")
    with pytest.warns(SpinnakerWarning, match=r"100 nA changes the resolution of 'out' \(excitatory\) from 1/16384 to 1/256"):
        sim.set_weights("w", np.array([[100.0]]))
    assert int(sim.shifts[("out", 0)].item()) == 7
    np.testing.assert_array_equal(sim.weights("w"), [[100.0]])


@needs_spynnaker
def test_pynn_spinnaker_set_weights_beyond_the_word_is_warned(tmp_path):
    sim = nm.build(word_net(), backend="pynn:spinnaker", run_dir=str(tmp_path / "run"))
    with pytest.warns(SpinnakerWarning, match="VIRTUAL board"):
        sim.run(10.0)
    with pytest.warns(SpinnakerWarning, match=r"100 nA changes the resolution of 'out' \(excitatory\) from 1/16384 to 1/256"):
        sim.set_weights("w", np.array([[100.0]]))
    np.testing.assert_array_equal(sim.weights("w"), [[100.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpinnakerWarning)
        sim.set_weights("w", np.array([[90.0]]))  # same resolution: nothing to say
    sim.close()


# -- row 7: s16.15 parameters ---------------------------------------------------------------------------

def test_s1615_range(tmp_path):
    (msg,) = messages(check(out_of_range()), "s1615")
    assert "population 'stiff': R = tau_m/cm = 200000 MΩ is outside the s16.15 range" in msg
    assert "-65536 to 65535.99997" in msg and "rescale" in msg
    with pytest.raises(ValidationError, match="R = tau_m/cm = 200000"):
        nm.build(out_of_range(), backend="torch")
    nm.build(out_of_range(), backend="torch", numerics="spinnaker-float")  # float maths: no board range
    with pytest.raises(UnsupportedError, match="s16.15"):
        nm.build(out_of_range(), backend="pynn:spinnaker", run_dir=str(tmp_path / "never"))
    net = nm.Network(dt=1.0)
    net.population("p", 2, nm.IF_curr_exp(), initial_values={"v": [-65.0, -70000.0]})
    (msg,) = messages(check(net), "s1615")
    assert "initial v = -70000" in msg


def test_exact_and_float_profiles_run_no_preflight():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpinnakerWarning)
        nm.build(fan_out(300), backend="torch", numerics="exact")
        nm.build(fan_out(300), backend="torch", numerics="spinnaker-float")


# -- ring-buffer saturation ---------------------------------------------------------------------------------

def saturating(delays="vary"):
    """1000 sources × 1 nA onto one neuron. With varying delays sPyNNaker uses its Poisson bound
    (30 Hz, 5 sigma: 30 + 5·sqrt(30) = 57.4 nA -> shift 6, the buffer holds 65535/512 = 128 nA)."""
    net = nm.Network(dt=1.0)
    n = 1000
    net.spike_source("in", [[5.0]] * n)
    net.population("out", 1, nm.IF_curr_exp())
    delay = (np.arange(n) % 10 + 1.0)[:, None] if delays == "vary" else 1.0
    net.connect("in", "out", nm.AllToAll(), weight=1.0, delay=delay, label="many")
    return net


def test_ring_buffer_saturation_risk():
    assert board_shift(saturating(), "out", "excitatory") == (6, True)
    (msg,) = messages(check(saturating()), "ring-buffer")
    assert "ring buffer of 'out' (excitatory) can saturate: up to 1000 nA" in msg
    assert "65535 words (127.998 nA at resolution 1/512 nA)" in msg and "Poisson bound" in msg
    assert "give every projection onto 'out' constant delays" in msg
    # constant delays: sPyNNaker sizes for the worst case (1000 nA -> shift 10), nothing saturates
    assert board_shift(saturating("constant"), "out", "excitatory") == (10, False)
    assert "ring-buffer" not in codes(check(saturating("constant")))
    # the torch emulation sizes the buffer with the same Poisson bound (shift 6), so it saturates too
    assert "ring-buffer" in codes(check(saturating(), target="emulation"))
    sim = nm.build(saturating(), backend="torch", check=False)
    assert int(sim.shifts[("out", 0)].item()) == 6


def bursty():
    """100 Poisson sources at 1000 Hz × 1 nA: the resolution counts 1 spike per source per tick
    (M = 100 nA, shift 7, the buffer holds 256 nA); a fast Poisson source sends up to 6 per tick."""
    net = nm.Network(dt=1.0)
    net.poisson_source("p", 100, 1000.0)
    net.population("out", 1, nm.IF_curr_exp())
    net.connect("p", "out", nm.AllToAll(), weight=1.0, label="burst")
    return net


def test_ring_buffer_saturation_by_bursts():
    (msg,) = messages(check(bursty()), "ring-buffer")
    assert "up to 600 nA" in msg and "255.996 nA at resolution 1/256 nA" in msg and "'p' up to 6" in msg
    # the torch emulation draws at most one Poisson spike per step
    assert "ring-buffer" not in codes(check(bursty(), target="emulation"))


def conductance_net():
    """20 sources × 0.01 µS onto IF_cond_exp: sPyNNaker scales the largest weight by g = 1024 but
    not the sum (M = max(0.2, 10.24) -> shift 4), so 20 synchronous inputs (419,440 words) overflow
    the 16-bit buffer."""
    net = nm.Network(dt=1.0)
    net.spike_source("in", [[5.0]] * 20)
    net.population("out", 4, nm.IF_cond_exp())
    net.connect("in", "out", nm.AllToAll(), weight=0.01, label="a")
    return net


def test_conductance_ring_buffers():
    if not hasattr(nm, "IF_cond_exp"):
        pytest.skip("no IF_cond_exp in this checkout")
    assert board_shift(conductance_net(), "out", "excitatory") == (4, False)
    (msg,) = messages(check(conductance_net()), "ring-buffer")
    assert "(419440 words)" in msg and "resolution 1/2097152 uS" in msg and "without their x1024 scale" in msg


def spynnaker_shifts(net, tmp_path) -> dict:
    """The ring-buffer shifts sPyNNaker itself maps ``net`` with (virtual board)."""
    from spynnaker.pyNN.data import SpynnakerDataView
    from spynnaker.pyNN.models.neuron import PopulationVertex
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpinnakerWarning)
        sim = nm.build(net, backend="pynn:spinnaker", run_dir=str(tmp_path))
        sim.run(5.0)
    out = {}
    for v in SpynnakerDataView.iterate_vertices():
        if isinstance(v, PopulationVertex):
            exc, inh = v.get_ring_buffer_shifts()[:2]
            out[(v.label, "excitatory")], out[(v.label, "inhibitory")] = exc, inh
    sim.close()
    return out


@needs_spynnaker
def test_board_shifts_are_sPyNNaker_s(tmp_path):
    """board_shift against sPyNNaker's own mapping: the Poisson bound where delays vary, one spike
    per tick for every source (also a spike array with two spikes at one time, and fast Poisson)."""
    doubled = nm.Network(dt=1.0)
    doubled.spike_source("in", [[5.0, 5.0]])
    doubled.population("out", 1, nm.IF_curr_exp())
    doubled.connect("in", "out", nm.AllToAll(), weight=1.5, label="w")
    nets = [saturating(), saturating("constant"), resource_net(), bursty(), doubled, tiny_weight_net()]
    if hasattr(nm, "IF_cond_exp"):
        nets.append(conductance_net())
    for k, net in enumerate(nets):
        theirs = spynnaker_shifts(net, tmp_path / str(k))
        report = check(net)
        for key, shift in report.shifts.items():
            assert theirs[key] == shift, (k, key)


def test_poisson_spikes_per_tick():
    assert poisson_spikes_per_tick(5.0, 1.0) == 1  # below 0.01 spikes per tick
    assert poisson_spikes_per_tick(10.0, 1.0) == 2  # ppf(0.999, 0.01) = 1, plus 1
    scipy_stats = pytest.importorskip("scipy.stats")
    for rate in (50.0, 300.0, 2000.0):
        assert poisson_spikes_per_tick(rate, 1.0) == int(math.ceil(scipy_stats.poisson.ppf(0.999, rate / 1000))) + 1


# -- speed --------------------------------------------------------------------------------------------------

def test_check_is_fast_for_millions_of_synapses():
    net = nm.Network(dt=1.0)
    net.poisson_source("p", 5000, 5.0)
    net.population("o", 2000, nm.IF_curr_exp())
    net.connect("p", "o", nm.FixedProbability(0.3, seed=1), weight=0.01, label="p-o")
    assert net.connectivity("p-o").size > 2_900_000
    check(net)  # warm (imports)
    t = time.perf_counter()
    check(net)
    assert time.perf_counter() - t < 1.0


def test_key_counts_matches_unique():
    rng = np.random.default_rng(3)
    for key in (np.sort(rng.integers(0, 50, 500)), rng.integers(0, 50, 500), rng.integers(0, 2 ** 40, 500)):
        k, c = key_counts(key)
        k2, c2 = np.unique(key, return_counts=True)
        np.testing.assert_array_equal(k, k2)
        np.testing.assert_array_equal(c, c2)


# -- resources ------------------------------------------------------------------------------------------------

def resource_net():
    net = nm.Network(dt=1.0, seed=1)
    net.spike_source("ssa", [[5.0]] * 1000)
    net.poisson_source("poi", 1200, 10.0)
    net.population("a", 600, nm.IF_curr_exp())
    net.population("b", 40, nm.IF_curr_exp())
    net.population("c", 300, nm.IF_curr_exp())
    net.connect("ssa", "a", nm.FixedProbability(0.05, seed=1), weight=0.5, delay=20.0, label="ssa-a")
    net.connect("poi", "a", nm.FixedProbability(0.05, seed=2), weight=0.2, label="poi-a")
    net.connect("a", "b", nm.FixedProbability(0.2, seed=3), weight=0.2, delay=200.0, label="a-b")
    net.connect("a", "c", nm.FixedProbability(0.1, seed=4), weight=0.2, delay=3.0, label="a-c")
    net.record("a", "spikes")
    return net


def test_board_numbers_from_the_json_files():
    s5, s3 = load_board("SpiNN-5"), load_board("SpiNN-3")
    # 18 cores: SCAMP monitor, extra monitor; the Ethernet chip also runs the packet gatherer
    assert s5.network_cores(1) == 48 * (18 - 2) - 1 == 767
    assert s3.network_cores(1) == 4 * (18 - 2) - 1 == 63
    assert s5.network_cores(24) == 24 * 767
    assert [chips_for(n, s5) for n in (0, 1, 15, 16, 31, 32, 767, 768)] == [0, 1, 1, 2, 2, 3, 48, 49]


def test_resource_estimate_by_hand():
    est = check(resource_net()).resources
    by = {p.label: p for p in est.populations}
    assert (by["ssa"].cores, by["poi"].cores, by["a"].cores, by["b"].cores, by["c"].cores) == (1, 3, 3, 1, 2)
    assert by["poi"].atoms_per_core == 500 and by["a"].atoms_per_core == 256
    # 'a-b' needs a delay extension (200 > 128 slots of the 40-neuron 'b'); 'ssa-a' (20 <= 32) does not
    assert by["a"].delay_extension_cores == 3 and by["ssa"].delay_extension_cores == 0
    assert est.cores_total == 13 and est.chips_needed == 1 and est.boards_needed == 1
    assert est.cores_available == 767 and est.chips_available == 48
    assert by["a"].recording_bytes_per_s == 1000 * 4 * math.ceil(600 / 32)
    assert all(p.sdram_bytes > 0 for p in est.populations)
    text = check(resource_net()).text()
    assert "cores 13 (10 network + 3 delay extension) of 767 on SpiNN-5; chips 1 of 48" in text


def test_multi_board_machine_scales():
    est = check(huge(), n_boards=3).resources
    assert est.cores_available == 3 * 767 and est.chips_available == 144 and est.boards_needed == 2
    assert "3 SpiNN-5 boards" in " ".join(est.notes)
    with pytest.raises(ValidationError, match="SpiNN-5 boards"):
        check(huge(), board="SpiNN-3", n_boards=2)


@needs_spynnaker
def test_resources_against_the_virtual_board_mapping(tmp_path):
    net = resource_net()
    est = check(net).resources
    sim = nm.build(net, backend="pynn:spinnaker", run_dir=str(tmp_path / "run"))
    with pytest.warns(SpinnakerWarning, match="VIRTUAL board"):
        sim.run(10.0)
    res = sim.resources()
    sim.close()
    mapped: dict[str, int] = {}
    for c in res["cores"]:
        mapped[c["population"]] = mapped.get(c["population"], 0) + 1
    for p in est.populations:
        assert mapped[p.label] == p.cores, p.label
        assert mapped.get(f"{p.label}_delayed", 0) == p.delay_extension_cores, p.label
    assert res["cores_network"] == est.cores_total
    assert res["chips_used"] == est.chips_needed
    assert res["cores_system"] == 48 + 1  # an extra monitor per chip, a packet gatherer on the Ethernet chip
    # SDRAM is an estimate: neuron cores within a factor of 3 of sPyNNaker's own numbers
    for p in est.populations:
        if p.kind == "IF_curr_exp":
            own = sum(c["sdram_bytes"] for c in res["cores"] if c["population"] == p.label)
            assert own / 3 <= p.sdram_bytes <= own * 3, (p.label, p.sdram_bytes, own)


@needs_spynnaker
def test_multi_board_virtual_mapping(tmp_path):
    """800 cores (one neuron per core) do not fit one SpiNN-5 (767): with n_boards=2 sPyNNaker maps
    them onto a virtual machine of a triad (3 boards, 144 chips), on the chips we estimate."""
    net = nm.Network(dt=1.0)
    net.population("cortex", 800, nm.IF_curr_exp())
    assert "cores" in codes(check(net, neurons_per_core=1))
    est = check(net, neurons_per_core=1, n_boards=2).resources
    assert (est.cores_total, est.chips_needed, est.boards_needed) == (800, 51, 2)
    sim = nm.build(net, backend="pynn:spinnaker", run_dir=str(tmp_path / "run"), n_boards=2, neurons_per_core=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpinnakerWarning)
        sim.run(1.0)
    res = sim.resources()
    sim.close()
    assert res["cores_network"] == 800 and res["chips_available"] == 144 and res["chips_used"] == est.chips_needed


# -- real boards: the run folder's cfg ----------------------------------------------------------------------

def test_cfg_physical_board():
    text = render_config(virtual_board=False, version=3, machine_name="192.168.240.253", report_dir="/runs/a")
    assert "virtual_board = False" in text and "version = 3" in text and "machine_name = 192.168.240.253" in text
    assert "spalloc_server = None" in text and "n_boards_required" not in text
    with pytest.raises(ValidationError, match="both given"):
        render_config(virtual_board=False, version=5, machine_name="a", spalloc_server="b")
    with pytest.raises(ValidationError, match="need spalloc_server"):
        render_config(virtual_board=False, version=5, machine_name="a", n_boards=3)


def test_cfg_spalloc_machine():
    text = render_config(virtual_board=False, version=5, spalloc_server="spalloc.example.org", spalloc_port=22245,
                         spalloc_user="me", n_boards=24)
    assert "spalloc_server = spalloc.example.org" in text and "spalloc_port = 22245" in text
    assert "spalloc_user = me" in text and "machine_name = None" in text and "version = 5" in text
    assert "# n_boards_required = 24" in text
    default = render_config(virtual_board=False, version=5, spalloc_server="spalloc.example.org")
    assert "spalloc_port = 22244" in default
    with pytest.raises(ValidationError, match="SpiNN-5"):
        render_config(virtual_board=False, version=3, spalloc_server="s", n_boards=2)
    with pytest.raises(ValidationError, match="port"):
        render_config(virtual_board=False, version=5, spalloc_server="s", spalloc_port=70000)


def test_run_folder_cfg_for_real_boards(tmp_path):
    """The options of nm.build(..., backend="pynn:spinnaker") end up in the run folder's cfg
    (written before sPyNNaker is imported, so this runs without it)."""
    from neuromorph.backends.pynn import spinnaker
    phys = spinnaker.prepare_run_dir(tmp_path / "phys", "SpiNN-3", machine_name="spinn-3.local")
    text = (phys / "spynnaker.cfg").read_text()
    assert "virtual_board = False" in text and "machine_name = spinn-3.local" in text and "version = 3" in text
    spa = spinnaker.prepare_run_dir(tmp_path / "spa", 5, spalloc_server="https://spalloc.example.org", n_boards=3,
                                    spalloc_port=22244)
    text = (spa / "spynnaker.cfg").read_text()
    assert "spalloc_server = https://spalloc.example.org" in text and "# n_boards_required = 3" in text
    assert f"default_report_file_path = {spa}" in text


def test_build_options_for_real_boards_are_checked(tmp_path):
    for options, match in (({"board": "SpiNN-3", "version": 5}, "disagree"),
                           ({"n_boards": 3, "machine_name": "host"}, "is one board"),
                           ({"n_boards": 2, "board": "SpiNN-3"}, "SpiNN-5 boards"),
                           ({"spalloc_port": 1234}, "without spalloc_server"),
                           ({"n_boards": 0}, "n_boards=0")):
        with pytest.raises(ValidationError, match=match):
            nm.build(word_net(), backend="pynn:spinnaker", run_dir=str(tmp_path / "x"), **options)


@needs_spynnaker
def test_build_writes_version_and_spalloc_into_the_cfg(tmp_path):
    """A real-board build writes its cfg; we stop before the first run (no board here)."""
    sim = nm.build(word_net(), backend="pynn:spinnaker", run_dir=str(tmp_path / "run"), version=5,
                   spalloc_server="spalloc.invalid", spalloc_port=22244, n_boards=3)
    text = (tmp_path / "run" / "spynnaker.cfg").read_text()
    assert "virtual_board = False" in text and "spalloc_server = spalloc.invalid" in text
    assert "# n_boards_required = 3" in text and sim.virtual_board is False
    sim._ended = True  # nothing was allocated; do not ask spalloc to end a job
    from neuromorph.backends.pynn import simulation as S
    S._ACTIVE.pop("spinnaker", None)


@needs_spynnaker
def test_virtual_run_says_it_produced_no_spikes(tmp_path):
    net = word_net()
    net.record("out", "spikes")
    sim = nm.build(net, backend="pynn:spinnaker", run_dir=str(tmp_path / "run"))
    with pytest.warns(SpinnakerWarning, match="VIRTUAL board and ran nothing"):
        sim.run(20.0)
    assert all(len(s) == 0 for s in sim.spikes("out"))
    assert "no spikes" in sim.resources()["note"]
    sim.close()


# -- neuromorph check ------------------------------------------------------------------------------------------

def test_cli_check_fits(tmp_path, capsys):
    path = tmp_path / "net.json"
    path.write_text(resource_net().to_json())
    out_json = tmp_path / "report.json"
    assert cli.main(["check", str(path), "--target", "spinnaker", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "SpiNNaker pre-flight" in out and "warning: projection 'a-b'" in out and "result: fits; 1 warning" in out
    assert "a                    IF_curr_exp" in out
    data = json.loads(out_json.read_text())
    assert data["ok"] is True and data["resources"]["cores_total"] == 13 and data["findings"][0]["code"] == "delay-extension"


def test_cli_check_problems_and_boards(tmp_path, capsys):
    path = tmp_path / "huge.json"
    path.write_text(huge().to_json())
    assert cli.main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error: network needs about 977 cores" in out and "does not fit (1 problem)" in out
    assert cli.main(["check", str(path), "--board", "2"]) == 0
    assert "SpiNN-5 × 2 boards" in capsys.readouterr().out
    assert cli.main(["check", str(path), "--board", "2-boards"]) == 0
    capsys.readouterr()
    assert cli.main(["check", str(path), "--board", "spinn-3"]) == 1
    assert "SpiNN-3 has 63 application cores" in capsys.readouterr().out
    assert cli.main(["check", str(path), "--neurons-per-core", "128"]) == 1


def test_cli_check_bad_input(tmp_path, capsys):
    path = tmp_path / "net.json"
    path.write_text(word_net().to_json())
    assert cli.main(["check", str(tmp_path / "missing.json")]) == 2
    assert cli.main(["check", str(path), "--board", "spinn-7"]) == 2
    assert "spinn-3, spinn-5 or a number N" in capsys.readouterr().err
    assert cli.main(["check", str(path), "--target", "loihi"]) == 2
    assert cli.main(["check", str(path), "--neurons-per-core", "0"]) == 2
    assert cli.main(["check", str(path), "--board", "0"]) == 2
