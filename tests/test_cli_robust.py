"""``neuromorph run`` outputs that survive: atomic writes, SIGINT/SIGTERM at a step boundary, a
non-empty --out refused without --overwrite, sparse compressed weights, --quiet, run.log."""
import csv
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from neuromorph import atomic, cli

ROOT = Path(__file__).resolve().parents[1]
TWO = ROOT / "examples" / "two_neurons.json"
EI = ROOT / "examples" / "ei_stdp.json"


def call(capsys, *args):
    rc = cli.main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def litter(folder: Path) -> list:
    return sorted(p.name for p in folder.glob(atomic.TEMP_GLOB))


def check_outputs(out: Path) -> None:
    """Every .npz loads completely and every CSV parses; no temporary file is left."""
    for path in out.glob("*.npz"):
        with np.load(path) as data:
            for key in data.files:
                data[key]
    for path in out.glob("*.csv"):
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == ["population", "neuron", "time_ms"], path
        assert all(len(r) == 3 for r in rows[1:]), path
        for r in rows[1:]:
            int(r[1]), float(r[2])
    assert litter(out) == []


# -- signals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("signame,code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_signal_stops_at_a_step_boundary_and_writes_everything(tmp_path, signame, code):
    """stderr is a terminal (a pty), so the progress bar shows; once it shows simulated time > 0
    the signal is sent. The run stops at a segment boundary and writes complete files."""
    out = tmp_path / "out"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    env = dict(os.environ, OMP_NUM_THREADS="1", COLUMNS="120")
    proc = subprocess.Popen([sys.executable, "-m", "neuromorph", "run", str(EI), "--duration", "3600000",
                             "--device", "cpu", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env, text=True)
    os.close(slave)
    seen = b""

    def read(timeout):
        nonlocal seen
        ready, _, _ = select.select([master], [], [], timeout)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:  # the child closed its end
                return False
        return True

    try:
        deadline = time.monotonic() + 15
        shown = None
        while time.monotonic() < deadline and proc.poll() is None:
            read(0.2)
            shown = [float(x) for x in re.findall(rb"([0-9.]+)/3600\.00 s simulated", seen)]
            if shown and shown[-1] > 0:
                break
        assert shown and shown[-1] > 0, seen.decode(errors="replace")
        assert b"sim-s/s" in seen  # rate: simulated s per wall s
        proc.send_signal(getattr(signal, signame))
        stdout, _ = proc.communicate(timeout=15)
        while read(0.2):
            if not select.select([master], [], [], 0)[0]:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    err = seen.decode(errors="replace")
    assert proc.returncode == code, err
    assert f"interrupted by {signame} at t=" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["signal"] == signame
    t = summary["interrupted_at_ms"]
    assert 0 < t < 3_600_000 and summary["simulated_ms"] == t and "error" not in summary
    assert f"{t:g} of {3_600_000.0:g} ms simulated (stopped by {signame})" in stdout
    check_outputs(out)
    spikes = np.load(out / "spikes.npz")
    assert spikes["exc.time_ms"].size > 0 and spikes["exc.time_ms"].max() < t
    w = np.load(out / "weights_exc_to_exc.npz")
    assert w["times_ms"][-1] < t and w["weight"].shape == (len(w["times_ms"]), w["pre"].size)
    assert {Path(f).name for f in summary["files"]} == {"spikes.csv", "spikes.npz", "weights_exc_to_exc.npz"}


def test_second_signal_is_acknowledged_and_a_third_abandons():
    stop = cli._StopSignals(quiet=True)
    stop._handle(signal.SIGTERM, None)
    assert stop.signum == signal.SIGTERM
    stop._handle(signal.SIGINT, None)            # still writing: nothing is raised
    assert stop.signum == signal.SIGTERM
    with pytest.raises(cli.Abandoned) as info:
        stop._handle(signal.SIGINT, None)
    assert info.value.signum == signal.SIGINT


def test_handlers_are_restored_after_a_run(capsys, tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert call(capsys, "run", TWO, "--duration", "20", "--device", "cpu", "--out", tmp_path)[0] == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


# -- --out, --overwrite -----------------------------------------------------------------------
def test_non_empty_out_is_refused_and_overwrite_removes_stale_files(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    rc, out, err = call(capsys, "run", TWO, "--duration", "20", "--device", "cpu", "--out", tmp_path)
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuromorph: error: --out") and "--overwrite" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]      # nothing written
    # files of an earlier run that this one does not write, and a killed writer's temporary file
    for name in ("trace_old_v.npz", "weights_gone.npz", "raster.png", "run.log", "spikes-2.npz", ".spikes.x1y2.tmp.npz"):
        (tmp_path / name).write_bytes(b"stale")
    (tmp_path / "spinnaker").mkdir()
    (tmp_path / "spinnaker" / "report.txt").write_text("stale")
    rc, out, err = call(capsys, "run", TWO, "--duration", "20", "--device", "cpu", "--out", tmp_path, "--overwrite")
    assert rc == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "spikes.csv", "spikes.npz", "summary.json", "trace_neurons_v.npz", "weights_input_to_neurons.npz"]
    assert (tmp_path / "notes.txt").read_text() == "mine"
    check_outputs(tmp_path)


def test_out_that_is_a_file_is_refused(capsys, tmp_path):
    (tmp_path / "f").write_text("x")
    rc, _, err = call(capsys, "run", TWO, "--out", tmp_path / "f")
    assert rc == 2 and "is a file" in err and len(err.strip().splitlines()) == 1


# -- weights ----------------------------------------------------------------------------------
def test_weights_file_is_sparse_and_equals_the_list_weights(capsys, tmp_path):
    import neuromorph as nm

    rc, _, err = call(capsys, "run", EI, "--duration", "100", "--device", "cpu", "--out", tmp_path)
    assert rc == 0, err
    w = np.load(tmp_path / "weights_exc_to_exc.npz")
    assert set(w.files) == {"pre", "post", "times_ms", "weight", "unit", "every_steps"}
    net = nm.Network.from_json(EI.read_text())
    nsyn = net.connectivity("exc->exc").size
    assert w["pre"].shape == w["post"].shape == (nsyn,) and w["weight"].shape == (10, nsyn)
    assert np.allclose(w["times_ms"], np.arange(0, 100, 10)) and int(w["every_steps"]) == 10
    sim = nm.build(net, backend="torch", device="cpu")
    for k, t in enumerate(w["times_ms"]):
        sim.run(t - sim.time) if t > sim.time else None
        pre, post, weight = sim.weights("exc->exc", format="list")
        assert np.array_equal(pre, w["pre"]) and np.array_equal(post, w["post"])
        assert np.array_equal(weight, w["weight"][k]), t
    assert len(np.unique(w["weight"], axis=0)) > 1   # STDP changed them: a real comparison


def test_batched_weights_are_batch_samples_synapses(capsys, tmp_path):
    rc, _, err = call(capsys, "run", TWO, "--duration", "50", "--device", "cpu", "--batch", "2", "--out", tmp_path)
    assert rc == 0, err
    w = np.load(tmp_path / "weights_input_to_neurons.npz")
    assert w["weight"].shape == (2, 5, 4) and w["pre"].shape == (4,)


# -- quiet, progress, run.log -----------------------------------------------------------------
def test_quiet_prints_nothing_on_a_successful_run(tmp_path):
    res = subprocess.run([sys.executable, "-m", "neuromorph", "run", str(TWO), "--duration", "50", "--device", "cpu",
                          "--out", str(tmp_path), "--quiet"], capture_output=True, text=True, timeout=120,
                         stdin=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""
    assert json.loads((tmp_path / "summary.json").read_text())["simulated_ms"] == 50.0


def test_simulator_noise_goes_to_run_log(capfd, tmp_path, monkeypatch):
    import logging

    import neuromorph.simulation as simulation

    real_build = simulation.build

    def noisy_build(net, backend="torch", **options):
        os.write(1, b"NEST says: something at the C level\n")
        print("PyNN prints this")
        warnings.warn("a simulator warning", UserWarning)
        logging.getLogger("pyNN.fake").warning("a logged warning")
        return real_build(net, backend=backend, **options)

    monkeypatch.setattr(simulation, "build", noisy_build)
    rc = cli.main(["run", str(TWO), "--duration", "20", "--device", "cpu", "--out", str(tmp_path)])
    captured = capfd.readouterr()
    assert rc == 0, captured.err
    for text in ("NEST says", "PyNN prints", "a simulator warning", "a logged warning"):
        assert text not in captured.out and text not in captured.err, text
    log = (tmp_path / "run.log").read_text()
    for text in ("NEST says", "PyNN prints", "a simulator warning", "a logged warning"):
        assert text in log, text
    assert "wrote " + str(tmp_path / "run.log") in captured.out
    assert str(tmp_path / "run.log") in json.loads((tmp_path / "summary.json").read_text())["files"]


def test_summary_is_written_on_a_build_error(capsys, tmp_path):
    rc, _, err = call(capsys, "run", TWO, "--device", "tpu", "--out", tmp_path)
    assert rc == 2 and "tpu" in err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "tpu" in summary["error"] and summary["simulated_ms"] == 0.0 and summary["files"] == []


# -- atomic writes ----------------------------------------------------------------------------
class Crash(Exception):
    pass


def test_a_writer_that_crashes_leaves_no_file_and_no_litter(tmp_path):
    path = tmp_path / "spikes.csv"
    with pytest.raises(Crash):
        with atomic.atomic_open(path, "w") as fh:
            fh.write("population,neuron,time_ms\ninput,0,")
            raise Crash
    assert list(tmp_path.iterdir()) == []
    # an earlier complete file survives a crashed rewrite unchanged
    atomic.write_text(path, "complete\n")
    with pytest.raises(Crash):
        with atomic.atomic_open(path, "w") as fh:
            fh.write("trunc")
            raise Crash
    assert path.read_text() == "complete\n" and litter(tmp_path) == []

    class Exploding:
        def __array__(self, *a, **k):
            raise Crash

    with pytest.raises(Crash):
        atomic.savez_compressed(tmp_path / "w.npz", a=np.arange(1000), b=Exploding())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spikes.csv"]
    # a KeyboardInterrupt (a signal) cleans up the same way
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_path(tmp_path / "x.npz"):
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spikes.csv"]


def test_atomic_files_get_normal_permissions_and_exact_names(tmp_path):
    p = atomic.savez_compressed(tmp_path / "t.npz", a=np.arange(3))
    assert p == tmp_path / "t.npz" and np.array_equal(np.load(p)["a"], np.arange(3))
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == 0o666 & ~mask


def _signal_self_while_writing_weights(monkeypatch, signals, partial=False):
    """Patch the weights writer to send ``signals`` to this process part-way through its write."""
    real = atomic.savez_compressed

    def savez(path, **arrays):
        if not Path(path).name.startswith("weights_"):
            return real(path, **arrays)
        with atomic.atomic_open(path, "wb") as fh:
            fh.write(b"PK partial")
            for signum in signals:
                os.kill(os.getpid(), signum)
                time.sleep(0.05)  # the handler runs here
        return real(path, **arrays)

    monkeypatch.setattr(atomic, "savez_compressed", savez)


def test_signal_after_the_last_step_finishes_every_file(capsys, tmp_path, monkeypatch):
    _signal_self_while_writing_weights(monkeypatch, [signal.SIGINT, signal.SIGINT])
    rc, out, err = call(capsys, "run", TWO, "--duration", "50", "--device", "cpu", "--out", tmp_path)
    assert rc == 130, err
    assert "after the run had finished" in err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] is False and summary["simulated_ms"] == 50.0
    assert len(summary["files"]) == 4
    check_outputs(tmp_path)
    assert np.load(tmp_path / "weights_input_to_neurons.npz")["weight"].shape == (5, 4)


def test_a_third_signal_abandons_leaving_only_complete_files(capsys, tmp_path, monkeypatch):
    _signal_self_while_writing_weights(monkeypatch, [signal.SIGTERM] * 3)
    rc, out, err = call(capsys, "run", TWO, "--duration", "50", "--device", "cpu", "--out", tmp_path)
    assert rc == 143, err
    assert "a third time" in err.strip().splitlines()[-1]
    # the files written before are complete; the weights file and the summary are not there, nor litter
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spikes.csv", "spikes.npz", "trace_neurons_v.npz"]
    check_outputs(tmp_path)
