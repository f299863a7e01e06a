"""``neuromorph bench`` (docs/benchmarks.md): case ids, selection, one-line errors, and one real
smoke run of a cheap torch case through the command line (a subprocess per case), checking the
JSON report's schema. Speed itself is never asserted."""
import json
import subprocess
import sys

import pytest

from neuromorph import bench, cli


def test_every_planned_case_id_round_trips_and_is_unique():
    for device in ("cpu", "cuda"):
        for quick in (False, True):
            cases = bench.plan((1000, 4000), quick=quick, device=device)
            ids = [c.id for c in cases]
            assert len(ids) == len(set(ids))
            for c in cases:
                back = bench.parse_id(c.id)
                assert (back.group, back.variant, back.params, back.torch) == (c.group, c.variant, c.params, c.torch)
                for ref in c.refs:   # references exist as cases and come first
                    assert ref in ids[:ids.index(c.id)] or bench.parse_id(ref).group == "ei"
    cuda = bench.plan((1000,), device="cuda")
    assert any(c.group == "ei-cuda" and c.params["n"] == 100_000 for c in cuda)
    assert all(c.params.get("dev") == "cuda" for c in cuda if c.torch)
    assert not any(c.group == "ei-cuda" for c in bench.plan((1000,), device="cpu"))


def test_only_selects_by_substring_and_adds_references_first():
    cases = bench.plan((1000, 4000))
    chosen = bench.select(cases, ["ei/torch-exact/n=4000"])
    assert [c.id for c in chosen] == ["ei/nest-direct/n=4000/ms=1000", "ei/torch-exact/n=4000/ms=1000/dev=cpu"]
    assert chosen[0].added_as_ref
    assert [c.id for c in bench.select(cases, ["ei/torch-exact/n=4000"], add_refs=False)] == [chosen[1].id]
    # the delays case needs the single-delay torch run and NEST's, which --sizes may have left out
    delays = bench.select(bench.plan((4000,)), ["delays/torch"])
    assert {c.id for c in delays} >= {"delays/nest-direct/n=1000/ms=1000/dmax=16", "ei/torch-exact/n=1000/ms=1000/dev=cpu"}
    everything = [c.id for c in bench.select(bench.plan((4000,)))]
    assert "ei/torch-exact/n=1000/ms=1000/dev=cpu" in everything and len(everything) == len(set(everything))


@pytest.mark.parametrize("args, words", [
    (["--sizes", "10,x"], ["--sizes", "'x'"]),
    (["--only", "no-such-case"], ["matches no case"]),
    (["--repeats", "0"], ["--repeats"]),
    (["--timeout", "-1"], ["--timeout"]),
    (["--json", "/no/such/folder/b.json", "--only", "demo/torch-spinnaker"], ["does not exist"]),
])
def test_bad_options_are_one_line_errors_with_exit_code_2(capsys, args, words):
    rc = cli.main(["bench", *args])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("neuromorph: error: "), err
    for w in words:
        assert w in lines[0]


def test_list_prints_the_selected_ids(capsys):
    assert cli.main(["bench", "--quick", "--only", "train/neuromorph", "--list"]) == 0
    out = capsys.readouterr().out.split()
    assert "train/neuromorph/h=64/batch=16/steps=20/dev=cpu" in out and "train/snntorch/h=64/batch=16/steps=20/dev=cpu" in out


def test_quick_smoke_run_writes_the_json_report(tmp_path):
    """The real command: one cheap torch case in its own subprocess, twice (minimum reported)."""
    path = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "neuromorph", "bench", "--quick", "--only", "demo/torch-spinnaker",
                           "--no-refs", "--repeats", "2", "--timeout", "120", "--json", str(path)],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "demo torch spinnaker" in proc.stdout and "build s" in proc.stdout
    report = json.loads(path.read_text())
    assert report["schema"] == bench.SCHEMA
    m = report["machine"]
    for key in ("date", "cpu", "cores", "load_start", "load_end", "versions", "device", "python"):
        assert key in m, key
    assert m["device"] == "cpu" and m["versions"]["torch"]
    assert report["options"]["repeats"] == 2
    (case,) = report["cases"]
    assert case["id"] == "demo/torch-spinnaker/ms=200/dev=cpu" and case["status"] == "ok", case
    assert case["repeats"] == 2 and len(case["runs_s"]) == 2 and len(case["builds_s"]) == 2
    assert all(t > 0 for t in case["runs_s"] + case["builds_s"])
    assert case["run_s"] == min(case["runs_s"]) and case["build_s"] == min(case["builds_s"])
    assert case["peak_rss_mb"] > 0 and case["sim_ms"] == 200
    assert case["rt_factor"] == pytest.approx(case["run_s"] / 0.2)
    assert set(case["metrics"]["rate_hz"]) == {"exc", "inh"} and case["metrics"]["rate_hz"]["exc"] > 0


def test_a_failing_case_is_reported_not_raised(tmp_path):
    """A child that fails gives status "failed" with a one-line error, and the suite exits 1."""
    case = bench.Case("train", "no-such-variant", {"h": 8, "batch": 2, "steps": 2, "dev": "cpu"}, torch=True)
    rc, report = bench.run_suite([case], repeats=1, timeout_s=120, json_path=str(tmp_path / "r.json"), echo=lambda s: None)
    assert rc == 1
    (r,) = report["cases"]
    assert r["status"] == "failed" and "no-such-variant" in r["error"] and "\n" not in r["error"]
    assert json.loads((tmp_path / "r.json").read_text())["cases"][0]["status"] == "failed"
