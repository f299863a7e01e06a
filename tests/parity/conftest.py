"""The backend-parity suite: scenarios written once, run on every backend available here.

Select backends with ``pytest tests/parity --backend pynn:nest --backend torch:exact`` (or a
comma-separated list, or the NEUROMORPH_BACKENDS environment variable). Default: every backend
below. Brian2 builds take seconds each, so its parameters carry the ``slow`` marker and run with
``pytest tests/parity -m slow --backend pynn:brian2``.

A scenario that needs a construct a backend cannot run is skipped with the reason from that
backend's capability table; the skips are listed at the end of the run.
"""
from __future__ import annotations

import pytest

from .harness import _CAPABILITY_SKIPS, BACKENDS, selected_backends


def pytest_addoption(parser):
    try:
        parser.addoption("--backend", action="append", default=None,
                         help=f"parity backend(s) to run: {', '.join(BACKENDS)} (repeat or comma-separate)")
    except ValueError:  # already registered by a conftest closer to the root
        pass


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        wanted = getattr(metafunc.function, "parity_backends", None)
        params = []
        for b in selected_backends(metafunc.config):
            if wanted is not None and b.name not in wanted:
                continue
            marks = [pytest.mark.slow] if b.slow else []
            params.append(pytest.param(b, id=b.name, marks=marks))
        metafunc.parametrize("backend", params)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _CAPABILITY_SKIPS:
        return
    terminalreporter.section("parity: skipped from the capability tables")
    for (name, key), why in sorted(_CAPABILITY_SKIPS.items()):
        terminalreporter.write_line(f"{name:<24} {key:<40} {why}")
