"""Everyday use, as a new user meets it (issue 10): the CLI and the API agree, help texts are plain
text, off-grid times get usable suggestions, a numerics mismatch is named first, mechanism
accessors return numpy, simulator chatter stays off stdout, long model runs report progress."""
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import cli
from neuromorph.errors import UnsupportedError, ValidationError
from neuromorph.mechanisms import SynapticScaling, ThresholdAdaptation
from neuromorph.validation import steps

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "two_neurons.json"


def _net():
    return nm.Network.from_json(EXAMPLE.read_text(encoding="utf-8"))


# -- 2. the CLI and the API give the same spikes ------------------------------------------------
@pytest.mark.parametrize("numerics", [None, "exact"])
def test_cli_run_and_nm_build_give_the_same_spikes(tmp_path, capsys, numerics):
    args = ["run", str(EXAMPLE), "--duration", "100", "--device", "cpu", "--out", str(tmp_path), "-q"]
    if numerics:
        args += ["--numerics", numerics]
    assert cli.main(args) == 0, capsys.readouterr().err
    saved = np.load(tmp_path / "spikes.npz")
    net = _net()
    sim = nm.build(net, **({"numerics": numerics} if numerics else {}))  # the API's own default
    sim.run(100.0)
    for label in ("neurons", "input"):
        api = sim.spikes(label)
        assert sum(len(t) for t in api) > 0
        for i, times in enumerate(api):
            cli_times = saved[f"{label}.time_ms"][saved[f"{label}.neuron"] == i]
            np.testing.assert_array_equal(np.sort(cli_times), np.asarray(times, dtype=float), err_msg=f"{label}[{i}]")


def test_default_numerics_are_the_same_in_the_cli_and_the_api():
    import inspect

    from neuromorph.backends import torch as torch_backend

    default = inspect.signature(torch_backend.build).parameters["numerics"].default
    args = cli.parser().parse_args(["run", str(EXAMPLE)])
    assert cli._backend_options(args)["numerics"] == default == "spinnaker"


# -- 5. task --help is plain text -------------------------------------------------------------
@pytest.mark.parametrize("task", sorted(cli.TASKS))
def test_task_help_has_no_rst_markup(capsys, task):
    with pytest.raises(SystemExit) as exc:
        cli.main(["task", task, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: neuromorph task {task}" in out
    assert "`" not in out, out
    assert "--out" in out.split("options:")[0]  # the description says what it writes, in plain words


# -- 6. off-grid times suggest valid positive multiples ----------------------------------------
def test_off_grid_duration_suggests_the_nearest_positive_multiple(capsys, tmp_path):
    rc = cli.main(["run", str(EXAMPLE), "--duration", "0.5", "--device", "cpu", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "such as 1 ms" in err and "such as 0" not in err, err


@pytest.mark.parametrize("value,dt,minimum,expect", [
    (0.5, 1.0, 0, "such as 1 ms"),
    (2.5, 1.0, 0, "such as 2 ms or 3 ms"),
    (0.05, 0.1, 0, "such as 0.1 ms"),
    (0.4, 1.0, 1, "such as 1 ms"),      # a delay: at least one step
    (1.3, 1.0, 1, "such as 1 ms or 2 ms"),
])
def test_steps_suggestions(value, dt, minimum, expect):
    with pytest.raises(ValidationError) as exc:
        steps("run", "duration", value, dt, minimum=minimum)
    assert expect in str(exc.value), str(exc.value)
    assert "such as 0 " not in str(exc.value) + " "


# -- 7. a numerics mismatch on PyNN is named first -------------------------------------------
@pytest.mark.parametrize("backend,numerics,own", [("pynn:nest", "spinnaker", "exact"),
                                                  ("pynn:spinnaker", "exact", "spinnaker")])
def test_pynn_numerics_mismatch_is_reported_before_any_construct(backend, numerics, own):
    with pytest.raises(UnsupportedError) as exc:
        nm.build(_net(), backend=backend, numerics=numerics)  # the network has a SpikeSourceArray and STDP
    msg = str(exc.value)
    assert msg.startswith(f"{backend} computes numerics {own!r}"), msg
    assert f"--numerics {own}" in msg and "--backend torch" in msg
    assert "SpikeSourceArray" not in msg and "STDP" not in msg


def test_cli_validate_reports_the_numerics_mismatch(capsys):
    rc = cli.main(["validate", str(EXAMPLE), "--backend", "pynn:nest", "--numerics", "spinnaker"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "pynn:nest computes numerics 'exact'; use numerics='exact' (--numerics exact)" in err, err
    assert "SpikeSourceArray" not in err


# -- 9. mechanism accessors return numpy --------------------------------------------------------
def _homeostasis_net(scope="neuron"):
    net = nm.Network(dt=1.0, seed=0)
    net.poisson_source("in", 5, 20.0)
    net.population("n", 3, nm.IF_curr_exp())
    net.connect("in", "n", nm.AllToAll(), weight=0.2)
    net.add(SynapticScaling("scaling", "n", target_rate=10.0, tau=100.0, rate_tau=50.0, scope=scope))
    net.add(ThresholdAdaptation("adapt", "n", target_rate=10.0, tau=100.0, rate_tau=50.0))
    return net


@pytest.mark.parametrize("batch,scope,shape,shift_shape", [(1, "neuron", (3,), (3,)), (2, "neuron", (2, 3), (2, 3)),
                                                          (1, "population", (1,), (3,))])
def test_torch_mechanism_accessors_are_numpy(batch, scope, shape, shift_shape):
    sim = nm.build(_homeostasis_net(scope), batch=batch)
    sim.run(50.0)
    mech = {m.label: m for m in sim.mechanisms}
    factor, shift = mech["scaling"].factor, mech["adapt"].shift
    for value, want in ((factor, shape), (shift, shift_shape)):
        assert isinstance(value, np.ndarray) and value.dtype == np.float64 and value.shape == want
    assert np.all(factor != 1.0) and np.all(shift != 0.0)  # they acted (no spikes yet: below target)
    np.testing.assert_array_equal(factor, mech["scaling"].state.factor.cpu().numpy().reshape(factor.shape))
    factor[...] = 7.0  # a copy: writing to it changes nothing in the simulation
    assert np.all(mech["scaling"].factor != 7.0)


# -- 4. simulator output stays off stdout (validate/task) ------------------------------------
def test_simulator_output_is_held_back_and_noted(capfd, monkeypatch):
    import warnings

    monkeypatch.delenv("NEUROMORPH_DEBUG", raising=False)
    with cli._SimulatorOutput() as held:
        os.write(1, b"NEST: some C-level warning\n")
        warnings.warn("a simulator warning")
        print("neuromorph's own line")
    out = capfd.readouterr().out
    assert "neuromorph's own line" in out
    assert "C-level" not in out and "simulator warning" not in out
    assert "C-level" in held.text and "a simulator warning" in held.text
    assert re.match(r"note: the simulator printed [23] lines", held.note()), held.note()  # a warning: 1-2 lines


def test_simulator_output_on_a_real_stdout():
    """In a process whose sys.stdout is file descriptor 1 (a terminal, a pipe): the Python-level
    prints still reach it, what is written to fd 1 underneath does not."""
    import subprocess

    code = ("import os; from neuromorph import cli\n"
            "with cli._SimulatorOutput() as held:\n"
            "    os.write(1, b'C-LEVEL\\n'); print('OWN')\n"
            "print('AFTER', repr(held.text))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "NEUROMORPH_DEBUG": ""})
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["OWN", "AFTER 'C-LEVEL\\n'"], res.stdout


def test_pynn_task_backend_detection():
    assert cli._pynn_task_backend(["--backend", "pynn:nest"])
    assert cli._pynn_task_backend(["--words", "1", "--backend=pynn"])
    assert not cli._pynn_task_backend(["--backend", "torch"])
    assert not cli._pynn_task_backend([])


# -- 8. the empty raster of a virtual SpiNNaker board says why --------------------------------
def test_raster_note(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    from neuromorph import plotting

    written, real = [], Axes.text
    monkeypatch.setattr(Axes, "text", lambda self, x, y, s, *a, **k: written.append(s) or real(self, x, y, s, *a, **k))
    path = plotting.raster([("n", [np.array([])])], 10.0, tmp_path / "r.png", note=cli.VIRTUAL_BOARD_NOTE)
    assert path.exists() and path.stat().st_size > 0
    assert any("VIRTUAL board" in " ".join(t.split()) and "no spikes" in " ".join(t.split()) for t in written), written


# -- 3. long model runs report progress ----------------------------------------------------------
def test_model_runs_print_progress_on_stderr(capsys):
    from neuromorph.models import homeostasis, sal

    homeostasis.rate_shift_experiment("torch", duration=1000.0, t_switch=500.0, settle_ms=500.0, window_ms=500.0,
                                      progress=True)
    sal.two_neuron_alignment(epochs=2, progress=True)
    captured = capsys.readouterr()
    assert "homeostasis on torch: starting" in captured.err and "1000/1000 ms simulated (100%)" in captured.err
    assert "SAL two neurons: 2/2 epochs (100%)" in captured.err
    assert captured.out == ""
