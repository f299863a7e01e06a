"""The documentation runs: every fenced code block of README.md and docs/*.md is executed here or
marked as not meant to run.

Rules (checked by ``test_every_block_is_accounted_for``):

- every fence names its language;
- ``python`` blocks run, page by page in document order, in one namespace per page, in a temporary
  working directory (with ``examples/`` linked in), each under a time limit;
- ``bash``/``console`` blocks whose every command line starts with ``neuromorph `` or
  ``.venv/bin/neuromorph `` (a ``$ `` prompt is allowed; lines without a prompt in a ``console``
  block are output) run through the CLI in-process (``neuromorph.cli.main``) in the same directory,
  in the page's order, and must exit with 0;
- ``text`` blocks are output or listings, not code;
- a block preceded by ``<!-- fragment: reason -->`` is not run (and counted); a block preceded by
  ``<!-- slow: reason -->`` runs only under ``-m slow`` (``test_slow_blocks``); a block preceded by
  ``<!-- requires: module, module -->`` runs where those modules import (e.g. NEST), else is skipped.
"""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
CODE = {"python", "bash", "console"}
LANGS = CODE | {"text"}
BLOCK_LIMIT_S = 60.0  # per block


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    mark: str | None  # "fragment", "slow", "requires" or None
    reason: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    def commands(self) -> list[list[str]]:
        """The CLI commands of a bash/console block (argv without the program name)."""
        out = []
        for raw in self.text.splitlines():
            line = raw.strip()
            if self.lang == "console":
                if not line.startswith("$ "):
                    continue  # output
                line = line[2:]
            if not line:
                continue
            argv = shlex.split(line, comments=True)
            if not argv:
                continue
            if argv[0] not in ("neuromorph", ".venv/bin/neuromorph"):
                raise AssertionError(f"{self.where}: {line!r} is not a neuromorph command; mark the block "
                                     "with <!-- fragment: reason --> or make it one")
            out.append(argv[1:])
        return out


_MARK = re.compile(r"^<!--\s*(fragment|slow|requires)\s*:\s*(.*?)\s*-->$")
RUNS = (None, "requires")  # marks of blocks the default suite runs


def missing(block: Block) -> list[str]:
    """The modules a ``requires`` block names that do not import here."""
    import importlib.util

    if block.mark != "requires":
        return []
    return [m for m in re.split(r"[,\s]+", block.reason) if m and importlib.util.find_spec(m) is None]


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    name = str(path.relative_to(ROOT))
    out, k = [], 0
    while k < len(lines):
        m = re.match(r"^```(\S*)\s*$", lines[k])
        if not m:
            k += 1
            continue
        start, lang = k, m.group(1)
        k += 1
        body = []
        while k < len(lines) and not lines[k].startswith("```"):
            body.append(lines[k])
            k += 1
        k += 1
        prev = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        mm = _MARK.match(prev)
        out.append(Block(name, start + 1, lang, "\n".join(body) + "\n", mm.group(1) if mm else None,
                         mm.group(2) if mm else ""))
    return out


ALL = [b for p in PAGES for b in blocks(p)]


@contextlib.contextmanager
def time_limit(seconds: float, what: str):
    def handler(signum, frame):
        raise TimeoutError(f"{what} ran longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def workdir(tmp: Path):
    (tmp / "examples").symlink_to(ROOT / "examples")
    old = os.getcwd()
    os.chdir(tmp)
    try:
        yield tmp
    finally:
        os.chdir(old)


def run_block(block: Block, namespace: dict) -> None:
    from neuromorph import cli

    with time_limit(BLOCK_LIMIT_S, block.where):
        if block.lang == "python":
            code = compile(block.text, block.where, "exec")
            exec(code, namespace)
        else:
            for argv in block.commands():
                rc = cli.main(argv)
                assert rc == 0, f"{block.where}: neuromorph {shlex.join(argv)} exited with {rc}"


def test_every_block_is_accounted_for():
    """Every fence has a language; every code block runs or is marked, and its commands parse."""
    bad = [b.where for b in ALL if b.lang not in LANGS]
    assert not bad, f"fences without a known language ({', '.join(sorted(LANGS))}): {bad}"
    for b in ALL:
        if b.lang in ("bash", "console") and b.mark in RUNS:
            b.commands()  # raises for a non-neuromorph command in an unmarked block
        if b.mark:
            assert b.reason, f"{b.where}: a mark needs a reason"
            assert b.lang in CODE, f"{b.where}: only code blocks are marked"
    counts = {"run": sum(b.lang in CODE and b.mark in RUNS for b in ALL),
              "requires": sum(b.mark == "requires" for b in ALL),
              "slow": sum(b.mark == "slow" for b in ALL),
              "fragment": sum(b.mark == "fragment" for b in ALL),
              "text": sum(b.lang == "text" for b in ALL)}
    print("doc blocks:", counts)
    assert counts["run"] >= 10


@pytest.mark.parametrize("page", [p for p in PAGES if any(b.lang in CODE and b.mark in RUNS for b in blocks(p))],
                         ids=lambda p: p.name)
def test_page_blocks_run(page, tmp_path, capsys):
    namespace = {"__name__": "__doc__"}
    with workdir(tmp_path):
        for block in blocks(page):
            if block.lang in CODE and block.mark in RUNS:
                if missing(block):
                    print(f"{block.where}: skipped, needs {', '.join(missing(block))}")
                    continue
                t0 = time.perf_counter()
                run_block(block, namespace)
                print(f"{block.where}: {block.lang} ran in {time.perf_counter() - t0:.2f} s")


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in ALL if b.mark == "slow"], ids=lambda b: b.where)
def test_slow_blocks(block, tmp_path):
    with workdir(tmp_path):
        if block.lang == "python":
            run_block(block, {"__name__": "__doc__"})
        else:
            from neuromorph import cli

            for argv in block.commands():
                assert cli.main(argv) == 0, f"{block.where}: neuromorph {shlex.join(argv)}"


def test_api_reference_builds(tmp_path):
    """pdoc builds the API reference of the public modules (docs/index.md: ``pdoc -o site/api
    neuromorph``) and it documents the main entries."""
    import subprocess
    import sys

    pytest.importorskip("pdoc")
    out = tmp_path / "api"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "pdoc", "-o", str(out), "neuromorph"], capture_output=True,
                       text=True, timeout=120, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    html = (out / "neuromorph.html").read_text(encoding="utf-8")
    for name in ("Network", "build", "simulate", "load", "Simulation", "IF_curr_exp", "IF_curr_delta", "Izhikevich",
                 "SpikeSourceArray", "AllToAll", "FixedProbability", "STDP", "SpikePairRule", "Additive",
                 "SynapticScaling", "Astrocytes", "SAL", "to_nir", "from_nir", "ValidationError"):
        assert f'id="{name}"' in html, name
    assert "Network.population" in html and "Network.connect" in html


def test_spinnaker_relative_run_dir(tmp_path):
    """docs/backends.md's ``run_dir="runs/a"``: a relative run directory is resolved against the
    working directory (in_run_dir changes into it before opening its log)."""
    from neuromorph.backends.pynn import spinnaker

    with workdir(tmp_path):
        path = spinnaker.prepare_run_dir("runs/a")
        assert path == (tmp_path / "runs" / "a").resolve()
        with spinnaker.in_run_dir(path):
            pass
        assert (path / "spynnaker.log").exists() and Path.cwd() == tmp_path
