"""The neuromorph command: exit codes, one-line errors, and the README's two commands."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "two_neurons.json"


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "neuromorph", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def assert_one_line_error(res, *words):
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("neuromorph: error:"), res.stderr
    assert "Traceback" not in res.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_validate_example():
    res = cli("validate", str(EXAMPLE))
    assert res.returncode == 0 and "input->neurons" in res.stdout


def test_run_writes_recordings(tmp_path):
    res = cli("run", str(EXAMPLE), "--duration", "50", "--numerics", "exact", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    rows = (tmp_path / "spikes_neurons.csv").read_text().splitlines()
    assert rows[0] == "trial,neuron,time_ms"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["simulated_ms"] == 50.0
    assert (tmp_path / "trace_neurons_v.npz").exists() and (tmp_path / "weights_input-_neurons.npz").exists()


@pytest.mark.parametrize("mutate,words", [
    (lambda d: d.update(bogus=1), ["bogus"]),
    (lambda d: d.update(version=99), ["version", "99"]),
    (lambda d: d["populations"][1]["celltype"].update(tau_m=-1.0), ["tau_m", "-1.0"]),
    (lambda d: d["projections"][0].update(delay=0.5), ["delay", "0.5"]),
    (lambda d: d["projections"][0].update(post="nowhere"), ["nowhere"]),
])
def test_bad_model_gives_one_line_error(tmp_path, mutate, words):
    data = json.loads(EXAMPLE.read_text())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert_one_line_error(cli("run", str(path), "--duration", "10"), *words)


def test_nan_parameter_in_json_is_refused(tmp_path):
    text = EXAMPLE.read_text().replace('"tau_m": 10.0', '"tau_m": NaN')
    path = tmp_path / "nan.json"
    path.write_text(text)
    assert_one_line_error(cli("validate", str(path)), "tau_m")


def test_missing_file_unreadable_json_unknown_backend(tmp_path):
    assert_one_line_error(cli("validate", str(tmp_path / "none.json")), "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_one_line_error(cli("validate", str(bad)), "JSON")
    assert_one_line_error(cli("run", str(EXAMPLE), "--backend", "loihi"), "loihi")


def test_cuda_without_gpu_is_a_clear_error():
    import torch
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert_one_line_error(cli("run", str(EXAMPLE), "--device", "cuda"), "cuda")


def test_info_lists_backends():
    res = cli("info")
    assert res.returncode == 0 and "backend torch: available" in res.stdout and "pynn:nest" in res.stdout


def test_demo_writes_raster(tmp_path):
    res = cli("demo", "--out", str(tmp_path), "--duration", "200")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "demo_raster.png").stat().st_size > 1000
    assert "exc" in res.stdout


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash .ci/run" in readme and "python -m pytest -q" in readme
    assert ".venv-ci/bin/python -m pytest -q\n" in ci
    assert ".venv/bin/neuromorph demo" in readme
