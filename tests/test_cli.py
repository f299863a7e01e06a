"""The neuromorph command: exit codes, one-line errors, outputs, the demo, and the README's two
commands against .ci/run."""
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from neuromorph import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "two_neurons.json"


def run_cli(*args, cwd=None):
    """The real command line: ``python -m neuromorph ARGS``."""
    return subprocess.run([sys.executable, "-m", "neuromorph", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600, stdin=subprocess.DEVNULL)


def call(capsys, *args):
    """``cli.main`` in this process: (exit code, stdout, stderr)."""
    rc = cli.main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def assert_one_line_error(rc, err, *words, code=2):
    assert rc == code, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("neuromorph: error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], lines[0]


def readme_block(heading):
    """The first ```bash block under a README heading, as one command line."""
    readme = (ROOT / "README.md").read_text()
    m = re.search(rf"^## {re.escape(heading)}\s*$(.*?)^```bash\n(.*?)^```", readme, re.S | re.M)
    assert m, f"README has no ```bash block under '## {heading}'"
    lines = [ln for ln in m.group(2).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(lines) == 1, f"'## {heading}' must hold exactly one command, found {lines}"
    return lines[0].strip()


# -- validate ---------------------------------------------------------------------------------
def test_validate_example_summarises_it(capsys):
    rc, out, err = call(capsys, "validate", EXAMPLE)
    assert rc == 0, err
    assert "valid neuromorph network" in out and "dt 1 ms" in out
    assert "population neurons: 2 × IF_curr_exp" in out
    assert "projection input->neurons: input -> neurons, AllToAll, 4 synapses" in out and "STDP" in out


def test_validate_on_a_backend_builds_without_running(capsys):
    rc, out, err = call(capsys, "validate", EXAMPLE, "--backend", "torch", "--numerics", "exact", "--device", "cpu")
    assert rc == 0, err
    assert "builds on backend torch (numerics exact, device cpu, batch 1)" in out


# -- run --------------------------------------------------------------------------------------
def test_run_writes_spikes_traces_weights_and_summary(capsys, tmp_path):
    rc, out, err = call(capsys, "run", EXAMPLE, "--duration", "50", "--numerics", "exact", "--device", "cpu",
                        "--out", tmp_path, "--plot")
    assert rc == 0, err
    assert "torch (numerics exact, device cpu, batch 1): 50 of 50 ms simulated" in out
    rows = (tmp_path / "spikes.csv").read_text().splitlines()
    assert rows[0] == "population,neuron,time_ms"
    assert rows[1:4] == ["input,0,5", "input,0,15", "input,0,25"]       # the example's source times
    assert {r.split(",")[0] for r in rows[1:]} == {"input", "neurons"}
    spikes = np.load(tmp_path / "spikes.npz")
    n_neuron_spikes = sum(1 for r in rows[1:] if r.startswith("neurons,"))
    assert len(spikes["neurons.time_ms"]) == len(spikes["neurons.neuron"]) == n_neuron_spikes > 0
    trace = np.load(tmp_path / "trace_neurons_v.npz")
    assert trace["trace"].shape == (50, 2) and str(trace["unit"]) == "mV"
    assert np.allclose(trace["time_ms"], np.arange(50.0)) and np.allclose(trace["trace"][0], -65.0)
    w = np.load(tmp_path / "weights_input_to_neurons.npz")
    assert np.allclose(w["times_ms"], [0, 10, 20, 30, 40]) and w["weight"].shape == (5, 4)   # sparse: [samples, nsyn]
    assert w["pre"].shape == w["post"].shape == (4,) and str(w["unit"]) == "nA"
    assert (tmp_path / "raster.png").stat().st_size > 5000
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["simulated_ms"] == 50.0 and summary["numerics"] == "exact"
    assert summary["populations"]["neurons"]["spikes"] == n_neuron_spikes
    assert summary["populations"]["neurons"]["rate_hz"] == pytest.approx(n_neuron_spikes / 2 / 0.05)
    assert "error" not in summary


def test_run_is_deterministic_and_batched_trials_are_labelled(capsys, tmp_path):
    for name in ("a", "b"):
        assert call(capsys, "run", EXAMPLE, "--out", tmp_path / name, "--device", "cpu")[0] == 0
    assert (tmp_path / "a" / "spikes.csv").read_bytes() == (tmp_path / "b" / "spikes.csv").read_bytes()
    rc, out, err = call(capsys, "run", EXAMPLE, "--out", tmp_path / "c", "--device", "cpu", "--batch", "3")
    assert rc == 0, err
    rows = (tmp_path / "c" / "spikes.csv").read_text().splitlines()
    assert rows[0] == "population,trial,neuron,time_ms"
    single = (tmp_path / "a" / "spikes.csv").read_text().splitlines()[1:]
    for b in range(3):   # every trial of the batch has the single run's spikes
        assert [r.replace(f",{b},", ",", 1) for r in rows[1:] if r.split(",")[1] == str(b)] == single
    assert np.load(tmp_path / "c" / "trace_neurons_v.npz")["trace"].shape == (3, 100, 2)


def test_files_written_before_a_failure_are_kept(capsys, tmp_path, monkeypatch):
    """A run that fails half way still writes what was recorded, and says so in one line."""
    import neuromorph.simulation as simulation
    from neuromorph.errors import SimulationError

    real_build = simulation.build

    def failing_build(net, backend="torch", **options):
        sim = real_build(net, backend=backend, **options)
        real_run = sim.run

        def run(ms):
            real_run(ms / 2)
            raise SimulationError("the simulator crashed")

        sim.run = run
        return sim

    monkeypatch.setattr(simulation, "build", failing_build)
    rc, out, err = call(capsys, "run", EXAMPLE, "--duration", "40", "--device", "cpu", "--out", tmp_path)
    assert_one_line_error(rc, err, "the simulator crashed", "t=20 ms", str(tmp_path))
    assert "20 of 40 ms simulated" in out
    assert (tmp_path / "spikes.csv").read_text().splitlines()[1:] == [
        "input,0,5", "input,0,15", "input,1,10", "neurons,0,17", "neurons,1,17"]   # the full run's, up to 20 ms
    assert np.load(tmp_path / "trace_neurons_v.npz")["trace"].shape == (20, 2)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["simulated_ms"] == 20.0 and "the simulator crashed" in summary["error"]


# -- bad input: one line on stderr, exit code 2 -----------------------------------------------
@pytest.mark.parametrize("mutate,words", [
    (lambda d: d.update(bogus=1), ["bogus"]),
    (lambda d: d.update(version=99), ["version", "99"]),
    (lambda d: d["populations"][1]["celltype"].update(tau_m=-1.0), ["tau_m", "-1.0"]),
    (lambda d: d["populations"][1]["celltype"].update(v_thresh=-70.0), ["v_thresh", "-70"]),
    (lambda d: d["populations"][1]["celltype"].update(color="red"), ["color"]),
    (lambda d: d["projections"][0].update(delay=0.5), ["delay", "0.5"]),
    (lambda d: d["projections"][0].update(post="nowhere"), ["nowhere"]),
], ids=["unknown-field", "version", "negative-tau", "thresh-below-reset", "unknown-parameter", "delay", "label"])
def test_bad_model_gives_one_line_error(tmp_path, mutate, words):
    data = json.loads(EXAMPLE.read_text())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    res = run_cli("run", path, "--duration", "10", "--out", tmp_path / "out")
    assert_one_line_error(res.returncode, res.stderr, "bad.json", *words)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_parameter_in_json_is_refused(capsys, tmp_path, value):
    text = EXAMPLE.read_text().replace('"tau_m": 10.0', f'"tau_m": {value}')
    assert text != EXAMPLE.read_text()
    path = tmp_path / "nan.json"
    path.write_text(text)
    assert_one_line_error(*call(capsys, "validate", path)[::2], "tau_m")


def test_missing_file_unreadable_json_and_not_a_file(capsys, tmp_path):
    assert_one_line_error(*call(capsys, "validate", tmp_path / "none.json")[::2], "none.json", "does not exist")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_one_line_error(*call(capsys, "run", bad)[::2], "bad.json", "JSON")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    assert_one_line_error(*call(capsys, "validate", binary)[::2], "UTF-8")
    (tmp_path / "top.json").write_text("[1, 2]")
    assert_one_line_error(*call(capsys, "validate", tmp_path / "top.json")[::2], "object")
    assert_one_line_error(*call(capsys, "validate", tmp_path)[::2], "directory")


@pytest.mark.parametrize("args,words", [
    (["--backend", "loihi"], ["loihi", "torch"]),
    (["--duration", "-5"], ["--duration", "> 0"]),
    (["--duration", "nan"], ["--duration"]),
    (["--duration", "10.5"], ["10.5", "multiple of dt"]),
    (["--batch", "0"], ["batch"]),
    (["--backend", "pynn:nest", "--device", "cpu"], ["--device", "torch"]),
    (["--backend", "pynn:nest", "--batch", "4"], ["--batch", "torch"]),
    (["--device", "tpu"], ["tpu"]),
], ids=["unknown-backend", "negative-duration", "nan-duration", "off-grid-duration", "batch-0",
        "device-on-pynn", "batch-on-pynn", "unknown-device"])
def test_bad_options_give_one_line_error(capsys, tmp_path, args, words):
    assert_one_line_error(*call(capsys, "run", EXAMPLE, "--out", tmp_path, *args)[::2], *words)


def test_cuda_without_gpu_is_a_clear_error(tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    res = run_cli("run", EXAMPLE, "--device", "cuda", "--out", tmp_path)
    assert_one_line_error(res.returncode, res.stderr, "cuda", "no CUDA GPU")
    res = run_cli("demo", "--device", "cuda", "--out", tmp_path)
    assert_one_line_error(res.returncode, res.stderr, "cuda")


@pytest.mark.parametrize("argv", [["run"], ["frobnicate"], ["run", "x.json", "--numerics", "fast"],
                                  ["run", "x.json", "--duration", "ten"], ["task", "nope"], []])
def test_usage_errors_are_one_line_too(argv):
    res = run_cli(*argv)
    assert_one_line_error(res.returncode, res.stderr, "--help")
    assert res.stdout == ""


def test_unexpected_exception_is_one_line_with_exit_1(capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("something\nbroke")

    monkeypatch.setattr(cli, "cmd_info", boom)
    monkeypatch.delenv("NEUROMORPH_DEBUG", raising=False)
    assert_one_line_error(*call(capsys, "info")[::2], "internal error", "RuntimeError: something broke", code=1)


# -- info, version ----------------------------------------------------------------------------
def test_info_lists_backends_and_capability_tables():
    res = run_cli("info")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.startswith("neuromorph 0.") and "units: time ms, voltage mV, current nA" in out
    assert "backend torch: available" in out and "numerics=exact: as above except:" in out
    assert re.search(r"^  IF_curr_exp\s+native", out, re.M)
    for name in ("pynn:nest", "pynn:brian2", "pynn:spinnaker"):
        assert re.search(rf"^backend {name}: (available|NOT available — .*pip install)", out, re.M), name


def test_info_for_one_backend_and_unknown_backend(capsys):
    rc, out, err = call(capsys, "info", "--backend", "torch", "--numerics", "exact")
    assert rc == 0 and "capabilities, numerics=exact" in out and "pynn" not in out
    assert "NEST stdp_synapse conventions" in out
    assert_one_line_error(*call(capsys, "info", "--backend", "loihi")[::2], "loihi")


def test_version_and_console_script():
    res = run_cli("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"neuromorph {__import__('neuromorph').__version__}"
    script = shutil.which("neuromorph", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the neuromorph console script is not installed beside this Python")
    res = subprocess.run([script, "validate", str(EXAMPLE)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "valid neuromorph network" in res.stdout


# -- demo -------------------------------------------------------------------------------------
def test_demo_runs_reduced_and_writes_a_png(tmp_path):
    res = run_cli("demo", "--out", tmp_path, "--duration", "200", "--device", "cpu")
    assert res.returncode == 0, res.stderr
    png = tmp_path / "demo_raster.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    out = res.stdout
    assert "200 ms of a 100-neuron E/I network with STDP on torch (spinnaker numerics, device cpu" in out
    for label in ("input", "exc", "inh"):
        assert re.search(rf"^\s+{label}: +\d+ neurons, +\d+ spikes, mean rate", out, re.M), label
    assert "STDP exc->exc: mean weight" in out and "wall time" in out
    summary = json.loads((tmp_path / "demo_summary.json").read_text())
    assert summary["populations"]["exc"]["neurons"] == 80 and summary["populations"]["inh"]["neurons"] == 20
    assert summary["populations"]["exc"]["spikes"] > 0 and summary["populations"]["inh"]["spikes"] > 0
    assert summary["stdp"]["potentiated"] + summary["stdp"]["depressed"] > 0
    # the network it wrote runs through `neuromorph run`
    res = run_cli("run", tmp_path / "demo_network.json", "--duration", "20", "--out", tmp_path / "rerun")
    assert res.returncode == 0, res.stderr


def test_demo_is_deterministic(tmp_path):
    from neuromorph.demo import run_demo

    a = run_demo(tmp_path / "a", duration_ms=100, device="cpu", plot=False, echo=lambda *_: None)
    b = run_demo(tmp_path / "b", duration_ms=100, device="cpu", plot=False, echo=lambda *_: None)
    for s in (a, b):
        s.pop("build_s"), s.pop("run_s")
    assert a == b


# -- task -------------------------------------------------------------------------------------
def test_task_passes_its_arguments_on(capsys, monkeypatch):
    seen = []
    fake = types.ModuleType("fake_task")
    fake.main = lambda argv: seen.append(argv) or 3
    monkeypatch.setitem(sys.modules, "fake_task", fake)
    monkeypatch.setitem(cli.TASKS, "ca3-cam", "fake_task")
    rc, _, _ = call(capsys, "task", "ca3-cam", "--cues", "2", "--out", "x")
    assert rc == 3 and seen == [["--cues", "2", "--out", "x"]]


def test_missing_task_module_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setitem(cli.TASKS, "spatial-pattern", "neuromorph.models.no_such_task")
    assert_one_line_error(*call(capsys, "task", "spatial-pattern")[::2], "spatial-pattern", "not installed")


@pytest.mark.parametrize("name,module", sorted(cli.TASKS.items()))
def test_task_help_reaches_the_task(name, module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not in this checkout")
    res = run_cli("task", name, "--help")
    assert res.returncode == 0 and f"neuromorph task {name}" in res.stdout


# -- PyNN backends through the CLI (skipped where the extra is not installed) ------------------
def test_run_on_nest(tmp_path):
    pytest.importorskip("nest")
    pytest.importorskip("pyNN")
    res = run_cli("run", EXAMPLE, "--backend", "pynn:nest", "--duration", "50", "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    assert "on pynn:nest: 50 of 50 ms simulated" in res.stdout
    assert (tmp_path / "spikes.csv").read_text().splitlines()[0] == "population,neuron,time_ms"


def test_spinnaker_virtual_board_prints_resources_and_says_no_spikes(tmp_path):
    pytest.importorskip("spynnaker")
    res = run_cli("run", EXAMPLE, "--backend", "pynn:spinnaker", "--duration", "20", "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    assert "SpiNNaker mapping" in res.stdout and "cores" in res.stdout
    assert "a virtual board produces no spikes" in res.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["resources"]["virtual_board"] is True


# -- README <-> CI ----------------------------------------------------------------------------
def test_readme_commands_are_what_ci_runs():
    quick = readme_block("Quick start")
    tests = readme_block("Run the tests")
    assert quick.startswith("python3 -m venv .venv") and quick.endswith(".venv/bin/neuromorph demo")
    assert '"torch==2.13.0"' in quick
    assert "python -m pytest -q" in tests
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert quick in ci_lines, ".ci/run must run the README's quick-start command literally"
    assert any(ln.startswith(tests) for ln in ci_lines), ".ci/run must run the README's test command literally"


# -- examples ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.json")), ids=lambda p: p.name)
def test_every_example_validates_and_runs(capsys, tmp_path, path):
    assert call(capsys, "validate", path)[0] == 0
    rc, out, err = call(capsys, "run", path, "--duration", "20", "--device", "cpu", "--out", tmp_path)
    assert rc == 0, err
    assert json.loads((tmp_path / "summary.json").read_text())["simulated_ms"] == 20.0


def test_ei_stdp_example_is_the_demo_network():
    from neuromorph.demo import demo_network

    assert json.loads((ROOT / "examples" / "ei_stdp.json").read_text()) == json.loads(demo_network(0)[0].to_json())


def test_run_board_flags_reach_the_spinnaker_build_options(tmp_path):
    """--machine-name / --spalloc-* / --n-boards / --version become pynn:spinnaker build options
    (written into the run folder's spynnaker.cfg: tests/test_preflight.py); any other backend refuses them."""
    from neuromorph import cli
    args = cli.parser().parse_args(["run", str(EXAMPLE), "--backend", "pynn:spinnaker", "--spalloc-server", "spalloc.example",
                                    "--spalloc-port", "22244", "--n-boards", "3"])
    assert cli._backend_options(args) == {"spalloc_server": "spalloc.example", "spalloc_port": 22244, "n_boards": 3}
    args = cli.parser().parse_args(["run", str(EXAMPLE), "--backend", "pynn:spinnaker", "--machine-name", "192.168.240.1",
                                    "--version", "3"])
    assert cli._backend_options(args) == {"machine_name": "192.168.240.1", "version": 3}
    res = run_cli("run", EXAMPLE, "--machine-name", "board1", "--out", tmp_path)
    assert res.returncode == 2 and "--machine-name applies to --backend pynn:spinnaker only" in res.stderr
    assert not any(tmp_path.iterdir())
