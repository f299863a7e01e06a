"""Mechanism constructs: validation errors (one line, naming construct, value and fix) and JSON."""
from __future__ import annotations

import math

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.errors import ValidationError
from neuromorph.mechanisms import (SAL, AstrocyteLR1994, Astrocytes, EscapeNoise, SlowInwardCurrent, STDPGate,
                                   SynapticGain, SynapticScaling, ThresholdAdaptation, WeightFactorCalibration)


def _net():
    net = nm.Network(dt=1.0, seed=3)
    net.spike_source("in", [[1.0], [2.0], [3.0], [4.0]])
    net.population("y", 4, nm.IF_curr_exp())
    net.population("x", 3, nm.IF_curr_exp())
    net.connect("in", "y", nm.OneToOne(), weight=0.5, label="in->y")
    net.connect("x", "y", nm.AllToAll(), weight=0.5, label="xy")
    net.connect("y", "x", nm.AllToAll(), weight=0.5, label="yx")
    net.connect("x", "y", nm.FromList([(0, 0), (1, 1)]), weight=0.2, label="xy_sparse")
    net.connect("in", "x", nm.FromList([(0, 0)]), weight=0.2, label="in->x",
                plasticity=nm.STDP(nm.SpikePairRule(), nm.Additive(w_max=1.0)))
    return net


def _one_line(exc):
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 400
    return msg


# -- the errors the issue names ----------------------------------------------------------------
@pytest.mark.parametrize("ctor", [
    lambda: SynapticScaling("hs", "y", 10.0, tau=-5.0),
    lambda: SynapticScaling("hs", "y", 10.0, rate_tau=0.0),
    lambda: ThresholdAdaptation("ta", "y", 10.0, tau=-1.0),
    lambda: SAL("s", "xy", "yx", tau=-10.0),
])
def test_negative_time_constants(ctor):
    with pytest.raises(ValidationError) as exc:
        ctor()
    msg = _one_line(exc)
    assert "must be > 0" in msg and "ms" in msg


@pytest.mark.parametrize("rate", [0.0, -3.0])
def test_target_rate_not_positive(rate):
    for ctor in (SynapticScaling, ThresholdAdaptation):
        with pytest.raises(ValidationError) as exc:
            ctor("h", "y", rate)
        msg = _one_line(exc)
        assert f"target_rate={rate}" in msg and "> 0" in msg


def test_sal_pair_not_reciprocal():
    net = _net()
    with pytest.raises(ValidationError, match="not reciprocal"):
        net.add(SAL("s", "xy", "in->y"))               # in→y is not y→x
    with pytest.raises(ValidationError, match="not reciprocal") as exc:
        net.add(SAL("s", "xy_sparse", "yx"))           # same populations, different synapses
    assert "connect the same neuron pairs both ways" in _one_line(exc)
    with pytest.raises(ValidationError, match="two projections"):
        SAL("s", "xy", "xy")
    with pytest.raises(ValidationError, match="not a projection"):
        net.add(SAL("s", "xy", "nope"))
    net.add(SAL("s", "xy", "yx"))                      # the reciprocal pair is accepted


def test_astrocyte_covering_nothing():
    net = _net()
    with pytest.raises(ValidationError) as exc:
        Astrocytes("a", 2, covers=())
    assert "covering nothing" in _one_line(exc)
    with pytest.raises(ValidationError, match="covers nothing"):
        net.add(Astrocytes("a", 2, covers=("y",), domain=(0, 0, 0, 0)))   # astrocyte 1 has no neuron
    with pytest.raises(ValidationError, match="covers nothing"):
        net.add(Astrocytes("a", 2, covers=("xy_sparse",), domain=(0, 0, 1, 1)))  # no synapse onto y2, y3
    with pytest.raises(ValidationError, match="leave some covering nothing"):
        net.add(Astrocytes("a", 5, covers=("y",)))
    with pytest.raises(ValidationError, match="neither a population nor a projection"):
        net.add(Astrocytes("a", 1, covers=("ghost",)))


def test_other_astrocyte_errors():
    net = _net()
    with pytest.raises(ValidationError, match="Ca_tot=0.0"):
        AstrocyteLR1994(Ca_tot=0.0)
    with pytest.raises(ValidationError, match="h_IP3R"):
        AstrocyteLR1994(h_IP3R=1.5)
    with pytest.raises(ValidationError, match="SynapticGain needs covered synapses"):
        net.add(Astrocytes("a", 2, covers=("y",), coupling=(SynapticGain(),)))
    with pytest.raises(ValidationError, match="STDPGate needs a covered projection with plasticity"):
        net.add(Astrocytes("a", 2, covers=("in->y",), coupling=(STDPGate(),)))
    with pytest.raises(ValidationError, match="not a multiple of dt"):
        net.add(Astrocytes("a", 2, covers=("y",), coupling=(SlowInwardCurrent(delay=1.5),)))
    with pytest.raises(ValidationError, match="different neuron counts"):
        net.add(Astrocytes("a", 1, covers=("y", "x")))
    with pytest.raises(ValidationError, match="names a kind twice"):
        Astrocytes("a", 1, covers=("y",), coupling=(SynapticGain(), SynapticGain()))
    net.add(Astrocytes("a", 1, covers=("in->x",), coupling=(STDPGate(),)))


def test_homeostasis_reference_errors():
    net = _net()
    with pytest.raises(ValidationError, match="no population labelled 'nope'"):
        net.add(SynapticScaling("hs", "nope", 5.0))
    with pytest.raises(ValidationError, match="spike source"):
        net.add(SynapticScaling("hs", "in", 5.0))
    with pytest.raises(ValidationError, match="ends on 'y', not on 'x'"):
        net.add(SynapticScaling("hs", "x", 5.0, projections=("xy",)))
    with pytest.raises(ValidationError, match="factor_min"):
        SynapticScaling("hs", "y", 5.0, factor_min=0.0)
    with pytest.raises(ValidationError, match="scope"):
        SynapticScaling("hs", "y", 5.0, scope="layer")
    with pytest.raises(ValidationError, match="pattern 0 has 1 spike lists"):
        net.add(WeightFactorCalibration("cal", ("in->y",), "in", "y", patterns=(((1.0,),),)))
    with pytest.raises(ValidationError, match="patterns=\\(\\) is empty"):
        WeightFactorCalibration("cal", ("in->y",), "in", "y", patterns=())
    with pytest.raises(ValidationError, match="rho0"):
        EscapeNoise(rho0=0.0)


def test_json_round_trip_of_every_construct():
    net = _net()
    dyn = AstrocyteLR1994(delta_IP3=0.2, SIC_th=0.2)
    constructs = [
        SynapticScaling("hs", "y", 10.0, tau=1000.0, scope="population"),
        ThresholdAdaptation("ta", "x", 4.0, step=2.0),
        WeightFactorCalibration("cal", ("in->y",), "in", "y", patterns=(((1.0,), (), (2.0,), ()),)),
        Astrocytes("astro", 2, covers=("in->y",), dynamics=dyn, input_weight=0.5, input_delay=2.0,
                   coupling=(SlowInwardCurrent(0.01, 2.0), SynapticGain(0.3)), record=("Ca_astro", "SIC")),
        SAL("sal", "xy", "yx", tau=5.0, eta=1e-3, w_max=2.0),
    ]
    for c in constructs:
        net.add(c)
    back = nm.Network.from_json(net.to_json())
    assert back.extensions == net.extensions
    assert back.to_json() == net.to_json()


def test_sal_bounds_and_escape_noise_probability():
    s = SAL("s", "xy", "yx")
    assert s.w_max is None and s.upper == math.inf
    net = _net()
    with pytest.raises(ValidationError, match="outside \\[w_min, w_max\\]"):
        net.add(SAL("s2", "xy", "yx", w_max=0.4))
    en = EscapeNoise(rho0=20.0, delta_u=2.0, v_thresh=-50.0)
    p = en.spike_probability(np.array([-50.0, -48.0]), 1.0)
    np.testing.assert_allclose(p, 1 - np.exp(-np.array([20.0, 20.0 * math.e]) / 1000.0), rtol=1e-15)
