"""Import a PyNN simulator module on demand, quietly, with a one-line error naming the extra."""
from __future__ import annotations

import importlib
import logging
import os
import warnings

from neuromorph.errors import BackendUnavailableError

from .variants import Variant


def import_simulator(variant: Variant):
    """Return the PyNN module of ``variant`` (e.g. ``pyNN.nest``).

    NEST prints a banner on import unless ``PYNEST_QUIET`` is set; we set it only if the user has
    not chosen otherwise. PyNN logs one INFO line per initial value NEST cannot set; we raise
    PyNN's logger to WARNING for the same reason.
    """
    if variant.name == "nest":
        os.environ.setdefault("PYNEST_QUIET", "1")
    try:
        with warnings.catch_warnings():
            # PyNN warns at import that it cannot build NEST extensions (no nest-config in a wheel)
            warnings.simplefilter("ignore")
            module = importlib.import_module(variant.module)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise BackendUnavailableError(
            f"backend 'pynn:{variant.name}' needs {', '.join(variant.packages)} ({missing} cannot be imported); "
            f'install it from the neuromorph checkout with: pip install -e ".[{variant.extra}]"') from None
    except Exception as exc:  # a broken simulator install raises all sorts of things at import
        raise BackendUnavailableError(
            f"backend 'pynn:{variant.name}' failed to import {variant.module} ({type(exc).__name__}: {exc}); "
            f'reinstall it from the neuromorph checkout with: pip install --force-reinstall -e ".[{variant.extra}]"') from None
    logging.getLogger("PyNN").setLevel(logging.ERROR)
    if variant.name == "spinnaker":
        # sPyNNaker logs every mapping algorithm at INFO; its own log file in the run directory
        # (reports/) keeps them
        for name in ("spynnaker", "spinn_front_end_common", "pacman", "spinnman", "spinn_machine", "spinn_utilities"):
            logging.getLogger(name).setLevel(logging.WARNING)
    if variant.name == "brian2":
        # Brian2 logs an INFO line per group about the integration method it picked, and a warning
        # about PyNN's unused NetworkOperation at every setup()
        logging.getLogger("brian2").setLevel(logging.ERROR)
    return module


def available(variant: Variant) -> bool:
    """True when the simulator's packages can be found (without importing them)."""
    from importlib.util import find_spec
    try:
        return all(find_spec(p) is not None for p in variant.packages)
    except (ImportError, ValueError):
        return False
