"""Progress lines on stderr for the long model runs (``python -m neuromorph.models.homeostasis``,
``.astro``, ``.sal``): a line when a run starts, then at most one every ``every_s`` seconds, and one
when it is done, each with the elapsed time and an estimate of what is left. Off by default
(``progress=False`` in the functions); the ``_main`` entry points switch it on."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, what: str, total: float, unit: str, enabled: bool = True, every_s: float = 5.0, stream=None):
        self.what, self.total, self.unit, self.enabled, self.every_s = what, float(total), unit, enabled, every_s
        self.stream = stream
        self.t0 = self.last = time.perf_counter()
        self._say(f"{what}: starting ({total:g} {unit})")

    def _say(self, line: str) -> None:
        if self.enabled:
            stream = self.stream or sys.stderr
            print(line, file=stream, flush=True)

    def update(self, done: float) -> None:
        now = time.perf_counter()
        finished = done >= self.total
        if not finished and now - self.last < self.every_s:
            return
        self.last = now
        elapsed = now - self.t0
        left = elapsed * (self.total - done) / done if 0 < done < self.total else 0.0
        tail = "done" if finished else f"about {left:.0f} s left"
        self._say(f"{self.what}: {done:g}/{self.total:g} {self.unit} ({100.0 * done / self.total:.0f}%), "
                  f"{elapsed:.0f} s elapsed, {tail}")
