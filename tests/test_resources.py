"""Issue 10: the torch engine's memory guard counts recordings (and ``max_memory`` /
``--max-memory``), long unrecorded runs allocate nothing up front, ``neuromorph run --neo`` writes
neo Blocks, and ``sim.run(ms, progress=True)`` draws its bar on stderr."""
import json
import pickle
import time

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import cli
from neuromorph.backends.torch import memory
from neuromorph.errors import SimulationError, ValidationError


def _net(record=True, n=4):
    net = nm.Network(dt=1.0, seed=1)
    src = net.population("in", 2, nm.SpikeSourceArray([[5.0, 15.0, 25.0], [10.0, 20.0]]))
    out = net.population("out", n, nm.IF_curr_exp())
    net.connect(src, out, nm.AllToAll(), weight=2.0, label="in-out")
    if record:
        net.record(out, "spikes", "v")
        net.record(src, "spikes")
        net.record("in-out", "weights", every=10)
    return net


def test_parse_size():
    assert memory.parse_size("8G") == 8 * 2**30
    assert memory.parse_size("512MiB") == 512 * 2**20
    assert memory.parse_size("1.5k") == 1536
    assert memory.parse_size(1000) == 1000
    assert memory.parse_size(None) is None
    for bad in ("10X", "-1G", "0", True, [1]):
        with pytest.raises(ValidationError, match="max_memory"):
            memory.parse_size(bad)


def test_huge_recording_is_refused_before_anything_is_allocated(monkeypatch):
    sim = nm.build(_net(), backend="torch")
    monkeypatch.setattr(memory, "available_bytes", lambda device: 2**30)  # 1 GiB free
    t = time.perf_counter()
    with pytest.raises(SimulationError) as err:
        sim.run(1e8)  # 1e8 samples of v of 4 neurons: ~60 GiB of traces
    assert time.perf_counter() - t < 1.0
    msg = str(err.value)
    assert "GiB" in msg and "traces" in msg and "1.0 GiB is available" in msg
    assert "shorter" in msg and "every" in msg and "fewer variables" in msg
    assert sim.time == 0.0 and sim.trace("out", "v").shape == (0, 4)
    sim.run(50)  # a run that fits still goes
    assert sim.trace("out", "v").shape == (50, 4)


def test_run_estimate_counts_samples_with_every():
    sim = nm.build(_net(), backend="torch")
    parts = memory.run_estimate(sim, 1000)
    assert parts["traces"] == 1000 * (4 * 8 + memory.ROW_BYTES)
    assert parts["weights"] == 100 * (8 * 8 + memory.ROW_BYTES)  # every 10 steps, 2 × 4 synapses
    assert parts["spike buffers"] == 1000 * 6
    # the spike buffer is one chunk, whatever the length
    assert memory.run_estimate(sim, 10**8)["spike buffers"] == parts["spike buffers"]


def test_max_memory_is_honoured():
    net = _net()
    with pytest.raises(SimulationError, match="max_memory=100 bytes"):
        nm.build(net, backend="torch", max_memory=100)  # the build estimate alone is larger
    sim = nm.build(net, backend="torch", max_memory="1M")
    sim.run(100)
    with pytest.raises(SimulationError, match=r"max_memory=1,048,576 bytes"):
        sim.run(10_000)  # ~6 MiB of traces
    assert sim.time == 100.0
    # without max_memory the same run fits (the machine has more than a few MiB)
    nm.build(net, backend="torch").run(2000)


def test_long_unrecorded_run_allocates_nothing_up_front(monkeypatch):
    net = _net(record=False)
    monkeypatch.setattr(memory, "available_bytes", lambda device: 2**20)  # 1 MiB: any recording would fail
    sim = nm.build(net, backend="torch", max_memory="64M")
    assert sum(memory.run_estimate(sim, 10**9).values()) == 0
    assert memory.run_estimate(sim, 10).items() == memory.run_estimate(sim, 10**9).items()
    sim.check_memory(1e9)  # accepted
    # run(1e9) starts at once: stop it after three chunks
    calls = []
    real = sim._run_chunk

    def chunk(*a):
        calls.append(a[0])
        real(*a)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(sim, "_run_chunk", chunk)
    t = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        sim.run(1e9)
    assert time.perf_counter() - t < 5.0
    assert sim.time == 3000.0


def test_max_memory_cli_option(tmp_path, capsys):
    model = tmp_path / "m.json"
    model.write_text(_net().to_json())
    rc = cli.main(["run", str(model), "--out", str(tmp_path / "a"), "--max-memory", "10K", "--duration", "100000"])
    err = capsys.readouterr().err
    assert rc == 2 and "max_memory=10,240 bytes" in err and "record every k steps" in err
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["simulated_ms"] == 0.0
    rc = cli.main(["run", str(model), "--out", str(tmp_path / "b"), "--max-memory", "8X"])
    err = capsys.readouterr().err
    assert rc == 2 and "--max-memory='8X' is not a size" in err and not (tmp_path / "b").exists()
    rc = cli.main(["run", str(model), "--out", str(tmp_path / "c"), "--max-memory", "8G", "--backend", "pynn:nest"])
    err = capsys.readouterr().err
    assert rc == 2 and "--max-memory applies to the torch backend only" in err
    rc = cli.main(["run", str(model), "--out", str(tmp_path / "d"), "--max-memory", "64M", "--quiet"])
    assert rc == 0, capsys.readouterr().err


def test_neo_output_loads_with_neo_and_has_the_spike_counts(tmp_path, capsys):
    neo = pytest.importorskip("neo")
    model = tmp_path / "m.json"
    model.write_text(_net().to_json())
    out = tmp_path / "out"
    rc = cli.main(["run", str(model), "--out", str(out), "--neo", "--duration", "60"])
    assert rc == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    nix = (out / "results_neo.nix").exists()
    if nix:
        io = neo.io.NixIO(str(out / "results_neo.nix"), mode="ro")
        blocks = io.read_all_blocks()
    else:
        blocks = neo.io.PickleIO(str(out / "results_neo.pkl")).read_block()
        with open(out / "results_neo.pkl", "rb") as fh:
            assert len(pickle.load(fh)) == len(blocks)
    assert str(out / ("results_neo.nix" if nix else "results_neo.pkl")) in summary["files"]
    by_name = {b.name: b for b in blocks}
    assert set(by_name) == {"out", "in"}
    for label in ("out", "in"):
        seg = by_name[label].segments[0]
        assert sum(len(st) for st in seg.spiketrains) == summary["populations"][label]["spikes"]
    assert summary["populations"]["in"]["spikes"] == 5 and summary["populations"]["out"]["spikes"] > 0
    v = [a for a in by_name["out"].segments[0].analogsignals if a.name == "v"][0]
    assert v.shape == (60, 4)
    if nix:
        io.close()
    assert not list(out.glob(".*.tmp*"))


def test_neo_option_without_neo_is_one_line(tmp_path, capsys, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "neo" else real(name, *a))
    model = tmp_path / "m.json"
    model.write_text(_net().to_json())
    rc = cli.main(["run", str(model), "--out", str(tmp_path / "o"), "--neo"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "neuromorph[pynn]" in err
    assert not (tmp_path / "o").exists()


def test_progress_goes_to_stderr_not_stdout(capsys):
    sim = nm.build(_net(), backend="torch")
    sim.run(2500, progress=True)  # three chunks
    out = capsys.readouterr()
    assert out.out == ""
    assert "s simulated" in out.err
    sim.run(100)  # default: no bar
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert sim.time == 2600.0
    np.testing.assert_equal(sim.trace("out", "v").shape, (2600, 4))


def test_resume_keeps_max_memory_and_neo(tmp_path, capsys):
    pytest.importorskip("neo")
    model = tmp_path / "m.json"
    model.write_text(_net().to_json())
    out = tmp_path / "o"
    rc = cli.main(["run", str(model), "--out", str(out), "--max-memory", "64M", "--neo", "--checkpoint-every", "20",
                   "--duration", "40", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    rc = cli.main(["resume", str(out), "--duration", "80", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["max_memory"] == "64M" and summary["neo"] and summary["simulated_ms"] == 80.0
    assert any(f.endswith(("results_neo.pkl", "results_neo.nix")) for f in summary["files"])
