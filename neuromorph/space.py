"""Spatial structures (where a population's neurons are) and the space distances are measured in.

PyNN's ``pyNN.space`` as description types, with PyNN's parameter names and the same positions
for the same arguments: ``Line``, ``Grid2D``, ``Grid3D``, ``RandomStructure`` (in a ``Cuboid`` or
a ``Sphere``) and ``Space`` (axes, scale factor, offset, periodic boundaries). Positions are
``[3, n]`` float64 arrays (x, y, z rows) in PyNN's arbitrary length units — neuromorph gives them
no unit; only distance-dependent connectors read them. PyNN itself is not imported: the positions
are computed here with numpy as pyNN.space computes them (tests/test_spatial_structures.py checks
them against pyNN.space).

Random positions (``RandomStructure``, ``fill_order="random"``) are drawn from
``numpy.random.RandomState(seed)``, the generator behind PyNN's ``NumpyRNG(seed)``, in PyNN's order,
so ``seed=s`` gives the positions PyNN gives with ``rng=NumpyRNG(seed=s)``. ``seed=None`` derives a
seed from the network seed and the population's position (``Network.positions``).

Also here: the safe evaluation of distance expressions (``DistanceExpression``), such as
``"exp(-d/50)"``, for ``connectors.DistanceDependentProbability``.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import ValidationError
from .registry import description_type
from .validation import number, seed as _seed

#: Largest |coordinate|, grid step, extent or boundary (so squared distances stay finite and exact enough)
MAX_COORD = 1e9


def _coord(owner, name, value, positive=False):
    if positive:
        return number(owner, name, value, 0.0, MAX_COORD, strict_lo=True, why="a length in PyNN's position units")
    return number(owner, name, value, -MAX_COORD, MAX_COORD, why=f"coordinates are at most {MAX_COORD:g} in magnitude")


def _triple(owner, name, value):
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or len(value) != 3:
        raise ValidationError(f"{owner}: {name}={value!r:.60} must be three numbers (x, y, z)")
    return tuple(_coord(owner, f"{name}[{k}]", v) for k, v in enumerate(value))


def random_state(seed: int) -> np.random.RandomState:
    """``numpy.random.RandomState`` for a seed in [0, 2**63): PyNN's NumpyRNG stream for seeds
    below 2**32 (all PyNN accepts), a stream of its own for larger ones."""
    seed = int(seed)
    return np.random.RandomState(seed if seed < 2 ** 32 else [seed & 0xFFFFFFFF, seed >> 32])


def population_seed(network_seed: int, index: int) -> int:
    """The seed of the random positions of the ``index``-th population when its structure has
    none (distinct from the projections' ``network_seed·1000003 + index``)."""
    return (int(network_seed) * 1_000_003 + 999_983 - int(index)) % (2 ** 63)


class Structure:
    """Base of the spatial structures: ``positions(n, seed)`` gives ``[3, n]`` float64."""

    #: whether the positions depend on the seed
    random = False

    def positions(self, n: int, seed: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def check_size(self, n: int) -> None:
        """Refuse a population size the structure cannot hold (ValidationError)."""


class Shape:
    """Base of the volumes a RandomStructure fills (``sample(n, rng)`` → ``[n, 3]``)."""


def _seed_or_none(self, owner):
    if self.seed is not None:
        object.__setattr__(self, "seed", _seed(owner, "seed", self.seed))


@description_type
@dataclass(frozen=True)
class Line(Structure):
    """Neurons evenly on a line along x: neuron i at ``(x0 + i·dx, y, z)`` (PyNN's default
    structure of every population)."""

    dx: float = 1.0
    x0: float = 0.0
    y: float = 0.0
    z: float = 0.0

    def __post_init__(self):
        for name in ("dx", "x0", "y", "z"):
            object.__setattr__(self, name, _coord("Line", name, getattr(self, name)))

    def positions(self, n, seed=None):
        x = self.dx * np.arange(n, dtype=float) + self.x0
        return np.array((x, np.zeros(n) + self.y, np.zeros(n) + self.z))


def _grid_fill(positions: np.ndarray, fill_order: str, seed) -> np.ndarray:
    if fill_order == "sequential":
        return positions
    return random_state(seed).permutation(positions.T).T  # PyNN: rng.permutation(positions.T).T


@description_type
@dataclass(frozen=True)
class Grid2D(Structure):
    """Neurons on an ``nx × ny`` grid in the plane z, ``nx/ny = aspect_ratio`` (points per side, not
    side lengths), filled y fastest: neuron k at ``(x0 + dx·(k // ny), y0 + dy·(k % ny), z)``
    (``fill_order="sequential"``), or those points permuted by ``RandomState(seed)``
    (``"random"``). The size must make nx a whole number (as PyNN: sqrt(n·aspect_ratio) must
    divide n)."""

    aspect_ratio: float = 1.0
    dx: float = 1.0
    dy: float = 1.0
    x0: float = 0.0
    y0: float = 0.0
    z: float = 0.0
    fill_order: Literal["sequential", "random"] = "sequential"
    seed: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "aspect_ratio", _coord("Grid2D", "aspect_ratio", self.aspect_ratio, positive=True))
        for name in ("dx", "dy", "x0", "y0", "z"):
            object.__setattr__(self, name, _coord("Grid2D", name, getattr(self, name)))
        _fill_order("Grid2D", self.fill_order)
        _seed_or_none(self, "Grid2D")

    @property
    def random(self):
        return self.fill_order == "random"

    def calculate_size(self, n: int) -> tuple[int, int]:
        """``(nx, ny)`` as PyNN's Grid2D.calculate_size (ValidationError where PyNN raises)."""
        nx = math.sqrt(n * self.aspect_ratio)
        if not math.isclose(n % nx, 0, rel_tol=1e-12, abs_tol=1e-12):
            raise ValidationError(
                f"Grid2D(aspect_ratio={self.aspect_ratio:g}): {n} neurons do not fill a grid (nx = sqrt(n·aspect_ratio) = "
                f"{nx:.6g} must be a whole number dividing n); choose n = aspect_ratio·k² for a whole k")
        nx = int(round(nx))
        return nx, n // nx

    def check_size(self, n):
        self.calculate_size(n)

    def positions(self, n, seed=None):
        nx, ny = self.calculate_size(n)
        x, y, z = np.indices((nx, ny, 1), dtype=float)
        pos = np.array((self.x0 + self.dx * x.flatten(), self.y0 + self.dy * y.flatten(), self.z + z.flatten()))
        return _grid_fill(pos, self.fill_order, self.seed if self.seed is not None else seed)


@description_type
@dataclass(frozen=True)
class Grid3D(Structure):
    """Neurons on an ``nx × ny × nz`` grid, ``nx/ny = aspect_ratioXY``, ``nx/nz = aspect_ratioXZ``,
    filled z fastest, then y, then x (PyNN's Grid3D); ``fill_order`` and ``seed`` as Grid2D. The
    size must be ``nx·ny·nz`` exactly."""

    aspect_ratioXY: float = 1.0
    aspect_ratioXZ: float = 1.0
    dx: float = 1.0
    dy: float = 1.0
    dz: float = 1.0
    x0: float = 0.0
    y0: float = 0.0
    z0: float = 0.0
    fill_order: Literal["sequential", "random"] = "sequential"
    seed: int | None = None

    def __post_init__(self):
        for name in ("aspect_ratioXY", "aspect_ratioXZ"):
            object.__setattr__(self, name, _coord("Grid3D", name, getattr(self, name), positive=True))
        for name in ("dx", "dy", "dz", "x0", "y0", "z0"):
            object.__setattr__(self, name, _coord("Grid3D", name, getattr(self, name)))
        _fill_order("Grid3D", self.fill_order)
        _seed_or_none(self, "Grid3D")

    @property
    def random(self):
        return self.fill_order == "random"

    def calculate_size(self, n: int) -> tuple[int, int, int]:
        """``(nx, ny, nz)`` as PyNN's Grid3D.calculate_size (ValidationError where PyNN asserts)."""
        a, b = self.aspect_ratioXY, self.aspect_ratioXZ
        nx = int(round(math.pow(n * a * b, 1 / 3.0)))
        ny, nz = int(round(nx / a)), int(round(nx / b))
        if nx * ny * nz != n:
            raise ValidationError(
                f"Grid3D(aspect_ratioXY={a:g}, aspect_ratioXZ={b:g}): {n} neurons do not fill a grid (nx, ny, nz = "
                f"{nx}, {ny}, {nz} hold {nx * ny * nz}); choose n = nx·ny·nz with nx/ny and nx/nz the aspect ratios")
        return nx, ny, nz

    def check_size(self, n):
        self.calculate_size(n)

    def positions(self, n, seed=None):
        nx, ny, nz = self.calculate_size(n)
        x, y, z = np.indices((nx, ny, nz), dtype=float)
        pos = np.array((self.x0 + self.dx * x.flatten(), self.y0 + self.dy * y.flatten(), self.z0 + self.dz * z.flatten()))
        return _grid_fill(pos, self.fill_order, self.seed if self.seed is not None else seed)


def _fill_order(owner, value):
    if value not in ("sequential", "random"):
        raise ValidationError(f"{owner}: fill_order={value!r:.40} must be 'sequential' or 'random'")


@description_type
@dataclass(frozen=True)
class Cuboid(Shape):
    """A box of extent ``width`` (x), ``height`` (y), ``depth`` (z) centred on the origin."""

    width: float = 1.0
    height: float = 1.0
    depth: float = 1.0

    def __post_init__(self):
        for name in ("width", "height", "depth"):
            object.__setattr__(self, name, _coord("Cuboid", name, getattr(self, name), positive=True))

    def sample(self, n, rng):
        # PyNN: 0.5 * rng.uniform(-1, 1, size=(n, 3)) * (width, height, depth)
        return 0.5 * rng.uniform(-1, 1, size=(n, 3)) * (self.width, self.height, self.depth)


@description_type
@dataclass(frozen=True)
class Sphere(Shape):
    """A ball of ``radius`` centred on the origin."""

    radius: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "radius", _coord("Sphere", "radius", self.radius, positive=True))

    def sample(self, n, rng):
        # PyNN draws one candidate (3 uniforms in [-1, 1)) at a time and keeps those inside the
        # unit ball; drawing candidates in blocks consumes the same stream in the same order.
        out = np.empty((n, 3))
        i = 0
        while i < n:
            k = max(16, int(2.0 * (n - i)) + 8)  # acceptance is π/6 ≈ 0.52
            c = rng.uniform(-1, 1, size=(k, 3))
            c = c[(c ** 2).sum(axis=1) < 1][:n - i]
            out[i:i + len(c)] = c
            i += len(c)
        return self.radius * out


@description_type
@dataclass(frozen=True)
class RandomStructure(Structure):
    """Neurons uniformly at random inside ``boundary`` (a Cuboid or Sphere) centred on ``origin``,
    drawn as PyNN draws them from ``RandomState(seed)`` (seed None: from the network seed)."""

    boundary: Shape
    origin: tuple = (0.0, 0.0, 0.0)
    seed: int | None = None

    random = True

    def __post_init__(self):
        if not isinstance(self.boundary, Shape):
            raise ValidationError(f"RandomStructure: boundary={self.boundary!r:.60} must be nm.Cuboid(width, height, depth) or "
                                  "nm.Sphere(radius)")
        object.__setattr__(self, "origin", _triple("RandomStructure", "origin", self.origin))
        _seed_or_none(self, "RandomStructure")

    def positions(self, n, seed=None):
        rng = random_state(self.seed if self.seed is not None else seed)
        return (np.array(self.origin) + self.boundary.sample(n, rng)).T


_AXES = {"x": (0,), "y": (1,), "z": (2,), "xy": (0, 1), "yz": (1, 2), "xz": (0, 2), "xyz": (0, 1, 2)}


@description_type
@dataclass(frozen=True)
class Space:
    """How distances are measured (PyNN's Space): over ``axes`` ("x", "xy", ..., None = "xyz"),
    with the post positions mapped to ``scale_factor·(p + offset)``, and per axis an optional
    periodic boundary ``(lo, hi)`` (distances wrap at ``hi - lo``): ``periodic_boundaries`` is
    None or three entries, each None or ``(lo, hi)``."""

    axes: str | None = None
    scale_factor: float = 1.0
    offset: tuple = (0.0, 0.0, 0.0)
    periodic_boundaries: tuple | None = None

    def __post_init__(self):
        if self.axes is not None and self.axes not in _AXES:
            raise ValidationError(f"Space: axes={self.axes!r:.40} must be one of {', '.join(_AXES)} or None (all three)")
        object.__setattr__(self, "scale_factor", _coord("Space", "scale_factor", self.scale_factor))
        offset = self.offset
        if np.ndim(offset) == 0 and not isinstance(offset, (str, bytes)):
            offset = (offset,) * 3  # PyNN adds a scalar offset to every coordinate
        object.__setattr__(self, "offset", _triple("Space", "offset", offset))
        pb = self.periodic_boundaries
        if pb is not None:
            if isinstance(pb, (str, bytes, dict)) or not hasattr(pb, "__len__") or len(pb) != 3:
                raise ValidationError(f"Space: periodic_boundaries={pb!r:.60} must be None or three entries (x, y, z), "
                                      "each None or (lo, hi)")
            out = []
            for k, b in enumerate(pb):
                if b is None:
                    out.append(None)
                    continue
                lo_hi = _pair("Space", f"periodic_boundaries[{k}]", b)
                if not lo_hi[1] > lo_hi[0]:
                    raise ValidationError(f"Space: periodic_boundaries[{k}]={b!r} must have hi > lo")
                out.append(lo_hi)
            object.__setattr__(self, "periodic_boundaries", tuple(out))

    @property
    def axis_indices(self) -> tuple[int, ...]:
        return _AXES[self.axes or "xyz"]

    def distances(self, pre: np.ndarray, post: np.ndarray) -> np.ndarray:
        """``[len(post), len(pre)]`` distances between pre positions ``[n_pre, 3]`` and post
        positions ``[n_post, 3]``, computed as PyNN's ``Space.distances`` (per axis: difference,
        periodic wrap, square; summed over the axes in order; square root)."""
        post = self.scale_factor * (post + np.asarray(self.offset))
        d2 = None
        for axis in self.axis_indices:
            diff = pre[None, :, axis] - post[:, None, axis]
            if self.periodic_boundaries is not None and self.periodic_boundaries[axis] is not None:
                lo, hi = self.periodic_boundaries[axis]
                ad = np.abs(diff)
                diff = np.minimum(ad, (hi - lo) - ad)
            diff **= 2
            if d2 is None:
                d2 = diff
            else:
                d2 += diff
        return np.sqrt(d2, out=d2)


def _pair(owner, name, value):
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValidationError(f"{owner}: {name}={value!r:.60} must be (lo, hi)")
    return tuple(_coord(owner, f"{name}[{k}]", v) for k, v in enumerate(value))


# -- distance expressions ------------------------------------------------------------------------------
#: functions a distance expression may call: numpy's, under the names PyNN's expression namespace
#: gives them (pyNN.connectors imports them from lazyarray), plus abs, minimum, maximum and where
FUNCTIONS = {name: getattr(np, name) for name in (
    "exp", "log", "log10", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh",
    "tanh", "ceil", "floor", "fabs", "fmod", "hypot", "power", "minimum", "maximum", "where")}
FUNCTIONS["abs"] = np.abs
CONSTANTS = {"e": math.e, "pi": math.pi}
_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.BitAnd, ast.BitOr, ast.BitXor,
        ast.USub, ast.UAdd, ast.Invert, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


class DistanceExpression:
    """An expression in the distance ``d`` (e.g. ``"exp(-d/50)"``, ``"d < 3"``,
    ``"0.5*(d<100) & (d>10)"``), checked by walking its syntax tree: numbers, ``d``, ``e``, ``pi``,
    arithmetic and comparison operators, ``&``/``|``/``~``, and calls of ``FUNCTIONS`` — nothing
    else (no attributes, subscripts, other names, strings, lambdas, ``and``/``or``). Evaluated
    vectorised with numpy over an array of distances."""

    def __init__(self, owner: str, text):
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"{owner}: d_expression={text!r:.60} must be an expression in d as a string, e.g. 'exp(-d/50)'")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ValidationError(f"{owner}: d_expression={text!r:.80} is not a valid expression ({exc.msg})") from None
        for node in ast.walk(tree):
            bad = self._bad(node)
            if bad:
                raise ValidationError(f"{owner}: d_expression={text!r:.80}: {bad}; use numbers, d, e, pi, + - * / ** % "
                                      f"< <= > >= == != & | ~ and the functions {', '.join(sorted(FUNCTIONS))}")
        self.owner, self.text = owner, text
        self._code = compile(tree, "<d_expression>", "eval")

    def __reduce__(self):  # picklable and deep-copyable: parsed (and checked) again from the text
        return (DistanceExpression, (self.owner, self.text))

    @staticmethod
    def _bad(node) -> str | None:
        if isinstance(node, (ast.Expression, ast.Load, ast.BinOp, ast.UnaryOp, ast.Compare) + _OPS):
            return None
        if isinstance(node, ast.Constant):
            return None if type(node.value) in (int, float) else f"the constant {node.value!r:.40} is not a number"
        if isinstance(node, ast.Name):
            return None if node.id in FUNCTIONS or node.id in CONSTANTS or node.id == "d" else f"unknown name {node.id!r}"
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                return f"only calls of the listed functions are allowed ({ast.unparse(node.func)!r:.40} is not one)"
            if node.keywords:
                return "function calls take positional arguments only"
            return None
        if isinstance(node, ast.BoolOp):
            return "'and'/'or' do not work element by element; use & and | with parentheses, e.g. (d > 1) & (d < 3)"
        return f"{type(node).__name__} is not allowed"

    def __call__(self, d: np.ndarray) -> np.ndarray:
        """The expression at distances ``d`` (float64 array), as a float64 array of d's shape."""
        with np.errstate(all="ignore"):
            out = eval(self._code, {"__builtins__": {}}, {**FUNCTIONS, **CONSTANTS, "d": d})  # noqa: S307 - checked tree
        return np.broadcast_to(np.asarray(out, dtype=np.float64), np.shape(d))
