"""Helpers of the parity suite: the backends under test, capability-table skips, build/run."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from neuromorph.capabilities import required_constructs
from neuromorph.errors import BackendUnavailableError, UnsupportedError


@dataclass(frozen=True)
class Backend:
    """A backend under test: how to build, and which reference semantics it must follow."""

    name: str
    backend: str
    semantics: str                # "exact" | "spinnaker" | "brian2" (tests/parity/reference.py)
    options: dict = field(default_factory=dict, hash=False, compare=False)
    slow: bool = False

    def __repr__(self):
        return self.name


BACKENDS = {
    "torch:exact": Backend("torch:exact", "torch", "exact", {"numerics": "exact"}),
    "torch:spinnaker-float": Backend("torch:spinnaker-float", "torch", "spinnaker", {"numerics": "spinnaker-float"}),
    "pynn:nest": Backend("pynn:nest", "pynn:nest", "exact"),
    "pynn:brian2": Backend("pynn:brian2", "pynn:brian2", "brian2", slow=True),
}

_CAPABILITY_SKIPS: dict[tuple[str, str], str] = {}


def selected_backends(config) -> list[Backend]:
    raw = config.getoption("--backend", default=None) or []
    if not raw and os.environ.get("NEUROMORPH_BACKENDS"):
        raw = [os.environ["NEUROMORPH_BACKENDS"]]
    names = [n.strip() for item in raw for n in item.split(",") if n.strip()] or list(BACKENDS)
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise pytest.UsageError(f"--backend {', '.join(unknown)}: unknown; choose from {', '.join(BACKENDS)}")
    return [BACKENDS[n] for n in names]


def only(*names):
    """Decorator: run a scenario on these backends only (e.g. NEST-specific checks)."""
    def deco(fn):
        fn.parity_backends = names
        return fn
    return deco


def capability_table(b: Backend) -> dict:
    """The backend's own capability table (skips with the reason when it cannot be imported)."""
    if b.backend == "torch":
        try:
            from neuromorph.backends.torch import capabilities
        except Exception as exc:  # the torch backend is optional in this suite
            pytest.skip(f"{b.name}: neuromorph.backends.torch is not importable ({type(exc).__name__}: {exc})")
        return capabilities(numerics=b.options.get("numerics"))
    from neuromorph.backends.pynn import capabilities
    return capabilities(b.backend)


def constructs(net, b: Backend) -> list[str]:
    need = required_constructs(net)
    if b.backend.startswith("pynn"):
        from neuromorph.backends.pynn import extra_constructs
        need += [k for k in extra_constructs(net) if k not in need]
    return need


def skip_unsupported(net, b: Backend) -> None:
    """Skip, with the capability table's reason, when ``b`` cannot run ``net``."""
    table = capability_table(b)
    for key in constructs(net, b):
        cap = table.get(key)
        if cap is None or not cap.supported:
            why = cap.how if cap is not None else "not in its capability table"
            _CAPABILITY_SKIPS[(b.name, key)] = why
            pytest.skip(f"{b.name}: {key}: {why}")


def build(net, b: Backend):
    """Build ``net`` on ``b`` (skipping where the capability table says it cannot)."""
    import neuromorph as nm
    skip_unsupported(net, b)
    try:
        return nm.build(net, backend=b.backend, **b.options)
    except BackendUnavailableError as exc:
        pytest.skip(f"{b.name}: {exc}")
    except UnsupportedError as exc:  # a check the table above did not foresee: still a skip, but say so
        _CAPABILITY_SKIPS[(b.name, "build")] = str(exc)
        pytest.skip(f"{b.name}: refused at build: {exc}")


def run(net, b: Backend, ms: float):
    sim = build(net, b)
    sim.run(ms)
    return sim
