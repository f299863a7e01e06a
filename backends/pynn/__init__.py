"""PyNN backend: one neuromorph Network lowered to real PyNN objects on NEST (default), Brian2 or
sPyNNaker.

``nm.build(net, backend="pynn" | "pynn:nest" | "pynn:brian2" | "pynn:spinnaker", **options)``
returns a :class:`PyNNSimulation`. Importing this package needs no simulator; the simulator is
imported at build time, with a one-line error naming the extra to install when it is missing.
"""
from .capabilities import capabilities, extra_constructs
from .simulation import PyNNSimulation, build, supported_check
from .variants import BACKEND_NAMES, VARIANTS

__all__ = ["build", "capabilities", "extra_constructs", "supported_check", "PyNNSimulation", "VARIANTS", "BACKEND_NAMES"]
