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
from .space import DistanceExpression, Line, Space, random_state
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


# -- fixed-number connectors -------------------------------------------------------------------
# PyNN's FixedNumberPre/Post and FixedTotalNumber, drawn by neuromorph (not PyNN's draw) from the
# connector's seed or the network seed, vectorised: a chunk of rows (CHUNK numbers) at a time.
# Without replacement a row's k values are drawn by rejection: k uniform integers, the repeated
# ones redrawn until all differ. The procedure commutes with any relabelling of the candidates, so
# every k-subset is equally likely; when k is more than half the candidates the excluded ones are
# drawn that way instead (so a redraw always succeeds with probability ≥ 1/2).

def _distinct_rows(rng, rows: int, m: int, k: int) -> np.ndarray:
    """``[rows, k]``: each row k different integers in [0, m), sorted, every k-subset equally
    likely (k ≤ m)."""
    a = rng.integers(0, m, size=(rows, k), dtype=np.int64)
    if rows == 1:  # one long row (FixedTotalNumber): keep the distinct values, merge the redraws in
        u = _sorted_distinct(a[0])
        while u.size < k:
            new = _sorted_distinct(rng.integers(0, m, size=k - u.size, dtype=np.int64))
            at = np.searchsorted(u, new)
            new = new[(at == u.size) | (u[np.minimum(at, u.size - 1)] != new)]
            u = np.concatenate([u, new])
            u.sort(kind="stable")  # two sorted runs: a linear merge
        return u[None, :]
    a.sort(axis=1)
    which = np.arange(rows)
    sub = a
    while k > 1:
        dup = sub[:, 1:] == sub[:, :-1]
        bad = dup.any(axis=1)
        if not bad.any():
            break
        which, sub, dup = which[bad], sub[bad], dup[bad]
        tail = sub[:, 1:]
        tail[dup] = rng.integers(0, m, size=int(dup.sum()), dtype=np.int64)
        sub.sort(axis=1)
        a[which] = sub
    return a


def _sorted_distinct(a: np.ndarray) -> np.ndarray:
    a.sort()  # (np.unique is many times slower on numpy 2 for 1e7 values)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if a.size else a


def _choose_rows(rng, rows: int, m: int, k: int, replace: bool) -> np.ndarray:
    """``[rows, k]`` integers in [0, m): independent uniform draws with replacement, else each
    row a uniform k-subset (sorted)."""
    if replace:
        return rng.integers(0, m, size=(rows, k), dtype=np.int64)
    if 2 * k <= m:
        return _distinct_rows(rng, rows, m, k)
    excluded = _distinct_rows(rng, rows, m, m - k)
    keep = np.ones((rows, m), dtype=bool)
    keep[np.arange(rows)[:, None], excluded] = False
    return np.nonzero(keep)[1].reshape(rows, k)


def _fixed_number(owner, n, n_rows, n_cand, no_self, replace, seed, row_name, cand_name):
    """``[n_rows, n]`` candidate indices per row (row i never gets candidate i when ``no_self``)."""
    m = n_cand - 1 if no_self else n_cand
    if n and m <= 0:
        raise ValidationError(f"{owner}: n={n} but there are no {cand_name} neurons to choose from"
                              + (" (self connections excluded)" if no_self else ""))
    if not replace and n > m:
        raise ValidationError(
            f"{owner}: n={n} is more than the {m} {cand_name} neurons to choose from without replacement"
            + (" (self connections excluded)" if no_self else "")
            + "; use a smaller n or with_replacement=True (which may connect a pair more than once)")
    rng = np.random.default_rng(seed)
    out = np.empty((n_rows, n), dtype=np.int64)
    step = max(1, CHUNK // max(1, m if not replace and 2 * n > m else n))
    for r0 in range(0, n_rows, step):
        r1 = min(n_rows, r0 + step)
        block = _choose_rows(rng, r1 - r0, m, n, replace)
        if no_self:  # candidates 0..m-1 skip the row's own index
            block += block >= np.arange(r0, r1, dtype=np.int64)[:, None]
        out[r0:r1] = block
    return out


def _check_n(owner, n):
    return integer(owner, "n", n, 0, 2 ** 62, why="the number of connections cannot be negative")


@description_type
@dataclass(frozen=True)
class FixedNumberPre(Connector):
    """Each post neuron receives exactly ``n`` connections from pre neurons chosen uniformly at
    random (PyNN's FixedNumberPreConnector). Without replacement the n are different neurons (n
    larger than the pre population is refused); with replacement they are independent draws, so a
    pair may be connected more than once (each a synapse of its own). ``allow_self_connections``
    False (same population) excludes i→i. ``seed=None``: drawn from the network seed."""

    n: int = 1
    seed: int | None = None
    allow_self_connections: bool = True
    with_replacement: bool = False

    def __post_init__(self):
        _fixed_init(self, "FixedNumberPre")

    def connections(self, n_pre, n_post, same_population, seed):
        no_self = same_population and not self.allow_self_connections
        pre = _fixed_number("FixedNumberPre", self.n, n_post, n_pre, no_self, self.with_replacement,
                            self.seed if self.seed is not None else seed, "post", "pre")
        pre = pre.reshape(-1)
        post = np.repeat(np.arange(n_post, dtype=np.int64), self.n)
        # drawn post by post: a stable sort by pre gives (pre, post) order (radix sort below 2^16)
        order = np.argsort(pre.astype(np.uint16) if n_pre <= 1 << 16 else pre, kind="stable")
        return pre[order], post[order], None, None

    def expected_size(self, n_pre, n_post, same_population):
        return self.n * n_post

    @property
    def sorted_pairs(self):  # sorted by (pre, post); repeats only with replacement
        return not self.with_replacement

    def max_fan_in(self, n_pre, n_post, same_population, seed):
        return self.n if n_post else 0


@description_type
@dataclass(frozen=True)
class FixedNumberPost(Connector):
    """Each pre neuron makes exactly ``n`` connections onto post neurons chosen uniformly at random
    (PyNN's FixedNumberPostConnector); replacement, self connections and seed as FixedNumberPre."""

    n: int = 1
    seed: int | None = None
    allow_self_connections: bool = True
    with_replacement: bool = False

    def __post_init__(self):
        _fixed_init(self, "FixedNumberPost")

    def connections(self, n_pre, n_post, same_population, seed):
        no_self = same_population and not self.allow_self_connections
        post = _fixed_number("FixedNumberPost", self.n, n_pre, n_post, no_self, self.with_replacement,
                             self.seed if self.seed is not None else seed, "pre", "post")
        if self.with_replacement:
            post.sort(axis=1)  # rows already sorted without replacement
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), self.n)
        return pre, post.reshape(-1), None, None

    @property
    def sorted_pairs(self):  # sorted by (pre, post); repeats only with replacement
        return not self.with_replacement

    def expected_size(self, n_pre, n_post, same_population):
        return self.n * n_pre


@description_type
@dataclass(frozen=True)
class FixedTotalNumber(Connector):
    """Exactly ``n`` connections in all, pairs chosen uniformly among the allowed (pre, post)
    pairs (PyNN's FixedTotalNumberConnector). With replacement (the default, as PyNN) the n pairs
    are independent draws and a pair may repeat; without, they are n different pairs (n above the
    number of pairs is refused). ``allow_self_connections`` False (same population) excludes i→i —
    PyNN 0.13 accepts the flag but ignores it; neuromorph honours it."""

    n: int = 1
    seed: int | None = None
    allow_self_connections: bool = True
    with_replacement: bool = True

    def __post_init__(self):
        _fixed_init(self, "FixedTotalNumber")

    def connections(self, n_pre, n_post, same_population, seed):
        no_self = same_population and not self.allow_self_connections
        width = n_post - 1 if no_self else n_post  # candidate posts per pre neuron
        pairs = n_pre * width
        if self.n and pairs <= 0:
            raise ValidationError(f"FixedTotalNumber: n={self.n} but there are no (pre, post) pairs to choose from")
        if not self.with_replacement and self.n > pairs:
            raise ValidationError(
                f"FixedTotalNumber: n={self.n} is more than the {pairs:,} (pre, post) pairs to choose from without replacement"
                + (" (self connections excluded)" if no_self else "") + "; use a smaller n or with_replacement=True")
        if not self.n:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), None, None
        rng = np.random.default_rng(self.seed if self.seed is not None else seed)
        flat = _choose_rows(rng, 1, pairs, self.n, self.with_replacement)[0]
        if self.with_replacement:
            flat.sort()
        pre, post = np.divmod(flat, width)
        if no_self:
            post += post >= pre
        return pre, post, None, None

    @property
    def sorted_pairs(self):  # sorted by (pre, post); repeats only with replacement
        return not self.with_replacement

    def expected_size(self, n_pre, n_post, same_population):
        return self.n


def _fixed_init(self, owner):
    object.__setattr__(self, "n", _check_n(owner, self.n))
    if self.seed is not None:
        object.__setattr__(self, "seed", _seed(owner, "seed", self.seed))
    for name in ("allow_self_connections", "with_replacement"):
        object.__setattr__(self, name, boolean(owner, name, getattr(self, name)))


# -- distance-dependent probability -------------------------------------------------------------------
@description_type
@dataclass(frozen=True)
class DistanceDependentProbability(Connector):
    """Each (pre, post) pair connected independently with probability ``d_expression`` of their
    distance ``d`` (PyNN's DistanceDependentProbabilityConnector), e.g. ``"exp(-d/50)"`` or
    ``"d < 3"``; values above 1 connect always, NaN or negative values are refused. Distances are
    measured between the populations' positions (their structures; PyNN's default ``Line()``
    when a population has none) in ``space`` (``nm.Space(axes=..., periodic_boundaries=...)``).
    ``allow_self_connections`` False (same population) excludes i→i.

    The draw is PyNN's: ``RandomState(seed)`` gives one uniform number per pair, post neuron by
    post neuron (``n_pre`` numbers each, pre in order), and a pair connects where it is below the
    probability — so ``seed=s`` gives the pairs ``rng=NumpyRNG(seed=s)`` gives PyNN for the same
    positions. ``seed=None``: the network seed and the projection's position. Evaluated a block
    of post neurons at a time (``CHUNK`` pairs), never as a whole ``[n_pre, n_post]`` matrix."""

    d_expression: str
    allow_self_connections: bool = True
    space: Space = Space()
    seed: int | None = None

    sorted_pairs = True
    #: the network hands this connector the populations' positions (``connections_at``)
    uses_positions = True

    def __post_init__(self):
        owner = "DistanceDependentProbability"
        expr = DistanceExpression(owner, self.d_expression)
        for d in (0.0, 1e12):  # PyNN checks these two: 0 <= p(0), 0 <= p(1e12)
            _check_probability(owner, self.d_expression, expr(np.array([d])), np.array([d]))
        object.__setattr__(self, "_expression", expr)
        object.__setattr__(self, "allow_self_connections", boolean(owner, "allow_self_connections", self.allow_self_connections))
        if not isinstance(self.space, Space):
            raise ValidationError(f"{owner}: space={self.space!r:.60} must be nm.Space(axes=..., periodic_boundaries=...)")
        if self.seed is not None:
            object.__setattr__(self, "seed", _seed(owner, "seed", self.seed))

    def connections(self, n_pre, n_post, same_population, seed):
        """Between populations without structures: PyNN's default Line() positions."""
        line = Line()
        return self.connections_at(line.positions(n_pre), line.positions(n_post), same_population, seed)

    def connections_at(self, pre_positions, post_positions, same_population, seed):
        """The pairs between neurons at ``pre_positions`` and ``post_positions`` (``[3, n]``)."""
        pos_pre = np.ascontiguousarray(np.asarray(pre_positions, dtype=np.float64).T)
        pos_post = np.asarray(post_positions, dtype=np.float64).T
        n_pre, n_post = len(pos_pre), len(pos_post)
        if n_pre * n_post > MAX_DRAWS:
            raise ValidationError(
                f"DistanceDependentProbability: {n_pre:,} × {n_post:,} = {n_pre * n_post:,} pairs to draw, above the limit of "
                f"{MAX_DRAWS:,}; use smaller populations or FromList with pairs drawn elsewhere")
        rng = random_state(self.seed if self.seed is not None else seed)
        no_self = same_population and not self.allow_self_connections
        pres, posts = [], []
        cols = max(1, CHUNK // max(1, n_pre))
        for c0 in range(0, n_post, cols):
            c1 = min(n_post, c0 + cols)
            d = self.space.distances(pos_pre, pos_post[c0:c1])  # [c1 - c0, n_pre]
            p = self._expression(d)
            _check_probability("DistanceDependentProbability", self.d_expression, p, d)
            u = rng.uniform(0.0, 1.0, size=(c1 - c0) * n_pre).reshape(c1 - c0, n_pre)  # PyNN: n_pre per post, in order
            hit = u < p
            del u, p, d
            if no_self:
                r = np.arange(c1 - c0)
                r = r[c0 + r < n_pre]
                hit[r, c0 + r] = False
            col, row = np.nonzero(hit)
            posts.append(col + c0)
            pres.append(row)
        pre = np.concatenate(pres).astype(np.int64) if pres else np.zeros(0, np.int64)
        post = np.concatenate(posts).astype(np.int64) if posts else np.zeros(0, np.int64)
        order = np.argsort(pre, kind="stable")  # drawn post-major: a stable sort by pre gives (pre, post)
        return pre[order], post[order], None, None


def _check_probability(owner, text, p, d):
    bad = ~(p >= 0)
    if bad.any():
        k = np.flatnonzero(bad.ravel())[0]
        raise ValidationError(
            f"{owner}: d_expression={text!r:.80} is {float(p.ravel()[k]):g} at d={float(d.ravel()[k]):g}, not a probability (must be >= 0, "
            "not NaN); clip it, e.g. maximum(0, ...), or guard the distances where it is undefined")
