"""Packet headers as an event stream, fed to the spatial-pattern detector (models/spatial_pattern.py).

The detector paper's motivating use: spot given 10-bit words (packet headers) in traffic. Here the
traffic is a synthetic event stream (nothing is downloaded): a 1-D "sensor" of 10 pixels, one per
header bit (x = bit index, most significant first, as ``spatial_pattern.word_bits``), where a
packet's arrival makes every bit pixel emit one event with polarity = the bit's value, jittered
within the millisecond. Polarity 0 events are the "0"-lines, polarity 1 the "1"-lines: with
``sensor_size = (10, 1, 2)`` the neuron index ``p·10 + x`` puts the "0"-lines at 0..9 and the
"1"-lines at 10..19 (neuromorph/events.py).

Steps: train the detector on ``TRAINED`` (spike-level STDP, then the homeostatic factor h); cut
the stream into one recording per packet with tonic's ``SliceByTime`` (times reset per packet, so
each header arrives at the detector's test time, 10 ms); convert the recordings to a tensor
``[steps, packets, 20]`` (``events_to_tensor``) and run all packets as one batch through
``sim.forward``; do the same through spike-time lists (``events_to_spike_times`` →
``set_spike_times``) and check both against ``spatial_pattern.present``.

Run: ``.venv/bin/python examples/events_spatial_pattern.py`` (a few seconds; needs tonic).
"""
from __future__ import annotations

import numpy as np

import neuromorph as nm
from neuromorph.events import events_to_spike_times, events_to_tensor, make_events
from neuromorph.models import spatial_pattern as sp

BITS = 10
TRAINED = (992, 1008)                 # the paper's pair: 1111100000, 1111110000
SENSOR = (BITS, 1, 2)                 # (W, H, P): 10 bit pixels, polarity = bit value
PERIOD_US = int(sp.TEST_MS * 1000)    # one packet per detector test window (20 ms)
DT = 1.0                              # the detector's step [ms]


def packet_stream(words, seed: int = 0) -> np.ndarray:
    """One event per header bit per packet: packet j arrives at j·20 ms + 10 ms (+ <1 ms jitter)."""
    rng = np.random.default_rng(seed)
    x, p, t = [], [], []
    for j, w in enumerate(words):
        x.append(np.arange(BITS))
        p.append(sp.word_bits(w, BITS).astype(int))
        t.append(j * PERIOD_US + int(sp.TEST_AT_MS * 1000) + rng.integers(0, 1000, BITS))
    ev = make_events(np.concatenate(x), np.concatenate(p), np.concatenate(t))
    return np.sort(ev, order="t")


def per_packet(stream: np.ndarray, n_packets: int) -> list[np.ndarray]:
    """tonic's SliceByTime: one recording per 20 ms window, times reset to the window's start."""
    from tonic.slicers import SliceByTime

    slicer = SliceByTime(time_window=PERIOD_US, start_time=0, end_time=n_packets * PERIOD_US, reset_time=True)
    slices, _ = slicer.slice(stream.copy(), None)
    return slices


def run(words=None, trained=TRAINED, seed: int = 0, verbose: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    if words is None:   # traffic: the trained headers, near misses, random headers
        words = [992, 17, 1008, 993, 500, 1008, 960, 1016, *rng.integers(0, 2 ** BITS, 4).tolist()]
    words = [int(w) for w in words]
    learned = sp.train_words(sorted(set(trained)), BITS)
    W1 = np.sum([r["W1"] for r in learned], axis=0)
    W0 = np.sum([r["W0"] for r in learned], axis=0)
    h, _ = sp.homeostasis_factor(trained, W1, W0, BITS)

    recordings = per_packet(packet_stream(words, seed), len(words))
    steps = int(sp.TEST_MS / DT)
    net = sp.build_test_network(W1, W0, [h], BITS)

    # tensor path: [steps, packets, 20] -> one batched forward run
    x = events_to_tensor(recordings, SENSOR, DT, steps)
    sim = nm.build(net, backend="torch", batch=len(words), numerics="spinnaker", device="cpu")
    out = sim.forward(sp.TEST_MS, outputs=["output"], inputs={"source_zero": x[:, :, :BITS], "source_one": x[:, :, BITS:]})
    by_tensor = out["output"].sum(0)[:, 0].numpy() > 0

    # spike-time path: per-trial lists of per-neuron times -> set_spike_times
    times = events_to_spike_times(recordings, SENSOR, DT, steps)
    sim2 = nm.build(net, backend="torch", batch=len(words), numerics="spinnaker", device="cpu")
    sim2.set_spike_times("source_zero", [t[:BITS] for t in times])
    sim2.set_spike_times("source_one", [t[BITS:] for t in times])
    sim2.run(sp.TEST_MS)
    by_times = np.array([len(s[0]) > 0 for s in sim2.spikes("output")])

    reference = sp.present(words, W1, W0, [h], BITS)[:, 0]
    if verbose:
        print(f"trained on {list(trained)}, h = {h:.6f}; {len(words)} packets, {len(np.concatenate(recordings))} events")
        for w, d in zip(words, by_tensor):
            print(f"  header {w:4d} = {w:0{BITS}b}  {'DETECTED' if d else '-'}")
        print("tensor path == spike-time path == spatial_pattern.present:",
              bool((by_tensor == by_times).all() and (by_tensor == reference).all()))
    return {"words": words, "h": h, "tensor": by_tensor, "times": by_times, "reference": reference}


if __name__ == "__main__":
    run()
