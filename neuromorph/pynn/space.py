"""PyNN's ``pyNN.space`` for ``neuromorph.pynn``: ``from neuromorph.pynn.space import Grid2D`` where a
PyNN script has ``from pyNN.space import Grid2D`` (also ``sim.space.Grid2D`` and ``sim.Grid2D``).

Each class takes PyNN's arguments and stands for the description type of the same name
(neuromorph/space.py), which computes the positions as pyNN.space does. ``rng=NumpyRNG(seed=s)``
becomes the description's ``seed=s``: the positions are those PyNN draws from a *fresh*
``NumpyRNG(seed=s)`` (an rng already drawn from, or shared with a connector, continues its stream
in PyNN but starts again here). Without an rng (PyNN: an unseeded generator) the positions come
from the setup seed. Also here: ``DistanceDependentProbabilityConnector``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

import neuromorph as nm
from neuromorph.errors import UnsupportedError, ValidationError

from . import NumpyRNG, _Connector, check_connector_options

__all__ = ["Space", "Line", "Grid2D", "Grid3D", "RandomStructure", "Cuboid", "Sphere", "BaseStructure", "Shape",
           "DistanceDependentProbabilityConnector"]


def _seed(owner, rng):
    """The description seed of a PyNN ``rng`` argument (None: the setup seed decides)."""
    if rng is None:
        return None
    if not isinstance(rng, NumpyRNG):
        raise UnsupportedError(f"{owner}(rng={type(rng).__name__}): use neuromorph.pynn.NumpyRNG(seed=...)")
    return None if rng.seed is None else int(rng.seed)


class BaseStructure:
    """A PyNN structure; ``_nm`` is the description type (neuromorph/space.py)."""

    parameter_names: tuple = ()

    def generate_positions(self, n):
        """``[3, n]`` positions, as PyNN's ``generate_positions`` (seedless random structures draw
        from the setup seed through the population; here from seed 0)."""
        return self._nm.positions(int(n), 0)

    def get_parameters(self):
        return {name: getattr(self, name) for name in self.parameter_names}

    def __eq__(self, other):
        return type(self) is type(other) and self._nm == other._nm

    __hash__ = None

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_parameters().items())})"


class Line(BaseStructure):
    """Neurons evenly on a line: neuron i at ``(x0 + i·dx, y, z)``."""

    parameter_names = ("dx", "x0", "y", "z")

    def __init__(self, dx=1.0, x0=0.0, y=0.0, z=0.0):
        self.dx, self.x0, self.y, self.z = dx, x0, y, z
        self._nm = nm.Line(dx=dx, x0=x0, y=y, z=z)


class Grid2D(BaseStructure):
    """Neurons on a 2D grid (PyNN's Grid2D: aspect_ratio = points in x / points in y)."""

    parameter_names = ("aspect_ratio", "dx", "dy", "x0", "y0", "z", "fill_order")

    def __init__(self, aspect_ratio=1.0, dx=1.0, dy=1.0, x0=0.0, y0=0.0, z=0, fill_order="sequential", rng=None):
        self.aspect_ratio, self.dx, self.dy, self.x0, self.y0, self.z = aspect_ratio, dx, dy, x0, y0, z
        self.fill_order, self.rng = fill_order, rng
        self._nm = nm.Grid2D(aspect_ratio=aspect_ratio, dx=dx, dy=dy, x0=x0, y0=y0, z=z, fill_order=fill_order,
                             seed=_seed("Grid2D", rng))

    def calculate_size(self, n):
        return self._nm.calculate_size(int(n))


class Grid3D(BaseStructure):
    """Neurons on a 3D grid (PyNN's Grid3D), filled z fastest, then y, then x."""

    parameter_names = ("aspect_ratios", "dx", "dy", "dz", "x0", "y0", "z0", "fill_order")

    def __init__(self, aspect_ratioXY=1.0, aspect_ratioXZ=1.0, dx=1.0, dy=1.0, dz=1.0, x0=0.0, y0=0.0, z0=0,
                 fill_order="sequential", rng=None):
        self.aspect_ratios = (aspect_ratioXY, aspect_ratioXZ)
        self.dx, self.dy, self.dz, self.x0, self.y0, self.z0 = dx, dy, dz, x0, y0, z0
        self.fill_order, self.rng = fill_order, rng
        self._nm = nm.Grid3D(aspect_ratioXY=aspect_ratioXY, aspect_ratioXZ=aspect_ratioXZ, dx=dx, dy=dy, dz=dz,
                             x0=x0, y0=y0, z0=z0, fill_order=fill_order, seed=_seed("Grid3D", rng))

    def calculate_size(self, n):
        return self._nm.calculate_size(int(n))


class Shape:
    """A volume for RandomStructure."""


class Cuboid(Shape):
    """A box of ``width`` (x), ``height`` (y), ``depth`` (z) centred on the structure's origin."""

    def __init__(self, width, height, depth):
        self.width, self.height, self.depth = width, height, depth
        self._nm = nm.Cuboid(width=width, height=height, depth=depth)

    def __repr__(self):
        return f"Cuboid(width={self.width!r}, height={self.height!r}, depth={self.depth!r})"


class Sphere(Shape):
    """A ball of ``radius`` centred on the structure's origin."""

    def __init__(self, radius):
        self.radius = radius
        self._nm = nm.Sphere(radius=radius)

    def __repr__(self):
        return f"Sphere(radius={self.radius!r})"


class RandomStructure(BaseStructure):
    """Neurons uniformly at random in ``boundary`` (Cuboid or Sphere) around ``origin``."""

    parameter_names = ("boundary", "origin", "rng")

    def __init__(self, boundary, origin=(0.0, 0.0, 0.0), rng=None):
        if not isinstance(boundary, Shape):
            raise ValidationError(f"RandomStructure: boundary={boundary!r:.60} must be Cuboid(width, height, depth) or Sphere(radius)")
        self.boundary, self.origin, self.rng = boundary, origin, rng
        self._nm = nm.RandomStructure(boundary=boundary._nm, origin=tuple(origin) if hasattr(origin, "__len__") else origin,
                                      seed=_seed("RandomStructure", rng))


class Space:
    """PyNN's Space: distances over ``axes`` ('x', 'xy', ..., None = 'xyz'), post positions mapped
    to ``scale_factor·(p + offset)``, ``periodic_boundaries`` None or three entries of None or
    ``(lo, hi)``. Give it to ``Projection(..., space=...)``."""

    def __init__(self, axes=None, scale_factor=1.0, offset=0.0, periodic_boundaries=None):
        self.axes, self.scale_factor, self.offset = axes, scale_factor, offset
        self.periodic_boundaries = periodic_boundaries
        self._nm = nm.Space(axes=axes, scale_factor=scale_factor, offset=offset,
                            periodic_boundaries=None if periodic_boundaries is None else tuple(periodic_boundaries))

    def distances(self, A, B, expand=False):
        """Flattened ``[len(A), len(B)]`` distances between positions ``A`` and ``B`` (``[n, 3]``), as PyNN."""
        if expand:
            raise UnsupportedError("Space.distances(expand=True) is not supported by neuromorph.pynn")
        A, B = np.atleast_2d(np.asarray(A, dtype=float)), np.atleast_2d(np.asarray(B, dtype=float))
        return self._nm.distances(A, B).T.flatten()


class DistanceDependentProbabilityConnector(_Connector):
    """Each pair with probability ``d_expression`` (a string in ``d``, e.g. "exp(-d/50)") of its
    distance in the Projection's ``space``, drawn by neuromorph's DistanceDependentProbability,
    which draws as PyNN does (one uniform per pair from ``NumpyRNG(seed)``, post neuron by post
    neuron): with a fresh ``rng=NumpyRNG(seed=s)`` the pairs are PyNN's. Without an rng: from the
    setup seed."""

    def __init__(self, d_expression, allow_self_connections=True, location_selector=None, rng=None, safe=True,
                 callback=None):
        name = "DistanceDependentProbabilityConnector"
        if callable(d_expression):
            raise UnsupportedError(f"{name}(d_expression=<function>): only a string expression in d is supported by "
                                   "neuromorph.pynn (it is stored in the description); write it as e.g. 'exp(-d/50)'")
        check_connector_options(name, allow_self_connections, location_selector)
        self.d_expression, self.allow_self_connections = d_expression, allow_self_connections
        self.rng = rng
        self._seed = _seed(name, rng)
        self._nm(1, 1, False, 0)  # validate now, with the description's messages

    def _nm(self, n_pre, n_post, same, seed):
        # PyNN's default Space(); Projection(space=...) replaces it (with_space)
        return nm.DistanceDependentProbability(self.d_expression, allow_self_connections=self.allow_self_connections,
                                               seed=self._seed if self._seed is not None else seed), None


def nm_space(space):
    """The description Space of a Projection's ``space`` argument (None: PyNN's default Space())."""
    if space is None:
        return nm.Space()
    if not isinstance(space, Space):
        raise UnsupportedError(f"Projection(space={type(space).__name__}): use neuromorph.pynn.space.Space(...)")
    return space._nm


def with_space(connector, space):
    """A description connector with the Projection's space (only distance-dependent ones read it)."""
    if isinstance(connector, nm.DistanceDependentProbability):
        return dataclasses.replace(connector, space=nm_space(space))
    nm_space(space)  # still refuse a wrong type
    return connector
