"""Errors raised by neuromorph.

Every message is one line that names the construct, the offending value and the fix, so the CLI
can print it as-is (exit code 2) and a notebook user can read it without a traceback.
"""


class NeuromorphError(Exception):
    """Base class of every error neuromorph raises on purpose."""


class ValidationError(NeuromorphError, ValueError):
    """A model description, parameter or file is invalid."""


class UnsupportedError(NeuromorphError):
    """A construct that the chosen backend or numerics profile cannot run."""


class BackendUnavailableError(NeuromorphError):
    """A backend whose optional dependency is not installed, or that does not exist."""


class SimulationError(NeuromorphError):
    """A simulator failed while running; what was recorded before the failure is kept."""


class SpinnakerWarning(UserWarning):
    """A network the SpiNNaker board would refuse or run differently from what it describes (a
    weight stored as 0, a row too long, too many cores, a saturating ring buffer), found by the
    pre-flight (neuromorph.hardware.check) while the torch ``spinnaker`` emulation runs it."""
