"""Atomic file writes: write a temporary file in the target's folder, then ``os.replace`` it.

A writer that is killed or raises part-way never leaves a truncated file under the final name,
and the temporary file is removed when the writer raises. Temporary names are hidden
(``.<stem>.<random>.tmp<suffix>``, keeping the suffix so that e.g. matplotlib still infers the
format); :data:`TEMP_GLOB` matches them, so that litter of a process killed with SIGKILL can be
recognised and removed.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

#: glob matching the temporary files this module creates (in the target's folder)
TEMP_GLOB = ".*.tmp*"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | Path, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on a normal exit it becomes ``path`` (os.replace),
    on any exception (also KeyboardInterrupt) it is removed and the exception propagates."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _MODE)  # mkstemp makes it 0600; a normal file gets the umask's mode
        if fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs):
    """``open(path, mode)`` on a temporary file that becomes ``path`` when the block ends normally."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    with atomic_open(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_json(path: str | Path, data, **kwargs) -> Path:
    return write_text(path, json.dumps(data, **kwargs))


def savez_compressed(path: str | Path, **arrays) -> Path:
    """``np.savez_compressed`` to exactly ``path`` (no ``.npz`` appended), atomically."""
    import numpy as np

    with atomic_open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return Path(path)


def savefig(fig, path: str | Path, **kwargs) -> Path:
    """``fig.savefig`` atomically; the format follows ``path``'s suffix."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".") or None)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **kwargs)
    return path
