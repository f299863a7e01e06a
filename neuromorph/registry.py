"""Registry of description types by name, used by JSON I/O (``{"type": name, ...}``)."""
from __future__ import annotations

DESCRIPTION_TYPES: dict[str, type] = {}


def description_type(cls):
    """Class decorator: register a frozen dataclass of the model description under its name."""
    DESCRIPTION_TYPES[cls.__name__] = cls
    return cls
