"""SpiNNaker: board profiles, the sPyNNaker configuration, pre-flight row limits, and mapping on a
virtual board (sPyNNaker 7.4.1 without hardware: placement and resources, no spikes)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import UnsupportedError, ValidationError
from neuromorph.hardware import load_board, preflight, render_config
from neuromorph.hardware.limits import longest_row


# -- board profiles -------------------------------------------------------------------------------

def test_board_profiles_match_spinn_machine():
    """The JSON data equal what spinn_machine itself says about SpiNN-3 and SpiNN-5."""
    pytest.importorskip("spinn_machine", reason="needs the [spinnaker] extra")
    from spinn_front_end_common.interface.config_setup import unittest_setup
    unittest_setup()  # spinn_machine's version objects read its configuration
    from spinn_machine.version.version_3 import Version3
    from spinn_machine.version.version_5 import Version5
    for name, cls in (("SpiNN-3", Version3), ("SpiNN-5", Version5)):
        b, v = load_board(name), cls()
        assert (b.spinnaker_version, b.chips, b.board_shape) == (v.number, v.n_chips_per_board, tuple(v.board_shape))
        assert (b.cores_per_chip, b.monitor_cores_per_chip) == (v.max_cores_per_chip, v.n_scamp_cores)
        assert (b.sdram_bytes_per_chip, b.router_entries_per_chip) == (v.max_sdram_per_chip, v.n_router_entries)
        assert (b.clock_hz, b.dtcm_bytes_per_core) == (v.clock_speeds_hz[0], v.dtcm_bytes)
    from spynnaker.pyNN.utilities.constants import POP_TABLE_MAX_ROW_LENGTH
    assert load_board("SpiNN-5").max_row_words == POP_TABLE_MAX_ROW_LENGTH


def test_board_names():
    assert load_board("spinn5").name == load_board(5).name == "SpiNN-5"
    with pytest.raises(ValidationError, match="SpiNN-3, SpiNN-5"):
        load_board("SpiNN-7")


def test_config_virtual_and_real_board():
    text = render_config(virtual_board=True, version=5, report_dir="/runs/a")
    assert "virtual_board = True" in text and "version = 5" in text and "default_report_file_path = /runs/a" in text
    real = render_config(virtual_board=False, version=5, machine_name="192.168.240.1")
    assert "virtual_board = False" in real and "machine_name = 192.168.240.1" in real
    with pytest.raises(ValidationError, match="machine_name"):
        render_config(virtual_board=False, version=5)


# -- pre-flight ---------------------------------------------------------------------------------

def test_longest_row_against_brute_force():
    rng = np.random.default_rng(0)
    mask = rng.random((30, 700)) < 0.6
    delays = rng.integers(1, 40, size=mask.shape)
    i, j = np.nonzero(mask)
    length, pre, core, stage = longest_row(i, j, delays[i, j], 256)
    brute = {}
    for i, j in zip(*np.nonzero(mask)):
        key = (i, j // 256, (delays[i, j] - 1) // 16)
        brute[key] = brute.get(key, 0) + 1
    assert length == max(brute.values())
    assert brute[(pre, core, stage)] == length


def plastic_fan_out(n_post, stdp=True, dt=1.0):
    net = nm.Network(dt=dt)
    net.spike_source("src", [[5.0]])
    net.population("big", n_post, nm.IF_curr_exp())
    rule = nm.STDP(timing=nm.SpikePairRule(), weight=nm.Additive(0.0, 1.0)) if stdp else None
    net.connect("src", "big", nm.AllToAll(), weight=0.1, plasticity=rule, label="fan")
    return net


def test_preflight_refuses_long_plastic_rows_with_the_fix():
    with pytest.raises(UnsupportedError) as exc:
        preflight(plastic_fan_out(300))
    text = str(exc.value)
    assert "'fan'" in text and "256 synapses" in text and "at most 254 plastic" in text and "neurons_per_core=254" in text
    assert preflight(plastic_fan_out(300), neurons_per_core=200).ok
    assert preflight(plastic_fan_out(300, stdp=False)).ok  # 256 static synapses fit one row
    assert preflight(plastic_fan_out(254)).ok


def test_preflight_refuses_stdp_off_1ms():
    with pytest.raises(UnsupportedError, match="dt=1 ms only"):
        preflight(plastic_fan_out(10, dt=0.5))


def test_build_refuses_before_sPyNNaker_starts(tmp_path):
    """The row check runs before any run directory or sPyNNaker setup."""
    run_dir = tmp_path / "never"
    with pytest.raises(UnsupportedError, match="synaptic row"):
        nm.build(plastic_fan_out(300), backend="pynn:spinnaker", run_dir=str(run_dir))
    assert not run_dir.exists()


# -- virtual board -------------------------------------------------------------------------------

def small_net():
    net = nm.Network(dt=1.0, seed=2)
    net.spike_source("src", [[5.0, 9.0], [7.0]])
    net.poisson_source("noise", 20, 10.0)
    net.population("exc", 30, nm.IF_curr_exp())
    net.population("out", 2, nm.IF_curr_delta(weight_units="nA"))
    stdp = nm.STDP(timing=nm.SpikeNearestPairRule(tau_plus=5.0, tau_minus=5.0, A_plus=1.0, A_minus=-1.0),
                   weight=nm.Additive(0.0, 20.0))
    net.connect("src", "exc", nm.AllToAll(), weight=0.5, delay=2.0)
    net.connect("noise", "exc", nm.FixedProbability(0.2, seed=1), weight=0.2)
    net.connect("exc", "out", nm.AllToAll(), weight=0.0, plasticity=stdp, label="plastic")
    net.record("exc", "spikes", "v")
    net.record("out", "spikes")
    return net


def test_virtual_board_maps_and_reports_resources(tmp_path):
    pytest.importorskip("spynnaker", reason="needs the [spinnaker] extra")
    home_cfg = Path(os.path.expanduser("~")) / ".spynnaker.cfg"
    had_home_cfg = home_cfg.exists()
    sim = nm.build(small_net(), backend="pynn:spinnaker", run_dir=str(tmp_path / "run"))
    sim.run(50.0)
    res = sim.resources()
    assert res["virtual_board"] is True and "no spikes" in res["note"]
    assert res["board_version"] == 5 and res["chips_available"] == 48
    assert res["chips_used"] >= 1
    assert {c["population"] for c in res["cores"]} == {"src", "noise", "exc", "out"}
    assert all(c["sdram_bytes"] and c["sdram_bytes"] > 0 for c in res["cores"])
    assert res["routing_entries_total"] >= 1
    assert all(len(s) == 0 for s in sim.spikes("exc"))
    assert sim.trace("exc", "v").shape[0] == 0
    np.testing.assert_array_equal(sim.weights("plastic"), np.zeros((30, 2)))  # as loaded: nothing ran
    cfg = (tmp_path / "run" / "spynnaker.cfg").read_text()
    assert "virtual_board = True" in cfg
    assert home_cfg.exists() == had_home_cfg  # the user's home was not touched
    sim.close()


def test_sPyNNaker_row_limit_is_254_plastic_synapses(tmp_path):
    """The profile's plastic row limit, checked by sPyNNaker's own mapping: 254 synapses map,
    255 raise SynapseRowTooBigException (we bypass our pre-flight to see it)."""
    pytest.importorskip("spynnaker", reason="needs the [spinnaker] extra")
    from neuromorph.backends.pynn import simulation as S
    sim = nm.build(plastic_fan_out(254), backend="pynn:spinnaker", run_dir=str(tmp_path / "a"))
    sim.run(10.0)
    assert sim.resources()["cores_network"] == 2
    sim.close()
    original = S.supported_check
    try:
        S.supported_check = lambda *a, **k: None
        sim = nm.build(plastic_fan_out(255), backend="pynn:spinnaker", run_dir=str(tmp_path / "b"))
        with pytest.raises(nm.SimulationError, match="SynapseRowTooBig"):
            sim.run(10.0)
        sim.close()
    finally:
        S.supported_check = original
