"""A compiled problem with some order parameters held: the others are solved.

Used where a solver works on part of a model at a time: the layered solver (liquid
layers held at zero, solve/layers.py) and the min-max descent (the conjugates solved
at fixed order parameters, solve/saddle.py).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..compile import CompiledProblem
from ..compile.lower import difference_jacobian


class PinnedProblem:
    """A CompiledProblem with the order parameters outside ``free`` held at their values in ``base``.

    It offers what the point solver uses (residual, system, values, hessian, ...) in the
    free order parameters only; the held ones' equations are dropped (they are checked
    on the whole problem afterwards).
    """

    def __init__(self, problem: CompiledProblem, free: np.ndarray, base: np.ndarray, deflate=()):
        self.problem = problem
        self.index = np.flatnonzero(free)
        position = {int(i): k for k, i in enumerate(self.index)}
        self.deflate = [np.array([position[int(i)] for i in group], dtype=int) for group in deflate]
        self.base = np.asarray(base, dtype=float)
        fe = problem.free_energy
        self.free_energy = dataclasses.replace(fe, order_parameters=[fe.order_parameters[i] for i in self.index])
        self.n = len(self.index)
        self.value_names = problem.value_names
        self.ladder = None
        self.jacobian_is_numeric = True
        self.has_fixed_point = False
        self._parameters = self.free_energy.order_parameters
        self.coupling = fe.coupling[np.ix_(self.index, self.index)]  # which free order parameters share a term
        self._system_coupling = self.coupling.copy()
        for group in self.deflate:  # the deflation factor of a group multiplies every equation
            self._system_coupling[:, group] = True

    def full(self, theta) -> np.ndarray:
        out = self.base.copy()
        out[self.index] = np.asarray(theta, dtype=float)
        return out

    def quadrature(self, order: int):
        return self.problem.quadrature(order)

    def grid_points(self, order: int) -> int:
        return self.problem.grid_points(order)

    def ladder_points(self, order: int) -> int:
        return self.problem.ladder_points(order)

    def initial(self, params) -> np.ndarray:
        return self.base[self.index]

    def residual(self, theta, params, quad) -> np.ndarray:
        g = np.asarray(self.problem.residual(self.full(theta), params, quad), dtype=float)[self.index]
        theta = np.asarray(theta, dtype=float)
        for group in self.deflate:
            g = g * (1.0 + 1.0 / max(float(np.sum(theta[group] ** 2)), 1e-300))
        return g

    def system(self, theta, params, quad) -> tuple[np.ndarray, np.ndarray]:
        g = self.residual(theta, params, quad)
        jac = difference_jacobian(
            lambda t: self.residual(t, params, quad), theta, g, self._parameters, self._system_coupling
        )
        return g, jac

    def values(self, theta, params, quad) -> dict:
        return self.problem.values(self.full(theta), params, quad)

    def hessian(self, theta, params, quad) -> np.ndarray:
        def grad(t):
            args = self.problem._call_args(self.full(t), params, quad)
            return np.array(self.problem._stability(args), dtype=float)[self.index]

        jac = difference_jacobian(grad, theta, grad(theta), self._parameters, self.coupling)
        return 0.5 * (jac + jac.T)

    def objective(self, theta, params, quad) -> tuple[float, np.ndarray]:
        """phi and its gradient in the free order parameters (models that declare an extremum)."""
        phi, grad = self.problem.objective(self.full(theta), params, quad)
        return phi, np.asarray(grad, dtype=float)[self.index]
