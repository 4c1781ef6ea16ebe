"""Gaussian quadrature rules for the averages int Dz f(z).

Every integration variable of a model gets its own trailing array axis; the
averages reduce that axis with ``keepdims`` so that nested averages (1RSB:
an inner average inside the log of an outer one) broadcast against each other
without any bookkeeping. A ``Quadrature`` holds, for one order, the nodes and
weights of every variable already shaped for its axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import roots_hermitenorm, roots_legendre


@lru_cache(maxsize=512)
def gauss_hermite(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z_i and weights w_i with sum_i w_i f(z_i) ~ int Dz f(z).

    Probabilists' Gauss-Hermite rule (weight exp(-z^2/2)), weights normalised
    so that they sum to one. Exact for polynomials of degree < 2 * order.
    scipy's rule stays finite at high orders (asymptotic nodes beyond 150),
    where numpy's hermegauss overflows. Beyond about 700 nodes the outermost
    weights underflow (below 1e-250): those nodes are dropped, as they add
    nothing to any finite integrand and 0 * inf would make a NaN of an
    integrand that overflows out there.
    """
    if order < 1:
        raise ValueError("quadrature order must be at least 1")
    nodes, weights = roots_hermitenorm(order)
    weights = weights / weights.sum()
    keep = weights > 1e-250
    nodes, weights = nodes[keep], weights[keep]
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


@lru_cache(maxsize=512)
def gauss_legendre_unit(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes w_i in (0, 1) and weights (summing to one) of the Gauss-Legendre rule on the unit interval."""
    if order < 1:
        raise ValueError("quadrature order must be at least 1")
    nodes, weights = roots_legendre(order)
    nodes, weights = (nodes + 1.0) / 2.0, weights / 2.0
    nodes.setflags(write=False)
    weights.setflags(write=False)
    return nodes, weights


@dataclass(frozen=True)
class Quadrature:
    """Nodes and weights of every integration variable at one order.

    ``arrays`` is the flat tuple (z_0, w_0, z_1, w_1, ...) in the order of
    ``variables``; variable k of n lives on axis -(n - k).
    """

    order: int
    variables: tuple[str, ...]
    arrays: tuple

    @classmethod
    def build(
        cls,
        variables: tuple[str, ...],
        order: int,
        fields: tuple[str, ...] = (),
        unit: tuple[str, ...] = (),
        factors: tuple[tuple[str, float], ...] = (),
    ) -> Quadrature:
        """Gauss-Hermite nodes for averages; for a Parisi ladder's field, its grid.

        A variable in ``unit`` (an average over the unit interval: truncated or
        scale-mapped Gaussian averages) gets Gauss-Legendre nodes on (0, 1).
        ``factors`` (variable, factor): that variable gets round(factor * order)
        nodes (at least 4) instead of ``order``.

        A field variable (in ``fields``) gets the uniform grid u_a of
        ``FieldGrid.build(order)`` on its axis, and the FieldGrid itself in
        place of the weights.
        """
        from .parisi import FieldGrid

        scale = dict(factors)
        n = len(variables)
        arrays: list = []
        for k, name in enumerate(variables):
            shape = (-1,) + (1,) * (n - 1 - k)
            size = max(4, round(scale[name] * order)) if name in scale else order
            if name in fields:
                grid = FieldGrid.build(order)
                arrays += [grid.u.reshape(shape), grid]
            elif name in unit:
                w_nodes, w_weights = gauss_legendre_unit(size)
                arrays += [w_nodes.reshape(shape), w_weights.reshape(shape)]
            else:
                nodes, weights = gauss_hermite(size)
                arrays += [nodes.reshape(shape), weights.reshape(shape)]
        return cls(order, tuple(variables), tuple(arrays))

    def axis(self, variable: str) -> int:
        n = len(self.variables)
        return -(n - self.variables.index(variable))
