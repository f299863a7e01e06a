"""The simulation API shared by every backend: ``build``, ``simulate`` and ``Simulation``.

A simulation is stateful, as in PyNN: build once, ``run(ms)`` in segments (each continues the
last), read or set weights between segments, ``reset()``.
"""
from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from .errors import BackendUnavailableError, ValidationError
from .network import Network

#: what ``Simulation.weights``/``weight_history`` return: dense matrices or synapse lists
WEIGHT_FORMATS = ("array", "list")

#: backend name -> (module, extra that installs its dependencies)
BACKENDS = {
    "torch": ("neuromorph.backends.torch", None),
    "pynn": ("neuromorph.backends.pynn", "pynn"),
    "pynn:nest": ("neuromorph.backends.pynn", "pynn"),
    "pynn:brian2": ("neuromorph.backends.pynn", "pynn"),
    "pynn:spinnaker": ("neuromorph.backends.pynn", "spinnaker"),
}


def backend_module(name: str):
    if name not in BACKENDS:
        raise BackendUnavailableError(f"backend {name!r} does not exist; choose one of {', '.join(BACKENDS)}")
    module, extra = BACKENDS[name]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        hint = f'pip install -e ".[{extra}]" (in the neuromorph checkout)' if extra else "reinstall neuromorph"
        raise BackendUnavailableError(f"backend {name!r} cannot be imported ({exc}); install it with: {hint}") from None


def build(net: Network, backend: str = "torch", **options) -> "Simulation":
    """Lower ``net`` to ``backend`` and return a stateful Simulation.

    torch options: ``numerics`` ("spinnaker" | "spinnaker-float" | "exact"), ``device``
    ("cpu" | "cuda"), ``batch``, ``dtype``. PyNN options: see neuromorph.backends.pynn.

    ``numerics="spinnaker"`` on torch (the default) runs the SpiNNaker pre-flight first
    (``neuromorph.hardware.check``, docs/spinnaker.md): what the board would refuse or distort
    (a row too long, STDP off 1 ms, too many cores, a weight stored as 0, delay extensions, a
    saturating ring buffer) is a ``SpinnakerWarning`` while the emulation runs it; what the
    emulation cannot represent (an s16.15 parameter out of range, a 16-bit weight word above
    0xFFFF) is a ValidationError. ``pynn:spinnaker`` refuses the board's errors outright.
    """
    if not isinstance(net, Network):
        raise ValidationError(f"build: expected a nm.Network, got {type(net).__name__}")
    if backend == "torch" and options.get("numerics", "spinnaker") == "spinnaker" and options.get("check", True):
        spinnaker_preflight(net)
    return backend_module(backend).build(net, backend=backend, **options)


#: pre-flight codes the torch ``spinnaker`` emulation itself cannot represent (ValidationError)
EMULATION_ERRORS = ("s1615", "weight-word")


def spinnaker_preflight(net: Network, board="SpiNN-5", neurons_per_core=None, n_boards: int = 1, stacklevel: int = 3):
    """The SpiNNaker pre-flight as the torch ``spinnaker`` profile runs it: raise ValidationError
    for the first finding the emulation cannot represent, warn (``SpinnakerWarning``) about every
    other finding, and return the report (``neuromorph.hardware.PreflightReport``)."""
    import warnings

    from .errors import SpinnakerWarning
    from .hardware.limits import preflight

    report = preflight(net, board=board, neurons_per_core=neurons_per_core, raise_errors=False, n_boards=n_boards,
                       target="emulation")
    for f in report.findings:
        if f.level == "error" and f.code in EMULATION_ERRORS:
            raise ValidationError(f"{f.message} (numerics='spinnaker' computes as the board does)")
    for f in report.findings:
        what = "the board would refuse this" if f.level == "error" else "on the board"
        warnings.warn(f"SpiNNaker pre-flight ({what}; the emulation runs it): {f.message}", SpinnakerWarning,
                      stacklevel=stacklevel)
    return report


def simulate(net: Network, duration_ms: float, backend: str = "torch", **options) -> "Simulation":
    """Build, run for ``duration_ms`` and return the simulation (a result with the same accessors)."""
    sim = build(net, backend=backend, **options)
    sim.run(duration_ms)
    return sim


def load(path, device=None, **options) -> "Simulation":
    """Resume a simulation from a checkpoint written by ``sim.save(path)``: the same network,
    options and state, so running on is bit-identical to never having stopped (on the same
    device). ``device`` moves it (CPU ⇄ CUDA: results may then differ in the last bits)."""
    import pickle
    import zipfile
    try:
        import torch
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValidationError(f"load: no checkpoint at {str(path)!r}") from None
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise ValidationError(f"load: {str(path)!r} is not a readable neuromorph checkpoint ({type(exc).__name__}); "
                              "give a file written by sim.save()") from None
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("neuromorph-checkpoint/"):
        raise ValidationError(f"load: {str(path)!r} is not a neuromorph checkpoint (no format tag); give a file written by sim.save()")
    if data["format"] != "neuromorph-checkpoint/1":
        raise ValidationError(f"load: checkpoint format {data['format']!r} is newer than this neuromorph reads (neuromorph-checkpoint/1)")
    module = backend_module(data.get("backend", "torch"))
    from importlib import import_module
    return import_module(module.__name__ + ".checkpoint").load(data, device=device, **options)


class Simulation:
    """What every backend's simulation offers. Times in ms; arrays are numpy."""

    net: Network
    batch: int = 1

    def run(self, ms: float) -> None:
        raise NotImplementedError

    @property
    def time(self) -> float:
        """Simulated time so far [ms]."""
        raise NotImplementedError

    def spikes(self, label) -> list:
        """Spike times [ms]: one array per neuron, or (batch > 1) per trial then per neuron."""
        raise NotImplementedError

    def trace(self, label, variable: str = "v") -> np.ndarray:
        """Recorded variable: ``[steps, n]`` (``[batch, steps, n]`` when batched). Row k is the
        value at time k·dt (state after k steps), every ``every`` steps as recorded."""
        raise NotImplementedError

    def weights(self, projection, format: str = "array"):
        """Current weight magnitudes (nA, or mV for IF_curr_delta with weight_units="mV").

        ``format="array"``: ``[n_pre, n_post]`` (``[batch, n_pre, n_post]`` when batched), NaN
        where there is no synapse; refused when n_pre·n_post exceeds ``neuromorph.network.DENSE_LIMIT``.
        ``format="list"``: ``(pre, post, weight)`` numpy arrays, one entry per synapse in the
        order of ``net.connectivity(projection)`` (sorted by (pre, post)); ``weight`` is
        ``[nsyn]`` (``[batch, nsyn]`` when batched), like PyNN's ``get("weight", format="list")``.
        """
        raise NotImplementedError

    def set_weights(self, projection, weights) -> None:
        """Set weight magnitudes: a scalar, ``[n_pre, n_post]`` (entries without a synapse are
        ignored) or one value per synapse ``[nsyn]`` in ``weights(format="list")`` order
        (``[batch, ...]`` of either where the backend batches)."""
        raise NotImplementedError

    def set_parameters(self, label, **parameters) -> None:
        """Change a population's cell parameters (one value each, the description's names and
        units) or a SpikeSourcePoisson's ``rate``/``start``/``duration`` between runs, as PyNN's
        ``Population.set`` does on NEST: the new values act from the current time on, the state
        (v, currents, refractoriness, plasticity) is kept, and ``reset()`` keeps them too."""
        raise NotImplementedError

    def weight_history(self, projection, format: str = "array"):
        """Recorded weights. ``format="array"``: ``(times_ms, [samples, n_pre, n_post])``
        (``[batch, samples, ...]`` batched; refused like ``weights`` above ``DENSE_LIMIT``);
        ``format="list"``: ``(times_ms, pre, post, [samples, nsyn])`` (``[batch, samples, nsyn]``
        batched), synapses in the order of ``net.connectivity(projection)``."""
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def save(self, path) -> None:
        """Write a checkpoint that :func:`load` resumes (torch backend)."""
        from .errors import UnsupportedError
        raise UnsupportedError(f"save: checkpoints are written by the torch backend only, not by {type(self).__name__}; "
                               "re-run the network from its description (net.to_json()) instead")

    def resources(self) -> dict[str, Any]:
        """Hardware resources used (backends that map onto hardware); {} otherwise."""
        return {}

    # shared helpers ------------------------------------------------------------------------
    def _projection(self, projection):
        return self.net.projection(projection)

    @staticmethod
    def _weight_format(format, what: str = "weights") -> str:
        """``format`` of ``weights``/``weight_history``, checked."""
        if format not in WEIGHT_FORMATS:
            raise ValidationError(
                f"{what}: format={format!r} is not known; use format='array' ([n_pre, n_post], NaN where no synapse) "
                "or format='list' ((pre, post, weight) synapse lists)")
        return format


#: parameters whose change would change what a population is, not how it evolves
_FIXED_PARAMETERS = ("weight_units", "spike_times")


def with_parameters(net: Network, label, parameters: dict):
    """``(network copy, new population)`` with ``parameters`` of population ``label`` changed:
    the copy shares everything else (connectivity included) and the caller's network is untouched.
    The new cell type is validated like any other; unknown names and the parameters that define
    the population (``weight_units``, ``spike_times``) are refused."""
    import copy
    import dataclasses
    pop = net.get(label)
    owner = f"set_parameters({pop.label!r})"
    if not parameters:
        raise ValidationError(f"{owner}: give at least one parameter, e.g. tau_m=15.0")
    names = {f.name for f in dataclasses.fields(pop.celltype)}
    for name in parameters:
        if name not in names or name in _FIXED_PARAMETERS:
            kind = type(pop.celltype).__name__
            what = f"{kind}'s {name!r} cannot change between runs" if name in names else f"{name!r} is not a parameter of {kind}"
            raise ValidationError(f"{owner}: {what} (changeable: {', '.join(sorted(names - set(_FIXED_PARAMETERS))) or 'none'})")
        if isinstance(parameters[name], (list, tuple, np.ndarray)):
            raise ValidationError(f"{owner}: {name}={parameters[name]!r:.60} must be one number for the whole population")
    celltype = dataclasses.replace(pop.celltype, **parameters)   # validates the new values
    new_pop = dataclasses.replace(pop, celltype=celltype)
    out = copy.copy(net)
    out.populations = dict(net.populations)
    out.populations[pop.label] = new_pop
    return out, new_pop
