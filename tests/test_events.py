"""Event-sensor inputs through tonic (neuromorph/events.py, issue 12 item 3): conversion in closed
form, tonic's transforms in front of it, the tensor path equal to the spike-time-list path on the
torch backend, and the shipped example."""
from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

tonic = pytest.importorskip("tonic", reason="needs the [events] extra: pip install -e \".[events]\" (tonic==1.7.0)")
import tonic.transforms as T  # noqa: E402
import torch  # noqa: E402

import neuromorph as nm  # noqa: E402
from neuromorph.errors import ValidationError  # noqa: E402
from neuromorph.events import (events_to_spike_times, events_to_tensor, frames_to_tensor, make_events,  # noqa: E402
                               n_neurons, neuron_index)

ROOT = Path(__file__).resolve().parents[1]
SENSOR = (4, 3, 2)   # W, H, P -> 24 neurons, i = (p*3 + y)*4 + x


def hand_events():
    # (x, y, p, t[us]) ; dt = 2 ms -> step = t // 2000
    rows = [(0, 0, 0, 0),          # i 0,  step 0
            (3, 2, 1, 1999),       # i 23, step 0
            (1, 1, 0, 2000),       # i 5,  step 1
            (1, 1, 0, 3999),       # i 5,  step 1 again (one spike; count 2)
            (2, 0, 1, 7500),       # i 14, step 3 (step 2 from t0 = 2000)
            (0, 2, 0, 5000)]       # i 8,  step 2
    rows = rows[::-1]              # unsorted on purpose
    x, y, p, t = map(np.array, zip(*rows))
    return make_events(x, p, t, y=y)


def test_closed_form_spike_times_and_tensor():
    ev = hand_events()
    before = ev.copy()
    assert n_neurons(SENSOR) == 24
    assert neuron_index(3, 2, 1, SENSOR) == 23 and neuron_index(2, 0, 1, SENSOR) == 14
    times = events_to_spike_times(ev, SENSOR, dt=2.0)
    want = {0: [0.0], 23: [0.0], 5: [2.0], 8: [4.0], 14: [6.0]}
    assert times == [want.get(i, []) for i in range(24)]
    np.testing.assert_array_equal(ev, before)                       # input not modified
    x = events_to_tensor(ev, SENSOR, dt=2.0, n_steps=5)
    assert x.shape == (5, 1, 24) and x.dtype == torch.float32
    expect = torch.zeros(5, 1, 24)
    for i, ts in want.items():
        for t in ts:
            expect[int(t / 2.0), 0, i] = 1
    assert torch.equal(x, expect)
    c = events_to_tensor(ev, SENSOR, dt=2.0, n_steps=5, counts=True)
    assert c[1, 0, 5] == 2 and c.sum() == len(ev)
    # n_steps truncates, t0 shifts step 0 (events before it are dropped)
    assert events_to_spike_times(ev, SENSOR, dt=2.0, n_steps=2)[14] == []
    shifted = events_to_spike_times(ev, SENSOR, dt=2.0, t0=2000)
    assert shifted[5] == [0.0] and shifted[14] == [4.0] and shifted[0] == [] and shifted[23] == []
    # a list of streams: one trial each
    both = events_to_tensor([ev, ev[ev["p"] == 1]], SENSOR, dt=2.0, n_steps=5)
    assert both.shape == (5, 2, 24) and torch.equal(both[:, 0], x[:, 0]) and both[:, 1].sum() == 2
    assert events_to_spike_times([ev], SENSOR, dt=2.0) == [times]


def test_one_dimensional_sensor_and_frames():
    ev = make_events(x=[0, 9, 4], p=[1, 0, 1], t=[0, 1000, 1500])       # no y field: i = p*10 + x
    times = events_to_spike_times(ev, (10, 1, 2), dt=1.0)
    assert times[10] == [0.0] and times[9] == [1.0] and times[14] == [1.0] and sum(map(len, times)) == 3
    frames = T.ToFrame(sensor_size=(10, 1, 2), time_window=1000, start_time=0, end_time=2000)(ev.copy())
    assert torch.equal(frames_to_tensor(frames), events_to_tensor(ev, (10, 1, 2), 1.0, 2, counts=True))


def test_fractional_dt_keeps_every_step():
    n = 37
    ev = make_events(x=np.zeros(n, int), p=np.zeros(n, int), t=(np.arange(n) * 300 + 150))
    for dt in (0.3, 0.1 * 3):
        times = events_to_spike_times(ev, (1, 1, 1), dt=dt, n_steps=n)[0]
        assert len(times) == n and times[-1] == pytest.approx((n - 1) * dt)
        assert events_to_tensor(ev, (1, 1, 1), dt=dt, n_steps=n).sum() == n


def test_refusals():
    ev = hand_events()
    with pytest.raises(ValidationError, match="outside the sensor"):
        events_to_spike_times(ev, (3, 3, 2), dt=1.0)
    with pytest.raises(ValidationError, match="sensor_size"):
        events_to_spike_times(ev, (4, 3), dt=1.0)
    with pytest.raises(ValidationError, match="dt"):
        events_to_tensor(ev, SENSOR, dt=0, n_steps=3)
    with pytest.raises(ValidationError, match="structured"):
        events_to_tensor(np.zeros((3, 4)), SENSOR, dt=1.0, n_steps=3)


def test_downsample_halves_the_index_space():
    rng = np.random.default_rng(1)
    big = (8, 6, 2)
    x, y, p = rng.integers(0, 8, 40), rng.integers(0, 6, 40), rng.integers(0, 2, 40)
    t = np.sort(rng.integers(0, 10_000, 40))
    ev = make_events(x, p, t, y=y)
    small_size = (4, 3, 2)
    small = T.Downsample(spatial_factor=0.5)(ev)
    assert n_neurons(small_size) * 4 == n_neurons(big)
    got = events_to_tensor(small, small_size, dt=1.0, n_steps=10, counts=True)
    want = torch.zeros(10, 1, 24)
    for xi, yi, pi, ti in zip(x, y, p, t):
        want[ti // 1000, 0, neuron_index(xi // 2, yi // 2, pi, small_size)] += 1
    assert torch.equal(got, want)


def test_denoise_removes_an_isolated_event():
    # tonic's Denoise keeps an event when a 4-neighbour fired within filter_time before it (and
    # everything in the first filter_time us); the burst at (2,2)/(3,2) survives, (6,5) does not
    ev = make_events(x=[2, 3, 6, 2], y=[2, 2, 5, 2], p=[0, 0, 0, 0], t=[20_000, 20_100, 20_150, 20_200])
    clean = T.Denoise(filter_time=1000)(ev)
    size = (8, 6, 2)
    before = events_to_spike_times(ev, size, dt=1.0)
    after = events_to_spike_times(clean, size, dt=1.0)
    assert before[neuron_index(6, 5, 0, size)] == [20.0]
    assert after[neuron_index(6, 5, 0, size)] == []
    assert after[neuron_index(3, 2, 0, size)] == [20.0] and after[neuron_index(2, 2, 0, size)] == [20.0]


def _net(times, n_in):
    net = nm.Network(dt=1.0, seed=0)
    net.spike_source("in", times)
    net.population("out", 6, nm.IF_curr_exp())
    w = np.random.default_rng(2).uniform(0.0, 1.5, (n_in, 6))
    net.connect("in", "out", nm.AllToAll(), weight=w, delay=1.0)
    net.record("out", "spikes")
    return net


@pytest.mark.parametrize("numerics", ["spinnaker", "spinnaker-float"])
def test_tensor_path_equals_spike_time_path(numerics):
    rng = np.random.default_rng(3)
    streams = []
    for b in range(3):
        m = 300
        streams.append(make_events(rng.integers(0, 4, m), rng.integers(0, 2, m), rng.integers(0, 40_000, m),
                                   y=rng.integers(0, 3, m)))
    steps, n = 40, n_neurons(SENSOR)
    x = events_to_tensor(streams, SENSOR, 1.0, steps)
    times = events_to_spike_times(streams, SENSOR, 1.0, steps)
    a = nm.build(_net([[] for _ in range(n)], n), backend="torch", batch=3, numerics=numerics, device="cpu")
    out = a.forward(float(steps), outputs=["out", "in"], inputs={"in": x})
    assert torch.equal(out["in"].cpu().float(), x)
    b = nm.build(_net(times[0], n), backend="torch", batch=3, numerics=numerics, device="cpu")
    b.set_spike_times("in", times)
    b.run(float(steps))
    sa, sb = a.spikes("out"), b.spikes("out")
    assert sum(len(np.asarray(s)) for trial in sa for s in trial) > 0
    for ta, tb in zip(sa, sb):
        for ra, rb in zip(ta, tb):
            np.testing.assert_array_equal(np.asarray(ra), np.asarray(rb))


def test_example_runs():
    mod = runpy.run_path(str(ROOT / "examples" / "events_spatial_pattern.py"), run_name="events_example")
    r = mod["run"](verbose=False)
    assert (r["tensor"] == r["times"]).all() and (r["tensor"] == r["reference"]).all()
    detected = {w for w, d in zip(r["words"], r["tensor"]) if d}
    assert detected == {992, 1008}
