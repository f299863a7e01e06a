"""Every parity scenario that fits maps on a virtual SpiNN-5 board and reports its resources.

Without a board sPyNNaker maps, places and routes the network and produces no spikes; the
resources come from its own placement (cores, SDRAM per core) and routing tables. About half a
second per scenario once sPyNNaker is loaded (42 scenarios ≈ 20 s here).
"""
from __future__ import annotations

import pytest

import neuromorph as nm

from .harness import Backend, skip_unsupported
from .networks import ei_network
from .test_identical_spikes import SCENARIOS_DT1

SPINNAKER = Backend("pynn:spinnaker", "pynn:spinnaker", "spinnaker")
MAPPING = SCENARIOS_DT1 + [("ei_network_live_poisson[stdp]", lambda: ei_network(200, stdp=True), 1000.0),
                       ("ei_network_1000[stdp]", lambda: ei_network(1000, stdp=True), 1000.0)]


@pytest.mark.parametrize("name,make,t_ms", MAPPING, ids=[s[0] for s in MAPPING])
def test_scenario_maps_on_virtual_spinn5(name, make, t_ms, tmp_path):
    pytest.importorskip("spynnaker", reason="needs the [spinnaker] extra")
    net = make()
    skip_unsupported(net, SPINNAKER)
    sim = nm.build(net, backend="pynn:spinnaker", run_dir=str(tmp_path))
    sim.run(t_ms)
    res = sim.resources()
    populations = {p for p in net.populations}
    assert {c["population"] for c in res["cores"]} == populations
    assert res["cores_network"] >= len(populations)
    assert all(c["sdram_bytes"] > 0 for c in res["cores"])
    assert 1 <= res["chips_used"] <= res["chips_available"] == 48
    assert res["routing_entries_total"] >= (1 if net.projections else 0)
    assert res["virtual_board"] and "no spikes" in res["note"]
    sim.close()
