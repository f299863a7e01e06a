"""Connectors: which (pre, post) pairs a projection connects.

Each connector returns the connection list as numpy arrays (pre index, post index, and for
FromList per-connection weights and delays) without building a dense ``[n_pre, n_post]`` matrix;
the network sorts it by (pre, post) into synapse lists (``network.Connectivity``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ValidationError
from .registry import description_type
from .validation import MAX_CURRENT, MAX_TIME, boolean, integer, non_negative, number, seed as _seed


#: Random numbers FixedProbability draws at a time (32 MiB of float64)
CHUNK = 1 << 22
#: Most (pre, post) pairs FixedProbability draws for one projection (one random number each)
MAX_DRAWS = 10 ** 11


class Connector:
    #: True when ``connections`` returns pairs already sorted by (pre, post) without repeats
    sorted_pairs = False

    def connections(self, n_pre: int, n_post: int, same_population: bool, seed: int):
        """Return ``(pre, post, weights_or_None, delays_or_None)`` as numpy arrays, in connector
        order (per-connection weights and delays refer to this order)."""
        raise NotImplementedError

    def expected_size(self, n_pre: int, n_post: int, same_population: bool) -> float | None:
        """Number of synapses (the expectation for random connectors) without building them;
        None if unknown. Lets a network refuse what cannot fit before allocating it."""
        return None

    def max_fan_in(self, n_pre: int, n_post: int, same_population: bool, seed: int) -> int:
        pre, post, _, _ = self.connections(n_pre, n_post, same_population, seed)
        return int(np.bincount(post, minlength=n_post).max()) if post.size else 0


@description_type
@dataclass(frozen=True)
class OneToOne(Connector):
    """Neuron i of pre to neuron i of post; both populations must have the same size."""

    sorted_pairs = True

    def connections(self, n_pre, n_post, same_population, seed):
        if n_pre != n_post:
            raise ValidationError(f"OneToOne: pre has {n_pre} neurons and post {n_post}; sizes must match (use FromList or AllToAll)")
        i = np.arange(n_pre, dtype=np.int64)
        return i, i.copy(), None, None

    def expected_size(self, n_pre, n_post, same_population):
        return n_pre


@description_type
@dataclass(frozen=True)
class AllToAll(Connector):
    """Every pre neuron to every post neuron (minus i→i when the populations are the same and
    ``allow_self_connections`` is False)."""

    allow_self_connections: bool = True
    sorted_pairs = True

    def __post_init__(self):
        object.__setattr__(self, "allow_self_connections",
                           boolean("AllToAll", "allow_self_connections", self.allow_self_connections))

    def connections(self, n_pre, n_post, same_population, seed):
        if same_population and not self.allow_self_connections:
            # row i holds every j except i: count 0..n-2 and step over the diagonal
            pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post - 1)
            post = np.tile(np.arange(n_post - 1, dtype=np.int64), n_pre)
            post += post >= pre
            return pre, post, None, None
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
        post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
        return pre, post, None, None

    def expected_size(self, n_pre, n_post, same_population):
        return n_pre * n_post - (n_pre if same_population and not self.allow_self_connections else 0)


@description_type
@dataclass(frozen=True)
class FromList(Connector):
    """Explicit connections: ``(i, j)``, ``(i, j, weight)`` or ``(i, j, weight, delay)`` tuples
    (weight in nA or mV as the post type says, delay in ms). Weights/delays given here override the
    projection's ``weight``/``delay``."""

    conn_list: tuple = ()

    def __post_init__(self):
        rows = []
        width = None
        if isinstance(self.conn_list, (str, bytes, dict)) or not hasattr(self.conn_list, "__iter__"):
            raise ValidationError(f"FromList: conn_list={self.conn_list!r:.60} must be a list of (i, j[, weight[, delay]]) rows")
        for row in self.conn_list:
            if isinstance(row, (str, bytes, dict)) or not hasattr(row, "__len__"):
                raise ValidationError(f"FromList: connection {row!r:.60} must be (i, j[, weight[, delay]])")
            row = tuple(row)
            if len(row) not in (2, 3, 4) or (width is not None and len(row) != width):
                raise ValidationError(f"FromList: connection {row!r:.60} must be (i, j[, weight[, delay]]), all rows the same length")
            width = len(row)
            i = integer("FromList", f"pre index in {row!r:.40}", row[0], 0, 2 ** 62)
            j = integer("FromList", f"post index in {row!r:.40}", row[1], 0, 2 ** 62)
            rest = tuple(number("FromList", "weight" if k == 0 else "delay", v, -MAX_CURRENT if k == 0 else -MAX_TIME,
                                MAX_CURRENT if k == 0 else MAX_TIME,
                                why="weights are at most 1e6 nA or mV" if k == 0 else "delays are at most 1e9 ms")
                         for k, v in enumerate(row[2:]))
            rows.append((i, j) + rest)
        object.__setattr__(self, "conn_list", tuple(rows))

    def connections(self, n_pre, n_post, same_population, seed):
        if not self.conn_list:
            return np.zeros(0, int), np.zeros(0, int), None, None
        a = np.array(self.conn_list, dtype=np.float64)
        pre, post = a[:, 0].astype(int), a[:, 1].astype(int)
        if pre.max() >= n_pre:
            raise ValidationError(f"FromList: pre index {pre.max()} is out of range for a population of {n_pre}")
        if post.max() >= n_post:
            raise ValidationError(f"FromList: post index {post.max()} is out of range for a population of {n_post}")
        keys = pre * n_post + post
        if np.unique(keys).size != keys.size:
            raise ValidationError("FromList: a (pre, post) pair appears twice; neuromorph holds one synapse per pair")
        w = a[:, 2] if a.shape[1] > 2 else None
        d = a[:, 3] if a.shape[1] > 3 else None
        if w is not None and np.any(w < 0):
            raise ValidationError(f"FromList: weight {w.min()} < 0; give magnitudes, the receptor sets the sign")
        return pre, post, w, d

    def expected_size(self, n_pre, n_post, same_population):
        return len(self.conn_list)


@description_type
@dataclass(frozen=True)
class FixedProbability(Connector):
    """Each (pre, post) pair connected independently with probability ``p``. ``seed=None`` derives
    the seed from the network seed and the projection's position, so a network is reproducible.

    The draw is ``rng.random((n_pre, n_post)) < p`` with ``rng = numpy.random.default_rng(seed)``,
    generated a few rows at a time (``CHUNK`` numbers) so memory stays bounded by the synapses
    made, not n_pre·n_post; the Generator fills in C order, so the pairs are bit-identical to
    drawing the whole matrix at once."""

    p: float = 0.1
    seed: int | None = None
    allow_self_connections: bool = True

    def __post_init__(self):
        p = non_negative("FixedProbability", "p", self.p)
        if p > 1:
            raise ValidationError(f"FixedProbability: p={p} must be in [0, 1]")
        object.__setattr__(self, "p", p)
        if self.seed is not None:
            object.__setattr__(self, "seed", _seed("FixedProbability", "seed", self.seed))
        object.__setattr__(self, "allow_self_connections",
                           boolean("FixedProbability", "allow_self_connections", self.allow_self_connections))

    sorted_pairs = True

    def connections(self, n_pre, n_post, same_population, seed):
        if n_pre * n_post > MAX_DRAWS:
            raise ValidationError(
                f"FixedProbability: {n_pre:,} × {n_post:,} = {n_pre * n_post:,} pairs to draw, above the limit of {MAX_DRAWS:,} "
                "(about 20 minutes of drawing); use smaller populations or FromList with pairs drawn elsewhere")
        rng = np.random.default_rng(self.seed if self.seed is not None else seed)
        no_self = same_population and not self.allow_self_connections
        # Filled in place, so the lists cost their final size only (no chunk list + concatenate).
        # The binomial count exceeds mean + 10 sd with negligible probability; it grows if it does.
        mean = self.expected_size(n_pre, n_post, same_population)
        cap = int(mean + 10 * np.sqrt(mean) + 1024)
        pre, post = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
        n = 0
        rows = max(1, CHUNK // n_post)
        for r0 in range(0, n_pre, rows):
            block = rng.random((min(rows, n_pre - r0), n_post)) < self.p
            flat = np.flatnonzero(block)  # C order, as np.nonzero of the whole matrix
            del block
            flat += r0 * n_post
            if no_self:
                flat = flat[flat % (n_post + 1) != 0]  # the diagonal i = j is i·(n_post + 1)
            k = flat.size
            if n + k > cap:
                cap = max(n + k, int(cap * 1.25))
                pre, post = _grown(pre, n, cap), _grown(post, n, cap)
            np.divmod(flat, n_post, out=(pre[n:n + k], post[n:n + k]))
            n += k
        return pre[:n], post[:n], None, None

    def expected_size(self, n_pre, n_post, same_population):
        pairs = n_pre * n_post - (n_pre if same_population and not self.allow_self_connections else 0)
        return pairs * self.p


def _grown(a: np.ndarray, n: int, cap: int) -> np.ndarray:
    out = np.empty(cap, dtype=a.dtype)
    out[:n] = a[:n]
    return out
